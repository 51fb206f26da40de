"""Undo a batch exactly: remove its values, put back what they superseded, and whatever else its load changed.

What a load changed besides its values — organisations and indicators it created, organisation kinds it changed —
is journalled in its ``data.load`` audit event (:func:`partnering.ingest.base.commit_parsed`), so an undo can put
the store back as it was before the load.  An undo is refused, with the reason, when

* a later batch builds on it (a later load superseded some of its values: undo that one first);
* its load replaced reference data without history (ODS, geography, context: load the earlier file again);
* it was loaded before loads were journalled.

The undo itself is one transaction and is audited (``data.undo``); the batch's audit events stay in the log.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select, text, update

from partnering.errors import NotFoundError, ValidationError
from partnering.store.audit import record
from partnering.store.models import (
    AuditEvent,
    IdHighWater,
    ImportBatch,
    Indicator,
    Observation,
    Organisation,
    RejectedRow,
    User,
)
from partnering.store.publication import Publication, is_later

KEY = ["org_code", "indicator_code", "period"]


class UndoRefused(ValidationError):
    """The batch cannot be undone; the message says why and what to do instead."""


def _journal(conn: Connection, batch_id: int) -> dict:
    after = conn.execute(select(AuditEvent.after).where(
        AuditEvent.action == "data.load", AuditEvent.target == f"batch {batch_id}").order_by(
        AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
    journal = json.loads(after).get("undo") if after else None
    if journal is None:
        raise UndoRefused(f"batch {batch_id} was loaded before loads were journalled: it cannot be undone exactly")
    return journal


def _frame(conn: Connection, stmt, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(stmt).all(), columns=columns)


def undo_batch(conn: Connection, batch_id: int, actor: str | None = None) -> dict:
    """Undo batch ``batch_id`` in the caller's transaction.  Returns what was removed and restored."""
    batch = conn.execute(select(ImportBatch).where(ImportBatch.id == batch_id)).first()
    if batch is None:
        raise NotFoundError(f"import batch {batch_id} does not exist")
    journal = _journal(conn, batch_id)
    if journal.get("not_undoable"):
        raise UndoRefused(f"batch {batch_id} cannot be undone: {journal['not_undoable']}")
    o = Observation
    mine = _frame(conn, select(o.id, o.superseded_by).where(o.batch_id == batch_id), ["id", "superseded_by"])
    # a later load that superseded this batch's values builds on it
    if mine["superseded_by"].notna().any():
        by = _frame(conn, select(o.id, o.batch_id).where(
            o.id.in_([int(x) for x in mine["superseded_by"].dropna().unique()])), ["id", "batch_id"])
        later = sorted({int(b) for b in by["batch_id"] if int(b) > batch_id})
        if later:
            raise UndoRefused(f"batch {batch_id} cannot be undone: later batch{'es' if len(later) > 1 else ''} "
                              f"{', '.join(map(str, later))} superseded some of its values; undo "
                              f"{'them' if len(later) > 1 else 'it'} first")
    restored = _restore_predecessors(conn, [int(i) for i in mine["id"]])
    conn.execute(delete(Observation).where(Observation.batch_id == batch_id))
    conn.execute(delete(RejectedRow).where(RejectedRow.batch_id == batch_id))
    for code, kind in journal.get("kinds_changed", []):
        conn.execute(update(Organisation).where(Organisation.org_code == code).values(kind=kind))
    kept_orgs = _delete_unused_organisations(conn, journal.get("organisations_created", []))
    for code in journal.get("indicators_created", []):
        if not conn.execute(select(func.count()).select_from(Observation).where(
                Observation.indicator_code == code)).scalar_one():
            conn.execute(delete(Indicator).where(Indicator.code == code))
    summary = {"file": batch.file_name, "kind": batch.kind, "period": batch.period,
               "values_removed": len(mine), "values_restored": restored,
               "organisations_kept": kept_orgs}
    conn.execute(delete(ImportBatch).where(ImportBatch.id == batch_id))
    _keep_high_water(conn, batch_id)
    record(conn, actor, "data.undo", f"batch {batch_id}", {"batch": batch_id, "file": batch.file_name}, summary)
    return summary


def _keep_high_water(conn: Connection, batch_id: int) -> None:
    """Remember the undone batch's id so that it is never given again (the audit log names batches by id)."""
    table = ImportBatch.__tablename__
    last = conn.execute(select(IdHighWater.last_id).where(IdHighWater.table_name == table)).scalar_one_or_none()
    if last is None:
        conn.execute(insert(IdHighWater).values(table_name=table, last_id=batch_id))
    elif batch_id > last:
        conn.execute(update(IdHighWater).where(IdHighWater.table_name == table).values(last_id=batch_id))


def _restore_predecessors(conn: Connection, ids: list[int]) -> int:
    """Rows superseded by ``ids`` become current again — per organisation × indicator × month, the latest
    publication among them; the others point at it, as if the undone batch had never been loaded."""
    if not ids:
        return 0
    o = Observation
    prev = pd.concat([_frame(conn, select(o.id, o.org_code, o.indicator_code, o.period, o.batch_id).where(
        o.superseded_by.in_(ids[i: i + 900])), ["id", *KEY, "batch_id"]) for i in range(0, len(ids), 900)],
        ignore_index=True)
    if prev.empty:
        return 0
    pubs = {int(r.id): Publication(int(r.id), r.published_on, r.publication_basis) for r in conn.execute(
        select(ImportBatch.id, ImportBatch.published_on, ImportBatch.publication_basis).where(
            ImportBatch.id.in_([int(b) for b in prev["batch_id"].unique()])))}
    current, history = [], []
    for _, grp in prev.groupby(KEY, sort=False):
        rows = list(zip(grp["id"].astype(int), grp["batch_id"].astype(int)))
        best = rows[0]
        for row in rows[1:]:
            if is_later(pubs[row[1]], pubs[best[1]]) or (row[1] == best[1] and row[0] > best[0]):
                best = row
        current.append(best[0])
        history += [{"cur": best[0], "id": r[0]} for r in rows if r[0] != best[0]]
    for i in range(0, len(current), 900):
        conn.execute(update(Observation).where(Observation.id.in_(current[i: i + 900])).values(superseded_by=None))
    if history:
        conn.execute(text("UPDATE observations SET superseded_by = :cur WHERE id = :id"), history)
    return len(current)


def _delete_unused_organisations(conn: Connection, codes: list[str]) -> list[str]:
    """Delete organisations the batch created, unless something else now refers to them (kept, and said)."""
    kept = []
    for code in codes:
        used = conn.execute(select(func.count()).select_from(Observation).where(
            Observation.org_code == code)).scalar_one() or conn.execute(select(func.count()).select_from(User).where(
                User.org_code == code)).scalar_one()
        if used:
            kept.append(code)
        else:
            conn.execute(delete(Organisation).where(Organisation.org_code == code))
    return kept
