"""Monthly indicators from a record set, on DuckDB or Spark: validate, aggregate, count rejects by reason.

Engines return only integer sums per reason, organisation and month (:mod:`partnering.definitions.monthly`);
everything after that — percentages, ISO periods, the long table — is computed here once, in pandas, on a few
thousand rows, so the engines cannot differ in rounding.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.compute import engines
from partnering.compute.schema import ATTENDANCES, MANIFEST, PATHWAYS
from partnering.compute.validate import check_attendances, check_pathways
from partnering.definitions import periods
from partnering.definitions.measures import ATTENDANCE_MEASURES, PATHWAY_MEASURES
from partnering.definitions.monthly import attendance_monthly, pathway_monthly
from partnering.errors import ValidationError

COLUMNS = ["org_code", "indicator", "period", "numerator", "denominator", "value"]


@dataclass
class ComputeResult:
    indicators: pd.DataFrame  # COLUMNS, sorted by org_code, indicator, period
    rejected: pd.DataFrame  # record_type, reason, records
    records: dict[str, int] = field(default_factory=dict)  # records read, by type
    engine: str = "duckdb"

    @property
    def rejected_total(self) -> int:
        return int(self.rejected["records"].sum()) if not self.rejected.empty else 0


def _folders(record_set: Path) -> dict[str, Path]:
    record_set = Path(record_set)
    if not record_set.is_dir():
        raise ValidationError(f"{record_set}: no such record set folder")
    found = {name: record_set / name for name in (ATTENDANCES, PATHWAYS)
             if any((record_set / name).glob("*.parquet"))}
    if not found:
        raise ValidationError(f"{record_set}: no attendances/*.parquet or pathways/*.parquet files")
    return found


def census_periods(record_set: Path, found_periods: list[int]) -> list[int]:
    """RTT census months: the manifest's extract window where there is one, else the months attendances cover."""
    manifest = Path(record_set) / MANIFEST
    if manifest.is_file():
        m = json.loads(manifest.read_text())
        return periods.periods_between(int(m["first_period"]), int(m["last_period"]))
    if found_periods:
        return periods.periods_between(min(found_periods), max(found_periods))
    raise ValidationError(f"{record_set}: pathways without a {MANIFEST} need attendances to date the census")


def _long(sums: pd.DataFrame, measures) -> pd.DataFrame:
    """Accepted-record sums (one row per organisation and month) -> the long indicator table."""
    parts = []
    for m in measures:
        num = sums[f"{m.code}__n"].to_numpy(dtype=float)
        if m.denominator is None:
            part = pd.DataFrame({"numerator": np.nan, "denominator": np.nan, "value": num}, index=sums.index)
        else:
            den = sums[f"{m.code}__d"].to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where(den > 0, 100.0 * num / den, np.nan)
            part = pd.DataFrame({"numerator": num, "denominator": den, "value": value}, index=sums.index)
            part = part[den > 0]
        part.insert(0, "indicator", m.code)
        part.insert(0, "period", sums.loc[part.index, "period"].map(periods.label))
        part.insert(0, "org_code", sums.loc[part.index, "org_code"])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    return out[COLUMNS]


def _rejects(frame: pd.DataFrame, record_type: str) -> pd.DataFrame:
    bad = frame[frame["reason"].notna()]
    out = bad.groupby("reason", as_index=False)["records"].sum()
    out.insert(0, "record_type", record_type)
    return out


def compute_indicators(record_set: Path, engine: str = "duckdb", known_orgs=(), *, session=None, con=None,
                       progress: Callable[[str], None] | None = None) -> ComputeResult:
    """Validate the record set and compute its monthly indicators on ``engine`` (``duckdb`` or ``spark``).

    ``known_orgs``: the organisation codes that exist (from the store or the ODS file); records of any other code
    are rejected.  ``progress`` is told each stage as it starts.  ``con``: an Ibis backend to use (e.g. a DuckDB
    connection with a memory limit), else a new one for ``engine`` (on ``session``, for Spark).
    """
    say = progress or (lambda stage: None)
    known = sorted(set(known_orgs))
    if not known:
        raise ValidationError("no known organisation codes to check the records against (load the ODS file into "
                              "the store, or pass the ODS etr.csv file)")
    found = _folders(record_set)
    say(f"connecting to {engine}")
    con = con or engines.connect(engine, session)
    frames, rejected, records = [], [], {}
    att_periods: list[int] = []
    if ATTENDANCES in found:
        say("attendances: validating and aggregating")
        t = engines.read_parquet(con, found[ATTENDANCES], "attendances")
        sums = con.execute(attendance_monthly(check_attendances(t, known, con))).astype({"records": "int64"})
        records[ATTENDANCES] = int(sums["records"].sum())
        rejected.append(_rejects(sums, ATTENDANCES))
        ok = sums[sums["reason"].isna()].sort_values(["org_code", "period"]).reset_index(drop=True)
        att_periods = sorted(int(p) for p in ok["period"].unique())
        frames.append(_long(ok, ATTENDANCE_MEASURES))
    if PATHWAYS in found:
        say("pathways: validating and counting waiting lists at each month-end census")
        p = engines.read_parquet(con, found[PATHWAYS], "pathways")
        census = pd.DataFrame({"period": census_periods(record_set, att_periods)})
        census["census_day"] = census["period"].map(periods.census_day).astype("int64")
        monthly, rejects = pathway_monthly(check_pathways(p, known, con), engines.small_table(con, census, "census"))
        sums = con.execute(monthly)
        by_reason = con.execute(rejects)
        records[PATHWAYS] = int(by_reason["records"].sum())
        rejected.append(_rejects(by_reason, PATHWAYS))
        ok = sums.sort_values(["org_code", "period"]).reset_index(drop=True)
        frames.append(_long(ok, PATHWAY_MEASURES))
    say("assembling the monthly table")
    table = pd.concat(frames, ignore_index=True).sort_values(["org_code", "indicator", "period"])
    rej = pd.concat(rejected, ignore_index=True).sort_values(["record_type", "reason"]).reset_index(drop=True)
    rej["records"] = rej["records"].astype("int64")
    return ComputeResult(table.reset_index(drop=True), rej, records, engine)
