"""Pages: the system overview, an organisation, the buddying plan and the methods."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from partnering.config import REPO_ROOT
from partnering.errors import NotFoundError, PartneringError
from partnering.indicators.catalogue import indicator, load_catalogue
from partnering.web import charts, downloads, services
from partnering.web import map as webmap
from partnering.web.auth import CurrentUser, audit
from partnering.web.cache import cached
from partnering.web.deps import check_csrf, page_user, render, require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
METHODS_DIR = REPO_ROOT / "docs" / "methods"
SORTS = {"name": "org_name", "code": "org_code", "segment": "segment", "score": "avg_score",
         "difficulty": "persistent_difficulty", "track": "track_record"}
SEGMENT_KINDS_DEFAULT = "acute_trust"
KIND_LABELS = {
    "acute_trust": "Acute trusts", "specialist_trust": "Specialist trusts",
    "mental_health_trust": "Mental health trusts", "community_trust": "Community trusts",
    "ambulance_trust": "Ambulance trusts", "trust": "Trusts (kind unknown)", "icb": "Integrated care boards",
    "region": "NHS regions", "gp_practice": "GP practices", "independent_provider": "Independent providers",
    "university": "Universities", "technology_partner": "Technology partners", "consultancy": "Consultancies",
    "improvement_partner": "Improvement partners", "other_provider": "Other providers",
}


def _records(df: pd.DataFrame) -> list[dict]:
    if df is None or df.empty:
        return []
    return df.astype(object).where(df.notna(), None).to_dict("records")


# ------------------------------------------------------------------------------------------------ system


def _filtered_summary(engine, user, region, icb, sort, direction) -> pd.DataFrame:
    df = services.summary_table(engine, user)
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


@router.get("/")
def system(request: Request, region: str = "", icb: str = "", kind: str = SEGMENT_KINDS_DEFAULT, sort: str = "",
           dir: str = "asc", user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    dir = "desc" if dir == "desc" else "asc"
    sort = sort if sort in SORTS else ""
    view = dict(cached(eng, "system_view", user, lambda: _system_view(eng, user, region, icb, kind, sort, dir),
                       region, icb, kind, sort, dir))
    shown = view.pop("shown_frame")
    # drawn per request (cheap): boundary files may appear or change without a data load
    view["map_svg"] = webmap.render_map(shown, title=view["map_title"], frame_orgs=shown if (region or icb) else None)
    return render(request, "system.html", **view)


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
    summary = _filtered_summary(eng, user, region, icb, sort, dir)
    a = services.assessment(eng, user)
    metrics = a.metrics if a is not None else []
    cat = load_catalogue()
    shown = orgs[orgs["kind"] == kind] if kind else orgs
    if region:
        shown = shown[shown["region_code"] == region]
    if icb:
        shown = shown[shown["icb_code"] == icb]
    seg = services.summary_table(eng, user)
    seg_map = dict(zip(seg["org_code"], seg["segment"])) if not seg.empty else {}
    shown = shown.assign(segment=shown["org_code"].map(seg_map))
    region_name = dict(zip(regions["org_code"], regions["name"])).get(region, "")
    icb_name = dict(zip(orgs["org_code"], orgs["name"])).get(icb, "")
    place = icb_name or region_name or "England"
    query = {"region": region, "icb": icb, "kind": kind}
    return dict(title="System overview", summary=_records(summary), metrics=metrics,
                metric_defs={m: cat.get(m) for m in metrics}, regions=_records(regions), icbs=_records(icbs),
                kinds=[(k, KIND_LABELS[k]) for k in kinds], region=region, icb=icb, kind=kind, sort=sort,
                dir=dir, shown_frame=shown, legend=webmap.legend(), place=place, shown=_records(shown),
                map_title=f"Map of {KIND_LABELS.get(kind, kind).lower()} in {place} by segment",
                kind_label=KIND_LABELS.get(kind, kind), query=query)


@router.get("/download/summary")
def download_summary(request: Request, format: str = "csv", region: str = "", icb: str = "",
                     user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    df = _filtered_summary(eng, user, region, icb, "", "asc")
    return downloads.table_response(df, format, "summary-icon-table")


@router.get("/download/organisations")
def download_orgs(request: Request, format: str = "csv", kind: str = "", region: str = "", icb: str = "",
                  user: CurrentUser = Depends(page_user)):
    df = services.organisations(request.app.state.engine)
    for col, val in (("kind", kind), ("region_code", region), ("icb_code", icb)):
        if val:
            df = df[df[col] == val]
    return downloads.table_response(df, format, "organisations")


# ------------------------------------------------------------------------------------------------ organisation


def _org_context(eng, user, code):
    org = services.org_row(eng, code)
    orgs = services.organisations(eng)
    names = dict(zip(orgs["org_code"], orgs["name"]))
    org["icb_name"] = names.get(org.get("icb_code"), "")
    org["region_name"] = names.get(org.get("region_code"), "")
    return org


@router.get("/org")
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
    return render(request, "org_lookup.html", title="Find an organisation", q=q, hits=_records(hits),
                  kind_labels=KIND_LABELS)


@router.get("/org/{code}")
def organisation(request: Request, code: str, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)  # 404 before anything is cached
    return render(request, "org.html", **org_view(eng, user, code))


def org_view(eng, user, code: str) -> dict:
    return cached(eng, "org_view", user, lambda: _org_view(eng, user, code), code)


def _org_view(eng, user, code: str) -> dict:
    """Everything the organisation page shows, prepared once per data version and viewer scope."""
    org = _org_context(eng, user, code)
    a = services.assessment(eng, user)
    flags = None
    good = []
    if a is not None and code in set(a.flags["org_code"]):
        info = a.org(code)
        flags = info["flags"]
        good = _records(info["good_practice"])
    icons = services.org_icons(eng, user, code)
    pts = services.org_spc(eng, user, code)
    cat = load_catalogue()
    key = set(a.metrics) if a is not None else set()
    chart_list = []
    if not pts.empty:
        order = sorted(pts["indicator"].unique(), key=lambda c: (c not in key, c))
        for i, ind in enumerate(order):
            d = indicator(ind, cat)
            sub = pts[pts["indicator"] == ind].sort_values("x")
            name = d.name if d else ind
            unit = d.unit if d else ""
            fig = charts.spc_figure(sub, f"{name}", unit)
            rows = sub.assign(period=pd.to_datetime(sub["x"]).dt.strftime("%Y-%m"))
            chart_list.append({"id": f"chart-{i}", "indicator": ind, "name": name, "unit": unit, "key": ind in key,
                               "json": charts.figure_json(fig),
                               "rows": _records(rows[["period", "y", "mean", "lpl", "upl", "point_type",
                                                      "explanation"]])})
    peers = services.peers(eng, user, code)
    partners = services.partner_candidates(eng, user, code)
    view = dict(title=org["name"], org=org, flags=flags, good=good, icons=_records(icons),
                charts=chart_list, peers=_records(peers), partners=None if partners is None else _records(partners),
                partner_columns=_partner_columns(partners), kind_label=KIND_LABELS.get(org["kind"], org["kind"]))
    # The page body depends on the view alone: render it once here (cached with the view) instead of on every
    # request; the page template only wraps it in the layout (header, user, CSRF token, script nonce).
    from markupsafe import Markup

    from partnering.web.app import template_env

    html = Markup(template_env().get_template("org_content.html").render(**view))
    return dict(title=view["title"], org=org, charts=[{"id": c["id"]} for c in chart_list],
                org_content_html=html)


def _partner_columns(df: pd.DataFrame | None) -> list[tuple[str, str]]:
    if df is None or df.empty:
        return []
    preferred = [("rank", "Rank"), ("supporter_kind", "Kind"), ("score", "Suitability score"),
                 ("travel_minutes", "Travel (minutes)"), ("reason", "Why they could help"),
                 ("two_way_learning", "What they could learn in return")]
    return [(c, h) for c, h in preferred if c in df.columns]


@router.get("/org/{code}/download/{what}")
def org_download(request: Request, code: str, what: str, format: str = "csv",
                 indicator_code: str = Query("", alias="indicator"), user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    if what == "spc":
        df = services.org_spc(eng, user, code)
        if indicator_code:
            df = df[df["indicator"] == indicator_code]
        cols = [c for c in ("org_code", "indicator", "x", "y", "numerator", "denominator", "mean", "lpl", "upl",
                            "target", "point_type", "explanation") if c in df.columns]
        df = downloads.suppress(df[cols].rename(columns={"x": "period"}).assign(
            period=lambda d: pd.to_datetime(d["period"]).dt.strftime("%Y-%m")))
    elif what == "icons":
        df = downloads.suppress(services.org_icons(eng, user, code), unit_col="unit")
    elif what == "peers":
        df = services.peers(eng, user, code)
    elif what == "partners":
        df = services.partner_candidates(eng, user, code)
        if df is None:
            raise NotFoundError("partner candidates are not available yet")
    elif what == "observations":
        df = services.observations(eng, user, orgs=[code])
        df = downloads.suppress(df)
    else:
        raise NotFoundError(f"nothing called {what!r} to download")
    return downloads.table_response(df, format, f"{code}-{what}" + (f"-{indicator_code}" if indicator_code else ""))


# ------------------------------------------------------------------------------------------------ buddying plan


def _plan_params(capacity: str, max_travel: str, forbid: str, require: str) -> services.PlanParams:
    from partnering.errors import ValidationError

    try:
        cap = int(capacity) if str(capacity).strip() else 1
    except ValueError:
        raise ValidationError("capacity must be a whole number, like 2") from None
    try:
        mt = float(max_travel) if str(max_travel).strip() else None
    except ValueError:
        raise ValidationError("maximum travel time must be a number of minutes, like 90") from None
    p = services.PlanParams(capacity=cap, max_travel_minutes=mt,
                            forbidden=services.parse_pairs(forbid, "Pairs to forbid"),
                            required=services.parse_pairs(require, "Pairs to require"))
    p.validate()
    return p


def _plan_lines(eng, pairs: pd.DataFrame) -> pd.DataFrame:
    if pairs.empty:
        return pairs
    orgs = services.organisations(eng).set_index("org_code")
    return pairs.assign(lat_a=pairs["recipient"].map(orgs["latitude"]), lon_a=pairs["recipient"].map(orgs["longitude"]),
                        lat_b=pairs["supporter"].map(orgs["latitude"]), lon_b=pairs["supporter"].map(orgs["longitude"]))


@router.get("/plan")
def plan(request: Request, capacity: str = "1", max_travel: str = "90", forbid: str = "", require: str = "",
         user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    form = {"capacity": capacity, "max_travel": max_travel, "forbid": forbid, "require": require}
    errors, result, svg = [], None, None
    try:
        params = _plan_params(capacity, max_travel, forbid, require)
        result = services.buddying_plan(eng, user, params)
    except PartneringError as exc:
        field = "capacity" if "capacity" in str(exc) else "max_travel" if "travel" in str(exc) else \
            "forbid" if "forbid" in str(exc).lower() else "require"
        errors = [{"text": exc.user_message(), "href": f"#{field}"}]
    if result is not None:
        orgs = services.organisations(eng)
        involved = set(result.pairs.get("recipient", [])) | set(result.pairs.get("supporter", [])) | \
            set(result.unmatched.get("recipient", []))
        shown = orgs[orgs["org_code"].isin(involved)]
        seg = services.summary_table(eng, user)
        seg_map = dict(zip(seg["org_code"], seg["segment"])) if not seg.empty else {}
        shown = shown.assign(segment=shown["org_code"].map(seg_map))
        svg = webmap.render_map(shown, title="Map of the buddying plan: a dashed line joins each organisation to "
                                             "its lead partner", lines=_plan_lines(eng, result.pairs))
    return render(request, "plan.html", status_code=400 if errors else 200, title="Buddying plan", form=form,
                  errors=errors, result=result, pairs=_records(result.pairs) if result else [],
                  unmatched=_records(result.unmatched) if result else [], map_svg=svg, legend=webmap.legend(),
                  query="&".join(f"{k}={v}" for k, v in form.items() if v))


@router.get("/plan/download")
def plan_download(request: Request, format: str = "csv", what: str = "pairs", capacity: str = "1",
                  max_travel: str = "90", forbid: str = "", require: str = "", user: CurrentUser = Depends(page_user)):
    params = _plan_params(capacity, max_travel, forbid, require)
    res = services.buddying_plan(request.app.state.engine, user, params)
    df = res.unmatched if what == "unmatched" else res.pairs
    return downloads.table_response(df, format, f"buddying-plan-{what}")


@router.post("/plan/save")
def plan_save(request: Request, capacity: str = Form("1"), max_travel: str = Form("90"), forbid: str = Form(""),
              require: str = Form(""), user: CurrentUser = Depends(require_role("analyst"))):
    eng = request.app.state.engine
    params = _plan_params(capacity, max_travel, forbid, require)
    res = services.buddying_plan(eng, user, params)
    with eng.begin() as conn:
        audit(conn, user.email, "plan.save", "buddying_plan", None, {
            "params": {"capacity": params.capacity, "max_travel_minutes": params.max_travel_minutes,
                       "forbidden": params.forbidden, "required": params.required},
            "pairs": res.pairs[["recipient", "supporter"]].to_dict("records") if not res.pairs.empty else [],
            "unmatched": res.unmatched.to_dict("records") if not res.unmatched.empty else [],
            "solver": res.solver})
    q = "&".join(f"{k}={v}" for k, v in {"capacity": capacity, "max_travel": max_travel, "forbid": forbid,
                                         "require": require}.items() if v)
    return RedirectResponse(f"/plan?{q}&saved=1", status_code=303)


# ------------------------------------------------------------------------------------------------ methods


def method_docs() -> list[dict]:
    from partnering.web.markdown import title_of

    out = []
    for p in sorted(Path(METHODS_DIR).glob("*.md")) if METHODS_DIR.is_dir() else []:
        out.append({"slug": p.stem, "title": title_of(p.read_text(encoding="utf-8"), p.stem.replace("-", " "))})
    return out


@router.get("/methods")
def methods(request: Request, user: CurrentUser = Depends(page_user)):
    cat = load_catalogue()
    rows = [{"code": d.code, "name": d.name, "unit": d.unit, "direction": d.improvement_direction,
             "standard": d.national_standard, "standard_name": d.standard_name or "", "key": d.key,
             "source": d.source or ""} for d in cat.values()]
    return render(request, "methods.html", title="Methods and sources", docs=method_docs(), indicators=rows)


@router.get("/methods/{slug}")
def method(request: Request, slug: str, user: CurrentUser = Depends(page_user)):
    from partnering.web.markdown import title_of, to_html

    docs = {d["slug"]: d for d in method_docs()}
    if slug not in docs:
        raise NotFoundError(f"no method write-up called {slug!r}")
    md = (METHODS_DIR / f"{slug}.md").read_text(encoding="utf-8")
    title = title_of(md, slug)
    lines = md.splitlines()
    body = "\n".join(ln for i, ln in enumerate(lines) if not (ln.startswith("# ") and ln[2:].strip() == title))
    return render(request, "method.html", title=title, body=to_html(body))


@router.get("/methods.json", include_in_schema=False)
def methods_json(request: Request, user: CurrentUser = Depends(page_user)):
    return json.loads(json.dumps(method_docs()))
