"""The appraisal stage: make, buy, partner or merge (issue #10) as pages and as ``/api/v1/appraise/...``.

Pages: the list of stored cases (``/appraise``); a start (``/appraise/new``: pre-filled from an organisation by
:func:`partnering.appraise.prefill.prefill_case`, or blank); the wizard, one server-rendered form per step
(problem -> options -> flows -> uncertainty -> MCDA, ``/appraise/cases/{id}/edit/{step}``), each step validated by
the case format's own model (:class:`partnering.appraise.case.DecisionCase`) with an error summary; the TOML text for
experts; the case page (economic results, Monte Carlo P10/P50/P90 and P(best), EVPI, MCDA, the combined
recommendation, the approvals route, the shortlist check, charts with their data tables, downloads of the report and
the workbook); the comparison of options.

API: list, create, read and update stored cases (TOML text, or JSON: ``{"toml": ...}`` or the case itself); run a
stored case (the same JSON as ``partnering appraise CASE.toml --json``: :meth:`partnering.appraise.run.CaseResult.
to_dict`); pre-fill a case for an organisation; the discount calculator.

Access: every signed-in user reads and runs cases; analysts of the case's organisation, and admins, create and edit
them (:func:`may_edit`). Every write goes through :mod:`partnering.appraise.saved`, which validates and audits it.
Nothing is computed here: the library does it (:func:`partnering.appraise.run.run_case`,
:mod:`partnering.report.appraisal`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError

from partnering.appraise.case import (
    FORM_LABELS,
    FORMS,
    KIND_LABELS,
    TRANSACTION_COMPONENTS,
    DecisionCase,
    dump_case,
    parse_case,
    shortlist_problems,
)
from partnering.appraise.mcda import CRITERIA, CRITERION_LABELS
from partnering.appraise.model import CATEGORIES
from partnering.appraise.prefill import MAX_TURNOVER_GBP
from partnering.appraise.saved import get_case, list_cases, save_case, update_case
from partnering.errors import AccessDenied, IngestError, NotFoundError, ValidationError
from partnering.web import services
from partnering.web.auth import CurrentUser
from partnering.web.charts import figure_json
from partnering.web.deps import ROLE_RANK, api_user, check_csrf, page_user
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import CSV_RESPONSE, FORMAT, LIMIT, OFFSET, Page, RecordId, json_safe, page
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])

#: the wizard's steps, in order (issue #10 s.6: problem -> options -> flows -> uncertainty -> MCDA)
STEPS = (("problem", "Problem"), ("options", "Options"), ("flows", "Flows"), ("uncertainty", "Uncertainty"),
         ("mcda", "Multi-criteria analysis"))
STEP_KEYS = tuple(k for k, _ in STEPS)
CATEGORY_LABELS = {
    "capital_cost": "Capital cost", "revenue_cost": "Revenue cost", "transaction_cost": "Transaction cost",
    "cash_releasing_benefit": "Cash-releasing benefit", "non_cash_releasing_benefit": "Non-cash-releasing benefit",
    "societal_benefit": "Societal benefit", "qalys": "QALYs (health effects, not money)",
}
#: the largest case text the API and the TOML page take (a pre-filled case is about 25 kB)
MAX_CASE_BYTES = 1_000_000
#: Monte Carlo draws a web request may ask for (the case's own number is used otherwise; the CLI has no cap)
MAX_WEB_DRAWS = 200_000
GBP_M = 1e6


# ------------------------------------------------------------------------------------------------ shared


def may_edit(user: CurrentUser, org_code: str | None) -> bool:
    """Analysts of the case's organisation, and admins, create and edit cases (docs/web.md, Accounts and access)."""
    if user.is_admin:
        return True
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK["analyst"] and bool(org_code) and \
        (user.org_code or "").upper() == str(org_code).upper()


def require_edit(user: CurrentUser, org_code: str | None) -> None:
    if may_edit(user, org_code):
        return
    if ROLE_RANK.get(user.role, -1) < ROLE_RANK["analyst"]:
        raise AccessDenied("you need the analyst role to create or edit appraisal cases")
    if not org_code:
        raise AccessDenied("a case must name your organisation (case.org_code) for you to create or edit it")
    raise AccessDenied(f"only analysts of {str(org_code).upper()} (or administrators) may create or edit its cases")


def _known_org(engine, org_code: str | None) -> None:
    """A case that names an organisation must name one the store knows (404 with the reason otherwise)."""
    if org_code:
        services.org_row(engine, org_code)


def stored(engine, case_id: RecordId) -> tuple[dict, DecisionCase]:
    """A stored case's row and its parsed case (404 naming the id when there is none)."""
    row = get_case(engine, case_id)
    row["updated"] = pd.Timestamp(row["updated_at"]).strftime("%Y-%m-%d %H:%M") if row.get("updated_at") else ""
    return row, parse_case(row["toml"], f"case {case_id}")


_RESULTS: OrderedDict = OrderedDict()
_RESULTS_LOCK = threading.Lock()
#: runs kept per process: a case's result depends on its text and the draws only, not on the store
RESULTS_KEPT = 16


def case_result(case: DecisionCase, text: str, draws: int | None = None):
    """:func:`partnering.appraise.run.run_case` of a case, remembered by the hash of its text and the draws (the
    Monte Carlo is seeded, so the same text gives the same result)."""
    from partnering.appraise.run import run_case

    key = (hashlib.sha256(text.encode("utf-8")).hexdigest(), draws)
    with _RESULTS_LOCK:
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            return _RESULTS[key]
    res = run_case(case, draws=draws)
    with _RESULTS_LOCK:
        _RESULTS[key] = res
        while len(_RESULTS) > RESULTS_KEPT:
            _RESULTS.popitem(last=False)
    return res


def _actor(user: CurrentUser) -> str:
    return user.email


def prefilled(engine, user: CurrentUser, org_code: str, stage: str = "SOC",
              price_base_year: int | None = None, turnover_gbp: float | None = None) -> DecisionCase:
    """A pre-filled case for ``org_code`` from the viewer's assessment (cached per data version)."""
    from partnering.appraise.prefill import prefill_case

    code = org_code.strip().upper()
    services.org_row(engine, code)  # 404 naming the code
    a = services.assessment(engine, user)
    if a is None:
        raise NotFoundError("nothing is loaded to assess, so no case can be pre-filled")
    return prefill_case(engine, code, assessment=a, stage=stage, price_base_year=price_base_year,
                        turnover_gbp=turnover_gbp)


