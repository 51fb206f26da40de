"""The matching stage: the buddying plan page (capacity, travel limit, pairs to forbid or require; the optimal
plan as a table and on the map; saving it), and the API's peers, partner candidates and buddying plan.

Peers, candidates and plans come from :mod:`partnering.match.service` through :mod:`partnering.web.services`.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from partnering.errors import AccessDenied, NotFoundError, PartneringError, ValidationError
from partnering.improve.access import may_manage
from partnering.match.candidates import kind_words
from partnering.match.service import DEFAULT_MAX_MINUTES, DEFAULT_MIN_SUITABILITY, parse_pairs, pin_peers, unpin_peers
from partnering.store.peer_groups import MAX_PEERS, MAX_REASON, get_peer_group
from partnering.web import downloads, services
from partnering.web import map as webmap
from partnering.web.auth import CurrentUser, audit
from partnering.web.deps import api_user, check_csrf, page_user, require_role
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
    json_safe,
    page,
    with_freshness,
)
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])


# ------------------------------------------------------------------------------------------------ shown to people


def travel_limit(text: str | float | None) -> float | None:
    """The candidate partners' travel limit from a form or query: empty = the buddying plan's default
    (:data:`~partnering.match.service.DEFAULT_MAX_MINUTES`, 90 minutes), "none" = no limit."""
    if text is None or str(text).strip() == "":
        return DEFAULT_MAX_MINUTES
    if str(text).strip().lower() in ("none", "any", "no limit"):
        return None
    try:
        v = float(text)
    except ValueError:
        raise ValidationError("the longest travel must be a number of minutes, like 90") from None
    if not math.isfinite(v) or v <= 0 or v > 600:
        raise ValidationError("the longest travel must be between 1 and 600 minutes")
    return v


PARTNER_COLUMNS = [("rank", "Rank"), ("kind", "Kind"), ("score", "Suitability score (0 to 100)"),
                   ("travel", "Travel (minutes)"), ("reason", "Why they could help"),
                   ("two_way_learning", "What they could learn in return")]


def partner_view(df: pd.DataFrame | None) -> tuple[list[dict] | None, list[tuple[str, str]]]:
    """Candidate partners as people read them: rank a whole number, kind in words, travel in whole minutes; the
    "what they could learn in return" column only when some candidate has something to learn (from the data)."""
    if df is None:
        return None, []
    if df.empty:
        return [], []
    out = df.copy()
    out["rank"] = [str(int(r)) for r in out["rank"]]
    out["kind"] = [kind_words(k) for k in out["supporter_kind"]]
    out["travel"] = ["" if pd.isna(m) else f"{m:.0f}" for m in out["travel_minutes"]]
    cols = [(c, h) for c, h in PARTNER_COLUMNS if c in out.columns]
    if "two_way_learning" in out.columns and not out["two_way_learning"].fillna("").astype(str).str.strip().any():
        cols = [(c, h) for c, h in cols if c != "two_way_learning"]
    return records(out), cols


def may_pin(user: CurrentUser, code: str) -> bool:
    """Choose an organisation's peers: its analysts and administrators (as chart notes and projects)."""
    return may_manage(user.role, user.org_code, code)


