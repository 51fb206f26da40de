"""REST API ``/api/v1``: a thin JSON/CSV face over the library.

Authentication: ``Authorization: Bearer <token>`` (``partnering users token EMAIL``) or the web session
(writes then need the ``X-CSRF-Token`` header).  Lists are paginated (``limit``, ``offset``; the total is in
the body and the ``X-Total-Count`` header).  ``?format=csv`` or ``Accept: text/csv`` returns CSV.  Errors are
``{"error": "..."}`` with a 4xx status; unexpected failures are a 500 with no internals.
"""

from __future__ import annotations

import io
import math
import re
from typing import Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, Response, UploadFile
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from partnering.errors import NotFoundError, ValidationError
from partnering.web import services
from partnering.web.auth import CurrentUser, audit
from partnering.web.cache import cached
from partnering.web.deps import api_user, page_user, require_role

router = APIRouter(prefix="/api/v1", tags=["api"])
T = TypeVar("T")
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                      "description": "JSON by default; CSV with ?format=csv or Accept: text/csv"}}
Limit = Query(100, ge=1, le=10_000, description="Most items to return")
Offset = Query(0, ge=0, le=10_000_000, description="Items to skip")
Format = Query(None, description="json (default) or csv", pattern="^(json|csv)$")
CODE = Path(description="Organisation (ODS) code", examples=["ZA1"])
BATCH_ID = Path(description="Import batch id", examples=[1])


class ErrorBody(BaseModel):
    error: str


_ERR = {code: {"model": ErrorBody, "description": desc} for code, desc in (
    (400, "Invalid input"), (401, "Not signed in / bad token"), (403, "Not allowed"), (404, "Not found"),
    (422, "Invalid parameters"))}


class Page(BaseModel, Generic[T]):
    total: int = Field(description="Items matching, before pagination")
    limit: int
    offset: int
    items: list[T]


class Organisation(BaseModel):
    org_code: str
    name: str
    kind: str
    icb_code: str | None = None
    region_code: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    synthetic: bool | None = None


class IndicatorOut(BaseModel):
    code: str
    name: str
    unit: str
    improvement_direction: str
    national_standard: float | None = None
    standard_name: str | None = None
    source: str | None = None


class ObservationOut(BaseModel):
    org_code: str
    indicator: str
    period: str = Field(description="ISO month YYYY-MM")
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None


class SpcPoint(BaseModel):
    x: str
    y: float | None = None
    mean: float | None = None
    lpl: float | None = None
    upl: float | None = None
    target: float | None = None
    point_type: str | None = None
    special_cause_flag: bool | None = None
    explanation: str | None = None


class SpcIcons(BaseModel):
    variation_icon: str | None = None
    assurance_type: str | None = None


class SpcOut(BaseModel):
    points: list[SpcPoint]
    icons: SpcIcons


#: an ISO month (YYYY-MM) or date (YYYY-MM-DD)
ISO_MONTH_OR_DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"


class SeriesPoint(BaseModel):
    # the pattern is published in the schema and checked in spc_post, so a bad date is a 400 like other bad input
    x: str = Field(description="ISO date (YYYY-MM-DD) or month (YYYY-MM)", examples=["2025-01-01", "2025-01"],
                   json_schema_extra={"pattern": ISO_MONTH_OR_DATE})
    y: float | None = None


class SpcIn(BaseModel):
    points: list[SeriesPoint] = Field(min_length=1, max_length=10_000)
    improvement_direction: Literal["increase", "decrease", "neutral"] = "increase"
    target: float | None = None
    chart: Literal["xmr"] = "xmr"


class FlagsOut(BaseModel):
    org_code: str
    org_name: str | None = None
    segment: int | None = None
    avg_score: float | None = None
    segment_period: str | None = None
    persistent_difficulty: bool
    track_record: bool
    difficulty_reason: str = ""
    track_record_reason: str = ""
    good_practice: str = ""
    summary: str = ""


class IconOut(BaseModel):
    indicator: str
    indicator_name: str | None = None
    unit: str | None = None
    latest_period: str | None = None
    latest_value: float | None = None
    mean: float | None = None
    lpl: float | None = None
    upl: float | None = None
    target: float | None = None
    variation_icon: str | None = None
    assurance_type: str | None = None
    explanation: str | None = None


class OrgAssessment(BaseModel):
    flags: FlagsOut
    icons: list[IconOut]
    good_practice: list[str]