def blank_case(org_code: str | None, title: str, org_name: str = "") -> DecisionCase:
    """The smallest valid case: business as usual only, this year's prices; the wizard adds the rest."""
    return DecisionCase.model_validate({
        "case": {"title": title or "New appraisal case", "org_code": org_code or None, "org_name": org_name,
                 "price_base_year": datetime.now().year, "years": 10},
        "options": [{"key": "bau", "name": "Business as usual", "kind": "bau", "role": "bau"}],
    })


# ------------------------------------------------------------------------------------------------ result views


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _layout(title: str, xtitle: str, ytitle: str = "", height: int | None = None) -> dict:
    lay = {"title": {"text": title, "font": {"size": 16}}, "margin": {"l": 220, "r": 20, "t": 50, "b": 60},
           "font": {"family": "Arial, sans-serif", "color": "#212b32"}, "paper_bgcolor": "#ffffff",
           "plot_bgcolor": "#ffffff", "hovermode": "closest", "legend": {"orientation": "h", "y": -0.25},
           "xaxis": {"title": {"text": xtitle}, "gridcolor": "#e8edee", "zeroline": True,
                     "zerolinecolor": "#425563"},
           "yaxis": {"title": {"text": ytitle}, "gridcolor": "#e8edee", "automargin": True}}
    if height:
        lay["height"] = height
    return lay


def npsv_chart(res) -> dict:
    """Each option's simulated NPSV as a box (P10-P90, line at P50, whiskers P5-P95) with the deterministic NPSV
    marked: the same summary as the report's chart (:func:`partnering.report.appraisal.npsv_figure`), from the
    percentiles rather than 10,000 draws per option sent to the browser."""
    draws = np.asarray(res.npsv_draws, dtype=float) / GBP_M
    keys = list(res.summary.index)
    names = res.names
    rows = []
    for i, k in enumerate(keys):
        p5, p10, p50, p90, p95 = np.percentile(draws[:, i], [5, 10, 50, 90, 95])
        rows.append({"option": k, "name": names.get(k, k), "p5": p5, "p10": p10, "p50": p50, "p90": p90,
                     "p95": p95, "npsv": float(res.results.loc[k, "npsv"]) / GBP_M})
    labels = [r["name"][:40] for r in rows]
    fig = {"data": [
        {"type": "box", "orientation": "h", "name": "Simulated NPSV", "y": labels,
         "q1": [r["p10"] for r in rows], "median": [r["p50"] for r in rows], "q3": [r["p90"] for r in rows],
         "lowerfence": [r["p5"] for r in rows], "upperfence": [r["p95"] for r in rows],
         "fillcolor": "#e8edee", "line": {"color": "#005eb8"}, "hoverinfo": "x+y"},
        {"type": "scatter", "mode": "markers", "name": "Deterministic NPSV", "y": labels,
         "x": [r["npsv"] for r in rows], "marker": {"symbol": "diamond", "size": 11, "color": "#212b32"}},
    ], "layout": _layout("Net present social value: the spread of the simulations",
                         f"NPSV, £m ({res.case.case.price_base_year} prices)", height=120 + 45 * len(rows))}
    fig["layout"]["yaxis"]["autorange"] = "reversed"
    return {"json": figure_json(fig), "rows": rows}


def tornado_chart(res) -> dict:
    """The inputs that move the tornado option's NPSV most, each at its low and high value (the tornado of
    :func:`partnering.appraise.sensitivity.tornado`)."""
    t = res.tornado.head(12)
    base = float(res.results.loc[res.tornado_option, "npsv"]) / GBP_M
    rows = [{"input": str(r["input"]), "low_value": _num(r.get("low_value")), "high_value": _num(r.get("high_value")),
             "npsv_low": (_num(r.get("npsv_low")) or 0.0) / GBP_M,
             "npsv_high": (_num(r.get("npsv_high")) or 0.0) / GBP_M,
             "swing": (_num(r.get("swing")) or 0.0) / GBP_M, "source": str(r.get("source") or "")}
            for r in t.to_dict("records")]
    labels = [r["input"][:40] for r in rows]
    fig = {"data": [
        {"type": "bar", "orientation": "h", "name": "Input at its low value", "y": labels, "base": base,
         "x": [r["npsv_low"] - base for r in rows], "marker": {"color": "#ae2573"}},
        {"type": "bar", "orientation": "h", "name": "Input at its high value", "y": labels, "base": base,
         "x": [r["npsv_high"] - base for r in rows], "marker": {"color": "#007f3b", "pattern": {"shape": "/"}}},
    ], "layout": _layout(f"Tornado: what moves the NPSV of {res.names.get(res.tornado_option, res.tornado_option)}"
                         " most", "NPSV, £m", height=140 + 32 * max(len(rows), 1))}
    fig["layout"]["barmode"] = "overlay"
    fig["layout"]["yaxis"]["autorange"] = "reversed"
    return {"json": figure_json(fig), "rows": rows, "base": base}


def cashflow_chart(res) -> dict:
    """Net monetised cash flow per option and year after optimism bias, undiscounted (QALYs excluded): the report's
    cash-flow profile (:func:`partnering.report.appraisal.cashflow_figure`)."""
    cf = res.cash_flows
    keys = list(res.summary.index)
    signed = cf.assign(v=cf["adjusted_value"] * cf["sign"] * np.where(cf["category"] == "qalys", 0, 1))
    net = signed.groupby(["option", "year"])["v"].sum().unstack("option").reindex(columns=keys).fillna(0) / GBP_M
    years = cf.drop_duplicates("year").set_index("year")["calendar_year"].reindex(net.index)
    symbols = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
    fig = {"data": [{"type": "scatter", "mode": "lines+markers", "name": res.names.get(k, k)[:40],
                     "x": [int(y) for y in years], "y": [float(v) for v in net[k]],
                     "marker": {"symbol": symbols[i % len(symbols)], "size": 7}}
                    for i, k in enumerate(keys)],
           "layout": _layout("Cash-flow profile after optimism bias (monetised, undiscounted)", "Year",
                             "Net cash flow, £m real")}
    fig["layout"]["margin"]["l"] = 70
    rows = [{"year": int(y), "calendar_year": int(years[y]), **{k: float(net.loc[y, k]) for k in keys}}
            for y in net.index]
    return {"json": figure_json(fig), "rows": rows, "options": keys}


