"""Design stage: the money tool's API (issue #12 s.3-4): consolidation savings and funding by weighted need.

Thin faces over :mod:`partnering.design.consolidation` and :mod:`partnering.design.allocation`: parse, call, render.

Pages: ``/design`` (the stage's landing page, here until ``web/design/__init__.py`` has one);
``/design/money/consolidation`` (the form, the savings by component with source and evidence/judgement label,
transition costs, time to realise, Monitor's 1-3% check, placeholder warnings, and for analysts "add to an appraisal
case", a CSRF-checked POST stored and audited by :mod:`partnering.appraise.saved`); ``/design/money/allocation``
(the form with the default weights, their labels and the placeholder warning; a map of England's local authorities
shaded *and hatched* by distance from target, drawn as :mod:`partnering.web.map` draws, with its legend counts and a
data table; the concentration index in words; the units furthest over and under target; CSV/XLSX downloads under the
publication rule). Method and sources: ``docs/methods/design-consolidation.md`` and ``design-allocation.md``."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from partnering.appraise.prefill import MAX_TURNOVER_GBP
from partnering.errors import AccessDenied, ValidationError
from partnering.web import services
from partnering.web.auth import CurrentUser
from partnering.web.deps import ROLE_RANK, api_user, check_csrf, page_user
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])


class ConsolidationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trusts: list[str] = Field(min_length=2, examples=[["RAA", "RBB"]])
    turnover_gbp: dict[str, float] = Field(default_factory=dict,
                                           description="Operating income per trust from its accounts (GBP); "
                                                       "missing trusts take a stated placeholder")
    form: Literal["merger", "group"] = "merger"
    parameters: dict[str, float] = Field(default_factory=dict)


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: Literal["practices", "areas"] = "areas"
    budget_gbp: float = Field(gt=0)
    actual_gbp: dict[str, float] = Field(default_factory=dict, description="Current funding per unit code (GBP); "
                                                                          "the budget is allocated over these units")
    weights: dict[str, Any] = Field(default_factory=dict)
    floor_growth: float | None = None
    max_growth: float | None = None
    draws: int = Field(200, ge=0, le=2000)
    rows: int = Field(50, ge=0, le=10_000)


@api.post("/design/money/consolidation")
def api_consolidation(body: ConsolidationIn, user=Depends(api_user)) -> dict:
    """Recurring savings and transition costs of a proposed grouping (Carter 2016; Monitor; Fulop et al. 2002)."""
    from partnering.design.consolidation import consolidation_savings

    return consolidation_savings(body.trusts, body.turnover_gbp, form=body.form,
                                 parameters=body.parameters).to_dict()


@api.post("/design/money/allocation")
def api_allocation(body: AllocationIn, user=Depends(api_user)) -> dict:
    """Weighted-capitation targets, distance from target, pace of change, concentration index and share spread."""
    from partnering.design.allocation import allocate, area_units, practice_units, with_funding

    frame = practice_units() if body.units == "practices" else area_units()
    if body.actual_gbp:  # the allocation is over the units given funding, as on the page and the command line
        unknown = sorted(set(body.actual_gbp) - set(frame["code"]))
        if unknown:
            raise ValidationError(f"actual_gbp: {len(unknown)} code(s) are not {body.units} "
                                  f"({', '.join(c[:20] for c in unknown[:10])}{', ...' if len(unknown) > 10 else ''})")
        bad = [c for c, v in body.actual_gbp.items() if not (np.isfinite(v) and v >= 0)]
        if bad:
            raise ValidationError(f"actual_gbp: funding must be a finite amount of 0 or more ({', '.join(bad[:10])})")
        frame = with_funding(frame, pd.Series(body.actual_gbp, dtype=float))
    result = allocate(frame, body.budget_gbp, weights=body.weights or None, draws=body.draws,
                      floor_growth=body.floor_growth, max_growth=body.max_growth)
    return result.to_dict(rows=body.rows)


# ================================================================================================ pages
#
# /design (the stage's landing page: kept here until web/design/__init__.py has one), and the money tool's two
# pages. Both forms are GET forms: a result is a URL that can be shared or bookmarked, and the downloads take the
# same query. Adding a consolidation to an appraisal case is the one write: a POST with the session's CSRF token,
# for analysts of the case's organisation (and admins), stored and audited through partnering.appraise.saved.

#: the stage's tools as the landing page lists them (path, name, sentence)
DESIGN_TOOLS = (
    ("/design/regions", "Regional groups",
     "Group areas into a fixed number of contiguous regions of balanced population, by need, compactness or "
     "travel, and see them on a map."),
    ("/design/network", "Shared-service network",
     "Choose which sites host a shared service, such as hyperacute stroke care, and see travel, access within a "
     "time, the workforce pooled at each hub and access by deprivation."),
    ("/design/money/consolidation", "Consolidation savings",
     "Cost what one board, one executive team, one audit, a shared back office and pooled procurement save for a "
     "merger or a group of trusts, against the one-off costs and the years it takes, and add it to an appraisal."),
    ("/design/money/allocation", "Funding by weighted need",
     "Allocate a budget to GP practices or local authorities by weighted capitation, and map distance from target "
     "and how funding per weighted head follows deprivation."),
)

TRUST_KINDS = ("acute_trust", "specialist_trust", "mental_health_trust", "community_trust", "ambulance_trust",
               "trust")
#: rows of the consolidation form (a grouping of up to this many trusts from the page; the API takes any number)
TRUST_ROWS = 6
COMPONENT_LABELS = {"board": "One board", "executive_team": "One executive team", "audit": "One external audit",
                    "back_office": "Shared back office (economies of scale)", "procurement": "Pooled procurement",
                    "legal_and_advisory": "Legal and advisory", "competition_review": "Competition review",
                    "staff_transfer": "Staff transfer", "it_integration": "IT integration"}
BASIS_LABELS = {"evidence": "Evidence: the figure is in the source",
                "judgement": "Judgement: a stated judgement anchored on the source",
                "user": "Supplied by you", "placeholder": "Placeholder: no official table held"}


def _actor(user: CurrentUser) -> str:
    return user.email


@pages.get("/design")
def design_page(request: Request, user: CurrentUser = Depends(page_user)):
    """The design stage's tools, one sentence each."""
    tools = [{"href": h, "name": n, "text": t} for h, n, t in DESIGN_TOOLS]
    return render(request, "design/money/design.html", title="Design the system", tools=tools)


