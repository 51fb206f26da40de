"""The organisation stage: find an organisation, and its page (integrated performance icons, SPC charts with
their data tables, flags, peers and candidate partners, downloads); the API's organisations, observations and
SPC (of a stored series, or of one sent)."""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from partnering.errors import NotFoundError, ValidationError
from partnering.indicators.catalogue import indicator, load_catalogue
from partnering.report.chart_spec import shown_limits
from partnering.store.annotations import with_notes
from partnering.web import chart_notes, charts, downloads, services
from partnering.web import match as webmatch
from partnering.web.auth import CurrentUser
from partnering.web.cache import cached
from partnering.web.deps import api_user, check_csrf, page_user
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import (
    CODE,
    CSV_RESPONSE,
    FORMAT,
    LIMIT,
    OFFSET,
    FamilyFreshness,
    Page,
    freshness_of,
    json_records,
    jsonable,
    page,
    with_freshness,
)
from partnering.web.render import KIND_LABELS, records, render
from partnering.web.templating import render_fragment

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])


# ------------------------------------------------------------------------------------------------ pages


def _org_context(eng, user, code):
    org = services.org_row(eng, code)
    orgs = services.organisations(eng)
    names = dict(zip(orgs["org_code"], orgs["name"]))
    org["icb_name"] = names.get(org.get("icb_code"), "")
    org["region_name"] = names.get(org.get("region_code"), "")
    return org


