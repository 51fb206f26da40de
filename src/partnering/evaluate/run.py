"""Run the evaluation methods side by side on one panel, or on a registered partnership from the store.

:func:`evaluate_panel` runs the chosen methods (interrupted time series, difference-in-differences, Callaway &
Sant'Anna for staggered starts, synthetic control), always adds the regression-to-the-mean check and the SPC view
for a single treated unit, and triangulates the methods into one verdict (:mod:`partnering.evaluate.triangulate`).
:func:`evaluate_partnership` builds one panel per indicator the partnership names (or the key metrics) from the
store: the recipient is the treated unit, the comparators are its peers of the same kind from the peer finder
(:func:`partnering.match.service.peers_for`, RightCare "Similar 10" style), and the supporter and trusts in the
same ICB are excluded for spillover (:func:`partnering.evaluate.rtm.with_spillover_excluded`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError, PartneringError, ValidationError
from partnering.evaluate.panel import Panel, panel_from_long
from partnering.evaluate.result import MethodResult
from partnering.evaluate.triangulate import Verdict, case_forecast, per_year_effects, realised_vs_forecast, triangulate

__all__ = ["ALL_METHODS", "Evaluation", "evaluate_panel", "evaluate_partnership", "find_partnership"]

ALL_METHODS = ("its", "did", "cs", "sc")
#: Comparators asked of the peer finder: 30 of about 120 acute trusts leaves enough donors for synthetic control
#: and placebo inference at 95% (at least 19 placebos, Abadie et al. 2010) after spillover exclusions.
PEER_COMPARATORS = 30


@dataclass
class Evaluation:
    """All methods' results for one outcome, the verdict and the checks."""

    outcome: str
    treated: list[str]
    start: object
    results: dict[str, MethodResult]
    verdict: Verdict
    rtm: MethodResult | None = None
    spc: MethodResult | None = None
    per_year: pd.DataFrame | None = None
    benefits: dict | None = None
    errors: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unit_noun: str = "units"  # what the panel's units are called (Panel.unit_noun)

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome, "treated": self.treated, "start": self.start,
            "methods": {k: v.to_dict() for k, v in self.results.items()},
            "verdict": self.verdict.to_dict(),
            "regression_to_mean": None if self.rtm is None else {**self.rtm.to_dict(),
                                                                 "summary": self.rtm.details.get("summary")},
            "spc": None if self.spc is None else {"summary": self.spc.details.get("summary"),
                                                  "before": self.spc.details.get("before"),
                                                  "after": self.spc.details.get("after")},
            "per_year": [] if self.per_year is None else self.per_year.to_dict("records"),
            "benefits": None if self.benefits is None else {
                **self.benefits,
                "table": None if self.benefits.get("table") is None else self.benefits["table"].to_dict("records")},
            "errors": self.errors, "excluded": self.excluded, "warnings": self.warnings, "unit_noun": self.unit_noun,
        }


def _methods(methods) -> list[str]:
    if isinstance(methods, str):
        methods = [methods]
    out: list[str] = []
    for m in methods:
        out += list(ALL_METHODS) if m == "all" else [m]
    bad = [m for m in out if m not in ALL_METHODS]
    if bad:
        raise ValidationError(f"unknown method(s) {bad}: choose from its, did, cs, sc or all")
    return list(dict.fromkeys(out))


