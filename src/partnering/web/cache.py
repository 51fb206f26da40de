"""Cache of expensive library results, keyed by the store's data version and the viewer's scope.

The data version is ``(max import batch id, number of batches, values written, values superseded)``:
any load (CLI or web) changes it, so a cached assessment is never stale.  The version itself is looked up at
most every :data:`VERSION_TTL` seconds per process (uploads through the app invalidate it at once), so a load
by the CLI or another server process shows within that time.  The cache is per process: with
``partnering serve --workers N`` each worker computes and keeps its own results.  The scope says which
unpublished uploads a viewer may see; when nobody has unpublished data every viewer shares one entry.
A per-key lock means concurrent requests compute a result once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from sqlalchemy import func, select

from partnering.store.models import ImportBatch

MAX_ENTRIES = 1024  # most entries are small frames (peers, candidates); page views are a few hundred kB


#: how long a data-version lookup is reused (seconds).  Loads through the web app invalidate it at once
#: (:func:`invalidate_version`); a load by the CLI or another server process is seen within this time.
VERSION_TTL = 1.5
_versions: dict[str, tuple[float, tuple]] = {}
_versions_lock = threading.Lock()


def data_version(engine) -> tuple:
    """The store's data version, reused for :data:`VERSION_TTL` seconds (two SQL queries otherwise)."""
    key = str(engine.url)
    now = time.monotonic()
    hit = _versions.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    version = _read_version(engine)
    with _versions_lock:
        _versions[key] = (now + VERSION_TTL, version)
    return version


def invalidate_version(engine=None) -> None:
    """Forget the remembered data version (of one store, or all): call after writing to the store."""
    with _versions_lock:
        if engine is None:
            _versions.clear()
        else:
            _versions.pop(str(engine.url), None)


def _read_version(engine) -> tuple:
    b = ImportBatch
    with engine.connect() as conn:
        row = conn.execute(select(func.max(b.id), func.count(b.id), func.coalesce(func.sum(b.observations_new), 0),
                                  func.coalesce(func.sum(b.observations_superseded), 0))).first()
        unpublished = conn.execute(select(b.id, b.owner_org).where(b.published.is_(False))).all()
    # the unpublished batch ids change when an upload is published, so every cached view is refreshed then
    return (row[0] or 0, row[1], int(row[2]), int(row[3]), frozenset(o or "" for _, o in unpublished),
            frozenset(i for i, _ in unpublished))


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


class ResultCache:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._data: OrderedDict = OrderedDict()
        self._locks: dict = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key, compute: Callable[[], Any], keep: Callable[[Any], bool] | None = None) -> Any:
        """The cached value of ``key``, else ``compute()`` (stored unless ``keep(value)`` is false)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._data:
                    self.hits += 1
                    return self._data[key]
            self.misses += 1
            value = compute()
            with self._lock:
                if keep is not None and not keep(value):
                    self._locks.pop(key, None)
                    return value
                self._data[key] = value
                while len(self._data) > self.max_entries:
                    old, _ = self._data.popitem(last=False)
                    self._locks.pop(old, None)
                self._locks.pop(key, None)
            return value

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
