"""NHS England Cancer Waiting Times: the CWT CRS provider data extract (.xlsx, several months per file).

Sheet "CWT CRS Provider Extract": one row per month (PERIOD) x STANDARD x provider (ORG CODE) x STAGE/ROUTE x
TREATMENT MODALITY x CANCER TYPE, with TOTAL TREATED, WITHIN STANDARD and BREACHES (halves occur where two providers
share a treatment).  Source: NHS England, Cancer Waiting Times,
https://www.england.nhs.uk/statistics/statistical-work-areas/cancer-waiting-times/ .

**The headline measures** (NHS England, "Cancer Waiting Times: changes to standards from 1 October 2023", and
"National Cancer Waiting Times Monitoring Dataset Guidance" v12.0, which define three standards replacing the nine
before October 2023), per provider and month, each numerator WITHIN STANDARD over denominator TOTAL TREATED summed
over every row of its standard:

* ``cwt_fds_28d_pct`` — STANDARD "28-day FDS": told of a diagnosis or that cancer is ruled out within 28 days, over
  all routes (urgent suspected cancer referral, breast symptomatic with cancer not suspected, screening);
* ``cwt_31d_pct`` — STANDARD "31-day Combined": decision to treat to treatment within 31 days, first and subsequent
  treatments together;
* ``cwt_62d_pct`` — STANDARD "62-day Combined": urgent referral (suspected cancer, breast symptomatic, screening,
  consultant upgrade) to first definitive treatment within 62 days.

Each standard is also stored per CANCER TYPE (summed over routes) as a breakdown ``<indicator>:<cancer type>``
(e.g. ``cwt_62d_pct:lung``, ``cwt_fds_28d_pct:suspected_lung_cancer``), which the faces leave out unless asked.

For the 31- and 62-day standards each route appears twice, once by cancer type (TREATMENT MODALITY "ALL
MODALITIES") and once by treatment modality (CANCER TYPE "ALL CANCERS"); only the by-cancer-type rows are summed, and
the two partitions must agree for every provider, month, standard and route or the file is refused (a cut or
edited file).  Summed this way the England figures equal NHS England's published headlines (e.g. March 2025: FDS
78.9%, 62-day 71.4%; tests/integration/test_cancer_waiting_times_real.py).  Rows of any other STANDARD (the pre-October
2023 standards) are not used and the batch note names them.

The months come from the PERIOD column (a date or text per row; the batch's period is the file's last month and
the note gives the range).  The extract has no title block, so no publication date: give ``--published`` or the
load date stands in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed, load_file
from partnering.ingest.sheets import breakdown_code, numbers, observations, refuse_negative
from partnering.ingest.values import month_from_text
from partnering.ingest.workbook import norm_label, read_table

KIND = "cancer-waiting-times"
SHEET = "CWT CRS Provider Extract"
PERIOD, STANDARD, ORG, ROUTE, MODALITY, CANCER = ("PERIOD", "STANDARD", "ORG CODE", "STAGE/ROUTE",
                                                  "TREATMENT MODALITY", "CANCER TYPE")
TOTAL, WITHIN, BREACHES = "TOTAL TREATED", "WITHIN STANDARD", "BREACHES"
#: STANDARD label (normalised) -> indicator
STANDARDS = {"28-day fds": "cwt_fds_28d_pct", "31-day combined": "cwt_31d_pct", "62-day combined": "cwt_62d_pct"}
ALL_MODALITIES, ALL_CANCERS = "all modalities", "all cancers"


#: Excel's day 0 for date serials (its 1900 date system); serials from 1990 to 2099 are taken as dates
EXCEL_EPOCH, SERIALS = pd.Timestamp("1899-12-30"), (32874, 73050)


def _month(v) -> str | None:
    """A PERIOD cell as 'YYYY-MM': a date, an Excel date serial (MANIFEST: dates may be serials) or text."""
    if isinstance(v, (pd.Timestamp,)) or hasattr(v, "strftime"):
        return v.strftime("%Y-%m")
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        ok = SERIALS[0] <= v <= SERIALS[1] and float(v).is_integer()
        return (EXCEL_EPOCH + pd.Timedelta(days=int(v))).strftime("%Y-%m") if ok else None
    return month_from_text(str(v or ""))


def _each_distinct(col: pd.Series, fn) -> np.ndarray:
    """``fn`` of every cell, computed once per distinct value (a few dozen among ~60,000 rows)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    done = np.array([fn(u) for u in uniques] + [fn(None)], dtype=object)
    return done[np.where(codes < 0, len(uniques), codes)]