# ------------------------------------------------------------------------------------------------ consolidation


def _trust_choices(engine) -> list[tuple[str, str]]:
    """Trusts in the store as (code, "code – name"), by name."""
    orgs = services.organisations(engine)
    if orgs.empty:
        return []
    trusts = orgs[orgs["kind"].isin(TRUST_KINDS) & orgs["close_date"].isna()] if "close_date" in orgs else \
        orgs[orgs["kind"].isin(TRUST_KINDS)]
    trusts = trusts.sort_values("name")
    return [(str(r.org_code), f"{r.name} ({r.org_code})") for r in trusts.itertuples()]


def _gbp_millions(text: str) -> float | None:
    """A number of GBP millions as typed ("450", "1,200.5", "£450m"); None if it does not read."""
    t = text.strip().replace(",", "").replace("£", "").replace("_", "")
    if t.lower().endswith("m"):
        t = t[:-1].strip()
    try:
        v = float(t)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def consolidation_form(trusts: list[str], turnovers: list[str], form: str,
                       known: set[str]) -> tuple[dict, list[dict], list[str], dict[str, float]]:
    """The consolidation form's fields read and checked: (form values, errors, chosen codes, turnover in GBP).

    Rows pair ``trust`` and ``turnover`` by position (each row of the form sends both)."""
    rows = []
    for i in range(max(TRUST_ROWS, len(trusts), len(turnovers))):
        code = (trusts[i] if i < len(trusts) else "").strip().upper()
        turn = (turnovers[i] if i < len(turnovers) else "").strip()
        rows.append({"trust": code, "turnover": turn})
    values = {"rows": rows, "form": form}
    errors: list[dict] = []
    codes: list[str] = []
    turnover: dict[str, float] = {}
    for i, row in enumerate(rows, start=1):
        code, turn = row["trust"], row["turnover"]
        if not code:
            if turn:
                errors.append({"text": f"Row {i}: choose the trust whose turnover this is", "href": f"#trust-{i}"})
            continue
        if code not in known:
            errors.append({"text": f"Row {i}: {code[:12]} is not a trust in the store", "href": f"#trust-{i}"})
            continue
        if code in codes:
            errors.append({"text": f"Row {i}: {code} is chosen twice", "href": f"#trust-{i}"})
            continue
        codes.append(code)
        if turn:
            v = _gbp_millions(turn)
            if v is None or v <= 0:
                errors.append({"text": f"Row {i}: turnover must be a positive number of £ million, like 450",
                               "href": f"#turnover-{i}"})
            elif v * 1e6 > MAX_TURNOVER_GBP:
                errors.append({"text": f"Row {i}: turnover must be in £ million and at most 10,000 (£10bn): the "
                                       "largest NHS trusts' income is about £2,000 to £3,000 million",
                               "href": f"#turnover-{i}"})
            else:
                turnover[code] = v * 1e6
    if form not in ("merger", "group"):
        errors.append({"text": "Choose a merger or a group", "href": "#form-merger"})
    if len(codes) < 2 and not any(e["href"].startswith("#trust") for e in errors):
        errors.append({"text": "Choose at least two trusts", "href": "#trust-1" if not codes else "#trust-2"})
    return values, errors, codes, turnover


