"""NHS England "A&E Attendances and Emergency Admissions" (monthly, provider level).

Accepts the three CSV layouts published since April 2019 and the official
monthly ``.xls`` workbook (sheet "Provider Level Data"):

* Apr 2019 – Mar 2020: 16 columns, "Number of A&E attendances Type 1", ...
* Apr 2020 – Jul 2020: 16 columns, "A&E attendances Type 1", ...
* from Aug 2020: 22 columns, adding booked-appointment attendances and breaches.

Columns are recognised by what their names say, not by position, so a
reordered or renamed-within-reason file still loads; junk trailing columns with
no header are ignored.  The England total row (spelled "TOTAL", "Total",
"TOTAl", "Total " or with a blank code) must be present and the provider rows
must add up to it in every column, otherwise the file is refused with the
difference shown: a truncated or hand-edited file can never supersede good data.

Derived per organisation and month (indicator codes in the catalogue):
attendances by type (booked appointments included, as NHS England's headline
figures do) and in total; attendances over 4 hours; % within 4 hours (type 1
and all types); emergency admissions (via A&E, and in total); decisions to
admit waiting over 4 and over 12 hours.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed, decode_text, load_file
from partnering.ingest.values import date_from_text, month_from_text, parse_numbers

KIND = "ae-monthly"

# canonical field -> test on the normalised column name
_FIELDS: dict[str, tuple[str, ...]] = {
    # (must contain all of these words...)
    "att_t1": ("attendances", "type 1"),
    "att_t2": ("attendances", "type 2"),
    "att_other": ("attendances", "other"),
    "booked_t1": ("attendances", "booked", "type 1"),
    "booked_t2": ("attendances", "booked", "type 2"),
    "booked_other": ("attendances", "booked", "other"),
    "over_t1": ("over 4", "type 1"),
    "over_t2": ("over 4", "type 2"),
    "over_other": ("over 4", "other"),
    "over_booked_t1": ("over 4", "booked", "type 1"),
    "over_booked_t2": ("over 4", "booked", "type 2"),
    "over_booked_other": ("over 4", "booked", "other"),
    "dta_4_12": ("4-12", "dta"),
    "dta_12": ("12+", "dta"),
    "adm_t1": ("emergency admissions via", "type 1"),
    "adm_t2": ("emergency admissions via", "type 2"),
    "adm_other": ("emergency admissions via", "other"),
    "adm_not_ae": ("other emergency admissions",),
}
_REQUIRED = (
    "att_t1",
    "att_t2",
    "att_other",
    "over_t1",
    "over_t2",
    "over_other",
    "dta_4_12",
    "dta_12",
    "adm_t1",
    "adm_t2",
    "adm_other",
    "adm_not_ae",
)
TOTAL_SPELLINGS = {"TOTAL", ""}


def _norm(name: str) -> str:
    n = re.sub(r"\s+", " ", str(name).strip().lower())
    n = n.replace("number of ", "").replace("hrs", "hours").replace("hours", "hours")
    n = n.replace("over 4hours", "over 4 hours").replace("over 4 hours", "over 4")
    n = n.replace("type1", "type 1").replace("type2", "type 2")
    return n


def _match_columns(columns: list[str], file: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for col in columns:
        n = _norm(col)
        if not n or n.startswith("unnamed"):
            continue
        candidates = []
        for field, words in _FIELDS.items():
            if all(w in n for w in words):
                booked = "booked" in n
                if booked != ("booked" in field):
                    continue
                if field.startswith("att_") or field.startswith("booked_"):
                    if "over 4" in n or "admission" in n:
                        continue
                candidates.append(field)
        if len(candidates) == 1:
            if candidates[0] in found:
                raise IngestError(
                    file,
                    f"two columns look like the same field ('{found[candidates[0]]}' and '{col}')",
                    row=1,
                    column=col,
                )
            found[candidates[0]] = col
    missing = [f for f in _REQUIRED if f not in found]
    if missing:
        raise IngestError(
            file,
            "is not an A&E provider file in any of the three layouts published since April 2019: no column for "
            + ", ".join(missing),
            row=1,
        )
    return found


def parse_ae_csv(data: bytes, file: str, period: str | None = None) -> Parsed:
    text = decode_text(data, file)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(file, f"is not a readable CSV file: {str(exc).strip()}") from None
    if raw.empty:
        raise IngestError(file, "has a header but no rows")
    cols = {c: str(c) for c in raw.columns}
    ident = {}
    for want, pattern in (("period", "period"), ("code", "org code"), ("parent", "parent org"), ("name", "org name")):
        hits = [c for c in raw.columns if _norm(c) == pattern]
        if not hits:
            raise IngestError(file, f"has no '{pattern.title()}' column", row=1)
        ident[want] = hits[0]
    fields = _match_columns([cols[c] for c in raw.columns], file)
    return _derive(raw, ident, fields, file, period, line_offset=2)


def _derive(raw: pd.DataFrame, ident: dict, fields: dict, file: str, period: str | None, line_offset: int) -> Parsed:
    code = raw[ident["code"]].astype(str).str.strip()
    parent = raw[ident["parent"]].astype(str).str.strip()
    name = raw[ident["name"]].astype(str).str.strip()
    per_label = raw[ident["period"]].astype(str).str.strip() if "period" in ident else pd.Series("", index=raw.index)
    lines = np.arange(len(raw)) + line_offset
    is_total = (
        code.str.upper().isin(TOTAL_SPELLINGS)
        | (code.str.upper() == "TOTAL")
        | (name.str.upper() == "TOTAL")
        | (parent.str.upper() == "TOTAL")
    )
    blank_row = (raw.astype(str).apply(lambda s: s.str.strip()) == "").all(axis=1)
    is_total &= ~blank_row
    parsed = Parsed(kind=KIND, file=file, rows_read=int((~blank_row).sum()))

    vals: dict[str, np.ndarray] = {}
    bad_any = np.zeros(len(raw), dtype=bool)
    for f, col in fields.items():
        v, bad = parse_numbers(raw[col], dash_is_zero=True)
        vals[f] = np.nan_to_num(v, nan=0.0)
        for i in np.flatnonzero(bad & ~blank_row.to_numpy()):
            parsed.rejected.append((int(lines[i]), col, f"'{raw[col].iloc[i].strip()}' is not a number"))
        bad_any |= bad
    for f, col in fields.items():
        neg = vals[f] < 0
        for i in np.flatnonzero(neg):
            parsed.rejected.append((int(lines[i]), col, f"negative count {vals[f][i]:g} is impossible"))
        bad_any |= neg

    # the period: from the file's own labels, else from the file name, else as given
    labels = {month_from_text(p) for p in per_label[~is_total & ~blank_row] if p}
    labels.discard(None)
    if period is None:
        if len(labels) > 1:
            raise IngestError(
                file,
                f"rows are labelled with more than one month ({', '.join(sorted(labels))})",
                column=ident.get("period"),
            )
        period = next(iter(labels), None) or month_from_text(Path(file).name)
    elif labels and labels != {period}:
        raise IngestError(
            file,
            f"--period {period} disagrees with the file's own period label {', '.join(sorted(labels))}",
            column=ident.get("period"),
        )
    if period is None:
        raise IngestError(file, "the month cannot be known: no period label in the file or its name; give --period")
    parsed.period = period

    totals = np.flatnonzero(is_total.to_numpy())
    if len(totals) == 0:
        raise IngestError(
            file,
            "has no England total row (TOTAL): it may be truncated; refusing it so that it cannot supersede good data",
        )
    if len(totals) > 1:
        raise IngestError(file, f"has {len(totals)} total rows (lines {', '.join(str(lines[i]) for i in totals)})")
    t = int(totals[0])
    provider = ~is_total.to_numpy() & ~blank_row.to_numpy()
    diffs = []
    for f, col in fields.items():
        s = vals[f][provider].sum()
        if abs(s - vals[f][t]) > 0.5:
            diffs.append(
                f"'{col}' providers sum to {s:,.0f} but the total row says {vals[f][t]:,.0f} "
                f"(difference {s - vals[f][t]:+,.0f})"
            )
    if diffs:
        raise IngestError(
            file,
            "provider rows do not add up to the England total row (line "
            f"{lines[t]}): " + "; ".join(diffs[:4]) + ("; ..." if len(diffs) > 4 else ""),
        )

    # logical impossibilities reject the row (it still counted towards the total check above)
    def g(f):
        return vals.get(f, np.zeros(len(raw)))

    att_t1 = g("att_t1") + g("booked_t1")
    att_t2 = g("att_t2") + g("booked_t2")
    att_oth = g("att_other") + g("booked_other")
    over_t1 = g("over_t1") + g("over_booked_t1")
    over_all = over_t1 + g("over_t2") + g("over_booked_t2") + g("over_other") + g("over_booked_other")
    att_all = att_t1 + att_t2 + att_oth
    impossible = provider & (over_all > att_all)
    for i in np.flatnonzero(impossible & ~bad_any):
        parsed.rejected.append(
            (
                int(lines[i]),
                fields["over_t1"],
                f"attendances over 4 hours ({over_all[i]:,.0f}) exceed attendances ({att_all[i]:,.0f})",
            )
        )
    empty_code = provider & (code == "").to_numpy()
    keep = provider & ~bad_any & ~impossible & ~empty_code
    k = np.flatnonzero(keep)
    codes = code.to_numpy()[k]
    adm_ae = g("adm_t1") + g("adm_t2") + g("adm_other")
    counts = {
        "ae_attendances_type1": att_t1,
        "ae_attendances_type2": att_t2,
        "ae_attendances_other": att_oth,
        "ae_attendances_total": att_all,
        "ae_over_4h_type1": over_t1,
        "ae_over_4h_total": over_all,
        "ae_emergency_admissions_via_ae": adm_ae,
        "ae_emergency_admissions": adm_ae + g("adm_not_ae"),
        "ae_dta_over_4h": g("dta_4_12") + g("dta_12"),
        "ae_dta_over_12h": g("dta_12"),
    }
    frames = []
    for ind, arr in counts.items():
        frames.append(
            pd.DataFrame(
                {"org_code": codes, "indicator": ind, "numerator": np.nan, "denominator": np.nan, "value": arr[k]}
            )
        )
    for ind, den, over in (("ae_4h_pct_all", att_all, over_all), ("ae_4h_pct_type1", att_t1, over_t1)):
        m = den[k] > 0
        num = (den - over)[k][m]
        frames.append(
            pd.DataFrame(
                {
                    "org_code": codes[m],
                    "indicator": ind,
                    "numerator": num,
                    "denominator": den[k][m],
                    "value": 100.0 * num / den[k][m],
                }
            )
        )
    obs = pd.concat(frames, ignore_index=True)
    obs["period"] = period
    dup = pd.Series(codes).duplicated(keep=False)
    if dup.any():
        raise IngestError(file, f"organisation {codes[dup.to_numpy()][0]} appears on more than one row")
    parsed.observations = obs
    parsed.organisations_seen = pd.DataFrame({"org_code": codes, "name": name.to_numpy()[k]})
    parsed.acute_codes = set(codes[g("att_t1")[k] > 0]) if len(k) else set()
    parsed.rows_loaded = len(k)
    parsed.notes.append(f"England total row on line {lines[t]} matches the provider rows")
    return parsed


# ---------------------------------------------------------------------------------- workbook


# count columns of the workbook carried over as they are (the 4-12 hour DTA count is derived: >4 minus >12)
_XLS_COUNTS = ("att_t1", "att_t2", "att_other", "over_t1", "over_t2", "over_other", "adm_t1", "adm_t2", "adm_other",
               "adm_not_ae", "dta_12")



def parse_ae_workbook(data: bytes, file: str, period: str | None = None) -> Parsed:
    """The monthly workbook's "Provider Level Data" sheet (England row on top, providers below)."""
    import xlrd

    try:
        wb = xlrd.open_workbook(file_contents=data)
    except Exception as exc:  # xlrd raises its own XLRDError and assorted struct errors
        raise IngestError(file, f"is not a readable .xls workbook: {exc}") from None
    if "Provider Level Data" not in wb.sheet_names():
        raise IngestError(file, "has no 'Provider Level Data' sheet (sheets: " + ", ".join(wb.sheet_names()) + ")")
    sh = wb.sheet_by_name("Provider Level Data")
    header_row = None
    for r in range(min(sh.nrows, 40)):
        row = [str(sh.cell_value(r, c)).strip() for c in range(sh.ncols)]
        if "Code" in row and "Name" in row:
            header_row = r
            break
    if header_row is None:
        raise IngestError(file, "cannot find the header row (with 'Code' and 'Name') in 'Provider Level Data'")
    if period is None:
        for r in range(header_row):
            for c in range(sh.ncols - 1):
                if str(sh.cell_value(r, c)).strip().lower() == "period:":
                    period = month_from_text(str(sh.cell_value(r, c + 1)))
        period = period or month_from_text(Path(file).name)
    if period is None:
        raise IngestError(file, "the month cannot be known; give --period")
    published_on = None
    for r in range(header_row):  # the title block says when NHS England published (or revised) the workbook
        for c in range(sh.ncols - 1):
            label = str(sh.cell_value(r, c)).strip().lower()
            if label in ("published:", "revised:"):
                when = date_from_text(sh.cell_value(r, c + 1))
                if when is not None and (published_on is None or when > published_on):
                    published_on = when
    groups = [str(sh.cell_value(header_row - 1, c)).strip() for c in range(sh.ncols)]
    group = ""
    names = []
    for c in range(sh.ncols):
        group = groups[c] or group
        names.append((group, str(sh.cell_value(header_row, c)).strip()))
    col = {}
    for c, (grp, nm) in enumerate(names):
        g, n = grp.lower(), nm.lower()
        if n == "code":
            col["code"] = c
        elif n == "name":
            col["name"] = c
        elif n == "region":
            col["region"] = c
        elif g == "a&e attendances" and "type 1" in n:
            col["att_t1"] = c
        elif g == "a&e attendances" and "type 2" in n:
            col["att_t2"] = c
        elif g == "a&e attendances" and "type 3" in n:
            col["att_other"] = c
        elif g.startswith("a&e attendances greater than 4 hours") and "type 1" in n:
            col["over_t1"] = c
        elif g.startswith("a&e attendances greater than 4 hours") and "type 2" in n:
            col["over_t2"] = c
        elif g.startswith("a&e attendances greater than 4 hours") and "type 3" in n:
            col["over_other"] = c
        elif n.startswith("emergency admissions via type 1"):
            col["adm_t1"] = c
        elif n.startswith("emergency admissions via type 2"):
            col["adm_t2"] = c
        elif n.startswith("emergency admissions via type 3"):
            col["adm_other"] = c
        elif n.startswith("other emergency admissions"):
            col["adm_not_ae"] = c
        elif ">4 hours from decision to admit" in n:
            col["dta_over_4"] = c
        elif ">12 hours from decision to admit" in n:
            col["dta_12"] = c
    need = [
        "code",
        "name",
        "att_t1",
        "att_t2",
        "att_other",
        "over_t1",
        "over_t2",
        "over_other",
        "adm_t1",
        "adm_t2",
        "adm_other",
        "adm_not_ae",
        "dta_over_4",
        "dta_12",
    ]
    missing = [n for n in need if n not in col]
    if missing:
        raise IngestError(file, "'Provider Level Data' lacks columns for " + ", ".join(missing), row=header_row + 1)
    rows = []
    for r in range(header_row + 1, sh.nrows):
        rows.append([sh.cell_value(r, c) for c in range(sh.ncols)])
    df = pd.DataFrame(rows)
    # turn into the CSV shape so the same checks and derivations apply
    out = pd.DataFrame(
        {
            "Period": period,
            "Org Code": df[col["code"]].astype(str).str.strip().replace({"-": "TOTAL"}),
            "Parent Org": df[col["region"]].astype(str) if "region" in col else "",
            "Org name": df[col["name"]].astype(str),
        }
    )
    englands = out["Org name"].str.strip().str.lower() == "england"
    out.loc[englands, "Org Code"] = "TOTAL"
    for f in _XLS_COUNTS:
        out[f] = df[col[f]].astype(str)
    v4, _ = parse_numbers(df[col["dta_over_4"]].astype(str))
    v12, _ = parse_numbers(df[col["dta_12"]].astype(str))
    out["dta_4_12"] = pd.Series(np.nan_to_num(v4) - np.nan_to_num(v12)).map(lambda x: f"{x:.0f}")
    blank = out["Org Code"].str.strip().eq("") & out["Org name"].str.strip().eq("")
    out = out[~blank.to_numpy()].reset_index(drop=True)
    line_numbers = np.flatnonzero(~blank.to_numpy()) + header_row + 2
    ident = {"period": "Period", "code": "Org Code", "parent": "Parent Org", "name": "Org name"}
    fields = {f: f for f in (*_XLS_COUNTS, "dta_4_12")}
    parsed = _derive(out, ident, fields, file, period, line_offset=0)
    parsed.published_on = published_on
    # _derive numbered rows from 0; translate to the sheet's row numbers
    parsed.rejected = [
        (int(line_numbers[ln]) if ln is not None and ln < len(line_numbers) else ln, c, why)
        for ln, c, why in parsed.rejected
    ]
    return parsed


def parse_ae(data: bytes, file: str, period: str | None = None) -> Parsed:
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: legacy .xls
        return parse_ae_workbook(data, file, period)
    if data[:2] == b"PK":
        raise IngestError(file, "is an .xlsx workbook; the A&E loader reads the provider CSV or the official .xls")
    return parse_ae_csv(data, file, period)


def load_ae(path: str | Path, engine=None, period: str | None = None, **batch_opts):
    return load_file(KIND, path, parse_ae, engine, period=period, **batch_opts)