def result_view(res) -> dict:
    """Everything the case page shows of a run, as template rows."""
    out = res.to_dict()
    tab = res.table().reset_index()
    view = {
        "run": out, "options": records(tab), "evpi": out["evpi"], "recommendation": out["recommendation"],
        "routes": out["routes"], "problems": res.problems, "tornado_option": res.tornado_option,
        "npsv_chart": npsv_chart(res), "tornado": tornado_chart(res), "cashflow": cashflow_chart(res),
        "switching": records(res.switching.head(40)),
        "mcda": None,
    }
    if res.mcda is not None:
        mt = res.mcda.table().reset_index()
        view["mcda"] = {"table": records(mt), "criteria": [(c, CRITERION_LABELS.get(c, c))
                                                            for c in mt.columns if c in CRITERION_LABELS],
                        "sensitivity": records(res.mcda.sensitivity)}
    return view


def comparison(case: DecisionCase, res, keys: list[str]) -> list[dict]:
    """Side by side, one column per chosen option: what it is, who with, when benefits come, and its figures."""
    tab = res.table()
    routes = {r.option: r for r in res.routes}
    cols = []
    for k in keys:
        o = case.option(k)
        row = tab.loc[k]
        tx = sum(t.amount for t in o.transaction_costs)
        cols.append({
            "key": k, "name": o.name, "kind": KIND_LABELS.get(o.kind, o.kind),
            "form": FORM_LABELS.get(o.form, o.form or ""), "role": (o.role or "").replace("_", " "),
            "partner": (f"{o.partner.name or o.partner.org_code} ({o.partner.org_code})"
                        + (f", {o.partner.travel_minutes:g} minutes away" if o.partner.travel_minutes else "")
                        + (", with a track record" if o.partner.track_record else "")) if o.partner else "",
            "delay": o.ramp.delay_years if o.ramp else 0.0, "ramp": o.ramp.ramp_years if o.ramp else 0.0,
            "transaction_costs": tx,
            **{f: _num(row.get(f)) for f in ("npsv", "pv_costs", "pv_benefits", "bcr", "npsv_per_public_pound",
                                             "p10", "p50", "p90", "p_best", "mcda_score")},
            "mcda_rank": int(row["mcda_rank"]) if "mcda_rank" in row and pd.notna(row["mcda_rank"]) else None,
            "approvals": [a.body for a in routes[k].approvals] if k in routes else [],
            "unmonetisable": ", ".join(o.unmonetisable),
        })
    return cols


# ------------------------------------------------------------------------------------------------ pages


def _case_list(eng, org: str | None = None) -> list[dict]:
    df = list_cases(eng, org)
    if not df.empty:
        df = df.assign(updated=pd.to_datetime(df["updated_at"]).dt.strftime("%Y-%m-%d %H:%M"))
    return records(df)