def _consolidation_view(result) -> dict:
    """The result as the page shows it: components with labels, sources and bases; the Monitor comparison."""
    from partnering.design.consolidation import SOURCES

    def row(item, amount):
        return {"label": COMPONENT_LABELS.get(item.component, item.component), "amount": amount,
                "low": item.low, "high": item.high, "basis": item.basis,
                "basis_label": BASIS_LABELS.get(item.basis, item.basis),
                "source": SOURCES.get(item.source, item.source), "working": getattr(item, "working", "")}

    share = result.saving_share * 100
    place = "below" if share < 1.0 else "above" if share > 3.0 else "within"
    params = [{"name": p.name, "value": p.value, "low": p.low, "high": p.high, "basis": p.basis,
               "basis_label": BASIS_LABELS.get(p.basis, p.basis), "source": SOURCES.get(p.source, p.source),
               "note": p.note} for p in result.parameters.values()]
    return {"result": result, "savings": [row(s, s.gbp_per_year) for s in result.savings],
            "transition": [row(t, t.gbp) for t in result.transition], "share_pct": share, "place": place,
            "monitor": result.monitor_check(), "parameters": params,
            "range": result.recurring_saving_range, "starts": result.completion_years + result.benefit_delay_years}


def _editable_cases(engine, user: CurrentUser) -> list[dict]:
    """Stored appraisal cases this user may add an option to (analysts of the case's organisation, admins)."""
    from partnering.appraise.saved import list_cases
    from partnering.web.appraise import may_edit

    if ROLE_RANK.get(user.role, -1) < ROLE_RANK["analyst"]:
        return []
    df = list_cases(engine)
    return [{"id": int(r.id), "title": r.title, "org_code": r.org_code} for r in df.itertuples()
            if may_edit(user, r.org_code)]


def _consolidation_page(request: Request, user: CurrentUser, values: dict, errors: list[dict], view: dict | None,
                        status: int = 200, add_errors: list[dict] | None = None, key: str = ""):
    eng = request.app.state.engine
    return render(request, "design/money/consolidation.html", status_code=status, title="Consolidation savings",
                  choices=_trust_choices(eng), values=values, errors=errors, add_errors=add_errors or [],
                  cases=_editable_cases(eng, user) if view else [], key=key,
                  is_analyst=ROLE_RANK.get(user.role, -1) >= ROLE_RANK["analyst"], **(view or {}))


@pages.get("/design/money/consolidation")
def consolidation_page(request: Request, user: CurrentUser = Depends(page_user),
                       trust: list[str] = Query([]), turnover: list[str] = Query([]), form: str = "merger"):
    """The form; with trusts chosen, the savings case (Carter 2016; Monitor; Fulop et al. 2002)."""
    from partnering.design.consolidation import consolidation_savings

    eng = request.app.state.engine
    known = {c for c, _ in _trust_choices(eng)}
    values, errors, codes, turn = consolidation_form(trust, turnover, form, known)
    if not any(t.strip() for t in trust):  # the empty form, before anything is chosen
        return _consolidation_page(request, user, values, [], None)
    if errors:
        return _consolidation_page(request, user, values, errors, None, 400)
    result = consolidation_savings(codes, turn, form=form)
    return _consolidation_page(request, user, values, [], _consolidation_view(result))


@pages.post("/design/money/consolidation/add")
async def consolidation_add(request: Request, user: CurrentUser = Depends(page_user)):
    """Add the grouping to a stored appraisal case as an option (analysts of the case's organisation, admins);
    validated and audited by :func:`partnering.appraise.saved.update_case`."""
    from partnering.appraise.case import dump_case
    from partnering.appraise.saved import update_case
    from partnering.design.consolidation import add_to_case, consolidation_savings
    from partnering.web.appraise import require_edit, stored

    if ROLE_RANK.get(user.role, -1) < ROLE_RANK["analyst"]:
        raise AccessDenied("you need the analyst role to add an option to an appraisal case")
    f = await request.form()
    eng = request.app.state.engine
    form = str(f.get("form") or "merger")
    values, errors, codes, turn = consolidation_form([str(v) for v in f.getlist("trust")],
                                                     [str(v) for v in f.getlist("turnover")], form,
                                                     {c for c, _ in _trust_choices(eng)})
    if errors:
        return _consolidation_page(request, user, values, errors, None, 400)
    result = consolidation_savings(codes, turn, form=form)
    key = str(f.get("key") or "").strip()
    add_errors = []
    case_id_text = str(f.get("case_id") or "").strip()
    if not case_id_text.isdigit():
        add_errors.append({"text": "Choose the appraisal case to add this option to", "href": "#case_id"})
    elif key and not (key[0].isalpha() and key[0].islower() and key.replace("_", "").isalnum()
                      and key == key.lower()):
        add_errors.append({"text": "The option key must start with a small letter and hold only small letters, "
                                   "digits and underscores", "href": "#key"})
    if not add_errors:
        case_id = int(case_id_text)
        row, case = stored(eng, case_id)
        require_edit(user, case.case.org_code)
        try:
            new = add_to_case(case, result, key=key or None)
        except ValidationError as exc:
            add_errors.append({"text": exc.user_message(), "href": "#key"})
        else:
            header = (f"Decision case; option {new.options[-1].key!r} added from /design/money/consolidation "
                      "(partnering design consolidation). Format: docs/appraisal-case.md.")
            update_case(eng, case_id, dump_case(new, header), actor=_actor(user))
            return RedirectResponse(f"/appraise/cases/{case_id}/edit/options", status_code=303)
    return _consolidation_page(request, user, values, [], _consolidation_view(result), 400, add_errors, key)


