"""Impact evaluation (issue #11 s.3) as pages and as ``/api/v1``: a thin face over :mod:`partnering.evaluate`.

Page: ``/partnerships/{id}/evaluation`` — per indicator the partnership names (else the key metrics): the verdict in
plain English, each method's effect with its interval and p-value, the regression-to-the-mean check, the
organisations kept out of the comparators (spillover), warnings, effects by year, realised effects against the
business case's forecast, and three charts (observed against the counterfactuals with the gap; the SPC view rebased
at the start; the event study), each a figure with a caption and a data table.  Downloads: the report (HTML, PDF:
:mod:`partnering.report.evaluation`) and the results (CSV, XLSX: estimates only, no organisation's raw figures).

API: ``GET /api/v1/partnerships/{id}/evaluation`` answers what ``partnering evaluate partnership ID --json`` prints
(NaN as ``null``); ``POST /api/v1/evaluate/panel`` what ``partnering evaluate panel FILE ... --json`` prints, for a
CSV upload (``multipart/form-data``) or a JSON long table, with the CLI's options.

Evaluations take seconds (synthetic control with placebo inference per indicator), so a partnership's is cached per
data version and viewer scope (:func:`partnering.web.cache.cached`: any load, publication or audited change —
an edit of the partnership or its case — computes it afresh) and the page says how long it took.  Access: every
signed-in user reads; unpublished uploads are seen only by their organisation and admins, through the library's
reads (``viewer_org``/``viewer_is_admin`` of :func:`partnering.evaluate.run.evaluate_partnership`).
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from partnering.errors import PartneringError, ValidationError
from partnering.evaluate.triangulate import METHOD_LABELS as _LABELS
from partnering.evaluate.triangulate import method_label
from partnering.register import get_partnership
from partnering.web.auth import CurrentUser
from partnering.web.cache import cached
from partnering.web.charts import figure_json, spc_figure
from partnering.web.deps import api_user, check_csrf, page_user
from partnering.web.downloads import safe_name, table_response
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import RecordId
from partnering.web.render import records, render

log = logging.getLogger("partnering.web")

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])

#: the CLI's ``--method`` choices (``partnering evaluate ... --method``)
METHOD_CHOICES = ("its", "did", "sc", "cs", "all")
METHOD_LABELS = {k: method_label(k, "trusts") for k in _LABELS}  # a partnership's panel is of trusts
#: a JSON long table of at most this many rows (6,000 GP practices x 60 months, the benchmark's largest panel,
#: is 360,000); a CSV upload is limited by the app's upload size (``app.state.max_upload_bytes``) as on /data
MAX_PANEL_ROWS = 400_000


# ------------------------------------------------------------------------------------------------ the library


def _json_safe(v):
    """NaN and infinities as ``None``, numpy scalars as Python ones, recursively (strict JSON)."""
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def evaluation(engine, user: CurrentUser, partnership_id: RecordId, indicators: tuple[str, ...] | None = None,
               method: str = "all", start: str | None = None, include_spillover: bool = False,
               level: float = 0.95) -> dict:
    """The partnership's evaluation, cached per data version and viewer scope: ``{"evaluations": {indicator:
    Evaluation}, "seconds": ..., "computed_at": ...}``, or ``{"error": reason, "status": code}`` when it cannot be
    evaluated (no start month, no data around the start)."""
    from partnering.evaluate.run import evaluate_partnership

    def compute():
        t0 = time.perf_counter()
        try:
            evs = evaluate_partnership(engine, partnership_id, indicators=list(indicators) if indicators else None,
                                       methods=(method,), start=start, exclude_spillover=not include_spillover,
                                       level=level, **user.scope())
        except PartneringError as exc:
            from partnering.web.errors import status_of

            return {"error": exc.user_message(), "status": status_of(exc)}
        return {"evaluations": evs, "seconds": time.perf_counter() - t0,
                "computed_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}

    return cached(engine, "evaluation", user, compute, partnership_id, indicators, method, start, include_spillover,
                  level)


def _evaluated(engine, user, partnership_id: RecordId, **kw) -> dict:
    """The evaluation, or the library's reason as an error answer (400/404)."""
    out = evaluation(engine, user, partnership_id, **kw)
    if "error" in out:
        err = ValidationError(out["error"])
        if out["status"] == 404:
            from partnering.errors import NotFoundError

            err = NotFoundError(out["error"])
        raise err
    return out


