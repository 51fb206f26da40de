"""Writing the register: add, update, end and renew partnerships.

Every write is validated (:class:`~partnering.register.entry.PartnershipEntry`, then against the store: known
organisations, indicators, business case, renewed entry), audited in the same transaction
(:func:`partnering.store.audit.record`, actions ``register.partnership.*``, with the whole entry before and after)
and kept as a version (``partnership_versions``): the change history is the list of versions, each with who, when
and what.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import ValidationError as PydanticError
from sqlalchemy import Connection, Engine, delete, insert, select, update

from partnering.errors import ValidationError
from partnering.register.entry import ENTRY_FIELDS, PartnershipEntry
from partnering.store import audit
from partnering.store.models import (
    AppraisalCase,
    Indicator,
    Organisation,
    Partnership,
    PartnershipIndicator,
    PartnershipParty,
    PartnershipVersion,
)
from partnering.store.partnerships import PartnershipRecord, get_partnership

SCALAR_FIELDS = tuple(f for f in ENTRY_FIELDS if f not in ("parties", "targets"))


class EntryInvalid(ValidationError):
    """A register entry that cannot be saved: ``problems`` lists ``(field, message)`` for an error summary."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in problems))


def _problems(exc: PydanticError) -> list[tuple[str, str]]:
    out = []
    for e in exc.errors(include_url=False):
        loc = [str(p) for p in e.get("loc", ())]
        out.append((".".join(loc), str(e.get("msg", "")).removeprefix("Value error, ")))
    return out


def validate_entry(data: dict | PartnershipEntry) -> PartnershipEntry:
    """The entry as the model reads it (:class:`EntryInvalid` listing every problem otherwise)."""
    if isinstance(data, PartnershipEntry):
        return data
    try:
        return PartnershipEntry.model_validate(data)
    except PydanticError as exc:
        raise EntryInvalid(_problems(exc)) from None


def check_against_store(conn: Connection, entry: PartnershipEntry, partnership_id: int | None = None) -> None:
    """Every code the entry names must be in the store (:class:`EntryInvalid` naming each one that is not)."""
    problems: list[tuple[str, str]] = []
    codes = {entry.recipient_code, entry.supporter_code} | {p.org_code for p in entry.parties if p.org_code} | \
        {t.org_code for t in entry.targets if t.org_code}
    known = set(conn.execute(select(Organisation.org_code).where(Organisation.org_code.in_(codes))).scalars())
    for name, code in (("recipient_code", entry.recipient_code), ("supporter_code", entry.supporter_code)):
        if code not in known:
            problems.append((name, f"no organisation {code} in the store"))
    for i, p in enumerate(entry.parties):
        if p.org_code and p.org_code not in known:
            problems.append((f"parties.{i}.org_code", f"no organisation {p.org_code} in the store (give its name "
                                                      "instead if it has no ODS code)"))
    inds = {t.indicator_code for t in entry.targets}
    known_inds = set(conn.execute(select(Indicator.code).where(Indicator.code.in_(inds))).scalars()) if inds \
        else set()
    for i, t in enumerate(entry.targets):
        if t.indicator_code not in known_inds:
            problems.append((f"targets.{i}.indicator_code", f"no indicator {t.indicator_code} in the store"))
        if t.org_code and t.org_code not in known:
            problems.append((f"targets.{i}.org_code", f"no organisation {t.org_code} in the store"))
    if entry.appraisal_case_id is not None and conn.execute(
            select(AppraisalCase.id).where(AppraisalCase.id == entry.appraisal_case_id)).first() is None:
        problems.append(("appraisal_case_id", f"no appraisal case {entry.appraisal_case_id}"))
    if entry.renews_id is not None:
        if entry.renews_id == partnership_id:
            problems.append(("renews_id", "a partnership cannot renew itself"))
        elif conn.execute(select(Partnership.id).where(Partnership.id == entry.renews_id)).first() is None:
            problems.append(("renews_id", f"no partnership {entry.renews_id} to renew"))
    if problems:
        raise EntryInvalid(problems)


def entry_of(record: PartnershipRecord) -> PartnershipEntry:
    """A stored record as an entry (to change and save again)."""
    d = {f: getattr(record, f) for f in SCALAR_FIELDS if f not in record.ingredients}
    d.update(record.ingredients)
    d["parties"] = [{"role": p.role, "org_code": p.org_code, "name": p.name} for p in record.parties
                    if p.role not in ("recipient", "supporter")]
    d["targets"] = [{"indicator_code": t.indicator_code,
                     "org_code": None if t.org_code == record.recipient_code else t.org_code,
                     "baseline": t.baseline, "target": t.target, "target_period": t.target_period}
                    for t in record.targets]
    return PartnershipEntry.model_validate(d)


def _write_children(conn: Connection, pid: int, entry: PartnershipEntry) -> None:
    conn.execute(delete(PartnershipParty).where(PartnershipParty.partnership_id == pid))
    conn.execute(delete(PartnershipIndicator).where(PartnershipIndicator.partnership_id == pid))
    if entry.parties:
        conn.execute(insert(PartnershipParty), [{"partnership_id": pid, **p.model_dump()} for p in entry.parties])
    if entry.targets:
        conn.execute(insert(PartnershipIndicator), [{"partnership_id": pid, **t.model_dump()}
                                                     for t in entry.targets])