# ------------------------------------------------------------------------------------------------ allocation

#: what the allocation is compared against when no current funding is supplied: an equal amount per head (plain,
#: unweighted capitation) of the current total - a comparison the page names as such, not anyone's real funding
COMPARE = {"funding": "Your current funding per practice or area: a CSV file of code,funding or lines pasted below",
           "per-head": "An equal amount per head of the current total (no need weighting)",
           "none": "Nothing: targets only"}
#: problems of a funding file listed one by one in the error summary (the rest are counted)
FUNDING_PROBLEMS_SHOWN = 10
#: distance-from-target bands for the map: (upper bound, key, label, fill, pattern); each band has a fill *and* a
#: pattern (hatching direction and density) so that the map does not rely on colour alone (WCAG 1.4.1)
BANDS = (
    (-0.10, "far-under", "More than 10% under target", "#005eb8", "under-dense"),
    (-0.05, "under", "5% to 10% under target", "#8fb8e0", "under"),
    (0.05, "near", "Within 5% of target", "#ffffff", None),
    (0.10, "over", "5% to 10% over target", "#f3b483", "over"),
    (np.inf, "far-over", "More than 10% over target", "#b35600", "over-dense"),
)
TABLE_ROWS = 10


@lru_cache(maxsize=2)
def _units_cached(kind: str, data: str):
    from partnering.design.allocation import area_units, practice_units

    return practice_units(data) if kind == "practices" else area_units(data)


def allocation_units(kind: str) -> pd.DataFrame:
    """The public allocation units (read once per process: the shared files do not change while it runs)."""
    from partnering.config import shared_data

    return _units_cached(kind, str(shared_data())).copy()


def _pct(text: str) -> float | None:
    t = text.strip().rstrip("%").strip()
    try:
        v = float(t)
    except ValueError:
        return None
    return v / 100 if np.isfinite(v) else None


def allocation_form(params) -> tuple[dict, list[dict], dict]:
    """The allocation form read and checked: (values to show, errors, arguments for the library)."""
    from partnering.design.allocation import DEFAULT_WEIGHTS

    get = lambda k, d="": str(params.get(k, d)).strip()  # noqa: E731
    values = {"units": get("units", "areas"), "budget": get("budget"), "current": get("current"),
              "compare": get("compare", "per-head"), "floor": get("floor"), "cap": get("cap"),
              "weights": {n: get(f"w_{n}", f"{w.value:g}") for n, w in DEFAULT_WEIGHTS.items()}}
    errors: list[dict] = []
    args: dict = {}
    if values["units"] not in ("areas", "practices"):
        errors.append({"text": "Choose local authorities or GP practices", "href": "#units-areas"})
    budget = _gbp_millions(values["budget"])
    if budget is None or budget <= 0:
        errors.append({"text": "Enter the budget as a positive number of £ million, like 1000", "href": "#budget"})
    if values["compare"] not in COMPARE:
        errors.append({"text": "Choose what to compare the targets with", "href": "#compare-per-head"})
    current = None
    if values["current"]:
        current = _gbp_millions(values["current"])
        if current is None or current <= 0:
            errors.append({"text": "Enter the current total as a positive number of £ million, like 970",
                           "href": "#current"})
    floor = cap = None
    if values["floor"]:
        floor = _pct(values["floor"])
        if floor is None or floor < -1:
            errors.append({"text": "Enter the minimum growth as a percentage, like 1", "href": "#floor"})
    if values["cap"]:
        cap = _pct(values["cap"])
        if cap is None or cap < -1:
            errors.append({"text": "Enter the growth cap as a percentage, like 5", "href": "#cap"})
        elif floor is not None and cap < floor:
            errors.append({"text": "The growth cap must not be below the minimum growth", "href": "#cap"})
        elif floor is None:
            errors.append({"text": "A growth cap needs a minimum growth too (the pace-of-change step)",
                           "href": "#floor"})
    if (floor is not None) and values["compare"] == "none":
        errors.append({"text": "A pace-of-change step needs current funding to move from: give your funding or "
                               "compare with an equal amount per head", "href": "#floor"})
    weights: dict[str, float] = {}
    for name, w in DEFAULT_WEIGHTS.items():
        text = values["weights"][name]
        try:
            v = float(text)
        except ValueError:
            v = float("nan")
        if not np.isfinite(v) or v < 0:
            errors.append({"text": f"Weight {name.replace('_', ' ')} must be a number of 0 or more",
                           "href": f"#w_{name}"})
        elif abs(v - w.value) > 1e-12:
            weights[name] = v
    args.update(units=values["units"], budget=(budget or 0) * 1e6, weights=weights,
                current=(current or budget or 0) * 1e6, compare=values["compare"], floor=floor, cap=cap)
    return values, errors, args