def results_frame(evaluations: dict) -> pd.DataFrame:
    """Every estimate of every indicator as one tidy table: per method the effect (``table`` = effect), per period
    (gap_by_period), per year (effect_by_year), and realised against forecast (realised_vs_forecast).  Estimates
    only: an organisation's own values are not in it (they follow the publication rules on the data pages)."""
    rows: list[dict] = []
    for ind, ev in evaluations.items():
        methods = dict(ev.results)
        if ev.rtm is not None:
            methods["rtm"] = ev.rtm
        for m, r in methods.items():
            rows.append({"indicator": ind, "table": "effect", "method": m, "period": None, "estimate": r.att,
                         "ci_low": r.ci_low, "ci_high": r.ci_high, "level": r.level, "p_value": r.p_value,
                         "rmspe_pre": r.rmspe_pre})
            if m == "rtm" or r.gaps is None or r.gaps.empty:
                continue
            g = r.gaps
            for rec in g.to_dict("records"):
                if "post" in g and not rec.get("post", True):
                    continue
                rows.append({"indicator": ind, "table": "gap_by_period", "method": m, "period": rec.get("period"),
                             "estimate": rec.get("gap"), "ci_low": rec.get("low"), "ci_high": rec.get("high"),
                             "level": r.level})
        if ev.per_year is not None:
            for rec in ev.per_year.to_dict("records"):
                rows.append({"indicator": ind, "table": "effect_by_year", "method": rec.get("method"),
                             "period": int(rec["year"]), "estimate": rec["effect"]})
        b = (ev.benefits or {}).get("table")
        if b is not None:
            for rec in b.to_dict("records"):
                rows.append({"indicator": ind, "table": "realised_vs_forecast", "method": None,
                             "period": int(rec["year"]),
                             "estimate": rec.get("realised_effect", rec.get("realised")),
                             "forecast_benefit_gbp": rec.get("forecast_benefit_gbp"),
                             "forecast_share_of_full": rec.get("forecast_share_of_full"),
                             "share_of_gap_closed": rec.get("share_of_gap_closed"),
                             "forecast_same_units": rec.get("forecast")})
    cols = ["indicator", "table", "method", "period", "estimate", "ci_low", "ci_high", "level", "p_value",
            "rmspe_pre", "forecast_benefit_gbp", "forecast_share_of_full", "share_of_gap_closed",
            "forecast_same_units"]
    return pd.DataFrame(rows).reindex(columns=cols)


# ------------------------------------------------------------------------------------------------ charts


def _x(periods) -> list:
    """ISO months as dates Plotly reads as a time axis; anything else as it is."""
    return [f"{p}-01" if isinstance(p, str) and re.fullmatch(r"\d{4}-\d{2}", p) else p for p in periods]


def _clean(values) -> list:
    return [None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v) for v in values]


_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "font": {"family": "Arial, sans-serif", "color": "#212b32"},
           "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff", "hovermode": "x unified",
           "legend": {"orientation": "h", "y": -0.2}}


