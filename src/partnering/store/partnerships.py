"""Reading the partnership register: one partnership with its parties and the indicators it should move.

The register's writes (validated, audited, versioned) live in :mod:`partnering.register`; the reads live here in the
store so that every layer above it — ``match``, ``evaluate``, ``register``, ``report`` and the faces — reads a
partnership the same way (``evaluate`` sits below ``register`` in the layer order, so it could not import it).
Results are plain frozen dataclasses, never ORM objects (DESIGN.md).

``partnering.register.get_partnership`` is this module's :func:`get_partnership`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, select

from partnering.errors import NotFoundError
from partnering.store.models import Partnership, PartnershipIndicator, PartnershipParty, PartnershipVersion

#: the ingredients for success each register entry records (the column, and what it asks), in the order the
#: evidence gives them: docs/register.md, "Ingredients for success", for the sources
INGREDIENTS = {
    "leadership_support": "Leadership skills supported",
    "measures_agreed": "Measures and data agreed",
    "why_this_partner": "Why this partner",
    "staff_engagement": "Staff engaged",
    "good_practice": "Good practice of both sides identified",
}
RECORD_COLUMNS = ("id", "recipient_code", "supporter_code", "form", "start_period", "end_period", "title",
                  "status", "mandated", "mandated_by", "aims", *INGREDIENTS, "lessons", "appraisal_case_id",
                  "renews_id", "version", "created_by", "created_at", "updated_at")


@dataclass(frozen=True)
class Party:
    """A party to a partnership: the recipient, the supporter, or a further party with its role."""

    role: str
    org_code: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Target:
    """An indicator the partnership should move, for whose series (``org_code``: the recipient's where the entry
    left it blank), from ``baseline`` to ``target`` by ``target_period`` (each may be unknown)."""

    indicator_code: str
    org_code: str
    baseline: float | None = None
    target: float | None = None
    target_period: str | None = None


@dataclass(frozen=True)
class PartnershipRecord:
    """One register entry as it stands (version ``version``)."""

    id: int
    recipient_code: str
    supporter_code: str
    form: str
    start_period: str | None
    end_period: str | None
    title: str | None = None
    status: str = "active"
    mandated: bool = False
    mandated_by: str | None = None
    aims: str | None = None
    ingredients: dict[str, str | None] = field(default_factory=dict)
    lessons: str | None = None
    appraisal_case_id: int | None = None
    renews_id: int | None = None
    version: int = 1
    created_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    parties: tuple[Party, ...] = ()
    targets: tuple[Target, ...] = ()

    @property
    def indicator_codes(self) -> list[str]:
        """The indicators it should move, each once, in the order entered."""
        return list(dict.fromkeys(t.indicator_code for t in self.targets))

    @property
    def party_codes(self) -> list[str]:
        """Every party's ODS code (recipient and supporter first)."""
        return list(dict.fromkeys(p.org_code for p in self.parties if p.org_code))

    def active_in(self, period: str) -> bool:
        """Whether it runs in ``period`` (an ISO month): started by then (or no start given) and not yet ended."""
        return (self.start_period is None or self.start_period <= period) and \
            (self.end_period is None or self.end_period >= period)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("created_at", "updated_at"):
            d[k] = d[k].isoformat(timespec="seconds") if d[k] else None
        return d


def _conn_read(engine: Engine | Connection, stmt):
    if isinstance(engine, Connection):
        return engine.execute(stmt).all()
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def _record(row, parties, targets) -> PartnershipRecord:
    d = dict(zip(RECORD_COLUMNS, row))
    ingredients = {k: d.pop(k) for k in INGREDIENTS}
    d["mandated"] = bool(d["mandated"])
    everyone = (Party("recipient", d["recipient_code"]), Party("supporter", d["supporter_code"]), *parties)
    return PartnershipRecord(**d, ingredients=ingredients, parties=everyone, targets=tuple(targets))


def get_partnership(engine: Engine | Connection, partnership_id: int) -> PartnershipRecord:
    """The register entry ``partnership_id`` with its parties and targets (:class:`NotFoundError` naming the id)."""
    rows = _conn_read(engine, select(*[getattr(Partnership, c) for c in RECORD_COLUMNS])
                      .where(Partnership.id == int(partnership_id)))
    if not rows:
        raise NotFoundError(f"no partnership {partnership_id} in the register")
    parties = [Party(r.role, r.org_code, r.name) for r in _conn_read(engine, select(
        PartnershipParty.role, PartnershipParty.org_code, PartnershipParty.name)
        .where(PartnershipParty.partnership_id == int(partnership_id)).order_by(PartnershipParty.id))]
    recipient = rows[0][1]
    targets = [Target(r.indicator_code, r.org_code or recipient, r.baseline, r.target, r.target_period)
               for r in _conn_read(engine, select(
                   PartnershipIndicator.indicator_code, PartnershipIndicator.org_code, PartnershipIndicator.baseline,
                   PartnershipIndicator.target, PartnershipIndicator.target_period)
                   .where(PartnershipIndicator.partnership_id == int(partnership_id))
                   .order_by(PartnershipIndicator.id))]
    return _record(rows[0], parties, targets)


def partnership_targets_frame(engine: Engine | Connection, ids: list[int] | None = None) -> pd.DataFrame:
    """``partnership_id, indicator_code, org_code, baseline, target, target_period`` for every partnership (or
    ``ids``), ``org_code`` resolved to the recipient where blank."""
    cols = ["partnership_id", "indicator_code", "org_code", "baseline", "target", "target_period"]
    stmt = select(PartnershipIndicator.partnership_id, PartnershipIndicator.indicator_code,
                  PartnershipIndicator.org_code, PartnershipIndicator.baseline, PartnershipIndicator.target,
                  PartnershipIndicator.target_period, Partnership.recipient_code) \
        .join(Partnership, Partnership.id == PartnershipIndicator.partnership_id) \
        .order_by(PartnershipIndicator.partnership_id, PartnershipIndicator.id)
    if ids is not None:
        stmt = stmt.where(PartnershipIndicator.partnership_id.in_([int(i) for i in ids]))
    df = pd.DataFrame(_conn_read(engine, stmt), columns=[*cols, "recipient_code"])
    df["org_code"] = df["org_code"].where(df["org_code"].notna(), df["recipient_code"])
    return df[cols]


def partnership_history(engine: Engine | Connection, partnership_id: int) -> list[dict]:
    """Every saved version of a partnership, newest first: ``version, at, actor, action, snapshot`` (a dict)."""
    rows = _conn_read(engine, select(PartnershipVersion.version, PartnershipVersion.at, PartnershipVersion.actor,
                                     PartnershipVersion.action, PartnershipVersion.snapshot)
                      .where(PartnershipVersion.partnership_id == int(partnership_id))
                      .order_by(PartnershipVersion.version.desc()))
    return [{"version": r.version, "at": r.at, "actor": r.actor, "action": r.action,
             "snapshot": json.loads(r.snapshot)} for r in rows]
