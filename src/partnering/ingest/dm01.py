"""NHS England "Monthly Diagnostic Waiting Times and Activity" (DM01): the provider web file (.xls).

Sheet "Provider": a title block (Period:, Published:, Revised:, ...), then one row per provider with its total
waiting list at month end, the numbers waiting 6+ and 13+ weeks, the percentage waiting 6+ weeks, weekly wait bands
and the month's activity (planned, unscheduled and waiting-list tests); the England row ("Total", no provider code)
sits above the providers.  Source: NHS England, Diagnostics Waiting Times and Activity,
https://www.england.nhs.uk/statistics/statistical-work-areas/diagnostics-waiting-times-and-activity/ .

Per provider: ``dm01_waiting_list``, ``dm01_over_6w``, ``dm01_over_13w``, ``dm01_over_6w_pct`` and
``dm01_over_13w_pct`` (of the waiting list, from the counts; the file's own percentage must agree), and
``dm01_activity`` (the three activity columns summed, as the DM01 "total activity").  Sheet "Provider by Test", where
present, gives the same per test (MRI, CT, echocardiography, ... 15 tests) as breakdowns ``<indicator>:<test>``
(e.g. ``dm01_over_6w_pct:magnetic_resonance_imaging``); each provider's tests must add up to its Total row there and
that row to the provider's row in "Provider", or the file is refused.

The month comes from the title block's "Period:" (else the file name, else ``--period``); the publication date
from "Published:" or, when later, "Revised:".  The file is refused when the sheet or its header is missing, a cell is
not a number, the England row is missing, or the providers do not add up to it; a provider whose counts contradict
each other (13+ > 6+ > list, or the file's percentage differs from its counts) is a rejected row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed, load_file
from partnering.ingest.sheets import (
    agreed_period,
    breakdown_code,
    check_total,
    numbers,
    observations,
    provider_rows,
    refuse_negative,
)
from partnering.ingest.values import month_from_text
from partnering.ingest.workbook import norm_label, read_table, sheet_names

KIND = "diagnostics-dm01"
SHEET = "Provider"
BY_TEST = "Provider by Test"
TEST_ID, TEST = "Diagnostic ID", "Diagnostic Test Name"
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
    vals, pct_file = _counts(t)
    parsed = Parsed(kind=KIND, file=file, period=period, rows_read=int(providers.sum()))
    parsed.published_on = t.published_on()
    parsed.notes.append(check_total(t, vals, total, providers))
    keep = _consistent(t, vals, pct_file, providers, parsed)
    k = np.flatnonzero(keep)
    frames = [_observations(code[k], period, {c: v[k] for c, v in vals.items()})]
    if norm_label(BY_TEST) in {norm_label(n) for n in sheet_names(data, file)}:
        frames.append(_by_test(data, file, period, {c: dict(zip(code[providers], v[providers]))
                                                     for c, v in vals.items()}, parsed))
    else:
        parsed.notes.append(f"no {BY_TEST!r} sheet: no breakdown by test")
    parsed.observations = pd.concat(frames, ignore_index=True)
    parsed.organisations_seen = pd.DataFrame({"org_code": code[k], "name": name[k]})
    parsed.rows_loaded = len(k)
    return parsed


def _counts(t) -> tuple[dict[str, np.ndarray], np.ndarray]:
    vals = {c: numbers(t, c) for c in (WAITING, OVER6, OVER13, *ACTIVITY)}
    for c, v in vals.items():
        refuse_negative(t, c, v)
    return vals, numbers(t, PCT6)


def _consistent(t, vals, pct_file, rows: np.ndarray, parsed: Parsed) -> np.ndarray:
    """``rows`` less those whose counts contradict each other, which become rejected rows with the reason."""
    where = "" if t.sheet == SHEET else f"sheet {t.sheet!r}: "
    wl, o6, o13 = (np.nan_to_num(vals[c]) for c in (WAITING, OVER6, OVER13))
    order = rows & ~((o13 <= o6) & (o6 <= wl))
    for i in np.flatnonzero(order):
        parsed.rejected.append((t.excel_row(int(i)), OVER13, f"{where}13+ weeks ({o13[i]:,.0f}) ≤ 6+ weeks "
                                                            f"({o6[i]:,.0f}) ≤ waiting list ({wl[i]:,.0f}) "
                                                            "does not hold"))
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(wl > 0, 100.0 * o6 / np.where(wl > 0, wl, 1), np.nan)
    off = rows & ~order & (wl > 0) & ~np.isnan(pct_file) & (np.abs(100.0 * pct_file - pct) > PCT_TOLERANCE)
    for i in np.flatnonzero(off):
        parsed.rejected.append((t.excel_row(int(i)), PCT6, f"{where}the file's {100 * pct_file[i]:.2f}% differs from "
                                                           f"{o6[i]:,.0f} / {wl[i]:,.0f} = {pct[i]:.2f}%"))
    return rows & ~order & ~off


def _observations(codes, period, vals: dict[str, np.ndarray], suffix: str = "") -> pd.DataFrame:
    activity = np.nansum([vals[c] for c in ACTIVITY], axis=0)
    return observations(codes, period,
                        counts={"dm01_waiting_list" + suffix: vals[WAITING], "dm01_over_6w" + suffix: vals[OVER6],
                                "dm01_over_13w" + suffix: vals[OVER13], "dm01_activity" + suffix: activity},
                        ratios={"dm01_over_6w_pct" + suffix: (vals[OVER6], vals[WAITING]),
                                "dm01_over_13w_pct" + suffix: (vals[OVER13], vals[WAITING])})


def _by_test(data: bytes, file: str, period: str, provider_totals: dict[str, dict], parsed: Parsed) -> pd.DataFrame:
    """Sheet "Provider by Test": one row per provider and test (Diagnostic ID 1-15) and the provider's "Total" (16),
    stored as breakdowns ``<indicator>:<test>``.  Each provider's tests must add up to its Total row and that row
    must equal the provider's row in sheet "Provider", or the file is refused."""
    t = read_table(data, file, BY_TEST, [CODE, NAME, TEST_ID, TEST, WAITING, OVER6, OVER13, PCT6, *ACTIVITY])
    code = np.array(["" if pd.isna(v) else str(v).strip() for v in t.frame[CODE]], dtype=object)
    test = np.array([str(v).strip() for v in t.frame[TEST]], dtype=object)
    rows = code != ""
    is_total = rows & np.array([norm_label(x) == "total" for x in test])
    tests = rows & ~is_total
    vals, pct_file = _counts(t)
    frame = pd.DataFrame({"code": code, **{c: np.nan_to_num(v) for c, v in vals.items()}})
    sums = frame[tests].groupby("code").sum()
    totals = frame[is_total].set_index("code")
    if totals.index.duplicated().any() or set(sums.index) - set(totals.index):
        bad = sorted(set(totals.index[totals.index.duplicated()]) | (set(sums.index) - set(totals.index)))
        raise IngestError(file, f"sheet {t.sheet!r}: providers without exactly one Total row: {', '.join(bad[:5])}")
    for c in vals:
        diff = (sums[c].reindex(totals.index, fill_value=0) - totals[c]).abs()
        if (diff > 0.5).any():
            o = diff.idxmax()
            raise IngestError(file, f"sheet {t.sheet!r}: provider {o}'s tests sum to {sums[c].get(o, 0):,.0f} in "
                                    f"'{c}' but its Total row says {totals.loc[o, c]:,.0f} — the file may be cut or "
                                    "edited")
        want = pd.Series({o: np.nan_to_num(v) for o, v in provider_totals[c].items()})
        diff = (totals[c] - want.reindex(totals.index)).abs()
        if (diff.fillna(np.inf) > 0.5).any():
            o = diff.fillna(np.inf).idxmax()
            raise IngestError(file, f"sheet {t.sheet!r}: provider {o}'s Total row says {totals.loc[o, c]:,.0f} in "
                                    f"'{c}' but sheet {SHEET!r} says {want.get(o, np.nan):,.0f}")
    keep = _consistent(t, vals, pct_file, tests, parsed)
    suffix = np.array([":" + breakdown_code(x) for x in test], dtype=object)
    frames = [_observations(code[m], period, {c: v[m] for c, v in vals.items()}, sfx)
              for sfx in sorted(set(suffix[keep])) for m in [keep & (suffix == sfx)]]
    parsed.notes.append(f"sheet {t.sheet!r}: {int(keep.sum()):,} provider x test rows; every provider's tests add up "
                        f"to its Total row and to sheet {SHEET!r}")
    return pd.concat(frames, ignore_index=True) if frames else observations(np.array([]), period)


def load_dm01(path: str | Path, engine=None, period: str | None = None, **batch_opts):
    return load_file(KIND, path, parse_dm01, engine, period=period, **batch_opts)