def counterfactual_chart(ev, start, unit: str) -> dict | None:
    """Observed against the ITS projection and the synthetic control, with the gap (observed minus expected) on a
    panel below: figure, caption and rows for its data table."""
    its, sc = ev.results.get("its"), ev.results.get("sc")
    frames = []
    if its is not None and "observed" in its.gaps:
        frames.append(its.gaps.set_index("period")[["observed", "counterfactual", "gap"]]
                      .rename(columns={"gap": "its_gap"}))
    if sc is not None and "synthetic" in sc.gaps:
        frames.append(sc.gaps.set_index("period")[["treated", "synthetic", "gap"]].rename(columns={"gap": "sc_gap"}))
    if not frames:
        return None
    df = pd.concat(frames, axis=1).sort_index()
    if "observed" not in df:
        df["observed"] = df["treated"]
    elif "treated" in df:
        df["observed"] = df["observed"].fillna(df["treated"])
    x = _x(list(df.index))
    traces = [{"type": "scatter", "mode": "lines+markers", "name": "Observed", "x": x, "y": _clean(df["observed"]),
               "line": {"color": "#005eb8", "width": 2}, "marker": {"size": 4}}]
    if "counterfactual" in df:
        traces.append({"type": "scatter", "mode": "lines", "name": "Interrupted time series: expected without it",
                       "x": x, "y": _clean(df["counterfactual"]), "line": {"color": "#4c6272", "dash": "dash"}})
    if "synthetic" in df:
        traces.append({"type": "scatter", "mode": "lines", "name": "Synthetic control", "x": x,
                       "y": _clean(df["synthetic"]), "line": {"color": "#b35c00", "dash": "dot", "width": 2}})
    gap_col = "sc_gap" if "sc_gap" in df else "its_gap"
    traces.append({"type": "bar", "name": "Gap: observed minus " + ("synthetic" if gap_col == "sc_gap" else
                                                                   "expected"),
                   "x": x, "y": _clean(df[gap_col]), "marker": {"color": "#330072"}, "yaxis": "y2", "opacity": 0.7})
    layout = {**_LAYOUT, "title": {"text": f"{ev.outcome}: observed against what was expected without the "
                                           "partnership", "font": {"size": 15}},
              "yaxis": {"title": {"text": unit}, "domain": [0.38, 1], "gridcolor": "#e8edee"},
              "yaxis2": {"title": {"text": "gap"}, "domain": [0, 0.28], "gridcolor": "#e8edee", "zeroline": True},
              "xaxis": {"gridcolor": "#e8edee", "anchor": "y2"},
              "shapes": [_start_line(start)]}
    rows = [{"period": p, "observed": _num(r.get("observed")), "counterfactual": _num(r.get("counterfactual")),
             "synthetic": _num(r.get("synthetic")), "gap": _num(r.get(gap_col))}
            for p, r in zip(df.index, df.to_dict("records"))]
    return {"json": figure_json({"data": traces, "layout": layout}), "rows": rows,
            "gap_of": "the synthetic control" if gap_col == "sc_gap" else "the interrupted time series projection"}


def _start_line(start) -> dict:
    x0 = _x([start])[0]
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x0, "y0": 0, "y1": 1,
            "line": {"color": "#330072", "width": 1.5, "dash": "dot"}}


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)


def spc_chart(ev, unit: str) -> dict | None:
    """The SPC view: one chart, limits rebased at the start (``rebase_group``), the start marked."""
    if ev.spc is None:
        return None
    pts = ev.spc.details["points"].copy()
    pts["x"] = pd.to_datetime(pd.Series(_x(list(pts["period"]))), errors="coerce").to_numpy()
    if pts["x"].isna().any():
        return None  # periods that are not months: the table below still has the figures
    fig = spc_figure(pts, f"{ev.outcome}: SPC view, limits rebased at the start", unit,
                     annotations=[{"x": str(ev.start), "label": "Start: limits rebased"}])
    rows = [{"period": r["period"], "y": _num(r["y"]), "mean": _num(r["mean"]), "lpl": _num(r["lpl"]),
             "upl": _num(r["upl"]), "point_type": str(r["point_type"] or "").replace("_", " "),
             "phase": "after" if int(r["rebase_group"]) > 0 else "before"} for r in pts.to_dict("records")]
    return {"json": figure_json(fig), "rows": rows}


def event_study_chart(ev, unit: str) -> dict | None:
    """The DiD event study: the effect in each period relative to the start with its interval; before the start
    the estimates should sit around zero (the pre-trend check)."""
    did = ev.results.get("did")
    es = None if did is None else did.details.get("event_study")
    if es is None or len(es) == 0:
        return None
    x = [int(v) for v in es["event_time"]]
    traces = [{"type": "scatter", "mode": "markers", "name": "Effect relative to the month before the start",
               "x": x, "y": _clean(es["coef"]),
               "error_y": {"type": "data", "symmetric": False,
                           "array": _clean(np.asarray(es["high"], float) - np.asarray(es["coef"], float)),
                           "arrayminus": _clean(np.asarray(es["coef"], float) - np.asarray(es["low"], float)),
                           "color": "#768692", "thickness": 1},
               "marker": {"color": "#005eb8", "size": 6}}]
    layout = {**_LAYOUT, "hovermode": "closest",
              "title": {"text": f"{ev.outcome}: event study (difference-in-differences)", "font": {"size": 15}},
              "xaxis": {"title": {"text": "months from the start"}, "gridcolor": "#e8edee"},
              "yaxis": {"title": {"text": f"effect ({unit})" if unit else "effect"}, "gridcolor": "#e8edee",
                        "zeroline": True, "zerolinecolor": "#212b32"},
              "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": -0.5, "x1": -0.5, "y0": 0, "y1": 1,
                          "line": {"color": "#330072", "width": 1.5, "dash": "dot"}}]}
    rows = [{"event_time": int(r["event_time"]), "period": r.get("period"), "coef": _num(r["coef"]),
             "low": _num(r["low"]), "high": _num(r["high"])} for r in es.to_dict("records")]
    return {"json": figure_json({"data": traces, "layout": layout}), "rows": rows,
            "pre_trend_p": _num(did.details.get("pre_trend_p")), "pre_trend_test": did.details.get("pre_trend_test")}


