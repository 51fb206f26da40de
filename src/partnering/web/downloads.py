"""CSV and XLSX downloads of the data behind every chart and table, with NHS small-number suppression.

Counts are suppressed with :mod:`partnering.report.suppression` (sub-national 1–7 -> ``*``, others rounded to
the nearest 5, zero stays zero): the ``numerator``/``denominator`` columns always, and value columns
(``value``, ``y``, ``latest_value``) on rows whose indicator is a count.
"""

from __future__ import annotations

import io
import re

import pandas as pd
from fastapi import Response

from partnering.errors import ValidationError
from partnering.indicators.catalogue import indicator
from partnering.report.suppression import SUPPRESSED, suppress_count

ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0 "
               "(NHS England). Counts are suppressed for publication: 1-7 shown as *, others rounded to the "
               "nearest 5. Synthetic demonstration values, where present, are not real NHS data.")
FORMATS = ("csv", "xlsx")
COUNT_COLS = ("numerator", "denominator")
VALUE_COLS = ("value", "y", "latest_value")


def is_count(code) -> bool:
    d = indicator(str(code)) if isinstance(code, str) else None
    return d is not None and d.unit == "count"


def suppress(df: pd.DataFrame, indicator_col: str = "indicator", unit_col: str | None = None,
             all_counts: bool = False) -> pd.DataFrame:
    """Suppress count columns of ``df``; rows are counts by their indicator's unit (or ``unit_col``)."""
    if df.empty:
        return df
    out = df.copy()
    for c in COUNT_COLS:
        if c in out:
            out[c] = [suppress_count(v) for v in df[c]]
    if all_counts:
        rows = pd.Series(True, index=df.index)
    elif unit_col and unit_col in df:
        rows = df[unit_col] == "count"
    elif indicator_col in df:
        rows = df[indicator_col].map(is_count)
    else:
        rows = pd.Series(False, index=df.index)
    for c in VALUE_COLS:
        if c in out:
            col = out[c].astype(object)
            col[rows.to_numpy()] = [suppress_count(v) for v in df.loc[rows, c]]
            if "numerator" in out and "denominator" in out and c == "value":
                hidden = (out["numerator"] == SUPPRESSED) | (out["denominator"] == SUPPRESSED)
                col[hidden.to_numpy()] = SUPPRESSED
            out[c] = col
    return out


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "data"


def table_response(df: pd.DataFrame, fmt: str, name: str) -> Response:
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}")
    name = safe_name(name)
    if fmt == "csv":
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    bio = io.BytesIO()
    with pd.ExcelWriter(bio, engine="openpyxl") as xl:
        df.to_excel(xl, sheet_name="data", index=False)
        pd.DataFrame({"notes": [ATTRIBUTION]}).to_excel(xl, sheet_name="notes", index=False)
    return Response(bio.getvalue(),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