class PeerOut(BaseModel):
    org_code: str
    peer_code: str
    peer_name: str | None = None
    rank: int | None = None
    similarity: float | None = None
    reason: str | None = None


class PartnerOut(BaseModel):
    model_config = {"extra": "allow"}
    org_code: str | None = None


class PlanIn(BaseModel):
    capacity: int = Field(1, ge=1, le=20, description="Most recipients one supporter may lead for")
    max_travel_minutes: float | None = Field(90, gt=0, le=600, description="Longest travel by road; null = no limit")
    forbidden: list[tuple[str, str]] = Field(default_factory=list, max_length=1000,
                                             description="(recipient, supporter) pairs never to use")
    required: list[tuple[str, str]] = Field(default_factory=list, max_length=1000,
                                            description="(recipient, supporter) pairs that must be used")
    save: bool = Field(False, description="Record the plan in the audit log (analyst role)")


class PlanPair(BaseModel):
    recipient: str
    recipient_name: str | None = None
    supporter: str
    supporter_name: str | None = None
    score: float | None = None
    travel_minutes: float | None = None
    required: bool | None = None
    reason: str | None = None


class Unmatched(BaseModel):
    recipient: str
    recipient_name: str | None = None
    reason: str


class PlanOut(BaseModel):
    pairs: list[PlanPair]
    unmatched: list[Unmatched]
    solver: str
    proven_optimal: bool
    notes: list[str]


class BatchOut(BaseModel):
    id: int
    kind: str
    file_name: str
    period: str | None = None
    status: str
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    observations_new: int | None = None
    observations_superseded: int | None = None
    owner_org: str | None = None
    published: bool | None = None
    uploaded_by: str | None = None
    message: str | None = None


class RejectedOut(BaseModel):
    batch_id: int
    line: int | None = None
    column: str | None = None
    reason: str


class ImportReport(BaseModel):
    batch_id: int | None = None
    kind: str
    status: str
    period: str | None = None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    observations_new: int
    observations_superseded: int
    message: str = ""


class Me(BaseModel):
    email: str
    name: str
    role: str
    org_code: str | None = None


# ------------------------------------------------------------------------------------------------ helpers


def _py(v):
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


