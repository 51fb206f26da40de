"""The audit log: who changed what in the store, when, with the state before and after.

Every write that users or results depend on is recorded here by the library itself — loads, publishes and (later)
undo, partnerships, cases and projects — whichever face made it: the web app passes the signed-in user's e-mail, the
command line passes ``cli:<operating-system user>``.  The log is also the store's *data version*: any audited write
moves :func:`last_event_id`, so result caches keyed on :func:`partnering.store.repository.data_version` refresh.

Faces that remember the data version for a while (the web app keeps it for ``partnering.web.cache.VERSION_TTL``) learn
of a write at once by :func:`subscribe`: after a transaction that recorded an event *commits*, every subscriber is
called with the engine it was written through; a transaction that rolls back calls nobody.  The hook is installed by
:func:`record` itself, so a writer cannot forget it.

This covers writes made **in this process** only: SQLAlchemy's connection events (``commit``, ``rollback``, ``begin``;
https://docs.sqlalchemy.org/en/20/core/events.html#connection-events) and the pool's ``checkin`` event
(https://docs.sqlalchemy.org/en/20/core/events.html#connection-pool-events) see only this process's connections.  A
write by the command line, another server worker or another host reaches a subscriber's cache by its own expiry (the
web app's 1.5 s), which is why such caches must expire at all.

SQLAlchemy's ``commit`` event fires *before* the database commits, so it only marks the connection; subscribers are
called once the commit is done: when the connection goes back to the pool (the end of ``with engine.begin()``), or
when the same connection begins its next transaction, whichever comes first.  A rolled-back savepoint inside a
committed transaction may still notify: a spurious notification only costs a cache refresh.
"""

from __future__ import annotations

import getpass
import json
import logging
import threading
from datetime import datetime
from typing import Callable

import pandas as pd
from sqlalchemy import Connection, Engine, event, func, insert, select

from partnering.store.models import AuditEvent

AUDIT_COLUMNS = ["id", "at", "actor", "action", "target", "before", "after"]

log = logging.getLogger(__name__)

#: keys in the pooled DBAPI connection's ``info`` dict (which outlives one ``Connection``)
_PENDING = "partnering.audit.pending"  # an event was recorded in the open transaction
_COMMITTED = "partnering.audit.committed"  # ... and it committed: the engine whose subscribers are still to be told
_subscribers: list[Callable[[Engine], None]] = []
_lock = threading.Lock()


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

    ``before``/``after`` are JSON-serialisable values (or None).  Returns the event's id.  When the transaction
    commits, the :func:`subscribe`-d callbacks are told (once per transaction, however many events it recorded).
    """
    res = conn.execute(insert(AuditEvent).values(
        at=datetime.now(), actor=actor or default_actor(), action=action, target=target,
        before=_dump(before), after=_dump(after)))
    _watch(conn)
    conn.info[_PENDING] = True
    return int(res.inserted_primary_key[0])


# ------------------------------------------------------------------------------------------ after-commit hook


def subscribe(callback: Callable[[Engine], None]) -> None:
    """Call ``callback(engine)`` after each transaction of this process that recorded an audit event commits.

    Subscribing the same callback again does nothing.  A callback that raises is logged and does not disturb the
    write (it has committed) or the other subscribers.  Writes by other processes are not seen (module docstring).
    """
    with _lock:
        if callback not in _subscribers:
            _subscribers.append(callback)


def unsubscribe(callback: Callable[[Engine], None]) -> None:
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def _watch(conn: Connection) -> None:
    """Listen to this connection's transactions, and to its pool's check-ins (once each).

    The transaction listeners go on the audited connection only, not on the engine: any connection listener takes
    SQLAlchemy off its fast path (about 20 µs a transaction on SQLite here), which reads need not pay.  A connection
    checks its own listeners at each commit, so installing them inside the transaction still covers it.
    """
    if not event.contains(conn, "commit", _committed):
        event.listen(conn, "rollback", _rolled_back)
        event.listen(conn, "begin", _began)
        event.listen(conn, "commit", _committed)
    engine = conn.engine
    if not event.contains(engine, "checkin", _checked_in):
        with _lock:  # a pool event (SQLAlchemy resolves the engine to its pool), shared by every thread
            if not event.contains(engine, "checkin", _checked_in):
                event.listen(engine, "checkin", _checked_in)


def _committed(conn: Connection) -> None:
    info = conn.info
    if info.pop(_PENDING, False):
        info[_COMMITTED] = conn.engine


def _rolled_back(conn: Connection) -> None:
    try:
        conn.info.pop(_PENDING, None)
    except Exception:  # an invalidated connection (the database went away): nothing was committed through it
        pass


def _began(conn: Connection) -> None:
    engine = conn.info.pop(_COMMITTED, None)  # the previous transaction on this connection committed
    if engine is not None:
        _notify(engine)


def _checked_in(_dbapi_connection, connection_record) -> None:
    info = connection_record.info
    info.pop(_PENDING, None)  # a transaction still open at check-in was rolled back by the pool
    engine = info.pop(_COMMITTED, None)
    if engine is not None:
        _notify(engine)


def _notify(engine: Engine) -> None:
    with _lock:
        callbacks = list(_subscribers)
    for callback in callbacks:
        try:
            callback(engine)
        except Exception:  # the write has committed: a subscriber's failure must not look like the write's
            log.exception("audit subscriber %r failed", callback)


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
