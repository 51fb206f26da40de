"""Chart notes (issue #14.3): annotations of a month and SPC rebases of an organisation x indicator series.

* An **annotation** says what happened in a month ("new front door model"); it is drawn on the chart at that point.
* A **rebase** says the process changed at a month, with the reason; SPC recalculates the mean and limits from that
  month on.  Making Data Count recalculates limits only for a sustained change in the process with a known cause
  (NHS England, *Making Data Count: Strengthening your decisions*, 2019); NHSRplotthedots 0.2.2
  ``ptd_spc(rebase = ...)`` is the rule our engine follows: the rebase month starts a new group.
  :func:`rebases_by_series` is what :func:`partnering.measure.assess.assess` reads.

Every write records who and when on the note and is audited (:mod:`partnering.store.audit`, actions
``chart.annotation.*`` / ``chart.rebase.*``) with the note before and after, so :func:`undo_change` can put any
change back exactly.  Who may write is the faces' business (an analyst of the organisation, or an administrator:
:func:`partnering.improve.access.may_manage`); everyone who may see the organisation reads the notes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, delete, insert, select, update

from partnering.errors import NotFoundError, ValidationError
from partnering.store.audit import record
from partnering.store.models import AuditEvent, ChartNote, Indicator, Organisation

KINDS = ("annotation", "rebase")
#: long enough for a sentence of reason, short enough to sit on a chart and in a table cell
MAX_TEXT = 500
NOTE_COLUMNS = ["id", "org_code", "indicator", "period", "kind", "text", "created_by", "created_at", "updated_by",
                "updated_at"]
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Note:
    id: int
    org_code: str
    indicator: str
    period: str
    kind: str
    text: str
    created_by: str
    created_at: datetime
    updated_by: str | None = None
    updated_at: datetime | None = None

    def audit_view(self) -> dict:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat(timespec="seconds") if self.created_at else None
        d["updated_at"] = self.updated_at.isoformat(timespec="seconds") if self.updated_at else None
        return d


def _note(row) -> Note:
    return Note(row.id, row.org_code, row.indicator_code, row.period, row.kind, row.text, row.created_by,
                row.created_at, row.updated_by, row.updated_at)


def _clean_text(text: str | None, kind: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("a rebase needs its reason" if kind == "rebase" else "an annotation needs its text")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"the text is {len(text)} characters: at most {MAX_TEXT}")
    return text


def _clean_period(period: str | None) -> str:
    period = str(period or "").strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", period):  # a date: its month
        period = period[:7]
    if not _MONTH.match(period):
        raise ValidationError(f"period {period[:20]!r} is not an ISO month (YYYY-MM)")
    return period


def _check_series(conn, org_code: str, indicator_code: str) -> None:
    if conn.execute(select(Organisation.org_code).where(Organisation.org_code == org_code)).first() is None:
        raise NotFoundError(f"organisation {org_code!r} is not in the store")
    if conn.execute(select(Indicator.code).where(Indicator.code == indicator_code)).first() is None:
        raise NotFoundError(f"no indicator called {indicator_code!r}")


def _no_second_rebase(conn, org_code, indicator_code, period, except_id: int | None = None) -> None:
    stmt = select(ChartNote.id).where(ChartNote.org_code == org_code, ChartNote.indicator_code == indicator_code,
                                      ChartNote.period == period, ChartNote.kind == "rebase")
    hit = conn.execute(stmt).first()
    if hit is not None and hit.id != except_id:
        raise ValidationError(f"{org_code} / {indicator_code} already has a rebase at {period} (note {hit.id}): "
                              "change that one")


def add_note(engine: Engine, org_code: str, indicator_code: str, period: str, kind: str, text: str,
             actor: str | None = None) -> Note:
    """Store an annotation or a rebase (one rebase per series and month) and audit it."""
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {str(kind)[:20]!r}")
    org_code, period, text = str(org_code or "").upper().strip(), _clean_period(period), _clean_text(text, kind)
    now = datetime.now().replace(microsecond=0)
    with engine.begin() as conn:
        _check_series(conn, org_code, indicator_code)
        if kind == "rebase":
            _no_second_rebase(conn, org_code, indicator_code, period)
        who = actor or _actor()
        res = conn.execute(insert(ChartNote).values(org_code=org_code, indicator_code=indicator_code, period=period,
                                                    kind=kind, text=text, created_by=who, created_at=now))
        note = _note(conn.execute(select(ChartNote).where(ChartNote.id == res.inserted_primary_key[0])).one())
        record(conn, who, f"chart.{kind}.add", f"chart_note:{note.id}", None, note.audit_view())
    return note


def get_note(engine: Engine, note_id: int) -> Note:
    with engine.connect() as conn:
        row = conn.execute(select(ChartNote).where(ChartNote.id == note_id)).first()
    if row is None:
        raise NotFoundError(f"no chart note {note_id}")
    return _note(row)


def change_note(engine: Engine, note_id: int, *, text: str | None = None, period: str | None = None,
                actor: str | None = None) -> Note:
    """Change a note's text (or reason) and/or month; audited with the note before and after."""
    before = get_note(engine, note_id)
    values = {}
    if text is not None:
        values["text"] = _clean_text(text, before.kind)
    if period is not None:
        values["period"] = _clean_period(period)
    if not values:
        raise ValidationError("nothing to change: give the text or the period")
    who = actor or _actor()
    with engine.begin() as conn:
        if before.kind == "rebase" and "period" in values:
            _no_second_rebase(conn, before.org_code, before.indicator, values["period"], except_id=note_id)
        conn.execute(update(ChartNote).where(ChartNote.id == note_id).values(
            **values, updated_by=who, updated_at=datetime.now().replace(microsecond=0)))
        after = _note(conn.execute(select(ChartNote).where(ChartNote.id == note_id)).one())
        record(conn, who, f"chart.{before.kind}.change", f"chart_note:{note_id}", before.audit_view(),
               after.audit_view())
    return after


def delete_note(engine: Engine, note_id: int, actor: str | None = None) -> Note:
    """Delete a note; the audit event keeps it, so :func:`undo_change` can bring it back."""
    before = get_note(engine, note_id)
    who = actor or _actor()
    with engine.begin() as conn:
        conn.execute(delete(ChartNote).where(ChartNote.id == note_id))
        record(conn, who, f"chart.{before.kind}.delete", f"chart_note:{note_id}", before.audit_view(), None)
    return before


def undo_change(engine: Engine, event_id: int, actor: str | None = None) -> Note | None:
    """Put back the note as it was before audit event ``event_id`` (an add is removed, a change reverted, a delete
    restored with its id, who and when); the undo is itself audited (``chart.<kind>.undo``).  Returns the note as
    restored, or ``None`` when undoing an add removed it."""
    ev = _chart_event(engine, event_id)
    note_id = int(str(ev.target).split(":", 1)[1])
    before = json.loads(ev.before) if ev.before else None
    kind = (before or json.loads(ev.after or "{}")).get("kind", "annotation")
    who = actor or _actor()
    with engine.begin() as conn:
        now_row = conn.execute(select(ChartNote).where(ChartNote.id == note_id)).first()
        current = _note(now_row).audit_view() if now_row is not None else None
        if before is None:  # undo an add
            if now_row is None:
                raise ValidationError(f"chart note {note_id} is already gone")
            conn.execute(delete(ChartNote).where(ChartNote.id == note_id))
            restored = None
        else:
            values = {"org_code": before["org_code"], "indicator_code": before["indicator"],
                      "period": before["period"], "kind": before["kind"], "text": before["text"],
                      "created_by": before["created_by"], "created_at": _dt(before["created_at"]),
                      "updated_by": before.get("updated_by"), "updated_at": _dt(before.get("updated_at"))}
            if before["kind"] == "rebase":
                _no_second_rebase(conn, values["org_code"], values["indicator_code"], values["period"],
                                  except_id=note_id)
            if now_row is None:
                conn.execute(insert(ChartNote).values(id=note_id, **values))
            else:
                conn.execute(update(ChartNote).where(ChartNote.id == note_id).values(**values))
            restored = _note(conn.execute(select(ChartNote).where(ChartNote.id == note_id)).one())
        record(conn, who, f"chart.{kind}.undo", f"chart_note:{note_id}", current,
               restored.audit_view() if restored else None)
    return restored


