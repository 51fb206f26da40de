"""NHS England KH03 "Bed availability and occupancy": beds open overnight, quarterly, sheet "NHS Trust by Sector".

The sheet has a title block (Title, Summary, Period "July to September 2024", Source, Basis, Published, Revised,
Status, Contact), then a row of group labels ("Available", "Occupied", "% Occupied") over the header row ("Year",
"Period End", "Region Code", "Org Code", "Org Name", and per group "Total", "General & Acute", "Learning
Disabilities", "Maternity", "Mental Illness"), an England row (no code), a blank row and one row per trust.  The
table is found by its header row and each column by its group label (:meth:`partnering.ingest.workbook.Table.
group_label`), never by a fixed position.  Figures are the **average daily number** of beds open overnight over
the quarter (KH03 definition), so they are not whole numbers.

Stored per trust (and England, as ``ENG``) for the quarter, under the quarter's last month (``Year`` 2024-25 and
``Period End`` September: ``2024-09``; :mod:`partnering.ingest.national`):

* general & acute (G&A) beds available and occupied, and % occupied (occupied / available, in percent);
* all sectors: beds available, occupied and % occupied; and the % occupied of maternity, mental illness and
  learning disabilities beds as breakdowns (``beds_occupancy_pct:maternity`` ...).

Checks: the quarter read from Year and Period End must agree with the title block's "Period:"; each trust's %
occupied must equal its occupied / available (the file's own figure, to 0.01 points) or the row is rejected; the
trusts must add up to the England row on available and occupied beds (to 1 bed), or the file is refused.  "-" in a
% column means no beds of that sector (no value).  The title block's "Published:" (or a later "Revised:") date is
the publication date.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed
from partnering.ingest.national import ENGLAND_CODE, ENGLAND_KIND, ENGLAND_NAME, financial_year_month, load_workbooks
from partnering.ingest.values import month_from_text, parse_numbers
from partnering.ingest.workbook import read_table

KIND = "beds-overnight"
SHEET = "NHS Trust by Sector"
REQUIRED = ["Year", "Period End", "Org Code", "Org Name", "General & Acute", "Maternity", "Mental Illness"]
SECTORS = {"total": "total", "general & acute": "ga", "learning disabilities": "learning_disabilities",
           "maternity": "maternity", "mental illness": "mental_illness"}
GROUPS = {"available": "available", "occupied": "occupied", "% occupied": "pct"}
ADD_UP_TOLERANCE = 1.0  # beds: the England row is the sum of the trusts' averages (floating point, not rounding)
PCT_TOLERANCE = 0.01  # percentage points between the file's % occupied and occupied / available


def parse_beds(data: bytes, file: str) -> Parsed:
    t = read_table(data, file, SHEET, REQUIRED)
    f = t.frame
    group_row = t.header_row - 1
    cols: dict[tuple[str, str], str] = {}
    for c in f.columns:
        sector = SECTORS.get(re.sub(r"\.\d+$", "", c).strip().lower())  # repeated labels carry a ".1" suffix
        group = GROUPS.get(str(t.group_label(c, group_row) or "").strip().lower())
        if sector and group:
            cols[(group, sector)] = c
    missing = [f"{g} {s}" for g in GROUPS.values() for s in ("total", "ga") if (g, s) not in cols]
    if missing:
        raise IngestError(file, f"sheet {t.sheet!r} lacks the columns for {', '.join(missing)} (the 'Available', "
                                "'Occupied' and '% Occupied' groups over the sector columns)", row=t.header_row)
    code = f[t.column("Org Code")].map(lambda v: "" if pd.isna(v) else str(v).strip().upper()).to_numpy(dtype=object)
    name = f[t.column("Org Name")].map(lambda v: "" if pd.isna(v) else str(v).strip()).to_numpy(dtype=object)
    rows = np.asarray(t.rows)
    england = (code == "") & (np.char.lower(name.astype(str)) == "england")
    if england.sum() != 1:
        raise IngestError(file, f"sheet {t.sheet!r} has {int(england.sum())} England rows; expected one (a cut file "
                                "cannot supersede good data)")
    code[england] = ENGLAND_CODE
    used = code != ""
    period = _period(t, f, file)
    parsed = Parsed(kind=KIND, file=file, period=period, published_on=t.published_on(), rows_read=int(used.sum()))
    vals: dict[tuple[str, str], np.ndarray] = {}
    bad_any = np.zeros(len(f), dtype=bool)
    unreadable: set[tuple[str, str]] = set()  # columns with a cell that is not a number: no England check on them
    for key, c in cols.items():
        v, bad = parse_numbers(f[c].to_numpy(dtype=object), dash_is_zero=False)
        if key[0] == "pct":
            v = v * 100.0  # the file gives fractions (0.8924); the store keeps percent points
        vals[key] = v
        for i in np.flatnonzero(bad & used):
            parsed.rejected.append((int(rows[i]), c, f"'{str(f[c].iat[i]).strip()}' is not a number"))
        neg = used & ~bad & (v < 0)
        for i in np.flatnonzero(neg):
            parsed.rejected.append((int(rows[i]), c, f"negative value {v[i]:g} is impossible"))
        bad_any |= (bad | neg) & used
        if (bad & used).any():
            unreadable.add(key)
    _check_england(file, code, used, vals, rows, cols, unreadable)
    if unreadable:
        parsed.notes.append("not checked against England (a cell that is not a number): "
                            + ", ".join(f"{g} {s}" for g, s in sorted(unreadable)))
    keep = used & ~bad_any
    frames = []
    for sector in sorted({s for _, s in cols}):
        avail, occ, pct = (vals.get((g, sector)) for g in ("available", "occupied", "pct"))
        if avail is None or occ is None:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            ours = np.where(avail > 0, 100.0 * occ / np.where(avail > 0, avail, 1), np.nan)
        if pct is not None:
            off = keep & ~np.isnan(pct) & ~np.isnan(ours) & (np.abs(ours - pct) > PCT_TOLERANCE)
            for i in np.flatnonzero(off):
                parsed.rejected.append((int(rows[i]), cols[("pct", sector)],
                                        f"% occupied {pct[i]:.2f} is not occupied / available = {ours[i]:.2f}"))
            keep &= ~off
        base, suffix = ("beds_ga", "") if sector == "ga" else ("beds", "" if sector == "total" else f":{sector}")
        frames.append((base, suffix, avail, occ, ours))
    k = np.flatnonzero(keep)
    out = []
    for base, suffix, avail, occ, ours in frames:
        for ind, value, num, den in ((f"{base}_occupancy_pct{suffix}", ours, occ, avail),
                                     *(((f"{base}_available", avail, None, None), (f"{base}_occupied", occ, None, None))
                                       if not suffix else ())):
            m = ~np.isnan(value[k])
            out.append(pd.DataFrame({
                "org_code": code[k][m], "indicator": ind, "period": period,
                "numerator": np.nan if num is None else num[k][m], "denominator": np.nan if den is None else den[k][m],
                "value": value[k][m], "line": rows[k][m]}))
    parsed.observations = pd.concat(out, ignore_index=True)
    dup = pd.Series(code[k]).duplicated()
    if dup.any():
        i = k[np.flatnonzero(dup.to_numpy())[0]]
        raise IngestError(file, f"organisation {code[i]} appears on more than one row", row=int(rows[i]))
    parsed.organisations_seen = pd.DataFrame({
        "org_code": code[k], "name": np.where(code[k] == ENGLAND_CODE, ENGLAND_NAME, name[k]),
        "kind": [ENGLAND_KIND if c == ENGLAND_CODE else None for c in code[k]]})
    parsed.rows_loaded = len(k)
    parsed.notes.append(f"quarter ending {period}; trusts add up to the England row"
                        + (" on the columns checked" if unreadable else ""))
    return parsed


def _period(t, f, file: str) -> str:
    years = {str(v).strip() for v in f[t.column("Year")] if not pd.isna(v)}
    ends = {str(v).strip() for v in f[t.column("Period End")] if not pd.isna(v)}
    if len(years) != 1 or len(ends) != 1:
        raise IngestError(file, f"sheet {t.sheet!r} mixes periods (Year {sorted(years)}, Period End {sorted(ends)})")
    period = financial_year_month(next(iter(years)), next(iter(ends)))
    if period is None:
        raise IngestError(file, f"the quarter cannot be read from Year {next(iter(years))!r} and Period End "
                                f"{next(iter(ends))!r}", column="Period End")
    said = t.title_value("Period:")
    if said and month_from_text(said) not in (None, period):
        raise IngestError(file, f"the title block's Period {said!r} disagrees with the table's quarter ending "
                                f"{period}")
    return period


def _check_england(file, code, used, vals, rows, cols, unreadable) -> None:
    eng = int(np.flatnonzero(code == ENGLAND_CODE)[0])
    trusts = used & (code != ENGLAND_CODE)
    for key in (("available", "total"), ("occupied", "total"), ("available", "ga"), ("occupied", "ga")):
        if key in unreadable:
            continue
        v = np.nan_to_num(vals[key])
        s = float(v[trusts].sum())
        if abs(s - v[eng]) > ADD_UP_TOLERANCE:
            raise IngestError(file, f"trusts sum to {s:,.1f} {key[0]} beds ({cols[key]}) but the England row says "
                                    f"{v[eng]:,.1f} (difference {s - v[eng]:+,.1f}): the file may be cut or edited",
                              row=int(rows[eng]), column=cols[key])


def load_beds(path: str | Path, engine=None, **batch_opts):
    """Load a KH03 beds open overnight workbook, or every workbook in a folder."""
    return load_workbooks(KIND, path, parse_beds, engine, **batch_opts)