@pages.get("/appraise")
def case_list_page(request: Request, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    return render(request, "appraise/list.html", title="Appraisal cases", cases=_case_list(eng),
                  can_create=ROLE_RANK.get(user.role, -1) >= ROLE_RANK["analyst"])


def _new_page(request: Request, user: CurrentUser, status: int = 200, errors=None, form=None):
    form = form or {"start": "prefill", "org_code": user.org_code or "", "title": "", "stage": "SOC", "turnover": ""}
    return render(request, "appraise/new.html", status_code=status, title="Start an appraisal case",
                  errors=errors or [], form=form,
                  can_create=ROLE_RANK.get(user.role, -1) >= ROLE_RANK["analyst"])


@pages.get("/appraise/new")
def new_case_page(request: Request, user: CurrentUser = Depends(page_user)):
    return _new_page(request, user)


@pages.post("/appraise/new")
async def new_case(request: Request, user: CurrentUser = Depends(page_user)):
    f = await request.form()
    form = {"start": str(f.get("start") or "prefill"), "org_code": str(f.get("org_code") or "").strip().upper(),
            "title": str(f.get("title") or "").strip(), "stage": str(f.get("stage") or "SOC"),
            "turnover": str(f.get("turnover") or "").strip()}
    if ROLE_RANK.get(user.role, -1) < ROLE_RANK["analyst"]:
        raise AccessDenied("you need the analyst role to create appraisal cases")
    eng = request.app.state.engine
    errors = []
    if form["start"] == "prefill" and not form["org_code"]:
        errors.append({"text": "Enter the ODS code of the organisation the case is for, like RXX", "href": "#org_code"})
    if form["stage"] not in ("SOC", "OBC", "FBC"):
        errors.append({"text": "Choose the business case stage: SOC, OBC or FBC", "href": "#stage"})
    turnover = None
    if form["turnover"]:
        try:
            turnover = float(form["turnover"].replace(",", "").removeprefix("£")) * 1e6
        except ValueError:
            turnover = float("nan")
        if not turnover > 0:
            errors.append({"text": "Turnover must be a positive number of £ million, like 450", "href": "#turnover"})
        elif turnover > MAX_TURNOVER_GBP:
            errors.append({"text": "Turnover must be in £ million and at most 10,000 (£10bn): the largest NHS "
                                   "trusts' income is about £2,000 to £3,000 million. Enter 450 for £450 million",
                           "href": "#turnover"})
    if not errors:
        try:
            require_edit(user, form["org_code"] or None)
            if form["start"] == "blank":
                name = services.org_row(eng, form["org_code"])["name"] if form["org_code"] else ""
                case = blank_case(form["org_code"] or None, form["title"] or (f"Options for {name}" if name else ""),
                                  name)
            else:
                case = prefilled(eng, user, form["org_code"], stage=form["stage"], turnover_gbp=turnover)
        except (NotFoundError, AccessDenied) as exc:
            errors.append({"text": exc.user_message(), "href": "#org_code"})
    if errors:
        return _new_page(request, user, 400, errors, form)
    header = ("Decision case started on the web; format: docs/appraisal-case.md. Money: GBP, real terms, "
              "the price base year's prices.")
    case_id = save_case(eng, dump_case(case, header), actor=_actor(user))
    return RedirectResponse(f"/appraise/cases/{case_id}/edit/problem", status_code=303)


@pages.get("/appraise/cases/{case_id}")
def case_page(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    row, case = stored(eng, case_id)
    res = case_result(case, row["toml"])
    return render(request, "appraise/case.html", title=case.case.title, row=row, case=case,
                  can_edit=may_edit(user, case.case.org_code), steps=STEPS, kind_labels=KIND_LABELS,
                  **result_view(res), charts=True)


@pages.get("/appraise/cases/{case_id}/compare")
def compare_page(request: Request, case_id: RecordId, option: list[str] | None = Query(None),
                 user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    row, case = stored(eng, case_id)
    keys_all = [o.key for o in case.options]
    chosen = [k for k in (option or []) if k in keys_all]
    errors = []
    unknown = [k for k in (option or []) if k not in keys_all]
    if unknown:
        errors.append({"text": f"This case has no option {unknown[0][:40]!r}: choose from the list",
                       "href": f"#option-{keys_all[0]}"})
    if option is not None and len(chosen) == 1 and not unknown:
        errors.append({"text": "Choose at least two options to compare", "href": f"#option-{keys_all[0]}"})
    if not chosen or errors:
        chosen = keys_all if not chosen or len(chosen) < 2 else chosen
    res = case_result(case, row["toml"])
    return render(request, "appraise/compare.html", status_code=400 if errors else 200,
                  title=f"Compare options: {case.case.title}", row=row, case=case, errors=errors,
                  options=case.options, chosen=chosen, columns=comparison(case, res, chosen),
                  recommendation=res.recommendation)


def _download_name(row: dict, ext: str) -> str:
    return f"appraisal-case-{row['id']}{'-' + row['org_code'] if row.get('org_code') else ''}.{ext}"


@pages.get("/appraise/cases/{case_id}/download/report.pdf")
def report_pdf(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    import tempfile
    from pathlib import Path

    from partnering.report.appraisal import write_report

    row, case = stored(request.app.state.engine, case_id)
    res = case_result(case, row["toml"])
    with tempfile.TemporaryDirectory(prefix="partnering-report-") as tmp:
        out = write_report(res, Path(tmp) / "report.pdf")
        body = out.read_bytes()
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{_download_name(row, "pdf")}"'})


@pages.get("/appraise/cases/{case_id}/download/report.html")
def report_html(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    from partnering.report.appraisal import render_html

    row, case = stored(request.app.state.engine, case_id)
    res = case_result(case, row["toml"])
    return Response(render_html(res), media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_download_name(row, "html")}"'})


@pages.get("/appraise/cases/{case_id}/download/workbook.xlsx")
def workbook(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    import tempfile
    from pathlib import Path

    from partnering.report.appraisal import write_xlsx

    row, case = stored(request.app.state.engine, case_id)
    res = case_result(case, row["toml"])
    with tempfile.TemporaryDirectory(prefix="partnering-xlsx-") as tmp:
        body = write_xlsx(res, Path(tmp) / "case.xlsx").read_bytes()
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_download_name(row, "xlsx")}"'})


@pages.get("/appraise/cases/{case_id}/download/case.toml")
def case_toml(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    row = get_case(request.app.state.engine, case_id)
    return Response(row["toml"], media_type="application/toml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_download_name(row, "toml")}"'})


# ---- the wizard


def _step_context(case: DecisionCase) -> dict:
    return {"case": case, "steps": STEPS, "categories": [(c, CATEGORY_LABELS.get(c, c)) for c in CATEGORIES],
            "delay_uncertainty": delay_uncertainty,
            "kind_labels": KIND_LABELS, "forms": FORMS, "form_labels": FORM_LABELS,
            "components": TRANSACTION_COMPONENTS, "criteria": [(k, label) for k, label, _ in CRITERIA],
            "criterion_labels": CRITERION_LABELS, "problems": shortlist_problems(case), "flowtext": flowtext}


def flowtext(values) -> str:
    """Yearly values as the flows form shows them: exact enough to read back unchanged (15 significant figures),
    no thousands separators (a comma separates years)."""
    return ", ".join(f"{float(v):.15g}" for v in values)


def _edit_page(request: Request, row: dict, case: DecisionCase, step: str, status: int = 200, errors=None,
               values=None):
    i = STEP_KEYS.index(step)
    return render(request, f"appraise/step_{step}.html", status_code=status,
                  title=f"{dict(STEPS)[step]}: {case.case.title}", row=row, step=step, step_no=i + 1,
                  next_step=STEP_KEYS[i + 1] if i + 1 < len(STEP_KEYS) else None,
                  errors=errors or [], values=values or {}, **_step_context(case))


def _editable(request: Request, case_id: RecordId, user: CurrentUser, step: str | None = None):
    if step is not None and step not in STEP_KEYS:
        raise NotFoundError(f"the wizard has no step {step[:40]!r}: its steps are {', '.join(STEP_KEYS)}")
    row, case = stored(request.app.state.engine, case_id)
    require_edit(user, case.case.org_code)
    return row, case


@pages.get("/appraise/cases/{case_id}/edit/{step}")
def edit_step_page(request: Request, case_id: RecordId, step: str, user: CurrentUser = Depends(page_user)):
    row, case = _editable(request, case_id, user, step)
    return _edit_page(request, row, case, step)


class _Form:
    """A submitted step: fields read as text or numbers, each mistake kept for the error summary. A field the form
    did not send keeps the case's value (progressive forms: each step sends only its own fields)."""

    def __init__(self, data):
        self.data = data
        self.errors: list[dict] = []
        self.values: dict[str, str] = {}

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, name: str, default: str = "") -> str:
        v = self.data.get(name)
        v = default if v is None else str(v)
        self.values[name] = v
        return v.strip()

    def number(self, name: str, label: str, current, *, lo: float | None = None, hi: float | None = None,
               integer: bool = False, blank=None):
        if not self.has(name):
            return current
        raw = self.text(name)
        if raw == "":
            return blank
        try:
            v = float(raw.replace(",", "").replace("_", "").replace("£", ""))
            if not np.isfinite(v):
                raise ValueError
        except ValueError:
            self.errors.append({"text": f"{label} must be a number, like {'10' if integer else '0.5'}",
                                "href": f"#{name}"})
            return current
        if integer and v != int(v):
            self.errors.append({"text": f"{label} must be a whole number", "href": f"#{name}"})
            return current
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"from {lo:g} to {hi:g}" if lo is not None and hi is not None else \
                (f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            self.errors.append({"text": f"{label} must be {rng}", "href": f"#{name}"})
            return current
        return int(v) if integer else v

    def numbers(self, name: str, label: str, current: list[float]) -> list[float]:
        """Yearly values, year 0 first, separated by commas or spaces (thousands separators are not allowed:
        ``1,000`` would be two years)."""
        if not self.has(name):
            return current
        raw = self.text(name)
        if not raw:
            return []
        out = []
        for part in raw.replace(";", ",").replace("\n", ",").split(","):
            for item in part.split():
                try:
                    v = float(item.replace("_", "").replace("£", ""))
                    if not np.isfinite(v):
                        raise ValueError
                    out.append(v)
                except ValueError:
                    self.errors.append({"text": f"{label}: {item[:30]!r} is not a number. Give yearly values, "
                                                "year 0 first, separated by commas, like 1000000, 1000000, 500000",
                                        "href": f"#{name}"})
                    return current
        return out


def _apply_problem(f: _Form, d: dict) -> None:
    meta, prob = d["case"], d.setdefault("problem", {})
    for name, label in (("title", "Title"),):
        if f.has(name):
            v = f.text(name)
            if not v:
                f.errors.append({"text": f"Enter the case's {label.lower()}", "href": f"#{name}"})
            else:
                meta[name] = v
    for name in ("stage", "vintage"):
        if f.has(name):
            meta[name] = f.text(name)
    if f.has("prepared_by"):
        meta["prepared_by"] = f.text("prepared_by")
    meta["price_base_year"] = f.number("price_base_year", "Price base year", meta.get("price_base_year"),
                                       lo=1990, hi=2100, integer=True, blank=meta.get("price_base_year"))
    meta["years"] = f.number("years", "Years appraised", meta.get("years"), lo=1, hi=200, integer=True)
    if f.has("problem_kind"):
        prob["kind"] = f.text("problem_kind")
    for name in ("summary", "service", "evidence"):
        if f.has(name):
            prob[name] = f.text(name)


def _apply_options(f: _Form, d: dict) -> None:
    kept = []
    for o in d["options"]:
        k = o["key"]
        if f.text(f"remove-{k}") == "yes":
            continue
        if f.has(f"name-{k}"):
            name = f.text(f"name-{k}")
            if not name:
                f.errors.append({"text": f"Enter a name for option {k}", "href": f"#name-{k}"})
            else:
                o["name"] = name
        if f.has(f"kind-{k}"):
            o["kind"] = f.text(f"kind-{k}")
        if f.has(f"form-{k}"):
            o["form"] = f.text(f"form-{k}") or None
        if f.has(f"role-{k}"):
            o["role"] = f.text(f"role-{k}") or None
        if f.has(f"description-{k}"):
            o["description"] = f.text(f"description-{k}")
        kept.append(o)
    if not kept:
        f.errors.append({"text": "A case needs at least one option: keep business as usual",
                         "href": f"#remove-{d['options'][0]['key']}"})
        return
    new_key, new_name = f.text("new_key"), f.text("new_name")
    if new_key or new_name:
        keys = {o["key"] for o in kept}
        import re

        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", new_key):
            f.errors.append({"text": "The new option's key must start with a small letter and hold only small "
                                     "letters, digits and underscores, like partner_network", "href": "#new_key"})
        elif new_key in keys:
            f.errors.append({"text": f"There is already an option {new_key}: choose another key", "href": "#new_key"})
        elif not new_name:
            f.errors.append({"text": "Enter a name for the new option", "href": "#new_name"})
        else:
            kept.append({"key": new_key, "name": new_name, "kind": f.text("new_kind") or "make",
                         "role": f.text("new_role") or "alternative"})
    # uncertainties and correlations that named a removed option no longer fit: drop their targets
    keys = {o["key"] for o in kept}
    us = []
    for u in d.get("uncertainties", []):
        u["targets"] = [t for t in u["targets"] if t.partition(".")[0] in keys | {"*"}]
        if u["targets"]:
            us.append(u)
    names = {u["name"] for u in us}
    d["uncertainties"] = us
    d["correlations"] = [c for c in d.get("correlations", []) if c["a"] in names and c["b"] in names]
    d["options"] = kept


def delay_uncertainty(case_or_dict, key: str):
    """The triangular uncertainty that draws option ``key``'s benefit delay alone, or None."""
    items = case_or_dict.get("uncertainties", []) if isinstance(case_or_dict, dict) else [
        u.model_dump() for u in case_or_dict.uncertainties]
    return next((u for u in items if u["targets"] == [f"{key}.benefit_delay"]), None)


def _delay_range(f: _Form, d: dict, o: dict, low, high) -> None:
    """The flows step's shortest/longest delay: a triangular distribution of the option's planned benefit delay
    (years, most likely = the delay entered) for the Monte Carlo; both blank removes it."""
    k = o["key"]
    us = d.setdefault("uncertainties", [])
    current = next((u for u in us if u["targets"] == [f"{k}.benefit_delay"]), None)
    if current is not None and current["distribution"] != "triangular":
        return  # another distribution: edited on the uncertainty step
    if low is None and high is None:
        if current is not None:
            us.remove(current)
            d["correlations"] = [c for c in d.get("correlations", []) if current["name"] not in (c["a"], c["b"])]
        return
    if low is None or high is None:
        f.errors.append({"text": f"{o['name']}: give both the shortest and the longest delay, or neither",
                         "href": f"#delaylow-{k}"})
        return
    mode = float((o.get("ramp") or {}).get("delay_years") or 0.0)
    if not low <= mode <= high:
        f.errors.append({"text": f"{o['name']}: the shortest delay must not be above the years before benefits start "
                                 f"({mode:g}), nor that above the longest delay", "href": f"#delaylow-{k}"})
        return
    if o.get("ramp") is None:
        o["ramp"] = {"delay_years": mode, "ramp_years": 0.0}
    if current is None:
        names = {u["name"] for u in us}
        name = next(n for n in (f"{k}_delay", f"{k}_benefit_delay", f"{k}_delay_2") if n not in names)
        current = {"name": name, "targets": [f"{k}.benefit_delay"], "distribution": "triangular",
                   "source": "entered on the web"}
        us.append(current)
    current.update({"low": low, "mode": mode, "high": high})


def _apply_flows(f: _Form, d: dict) -> None:
    for o in d["options"]:
        k = o["key"]
        flows = o.setdefault("flows", {})
        for c in CATEGORIES:
            v = f.numbers(f"flow-{k}-{c}", f"{o['name']}: {CATEGORY_LABELS[c]}", flows.get(c, []))
            if v:
                flows[c] = v
            else:
                flows.pop(c, None)
        delay = f.number(f"delay-{k}", f"{o['name']}: years before benefits start",
                         (o.get("ramp") or {}).get("delay_years", 0.0), lo=0, hi=200, blank=0.0)
        ramp = f.number(f"ramp-{k}", f"{o['name']}: years to full benefit",
                        (o.get("ramp") or {}).get("ramp_years", 0.0), lo=0, hi=200, blank=0.0)
        if o.get("ramp") is not None or delay or ramp:
            o["ramp"] = {**(o.get("ramp") or {}), "delay_years": delay, "ramp_years": ramp}
        if f.has(f"delaylow-{k}") or f.has(f"delayhigh-{k}"):
            low = f.number(f"delaylow-{k}", f"{o['name']}: shortest delay", None, lo=0, hi=200, blank=None)
            high = f.number(f"delayhigh-{k}", f"{o['name']}: longest delay", None, lo=0, hi=200, blank=None)
            _delay_range(f, d, o, low, high)
        for i, t in enumerate(o.get("transaction_costs", [])):
            label = f"{o['name']}: {t['component'].replace('_', ' ')}"
            t["amount"] = f.number(f"tx-{k}-{i}-amount", f"{label} (amount)", t["amount"], lo=0, blank=0.0)
            t["year"] = f.number(f"tx-{k}-{i}-year", f"{label} (year)", t.get("year", 0), lo=0, hi=200,
                                 integer=True, blank=0)
        comp = f.text(f"newtx-{k}-component")
        if comp and f.text(f"newtx-{k}-amount"):
            amount = f.number(f"newtx-{k}-amount", f"{o['name']}: new transaction cost", None, lo=0)
            year = f.number(f"newtx-{k}-year", f"{o['name']}: new transaction cost year", 0, lo=0, hi=200,
                            integer=True, blank=0)
            if amount is not None:
                o.setdefault("transaction_costs", []).append(
                    {"component": comp, "amount": amount, "year": year, "source": "entered on the web"})
        if o.get("optimism_bias") is not None:
            ob = o["optimism_bias"]
            ob["mitigation"] = f.number(f"obmit-{k}", f"{o['name']}: optimism bias mitigation",
                                        ob.get("mitigation"), lo=0, hi=1, blank=None)


def _apply_uncertainty(f: _Form, d: dict) -> None:
    meta = d["case"]
    meta["draws"] = f.number("draws", "Monte Carlo draws", meta.get("draws", 10_000), lo=100, hi=1_000_000,
                             integer=True, blank=meta.get("draws", 10_000))
    meta["seed"] = f.number("seed", "Random seed", meta.get("seed", 2026), lo=0, hi=2**32 - 1, integer=True,
                            blank=meta.get("seed", 2026))
    params = {"triangular": ("low", "mode", "high"), "pert": ("low", "mode", "high"), "normal": ("mean", "sd"),
              "lognormal": ("median", "sigma"), "uniform": ("low", "high"), "fixed": ("value",)}
    for u in d.get("uncertainties", []):
        n = u["name"]
        for p in params[u["distribution"]]:
            u[p] = f.number(f"u-{n}-{p}", f"Uncertainty {n}: {p}", u.get(p), blank=u.get(p))
        if u["distribution"] in ("triangular", "pert") and None not in (u.get("low"), u.get("mode"), u.get("high")) \
                and not u["low"] <= u["mode"] <= u["high"]:
            f.errors.append({"text": f"Uncertainty {n}: the low value must not be above the most likely value, nor "
                                     "the most likely above the high value", "href": f"#u-{n}-low"})
    for i, c in enumerate(d.get("correlations", [])):
        c["rho"] = f.number(f"rho-{i}", f"Correlation of {c['a']} and {c['b']}", c["rho"], lo=-0.99, hi=0.99,
                            blank=c["rho"])


def _apply_mcda(f: _Form, d: dict) -> None:
    m = d.setdefault("mcda", {})
    crits = m.get("criteria") or [{"key": k, "name": label, "swing": 100.0} for k, label, _ in CRITERIA]
    for c in crits:
        c["swing"] = f.number(f"swing-{c['key']}", f"Swing weight of {c.get('name') or c['key']}",
                              c.get("swing", 100.0), lo=0, hi=100, blank=c.get("swing", 100.0))
    m["criteria"] = crits
    m["p_best_threshold"] = f.number("p_best_threshold", "Probability of being best that separates the options",
                                     m.get("p_best_threshold"), lo=0.01, hi=0.99, blank=None)
    for o in d["options"]:
        scores = o.setdefault("scores", {})
        for c in crits:
            name = f"score-{o['key']}-{c['key']}"
            if f.has(name):
                v = f.number(name, f"{o['name']}: score on {c.get('name') or c['key']}", scores.get(c["key"]),
                             lo=0, hi=100, blank=None)
                if v is None:
                    scores.pop(c["key"], None)
                else:
                    scores[c["key"]] = v


APPLY = {"problem": _apply_problem, "options": _apply_options, "flows": _apply_flows,
         "uncertainty": _apply_uncertainty, "mcda": _apply_mcda}


def _model_errors(exc: PydanticError, step: str) -> list[dict]:
    """The case model's objections in the users' words, each linked to the step's form."""
    out = []
    for e in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"text": f"{loc}: {msg}" if loc else msg, "href": "#step-form"})
    return out


def apply_step(case: DecisionCase, step: str, data) -> tuple[DecisionCase | None, list[dict], dict]:
    """The case after one wizard step's form (``data``: a mapping of field names to text), or ``None`` and the
    errors; the model of the case format validates the result as the case parser does."""
    f = _Form(data)
    d = case.model_dump(mode="json")
    APPLY[step](f, d)
    if f.errors:
        return None, f.errors, f.values
    try:
        return DecisionCase.model_validate(d), [], f.values
    except PydanticError as exc:
        return None, _model_errors(exc, step), f.values


@pages.post("/appraise/cases/{case_id}/edit/{step}")
async def edit_step(request: Request, case_id: RecordId, step: str, user: CurrentUser = Depends(page_user)):
    row, case = _editable(request, case_id, user, step)
    data = await request.form()
    new, errors, values = apply_step(case, step, data)
    if errors:
        return _edit_page(request, row, case, step, 400, errors, values)
    update_case(request.app.state.engine, case_id, dump_case(new), actor=_actor(user))
    i = STEP_KEYS.index(step)
    after = str(data.get("then") or "")
    if after == "results" or i + 1 >= len(STEP_KEYS):
        return RedirectResponse(f"/appraise/cases/{case_id}", status_code=303)
    if after in STEP_KEYS:
        return RedirectResponse(f"/appraise/cases/{case_id}/edit/{after}", status_code=303)
    return RedirectResponse(f"/appraise/cases/{case_id}/edit/{STEP_KEYS[i + 1]}", status_code=303)


@pages.get("/appraise/cases/{case_id}/toml")
def toml_page(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    row, case = _editable(request, case_id, user)
    return render(request, "appraise/toml.html", title=f"Case file: {case.case.title}", row=row, case=case,
                  text=row["toml"], errors=[], steps=STEPS)


@pages.post("/appraise/cases/{case_id}/toml")
async def toml_save(request: Request, case_id: RecordId, user: CurrentUser = Depends(page_user)):
    row, case = _editable(request, case_id, user)
    data = await request.form()
    if "toml" not in data:
        return RedirectResponse(f"/appraise/cases/{case_id}", status_code=303)
    text = str(data.get("toml") or "").replace("\r\n", "\n")
    errors = []
    try:
        new = parse_case(text, "the case file")
        if (new.case.org_code or "").upper() != (case.case.org_code or "").upper():
            require_edit(user, new.case.org_code)
            _known_org(request.app.state.engine, new.case.org_code)
    except IngestError as exc:
        where = f"line {exc.row}, " if exc.row else ""
        field = f"field {exc.column}: " if exc.column else ""
        errors.append({"text": f"{where}{field}{exc.reason}", "href": "#toml"})
    except (AccessDenied, NotFoundError) as exc:
        errors.append({"text": exc.user_message(), "href": "#toml"})
    if len(text.encode("utf-8")) > MAX_CASE_BYTES:
        errors = [{"text": f"The case file is larger than {MAX_CASE_BYTES // 1000:,} kB", "href": "#toml"}]
    if errors:
        return render(request, "appraise/toml.html", status_code=400, title=f"Case file: {case.case.title}",
                      row=row, case=case, text=text, errors=errors, steps=STEPS)
    update_case(request.app.state.engine, case_id, text, actor=_actor(user))
    return RedirectResponse(f"/appraise/cases/{case_id}", status_code=303)


# ------------------------------------------------------------------------------------------------ API


class CaseSummary(BaseModel):
    id: int
    org_code: str | None = None
    title: str
    created_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CaseOut(CaseSummary):
    toml: str = Field(description="The case as TOML text (docs/appraisal-case.md)")
    shortlist_problems: list[str] = Field(default_factory=list,
                                          description="What the shortlist lacks against Green Book 2022, 5.53")
    warnings: list[str] = Field(default_factory=list)


class OptionResult(BaseModel):
    option: str
    name: str
    kind: str
    npsv: float | None = Field(None, description="Net present social value, GBP real")
    pv_costs: float | None = None
    pv_benefits: float | None = None
    bcr: float | None = Field(None, description="Benefit-cost ratio (reported, not a gate: Green Book 2026)")
    npsv_per_public_pound: float | None = None
    mean: float | None = None
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    p_best: float | None = Field(None, description="Probability the option has the highest NPSV (Monte Carlo)")
    mcda_score: float | None = None
    mcda_rank: int | None = None


class RecommendationOut(BaseModel):
    separated: bool
    preferred: str | None = None
    text: str
    reasons: list[str] = Field(default_factory=list)
    p_best_threshold: float


class ApprovalOut(BaseModel):
    body: str
    why: str
    source: str


class RouteOut(BaseModel):
    option: str
    approvals: list[ApprovalOut]


class RunOut(BaseModel):
    """The same JSON as ``partnering appraise CASE.toml --json``."""

    title: str
    org_code: str | None = None
    price_base_year: int
    vintage: str
    currency: str
    prices: str
    draws: int
    seed: int
    options: list[OptionResult]
    evpi: float | None = Field(None, description="Expected value of perfect information, GBP")
    recommendation: RecommendationOut
    shortlist_problems: list[str]
    warnings: list[str]
    routes: list[RouteOut]


class PrefillIn(BaseModel):
    org_code: str = Field(min_length=1, max_length=12, description="ODS code of the organisation",
                          examples=["ZA1"])
    stage: Literal["SOC", "OBC", "FBC"] = "SOC"
    price_base_year: int | None = Field(None, ge=1990, le=2100, description="Default: this year")
    turnover_gbp: float | None = Field(None, gt=0, le=MAX_TURNOVER_GBP,
                                       description="The organisation's operating income, GBP a year (not million), "
                                       "from its annual accounts; at most GBP 10bn, the largest NHS trusts' being "
                                       "about GBP 2-3bn (default: a GBP 450m placeholder, with a warning)")
    save: bool = Field(False, description="Store the case too (analysts of the organisation, or admins)")


class PrefillOut(BaseModel):
    id: int | None = Field(None, description="The stored case's id when save was true")
    org_code: str
    title: str
    toml: str
    warnings: list[str] = Field(default_factory=list)


class DiscountIn(BaseModel):
    flows: list[float] = Field(min_length=1, max_length=200, description="Yearly values, year 0 first",
                               examples=[[1000, 1000, -500]])
    schedule: Literal["standard", "health"] = Field("standard", description="standard (STPR) or health (QALYs)")
    vintage: Literal["2022", "2026"] = "2026"


class DiscountOut(BaseModel):
    present_value: float


#: the request body of create and update: TOML text, or JSON ({"toml": ...} or the case itself)
CASE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "{\"toml\": \"...\"} or the case as JSON "
                                    "(the TOML format's tables: case, problem, options, ...)",
                                    "properties": {"toml": {"type": "string"}}},
                         "example": {"toml": "[case]\ntitle = \"Options\"\nprice_base_year = 2026\n\n[[options]]\n"
                                             "key = \"bau\"\nname = \"Business as usual\"\nkind = \"bau\"\n"}},
    "text/plain": {"schema": {"type": "string", "description": "The case as TOML text"}},
}}}


async def case_body(request: Request) -> str:
    """The case text of a create or update: TOML (``text/plain``, ``application/toml``), or JSON holding
    ``{"toml": ...}`` or the case's tables. Too large is a 413; anything that is not a case is a 400."""
    raw = await request.body()
    if len(raw) > MAX_CASE_BYTES:
        raise HTTPException(413, f"a case is at most {MAX_CASE_BYTES // 1000:,} kB")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("the body is not UTF-8 text") from None
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ValidationError("the body is not valid JSON") from None
        if isinstance(data, dict) and isinstance(data.get("toml"), str) and len(data) == 1:
            return data["toml"]
        if isinstance(data, dict) and "case" in data:
            try:
                return dump_case(DecisionCase.model_validate(data))
            except PydanticError as exc:
                e = exc.errors(include_url=False)[0]
                loc = ".".join(str(p) for p in e.get("loc", ()))
                raise ValidationError(f"{loc}: {str(e.get('msg')).removeprefix('Value error, ')}") from None
        raise ValidationError('send the case as TOML text (Content-Type: text/plain) or as JSON: {"toml": "..."} or '
                              "the case's tables (case, options, ...)")
    return text


def _case_out(row: dict, case: DecisionCase) -> dict:
    def ts(v):
        return None if v is None else pd.Timestamp(v).isoformat()

    return {"id": int(row["id"]), "org_code": row.get("org_code"), "title": row["title"],
            "created_by": row.get("created_by"), "created_at": ts(row.get("created_at")),
            "updated_at": ts(row.get("updated_at")), "toml": row["toml"],
            "shortlist_problems": shortlist_problems(case), "warnings": list(case.warnings)}


def _check_writable(engine, user: CurrentUser, case: DecisionCase) -> None:
    require_edit(user, case.case.org_code)
    _known_org(engine, case.case.org_code)


@api.get("/appraise/cases", response_model=Page[CaseSummary], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def api_cases(request: Request, org: str | None = Query(None, description="Only this organisation's cases",
                                                         examples=["ZA1"]),
              limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
              user: CurrentUser = Depends(api_user)):
    """Stored appraisal cases, most recently changed first (every signed-in user reads them)."""
    df = list_cases(request.app.state.engine, org)
    if not df.empty:
        df = df.assign(created_at=pd.to_datetime(df["created_at"]).map(lambda t: t.isoformat()),
                       updated_at=pd.to_datetime(df["updated_at"]).map(lambda t: t.isoformat()))
    # not cached by data version: cases change without a new import batch
    return page(request, df, limit, offset, format, list(CaseSummary.model_fields), "appraisal-cases")


@api.post("/appraise/cases", response_model=CaseOut, status_code=201, responses=ERROR_RESPONSES,
          openapi_extra=CASE_BODY)
def api_create_case(request: Request, text: str = Depends(case_body),
                    user: CurrentUser = Depends(api_user)):
    """Store a new case (validated: a case that does not read is a 400 naming the line and field). Analysts of the
    case's organisation, and admins."""
    eng = request.app.state.engine
    case = parse_case(text, "case")
    _check_writable(eng, user, case)
    case_id = save_case(eng, text, actor=_actor(user))
    row, case = stored(eng, case_id)
    return _case_out(row, case)


@api.get("/appraise/cases/{case_id}", response_model=CaseOut, responses=ERROR_RESPONSES)
def api_case(request: Request, case_id: RecordId, user: CurrentUser = Depends(api_user)):
    """One stored appraisal case: its TOML text, organisation, version and who changed it."""
    row, case = stored(request.app.state.engine, case_id)
    return _case_out(row, case)


@api.put("/appraise/cases/{case_id}", response_model=CaseOut, responses=ERROR_RESPONSES, openapi_extra=CASE_BODY)
def api_update_case(request: Request, case_id: RecordId, text: str = Depends(case_body),
                    user: CurrentUser = Depends(api_user)):
    """Replace a stored case's text (validated, audited with the text before and after). Analysts of its
    organisation (before and after the change), and admins."""
    eng = request.app.state.engine
    _, before = stored(eng, case_id)
    require_edit(user, before.case.org_code)
    case = parse_case(text, f"case {case_id}")
    _check_writable(eng, user, case)
    update_case(eng, case_id, text, actor=_actor(user))
    row, case = stored(eng, case_id)
    return _case_out(row, case)


@api.post("/appraise/cases/{case_id}/run", response_model=RunOut, response_model_exclude_unset=True,
          responses=ERROR_RESPONSES)
def api_run_case(request: Request, case_id: RecordId,
                 draws: int | None = Query(None, ge=100, le=MAX_WEB_DRAWS,
                                           description="Monte Carlo draws (default: the case's)"),
                 user: CurrentUser = Depends(api_user)):
    """Run a stored case: per option NPSV, PV costs and benefits, BCR, Monte Carlo P10/P50/P90 and P(best), MCDA;
    EVPI, the combined recommendation, the shortlist check and the approvals route — the same JSON as
    ``partnering appraise CASE.toml --json``. Changes nothing (every signed-in user may run a case)."""
    row, case = stored(request.app.state.engine, case_id)
    return json_safe(case_result(case, row["toml"], draws).to_dict())


@api.post("/appraise/prefill", response_model=PrefillOut, responses=ERROR_RESPONSES)
def api_prefill(request: Request, body: PrefillIn, user: CurrentUser = Depends(api_user)):
    """A decision case pre-filled for an organisation (``partnering appraise new --org CODE``): gaps from measure,
    partners from match, defaults from evidence. With ``save: true`` it is stored too (analysts of the
    organisation, and admins). 404 with the reason for an organisation the store does not know or has not assessed."""
    eng = request.app.state.engine
    code = body.org_code.strip().upper()
    if body.save:
        require_edit(user, code)
    case = prefilled(eng, user, code, stage=body.stage, price_base_year=body.price_base_year,
                     turnover_gbp=body.turnover_gbp)
    header = (f"Decision case for {case.case.org_name} ({case.case.org_code}), pre-filled by the API.\n"
              "Format: docs/appraisal-case.md. Money: GBP, real terms, the price base year's prices.")
    text = dump_case(case, header)
    case_id = save_case(eng, text, actor=_actor(user)) if body.save else None
    return {"id": case_id, "org_code": code, "title": case.case.title, "toml": text, "warnings": list(case.warnings)}


@api.post("/appraise/discount", response_model=DiscountOut, responses=ERROR_RESPONSES)
def api_discount(body: DiscountIn, user: CurrentUser = Depends(api_user)):
    """The present value of a yearly flow (year 0 first) under the Green Book's declining schedule — the same code
    as ``partnering appraise discount`` and the appraisal itself
    (:func:`partnering.appraise.discount.present_value`)."""
    from partnering.appraise.discount import present_value

    pv = present_value(body.flows, body.schedule, body.vintage)
    if not np.isfinite(pv):
        raise ValidationError("the present value is too large to represent: use smaller flows")
    return {"present_value": pv}
