"""Cache of expensive library results, keyed by the store's data version and the viewer's scope.

The data version is ``(max import batch id, number of batches, values written, values superseded)``:
any load (CLI or web) changes it, so a cached assessment is never stale.  The version itself is looked up at
most every :data:`VERSION_TTL` seconds per process.  Every audited write made in this process invalidates it as
soon as its transaction commits: :func:`partnering.web.app.create_app` subscribes :func:`invalidate_version` to
the store's after-commit hook (:func:`partnering.store.audit.subscribe`), so no handler has to remember to.  The
hook sees only this process's writes: a load by the CLI or another server process shows within the TTL.  The cache
is per process: with ``partnering serve --workers N`` each worker computes and keeps its own results.  The scope
says which unpublished uploads a viewer may see; when nobody has unpublished data every viewer shares one entry.

Both stores are ``cachetools`` caches (https://cachetools.readthedocs.io/): a ``TTLCache`` for the versions and
an ``LRUCache`` of :data:`MAX_ENTRIES` results, each behind a lock.  ``cachetools.cached`` with a condition
computes a missing result once while concurrent requests for the same key wait for it (its "cache stampede"
protection), and counts hits and misses.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import cachetools
from sqlalchemy import func, select

from partnering.store.audit import last_event_id
from partnering.store.models import ImportBatch

MAX_ENTRIES = 1024  # most entries are small frames (peers, candidates); page views are a few hundred kB


#: how long a data-version lookup is reused (seconds).  Audited writes in this process invalidate it at once
#: (:func:`invalidate_version`, called by the store's after-commit hook); a load by the CLI or another server
#: process is seen within this time.
VERSION_TTL = 1.5


def _clock() -> float:
    """The clock of :data:`VERSION_TTL` (looked up at each use, so a test can stop it)."""
    return time.monotonic()


_versions: cachetools.TTLCache = cachetools.TTLCache(maxsize=64, ttl=VERSION_TTL, timer=lambda: _clock())
_versions_lock = threading.Lock()
# invalidations so far, per store and of all stores: part of the key, so a lookup that began before a write committed
# stores its (old) version under the old key, where no later lookup finds it
_generation: dict[str, int] = {}
_epoch = 0


def _version_key(engine) -> tuple:
    url = str(engine.url)
    return url, _epoch, _generation.get(url, 0)


@cachetools.cached(_versions, key=_version_key, lock=_versions_lock)
def data_version(engine) -> tuple:
    """The store's data version, reused for :data:`VERSION_TTL` seconds (two SQL queries otherwise)."""
    return _read_version(engine)


def invalidate_version(engine=None) -> None:
    """Forget the remembered data version (of one store, or all).

    Subscribed to :func:`partnering.store.audit.subscribe` by the app, so audited writes call it after they commit;
    call it yourself only after an unaudited write, or in tests.
    """
    global _epoch
    with _versions_lock:
        if engine is None:
            _epoch += 1
            _versions.clear()
        else:
            key = _version_key(engine)
            _generation[key[0]] = key[2] + 1
            _versions.pop(key, None)


def _read_version(engine) -> tuple:
    b = ImportBatch
    with engine.connect() as conn:
        row = conn.execute(select(func.max(b.id), func.count(b.id), func.coalesce(func.sum(b.observations_new), 0),
                                  func.coalesce(func.sum(b.observations_superseded), 0))).first()
        unpublished = conn.execute(select(b.id, b.owner_org).where(b.published.is_(False))).all()
        audited = last_event_id(conn)
    # the unpublished batch ids change when an upload is published, so every cached view is refreshed then; the
    # last audit event moves with any other audited write (partnerships, cases, undo ...), so results refresh too
    return (row[0] or 0, row[1], int(row[2]), int(row[3]), frozenset(o or "" for _, o in unpublished),
            frozenset(i for i, _ in unpublished), audited)


def scope_key(version: tuple, user) -> str:
    """One key per distinct view of the data: 'all' when no unpublished upload exists."""
    unpublished = version[4]
    if not unpublished:
        return "all"
    if user is None:
        return "public"
    if user.is_admin:
        return "admin"
    if user.org_code and user.org_code in unpublished:
        return f"org:{user.org_code}"
    return "public"


class _NotKept:
    """A computed value that ``keep`` refused: too large for the cache by construction, so never stored."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class ResultCache:
    """Least-recently-used results (``cachetools.LRUCache``); a missing key is computed once, however many ask."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        # every entry counts 1 towards max_entries; a refused value counts more, which cachetools declines to store
        self._data = cachetools.LRUCache(maxsize=max_entries,
                                         getsizeof=lambda v: max_entries + 1 if isinstance(v, _NotKept) else 1)
        self._lock = threading.Lock()
        self._compute = cachetools.cached(self._data, key=lambda key, compute: key,
                                          condition=threading.Condition(self._lock), info=True)(
            lambda key, compute: compute())

    def get(self, key, compute: Callable[[], Any], keep: Callable[[Any], bool] | None = None) -> Any:
        """The cached value of ``key``, else ``compute()`` (stored unless ``keep(value)`` is false)."""

        def run():
            value = compute()
            return value if keep is None or keep(value) else _NotKept(value)

        value = self._compute(key, run)
        return value.value if isinstance(value, _NotKept) else value

    @property
    def hits(self) -> int:
        return self._compute.cache_info().hits

    @property
    def misses(self) -> int:
        return self._compute.cache_info().misses

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
        invalidate_version()


#: shared by every app in the process (tests create several apps over one store)
CACHE = ResultCache()


def cached(engine, name: str, user, compute: Callable[[], Any], *args,
           keep: Callable[[Any], bool] | None = None) -> Any:
    version = data_version(engine)
    key = (str(engine.url), version, scope_key(version, user), name, *args)
    return CACHE.get(key, compute, keep)
