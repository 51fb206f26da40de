"""NHS England "Cancelled Elective Operations" (QMCO collection), quarterly provider workbook (.xlsx).

Sheet "Provider": a title block ("Period: Quarter 1, 2025-26 (April to June 2025)", "Published:", "Revised:"), then
one row per provider with the number of last-minute elective operations cancelled for non-clinical reasons in the
quarter and the number of those patients not treated within 28 days; two England rows (excluding and including the
independent sector) sit above the providers.  Source: NHS England, Cancelled Elective Operations,
https://www.england.nhs.uk/statistics/statistical-work-areas/cancelled-elective-operations/ .

Per provider: ``cancelled_ops_last_minute``, ``cancelled_ops_not_treated_28d`` and
``cancelled_ops_not_treated_28d_pct`` (not treated within 28 days, % of the quarter's last-minute cancellations,
as NHS England's commentary reports it).  NHS England counts a breach when the 28 days run out, so a breach may
belong to a cancellation in the previous quarter: where breaches exceed cancellations the percentage is not a
share of anything and is left out (the counts are kept; the batch note names the providers).  The workbook has no
elective admissions, so cancellations as a % of elective admissions cannot be derived from it.

**Period.** The store keeps months ('YYYY-MM'); a quarter is stored at its LAST month (Q1 2025-26, April to June
2025, is '2025-06'), the month by whose end every count in it is complete, and the catalogue marks the indicators
``frequency = "quarterly"``.  The quarter comes from the title block's "Period:" (else the file name
``Q1-2025-26``); ``--period`` must name the same month when given.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed, load_file
from partnering.ingest.sheets import agreed_period, check_total, numbers, observations, provider_rows, refuse_negative
from partnering.ingest.workbook import read_table

KIND = "cancelled-operations"
SHEET = "Provider"
CODE, NAME = "Organisation Code", "Organisation Name"
CANCELLED = "Number of last minute elective operations cancelled for non clinical reasons"
NOT_TREATED = "Number of patients not treated within 28 days of last minute elective cancellation"
# providers in the sheet include the independent sector, so they add up to this England row
ENGLAND_ALL = "england (including independent sector)"

_QUARTER = re.compile(r"(?:quarter\s*|q)([1-4])\D{1,3}(20\d\d)\s*[-/]\s*(\d\d)(?!\d)", re.IGNORECASE)


def quarter_end(text: str) -> str | None:
    """The last month ('YYYY-MM') of an NHS financial-year quarter written as "Quarter 1, 2025-26" or "Q1-2025-26":
    Q1 is April–June, Q2 July–September, Q3 October–December (all of the first year), Q4 January–March (the next)."""
    m = _QUARTER.search(str(text or ""))
    if not m:
        return None
    q, start = int(m[1]), int(m[2])
    if (start + 1) % 100 != int(m[3]):
        return None
    return f"{start + 1}-03" if q == 4 else f"{start}-{3 * q + 3:02d}"


def parse_cancelled_ops(data: bytes, file: str, period: str | None = None) -> Parsed:
    t = read_table(data, file, SHEET, [CODE, NAME, CANCELLED, NOT_TREATED])
    stated = quarter_end(t.title_value("Period:") or "") or quarter_end(Path(file).name)
    if stated is None and period is not None and int(period[5:]) % 3:
        raise IngestError(file, f"--period {period} is not the last month of a quarter: a quarter is stored at its "
                                "last month (April to June 2025 is 2025-06)")
    period = agreed_period(file, stated, period, "quarter in the title block's 'Period:' or the file name")
    code, name, providers, total = provider_rows(
        t, CODE, NAME, total=lambda c, n: n == ENGLAND_ALL, skip=lambda c, n: n.startswith("england"),
        total_label="'England (Including Independent Sector)'")
    vals = {c: numbers(t, c) for c in (CANCELLED, NOT_TREATED)}
    for c, v in vals.items():
        refuse_negative(t, c, v)
    parsed = Parsed(kind=KIND, file=file, period=period, rows_read=int(providers.sum()))
    parsed.published_on = t.published_on()
    parsed.notes.append(check_total(t, vals, total, providers, "England (including independent sector)"))
    parsed.notes.append(f"quarterly data: stored at the quarter's last month, {period}")
    k = np.flatnonzero(providers)
    cancelled, not_treated = vals[CANCELLED][k], vals[NOT_TREATED][k]
    over = np.nan_to_num(not_treated) > np.nan_to_num(cancelled)
    if over.any():
        parsed.notes.append("no % not treated within 28 days where breaches (which may follow cancellations of the "
                            "previous quarter) exceed the quarter's cancellations: " + ", ".join(code[k][over]))
    parsed.observations = observations(
        code[k], period,
        counts={"cancelled_ops_last_minute": cancelled, "cancelled_ops_not_treated_28d": not_treated},
        ratios={"cancelled_ops_not_treated_28d_pct": (np.where(over, np.nan, not_treated), cancelled)})
    parsed.organisations_seen = pd.DataFrame({"org_code": code[k], "name": name[k]})
    parsed.rows_loaded = len(k)
    return parsed


def load_cancelled_ops(path: str | Path, engine=None, period: str | None = None, **batch_opts):
    return load_file(KIND, path, parse_cancelled_ops, engine, period=period, **batch_opts)