# ------------------------------------------------------------------------------------------------ options

#: interval levels the page offers (the CLI's and the panel API's ``--level`` takes any between 0.5 and 1)
LEVEL_CHOICES = (0.8, 0.9, 0.95, 0.99)
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def indicator_choices(rec) -> list[tuple[str, str]]:
    """The indicators offered on the page: those the partnership names, then the key metrics (the CLI's default
    when it names none), each ``(code, name)``."""
    from partnering.indicators.catalogue import load_catalogue
    from partnering.measure.segment import SegmentConfig, key_metrics

    cat = load_catalogue()
    codes = list(dict.fromkeys([*rec.indicator_codes, *key_metrics(SegmentConfig(), cat)]))
    return [(c, cat[c].name if c in cat else c) for c in codes]


def evaluation_options(params, choices: list[tuple[str, str]]) -> tuple[dict, list[dict]]:
    """The options of ``partnering evaluate partnership`` (``--indicator``, ``--method``, ``--start``,
    ``--include-spillover``; and the interval level of ``evaluate panel --level``) read from a query string:
    ``(options for evaluation(), errors for the NHS.UK error summary)``.  Blank fields keep the defaults."""
    from partnering.indicators.catalogue import load_catalogue

    errors: list[dict] = []
    inds = [c.strip() for v in params.getlist("indicator") for c in str(v).split(",") if c.strip()]
    unknown = [c for c in inds if c not in {k for k, _ in choices} and c not in load_catalogue()]
    if unknown:
        errors.append({"text": f"Indicators: no indicator {', '.join(unknown)} in the catalogue",
                       "href": f"#indicator-{choices[0][0]}" if choices else "#method"})
    method = (params.get("method") or "all").strip()
    if method not in METHOD_CHOICES:
        errors.append({"text": "Methods: choose interrupted time series, difference-in-differences, synthetic "
                               "control, staggered difference-in-differences or all of them", "href": "#method"})
    start = (params.get("start") or "").strip() or None
    if start is not None and not _MONTH.fullmatch(start):
        errors.append({"text": "First month of the partnership: enter a month as year-month, for example 2024-04",
                       "href": "#start"})
    level_text = (params.get("level") or "0.95").strip()
    try:
        level = float(level_text)
    except ValueError:
        level = float("nan")
    if level not in LEVEL_CHOICES:
        errors.append({"text": "Interval: choose 80%, 90%, 95% or 99%", "href": "#level"})
    spill = params.get("include_spillover") in ("yes", "true", "1")
    opts = {"indicators": tuple(dict.fromkeys(inds)) or None, "method": method, "start": start,
            "include_spillover": spill, "level": level}
    return opts, errors


def _options_query(opts: dict) -> str:
    """The query string that asks for ``opts`` again ('' for the defaults): for the downloads' links."""
    from urllib.parse import urlencode

    q = [("indicator", c) for c in opts["indicators"] or ()]
    q += [(k, v) for k, v in (("method", opts["method"]), ("start", opts["start"] or ""),
                              ("level", f"{opts['level']:g}")) if v and v not in ("all", "0.95")]
    if opts["include_spillover"]:
        q.append(("include_spillover", "yes"))
    return ("?" + urlencode(q)) if q else ""


def _options_or_400(request: Request, rec) -> dict:
    opts, errors = evaluation_options(request.query_params, indicator_choices(rec))
    if errors:
        raise ValidationError("; ".join(e["text"] for e in errors))
    return opts


# ------------------------------------------------------------------------------------------------ pages