def run_allocation(args: dict, funding: pd.Series | None = None):
    """The library's allocation for the form's arguments; with ``compare = per-head`` the current funding is an
    equal amount per head of the current total; with ``compare = funding`` it is the user's, and the allocation
    is over the units in their file (:func:`partnering.design.allocation.with_funding`)."""
    from partnering.design.allocation import allocate, with_funding

    frame = allocation_units(args["units"])
    if args["compare"] == "funding" and funding is not None:
        frame = with_funding(frame, funding)
    elif args["compare"] == "per-head":
        pop = frame["population"].to_numpy(float)
        frame["actual"] = args["current"] * pop / pop.sum()
    return frame, allocate(frame, args["budget"], weights=args["weights"] or None, draws=200,
                           floor_growth=args["floor"], max_growth=args["cap"])


def _band(d: float) -> dict:
    for upper, key, label, fill, pattern in BANDS:
        if d < upper:
            return {"key": key, "label": label, "fill": fill, "pattern": pattern}
    return {"key": "far-over", "label": BANDS[-1][2], "fill": BANDS[-1][3], "pattern": BANDS[-1][4]}


def _pattern_defs() -> str:
    """SVG hatching: under target leans one way, over target the other; 'more than 10%' is twice as dense."""
    out = []
    for name, angle, gap, colour in (("under", -45, 8, "#212b32"), ("under-dense", -45, 4, "#ffffff"),
                                     ("over", 45, 8, "#212b32"), ("over-dense", 45, 4, "#ffffff")):
        out.append(f'<pattern id="hatch-{name}" patternUnits="userSpaceOnUse" width="{gap}" height="{gap}" '
                   f'patternTransform="rotate({angle})"><line x1="0" y1="0" x2="0" y2="{gap}" stroke="{colour}" '
                   'stroke-width="1.2"/></pattern>')
    return "<defs>" + "".join(out) + "</defs>"


def _swatch(band: dict, size: int = 18) -> str:
    fill = f'<rect width="{size}" height="{size}" fill="{band["fill"]}" stroke="#212b32"/>'
    if band["pattern"]:
        fill += f'<rect width="{size}" height="{size}" fill="url(#hatch-{band["pattern"]})"/>'
    return fill


