"""What the loaders of official NHS workbooks share once :func:`partnering.ingest.workbook.read_table` has found the
table: cells read as numbers (a cell that is not one refuses the file, naming its sheet row and column), a check
that provider rows add up to the file's own England row, a period the file states against one the user gives, and
the observation frame :func:`partnering.ingest.base.commit_parsed` writes.

Used by the cancer waiting times, DM01 diagnostics and cancelled operations loaders.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.values import parse_numbers
from partnering.ingest.workbook import Table, norm_label


def numbers(table: Table, column: str, *, dash_is_zero: bool = False) -> np.ndarray:
    """The column as floats (NaN where blank, or "-" unless ``dash_is_zero``); a cell that is not a number refuses
    the whole file with its sheet row, column and value — a figure cannot be guessed, and loading the other rows
    would leave the England check and the totals wrong."""
    vals, bad = parse_numbers(table.frame[column].to_numpy(dtype=object), dash_is_zero=dash_is_zero)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = str(table.frame[column].iat[i]).strip()
        more = int(bad.sum()) - 1
        raise IngestError(table.file, f"sheet {table.sheet!r}: '{cell}' is not a number"
                                      + (f" ({more} more such cells in this column)" if more else ""),
                          row=table.excel_row(i), column=column)
    return vals


def refuse_negative(table: Table, column: str, values: np.ndarray) -> None:
    """A negative count is impossible: the file is refused at the first one."""
    neg = np.flatnonzero(np.nan_to_num(values) < 0)
    if len(neg):
        i = int(neg[0])
        raise IngestError(table.file, f"sheet {table.sheet!r}: negative count {values[i]:g} is impossible",
                          row=table.excel_row(i), column=column)


def provider_rows(table: Table, code_col: str, name_col: str, total, skip=lambda code, name: False,
                  total_label: str = "England total") -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(codes, names, mask of the provider rows, frame row of the total row) of a provider table.

    ``total(code, name)`` picks the one total row (``name`` in lower case); ``skip`` other summary rows that are
    neither.  Refused: no total row or several, a row without a code that is neither, a code on two rows."""
    code = np.array(["" if pd.isna(v) else str(v).strip() for v in table.frame[code_col]], dtype=object)
    name = np.array([str(v).strip() for v in table.frame[name_col]], dtype=object)
    is_total = np.array([bool(total(c, n.lower())) for c, n in zip(code, name)], dtype=bool)
    skipped = np.array([bool(skip(c, n.lower())) for c, n in zip(code, name)], dtype=bool) & ~is_total
    totals = np.flatnonzero(is_total)
    if len(totals) != 1:
        raise IngestError(table.file, f"sheet {table.sheet!r} has {len(totals)} {total_label} rows; expected one — "
                                      "refusing it so that it cannot supersede good data")
    providers = ~is_total & ~skipped & (code != "") & (code != "-")
    stray = np.flatnonzero(~providers & ~is_total & ~skipped)
    if len(stray):
        raise IngestError(table.file, f"sheet {table.sheet!r}: a row without an organisation code "
                                      f"('{name[stray[0]]}')", row=table.excel_row(int(stray[0])), column=code_col)
    dup = pd.Series(code[providers]).duplicated()
    if dup.any():
        c = code[providers][dup.to_numpy()][0]
        raise IngestError(table.file, f"sheet {table.sheet!r}: organisation {c} appears on more than one row",
                          row=table.excel_row(int(np.flatnonzero(code == c)[1])), column=code_col)
    return code, name, providers, int(totals[0])


def check_total(table: Table, columns: dict[str, np.ndarray], total: int, providers: np.ndarray,
                label: str = "England") -> str:
    """Refuse the file unless the provider rows add up to its own total row in every column; else the note saying
    they do.  ``total`` is the frame row of the total, ``providers`` a mask of the provider rows."""
    diffs = []
    for col, vals in columns.items():
        s = float(np.nansum(vals[providers]))
        t = float(np.nan_to_num(vals[total]))
        if abs(s - t) > 0.5:
            diffs.append(f"'{col}' providers sum to {s:,.0f} but the {label} row says {t:,.0f} "
                         f"(difference {s - t:+,.0f})")
    if diffs:
        raise IngestError(table.file, f"sheet {table.sheet!r}: provider rows do not add up to the {label} row (sheet "
                                      f"row {table.excel_row(total)}) — the file may be cut or edited: "
                          + "; ".join(diffs[:4]) + ("; ..." if len(diffs) > 4 else ""))
    return f"{label} row (sheet row {table.excel_row(total)}) matches the provider rows"


def agreed_period(file: str, stated: str | None, given: str | None, where: str) -> str:
    """The period the file states (``where`` says where), checked against ``--period`` when both exist."""
    if stated is not None and given is not None and stated != given:
        raise IngestError(file, f"--period {given} disagrees with the file's own period {stated} ({where})")
    period = stated or given
    if period is None:
        raise IngestError(file, f"the period cannot be known: no {where} in the file; give --period YYYY-MM")
    return period


def observations(codes: np.ndarray, period, counts: dict[str, np.ndarray] | None = None,
                 ratios: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """Observation rows (org_code, indicator, period, numerator, denominator, value).

    ``counts`` give a value per organisation (a missing one is left out); ``ratios`` give (numerator, denominator)
    and become a percentage where the denominator is positive (a rate of nothing is not a value).  ``period`` is one
    month for every row or an array of months."""
    codes = np.asarray(codes, dtype=object)
    per = np.broadcast_to(np.asarray(period, dtype=object), codes.shape)
    frames = []
    for ind, v in (counts or {}).items():
        v = np.asarray(v, dtype=float)
        m = ~np.isnan(v)
        frames.append(pd.DataFrame({"org_code": codes[m], "indicator": ind, "period": per[m], "numerator": np.nan,
                                    "denominator": np.nan, "value": v[m]}))
    for ind, (num, den) in (ratios or {}).items():
        num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
        m = ~np.isnan(num) & (np.nan_to_num(den) > 0)
        frames.append(pd.DataFrame({"org_code": codes[m], "indicator": ind, "period": per[m], "numerator": num[m],
                                    "denominator": den[m], "value": 100.0 * num[m] / den[m]}))
    cols = ["org_code", "indicator", "period", "numerator", "denominator", "value"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def breakdown_code(cancer_type: str | None) -> str:
    """A label as a breakdown code: "Suspected brain/central nervous system tumours" ->
    "suspected_brain_central_nervous_system_tumours" (lower case, runs of other characters as one underscore)."""
    return re.sub(r"[^a-z0-9]+", "_", norm_label(cancer_type)).strip("_") or "unknown"
