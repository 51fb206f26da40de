"""A seeded synthetic record set: ECDS-like attendances and RTT-like pathways, with the messiness of real feeds.

Written in chunks of :data:`CHUNK` records, each its own Parquet file, so memory stays bounded whatever the size
(1 million to 100 million records and more).  The same seed and size give the same files.  Of ``records``,
four fifths are attendances and one fifth pathways.

The distributions are synthetic, chosen to look like the published national figures rather than taken from any
patient data: department mix about 60% type 1, 2% type 2, 38% types 3-4, and about 60% of type 1 attendances
within 4 hours, as in NHS England's monthly A&E statistics for 2024-25 [AE]; about 28% of type 1 attendances
admitted; RTT waiting lists about 70% within 18 weeks and 5% over 52 weeks (the 2024-25 RTT statistics [RTT]
are nearer 59% and 2-3%: a heavier tail than England's; sources in ``indicators/indicators.toml``).  Trusts
differ (a per-trust factor on every duration) so that SPC and the assessment find something to say.  The
messiness rates (:data:`MESSINESS`) are illustrative assumptions, large enough that every reject reason appears
in a million records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from partnering.compute.schema import (
    ATTENDANCE_SCHEMA,
    ATTENDANCES,
    DEPARTMENT_TYPES,
    DISPOSALS,
    MANIFEST,
    PATHWAY_SCHEMA,
    PATHWAYS,
    TREATMENT_FUNCTIONS,
)
from partnering.definitions.periods import DAY, month_start, next_period, periods_between
from partnering.errors import ValidationError

CHUNK = 1_000_000
HOUR = 3600
PATHWAY_SHARE = 0.2
#: department types 01-04 [AE] national mix (illustrative)
DEPARTMENT_MIX = (0.60, 0.02, 0.36, 0.02)
#: median hours from arrival to departure and the log-normal spread, by department type (illustrative)
STAY_MEDIAN_HOURS = (3.3, 1.5, 1.0, 0.9)
STAY_SIGMA = (0.75, 0.6, 0.6, 0.6)
ADMITTED_SHARE = (0.28, 0.05, 0.02, 0.01)
OTHER_DISPOSALS = (("discharged", 0.85), ("transferred", 0.05), ("left", 0.09), ("died", 0.01))
#: share of records carrying each fault (illustrative assumptions)
MESSINESS = {
    "missing departure time": 0.003,
    "departure before arrival": 0.001,
    "duplicate record": 0.002,
    "unknown organisation code": 0.0005,
    "unknown department type": 0.0002,
    "unknown disposal": 0.0002,
    "admitted without a decision to admit time": 0.001,
    "missing clock start": 0.001,
    "clock stop before clock start": 0.001,
    "unknown treatment function": 0.0005,
}
UNKNOWN_ORGS = ("R9Z", "XXX", "RZ0")  # codes no ODS file has


@dataclass(frozen=True)
class Window:
    first: int  # YYYYMM
    months: int

    @property
    def last(self) -> int:
        return periods_between(self.first, self.first + 10_000)[self.months - 1]

    @property
    def start(self) -> int:
        return month_start(self.first)

    @property
    def end(self) -> int:
        return month_start(next_period(self.last))


def trust_codes_from_ods(path: Path) -> list[str]:
    """Open NHS trusts (3-character codes starting with R, no close date) in an ODS ``etr.csv`` file."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise ValidationError(f"{path}: cannot be read ({exc.strerror})") from None
    codes = sorted({r[0] for r in rows if len(r) > 11 and len(r[0]) == 3 and r[0].startswith("R") and not r[11]})
    if not codes:
        raise ValidationError(f"{path}: no open NHS trusts (is it the ODS etr.csv file?)")
    return codes


def _strings(rng_index: np.ndarray, values: list[str] | tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(rng_index.astype(np.int32)), pa.array(list(values))).cast(
        pa.string())


