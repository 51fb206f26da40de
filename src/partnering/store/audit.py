"""The audit log: who changed what in the store, when, with the state before and after.

Every write that users or results depend on is recorded here by the library itself — loads, publishes and (later)
undo, partnerships, cases and projects — whichever face made it: the web app passes the signed-in user's e-mail, the
command line passes ``cli:<operating-system user>``.  The log is also the store's *data version*: any audited write
moves :func:`last_event_id`, so result caches keyed on :func:`partnering.store.repository.data_version` refresh.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select

from partnering.store.models import AuditEvent

AUDIT_COLUMNS = ["id", "at", "actor", "action", "target", "before", "after"]


def default_actor() -> str:
    """Who is acting when no signed-in user is: the operating-system account of the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (some containers): still say it was the command line
        return "cli:unknown"


def _dump(value) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def record(conn: Connection, actor: str | None, action: str, target: str | None = None, before=None,
           after=None) -> int:
    """Record one change in the caller's transaction (so it commits or rolls back with the change itself).

    ``before``/``after`` are JSON-serialisable values (or None).  Returns the event's id.
    """
    res = conn.execute(insert(AuditEvent).values(
        at=datetime.now(), actor=actor or default_actor(), action=action, target=target,
        before=_dump(before), after=_dump(after)))
    return int(res.inserted_primary_key[0])


def audit_frame(engine: Engine | Connection, limit: int | None = 200, action: str | None = None) -> pd.DataFrame:
    """The latest events first; ``action`` keeps those whose action starts with it (e.g. ``"data."``)."""
    stmt = select(*[getattr(AuditEvent, c) for c in AUDIT_COLUMNS]).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action))
    if limit:
        stmt = stmt.limit(limit)
    if isinstance(engine, Connection):
        rows = engine.execute(stmt).all()
    else:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one())