def parse_cancer(data: bytes, file: str) -> Parsed:
    t = read_table(data, file, SHEET, [PERIOD, STANDARD, ORG, ROUTE, MODALITY, CANCER, TOTAL, WITHIN])
    fr = t.frame
    if fr.empty:
        raise IngestError(file, f"sheet {t.sheet!r} has a header but no rows")
    total, within = numbers(t, TOTAL, dash_is_zero=True), numbers(t, WITHIN, dash_is_zero=True)
    for c, v in ((TOTAL, total), (WITHIN, within)):
        refuse_negative(t, c, v)
    total, within = np.nan_to_num(total), np.nan_to_num(within)
    over = np.flatnonzero(within > total + 1e-9)
    if len(over):
        i = int(over[0])
        raise IngestError(file, f"sheet {t.sheet!r}: {WITHIN} {within[i]:g} exceeds {TOTAL} {total[i]:g}",
                          row=t.excel_row(i), column=WITHIN)
    if BREACHES in fr.columns:
        breaches = np.nan_to_num(numbers(t, BREACHES, dash_is_zero=True))
        off = np.flatnonzero(np.abs(within + breaches - total) > 1e-6)
        if len(off):
            i = int(off[0])
            raise IngestError(file, f"sheet {t.sheet!r}: {WITHIN} {within[i]:g} + {BREACHES} {breaches[i]:g} is not "
                                    f"{TOTAL} {total[i]:g}", row=t.excel_row(i), column=BREACHES)
    month = _each_distinct(fr[PERIOD], _month)
    bad = np.flatnonzero(pd.isna(month))
    if len(bad):
        i = int(bad[0])
        raise IngestError(file, f"sheet {t.sheet!r}: '{fr[PERIOD].iat[i]}' is not a month", row=t.excel_row(i),
                          column=PERIOD)
    named = next((c for c in fr.columns if norm_label(c) == "month"), None)  # "APR": must agree with PERIOD
    if named is not None:
        said = _each_distinct(fr[named], lambda v: None if v is None else month_from_text(f"{v} 2000"))
        off = np.flatnonzero([m is not None and m[5:] != p[5:] for m, p in zip(said, month)])
        if len(off):
            i = int(off[0])
            raise IngestError(file, f"sheet {t.sheet!r}: {named} '{fr[named].iat[i]}' disagrees with {PERIOD} "
                                    f"{month[i]}", row=t.excel_row(i), column=named)
    org = fr[ORG].map(lambda v: "" if pd.isna(v) else str(v).strip()).to_numpy(dtype=object)
    empty = np.flatnonzero(org == "")
    if len(empty):
        raise IngestError(file, f"sheet {t.sheet!r}: a row without an organisation code",
                          row=t.excel_row(int(empty[0])), column=ORG)
    std, route, modality, cancer = (_each_distinct(fr[c], norm_label) for c in (STANDARD, ROUTE, MODALITY, CANCER))
    known = np.isin(std, list(STANDARDS))
    df = pd.DataFrame({"month": month, "std": std, "org": org, "route": route, "modality": modality,
                       "cancer": cancer, "total": total, "within": within, "row": np.asarray(t.rows)})[known]
    dup = df.duplicated(["month", "std", "org", "route", "modality", "cancer"], keep=False)
    if dup.any():
        r = df[dup].iloc[1]
        raise IngestError(file, f"sheet {t.sheet!r}: {r.org} {r.month} {r.std} / {r.route} / {r.modality} / "
                                f"{r.cancer} appears on more than one row", row=int(r.row))
    # 31/62-day: each route is given by cancer type (ALL MODALITIES) and by modality (ALL CANCERS); keep one, check
    by_type = (df["std"] == "28-day fds") | (df["modality"] == ALL_MODALITIES)
    by_modality = (df["std"] != "28-day fds") & (df["modality"] != ALL_MODALITIES) & (df["cancer"] == ALL_CANCERS)
    stray = df[~by_type & ~by_modality]
    if len(stray):
        r = stray.iloc[0]
        raise IngestError(file, f"sheet {t.sheet!r}: a {r.std} row that is neither by cancer type (ALL MODALITIES) "
                                f"nor by modality (ALL CANCERS): modality '{r.modality}', cancer type '{r.cancer}'",
                          row=int(r.row), column=MODALITY)
    key = ["org", "month", "std", "route"]
    a = df[by_type & (df["std"] != "28-day fds")].groupby(key)[["total", "within"]].sum()
    b = df[by_modality].groupby(key)[["total", "within"]].sum()
    both = a.merge(b, how="outer", left_index=True, right_index=True, suffixes=("", "_m")).fillna(0.0)
    off = both[((both["total"] - both["total_m"]).abs() > 1e-6) | ((both["within"] - both["within_m"]).abs() > 1e-6)]
    if len(off):
        (o, m, s, r), v = off.index[0], off.iloc[0]
        raise IngestError(file, f"sheet {t.sheet!r}: {o} {m} {s} / {r}: the rows by cancer type give {v.total:g} "
                                f"treated ({v.within:g} within standard) but the rows by treatment modality give "
                                f"{v.total_m:g} ({v.within_m:g}) ({len(off)} such groups) — the file may be cut or "
                                "edited")
    rows = df[by_type]
    head = rows.groupby(["org", "month", "std"])[["total", "within"]].sum().reset_index()
    head["indicator"] = head["std"].map(STANDARDS)
    # the same standards per cancer type, as breakdowns '<indicator>:<cancer type>' (like RTT's treatment functions)
    types = rows.groupby(["org", "month", "std", "cancer"])[["total", "within"]].sum().reset_index()
    types["indicator"] = types["std"].map(STANDARDS) + ":" + _each_distinct(types["cancer"], breakdown_code)
    parsed = Parsed(kind=KIND, file=file, rows_read=len(fr))
    frames = [observations(g["org"].to_numpy(), g["month"].to_numpy(),
                           ratios={ind: (g["within"].to_numpy(), g["total"].to_numpy())})
              for ind, g in pd.concat([head, types]).groupby("indicator")]
    parsed.observations = pd.concat(frames, ignore_index=True) if frames else observations(np.array([]), None)
    months = sorted(set(df["month"]))
    if not months:
        raise IngestError(file, f"sheet {t.sheet!r} has no rows of the standards "
                                + ", ".join(repr(s) for s in STANDARDS))
    parsed.period = months[-1]
    parsed.notes.append(f"months {months[0]} to {months[-1]}" if len(months) > 1 else f"month {months[0]}")
    others = sorted(set(fr[STANDARD][~known].astype(str)))
    if others:
        parsed.notes.append(f"{int((~known).sum()):,} rows of other standards not used: {', '.join(others)}")
    codes = sorted(set(parsed.observations["org_code"]))
    parsed.organisations_seen = pd.DataFrame({"org_code": codes, "name": [None] * len(codes)})
    parsed.rows_loaded = int(known.sum())
    return parsed


def load_cancer(path: str | Path, engine=None, **batch_opts):
    return load_file(KIND, path, parse_cancer, engine, **batch_opts)