def _with_nulls(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(values, mask=missing, type=pa.int64())


def _pick(rng, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def _duplicate(rng, columns: dict[str, np.ndarray]) -> None:
    """Replace a share of rows by exact copies of other rows (a feed that sends a record twice)."""
    n = len(next(iter(columns.values())))
    dup = np.flatnonzero(_pick(rng, n, MESSINESS["duplicate record"]))
    if len(dup) == 0 or n < 2:
        return
    src = (dup + 1 + rng.integers(0, n - 1, len(dup))) % n
    for v in columns.values():
        v[dup] = v[src]


def attendance_chunk(rng, n: int, first_id: int, orgs: list[str], org_weight: np.ndarray, org_factor: np.ndarray,
                     window: Window) -> pa.Table:
    org = rng.choice(len(orgs), n, p=org_weight)
    dtype = rng.choice(4, n, p=DEPARTMENT_MIX)
    days = (window.end - window.start) // DAY
    hour_weights = np.array([2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 6, 7, 7.5, 7.5, 7, 6.5, 6.5, 6.5, 6.5, 6.5, 6, 5.5,
                             5, 4.5, 3.5, 2.5])
    hour = rng.choice(24, n, p=hour_weights / hour_weights.sum())
    arrival = window.start + rng.integers(0, days, n) * DAY + hour * HOUR + rng.integers(0, HOUR, n)
    months_in = (arrival - window.start) / (window.end - window.start)
    trend = 1.0 + 0.08 * np.sin(2 * np.pi * months_in * window.months / 12)  # winter pressure, roughly
    factor = org_factor[org] * trend
    stay = np.exp(np.log(np.take(STAY_MEDIAN_HOURS, dtype) * HOUR * factor)
                  + np.take(STAY_SIGMA, dtype) * rng.standard_normal(n))
    admitted = rng.random(n) < np.take(ADMITTED_SHARE, dtype)
    to_dta = np.exp(np.log(2.5 * HOUR * factor) + 0.6 * rng.standard_normal(n))
    dta_wait = np.exp(np.log(1.5 * HOUR * factor ** 2) + 1.1 * rng.standard_normal(n))
    dta = np.where(admitted, arrival + to_dta.astype(np.int64), 0)
    departure = np.where(admitted, dta + dta_wait.astype(np.int64), arrival + stay.astype(np.int64))
    names, shares = zip(*OTHER_DISPOSALS)
    disposal = np.where(admitted, DISPOSALS.index("admitted"),
                        np.take([DISPOSALS.index(x) for x in names], rng.choice(len(names), n, p=shares)))
    # messiness
    disposal_codes = list(DISPOSALS) + ["unknown"]
    disposal[_pick(rng, n, MESSINESS["unknown disposal"])] = len(DISPOSALS)
    dept_codes = list(DEPARTMENT_TYPES) + ["99"]
    dtype[_pick(rng, n, MESSINESS["unknown department type"])] = 4
    org_codes = list(orgs) + list(UNKNOWN_ORGS)
    bad_org = _pick(rng, n, MESSINESS["unknown organisation code"])
    org[bad_org] = len(orgs) + rng.integers(0, len(UNKNOWN_ORGS), bad_org.sum())
    backwards = _pick(rng, n, MESSINESS["departure before arrival"])
    departure[backwards] = arrival[backwards] - rng.integers(60, 6 * HOUR, backwards.sum())
    no_departure = _pick(rng, n, MESSINESS["missing departure time"])
    no_dta = ~admitted | _pick(rng, n, MESSINESS["admitted without a decision to admit time"])
    site = rng.integers(0, 3, n)
    cols = {"id": np.arange(first_id, first_id + n, dtype=np.int64), "org": org, "site": org * 3 + site,
            "dtype": dtype, "arrival": arrival, "dta": dta, "departure": departure, "disposal": disposal,
            "no_dta": no_dta, "no_departure": no_departure}
    _duplicate(rng, cols)
    sites = [f"{o}{k:02d}" for o in org_codes for k in range(1, 4)]
    return pa.Table.from_arrays([
        pa.array(cols["id"]), _strings(cols["org"], org_codes), _strings(cols["site"], sites),
        _strings(cols["dtype"], dept_codes), pa.array(cols["arrival"]), _with_nulls(cols["dta"], cols["no_dta"]),
        _with_nulls(cols["departure"], cols["no_departure"]), _strings(cols["disposal"], disposal_codes),
    ], schema=ATTENDANCE_SCHEMA)


def pathway_chunk(rng, n: int, first_id: int, orgs: list[str], org_weight: np.ndarray, org_factor: np.ndarray,
                  window: Window) -> pa.Table:
    org = rng.choice(len(orgs), n, p=org_weight)
    first_day = window.start // DAY - 730
    last_day = window.end // DAY
    start = rng.integers(first_day, last_day, n)
    long_wait = rng.random(n) < 0.15  # a mixture of two exponentials: most waits short, a long tail
    scale = np.where(long_wait, 170.0, 70.0) * org_factor[org] ** 2
    stop = start + rng.exponential(scale).astype(np.int64) + 1
    waiting = stop >= last_day  # not stopped by the extract date
    tfc = rng.choice(len(TREATMENT_FUNCTIONS), n)
    tfc_codes = list(TREATMENT_FUNCTIONS) + ["000"]
    tfc[_pick(rng, n, MESSINESS["unknown treatment function"])] = len(TREATMENT_FUNCTIONS)
    org_codes = list(orgs) + list(UNKNOWN_ORGS)
    bad_org = _pick(rng, n, MESSINESS["unknown organisation code"])
    org[bad_org] = len(orgs) + rng.integers(0, len(UNKNOWN_ORGS), bad_org.sum())
    backwards = _pick(rng, n, MESSINESS["clock stop before clock start"])
    stop[backwards] = start[backwards] - rng.integers(1, 60, backwards.sum())
    waiting &= ~backwards
    no_start = _pick(rng, n, MESSINESS["missing clock start"])
    cols = {"id": np.arange(first_id, first_id + n, dtype=np.int64), "org": org, "tfc": tfc,
            "start": start * DAY, "stop": stop * DAY, "no_start": no_start, "waiting": waiting}
    _duplicate(rng, cols)
    return pa.Table.from_arrays([
        pa.array(cols["id"]), _strings(cols["org"], org_codes), _strings(cols["tfc"], tfc_codes),
        _with_nulls(cols["start"], cols["no_start"]), _with_nulls(cols["stop"], cols["waiting"]),
    ], schema=PATHWAY_SCHEMA)


def generate(out: Path, records: int, seed: int, orgs: list[str], first_period: int = 202404, months: int = 24,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Write ``records`` synthetic records under ``out`` (``attendances/`` and ``pathways/`` Parquet parts and a
    manifest); returns the manifest.  ``orgs``: the trust codes to spread them over (real ones, so that the
    results join the store); a few codes that exist nowhere are added as messiness."""
    if records < 1:
        raise ValidationError(f"--records must be at least 1 (got {records})")
    if not orgs:
        raise ValidationError("no organisations to generate records for")
    if not 1 <= months <= 120:
        raise ValidationError(f"--months must be within 1-120 (got {months})")
    window = Window(first_period, months)
    orgs = sorted(set(orgs))
    base = np.random.default_rng([seed, 0])
    org_weight = np.exp(0.6 * base.standard_normal(len(orgs)))
    org_weight /= org_weight.sum()
    org_factor = np.exp(0.18 * base.standard_normal(len(orgs)))
    n_path = int(round(records * PATHWAY_SHARE))
    plan = [(ATTENDANCES, records - n_path, attendance_chunk, 1), (PATHWAYS, n_path, pathway_chunk, 2)]
    done = 0
    for name, total, make, stream in plan:
        folder = Path(out) / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*.parquet"):
            old.unlink()
        for k, first in enumerate(range(0, total, CHUNK)):
            n = min(CHUNK, total - first)
            rng = np.random.default_rng([seed, stream, k])
            table = make(rng, n, first + 1, orgs, org_weight, org_factor, window)
            pq.write_table(table, folder / f"part-{k:05d}.parquet", compression="zstd")
            done += n
            if progress:
                progress(done, records)
    manifest = {"generator": "partnering.compute.generate", "seed": seed, "records": records,
                "attendances": records - n_path, "pathways": n_path, "first_period": window.first,
                "last_period": window.last, "organisations": len(orgs), "messiness": MESSINESS}
    (Path(out) / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest
