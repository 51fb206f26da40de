"""The matching stage: the buddying plan page (capacity, travel limit, pairs to forbid or require; the optimal
plan as a table and on the map; saving it), and the API's peers, partner candidates and buddying plan.

Peers, candidates and plans come from :mod:`partnering.match.service` through :mod:`partnering.web.services`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from partnering.errors import PartneringError, ValidationError
from partnering.match.service import parse_pairs
from partnering.web import downloads, services
from partnering.web import map as webmap
from partnering.web.auth import CurrentUser, audit
from partnering.web.deps import api_user, check_csrf, page_user, require_role
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import CODE, CSV_RESPONSE, FORMAT, LIMIT, OFFSET, Page, json_records, page
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])


# ------------------------------------------------------------------------------------------------ pages


def _plan_params(capacity: str, max_travel: str, forbid: str, require: str) -> services.PlanParams:
    try:
        cap = int(capacity) if str(capacity).strip() else 1
    except ValueError:
        raise ValidationError("capacity must be a whole number, like 2") from None
    try:
        mt = float(max_travel) if str(max_travel).strip() else None
    except ValueError:
        raise ValidationError("maximum travel time must be a number of minutes, like 90") from None
    p = services.PlanParams(capacity=cap, max_travel_minutes=mt,
                            forbidden=parse_pairs(forbid, "Pairs to forbid"),
                            required=parse_pairs(require, "Pairs to require"))
    p.validate()
    return p


@pages.get("/plan")
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
                                             "its lead partner", lines=result.map_lines)
    return render(request, "match/plan.html", status_code=400 if errors else 200, title="Buddying plan", form=form,
                  errors=errors, result=result, pairs=records(result.pairs) if result else [],
                  unmatched=records(result.unmatched) if result else [], map_svg=svg, legend=webmap.legend(),
                  query="&".join(f"{k}={v}" for k, v in form.items() if v))


@pages.get("/plan/download")
def plan_download(request: Request, format: str = "csv", what: str = "pairs", capacity: str = "1",
                  max_travel: str = "90", forbid: str = "", require: str = "", user: CurrentUser = Depends(page_user)):
    params = _plan_params(capacity, max_travel, forbid, require)
    res = services.buddying_plan(request.app.state.engine, user, params)
    df = res.unmatched if what == "unmatched" else res.pairs
    return downloads.table_response(df, format, f"buddying-plan-{what}")


@pages.post("/plan/save")
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


# ------------------------------------------------------------------------------------------------ API


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


@api.get("/organisations/{code}/peers", response_model=Page[PeerOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def peers(request: Request, code: str = CODE, limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
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


@api.get("/organisations/{code}/partners", response_model=Page[PartnerOut],
         responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def partners(request: Request, code: str = CODE, limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
             user: CurrentUser = Depends(api_user)):
    """Candidate partners, best first, with reasons; 404 with the reason when there can be none."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    df = services.partner_candidates(eng, user, code)
    return page(request, df, limit, offset, format, list(df.columns), f"{code}-partners", key=(code,), user=user)


def _plan(request: Request, user: CurrentUser, body: PlanIn) -> dict:
    params = services.PlanParams(capacity=body.capacity, max_travel_minutes=body.max_travel_minutes,
                                 forbidden=parse_pairs(body.forbidden, "forbidden"),
                                 required=parse_pairs(body.required, "required"))
    res = services.buddying_plan(request.app.state.engine, user, params)
    pairs = res.pairs.copy()
    if not pairs.empty and "reason" not in pairs.columns:
        for alt in ("reasons", "explanation"):
            if alt in pairs.columns:
                pairs["reason"] = pairs[alt]
                break
    out = {"pairs": json_records(pairs, list(PlanPair.model_fields)),
           "unmatched": json_records(res.unmatched, list(Unmatched.model_fields)),
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


@api.get("/buddying-plan", response_model=PlanOut, responses=ERROR_RESPONSES)
def plan_get(request: Request, capacity: int = Query(1, ge=1, le=20),
             max_travel_minutes: float | None = Query(90, gt=0, le=600),
             forbid: str | None = Query(None, description="Pairs RECIPIENT-SUPPORTER separated by commas"),
             require: str | None = Query(None, description="Pairs RECIPIENT-SUPPORTER separated by commas"),
             user: CurrentUser = Depends(api_user)):
    """The optimal buddying plan for organisations in persistent difficulty."""
    body = PlanIn(capacity=capacity, max_travel_minutes=max_travel_minutes,
                  forbidden=list(parse_pairs(forbid, "forbid")),
                  required=list(parse_pairs(require, "require")))
    return _plan(request, user, body)


@api.post("/buddying-plan", response_model=PlanOut, responses=ERROR_RESPONSES)
def plan_post(request: Request, body: PlanIn, user: CurrentUser = Depends(api_user)):
    """The optimal buddying plan; ``save: true`` records it in the audit log (analyst role)."""
    return _plan(request, user, body)
