"""NHS England Ambulance Quality Indicators: the Systems Indicators (AmbSYS) time series workbook.

The workbook's "Response times" and "Handovers" sheets are dashboards that show one area at a time (a drop-down
picks England, a region or a trust); every area's figures are in its "Raw" sheet, one row per month and area
(``Year`` 2017-18, ``Month`` AUGUST, ``Area`` ENG / region Y5x / trust code, ``Trust`` name) and one column per
AmbSYS data item (``A8`` C1 incidents, ``A24`` C1 total response time, ``A25`` C1 mean, ``A26`` C1 90th centile,
...; the item specification is on the AQI page, https://www.england.nhs.uk/statistics/statistical-work-areas/
ambulance-quality-indicators/).  The loader reads "Raw", found by its header row (``Year``, ``Month``, ``Area``,
``A8``, ``A25`` ...), never by a fixed row number.

Units.  Response and handover times in "Raw" are whole **seconds** (checked on the file: England August 2017 C1
``A25`` = 554 is the "00:09:14" the Response times sheet shows, and ``A24`` / ``A8`` = 554.2); they are stored in
**minutes** (seconds / 60), the unit of the standards.

Derived per ambulance trust (and England, stored as ``ENG``) and month:

* C1, C2, C3 mean and 90th centile response times, C4 90th centile (minutes);
* C1, C2 and all incidents (counts);
* handovers (from October 2023, when the items start): handovers with a known time, mean and 90th centile
  handover time (minutes), % of handovers over 15, 30 and 60 minutes (of handovers with a known time, as the
  Handovers sheet's "Proportion of handovers" does: ``A144``/``A145``/``A146`` over ``A140``).

Region rows (Y5x: the regions with more than one ambulance service) are not stored: they are sums of their trusts.
"-" means "not available" (a month a service did not report): no value, not zero.  A non-numeric cell rejects its
row (sheet row, column, reason).  The trusts must add up to the England row in every month on incidents, total C1
response time and handovers, or the file is refused (a cut or edited file cannot supersede good data).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed
from partnering.ingest.national import ENGLAND_CODE, ENGLAND_KIND, ENGLAND_NAME, financial_year_month, load_workbooks
from partnering.ingest.values import date_from_text, parse_numbers
from partnering.ingest.workbook import read_table

KIND = "ambulance-ambsys"
SHEET = "Raw"

# indicator -> (AmbSYS item, how it is stored); times are seconds in the file, minutes in the store
TIMES = {
    "amb_c1_mean_min": "A25", "amb_c1_p90_min": "A26",
    "amb_c2_mean_min": "A31", "amb_c2_p90_min": "A32",
    "amb_c3_mean_min": "A34", "amb_c3_p90_min": "A35",
    "amb_c4_p90_min": "A38",
    "amb_handover_mean_min": "A142", "amb_handover_p90_min": "A143",
}
COUNTS = {"amb_incidents_all": "A7", "amb_incidents_c1": "A8", "amb_incidents_c2": "A10", "amb_handovers": "A140"}
# % of handovers with a known time that took longer than 15 / 30 / 60 minutes
SHARES = {"amb_handover_over15_pct": "A144", "amb_handover_over30_pct": "A145", "amb_handover_over60_pct": "A146"}
ADD_UP = ("A7", "A8", "A10", "A24", "A140")  # items the trusts must sum to England on, every month
REQUIRED = ["Year", "Month", "Area", "Trust", "A7", "A8", "A24", "A25", "A26", "A31", "A32"]
_OPTIONAL = ("A10", "A34", "A35", "A38", "A140", "A142", "A143", "A144", "A145", "A146")


def parse_ambsys(data: bytes, file: str) -> Parsed:
    t = read_table(data, file, SHEET, REQUIRED)
    f = t.frame
    col = {c: t.column(c) for c in REQUIRED}
    col.update({c: t.column(c) for c in _OPTIONAL if any(x == c for x in f.columns)})
    area = f[col["Area"]].map(lambda v: "" if pd.isna(v) else str(v).strip().upper()).to_numpy(dtype=object)
    period = np.array([financial_year_month(y, m) if not (pd.isna(y) or pd.isna(m)) else None
                       for y, m in zip(f[col["Year"]], f[col["Month"]])], dtype=object)
    sheet_rows = np.asarray(t.rows)
    parsed = Parsed(kind=KIND, file=file, published_on=_published(data, file))
    is_region = np.array([bool(re.fullmatch(r"Y\d\d", a)) for a in area])
    used = (area != "") & ~is_region
    bad_period = used & (period == None)  # noqa: E711 (element-wise on an object array)
    for i in np.flatnonzero(bad_period):
        raise IngestError(file, f"the month cannot be read from Year {f[col['Year']].iat[i]!r} and Month "
                                f"{f[col['Month']].iat[i]!r}", row=int(sheet_rows[i]), column=col["Month"])
    parsed.rows_read = int(used.sum())
    items = [c for c in (*REQUIRED[4:], *_OPTIONAL) if c in col]
    vals: dict[str, np.ndarray] = {}
    bad_any = np.zeros(len(f), dtype=bool)
    bads: dict[str, np.ndarray] = {}
    for item in items:
        v, bad = parse_numbers(f[col[item]].to_numpy(dtype=object), dash_is_zero=False)
        vals[item] = v
        for i in np.flatnonzero(bad & used):
            parsed.rejected.append((int(sheet_rows[i]), col[item],
                                    f"'{str(f[col[item]].iat[i]).strip()}' is not a number (seconds or a count)"))
        bad_any |= bad
        bads[item] = bad
        neg = used & ~bad & (v < 0)
        for i in np.flatnonzero(neg):
            parsed.rejected.append((int(sheet_rows[i]), col[item], f"negative value {v[i]:g} is impossible"))
        bad_any |= neg
    unchecked = _check_england(file, area, period, used, vals, bads, sheet_rows, col)
    keep = used & ~bad_any
    dup = pd.DataFrame({"a": area[keep], "p": period[keep]}).duplicated()
    if dup.any():
        i = np.flatnonzero(keep)[np.flatnonzero(dup.to_numpy())[0]]
        raise IngestError(file, f"area {area[i]} appears twice for {period[i]}", row=int(sheet_rows[i]))
    k = np.flatnonzero(keep)
    frames = []

    def add(ind, value, numerator=None, denominator=None):
        m = ~np.isnan(value[k])
        frames.append(pd.DataFrame({
            "org_code": area[k][m], "indicator": ind, "period": period[k][m],
            "numerator": np.nan if numerator is None else numerator[k][m],
            "denominator": np.nan if denominator is None else denominator[k][m],
            "value": value[k][m], "line": sheet_rows[k][m]}))

    for ind, item in TIMES.items():
        if item in vals:
            add(ind, vals[item] / 60.0)
    for ind, item in COUNTS.items():
        if item in vals:
            add(ind, vals[item])
    if "A140" in vals:
        known = vals["A140"]
        for ind, item in SHARES.items():
            if item in vals:
                with np.errstate(invalid="ignore", divide="ignore"):
                    pct = np.where(known > 0, 100.0 * vals[item] / np.where(known > 0, known, 1), np.nan)
                add(ind, pct, vals[item], known)
    obs = pd.concat(frames, ignore_index=True)
    parsed.observations = obs
    if unchecked:
        parsed.notes.append("not checked against England (a cell that is not a number): " + ", ".join(unchecked))
    names = f[col["Trust"]].to_numpy(dtype=object)[k]
    seen = pd.DataFrame({"org_code": area[k], "name": [n if isinstance(n, str) else "" for n in names]})
    seen = seen.drop_duplicates("org_code", keep="last")  # months run down the sheet: the latest spelling of a name
    seen.loc[seen["org_code"] == ENGLAND_CODE, "name"] = ENGLAND_NAME
    seen["kind"] = [ENGLAND_KIND if c == ENGLAND_CODE else ("ambulance_trust" if "AMBULANCE" in n.upper() else None)
                    for c, n in zip(seen["org_code"], seen["name"])]
    parsed.organisations_seen = seen.reset_index(drop=True)
    parsed.rows_loaded = len(k)
    periods = sorted(set(period[k]))
    if periods:
        parsed.period = periods[-1]
        parsed.notes.append(f"{periods[0]} to {periods[-1]}; trusts add up to England in every month checked; "
                            f"{int(is_region.sum())} region rows "
                            "not stored (sums of their trusts)")
    return parsed


def _check_england(file, area, period, used, vals, bads, sheet_rows, col) -> list[str]:
    """Refuse the file unless the trusts add up to the England row, month by month, on :data:`ADD_UP`.

    A month where a cell of the item is not a number (its row is rejected) cannot be checked on that item: the
    months and items left unchecked are returned for the batch note."""
    eng = used & (area == ENGLAND_CODE)
    if not eng.any():
        raise IngestError(file, f"sheet {SHEET!r} has no England (ENG) rows: it may be cut; refusing it so that it "
                                "cannot supersede good data")
    trusts = used & (area != ENGLAND_CODE)
    unchecked = []
    for item in (c for c in ADD_UP if c in vals):
        v = np.nan_to_num(vals[item])
        sums = pd.Series(v[trusts]).groupby(period[trusts]).sum()
        broken = set(period[used & bads[item]])
        for i in np.flatnonzero(eng):
            if period[i] in broken:
                unchecked.append(f"{item} {period[i]}")
                continue
            s = float(sums.get(period[i], 0.0))
            if abs(s - v[i]) > 0.5:
                raise IngestError(file, f"{period[i]}: trusts sum to {s:,.0f} on {item} but the England row says "
                                        f"{v[i]:,.0f} (difference {s - v[i]:+,.0f})", row=int(sheet_rows[i]),
                                  column=col[item])
    return unchecked


def _published(data: bytes, file: str):
    """The "Published" date on the workbook's Introduction sheet, where it has one."""
    try:
        intro = read_table(data, file, "Introduction", ["Produced by"])
    except IngestError:
        return None
    for cells in intro.frame.itertuples(index=False):
        filled = [c for c in cells if not pd.isna(c)]
        if len(filled) >= 2 and str(filled[0]).strip().lower() == "published":
            return date_from_text(str(filled[1])[:10])
    return None


def load_ambsys(path: str | Path, engine=None, **batch_opts):
    """Load the AmbSYS time series workbook (or every workbook in a folder)."""
    return load_workbooks(KIND, path, parse_ambsys, engine, **batch_opts)