def evaluate_panel(panel: Panel, methods: Sequence[str] | str = ("its", "did", "sc"), level: float = 0.95,
                   covariates: list[str] | None = None, improvement_direction: str | None = None,
                   forecast: Mapping[int, float] | None = None, case_id=None, checks: bool = True,
                   seed: int = 0) -> Evaluation:
    """Run ``methods`` on ``panel``; one method failing (too few donors, too short a series) is reported in
    ``errors`` and the others still run.  ``checks`` adds the regression-to-the-mean check and the SPC view."""
    chosen = _methods(methods)
    if "cs" in chosen and len(panel.treated) == 1 and "did" in chosen:
        chosen.remove("cs")  # one treated unit: Callaway-Sant'Anna is the 2x2 DiD with a weaker interval
    results: dict[str, MethodResult] = {}
    errors: dict[str, str] = {}
    for m in chosen:
        try:
            results[m] = _run_one(m, panel, level, covariates, seed)
        except (PartneringError, ValueError, np.linalg.LinAlgError) as exc:
            errors[m] = str(exc)
        except ImportError as exc:  # synthetic control lands in its own module (evaluate/synthetic.py)
            errors[m] = f"method not available: {exc}"
    rtm = spc = None
    if checks:
        from partnering.evaluate.rtm import regression_to_mean_check
        from partnering.evaluate.spc_view import spc_before_after

        try:
            rtm = regression_to_mean_check(panel, level=level)
        except (PartneringError, ValueError) as exc:
            errors["rtm"] = str(exc)
        try:
            spc = spc_before_after(panel, improvement_direction=improvement_direction or "neutral")
        except (PartneringError, ValueError) as exc:
            errors["spc"] = str(exc)
    both = dict(results)
    if rtm is not None:
        both["rtm"] = rtm
    verdict = triangulate(both, improvement_direction, panel.outcome, panel.unit_noun)
    lead = next((results[m] for m in ("did", "sc", "cs", "its") if m in results), None)
    per_year = per_year_effects(lead) if lead is not None else None
    if per_year is not None and lead is not None:
        per_year.insert(0, "method", lead.method)
    benefits = realised_vs_forecast(per_year if per_year is not None else pd.DataFrame(columns=["year", "effect"]),
                                    forecast, case_id)
    return Evaluation(panel.outcome, panel.treated, panel.starts[panel.treated[0]], results, verdict, rtm, spc,
                      per_year, benefits, errors, dict(panel.excluded), list(verdict.warnings), panel.unit_noun)


def _run_one(method: str, panel: Panel, level: float, covariates, seed: int) -> MethodResult:
    if method == "its":
        from partnering.evaluate.its import interrupted_time_series

        return interrupted_time_series(panel, level=level)
    if method == "did":
        from partnering.evaluate.did import twfe_did

        return twfe_did(panel, level=level)
    if method == "cs":
        from partnering.evaluate.did import callaway_santanna

        return callaway_santanna(panel, level=level, seed=seed)
    from partnering.evaluate.synthetic import synthetic_control

    return synthetic_control(panel, covariates=covariates, level=level, seed=seed)


# ------------------------------------------------------------------------------------------ the store


def find_partnership(engine, ref) -> dict:
    """A partnership by id (``12``) or ``RECIPIENT:SUPPORTER`` (the latest such), as a dict of its columns plus
    ``indicators`` (the codes it names)."""
    from sqlalchemy import select

    from partnering.store.models import Partnership, PartnershipIndicator

    if isinstance(ref, Mapping):
        return dict(ref)
    text = str(ref).strip()
    stmt = select(Partnership)
    if text.isdigit():
        stmt = stmt.where(Partnership.id == int(text))
    elif ":" in text:
        rec, sup = (x.strip().upper() for x in text.split(":", 1))
        stmt = stmt.where(Partnership.recipient_code == rec, Partnership.supporter_code == sup)
    else:
        raise ValidationError(f"partnership {text!r}: give its id or RECIPIENT:SUPPORTER")
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        p = session.scalars(stmt.order_by(Partnership.id.desc())).first()
        if p is None:
            raise NotFoundError(f"no partnership {text!r} in the register")
        out = {c: getattr(p, c) for c in ("id", "recipient_code", "supporter_code", "form", "start_period",
                                            "end_period", "appraisal_case_id")}
        out["indicators"] = list(session.scalars(select(PartnershipIndicator.indicator_code).where(
            PartnershipIndicator.partnership_id == out["id"])))
    return out


def _comparators(engine, recipient: str, kind: str, comparators, k: int) -> tuple[list[str], str]:
    from partnering.store import repository as repo

    if comparators == "all":
        return repo.organisations_frame(engine, kinds=[kind])["org_code"].tolist(), "all organisations of its kind"
    if isinstance(comparators, (list, tuple)):
        return list(comparators), "the comparators given"
    from partnering.match.service import peers_for

    try:
        peers = peers_for(engine, recipient, k=k)
        return peers["peer_code"].tolist(), f"its {len(peers)} nearest peers (peer finder)"
    except PartneringError as exc:  # no context loaded: fall back to every organisation of the kind
        codes = repo.organisations_frame(engine, kinds=[kind])["org_code"].tolist()
        return codes, f"all organisations of its kind (peer finder unavailable: {exc})"