def records(df: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    if df is None or df.empty:
        return []
    if columns:
        df = df[[c for c in columns if c in df.columns]]
    return [{k: _py(v) for k, v in zip(df.columns, row)} for row in df.itertuples(index=False, name=None)]


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


#: bodies of list responses up to this size are cached (per data version, viewer scope and query)
PAGE_CACHE_MAX_BYTES = 512 * 1024


def page(request: Request, df: pd.DataFrame, limit: int, offset: int, fmt: str | None, columns: list[str],
         name: str, key: tuple | None = None, user: CurrentUser | None = None):
    """One page of ``df`` as JSON (or CSV).  With ``key`` (everything besides limit/offset/format that chose
    the rows) the encoded body is cached per data version and viewer scope, so a repeated query is not
    re-encoded."""
    total = len(df)
    csv = wants_csv(request, fmt)

    def build() -> bytes:
        chunk = df.iloc[offset: offset + limit] if total else df
        rows = records(chunk, columns)
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


# ------------------------------------------------------------------------------------------------ docs


@router.get("/docs", include_in_schema=False)
def docs(request: Request, user: CurrentUser = Depends(page_user)) -> HTMLResponse:
    html = get_swagger_ui_html(
        openapi_url="/openapi.json", title="Partnering API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        # no deep links: they put a link inside each operation's toggle button (nested interactive controls)
        swagger_ui_parameters={"validatorUrl": None, "deepLinking": False},
    ).body.decode()
    nonce = getattr(request.state, "csp_nonce", "")
    html = html.replace("<script>", f'<script nonce="{nonce}">')
    html = html.replace("<html>", '<html lang="en">', 1)
    # local fixes for the widget's own contrast and target sizes (served by us, after swagger-ui.css)
    html = html.replace("</head>", '<link type="text/css" rel="stylesheet" href="/static/swagger-overrides.css">\n'
                        "</head>", 1)
    return HTMLResponse(html)


@router.get("/openapi.json", include_in_schema=False)
def openapi_alias(request: Request):
    return JSONResponse(request.app.openapi())


@router.get("/me", response_model=Me, responses=_ERR)
def me(user: CurrentUser = Depends(api_user)):
    return Me(email=user.email, name=user.name, role=user.role, org_code=user.org_code)


# ------------------------------------------------------------------------------------------------ reference data


ORG_COLS = list(Organisation.model_fields)


@router.get("/organisations", response_model=Page[Organisation], responses={**CSV_RESPONSE, **_ERR})
def organisations(request: Request, kind: str | None = None, region: str | None = None, icb: str | None = None,
                  q: str | None = Query(None, description="Text in the name or the code"),
                  limit: int = Limit, offset: int = Offset, format: str | None = Format,
                  user: CurrentUser = Depends(api_user)):
    df = services.organisations(request.app.state.engine)
    for col, val in (("kind", kind), ("region_code", region), ("icb_code", icb)):
        if val:
            df = df[df[col] == val]
    if q:
        s = q.lower()
        df = df[df["name"].str.lower().str.contains(s, regex=False) | (df["org_code"].str.lower() == s)]
    return page(request, df, limit, offset, format, ORG_COLS, "organisations", key=(kind, region, icb, q), user=user)


@router.get("/organisations/{code}", response_model=Organisation, responses=_ERR)
def organisation(request: Request, code: str = CODE, user: CurrentUser = Depends(api_user)):
    row = services.org_row(request.app.state.engine, code)
    return {k: _py(row.get(k)) for k in ORG_COLS}


@router.get("/indicators", response_model=Page[IndicatorOut], responses={**CSV_RESPONSE, **_ERR})
def indicators(request: Request, limit: int = Limit, offset: int = Offset, format: str | None = Format,
               user: CurrentUser = Depends(api_user)):
    df = services.indicators(request.app.state.engine)
    return page(request, df, limit, offset, format, list(IndicatorOut.model_fields), "indicators", key=(), user=user)


PERIOD = "^[0-9]{4}-(0[1-9]|1[0-2])$"


@router.get("/observations", response_model=Page[ObservationOut], responses={**CSV_RESPONSE, **_ERR})
def observations(request: Request, org: list[str] | None = Query(None, description="Organisation code(s)",
                                                                 examples=[["ZA1"]]),
                 indicator: list[str] | None = Query(None, description="Indicator code(s)",
                                                     examples=[["ae_4h_pct_all"]]),
                 period_from: str | None = Query(None, alias="from", pattern=PERIOD, description="First month"),
                 period_to: str | None = Query(None, alias="to", pattern=PERIOD, description="Last month"),
                 limit: int = Limit, offset: int = Offset, format: str | None = Format,
                 user: CurrentUser = Depends(api_user)):
    eng = request.app.state.engine
    df = services.observations(eng, user, orgs=[o.upper() for o in org] if org else None,
                               indicator_codes=indicator or None)
    if period_from:
        df = df[df["period"] >= period_from]
    if period_to:
        df = df[df["period"] <= period_to]
    key = (tuple(org or ()), tuple(indicator or ()), period_from, period_to)
    return page(request, df, limit, offset, format, list(ObservationOut.model_fields), "observations", key=key,
                user=user)


# ------------------------------------------------------------------------------------------------ SPC


def _spc_out(points: pd.DataFrame, icons: dict) -> dict:
    pts = points.copy()
    pts["x"] = pd.to_datetime(pts["x"]).dt.strftime("%Y-%m-%d")
    return {"points": records(pts, list(SpcPoint.model_fields)),
            "icons": {"variation_icon": _py(icons.get("variation_icon")),
                      "assurance_type": _py(icons.get("assurance_type"))}}


@router.get("/spc", response_model=SpcOut, responses=_ERR)
def spc_for(request: Request, org: str = Query(..., description="Organisation code", examples=["ZA1"]),
            indicator: str = Query(..., description="Indicator code", examples=["ae_4h_pct_all"]),
            user: CurrentUser = Depends(api_user)):
    """SPC (Making Data Count) for one organisation's stored series."""
    eng = request.app.state.engine
    code = org.upper()
    services.org_row(eng, code)
    pts = services.org_spc(eng, user, code)
    if pts.empty or indicator not in set(pts["indicator"]):
        raise NotFoundError(f"no values of {indicator!r} for {code}")
    pts = pts[pts["indicator"] == indicator].sort_values("x")
    return _spc_out(pts, services.org_spc_icons(eng, user, code, indicator))


@router.post("/spc", response_model=SpcOut, responses=_ERR)
def spc_post(body: SpcIn, user: CurrentUser = Depends(api_user)):
    """SPC (Making Data Count) for a series you send: points with ``x`` (date) and ``y``."""
    for i, p in enumerate(body.points):
        if not re.fullmatch(ISO_MONTH_OR_DATE, p.x):
            raise ValidationError(f"points[{i}].x: {p.x[:40]!r} is not an ISO month (YYYY-MM) or date (YYYY-MM-DD)")
    frame = pd.DataFrame([p.model_dump() for p in body.points])
    frame["x"] = frame["x"].map(lambda s: s + "-01" if len(s) == 7 else s)
    frame["y"] = frame["y"].astype(float)
    pts, icons = services.spc_series(frame, body.improvement_direction, body.target, body.chart)
    return _spc_out(pts, icons.iloc[0].to_dict() if not icons.empty else {})


# ------------------------------------------------------------------------------------------------ assessment


FLAG_COLS = list(FlagsOut.model_fields)


def _assessment(request, user):
    a = services.assessment(request.app.state.engine, user)
    if a is None:
        raise NotFoundError("nothing to assess: load data first")
    return a


@router.get("/assessment", response_model=Page[FlagsOut], responses={**CSV_RESPONSE, **_ERR})
def assessment(request: Request, persistent_difficulty: bool | None = None, track_record: bool | None = None,
               limit: int = Limit, offset: int = Offset, format: str | None = Format,
               user: CurrentUser = Depends(api_user)):
    """Flags for every assessed organisation: segment, persistent difficulty, track record, good practice."""
    flags = _assessment(request, user).flags
    if persistent_difficulty is not None:
        flags = flags[flags["persistent_difficulty"].astype(bool) == persistent_difficulty]
    if track_record is not None:
        flags = flags[flags["track_record"].astype(bool) == track_record]
    return page(request, flags, limit, offset, format, FLAG_COLS, "assessment",
                key=(persistent_difficulty, track_record), user=user)


@router.get("/assessment/{code}", response_model=OrgAssessment, responses=_ERR)
def assessment_org(request: Request, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """One organisation's flags, icons per indicator and good practice."""
    info = _assessment(request, user).org(code.upper())
    flags = {k: _py(info["flags"].get(k)) for k in FLAG_COLS}
    flags["segment"] = None if flags["segment"] is None else int(flags["segment"])
    for k in ("difficulty_reason", "track_record_reason", "good_practice", "summary"):
        flags[k] = flags[k] or ""
    return {"flags": flags, "icons": records(info["icons"], list(IconOut.model_fields)),
            "good_practice": [str(s) for s in info["good_practice"].get("explanation", [])]}


# ------------------------------------------------------------------------------------------------ matching


@router.get("/organisations/{code}/peers", response_model=Page[PeerOut], responses={**CSV_RESPONSE, **_ERR})
def peers(request: Request, code: str = CODE, limit: int = Limit, offset: int = Offset, format: str | None = Format,
          user: CurrentUser = Depends(api_user)):
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    df = services.peers(eng, user, code)
    if not df.empty:
        df = df.rename(columns={"peer_code_name": "peer_name"})
        if "reason" not in df.columns and "explanation" in df.columns:
            df = df.rename(columns={"explanation": "reason"})
    return page(request, df, limit, offset, format, list(PeerOut.model_fields), f"{code}-peers", key=(code,),
                user=user)


@router.get("/organisations/{code}/partners", response_model=Page[PartnerOut], responses={**CSV_RESPONSE, **_ERR})
def partners(request: Request, code: str = CODE, limit: int = Limit, offset: int = Offset, format: str | None = Format,
             user: CurrentUser = Depends(api_user)):
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    df = services.partner_candidates(eng, user, code)
    if df is None:
        raise HTTPException(501, "partner candidates are not available in this version")
    return page(request, df, limit, offset, format, list(df.columns), f"{code}-partners", key=(code,), user=user)


def _plan(request: Request, user: CurrentUser, body: PlanIn) -> dict:
    params = services.PlanParams(capacity=body.capacity, max_travel_minutes=body.max_travel_minutes,
                                 forbidden=tuple((a.upper(), b.upper()) for a, b in body.forbidden),
                                 required=tuple((a.upper(), b.upper()) for a, b in body.required))
    res = services.buddying_plan(request.app.state.engine, user, params)
    pairs = res.pairs.copy()
    if not pairs.empty and "reason" not in pairs.columns:
        for alt in ("reasons", "explanation"):
            if alt in pairs.columns:
                pairs["reason"] = pairs[alt]
                break
    out = {"pairs": records(pairs, list(PlanPair.model_fields)),
           "unmatched": records(res.unmatched, list(Unmatched.model_fields)),
           "solver": res.solver, "proven_optimal": res.proven_optimal, "notes": [str(n) for n in res.notes]}
    if body.save:
        if user.role not in ("analyst", "admin"):
            raise HTTPException(403, "you need the analyst role to save a plan")
        with request.app.state.engine.begin() as conn:
            audit(conn, user.email, "plan.save", "buddying_plan", None,
                  {"params": body.model_dump(exclude={"save"}), "pairs": [
                      {"recipient": p["recipient"], "supporter": p["supporter"]} for p in out["pairs"]],
                   "unmatched": out["unmatched"], "solver": res.solver})
    return out


@router.get("/buddying-plan", response_model=PlanOut, responses=_ERR)
def plan_get(request: Request, capacity: int = Query(1, ge=1, le=20),
             max_travel_minutes: float | None = Query(90, gt=0, le=600),
             forbid: str | None = Query(None, description="Pairs RECIPIENT-SUPPORTER separated by commas"),
             require: str | None = Query(None, description="Pairs RECIPIENT-SUPPORTER separated by commas"),
             user: CurrentUser = Depends(api_user)):
    """The optimal buddying plan for organisations in persistent difficulty."""
    body = PlanIn(capacity=capacity, max_travel_minutes=max_travel_minutes,
                  forbidden=list(services.parse_pairs(forbid, "forbid")),
                  required=list(services.parse_pairs(require, "require")))
    return _plan(request, user, body)


@router.post("/buddying-plan", response_model=PlanOut, responses=_ERR)
def plan_post(request: Request, body: PlanIn, user: CurrentUser = Depends(api_user)):
    """The optimal buddying plan; ``save: true`` records it in the audit log (analyst role)."""
    return _plan(request, user, body)


# ------------------------------------------------------------------------------------------------ imports


BATCH_COLS = list(BatchOut.model_fields)


@router.get("/imports", response_model=Page[BatchOut], responses={**CSV_RESPONSE, **_ERR})
def imports(request: Request, limit: int = Limit, offset: int = Offset, format: str | None = Format,
            user: CurrentUser = Depends(api_user)):
    """Import history you may see: published batches, your organisation's own, or all (admins)."""
    df = services.batches(request.app.state.engine, user)
    return page(request, df, limit, offset, format, BATCH_COLS, "imports")


@router.get("/imports/{batch_id}", response_model=BatchOut, responses=_ERR)
def import_one(request: Request, batch_id: int = BATCH_ID, user: CurrentUser = Depends(api_user)):
    b = services.batch(request.app.state.engine, user, batch_id)
    return {k: _py(b.get(k)) for k in BATCH_COLS}


@router.get("/imports/{batch_id}/rejected", response_model=Page[RejectedOut], responses={**CSV_RESPONSE, **_ERR})
def import_rejected(request: Request, batch_id: int = BATCH_ID, limit: int = Limit, offset: int = Offset,
                    format: str | None = Format, user: CurrentUser = Depends(api_user)):
    df = services.rejected(request.app.state.engine, user, batch_id)
    return page(request, df, limit, offset, format, list(RejectedOut.model_fields), f"batch-{batch_id}-rejected")


@router.post("/imports/{batch_id}/publish", response_model=BatchOut, responses=_ERR)
def import_publish(request: Request, batch_id: int = BATCH_ID,
                   user: CurrentUser = Depends(require_role("admin", api=True))):
    """Publish an upload to every signed-in user (admins); published values it replaces are kept as history."""
    from partnering.web.routes_data import publish_upload

    publish_upload(request, user, batch_id)
    b = services.batch(request.app.state.engine, user, batch_id)
    return {k: _py(b.get(k)) for k in BATCH_COLS}


@router.post("/imports", response_model=list[ImportReport], responses=_ERR)
def import_upload(request: Request, kind: str = Form(..., description="kpi | ae-monthly | rtt (ods, imd, geo: admins)"),
                  file: UploadFile = File(...), period: str | None = Form(None, description="YYYY-MM"),
                  publish: bool = Form(False, description="Publish to everyone (admins only)"),
                  user: CurrentUser = Depends(require_role("analyst", api=True))):
    """Upload and load a file (one transaction: a bad file writes nothing)."""
    from dataclasses import asdict

    from partnering.web.routes_data import store_upload

    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > request.app.state.max_upload_bytes + 1024 * 1024:
        raise HTTPException(413, "file too large")
    reports = store_upload(request, user, kind, file, period, publish)
    return [{k: v for k, v in asdict(r).items() if k in ImportReport.model_fields} for r in reports]