def _pinnable(request: Request, user: CurrentUser, code: str):
    """(engine, CODE) for a change of ``code``'s peer group: 404 for an unknown organisation, 403 unless ``user``
    may choose its peers."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    if not may_pin(user, code):
        raise AccessDenied(f"only analysts of {code} (or administrators) may choose its peers")
    return eng, code


# ------------------------------------------------------------------------------------------------ pages


def _peer_page(request: Request, user: CurrentUser, code: str, errors=(), peers_text=None, reason=None,
               status_code=200):
    eng = request.app.state.engine
    org = services.org_row(eng, code)
    current = services.peers(eng, user, code)
    group = get_peer_group(eng, code)
    text = peers_text if peers_text is not None else (", ".join(group["peers"]) if group else
                                                      ", ".join(current["peer_code"]) if not current.empty else "")
    return render(request, "match/peers.html", status_code=status_code, title=f"Peers of {org['name']}", org=org,
                  peers=records(current), group=group, errors=list(errors), peers_text=text,
                  reason=reason if reason is not None else (group["reason"] if group else ""),
                  may_change=may_pin(user, code), max_peers=MAX_PEERS, max_reason=MAX_REASON)


@pages.get("/org/{code}/peers")
def peers_page(request: Request, code: str, user: CurrentUser = Depends(page_user)):
    code = code.upper()
    return _peer_page(request, user, code)


@pages.post("/org/{code}/peers")
def peers_save(request: Request, code: str, peers: str = Form(""), reason: str = Form(""),
               user: CurrentUser = Depends(page_user)):
    """Pin the peer group an analyst of the organisation (or an administrator) chose; audited."""
    eng, code = _pinnable(request, user, code)
    codes = [c for c in peers.replace(";", ",").replace("\n", ",").replace(" ", ",").split(",") if c.strip()]
    try:
        pin_peers(eng, code, codes, user.email, reason, assessment=services.assessment(eng, user))
    except PartneringError as exc:
        return _peer_page(request, user, code, [{"text": exc.user_message(), "href": "#peers"}], peers, reason, 400)
    return RedirectResponse(f"/org/{code}#peers", status_code=303)


@pages.post("/org/{code}/peers/automatic")
def peers_automatic(request: Request, code: str, user: CurrentUser = Depends(page_user)):
    """Go back to the automatic peers (analysts of the organisation, administrators); audited."""
    eng, code = _pinnable(request, user, code)
    unpin_peers(eng, code, user.email)
    return RedirectResponse(f"/org/{code}#peers", status_code=303)



def _plan_params(capacity: str, max_travel_minutes: str, forbid: str, require: str,
                 min_suitability: str = "") -> services.PlanParams:
    try:
        cap = int(capacity) if str(capacity).strip() else 1
    except ValueError:
        raise ValidationError("capacity must be a whole number, like 2") from None
    try:
        mt = float(max_travel_minutes) if str(max_travel_minutes).strip() else None
    except ValueError:
        raise ValidationError("maximum travel time must be a number of minutes, like 90") from None
    try:
        ms = float(min_suitability) if str(min_suitability).strip() else DEFAULT_MIN_SUITABILITY
    except ValueError:
        raise ValidationError("minimum suitability must be a number from 0 to 100, like 32.5") from None
    p = services.PlanParams(capacity=cap, max_travel_minutes=mt,
                            forbidden=parse_pairs(forbid, "Pairs to forbid"),
                            required=parse_pairs(require, "Pairs to require"), min_suitability=ms)
    p.validate()
    return p


#: the plan form's fields, named as the API names them (one name everywhere: issue #9.6)
PLAN_FIELDS = ("capacity", "max_travel_minutes", "min_suitability", "forbid", "require")


def _plan_query(form: dict) -> str:
    return urlencode({k: v for k, v in form.items() if v})


def _error_field(exc: Exception) -> str:
    text = str(exc).lower()
    for needle, field in (("capacity", "capacity"), ("travel", "max_travel_minutes"),
                          ("suitability", "min_suitability"), ("forbid", "forbid")):
        if needle in text:
            return field
    return "require"


@pages.get("/plan")
def plan(request: Request, capacity: str = "1", max_travel_minutes: str = "90", min_suitability: str = "",
         forbid: str = "", require: str = "", user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    form = {"capacity": capacity, "max_travel_minutes": max_travel_minutes, "min_suitability": min_suitability,
            "forbid": forbid, "require": require}
    errors, result, svg = [], None, None
    try:
        params = _plan_params(capacity, max_travel_minutes, forbid, require, min_suitability)
        result = services.buddying_plan(eng, user, params)
    except PartneringError as exc:
        errors = [{"text": exc.user_message(), "href": f"#{_error_field(exc)}"}]
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
                  unmatched=records(result.unmatched) if result else [],
                  existing=records(result.existing) if result is not None else [],
                  travel=_travel_text(result.travel) if result is not None else "", map_svg=svg,
                  legend=webmap.legend(), query=_plan_query(form),
                  default_min_suitability=DEFAULT_MIN_SUITABILITY)


def _travel_text(travel: dict) -> str:
    """What the plan's travel minutes rest on, in words: loaded road matrices, and the drive-time model's fit."""
    if not travel:
        return ""
    parts = []
    matrices = travel.get("matrices") or []
    if matrices:
        names = ", ".join(str(m.get("file", m) if isinstance(m, dict) else m) for m in matrices[:3])
        parts.append(f"Road travel times from the loaded matrices ({names}) where they cover a pair")
    model = travel.get("model") or {}
    if model:
        fit = (f"estimated by the drive-time model {model.get('formula', '')}, fitted on {model.get('fitted_on', '')}"
               f" (n = {model.get('n_pairs', '–')} pairs, R² = {model.get('r2', '–')}, "
               f"RMSE = {model.get('rmse_minutes', '–')} minutes)")
        parts.append(("otherwise " if parts else "Travel times ") + fit)
    return "; ".join(parts) + "." if parts else ""


@pages.get("/plan/download")
def plan_download(request: Request, format: str = "csv", what: str = "pairs", capacity: str = "1",
                  max_travel_minutes: str = "90", min_suitability: str = "", forbid: str = "", require: str = "",
                  user: CurrentUser = Depends(page_user)):
    params = _plan_params(capacity, max_travel_minutes, forbid, require, min_suitability)
    res = services.buddying_plan(request.app.state.engine, user, params)
    frames = {"pairs": res.pairs, "unmatched": res.unmatched, "existing": res.existing}
    if what not in frames:
        raise NotFoundError(f"nothing called {what!r} to download: choose {', '.join(frames)}")
    return downloads.table_response(frames[what], format, f"buddying-plan-{what}")


@pages.post("/plan/save")
def plan_save(request: Request, capacity: str = Form("1"), max_travel_minutes: str = Form("90"),
              min_suitability: str = Form(""), forbid: str = Form(""), require: str = Form(""),
              user: CurrentUser = Depends(require_role("analyst"))):
    eng = request.app.state.engine
    params = _plan_params(capacity, max_travel_minutes, forbid, require, min_suitability)
    res = services.buddying_plan(eng, user, params)
    with eng.begin() as conn:
        audit(conn, user.email, "plan.save", "buddying_plan", None, {
            "params": {"capacity": params.capacity, "max_travel_minutes": params.max_travel_minutes,
                       "min_suitability": params.min_suitability,
                       "forbidden": params.forbidden, "required": params.required},
            "pairs": res.pairs[["recipient", "supporter"]].to_dict("records") if not res.pairs.empty else [],
            "unmatched": res.unmatched.to_dict("records") if not res.unmatched.empty else [],
            "solver": res.solver})
    q = _plan_query({"capacity": capacity, "max_travel_minutes": max_travel_minutes,
                     "min_suitability": min_suitability, "forbid": forbid, "require": require})
    return RedirectResponse(f"/plan?{q}&saved=1", status_code=303)


# ------------------------------------------------------------------------------------------------ API


class PeerOut(BaseModel):
    org_code: str
    peer_code: str
    peer_name: str | None = None
    rank: int | None = None
    similarity: float | None = None
    reason: str | None = None
    pinned: bool | None = Field(None, description="In the organisation's chosen (pinned) peer group")
    mostly_imputed: bool | None = Field(None, description="Matched mostly on imputed (median-filled) values; such "
                                                          "peers are ranked after peers with real data")


class PeerGroupIn(BaseModel):
    peers: list[str] = Field(min_length=1, max_length=MAX_PEERS, description="Peer codes, in the order to show")
    reason: str = Field("", max_length=MAX_REASON, description="Why this peer group")


class PeerGroupOut(BaseModel):
    org_code: str
    pinned: bool = Field(description="True: a chosen peer group; false: the automatic nearest neighbours")
    peers: list[str]
    reason: str = ""
    set_by: str | None = None
    set_at: str | None = None


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
    min_suitability: float = Field(DEFAULT_MIN_SUITABILITY, ge=0, le=100,
                                   description="Pairs scoring below this are dropped (default: the score of a "
                                               "candidate that brings nothing)")
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


class ExistingPair(BaseModel):
    recipient: str
    recipient_name: str | None = None
    supporter: str
    supporter_name: str | None = None
    form: str | None = None
    start_period: str | None = None
    score: float | None = None


class PlanOut(BaseModel):
    pairs: list[PlanPair]
    unmatched: list[Unmatched]
    existing: list[ExistingPair] = Field(default_factory=list,
                                         description="Registered partnerships held fixed (recipient covered)")
    min_suitability: float
    travel: dict = Field(default_factory=dict, description="What travel minutes rest on: loaded road matrices and "
                                                           "the drive-time model's fit")
    solver: str = Field(description="The exact method used, for the record (how it works: /methods/buddying-plan); "
                                    "pages and reports say only whether the plan is proven best")
    proven_optimal: bool
    notes: list[str]
    freshness: list[FamilyFreshness] = []


@api.get("/organisations/{code}/peers", response_model=Page[PeerOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def peers(request: Request, code: str = CODE, limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
          user: CurrentUser = Depends(api_user)):
    """The most similar organisations of the same kind, closest first, each with why (or its pinned peer group)."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    df = services.peers(eng, user, code)
    if not df.empty:
        df = df.rename(columns={"peer_code_name": "peer_name"})
        if "reason" not in df.columns and "explanation" in df.columns:
            df = df.rename(columns={"explanation": "reason"})
    return page(request, df, limit, offset, format, list(PeerOut.model_fields), f"{code}-peers", key=(code,),
                user=user, freshness=freshness_of(request, user))


