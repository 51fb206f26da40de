"""Shared API list conventions: one page of a frame as JSON or CSV, the list parameters, JSON-safe values.

Lists take ``limit`` (1–10,000, default 100) and ``offset`` and return ``{"total", "limit", "offset", "items"}``
plus an ``X-Total-Count`` header; ``?format=csv`` or ``Accept: text/csv`` returns CSV.  Every stage's API
endpoints answer lists through :func:`page`.
"""

from __future__ import annotations

import io
import math
from typing import Annotated, Generic, TypeVar

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
#: a stored record's id in a path: a positive 64-bit integer (a larger one cannot exist, and the database would
#: refuse it with an overflow rather than "not found"), so out-of-range ids are a 422 like any bad parameter
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Record id", examples=[1])]
#: bodies of list responses up to this size are cached (per data version, viewer scope and query)
PAGE_CACHE_MAX_BYTES = 512 * 1024


class FamilyFreshness(BaseModel):
    family: str = Field(description="The source of a family of data: ae-monthly, rtt, kpi (own measures) ...")
    family_name: str = Field(description="The family in words: A&E, RTT, own measures")
    latest_period: str = Field(description="The latest month loaded (ISO month)")
    months_behind: int = Field(description="Months behind the freshest family")
    stale: bool = Field(description="Three or more months behind the freshest family (measure.freshness)")


class Page(BaseModel, Generic[T]):
    total: int = Field(description="Items matching, before pagination")
    limit: int
    offset: int
    items: list[T]
    freshness: list[FamilyFreshness] | None = Field(
        None, description="On lists that carry figures: per family of data, the latest month loaded")


#: the response header that carries the freshness of answers with figures (CSV answers have no body field)
FRESHNESS_HEADER = "X-Data-Freshness"


def freshness_of(request: Request, user: CurrentUser) -> list[dict]:
    """Per family of data, the latest month loaded that ``user`` may see, as the API states it on every answer
    that carries figures (:func:`partnering.measure.freshness.store_freshness`, cached per data version)."""
    from partnering.web import services

    df = services.freshness(request.app.state.engine, user)
    return [{"family": str(r.family), "family_name": str(r.family_name), "latest_period": str(r.latest_period),
             "months_behind": int(r.months_behind), "stale": bool(r.stale)} for r in df.itertuples()]


def freshness_header(freshness: list[dict]) -> str:
    """``ae-monthly=2026-03; rtt=2025-03 (stale)``: the freshness as one header value (ASCII)."""
    return "; ".join(f"{f['family']}={f['latest_period']}" + (" (stale)" if f["stale"] else "") for f in freshness)


def with_freshness(response: Response, freshness: list[dict]) -> Response:
    response.headers[FRESHNESS_HEADER] = freshness_header(freshness)
    return response


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


def json_safe(x):
    """A nested value (dicts, lists, cells) with every cell made JSON-safe by :func:`jsonable`."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return jsonable(x)


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
         name: str, key: tuple | None = None, user: CurrentUser | None = None,
         freshness: list[dict] | None = None) -> Response:
    """One page of ``df`` as JSON (or CSV).  With ``key`` (everything besides limit/offset/format that chose
    the rows) the encoded body is cached per data version and viewer scope, so a repeated query is not
    re-encoded.  A list that carries figures passes its ``freshness`` (:func:`freshness_of`): a ``freshness``
    field in the JSON envelope and the :data:`FRESHNESS_HEADER` header on JSON and CSV alike."""
    total = len(df)
    csv = wants_csv(request, fmt)

    def build() -> bytes:
        chunk = df.iloc[offset: offset + limit] if total else df
        rows = json_records(chunk, columns)
        if csv:
            buf = io.StringIO()
            pd.DataFrame(rows, columns=[c for c in columns if c in df.columns] or None).to_csv(buf, index=False)
            return buf.getvalue().encode("utf-8")
        envelope = {"total": total, "limit": limit, "offset": offset, "items": rows}
        if freshness is not None:
            envelope["freshness"] = freshness
        return JSONResponse(envelope).body

    if key is not None:
        body = cached(request.app.state.engine, "api_page", user, build, name, key, csv, limit, offset, total,
                      keep=lambda b: len(b) <= PAGE_CACHE_MAX_BYTES)
    else:
        body = build()
    headers = {"X-Total-Count": str(total)}
    if freshness is not None:
        headers[FRESHNESS_HEADER] = freshness_header(freshness)
    if csv:
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(body, media_type="application/json", headers=headers)
