"""Shared API list conventions: one page of a frame as JSON or CSV, the list parameters, JSON-safe values.

Lists take ``limit`` (1–10,000, default 100) and ``offset`` and return ``{"total", "limit", "offset", "items"}``
plus an ``X-Total-Count`` header; ``?format=csv`` or ``Accept: text/csv`` returns CSV.  Every stage's API
endpoints answer lists through :func:`page`.
"""

from __future__ import annotations

import io
import math
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from partnering.web.auth import CurrentUser
from partnering.web.cache import cached

T = TypeVar("T")
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                      "description": "JSON by default; CSV with ?format=csv or Accept: text/csv"}}
LIMIT = Query(100, ge=1, le=10_000, description="Most items to return")
OFFSET = Query(0, ge=0, le=10_000_000, description="Items to skip")
FORMAT = Query(None, description="json (default) or csv", pattern="^(json|csv)$")
CODE = Path(description="Organisation (ODS) code", examples=["ZA1"])
#: bodies of list responses up to this size are cached (per data version, viewer scope and query)
PAGE_CACHE_MAX_BYTES = 512 * 1024


class Page(BaseModel, Generic[T]):
    total: int = Field(description="Items matching, before pagination")
    limit: int
    offset: int
    items: list[T]


def jsonable(v):
    """A cell as JSON: numpy scalars as Python, timestamps as ISO text, NaN/inf/NA as ``None``."""
    if v is None:
        return None
    if isinstance(v, (float, np.floating)) and not math.isfinite(float(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def json_records(df: pd.DataFrame | None, columns: list[str] | None = None) -> list[dict]:
    """Rows of ``df`` (only ``columns`` that it has, in that order) with JSON-safe values."""
    if df is None or df.empty:
        return []
    if columns:
        df = df[[c for c in columns if c in df.columns]]
    return [{k: jsonable(v) for k, v in zip(df.columns, row)} for row in df.itertuples(index=False, name=None)]


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def page(request: Request, df: pd.DataFrame, limit: int, offset: int, fmt: str | None, columns: list[str],
         name: str, key: tuple | None = None, user: CurrentUser | None = None) -> Response:
    """One page of ``df`` as JSON (or CSV).  With ``key`` (everything besides limit/offset/format that chose
    the rows) the encoded body is cached per data version and viewer scope, so a repeated query is not
    re-encoded."""
    total = len(df)
    csv = wants_csv(request, fmt)

    def build() -> bytes:
        chunk = df.iloc[offset: offset + limit] if total else df
        rows = json_records(chunk, columns)
        if csv:
            buf = io.StringIO()
            pd.DataFrame(rows, columns=[c for c in columns if c in df.columns] or None).to_csv(buf, index=False)
            return buf.getvalue().encode("utf-8")
        return JSONResponse({"total": total, "limit": limit, "offset": offset, "items": rows}).body

    if key is not None:
        body = cached(request.app.state.engine, "api_page", user, build, name, key, csv, limit, offset, total,
                      keep=lambda b: len(b) <= PAGE_CACHE_MAX_BYTES)
    else:
        body = build()
    headers = {"X-Total-Count": str(total)}
    if csv:
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(body, media_type="application/json", headers=headers)