def _group_out(eng, user, code: str) -> dict:
    group = get_peer_group(eng, code)
    if group is not None:
        return {**group, "pinned": True}
    df = services.peers(eng, user, code)
    return {"org_code": code, "pinned": False, "peers": list(df["peer_code"]) if not df.empty else [], "reason": "",
            "set_by": None, "set_at": None}


@api.get("/organisations/{code}/peer-group", response_model=PeerGroupOut, responses=ERROR_RESPONSES)
def peer_group(request: Request, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """The organisation's peer group: the pinned one with who chose it, when and why, or the automatic peers."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    return _group_out(eng, user, code)


@api.put("/organisations/{code}/peer-group", response_model=PeerGroupOut, responses=ERROR_RESPONSES)
def peer_group_put(request: Request, body: PeerGroupIn, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """Pin the organisation's peer group (analysts of the organisation, administrators); audited as peers.pin."""
    eng, code = _pinnable(request, user, code)
    pin_peers(eng, code, body.peers, user.email, body.reason, assessment=services.assessment(eng, user))
    return _group_out(eng, user, code)


@api.delete("/organisations/{code}/peer-group", response_model=PeerGroupOut, responses=ERROR_RESPONSES)
def peer_group_delete(request: Request, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """Go back to the automatic peers (analysts of the organisation, administrators); audited as peers.unpin."""
    eng, code = _pinnable(request, user, code)
    unpin_peers(eng, code, user.email)
    return _group_out(eng, user, code)


@api.get("/organisations/{code}/partners", response_model=Page[PartnerOut],
         responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def partners(request: Request, code: str = CODE,
             max_travel_minutes: float | None = Query(
                 DEFAULT_MAX_MINUTES, gt=0, le=600,
                 description="Longest travel by road, in minutes (default: the buddying plan's, 90); candidates "
                             "of method and tools partners, who work remotely, are exempt"),
             limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
             user: CurrentUser = Depends(api_user)):
    """Candidate partners, best first, with reasons, within the travel limit; 404 with the reason when there can be
    none. ``supporter_kind_name`` is the kind in words."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    df = services.partner_candidates(eng, user, code, max_travel_minutes)
    if not df.empty:
        df = df.assign(supporter_kind_name=[kind_words(k) for k in df["supporter_kind"]])
    return page(request, df, limit, offset, format, list(df.columns), f"{code}-partners",
                key=(code, max_travel_minutes), user=user, freshness=freshness_of(request, user))


def _plan(request: Request, response: Response, user: CurrentUser, body: PlanIn) -> dict:
    params = services.PlanParams(capacity=body.capacity, max_travel_minutes=body.max_travel_minutes,
                                 forbidden=parse_pairs(body.forbidden, "forbidden"),
                                 required=parse_pairs(body.required, "required"),
                                 min_suitability=body.min_suitability)
    res = services.buddying_plan(request.app.state.engine, user, params)
    pairs = res.pairs.copy()
    if not pairs.empty and "reason" not in pairs.columns:
        for alt in ("reasons", "explanation"):
            if alt in pairs.columns:
                pairs["reason"] = pairs[alt]
                break
    out = {"pairs": json_records(pairs, list(PlanPair.model_fields)),
           "unmatched": json_records(res.unmatched, list(Unmatched.model_fields)),
           "existing": json_records(res.existing, list(ExistingPair.model_fields)),
           "min_suitability": params.min_suitability, "travel": json_safe(res.travel),
           "solver": res.solver, "proven_optimal": res.proven_optimal, "notes": [str(n) for n in res.notes],
           "freshness": freshness_of(request, user)}
    with_freshness(response, out["freshness"])
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
def plan_get(request: Request, response: Response, capacity: int = Query(1, ge=1, le=20),
             max_travel_minutes: float | None = Query(90, gt=0, le=600),
             min_suitability: float = Query(DEFAULT_MIN_SUITABILITY, ge=0, le=100,
                                            description="Pairs scoring below this are dropped"),
             forbid: str | None = Query(None, description="Pairs RECIPIENT-SUPPORTER separated by commas"),
             require: str | None = Query(None, description="Pairs RECIPIENT-SUPPORTER separated by commas"),
             user: CurrentUser = Depends(api_user)):
    """The optimal buddying plan for organisations in persistent difficulty."""
    body = PlanIn(capacity=capacity, max_travel_minutes=max_travel_minutes, min_suitability=min_suitability,
                  forbidden=list(parse_pairs(forbid, "forbid")),
                  required=list(parse_pairs(require, "require")))
    return _plan(request, response, user, body)


@api.post("/buddying-plan", response_model=PlanOut, responses=ERROR_RESPONSES)
def plan_post(request: Request, response: Response, body: PlanIn, user: CurrentUser = Depends(api_user)):
    """The optimal buddying plan; ``save: true`` records it in the audit log (analyst role)."""
    return _plan(request, response, user, body)
