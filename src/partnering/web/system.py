"""The system stage: the overview of every organisation (map, filters, summary icon table), the methods and
sources, and the API's system-wide reads (indicator catalogue, assessment flags) and documentation."""

from __future__ import annotations

import json
import math
import re
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from partnering.config import REPO_ROOT
from partnering.errors import NotFoundError
from partnering.indicators.catalogue import load_catalogue
from partnering.web import downloads, services
from partnering.web import map as webmap
from partnering.web.auth import CurrentUser
from partnering.web.cache import cached
from partnering.web.deps import api_user, check_csrf, page_user
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.markdown import title_of, to_html
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

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])
METHODS_DIR = REPO_ROOT / "docs" / "methods"
SORTS = {"name": "org_name", "code": "org_code", "segment": "segment", "score": "avg_score",
         "difficulty": "persistent_difficulty", "track": "track_record"}
SEGMENT_KINDS_DEFAULT = "acute_trust"
#: rows of the summary icon table per page: 25 by default (GOV.UK/NHS.UK pagination pattern: short pages, a
#: "previous/next" list), or everything on one page
PAGE_SIZES = (25, 50, 100)
FLAGS = {"difficulty": "In persistent difficulty", "track": "With a track record", "neither": "Neither flag"}
#: short column headings of the key metrics (the full name is in the heading for screen readers and on hover);
#: a metric not listed here gets its name up to the first bracket, comma or colon, at most three words
SHORT_HEADINGS = {"ae_4h_pct_all": "A&E 4 hours", "rtt_within_18w_pct": "RTT 18 weeks",
                  "ae_dta_over_12h_pct": "12-hour waits", "rtt_over_52w_pct": "RTT 52+ weeks",
                  "cwt_fds_28d_pct": "Cancer 28-day FDS", "cwt_62d_pct": "Cancer 62-day",
                  "cwt_31d_pct": "Cancer 31-day", "nss_engagement": "Staff engagement",
                  "nss_pp3_2_raising_concerns": "Raising concerns", "amb_c2_mean_min": "Category 2 response"}


def short_heading(code: str, name: str | None) -> str:
    """A short column heading for a key metric: :data:`SHORT_HEADINGS`, else the start of its name."""
    if code in SHORT_HEADINGS:
        return SHORT_HEADINGS[code]
    head = re.split(r"[(,:]", name or code)[0].strip() or code
    words = head.split()
    return " ".join(words[:3]) + ("…" if len(words) > 3 else "")


# ------------------------------------------------------------------------------------------------ overview


def _table_kind(kind: str) -> str:
    """The kind the summary icon table assesses: a known kind, else (none, or unknown) acute trusts."""
    return kind if kind in KIND_LABELS else SEGMENT_KINDS_DEFAULT


def _filtered_summary(engine, user, region, icb, sort, direction, kind=SEGMENT_KINDS_DEFAULT) -> pd.DataFrame:
    # the chosen kind among its own kind (partnering.measure.own_kind), as its organisations' pages show it
    df = services.summary_table(engine, user, _table_kind(kind))
    if df.empty:
        return df
    if region:
        df = df[df["region_code"] == region]
    if icb:
        df = df[df["icb_code"] == icb]
    col = SORTS.get(sort or "", "persistent_difficulty")
    asc = direction != "desc" if sort else False
    keys = [col] + (["avg_score"] if col != "avg_score" else [])
    return df.sort_values(keys, ascending=[asc] + [True] * (len(keys) - 1), na_position="last")


def _whole(text: str) -> int | None:
    return int(text) if str(text).strip().isdigit() else None