def _indicator_view(ev, code: str, i: int, catalogue, names: dict[str, str]) -> dict:
    ind = catalogue.get(code) if catalogue is not None else None
    unit = ind.unit if ind is not None else ""
    methods = []
    rows = dict(ev.results)
    if ev.rtm is not None:
        rows["rtm"] = ev.rtm
    labels = {k: method_label(k, ev.unit_noun) for k in _LABELS}
    for m, r in rows.items():
        methods.append({"key": m, "name": labels.get(m, m), "att": _num(r.att), "low": _num(r.ci_low),
                        "high": _num(r.ci_high), "level": r.level, "p_value": _num(r.p_value),
                        "rmspe": _num(r.rmspe_pre), "assumptions": list(r.assumptions)})
    rtm = None
    if ev.rtm is not None:
        d = ev.rtm.details
        rtm = {"summary": d.get("summary"), "naive": _num(d.get("naive_change")),
               "matched": _num(d.get("matched_change")), "rtm": _num(d.get("regression_to_mean")),
               "percentile": _num(d.get("pre_percentile")), "att": _num(ev.rtm.att), "low": _num(ev.rtm.ci_low),
               "high": _num(ev.rtm.ci_high), "level": ev.rtm.level}
    b = ev.benefits or {}
    bt = b.get("table")
    sc = ev.results.get("sc")
    weights = [] if sc is None or sc.weights is None else [
        {"unit": w["unit"], "name": names.get(w["unit"], w["unit"]), "weight": float(w["weight"])}
        for w in sc.weights.to_dict("records") if float(w["weight"]) >= 0.005]
    return {
        "id": f"ind{i}", "code": code, "name": ind.name if ind is not None else code, "unit": unit,
        "verdict": ev.verdict.verdict, "agree": ev.verdict.agree, "direction": ev.verdict.direction,
        "methods": methods, "rtm": rtm, "spc_summary": None if ev.spc is None else ev.spc.details.get("summary"),
        "excluded": [{"code": c, "name": names.get(c, c), "reason": r} for c, r in ev.excluded.items()],
        "warnings": list(ev.warnings), "errors": [{"method": METHOD_LABELS.get(m, m), "reason": e}
                                                  for m, e in ev.errors.items()],
        "per_year": records(ev.per_year), "weights": weights,
        "benefits": {"summary": b.get("summary"), "comparable": b.get("comparable") or [],
                     "not_comparable": b.get("not_comparable") or [],
                     "rows": [] if bt is None else bt.to_dict("records"),  # NaN shows as an en dash
                     "columns": [] if bt is None else list(bt.columns),
                     "case": b.get("case")},
        "counterfactual": counterfactual_chart(ev, ev.start, unit), "spc": spc_chart(ev, unit),
        "event_study": event_study_chart(ev, unit),
    }


@pages.get("/partnerships/{partnership_id}/evaluation")
def evaluation_page(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(page_user)):
    from partnering.indicators.catalogue import load_catalogue
    from partnering.web import services

    eng = request.app.state.engine
    rec = get_partnership(eng, partnership_id)  # 404 for no such partnership
    choices = indicator_choices(rec)
    opts, errors = evaluation_options(request.query_params, choices)
    extra = [c for c in opts["indicators"] or () if c not in {k for k, _ in choices}]
    choices += [(c, c) for c in extra]
    orgs = services.organisations(eng)
    names = dict(zip(orgs["org_code"], orgs["name"]))
    out: dict = {}
    views = []
    if not errors:
        out = evaluation(eng, user, partnership_id, **opts)
    if "evaluations" in out:
        cat = load_catalogue()
        views = [_indicator_view(ev, code, i, cat, names) for i, (code, ev) in enumerate(out["evaluations"].items())]
    title = f"Evaluation of {rec.title or 'partnership ' + str(rec.id)}"
    form = {"indicators": list(opts["indicators"] or ()), "method": request.query_params.get("method") or "all",
            "start": request.query_params.get("start") or "", "include_spillover": opts["include_spillover"],
            "level": request.query_params.get("level") or "0.95"}
    return render(request, "evaluate/evaluation.html", status_code=400 if errors else 200, title=title, rec=rec,
                  names=names, views=views, error=out.get("error"), seconds=out.get("seconds"),
                  computed_at=out.get("computed_at"), labels=METHOD_LABELS, errors=errors, form=form,
                  choices=choices, method_choices=METHOD_CHOICES, level_choices=LEVEL_CHOICES, opts=opts,
                  query=_options_query(opts) if not errors else "", customised=bool(_options_query(opts)) or
                  bool(errors))