def note_history(engine: Engine, org_code: str, limit: int = 20) -> list[dict]:
    """The latest audited changes to an organisation's notes, newest first: ``event_id, at, actor, action, kind,
    indicator, period, text`` (the note after the change, or before it for a delete) — what
    :func:`undo_change` can put back."""
    from partnering.store.audit import audit_frame

    code = str(org_code).upper()
    out = []
    for ev in audit_frame(engine, limit=None, action="chart.").itertuples():
        after, before = (v if isinstance(v, str) and v else None for v in (ev.after, ev.before))
        note = json.loads(after or before or "{}")
        if note.get("org_code") != code:
            continue
        out.append({"event_id": int(ev.id), "at": ev.at, "actor": ev.actor, "action": ev.action.rsplit(".", 1)[-1],
                    "kind": note.get("kind"), "indicator": note.get("indicator"), "period": note.get("period"),
                    "text": note.get("text")})
        if len(out) >= limit:
            break
    return out


def event_org(engine: Engine, event_id: int) -> str:
    """The organisation whose note an audited chart-note change was about (for access checks before an undo)."""
    ev = _chart_event(engine, event_id)
    note = json.loads(ev.after) if ev.after else json.loads(ev.before or "{}")
    return str(note.get("org_code") or "")


def _chart_event(engine: Engine, event_id: int):
    """The audit event ``event_id``, which must be a change to a chart note (else :class:`NotFoundError`)."""
    with engine.connect() as conn:
        ev = conn.execute(select(AuditEvent).where(AuditEvent.id == event_id)).first()
    if ev is None or not str(ev.action).startswith("chart.") or not str(ev.target or "").startswith("chart_note:"):
        raise NotFoundError(f"audit event {event_id} is not a change to a chart note")
    return ev


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _actor() -> str:
    from partnering.store.audit import default_actor

    return default_actor()


def notes_frame(engine: Engine, org_codes=None, indicators=None, kind: str | None = None) -> pd.DataFrame:
    """The notes (columns :data:`NOTE_COLUMNS`), by organisation, indicator and month."""
    stmt = select(ChartNote)
    if org_codes:
        stmt = stmt.where(ChartNote.org_code.in_([str(o).upper() for o in org_codes]))
    if indicators:
        stmt = stmt.where(ChartNote.indicator_code.in_(list(indicators)))
    if kind:
        stmt = stmt.where(ChartNote.kind == kind)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(ChartNote.org_code, ChartNote.indicator_code, ChartNote.period,
                                          ChartNote.id)).all()
    return pd.DataFrame([[r.id, r.org_code, r.indicator_code, r.period, r.kind, r.text, r.created_by, r.created_at,
                          r.updated_by, r.updated_at] for r in rows], columns=NOTE_COLUMNS)


def rebases_by_series(engine: Engine, org_codes=None) -> dict[tuple[str, str], list[str]]:
    """``{(org_code, indicator): [rebase months, earliest first]}`` — the SPC options the assessment uses."""
    df = notes_frame(engine, org_codes, kind="rebase")
    return {k: sorted(g["period"]) for k, g in df.groupby(["org_code", "indicator"])} if not df.empty else {}


def with_notes(df: pd.DataFrame, notes: pd.DataFrame, period_col: str = "period") -> pd.DataFrame:
    """``df`` (org_code, indicator, ``period_col`` as YYYY-MM) with an ``annotation`` and a ``rebase_reason``
    column: the notes of that month ("; "-joined when a month has several annotations), empty otherwise."""
    out = df.copy()
    for kind, col in (("annotation", "annotation"), ("rebase", "rebase_reason")):
        sub = notes[notes["kind"] == kind] if not notes.empty else notes
        if sub.empty:
            out[col] = ""
            continue
        joined = sub.groupby(["org_code", "indicator", "period"])["text"].agg("; ".join)
        keys = pd.MultiIndex.from_arrays([out["org_code"], out["indicator"], out[period_col].astype(str).str[:7]])
        out[col] = joined.reindex(keys).fillna("").to_numpy()
    return out