@lru_cache(maxsize=4)
def _area_shapes(path: str, mtime: float) -> tuple:
    """(code, name, rings) per area of a boundary GeoJSON; the code is the first property named like a code."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for feat in data.get("features", []):
        props = feat.get("properties") or {}
        code_key = next((k for k in props if k.lower().endswith(("_code", "cd"))), None)
        name_key = next((k for k in props if k.lower().endswith(("_name", "nm"))), None)
        geom = feat.get("geometry") or {}
        polys = [geom.get("coordinates")] if geom.get("type") == "Polygon" else \
            geom.get("coordinates") if geom.get("type") == "MultiPolygon" else []
        rings = tuple(tuple((float(p[0]), float(p[1])) for p in ring) for poly in polys for ring in poly)
        if code_key and rings:
            out.append((str(props[code_key]), str(props.get(name_key, "")), rings))
    return tuple(out)


def area_boundary_file() -> Path | None:
    """Local-authority boundaries: the loaded level (``$PARTNERING_HOME/boundaries/ltla.geojson``, as the overview
    map reads its levels), else the public file in ../shared/data/geo/boundaries (ONS May 2024, ultra generalised)."""
    from partnering.config import shared_data
    from partnering.web.map import boundary_file

    for p in (boundary_file("ltla"), shared_data("geo", "boundaries", "ltla24.geojson")):
        if p.is_file():
            return p
    return None


def area_table(frame: pd.DataFrame, result, units: str) -> pd.DataFrame:
    """Per local authority: population, target, actual, distance from target (practices summed to their area)."""
    u = result.units
    if "distance_from_target" not in u:
        return pd.DataFrame()
    if units == "areas":
        names = frame.set_index("code")["name"]
        # the target beside current funding is its share of the same total (distance from target within one year)
        t = u[["code", "population", "actual", "distance_from_target"]].copy()
        t["target_gbp"] = u["target_at_actual_gbp"]
        t["name"] = t["code"].map(names)
        if "funding_per_weighted_head" in u:
            t["funding_per_weighted_head"] = u["funding_per_weighted_head"]
        t["deprivation"] = u["deprivation"]
        return t
    g = u.groupby("ltla24").agg(population=("population", "sum"), target_gbp=("target_at_actual_gbp", "sum"),
                                actual=("actual", "sum"), weighted_population=("weighted_population", "sum"),
                                practices=("code", "size")).reset_index().rename(columns={"ltla24": "code"})
    # within one year: the area's target share of the same total as the actual funding (NHS England's measure)
    g["distance_from_target"] = (g["actual"] - g["target_gbp"]) / g["target_gbp"]
    g["funding_per_weighted_head"] = g["actual"] / g["weighted_population"]
    areas = allocation_units("areas").set_index("code")
    g["name"] = g["code"].map(areas["name"])
    g["deprivation"] = g["code"].map(areas["deprivation"])
    return g


def allocation_map(areas: pd.DataFrame, title: str) -> tuple[Markup, list[dict]]:
    """England's local authorities shaded by distance from target, each band a fill and a hatching; the legend
    counts the areas in each band. Drawn as :mod:`partnering.web.map` draws (equirectangular, no tiles)."""
    from partnering.web.map import ENGLAND, WIDTH, Frame, boundary_paths, rings_path

    path = area_boundary_file()
    fr = Frame(*ENGLAND)
    h = fr.height
    dist = dict(zip(areas["code"], areas["distance_from_target"]))
    counts = {b[1]: 0 for b in BANDS}
    for d in dist.values():
        counts[_band(d)["key"]] += 1
    legend = [{"key": key, "label": label, "count": counts[key],
               "swatch": Markup(f'<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" '
                                f'focusable="false">{_swatch({"fill": fill, "pattern": pattern})}</svg>')}
              for _, key, label, fill, pattern in BANDS]
    out = ['<figure class="app-map-figure">',
           f'<figcaption id="allocation-map-caption" class="app-map-caption">{escape(title)}</figcaption>',
           f'<svg class="app-map" viewBox="0 0 {WIDTH} {h}" width="100%" role="img" '
           'aria-labelledby="allocation-map-caption" aria-describedby="allocation-map-desc" '
           'xmlns="http://www.w3.org/2000/svg">',
           '<desc id="allocation-map-desc">Each local authority is shaded by its distance from target: under target '
           'hatched one way, over target the other, more than 10% with denser hatching, within 5% plain. The legend '
           'counts the areas in each band and the table below lists every area with its figures.</desc>',
           _pattern_defs(), f'<rect width="{WIDTH}" height="{h}" fill="#f0f4f5"/>']
    if path is not None:
        shapes = _area_shapes(str(path), path.stat().st_mtime)
        for code, name, rings in shapes:
            d = rings_path(rings, fr)
            if not d:
                continue
            if code in dist:
                band = _band(dist[code])
                label = f"{name} ({code}): {dist[code]:+.1%} from target, {band['label'].lower()}"
                out.append(f'<g class="app-map__area"><title>{escape(label)}</title>'
                           f'<path d="{d}" fill="{band["fill"]}" stroke="#4c6272" stroke-width="0.4"/>')
                if band["pattern"]:
                    out.append(f'<path d="{d}" fill="url(#hatch-{band["pattern"]})" stroke="none"/>')
                out.append("</g>")
            else:
                out.append(f'<path d="{d}" fill="#e8edee" stroke="#aeb7bd" stroke-width="0.4"/>')
    region = boundary_paths("region", fr)
    if region:
        out.append(f'<path d="{region}" fill="none" stroke="#212b32" stroke-width="1.2"/>')
    out.append("</svg></figure>")
    return Markup("".join(out)), legend


def concentration_words(index: float | None, interval: tuple[float, float] | None, unit_word: str) -> str:
    """The concentration index in plain English (ranked most deprived first: negative = more to the deprived)."""
    if index is None:
        return ("Without current funding there is nothing to compare with need: give your funding per practice or "
                "area as a file above, or choose an equal amount per head.")
    from partnering.design.allocation import concentration_words as words

    return words(index, interval, unit_word)


def _funding_errors(problems: list, more: int = 0) -> list[dict]:
    """A funding file's problems as error-summary items (line, column, reason), linked to the file field."""
    out = [{"text": p.user_message(), "href": "#funding_file"} for p in problems[:FUNDING_PROBLEMS_SHOWN]]
    rest = len(problems) - FUNDING_PROBLEMS_SHOWN + more
    if rest > 0:
        out.append({"text": f"… and {rest} more problem{'s' if rest != 1 else ''} in the file: correct these and "
                            "send it again", "href": "#funding_file"})
    return out


async def _funding_from_form(request: Request, form, args: dict) -> tuple[pd.Series | None, str, list[dict]]:
    """The user's current funding from the form's file (``funding_file``) or pasted lines (``funding_text``):
    (funding by code, where it came from, errors). Read in memory only: nothing is stored."""
    from partnering.design.allocation import FUNDING_PROBLEMS_KEPT, parse_funding
    from partnering.web.uploads import safe_filename

    upload = form.get("funding_file")
    text = str(form.get("funding_text") or "")
    limit = request.app.state.max_upload_bytes
    data: bytes | str
    if upload is not None and getattr(upload, "filename", ""):
        name = safe_filename(upload.filename)
        data = await upload.read(limit + 1)
        if len(data) > limit:
            return None, name, [{"text": f"{name} is larger than {limit // (1024 * 1024)} MB",
                                 "href": "#funding_file"}]
        if not data:
            return None, name, [{"text": f"{name}: the file is empty", "href": "#funding_file"}]
    elif text.strip():
        name, data = "the pasted lines", text
        if len(data.encode("utf-8")) > limit:
            return None, name, [{"text": f"The pasted lines are larger than {limit // (1024 * 1024)} MB",
                                 "href": "#funding_text"}]
    else:
        return None, "", [{"text": "Choose a CSV file of code,funding, or paste the lines, to compare with your "
                                   "funding", "href": "#funding_file"}]
    units = allocation_units(args["units"])
    unit_word = "local authorities (May 2024 codes, like E06000001)" if args["units"] == "areas" else \
        "GP practices (ODS codes, like A81001)"
    funding, problems = parse_funding(data, name, units["code"], unit_word)
    if problems:
        full = len(problems) >= FUNDING_PROBLEMS_KEPT
        errors = _funding_errors(problems)
        if full:
            errors[-1]["text"] = errors[-1]["text"].replace("more problems", "or more problems")
        return None, name, errors
    if len(funding) < 3:
        return None, name, [{"text": f"{name}: give funding for at least 3 {args['units']} (found {len(funding)}): "
                                     "the fairness measure ranks them", "href": "#funding_file"}]
    return funding, name, []