@pages.get("/partnerships/{partnership_id}/evaluation/download/report.{fmt}")
def report_download(request: Request, partnership_id: RecordId, fmt: str, user: CurrentUser = Depends(page_user)):
    """The evaluation report (:func:`partnering.report.evaluation.write_report`) as HTML or PDF."""
    from partnering.report.evaluation import render_html, write_report

    if fmt not in ("html", "pdf"):
        raise ValidationError("the report is html or pdf")
    eng = request.app.state.engine
    rec = get_partnership(eng, partnership_id)
    evs = _evaluated(eng, user, partnership_id, **_options_or_400(request, rec))["evaluations"]
    title = f"Evaluation of {rec.title or 'partnership ' + str(rec.id)}"
    name = safe_name(f"partnership-{rec.id}-evaluation")
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "html":
        return Response(render_html(evs, title), media_type="text/html; charset=utf-8", headers=headers)
    with tempfile.TemporaryDirectory(prefix="partnering-report-") as tmp:
        path = write_report(evs, Path(tmp) / "report.pdf", title)
        return Response(path.read_bytes(), media_type="application/pdf", headers=headers)


@pages.get("/partnerships/{partnership_id}/evaluation/download/results")
def results_download(request: Request, partnership_id: RecordId, format: str = "csv",
                     user: CurrentUser = Depends(page_user)):
    """Every estimate as CSV or XLSX (:func:`results_frame`), for the options of the page's query string."""
    eng = request.app.state.engine
    rec = get_partnership(eng, partnership_id)
    evs = _evaluated(eng, user, partnership_id, **_options_or_400(request, rec))["evaluations"]
    return table_response(results_frame(evs), format, f"partnership-{partnership_id}-evaluation-results")


# ------------------------------------------------------------------------------------------------ API


@api.get("/partnerships/{partnership_id}/evaluation", responses=ERROR_RESPONSES)
def api_evaluation(request: Request, partnership_id: RecordId,
                   indicator: str | None = Query(None, description="Indicators: CODE,CODE (default: those the "
                                                 "partnership names, else the key metrics)"),
                   method: str = Query("all", description="its, did, sc, cs or all"),
                   start: str | None = Query(None, description="Override the start month (YYYY-MM)"),
                   include_spillover: bool = Query(False, description="Keep the supporter and same-ICB trusts as "
                                                   "comparators"),
                   level: float = Query(0.95, description="Interval level: 0.8, 0.9, 0.95 or 0.99"),
                   user: CurrentUser = Depends(api_user)) -> dict:
    """The partnership's evaluation per indicator: what ``partnering evaluate partnership ID --json`` prints
    (each method's ``att``, interval, ``p_value``, ``gaps``, ``weights``, ``rmspe``; the verdict; the
    regression-to-the-mean check; the SPC view; effects by year; realised against forecast; warnings)."""
    if method not in METHOD_CHOICES:
        raise ValidationError(f"method {method!r}: choose its, did, sc, cs or all")
    if start is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start):
        raise ValidationError("start must be an ISO month such as 2024-04")
    eng = request.app.state.engine
    get_partnership(eng, partnership_id)  # 404 for no such partnership
    inds = tuple(c.strip() for c in indicator.split(",") if c.strip()) if indicator else None
    if level not in LEVEL_CHOICES:
        raise ValidationError("level must be 0.8, 0.9, 0.95 or 0.99")
    out = _evaluated(eng, user, partnership_id, indicators=inds or None, method=method, start=start,
                     include_spillover=include_spillover, level=level)
    return _json_safe({k: v.to_dict() for k, v in out["evaluations"].items()})