def table_rows(rows: list[dict], segment: str, flag: str, q: str, page: str, per: str) -> tuple[list[dict], dict]:
    """The summary icon table's filters (segment, flag, name or code) and one page of it; and the paging facts.

    Unknown filter values are ignored (a shared link keeps working); a page past the end shows the last page.
    """
    seg = _whole(segment)
    if seg is not None:
        rows = [r for r in rows if r.get("segment") is not None and not pd.isna(r["segment"])
                and int(r["segment"]) == seg]
    if flag == "difficulty":
        rows = [r for r in rows if r.get("persistent_difficulty")]
    elif flag == "track":
        rows = [r for r in rows if r.get("track_record")]
    elif flag == "neither":
        rows = [r for r in rows if not r.get("persistent_difficulty") and not r.get("track_record")]
    text = q.strip().lower()
    if text:
        rows = [r for r in rows if text in str(r.get("org_name") or "").lower() or text == str(r["org_code"]).lower()]
    size = _whole(per) if _whole(per) in PAGE_SIZES else (0 if per == "all" else PAGE_SIZES[0])
    pages = max(1, math.ceil(len(rows) / size)) if size else 1
    current = min(max(_whole(page) or 1, 1), pages)
    first = (current - 1) * size if size else 0
    shown = rows[first:first + size] if size else rows
    return shown, {"total": len(rows), "pages": pages, "page": current, "per": per,
                   "first": first + 1 if shown else 0, "last": first + len(shown)}


