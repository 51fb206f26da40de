"""CSV and XLSX downloads of the data behind every chart and table, each row under its publication rule.

Rules (:mod:`partnering.report.suppression`, issue #9.5): official statistics NHS England publishes at organisation
level (A&E, RTT) are re-published as published; an organisation's own measures, figures of an upload not yet
published and anything derived from record-level data (batches of ``partnering compute indicators --load``, under
their own rule name) follow NHS small-number suppression (sub-national 1–7 -> ``*``, others rounded to the nearest
5, zero stays zero).  Every download with figures says which rule each row followed (a ``publication_rule`` column
in CSV and XLSX) and the XLSX notes sheet states the rules applied.
"""

from __future__ import annotations

import io
import re

import pandas as pd
from fastapi import Response

from partnering.errors import ValidationError
from partnering.report.export import derived_mask, published_mask
from partnering.report.suppression import RULE_COLUMN, apply_publication_rules, rules_applied

ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0 "
               "(NHS England). Synthetic demonstration values, where present, are not real NHS data.")
FORMATS = ("csv", "xlsx")
VALUE_COLS = ("value", "y", "latest_value")


def publishable(engine, df: pd.DataFrame, *, units: dict[str, str] | None = None, unit_col: str | None = None,
                period_col: str = "period") -> pd.DataFrame:
    """``df`` (org_code, indicator, a month column and figures) with each row under its publication rule: is the
    figure the published one (:func:`partnering.report.export.published_mask`), is it derived from record-level
    data (:func:`partnering.report.export.derived_mask`), is the indicator official, is the row a count
    (``unit_col``, else ``units`` by indicator code — the store's, which knows own KPIs' units)."""
    if df.empty:
        return df
    value_col = next((c for c in VALUE_COLS if c in df.columns), None)
    published = derived = None
    if value_col is not None and {"org_code", "indicator", period_col} <= set(df.columns):
        published = published_mask(engine, df, value_col=value_col, period_col=period_col)
    if {"org_code", "indicator", period_col} <= set(df.columns):
        derived = derived_mask(engine, df, period_col=period_col)
    if unit_col and unit_col in df:
        counts = (df[unit_col] == "count").to_numpy()
    else:
        counts = df["indicator"].map(lambda c: (units or {}).get(c) == "count").to_numpy() \
            if "indicator" in df else None
    return apply_publication_rules(df, value_cols=VALUE_COLS, published=published, count_rows=counts,
                                   derived=derived)


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
        notes = [ATTRIBUTION, *(f"Publication rule {r}" for r in rules_applied(df))] if RULE_COLUMN in df else \
            [ATTRIBUTION]
        pd.DataFrame({"notes": notes}).to_excel(xl, sheet_name="notes", index=False)
    return Response(bio.getvalue(),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