def _funding_csv(funding: pd.Series) -> str:
    """The funding as the canonical ``code,funding`` text the page carries to its downloads."""
    return "code,funding\n" + "".join(f"{c},{v:.2f}\n" for c, v in funding.items())


def _allocation_response(request: Request, params, funding: pd.Series | None = None, source: str = "",
                         extra_errors: list[dict] | None = None, posted: bool = False):
    """The allocation page for the form's values ``params`` (a query or a posted form) and, when the user gave
    it, their current funding."""
    from partnering.design.allocation import DEFAULT_WEIGHTS, SOURCES

    values, errors, args = allocation_form(params)
    errors = errors + (extra_errors or [])
    weights = [{"name": n, "value": w.value, "low": w.low, "high": w.high, "basis": w.basis,
                "basis_label": BASIS_LABELS.get(w.basis, w.basis), "note": w.note,
                "source": SOURCES.get(w.source, w.source)} for n, w in DEFAULT_WEIGHTS.items()]
    ctx = {"values": values, "errors": [], "weights": weights, "compare_choices": COMPARE,
           "weights_error": any(e["href"].startswith("#w_") for e in errors), "funding_text": "",
           "funding_source": source}
    if funding is None and values["compare"] == "funding" and "budget" in params and not posted:
        errors.append({"text": "Your funding comes as a file or pasted lines: use the form's button (a link "
                               "cannot carry it)", "href": "#funding_file"})
    if funding is None:  # what was pasted stays in the box to be corrected
        ctx["funding_text"] = str(params.get("funding_text") or "")[:200_000]
    if "budget" not in params:
        return render(request, "design/money/allocation.html", title="Funding by weighted need", **ctx)
    if errors:
        ctx["errors"] = errors
        return render(request, "design/money/allocation.html", status_code=400, title="Funding by weighted need",
                      **ctx)
    try:
        frame, result = run_allocation(args, funding)
    except ValidationError as exc:
        href = "#floor" if "pace of change" in str(exc).lower() else "#budget"
        ctx["errors"] = [{"text": exc.user_message(), "href": href}]
        return render(request, "design/money/allocation.html", status_code=400, title="Funding by weighted need",
                      **ctx)
    unit_word = "areas" if args["units"] == "areas" else "practices"
    u = result.units
    own = funding is not None and args["compare"] == "funding"
    ctx.update(result=result, summary=result.summary(), unit_word=unit_word, own_funding=own,
               compared_total=float(u["actual"].sum()) if "actual" in u else None,
               all_units=len(allocation_units(args["units"])),
               reading=concentration_words(result.concentration_index, result.concentration_interval, unit_word),
               query=urlencode([(k, v) for k, v in params.multi_items()
                                if k not in ("format", "csrf_token", "funding_text", "funding_file")
                                and isinstance(v, str)]) if not own else "",
               download_fields=[(k, v) for k, v in params.multi_items()
                                if k not in ("format", "funding_text", "csrf_token")
                                and isinstance(v, str)] if own else [],
               funding_csv=_funding_csv(funding) if own else "")
    if own:
        ctx["funding_text"] = ctx["funding_csv"]
    if "distance_from_target" in u:
        names = frame.set_index("code")["name"] if "name" in frame else None
        cols = ["code", "population", "deprivation", "actual", "distance_from_target"]
        ranked = u[cols].assign(name=u["code"].map(names) if names is not None else u["code"],
                                target_gbp=u["target_at_actual_gbp"])  # target share of the same total
        # only units over (under) target in each table: with few units the ten furthest over would reach under
        d = ranked["distance_from_target"]
        ctx["over"] = records(ranked[d > 0].nlargest(TABLE_ROWS, "distance_from_target"))
        ctx["under"] = records(ranked[d < 0].nsmallest(TABLE_ROWS, "distance_from_target"))
        if result.pace:
            growth = u["next_year_gbp"] / u["actual"].where(u["actual"] > 0) - 1
            next_total = float(u["next_year_gbp"].sum())
            # each distance beside the target it is measured against: now, the share of today's total; next
            # year, the share of next year's total (the new budget unless some of it is unspent at the cap)
            moved = u.assign(name=ranked["name"], growth=growth, target_now_gbp=u["target_at_actual_gbp"],
                             target_next_gbp=u["target_share"] * next_total).reindex(
                growth.sort_values(ascending=False).index)
            ctx["pace_next_is_budget"] = abs(next_total - result.budget) <= 0.5
            ctx["pace_rows"] = records(moved.head(TABLE_ROWS)[["code", "name", "actual", "target_now_gbp",
                                                               "distance_from_target", "next_year_gbp", "growth",
                                                               "target_next_gbp",
                                                               "next_distance_from_target"]])
        areas = area_table(frame, result, args["units"])
        title = ("Distance from target by local authority" +
                 (" (practices summed to the authority they sit in)" if args["units"] == "practices" else "") +
                 (": your current funding" if own else ""))
        ctx["map"], ctx["legend"] = allocation_map(areas, title)
        ctx["areas"] = records(areas.sort_values("distance_from_target"))
    else:
        ctx["targets"] = records(u.nlargest(TABLE_ROWS, "target_gbp")[["code", "population", "deprivation",
                                                                      "target_gbp"]])
    return render(request, "design/money/allocation.html", title="Funding by weighted need", **ctx)