def unit_noun_of(kind: str | None) -> str:
    """What organisations of a kind are called in a verdict: NHS trusts of every kind "trusts", GP practices
    "practices", integrated care boards "ICBs", anything else "organisations"."""
    kind = str(kind or "")
    if kind.endswith("_trust"):
        return "trusts"
    return {"gp_practice": "practices", "icb": "ICBs", "independent_provider": "independent providers"}.get(
        kind, "organisations")


def evaluate_partnership(engine, partnership, indicators: Sequence[str] | None = None,
                         methods: Sequence[str] | str = ("its", "did", "sc"), comparators="peers",
                         k: int = PEER_COMPARATORS, exclude_spillover: bool = True, level: float = 0.95,
                         start: str | None = None, seed: int = 0, viewer_org: str | None = None,
                         viewer_is_admin: bool = True) -> dict[str, Evaluation]:
    """Evaluate a registered partnership on every indicator it names (else the key metrics), one
    :class:`Evaluation` per indicator.  ``start`` overrides the partnership's start (e.g. a hypothetical one).
    ``viewer_org``/``viewer_is_admin`` scope unpublished uploads as :func:`repository.observations_frame` does.
    Where it came from a business case, realised effects by year are set against the case's forecast
    (:func:`partnering.evaluate.triangulate.case_forecast`)."""
    from partnering.evaluate.rtm import with_spillover_excluded
    from partnering.indicators.catalogue import load_catalogue
    from partnering.measure.segment import SegmentConfig, key_metrics
    from partnering.store import repository as repo

    p = find_partnership(engine, partnership)
    rec, sup = str(p["recipient_code"]), p.get("supporter_code")
    start = start or p.get("start_period")
    if not start:
        raise ValidationError(f"partnership {rec}:{sup} has no start month to evaluate from")
    cat = load_catalogue()
    inds = list(indicators or p.get("indicators") or key_metrics(SegmentConfig(), cat))
    orgs = repo.organisations_by_code(engine, [rec])
    if orgs.empty:
        raise NotFoundError(f"organisation {rec!r} is not in the store")
    kind = str(orgs["kind"].iloc[0])
    comp, how = _comparators(engine, rec, kind, comparators, k)
    all_orgs = repo.organisations_frame(engine, kinds=[kind])
    icb_of = dict(zip(all_orgs["org_code"], all_orgs.get("icb_code", pd.Series(index=all_orgs.index, dtype=object))))
    case_id = p.get("appraisal_case_id")
    case = None if case_id is None else case_forecast(engine, case_id, form=p.get("form"))
    out: dict[str, Evaluation] = {}
    for ind in inds:
        units = list(dict.fromkeys([rec, *comp, *([sup] if sup else [])]))
        obs = repo.observations_frame(engine, indicators=[ind], orgs=units, viewer_org=viewer_org,
                                      viewer_is_admin=viewer_is_admin)
        obs = obs[obs["value"].notna()]
        if obs.empty or rec not in set(obs["org_code"]) or start not in set(obs["period"]):
            continue
        panel = panel_from_long(obs, "org_code", "period", "value", rec, start,
                                end=p.get("end_period") or None)
        panel = Panel(panel.y, panel.units, panel.periods, panel.starts,
                      {u: e for u, e in panel.ends.items() if e in panel.periods}, None, {}, ind,
                      unit_noun_of(kind))
        if exclude_spillover:
            panel = with_spillover_excluded(panel, sup, icb_of)
        d = cat[ind].improvement_direction if ind in cat else None
        ev = evaluate_panel(panel, methods, level=level, improvement_direction=d, case_id=case_id, seed=seed)
        ev.warnings.insert(0, f"comparators: {how}")
        if case is not None:
            ev.benefits = realised_vs_forecast(ev.per_year if ev.per_year is not None else pd.DataFrame(
                columns=["year", "effect"]), None, case_id, case=case, indicator=ind,
                unit=cat[ind].unit if ind in cat else None, improvement_direction=d)
        out[ind] = ev
    if not out:
        raise NotFoundError(f"no indicator of {rec} has data around the start {start}: {', '.join(inds)}")
    return out
