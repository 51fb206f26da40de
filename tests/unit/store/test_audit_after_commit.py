"""The audit log's after-commit hook (partnering.store.audit.subscribe): a transaction that recorded an event tells the
subscribers once it has committed, once, with its engine; a rolled-back one tells nobody.  On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from partnering.store import audit
from partnering.store.models import AuditEvent

pytestmark = pytest.mark.unit


@pytest.fixture
def told():
    """The engines the hook told about, in order (this test's subscriber only)."""
    calls: list = []
    audit.subscribe(calls.append)
    yield calls
    audit.unsubscribe(calls.append)


def _actions(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def test_a_commit_tells_the_subscribers_once_with_the_engine_after_it_committed(engine, told):
    seen_inside: list[int] = []
    with engine.begin() as conn:
        audit.record(conn, "analyst@nhs.net", "peers.pin", "RWA")
        audit.record(conn, "analyst@nhs.net", "peers.pin", "RR8")
        seen_inside.append(len(told))
    assert seen_inside == [0]  # not before the commit
    assert told == [engine]  # once for the transaction, not once per event
    # a subscriber called after the commit reads the write from another connection
    assert _actions(engine) == ["peers.pin", "peers.pin"]


def test_a_rolled_back_write_tells_nobody(engine, told):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        audit.record(conn, "analyst@nhs.net", "peers.pin", "RWA")
        raise RuntimeError("the write failed after its audit event")
    with engine.begin() as conn:  # the pooled connection's next, unaudited, transaction commits
        conn.execute(select(1))
    with engine.connect() as conn:  # rolled back by closing it
        audit.record(conn, "analyst@nhs.net", "peers.unpin", "RWA")
    assert told == []
    assert _actions(engine) == []


def test_a_transaction_without_an_audit_event_tells_nobody(engine, told):
    with engine.begin() as conn:
        conn.execute(select(AuditEvent.id))
    assert told == []


def test_a_commit_on_a_connection_kept_open_tells_at_its_next_transaction(engine, told):
    with engine.connect() as conn:
        audit.record(conn, "cli:analyst", "data.publish", "batch 1")
        conn.commit()
        conn.execute(select(1))  # begins the next transaction: the commit is done by now
        assert told == [engine]
        conn.rollback()
    assert told == [engine]


def test_a_failing_subscriber_neither_undoes_the_write_nor_silences_the_others(engine, told, caplog):
    def broken(_engine):
        raise ValueError("subscriber bug")

    audit.subscribe(broken)
    audit.subscribe(told.append)  # subscribing again does nothing: still told once
    try:
        with engine.begin() as conn:
            audit.record(conn, "analyst@nhs.net", "appraise.case.create", "appraisal_case:1")
    finally:
        audit.unsubscribe(broken)
    assert told == [engine]
    assert _actions(engine) == ["appraise.case.create"]
    assert "subscriber" in caplog.text and "ValueError" in caplog.text