@pages.get("/org")
def org_lookup(request: Request, q: str = "", user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    orgs = services.organisations(eng)
    q = q.strip()
    hits = orgs.iloc[0:0]
    if q:
        up = q.upper()
        exact = orgs[orgs["org_code"] == up]
        if len(exact) == 1:
            return RedirectResponse(f"/org/{up}", status_code=303)
        hits = orgs[orgs["name"].str.lower().str.contains(q.lower(), regex=False)].head(50)
    return render(request, "organisation/org_lookup.html", title="Find an organisation", q=q, hits=records(hits),
                  kind_labels=KIND_LABELS)


@pages.get("/org/{code}")
def organisation_page(request: Request, code: str, max_travel_minutes: str = "",
                      user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)  # 404 before anything is cached
    view = org_view(eng, user, code, webmatch.travel_limit(max_travel_minutes))
    # the cached body, with the annotate-or-rebase form under each chart for those who may write notes
    view = {**view, "org_content_html": chart_notes.with_note_forms(request, user, code, view["org_content_html"],
                                                                    view["charts"])}
    return render(request, "organisation/org.html", **view)


def org_view(eng, user, code: str, max_minutes: float | None = webmatch.DEFAULT_MAX_MINUTES) -> dict:
    """The organisation page's view, cached per data version and viewer scope (the cache warm-up calls it)."""
    return cached(eng, "org_view", user, lambda: _org_view(eng, user, code, max_minutes), code, max_minutes)


def _org_view(eng, user, code: str, max_minutes: float | None = webmatch.DEFAULT_MAX_MINUTES) -> dict:
    """Everything the organisation page shows, prepared once per data version and viewer scope."""
    org = _org_context(eng, user, code)
    a = services.org_assessment(eng, user, code)  # among its own kind (an ambulance trust among ambulance trusts)
    flags = None
    good = []
    if a is not None and code in set(a.flags["org_code"]):
        info = a.org(code)
        flags = info["flags"]
        good = records(info["good_practice"])
    icons = services.org_icons(eng, user, code)
    pts = services.org_spc(eng, user, code)
    cat = load_catalogue()
    key = set(a.metrics) if a is not None else set()
    notes = chart_notes.org_notes(eng, code)
    chart_list = []
    if not pts.empty:
        order = sorted(pts["indicator"].unique(), key=lambda c: (c not in key, c))
        for i, ind in enumerate(order):
            d = indicator(ind, cat)
            sub = pts[pts["indicator"] == ind].sort_values("x")
            name = d.name if d else ind
            unit = d.unit if d else ""
            mine = notes[notes["indicator"] == ind] if not notes.empty else None
            fig = charts.spc_figure(sub, f"{name}", unit, indicator_code=ind, notes=mine,
                                    icons=services.org_spc_icons(eng, user, code, ind))
            rows, limit_notes = shown_limits(sub.assign(period=pd.to_datetime(sub["x"]).dt.strftime("%Y-%m")), unit)
            rows = with_notes(rows, notes)
            chart_list.append({"id": f"chart-{i}", "indicator": ind, "name": name, "unit": unit, "key": ind in key,
                               "json": charts.figure_json(fig), "limit_notes": limit_notes,
                               "notes": records(mine[["period", "kind", "text", "created_by"]]) if mine is not None
                               else [],
                               "rows": records(rows[["period", "y", "mean", "lpl_shown", "upl_shown", "point_type",
                                                     "explanation", "annotation", "rebase_reason"]])})
    peers = services.peers(eng, user, code)
    try:
        partners, partners_reason = services.partner_candidates(eng, user, code, max_minutes), ""
    except NotFoundError as exc:  # why there can be none, said on the page
        partners, partners_reason = None, exc.user_message()
    view = dict(title=org["name"], org=org, flags=flags, good=good, icons=records(icons),
                **dict(zip(("partners", "partner_columns"), webmatch.partner_view(partners))),
                charts=chart_list, peers=records(peers), partners_reason=partners_reason,
                peer_group=peers.attrs.get("peer_group"), max_travel_minutes=max_minutes,
                kind_label=KIND_LABELS.get(org["kind"], org["kind"]), demo_codes=services.synthetic_codes(eng))
    # The page body depends on the view alone: render it once here (cached with the view) instead of on every
    # request; the page template only wraps it in the layout (header, user, CSRF token, script nonce).
    html = render_fragment("organisation/org_content.html", **view)
    return dict(title=view["title"], org=org, charts=[{"id": c["id"], "name": c["name"]} for c in chart_list],
                org_content_html=html, synthetic=_shows_synthetic(eng, code, a))


def _shows_synthetic(eng, code: str, a) -> bool:
    """Whether the organisation page shows invented (demo) figures, for the layout's synthetic-data banner: the
    organisation is a demo one, or demo organisations' figures on the key metrics rank it (its segment). A real
    organisation ranked only among real ones shows none; a demo peer or candidate partner it lists is marked
    as invented in its row (``organisation/org_content.html``) instead."""
    fake = services.synthetic_codes(eng)
    if not fake:
        return False
    shown = {code}
    if a is not None and code in set(a.flags["org_code"]):  # those with key-metric figures rank it
        shown |= set(a.icons.loc[a.icons["indicator"].isin(a.metrics) & a.icons["latest_value"].notna(), "org_code"])
    return bool(shown & fake)


@pages.get("/org/{code}/download/{what}")
def org_download(request: Request, code: str, what: str, format: str = "csv",
                 indicator_code: str = Query("", alias="indicator"), max_travel_minutes: str = "",
                 user: CurrentUser = Depends(page_user)):
    """The data behind the page's charts and tables, each row under its publication rule (:mod:`web.downloads`).
    An indicator the store does not know, or one this organisation has no values of, is a 404 (not an empty file).
    """
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    inds = services.indicators(eng)
    units = dict(zip(inds["code"], inds["unit"])) if not inds.empty else {}
    if indicator_code and indicator_code not in units:
        raise NotFoundError(f"no indicator called {indicator_code!r}")

    def one_indicator(df: pd.DataFrame) -> pd.DataFrame:
        if not indicator_code:
            return df
        df = df[df["indicator"] == indicator_code] if "indicator" in df.columns else df.iloc[0:0]
        if df.empty:
            raise NotFoundError(f"no values of {indicator_code!r} for {code}")
        return df

    if what == "spc":
        df = one_indicator(services.org_spc(eng, user, code))
        cols = [c for c in ("org_code", "indicator", "x", "y", "numerator", "denominator", "rebase_group", "mean",
                            "lpl", "upl", "target", "point_type", "explanation") if c in df.columns]
        df = downloads.publishable(eng, df[cols].rename(columns={"x": "period"}).assign(
            period=lambda d: pd.to_datetime(d["period"]).dt.strftime("%Y-%m")), units=units)
        df = with_notes(df, chart_notes.org_notes(eng, code))  # annotations and rebase reasons on their months
    elif what == "icons":
        df = downloads.publishable(eng, one_indicator(services.org_icons(eng, user, code)), unit_col="unit",
                                   period_col="latest_period")
    elif what == "peers":
        df = services.peers(eng, user, code)
    elif what == "partners":
        df = services.partner_candidates(eng, user, code, webmatch.travel_limit(max_travel_minutes))
    elif what == "observations":
        df = downloads.publishable(eng, one_indicator(services.observations(eng, user, orgs=[code])), units=units)
        df = with_notes(df, chart_notes.org_notes(eng, code))
    else:
        raise NotFoundError(f"nothing called {what!r} to download")
    return downloads.table_response(df, format, f"{code}-{what}" + (f"-{indicator_code}" if indicator_code else ""))


# ------------------------------------------------------------------------------------------------ API


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
    rebase_group: int | None = Field(None, description="0 before the first rebase, then 1, 2 ... (limits restart)")
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
    freshness: list[FamilyFreshness] | None = Field(
        None, description="For a stored series: per family of data, the latest month loaded")


#: an ISO month (YYYY-MM) or date (YYYY-MM-DD)
ISO_MONTH_OR_DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"
PERIOD = "^[0-9]{4}-(0[1-9]|1[0-2])$"


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


ORG_COLS = list(Organisation.model_fields)


@api.get("/organisations", response_model=Page[Organisation], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def organisations(request: Request, kind: str | None = None, region: str | None = None, icb: str | None = None,
                  q: str | None = Query(None, description="Text in the name or the code"),
                  limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
                  user: CurrentUser = Depends(api_user)):
    """Organisations: filter by kind, region, ICB, or text in the name or code."""
    df = services.organisations(request.app.state.engine)
    for col, val in (("kind", kind), ("region_code", region), ("icb_code", icb)):
        if val:
            df = df[df[col] == val]
    if q:
        s = q.lower()
        df = df[df["name"].str.lower().str.contains(s, regex=False) | (df["org_code"].str.lower() == s)]
    return page(request, df, limit, offset, format, ORG_COLS, "organisations", key=(kind, region, icb, q), user=user)


@api.get("/organisations/{code}", response_model=Organisation, responses=ERROR_RESPONSES)
def organisation(request: Request, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """One organisation: name, kind, ICB, region, postcode and location."""
    row = services.org_row(request.app.state.engine, code)
    return {k: jsonable(row.get(k)) for k in ORG_COLS}


@api.get("/observations", response_model=Page[ObservationOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def observations(request: Request, org: list[str] | None = Query(None, description="Organisation code(s)",
                                                                 examples=[["ZA1"]]),
                 indicator: list[str] | None = Query(None, description="Indicator code(s)",
                                                     examples=[["ae_4h_pct_all"]]),
                 period_from: str | None = Query(None, alias="from", pattern=PERIOD, description="First month"),
                 period_to: str | None = Query(None, alias="to", pattern=PERIOD, description="Last month"),
                 limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
                 user: CurrentUser = Depends(api_user)):
    """Current values you may see, by organisation, indicator and month range."""
    eng = request.app.state.engine
    df = services.observations(eng, user, orgs=[o.upper() for o in org] if org else None,
                               indicator_codes=indicator or None)
    if period_from:
        df = df[df["period"] >= period_from]
    if period_to:
        df = df[df["period"] <= period_to]
    key = (tuple(org or ()), tuple(indicator or ()), period_from, period_to)
    return page(request, df, limit, offset, format, list(ObservationOut.model_fields), "observations", key=key,
                user=user, freshness=freshness_of(request, user))


def _spc_out(points: pd.DataFrame, icons: dict) -> dict:
    pts = points.copy()
    pts["x"] = pd.to_datetime(pts["x"]).dt.strftime("%Y-%m-%d")
    return {"points": json_records(pts, list(SpcPoint.model_fields)),
            "icons": {"variation_icon": jsonable(icons.get("variation_icon")),
                      "assurance_type": jsonable(icons.get("assurance_type"))}}


@api.get("/spc", response_model=SpcOut, responses=ERROR_RESPONSES)
def spc_for(request: Request, response: Response,
            org: str = Query(..., description="Organisation code", examples=["ZA1"]),
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
    fresh = freshness_of(request, user)
    with_freshness(response, fresh)
    return {**_spc_out(pts, services.org_spc_icons(eng, user, code, indicator)), "freshness": fresh}


@api.post("/spc", response_model=SpcOut, responses=ERROR_RESPONSES)
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
