"""Loaders for official NHS files and generic KPI files.

Each loader is a library function ``load_<kind>(path, engine=None, ...)``
returning a :class:`~partnering.ingest.base.BatchReport`; :func:`load` picks
the loader by kind (the word users type after ``partnering ingest``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from partnering.errors import ValidationError

# kind -> (module, function, takes_period)
LOADERS: dict[str, tuple[str, str, bool]] = {
    "ae-monthly": ("partnering.ingest.ae", "load_ae", True),
    "rtt": ("partnering.ingest.rtt", "load_rtt", True),
    "kpi": ("partnering.ingest.kpi", "load_kpi", False),
    "ods": ("partnering.ingest.ods", "load_ods", False),
    "imd": ("partnering.ingest.imd", "load_imd", False),
    "geo": ("partnering.ingest.geo", "load_geo", False),
}


def loader(kind: str):
    if kind not in LOADERS:
        raise ValidationError(f"unknown kind {kind!r}: choose one of {', '.join(LOADERS)}")
    mod, fn, _ = LOADERS[kind]
    return getattr(importlib.import_module(mod), fn)


def load(kind: str, path: str | Path, engine=None, period: str | None = None, **batch_opts):
    fn = loader(kind)
    if LOADERS[kind][2]:
        return fn(path, engine, period=period, **batch_opts)
    if period is not None:
        raise ValidationError(f"--period applies only to {', '.join(k for k, v in LOADERS.items() if v[2])} files")
    return fn(path, engine, **batch_opts)
