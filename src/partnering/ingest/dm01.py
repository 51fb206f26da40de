"""NHS England "Monthly Diagnostic Waiting Times and Activity" (DM01): the provider web file (.xls).

Sheet "Provider": a title block (Period:, Published:, Revised:, ...), then one row per provider with its total
waiting list at month end, the numbers waiting 6+ and 13+ weeks, the percentage waiting 6+ weeks, weekly wait bands
and the month's activity (planned, unscheduled and waiting-list tests); the England row ("Total", no provider code)
sits above the providers.  Source: NHS England, Diagnostics Waiting Times and Activity,
https://www.england.nhs.uk/statistics/statistical-work-areas/diagnostics-waiting-times-and-activity/ .

Per provider: ``dm01_waiting_list``, ``dm01_over_6w``, ``dm01_over_13w``, ``dm01_over_6w_pct`` and
``dm01_over_13w_pct`` (of the waiting list, from the counts; the file's own percentage must agree), and
``dm01_activity`` (the three activity columns summed, as the DM01 "total activity").

The month comes from the title block's "Period:" (else the file name, else ``--period``); the publication date
from "Published:" or, when later, "Revised:".  The file is refused when the sheet or its header is missing, a cell is
not a number, the England row is missing, or the providers do not add up to it; a provider whose counts contradict
each other (13+ > 6+ > list, or the file's percentage differs from its counts) is a rejected row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from partnering.ingest.base import Parsed, load_file
from partnering.ingest.sheets import agreed_period, check_total, numbers, observations, provider_rows, refuse_negative
from partnering.ingest.values import month_from_text
from partnering.ingest.workbook import read_table

KIND = "diagnostics-dm01"
SHEET = "Provider"
CODE, NAME = "Provider Code", "Provider Name"
WAITING, OVER6, OVER13, PCT6 = ("Total Waiting List", "Number waiting 6+ Weeks", "Number waiting 13+ Weeks",
                                "Percentage waiting 6+ weeks")
ACTIVITY = ("Planned tests / procedures", "Unscheduled tests / procedures",
            "Waiting list tests / procedures (excluding planned)")
# the file's percentage is a fraction to 15 digits or more; 0.05 percentage points allows a rounded edition
PCT_TOLERANCE = 0.05


def parse_dm01(data: bytes, file: str, period: str | None = None) -> Parsed:
    t = read_table(data, file, SHEET, [CODE, NAME, WAITING, OVER6, OVER13, PCT6, *ACTIVITY])
    stated = month_from_text(t.title_value("Period:") or "") or month_from_text(Path(file).name)
    period = agreed_period(file, stated, period, "'Period:' in the title block or month in the file name")
    code, name, providers, total = provider_rows(
        t, CODE, NAME, total=lambda c, n: c == "" and n in ("total", "england"),
        total_label="England total (Provider Name 'Total' without a code)")
    vals = {c: numbers(t, c) for c in (WAITING, OVER6, OVER13, *ACTIVITY)}
    for c, v in vals.items():
        refuse_negative(t, c, v)
    pct_file = numbers(t, PCT6)
    parsed = Parsed(kind=KIND, file=file, period=period, rows_read=int(providers.sum()))
    parsed.published_on = t.published_on()
    parsed.notes.append(check_total(t, vals, total, providers))

    wl, o6, o13 = (np.nan_to_num(vals[c]) for c in (WAITING, OVER6, OVER13))
    order = providers & ~((o13 <= o6) & (o6 <= wl))
    for i in np.flatnonzero(order):
        parsed.rejected.append((t.excel_row(int(i)), OVER13, f"13+ weeks ({o13[i]:,.0f}) ≤ 6+ weeks ({o6[i]:,.0f}) ≤ "
                                                            f"waiting list ({wl[i]:,.0f}) does not hold"))
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(wl > 0, 100.0 * o6 / np.where(wl > 0, wl, 1), np.nan)
    off = providers & ~order & (wl > 0) & ~np.isnan(pct_file) & (np.abs(100.0 * pct_file - pct) > PCT_TOLERANCE)
    for i in np.flatnonzero(off):
        parsed.rejected.append((t.excel_row(int(i)), PCT6, f"the file's {100 * pct_file[i]:.2f}% differs from "
                                                           f"{o6[i]:,.0f} / {wl[i]:,.0f} = {pct[i]:.2f}%"))
    keep = providers & ~order & ~off
    k = np.flatnonzero(keep)
    activity = np.nansum([vals[c] for c in ACTIVITY], axis=0)
    obs = observations(code[k], period,
                       counts={"dm01_waiting_list": vals[WAITING][k], "dm01_over_6w": vals[OVER6][k],
                               "dm01_over_13w": vals[OVER13][k], "dm01_activity": activity[k]},
                       ratios={"dm01_over_6w_pct": (vals[OVER6][k], vals[WAITING][k]),
                               "dm01_over_13w_pct": (vals[OVER13][k], vals[WAITING][k])})
    parsed.observations = obs
    parsed.organisations_seen = pd.DataFrame({"org_code": code[k], "name": name[k]})
    parsed.rows_loaded = len(k)
    return parsed


def load_dm01(path: str | Path, engine=None, period: str | None = None, **batch_opts):
    return load_file(KIND, path, parse_dm01, engine, period=period, **batch_opts)