@pages.get("/")
def system(request: Request, region: str = "", icb: str = "", kind: str = SEGMENT_KINDS_DEFAULT, sort: str = "",
           dir: str = "asc", segment: str = "", flag: str = "", q: str = "", page: str = "1", per: str = "",
           user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    dir = "desc" if dir == "desc" else "asc"
    sort = sort if sort in SORTS else ""
    view = dict(cached(eng, "system_view", user, lambda: _system_view(eng, user, region, icb, kind, sort, dir),
                       region, icb, kind, sort, dir))
    shown = view.pop("shown_frame")
    # drawn per request (cheap): boundary files may appear or change without a data load
    view["map_svg"] = webmap.render_map(shown, title=view["map_title"], frame_orgs=shown if (region or icb) else None)
    flag = flag if flag in FLAGS else ""
    per = per if per == "all" or _whole(per) in PAGE_SIZES else ""
    view["assessed"] = len(view["summary"])
    view["summary"], view["paging"] = table_rows(view["summary"], segment, flag, q, page, per)
    table = {"region": region, "icb": icb, "kind": kind, "segment": segment if _whole(segment) else "",
             "flag": flag, "q": q.strip(), "per": per}
    # the download takes the table's filters and sort (not its paging): the file lists every row in the page's order
    # and its kind, when not the default (acute trusts' link is as it was)
    kind_qs = {"kind": view["kind"]} if _table_kind(view["kind"]) != SEGMENT_KINDS_DEFAULT else {}
    download_qs = urlencode({"region": region, "icb": icb, "segment": table["segment"], "flag": flag,
                             "q": table["q"], "sort": sort, "dir": dir, **kind_qs})
    view.update(table_query=table, flags=FLAGS, page_sizes=PAGE_SIZES, download_qs=download_qs,
                qs=lambda **kw: urlencode({k: v for k, v in {**table, "sort": sort, "dir": dir, **kw}.items() if v}))
    return render(request, "system/system.html", **view)


def _system_view(eng, user, region, icb, kind, sort, dir) -> dict:
    orgs = services.organisations(eng)
    regions = orgs[orgs["kind"] == "region"].sort_values("name")
    icbs = orgs[orgs["kind"] == "icb"]
    if region:
        icbs = icbs[icbs["region_code"] == region]
    icbs = icbs.sort_values("name")
    kinds = [k for k in KIND_LABELS if k in set(orgs["kind"])]
    if kind and kind not in kinds:
        kind = SEGMENT_KINDS_DEFAULT
    summary = _filtered_summary(eng, user, region, icb, sort, dir, kind)
    a = services.kind_assessment(eng, user, _table_kind(kind))
    metrics = a.metrics if a is not None else []
    cat = load_catalogue()
    shown = orgs[orgs["kind"] == kind] if kind else orgs
    if region:
        shown = shown[shown["region_code"] == region]
    if icb:
        shown = shown[shown["icb_code"] == icb]
    seg = services.summary_table(eng, user, _table_kind(kind))
    seg_map = dict(zip(seg["org_code"], seg["segment"])) if not seg.empty else {}
    shown = shown.assign(segment=shown["org_code"].map(seg_map))
    region_name = dict(zip(regions["org_code"], regions["name"])).get(region, "")
    icb_name = dict(zip(orgs["org_code"], orgs["name"])).get(icb, "")
    place = icb_name or region_name or "England"
    query = {"region": region, "icb": icb, "kind": kind}
    # which key-metric family is stale, and since when: the same for every organisation (measure.assess)
    data_note = ""
    if a is not None and "data_note" in a.flags.columns and not a.flags.empty:
        data_note = str(a.flags["data_note"].iloc[0] or "")
    return dict(title="System overview", data_note=data_note, summary=records(summary), metrics=metrics,
                metric_defs={m: cat.get(m) for m in metrics},
                metric_short={m: short_heading(m, cat[m].name if cat.get(m) else m) for m in metrics},
                regions=records(regions), icbs=records(icbs),
                kinds=[(k, KIND_LABELS[k]) for k in kinds], region=region, icb=icb, kind=kind, sort=sort,
                dir=dir, shown_frame=shown, legend=webmap.legend(), place=place, shown=records(shown),
                map_title=f"Map of {KIND_LABELS.get(kind, kind).lower()} in {place} by segment",
                kind_label=KIND_LABELS.get(kind, kind), query=query,
                table_kind_label=KIND_LABELS[_table_kind(kind)] if _table_kind(kind) != SEGMENT_KINDS_DEFAULT
                else "")


@pages.get("/download/summary")
def download_summary(request: Request, format: str = "csv", region: str = "", icb: str = "", segment: str = "",
                     flag: str = "", q: str = "", sort: str = "", dir: str = "asc",
                     kind: str = SEGMENT_KINDS_DEFAULT, user: CurrentUser = Depends(page_user)):
    """The summary icon table as the page filters and sorts it (every page of it, in the page's order); of the
    chosen kind's organisations among their own kind (acute trusts by default)."""
    eng = request.app.state.engine
    dir = "desc" if dir == "desc" else "asc"
    sort = sort if sort in SORTS else ""
    df = _filtered_summary(eng, user, region, icb, sort, dir, kind)
    if not df.empty and (segment or flag or q):
        keep, _ = table_rows(records(df), segment, flag if flag in FLAGS else "", q, "1", "all")
        df = df[df["org_code"].isin({r["org_code"] for r in keep})]
    return downloads.table_response(df, format, "summary-icon-table")


@pages.get("/download/organisations")
def download_orgs(request: Request, format: str = "csv", kind: str = "", region: str = "", icb: str = "",
                  user: CurrentUser = Depends(page_user)):
    df = services.organisations(request.app.state.engine)
    for col, val in (("kind", kind), ("region_code", region), ("icb_code", icb)):
        if val:
            df = df[df[col] == val]
    return downloads.table_response(df, format, "organisations")


# ------------------------------------------------------------------------------------------------ methods


def method_docs() -> list[dict]:
    """The method write-ups of ``docs/methods/*.md``: slug and title of each."""
    out = []
    for p in sorted(METHODS_DIR.glob("*.md")) if METHODS_DIR.is_dir() else []:
        out.append({"slug": p.stem, "title": title_of(p.read_text(encoding="utf-8"), p.stem.replace("-", " "))})
    return out


@pages.get("/methods")
def methods(request: Request, user: CurrentUser = Depends(page_user)):
    cat = load_catalogue()
    rows = [{"code": d.code, "name": d.name, "unit": d.unit, "direction": d.improvement_direction,
             "standard": d.national_standard, "standard_name": d.standard_name or "", "key": d.key,
             "source": d.source or ""} for d in cat.values()]
    from partnering.measure.nof import metric_status

    # the Oversight Framework's metrics: in (with data loaded), proxy, no data loaded, missing (measure/nof.py)
    fresh = services.freshness(request.app.state.engine, user)
    with_data = {c.split(":", 1)[0] for text in fresh["indicators"] for c in str(text).split(", ")}
    nof = metric_status(cat, with_data=with_data).to_dict("records")
    return render(request, "system/methods.html", title="Methods and sources", docs=method_docs(), indicators=rows,
                  nof=nof)


@pages.get("/methods/{slug}")
def method(request: Request, slug: str, user: CurrentUser = Depends(page_user)):
    docs = {d["slug"]: d for d in method_docs()}
    if slug not in docs:
        raise NotFoundError(f"no method write-up called {slug!r}")
    md = (METHODS_DIR / f"{slug}.md").read_text(encoding="utf-8")
    title = title_of(md, slug)
    lines = md.splitlines()
    body = "\n".join(ln for i, ln in enumerate(lines) if not (ln.startswith("# ") and ln[2:].strip() == title))
    return render(request, "system/method.html", title=title, body=to_html(body))


@pages.get("/methods.json", include_in_schema=False)
def methods_json(request: Request, user: CurrentUser = Depends(page_user)):
    return json.loads(json.dumps(method_docs()))


# ------------------------------------------------------------------------------------------------ API


class IndicatorOut(BaseModel):
    code: str
    name: str
    unit: str
    improvement_direction: str
    national_standard: float | None = None
    standard_name: str | None = None
    source: str | None = None


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
    data_note: str = Field("", description="Which family of the key metrics is stale and since when; empty if none")


FLAG_COLS = list(FlagsOut.model_fields)


@api.get("/docs", include_in_schema=False)
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


@api.get("/openapi.json", include_in_schema=False)
def openapi_alias(request: Request):
    return JSONResponse(request.app.openapi())


@api.get("/indicators", response_model=Page[IndicatorOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def indicators(request: Request, limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
               user: CurrentUser = Depends(api_user)):
    """The indicator catalogue: unit, improvement direction, national standard and source."""
    df = services.indicators(request.app.state.engine)
    return page(request, df, limit, offset, format, list(IndicatorOut.model_fields), "indicators", key=(), user=user)


@api.get("/assessment", response_model=Page[FlagsOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def assessment(request: Request, persistent_difficulty: bool | None = None, track_record: bool | None = None,
               limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
               user: CurrentUser = Depends(api_user)):
    """Flags for every assessed organisation: segment, persistent difficulty, track record, good practice."""
    flags = services.require_assessment(request.app.state.engine, user).flags
    if persistent_difficulty is not None:
        flags = flags[flags["persistent_difficulty"].astype(bool) == persistent_difficulty]
    if track_record is not None:
        flags = flags[flags["track_record"].astype(bool) == track_record]
    return page(request, flags, limit, offset, format, FLAG_COLS, "assessment",
                key=(persistent_difficulty, track_record), user=user, freshness=freshness_of(request, user))


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
    freshness: list[FamilyFreshness] = []


@api.get("/assessment/{code}", response_model=OrgAssessment, responses=ERROR_RESPONSES)
def assessment_org(request: Request, response: Response, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """One organisation's flags, icons per indicator and good practice; ``flags.data_note`` names a stale family."""
    # among its own kind (partnering.measure.own_kind): an ambulance trust among ambulance trusts
    info = services.require_org_assessment(request.app.state.engine, user, code.upper()).org(code.upper())
    flags = {k: jsonable(info["flags"].get(k)) for k in FLAG_COLS}
    flags["segment"] = None if flags["segment"] is None else int(flags["segment"])
    for k in ("difficulty_reason", "track_record_reason", "good_practice", "summary", "data_note"):
        flags[k] = flags[k] or ""
    fresh = freshness_of(request, user)
    with_freshness(response, fresh)
    return {"flags": flags, "icons": json_records(info["icons"], list(IconOut.model_fields)),
            "good_practice": [str(s) for s in info["good_practice"].get("explanation", [])], "freshness": fresh}