def _keep_version(conn: Connection, pid: int, actor: str, action: str, before: dict | None) -> PartnershipRecord:
    rec = get_partnership(conn, pid)
    after = rec.to_dict()
    conn.execute(insert(PartnershipVersion).values(partnership_id=pid, version=rec.version, at=datetime.now(),
                                                   actor=actor, action=action,
                                                   snapshot=json.dumps(after, default=str, sort_keys=True)))
    audit.record(conn, actor, f"register.partnership.{action}", f"partnership {pid}", before, after)
    return rec


def _scalars(entry: PartnershipEntry) -> dict:
    return {f: getattr(entry, f) for f in SCALAR_FIELDS}


def add_in(conn: Connection, data: dict | PartnershipEntry, actor: str | None, action: str = "create"
           ) -> PartnershipRecord:
    """:func:`add_partnership` inside the caller's transaction (the file import adds many in one)."""
    actor = actor or audit.default_actor()
    entry = validate_entry(data)
    check_against_store(conn, entry)
    now = datetime.now()
    pid = int(conn.execute(insert(Partnership).values(**_scalars(entry), version=1, created_by=actor,
                                                      created_at=now, updated_at=now)).inserted_primary_key[0])
    _write_children(conn, pid, entry)
    return _keep_version(conn, pid, actor, action, None)


def add_partnership(engine: Engine, data: dict | PartnershipEntry, actor: str | None = None) -> PartnershipRecord:
    """Record a partnership; returns it as stored (version 1)."""
    with engine.begin() as conn:
        return add_in(conn, data, actor)


def update_in(conn: Connection, partnership_id: int, changes: dict, actor: str | None,
              expected_version: int | None = None, action: str = "update") -> PartnershipRecord:
    actor = actor or audit.default_actor()
    current = get_partnership(conn, partnership_id)
    if expected_version is not None and int(expected_version) != current.version:
        raise ValidationError(f"partnership {partnership_id} was changed by someone else since you opened it "
                              f"(now version {current.version}, you had {expected_version}): reload it and make "
                              "your change again")
    unknown = sorted(set(changes) - set(ENTRY_FIELDS))
    if unknown:
        raise EntryInvalid([(u, f"not a field of a partnership (fields: {', '.join(ENTRY_FIELDS)})")
                            for u in unknown])
    merged = {**entry_of(current).model_dump(), **changes}
    entry = validate_entry(merged)
    check_against_store(conn, entry, partnership_id)
    before = current.to_dict()
    if entry.model_dump() == entry_of(current).model_dump():
        return current  # nothing changed: no new version
    conn.execute(update(Partnership).where(Partnership.id == partnership_id).values(
        **_scalars(entry), version=current.version + 1, updated_at=datetime.now()))
    _write_children(conn, partnership_id, entry)
    return _keep_version(conn, partnership_id, actor, action, before)


def update_partnership(engine: Engine, partnership_id: int, changes: dict, actor: str | None = None,
                       expected_version: int | None = None) -> PartnershipRecord:
    """Change fields of an entry (``changes``: field -> new value; ``parties``/``targets`` replace the lists).

    ``expected_version`` (the version the user edited) refuses a change made over someone else's newer one.
    An update that changes nothing makes no new version.
    """
    with engine.begin() as conn:
        return update_in(conn, partnership_id, changes, actor, expected_version)


def end_partnership(engine: Engine, partnership_id: int, end_period: str, actor: str | None = None,
                    lessons: str | None = None, reason: str | None = None) -> PartnershipRecord:
    """End a partnership in ``end_period`` (status ``ended``), optionally recording its lessons (they replace the
    lessons recorded so far) and why it ended: the register has no column of its own for the reason (no migration
    for one line of text), so it is added to the lessons as ``Ended in YYYY-MM: reason`` and, like every change,
    kept in the version history and the audit log with the entry before and after."""
    changes: dict = {"end_period": end_period, "status": "ended"}
    if lessons:
        changes["lessons"] = lessons
    why = (reason or "").strip()
    with engine.begin() as conn:
        if why:
            kept = (lessons or get_partnership(conn, partnership_id).lessons or "").strip()
            line = f"Ended in {str(end_period).strip()}: {why}"
            changes["lessons"] = f"{kept}\n\n{line}" if kept else line
        return update_in(conn, partnership_id, changes, actor, action="end")


def _month_before(period: str) -> str:
    y, m = int(period[:4]), int(period[5:7])
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def renew_partnership(engine: Engine, partnership_id: int, start_period: str, actor: str | None = None,
                      changes: dict | None = None) -> PartnershipRecord:
    """Renew a partnership for a new period from ``start_period``: a new entry linked to it (``renews_id``) that
    carries its parties, aims, ingredients and targets over (``changes`` alters any of them).  The renewed entry
    ends the month before if it had no end yet, or ended after that."""
    with engine.begin() as conn:
        old = get_partnership(conn, partnership_id)
        base = entry_of(old).model_dump()
        base.update(start_period=start_period, end_period=None, status="active", renews_id=partnership_id,
                    lessons=None)
        base.update(changes or {})
        entry = validate_entry(base)
        if old.start_period and entry.start_period and entry.start_period <= old.start_period:
            raise EntryInvalid([("start_period", f"a renewal starts after the partnership it renews "
                                                 f"(which started in {old.start_period})")])
        if entry.start_period and (old.end_period is None or old.end_period >= entry.start_period):
            update_in(conn, partnership_id, {"end_period": _month_before(entry.start_period), "status": "ended"},
                      actor, action="end")
        return add_in(conn, entry, actor, action="renew")