class PanelIn(BaseModel):
    """A long table (one row per unit and period) and the options of ``partnering evaluate panel``."""

    rows: list[dict] = Field(description="The long table: one object per unit and period",
                             examples=[[{"unit": "A", "period": 2000, "y": 1.0}]])
    unit: str = Field(description="Column naming the unit (trust, practice, state)")
    time: str = Field(description="Column naming the period (ISO month or year)")
    outcome: str = Field(description="Column of the outcome")
    treated: str | list[str] = Field(description="The treated unit, or several")
    start: str | int = Field(description="First treated period")
    end: str | int | None = Field(None, description="Last treated period, if the treatment ended")
    method: str = Field("all", description="its, did, sc, cs or all")
    covariates: list[str] | None = Field(None, description="Covariate columns")
    exclude: list[str] | None = Field(None, description="Units never used as comparators")
    level: float = Field(0.95, description="Interval level, between 0.5 and 1")
    unit_noun: str | None = Field(None, description="What the units are called in the verdict, plural "
                                  "(e.g. 'practices'; default 'units')")
    protocol: dict | None = Field(None, description="A saved analysis protocol (the content of the file "
                                  "`partnering evaluate protocol` writes), checked against its fingerprint as "
                                  "`--protocol` does: a protocol changed after it was saved is a 400")


_FORM_FIELDS = {k: {"type": "string"} for k in ("unit", "time", "outcome", "treated", "start", "end", "method",
                                               "covariates", "exclude", "level", "unit_noun", "protocol")}
PANEL_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": PanelIn.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file", "unit", "time", "outcome", "treated",
                                                                       "start"],
                                       "properties": {"file": {"type": "string", "format": "binary",
                                                               "description": "The long table as CSV"},
                                                      **_FORM_FIELDS},
                                       "description": "A CSV upload; list options (treated, covariates, exclude) "
                                                      "comma-separated, as on the command line"}},
}}}


def _listed(v) -> list[str] | None:
    if v is None or v == "":
        return None
    items = v if isinstance(v, list) else str(v).split(",")
    return [str(x).strip() for x in items if str(x).strip()] or None


def _as_time(value, column: pd.Series):
    """A period given as text or a number, in the type of the time column (years as whole numbers)."""
    if value is None:
        return None
    if pd.api.types.is_integer_dtype(column):
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValidationError(f"{value!r}: the time column holds whole numbers") from None
    return str(value).strip()