@pages.get("/design/money/allocation")
def allocation_page(request: Request, user: CurrentUser = Depends(page_user)):
    """The form; with a budget, targets by weighted capitation, the map of distance from target, the concentration
    index with its interval, the units furthest over and under target, and downloads."""
    return _allocation_response(request, request.query_params)


@pages.post("/design/money/allocation")
async def allocation_with_funding(request: Request, user: CurrentUser = Depends(page_user)):
    """The same page for the user's current funding per unit (a CSV file of code,funding, or pasted lines; CSRF
    checked; read in memory, never stored): actual against target, the pace-of-change step and the fairness
    measure over the units in the file, mapped. A bad file is refused line by line (line, column, reason)."""
    form = await request.form()
    values, form_errors, args = allocation_form(form)
    funding, source, errors = (None, "", [])
    if values["compare"] == "funding" and not any(e["href"] == "#units-areas" for e in form_errors):
        funding, source, errors = await _funding_from_form(request, form, args)
    return _allocation_response(request, form, funding, source, errors, posted=True)


#: the download's columns, in order (those the allocation has)
DOWNLOAD_COLUMNS = ("code", "name", "sub_icb", "icb", "ltla24", "population", "weighted_population", "need_index",
                    "deprivation", "target_share", "target_gbp", "target_at_actual_gbp", "actual",
                    "distance_from_target",
                    "funding_per_weighted_head", "next_year_gbp", "next_distance_from_target", "share_p05",
                    "share_p95", "share_spread")


def _allocation_table(args: dict, funding: pd.Series | None):
    from partnering.report.suppression import apply_publication_rules

    frame, result = run_allocation(args, funding)
    u = result.units
    if "name" in frame and "name" not in u:
        u = u.assign(name=u["code"].map(frame.set_index("code")["name"]))
    table = u[[c for c in DOWNLOAD_COLUMNS if c in u.columns]]
    if "actual" in table and args["compare"] == "per-head":
        table = table.assign(actual_is="an equal amount per head of the current total: a comparison, not real "
                                       "funding")
    elif "actual" in table and funding is not None:
        table = table.assign(actual_is="current funding as you supplied it")
    return apply_publication_rules(table, value_cols=("population", "weighted_population"),
                                   count_rows=np.ones(len(table), dtype=bool))


@pages.get("/design/money/allocation/download")
def allocation_download(request: Request, user: CurrentUser = Depends(page_user),
                        format: str = Query("csv", pattern="^(csv|xlsx)$")):
    """Every unit's row of the allocation on the page (same query), under the publication rule: populations are
    sub-national counts, so NHS small-number suppression applies (:mod:`partnering.report.suppression`)."""
    from partnering.web.downloads import table_response

    values, errors, args = allocation_form(request.query_params)
    if errors:
        raise ValidationError("; ".join(e["text"] for e in errors))
    if args["compare"] == "funding":
        raise ValidationError("an allocation against your funding is downloaded from the page's download buttons "
                              "(a link cannot carry the funding)")
    return table_response(_allocation_table(args, None), format, f"allocation-{args['units']}")


@pages.post("/design/money/allocation/download")
async def allocation_download_with_funding(request: Request, user: CurrentUser = Depends(page_user)):
    """The download of an allocation against the user's funding: the page posts the form's values with the
    funding it read (CSRF checked; nothing stored)."""
    from partnering.web.downloads import table_response

    form = await request.form()
    fmt = str(form.get("format") or "csv")
    if fmt not in ("csv", "xlsx"):
        raise ValidationError("format must be csv or xlsx")
    values, errors, args = allocation_form(form)
    funding = None
    if not errors and args["compare"] == "funding":
        funding, _, errors = await _funding_from_form(request, form, args)
    if errors:
        raise ValidationError("; ".join(e["text"] for e in errors))
    return table_response(_allocation_table(args, funding), fmt, f"allocation-{args['units']}")
