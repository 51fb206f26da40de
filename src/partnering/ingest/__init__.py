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
    "context": ("partnering.ingest.context", "load_trust_context", False),
    # workbooks that carry their own periods; PATH may be a folder of them
    "ambulance-ambsys": ("partnering.ingest.ambsys", "load_ambsys", False),
    "staff-survey": ("partnering.ingest.staff_survey", "load_staff_survey", False),
    "beds-overnight": ("partnering.ingest.beds", "load_beds", False),
    "cancer-waiting-times": ("partnering.ingest.cancer", "load_cancer", False),  # months from its PERIOD column
    "diagnostics-dm01": ("partnering.ingest.dm01", "load_dm01", True),
    "cancelled-operations": ("partnering.ingest.cancelled_ops", "load_cancelled_ops", True),  # quarter's last month
}


def loader(kind: str):
    if kind not in LOADERS:
        raise ValidationError(f"unknown kind {kind!r}: choose one of {', '.join(LOADERS)}")
    mod, fn, _ = LOADERS[kind]
    return getattr(importlib.import_module(mod), fn)


def load(kind: str, path: str | Path, engine=None, period: str | None = None, **batch_opts):
    """Load one file (or, for ods / imd / geo / context, a folder). Returns a report or a list of reports."""
    fn = loader(kind)
    if LOADERS[kind][2]:
        return fn(path, engine, period=period, **batch_opts)
    if period is not None:
        raise ValidationError(f"--period applies only to {', '.join(k for k, v in LOADERS.items() if v[2])} files")
    p = Path(path)
    if kind == "ods":
        from partnering.ingest.ods import load_ods_folder

        return load_ods_folder(p, engine) if p.is_dir() else fn([p], engine)
    if kind == "imd":
        return fn(sorted(p.glob("*.csv")) if p.is_dir() else [p], engine)
    if kind == "context":
        # PATH is a data folder holding nhs/ and geo/ (e.g. ../shared/data)
        return fn(engine, nhs_dir=p / "nhs", geo_dir=p / "geo")
    if kind == "geo":
        return fn(p, engine)
    return fn(path, engine, **batch_opts)
