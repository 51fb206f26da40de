"""The result cache (cachetools underneath): LRU eviction, refusals, compute-once, and the data-version TTL."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from partnering.web import cache

pytestmark = pytest.mark.unit


class Counter:
    def __init__(self, value="v", wait: threading.Event | None = None):
        self.calls = 0
        self.value = value
        self.wait = wait
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
        if self.wait is not None:
            assert self.wait.wait(5)
        return self.value


def test_least_recently_used_entry_is_evicted_first():
    c = cache.ResultCache(max_entries=2)
    a, b, d = Counter("A"), Counter("B"), Counter("D")
    assert c.get("a", a) == "A" and c.get("b", b) == "B"
    assert c.get("a", a) == "A"  # a is now the most recently used
    assert c.get("d", d) == "D"  # evicts b, not a
    assert len(c) == 2
    c.get("a", a)
    c.get("b", b)
    assert (a.calls, b.calls, d.calls) == (1, 2, 1)
    assert (c.hits, c.misses) == (2, 4)


def test_a_value_that_keep_refuses_is_returned_but_not_stored():
    c = cache.ResultCache(max_entries=4)
    big = Counter("x" * 100)
    for _ in range(3):
        assert c.get("k", big, keep=lambda v: len(v) <= 10) == "x" * 100
    assert big.calls == 3 and len(c) == 0
    small = Counter("ok")
    c.get("s", small, keep=lambda v: len(v) <= 10)
    c.get("s", small, keep=lambda v: len(v) <= 10)
    assert small.calls == 1 and len(c) == 1


def test_concurrent_requests_compute_a_missing_result_once():
    c = cache.ResultCache()
    release = threading.Event()
    slow = Counter("R", wait=release)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(c.get("key", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # all eight are now asking for the same missing key
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["R"] * 8
    assert slow.calls == 1


def test_an_error_is_not_cached_and_waiters_can_retry():
    c = cache.ResultCache()

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        c.get("k", fail)
    ok = Counter("fine")
    assert c.get("k", ok) == "fine" and ok.calls == 1


def test_clear_empties_the_cache():
    c = cache.ResultCache()
    n = Counter()
    c.get("k", n)
    c.clear()
    c.get("k", n)
    assert n.calls == 2


@pytest.fixture
def versions(monkeypatch):
    """A fake store whose version we control; the module's TTL cache is emptied around the test."""
    state = {"version": (1, 1, 10, 0, frozenset(), frozenset()), "reads": 0}

    def read(engine):
        state["reads"] += 1
        return state["version"]

    monkeypatch.setattr(cache, "_read_version", read)
    cache.invalidate_version()
    yield state, SimpleNamespace(url="sqlite:///fake-store.db")
    cache.invalidate_version()


def test_data_version_is_reused_within_its_ttl_and_reread_after(versions):
    state, engine = versions
    first = cache.data_version(engine)
    state["version"] = (2, 2, 20, 0, frozenset(), frozenset())
    assert cache.data_version(engine) == first  # within VERSION_TTL: no second query
    assert state["reads"] == 1
    time.sleep(cache.VERSION_TTL + 0.1)
    assert cache.data_version(engine)[0] == 2
    assert state["reads"] == 2


def test_invalidate_version_makes_the_next_lookup_read_the_store(versions):
    state, engine = versions
    cache.data_version(engine)
    state["version"] = (3, 3, 30, 0, frozenset(), frozenset())
    cache.invalidate_version(engine)
    assert cache.data_version(engine)[0] == 3


def test_cached_results_follow_the_data_version(versions):
    state, engine = versions
    compute = Counter("assessment")
    name = f"test-{time.monotonic_ns()}"
    cache.cached(engine, name, None, compute, "arg")
    cache.cached(engine, name, None, compute, "arg")
    assert compute.calls == 1
    state["version"] = (4, 4, 40, 0, frozenset(), frozenset())
    cache.invalidate_version(engine)
    cache.cached(engine, name, None, compute, "arg")
    assert compute.calls == 2


def test_scope_key_separates_viewers_only_when_unpublished_data_exists():
    user = SimpleNamespace(is_admin=False, org_code="RXX")
    admin = SimpleNamespace(is_admin=True, org_code=None)
    none_unpublished = (1, 1, 1, 0, frozenset(), frozenset())
    some = (1, 1, 1, 0, frozenset({"RXX"}), frozenset({7}))
    assert {cache.scope_key(none_unpublished, u) for u in (None, user, admin)} == {"all"}
    assert [cache.scope_key(some, u) for u in (None, user, admin)] == ["public", "org:RXX", "admin"]


def test_any_audited_write_moves_the_data_version_and_refreshes_results(sqlite_engine):
    """A write that adds no batch (a partnership, a case, an undo ...) is audited, and the audit moves the version."""
    from partnering.store import audit

    counter = Counter("result")
    cache.invalidate_version()
    first = cache.data_version(sqlite_engine)
    cache.cached(sqlite_engine, "view", None, counter)
    cache.cached(sqlite_engine, "view", None, counter)
    assert counter.calls == 1
    with sqlite_engine.begin() as conn:
        audit.record(conn, "analyst@nhs.net", "partnership.create", "RWA-RR8")
    cache.invalidate_version(sqlite_engine)
    assert cache.data_version(sqlite_engine) != first
    cache.cached(sqlite_engine, "view", None, counter)
    assert counter.calls == 2


def test_a_version_read_while_a_write_committed_is_not_reused(versions, monkeypatch):
    """The after-commit hook can fire while another request is reading the version: that read may predate the write,
    so it must not be remembered as the current version (it would hide the write for VERSION_TTL)."""
    state, engine = versions

    def read_across_a_write(_engine):
        state["reads"] += 1
        seen = state["version"]
        state["version"] = (5, 5, 50, 0, frozenset(), frozenset())  # a write commits during this read ...
        cache.invalidate_version(engine)  # ... and the store's hook tells the cache
        return seen

    monkeypatch.setattr(cache, "_read_version", read_across_a_write)
    assert cache.data_version(engine)[0] == 1  # this request saw the store before the write
    monkeypatch.setattr(cache, "_read_version", lambda _engine: state["version"])
    assert cache.data_version(engine)[0] == 5  # the next one reads again, within the TTL


def test_the_app_subscribes_the_cache_to_the_stores_after_commit_hook(sqlite_engine, monkeypatch):
    """An audited write through the library, with no call to invalidate_version, is seen at once."""
    from partnering.store import audit
    from partnering.web.app import create_app

    create_app(str(sqlite_engine.url), warm_cache=False)
    cache.invalidate_version()
    monkeypatch.setattr(cache, "_clock", lambda: 0.0)  # the TTL never runs out: only the hook can refresh
    first = cache.data_version(sqlite_engine)
    with sqlite_engine.begin() as conn:
        audit.record(conn, "analyst@nhs.net", "register.partnership.create", "partnership 1")
    assert cache.data_version(sqlite_engine)[-1] == first[-1] + 1  # the last audit event id moved
    cache.invalidate_version()  # nothing remembered on the stopped clock outlives the test
