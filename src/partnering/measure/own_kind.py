"""Assess one organisation among its own kind: the one place the CLI (``assess --org``, ``report``) and the web
(organisation page, board pack, ``/api/assessment/{code}``) choose whom an organisation is compared with.

How the kind is chosen (:func:`own_kinds`):

1. kinds the caller names (``--kind``) win, so an analyst can still assess an ambulance trust among acute trusts
   and be told there is nothing to assess;
2. otherwise the organisation's own ``kind`` in the store's register of organisations (ODS-derived: an ambulance
   trust is compared with ambulance trusts, a mental health trust with mental health trusts);
3. an organisation the store does not know, or knows without a kind, falls back to the default of
   :class:`~partnering.measure.assess.AssessConfig` (acute trusts), so that :meth:`Assessment.org` refuses it
   naming the kinds that were assessed.

How its indicators are chosen (by :func:`partnering.measure.assess.assess_frames`, not here): the catalogue
indicators that the organisations of that kind report in the store (breakdown series, codes with ``:``, left out;
derived indicators added), each charted over the last ``spc_months`` months; the key metrics that segments,
flags and concerns are scored on are the NHS Oversight Framework 2025/26 metrics scored by rank for the trust
type (:mod:`partnering.measure.nof`: the ambulance table's when the kinds are exactly ``ambulance_trust``, the
acute table's otherwise) plus the catalogue's ``key = true`` indicators the Framework does not score only for the
other type (:func:`partnering.measure.segment.key_metrics`). A ``config`` with its own segment metrics keeps
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from partnering.measure.assess import AssessConfig, Assessment, assess


def own_kinds(engine, code: str | None, kinds: Sequence[str] | None = None,
              default: Sequence[str] = AssessConfig().kinds) -> tuple[str, ...]:
    """The kinds to assess ``code`` among: ``kinds`` when given; else the organisation's own kind in the store;
    else ``default`` (acute trusts; also when ``code`` is None, i.e. no one organisation is asked about)."""
    if kinds:
        return tuple(kinds)
    if code:
        from partnering.store.repository import organisations_by_code

        found = organisations_by_code(engine, [code.strip().upper()])
        own = found["kind"].dropna().tolist() if "kind" in found else []
        if own:
            return (str(own[0]),)
    return tuple(default)


def own_kind_config(engine, code: str | None, kinds: Sequence[str] | None = None,
                    config: AssessConfig = AssessConfig()) -> AssessConfig:
    """``config`` (its windows and thresholds kept) with the kinds :func:`own_kinds` chooses for ``code``; the
    default kinds are ``config.kinds``."""
    return replace(config, kinds=own_kinds(engine, code, kinds, default=config.kinds))


def assess_own_kind(engine, code: str | None, kinds: Sequence[str] | None = None,
                    config: AssessConfig = AssessConfig(), **scope) -> Assessment:
    """The assessment of every organisation of ``code``'s own kind (module docstring: how the kind and the
    indicators are chosen), with ``config``'s windows and thresholds; ``scope`` is passed to
    :func:`~partnering.measure.assess.assess` (what the viewer may see). With no ``code`` (the whole table, not
    one organisation) the kinds are ``kinds`` or ``config.kinds``.

    The result is the same for every organisation of that kind, so callers may cache it by
    ``result.config.kinds``. ``result.org(code)`` refuses, naming the kinds, an organisation that has no data to
    assess; :class:`~partnering.errors.NotFoundError` is raised when no organisation of the kind has any."""
    return assess(engine, own_kind_config(engine, code, kinds, config), **scope)