async def panel_request(request: Request) -> tuple[pd.DataFrame, dict]:
    """The long table and options of a panel request: CSV upload (multipart) or JSON.  Too large is a 413; a body
    that is neither, or a table that does not read, is a 400 saying why."""
    limit = request.app.state.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the request is larger than {limit // (1024 * 1024)} MB")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        try:
            form = await request.form()
        except Exception as exc:  # a malformed multipart body
            raise ValidationError(f"the form could not be read: {exc}") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError("attach the long table as a CSV file in the field 'file'")
        raw = await upload.read(limit + 1)
        if len(raw) > limit:
            raise HTTPException(413, f"the file is larger than {limit // (1024 * 1024)} MB")
        if not raw.strip():
            raise ValidationError("the file is empty")
        try:
            df = pd.read_csv(io.BytesIO(raw))
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ValidationError(f"the file is not a CSV table: {exc}") from None
        opts = {k: form.get(k) for k in _FORM_FIELDS}
        if opts["protocol"] is not None and not isinstance(opts["protocol"], str):  # sent as a file
            opts["protocol"] = (await opts["protocol"].read(limit + 1)).decode("utf-8", "replace")
        if opts["protocol"]:
            opts["protocol"] = _protocol_text(opts["protocol"])
        for k in ("treated", "covariates", "exclude"):
            opts[k] = _listed(opts[k])
        if opts["treated"] and len(opts["treated"]) == 1:
            opts["treated"] = opts["treated"][0]
        return df, opts
    if ctype not in ("application/json", ""):
        raise HTTPException(415, "send the panel as JSON (application/json) or a CSV upload (multipart/form-data)")
    raw = await request.body()
    if len(raw) > limit:
        raise HTTPException(413, f"the request is larger than {limit // (1024 * 1024)} MB")
    try:
        body = PanelIn.model_validate(json.loads(raw or b"null"))
    except PydanticValidationError as exc:
        parts = [f"{'.'.join(str(x) for x in e['loc'][:2]) or 'body'}: {e['msg']}" for e in exc.errors()[:5]]
        raise ValidationError("the body is not a panel request: " + "; ".join(parts)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"the body is not a panel request: it is not JSON ({exc})") from None
    if len(body.rows) > MAX_PANEL_ROWS:
        raise HTTPException(413, f"at most {MAX_PANEL_ROWS:,} rows; send a CSV upload for more")
    opts = body.model_dump(exclude={"rows"})
    opts["covariates"], opts["exclude"] = _listed(opts["covariates"]), _listed(opts["exclude"])
    return pd.DataFrame(body.rows), opts


def _protocol_text(text: str) -> dict:
    """A protocol sent in a form field or file: the saved JSON or TOML file's content."""
    import tomllib

    try:
        return json.loads(text)
    except ValueError:
        try:
            return tomllib.loads(text)
        except ValueError:
            raise ValidationError("protocol: not the content of a saved protocol file (JSON or TOML)") from None


def _required(opts: dict, keys) -> None:
    missing = [k for k in keys if opts.get(k) in (None, "", [])]
    if missing:
        raise ValidationError(f"missing {', '.join(missing)}: the panel needs unit, time, outcome, treated and start")


@api.post("/evaluate/panel", responses={**ERROR_RESPONSES, 413: {"model": ERROR_RESPONSES[400]["model"],
                                                                  "description": "Too large"},
                                        415: {"model": ERROR_RESPONSES[400]["model"],
                                              "description": "Neither JSON nor a CSV upload"}},
          openapi_extra=PANEL_BODY)
async def api_panel(request: Request, user: CurrentUser = Depends(api_user)) -> dict:
    """Evaluate a treatment on any panel: what ``partnering evaluate panel FILE --unit --time --outcome --treated
    --start [--end] [--method] [--covariates] [--exclude] [--level] [--protocol] --json`` prints.  A bad table or
    option, or a protocol changed after it was fingerprinted, is a 400 saying why."""
    from starlette.concurrency import run_in_threadpool

    df, opts = await panel_request(request)
    return await run_in_threadpool(evaluate_panel_request, df, opts)


def _noun(v) -> str | None:
    """The units' plural noun as given (a short word or two), or None for the default."""
    text = " ".join(str(v or "").split())
    if len(text) > 40 or not re.fullmatch(r"[\w' -]*", text):
        raise ValidationError("unit_noun: a short plural noun such as 'practices' (letters and spaces, at most 40)")
    return text or None


def evaluate_panel_request(df: pd.DataFrame, opts: dict) -> dict:
    """Build the panel as the CLI does (:func:`partnering.evaluate.panel.panel_from_long`) and evaluate it
    (:func:`partnering.evaluate.run.evaluate_panel`); the result as strict JSON."""
    from partnering.evaluate.panel import panel_from_long
    from partnering.evaluate.run import evaluate_panel

    _required(opts, ("unit", "time", "outcome", "treated", "start"))
    notes = []
    if opts.get("protocol"):
        from partnering.evaluate.protocol import check_protocol_document

        _, notes = check_protocol_document(opts["protocol"])
    method = opts.get("method") or "all"
    if method not in METHOD_CHOICES:
        raise ValidationError(f"method {method!r}: choose its, did, sc, cs or all")
    try:
        level = float(opts.get("level") or 0.95)
    except (TypeError, ValueError):
        raise ValidationError(f"level {opts.get('level')!r} is not a number") from None
    if not 0.5 <= level < 1:
        raise ValidationError("level must be at least 0.5 and below 1 (0.95 for a 95% interval)")
    if df.empty:
        raise ValidationError("the table has no rows")
    time_col = str(opts["time"])
    if time_col not in df.columns:
        raise ValidationError(f"the panel has no column {time_col!r} (columns: {', '.join(map(str, df.columns))})")
    treated = opts["treated"]
    covs = opts.get("covariates")
    excluded = {u: "excluded by the request" for u in opts.get("exclude") or []}
    try:
        panel = panel_from_long(df, str(opts["unit"]), time_col, str(opts["outcome"]), treated,
                                _as_time(opts["start"], df[time_col]), end=_as_time(opts.get("end"), df[time_col]),
                                covariates=covs, excluded=excluded, unit_noun=_noun(opts.get("unit_noun")))
        ev = evaluate_panel(panel, (method,), level=level, covariates=covs)
        ev.warnings[:0] = notes
    except PartneringError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:  # a table the methods cannot use
        log.info("panel evaluation refused: %r", exc)
        raise ValidationError(f"the panel could not be evaluated: {exc}") from None
    return _json_safe(ev.to_dict())
