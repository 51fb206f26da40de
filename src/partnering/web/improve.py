"""Improvement work (issue #11 s.2) as pages and as ``/api/v1/improve/...``.

Pages: the overview (``/improve``: the organisation's ideas, most voted first, with the form to submit one, and its
projects); an idea (comments, vote, triage); a project (aim, driver diagram, PDSA cycles, IHI progress scores, and
an SPC chart per measure with the cycles drawn on it as annotations — :func:`partnering.web.charts.spc_figure` — so
the team sees whether points after a change are signal or noise); forms to add drivers, cycles and scores.

Access follows the organisation scoping (:mod:`partnering.improve.access`): a user sees the ideas and projects of
their own organisation (projects also of the partnerships their organisation is party to); administrators see all.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from partnering.errors import AccessDenied, NotFoundError, PartneringError, ValidationError
from partnering.improve import (
    DECISIONS,
    DRIVER_KINDS,
    IDEA_STATUSES,
    IHI_SCALE,
    PROJECT_STATUSES,
    add_cycle,
    add_driver,
    comment_on_idea,
    create_project,
    cycle_annotations,
    edit_comment,
    edit_idea,
    get_idea,
    get_project,
    idea_history,
    list_ideas,
    list_projects,
    record_progress,
    submit_idea,
    triage_idea,
    vote_for_idea,
)
from partnering.improve.access import may_manage, may_read, may_take_part, require
from partnering.web import charts, services
from partnering.web.auth import CurrentUser
from partnering.web.deps import api_user, check_csrf, page_user
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import RecordId
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])


# ------------------------------------------------------------------------------------------------ shared


def _project_parties(eng, project) -> tuple[str, ...]:
    if not project.partnership_id:
        return ()
    from partnering.register import get_partnership

    return tuple(get_partnership(eng, project.partnership_id).party_codes)


def readable_project(eng, user: CurrentUser, project_id: RecordId):
    p = get_project(eng, project_id)
    if not may_read(user.role, user.org_code, p.org_code, _project_parties(eng, p)):
        raise AccessDenied(f"improvement project {project_id} belongs to {p.org_code}: only its staff, the parties "
                           "to its partnership and administrators see it")
    return p


def readable_idea(eng, user: CurrentUser, idea_id: RecordId) -> dict:
    idea = get_idea(eng, idea_id)
    if not may_read(user.role, user.org_code, idea["org_code"]):
        raise AccessDenied(f"idea {idea_id} belongs to {idea['org_code']}: only its staff and administrators see it")
    return idea


def _scope_org(user: CurrentUser, org: str | None) -> str | None:
    """The organisation a list shows: the user's own (administrators: any, or all)."""
    if user.is_admin:
        return org.upper() if org else None
    if org and user.org_code and org.upper() != user.org_code.upper():
        raise AccessDenied(f"you see the improvement work of {user.org_code} only")
    if not user.org_code:
        raise AccessDenied("your account names no organisation: ask an administrator to set it")
    return user.org_code.upper()


def measure_charts(eng, user: CurrentUser, project) -> list[dict]:
    """An SPC chart per measure of the project's cycles, with the cycles as annotations and a data table."""
    from partnering.indicators.catalogue import indicator, load_catalogue

    cat = load_catalogue()
    out = []
    for i, (code, org) in enumerate(project.measures):
        d = indicator(code, cat)
        name, unit = (d.name if d else code), (d.unit if d else "")
        notes = cycle_annotations(project, code, org)
        obs = services.observations(eng, user, orgs=[org], indicator_codes=[code])
        obs = obs[obs["value"].notna()] if not obs.empty else obs
        item = {"id": f"measure-{i}", "indicator": code, "org_code": org, "name": name, "unit": unit,
                "annotations": notes, "rows": [], "json": None, "reason": ""}
        if obs.empty:
            item["reason"] = f"No monthly values of {code} for {org} that you may see."
        else:
            try:
                pts = services.spc_for_frame(obs.sort_values("period").tail(60))
                pts = pts[(pts["indicator"] == code) & (pts["org_code"] == org)] if "org_code" in pts else pts
                fig = charts.spc_figure(pts, f"{name} ({org})", unit, annotations=notes)
                item["json"] = charts.figure_json(fig)
                rows = pts.assign(period=pd.to_datetime(pts["x"]).dt.strftime("%Y-%m"))
                starts = {a["x"]: a["label"] for a in notes}
                rows["cycle"] = rows["period"].map(starts)
                item["rows"] = records(rows[["period", "y", "mean", "lpl", "upl", "point_type", "cycle"]])
            except PartneringError as exc:
                item["reason"] = f"SPC cannot chart this series: {exc.user_message()}"
        out.append(item)
    return out


# ------------------------------------------------------------------------------------------------ pages


@pages.get("/improve")
def improve_page(request: Request, org: str | None = None, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    scope = _scope_org(user, org)
    ideas = records(list_ideas(eng, scope))
    projects = records(list_projects(eng, scope))
    return render(request, "improve/overview.html", title="Improvement work", ideas=ideas, projects=projects,
                  org=scope or "", statuses=IDEA_STATUSES, can_submit=bool(user.org_code) or user.is_admin,
                  can_manage=may_manage(user.role, user.org_code, scope or user.org_code or ""), errors=[])


@pages.post("/improve/ideas")
async def submit_idea_page(request: Request, user: CurrentUser = Depends(page_user)):
    form = await request.form()
    org = (form.get("org_code") or user.org_code or "").upper()
    require(may_take_part(user.role, user.org_code, org), "staff", org)
    iid = submit_idea(request.app.state.engine, org, form.get("title") or "", form.get("description") or "",
                      form.get("needs_money") == "yes", user.email)
    return RedirectResponse(f"/improve/ideas/{iid}", status_code=303)


@pages.get("/improve/ideas/{idea_id}")
def idea_page(request: Request, idea_id: RecordId, saved: str | None = None, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    projects = records(list_projects(eng, idea["org_code"]))
    history = idea_history(eng, idea_id)
    edited = {h["what"] for h in history}
    return render(request, "improve/idea.html", title=idea["title"], idea=idea, statuses=IDEA_STATUSES,
                  project_choices=[(str(p["id"]), p["title"]) for p in projects], voted=user.email in idea["voters"],
                  can_take_part=may_take_part(user.role, user.org_code, idea["org_code"]),
                  can_manage=may_manage(user.role, user.org_code, idea["org_code"]),
                  may_edit=lambda author: may_edit_text(user, author), history=history, edited=edited,
                  saved=bool(saved))


def may_edit_text(user: CurrentUser, author: str) -> bool:
    """An idea or a comment is edited by its author, or by an administrator (:func:`partnering.improve.edit_idea`)."""
    return user.is_admin or (bool(user.email) and user.email == author)


def _require_author(user: CurrentUser, author: str, what: str) -> None:
    if not may_edit_text(user, author):
        raise AccessDenied(f"only the author of this {what} ({author}) or an administrator may edit it")


def _edit_form(request: Request, idea: dict, values: dict, comment: dict | None = None, errors=None,
               status: int = 200):
    what = f"comment {comment['id']}" if comment else "idea"
    return render(request, "improve/idea_edit.html", status_code=status, title=f"Edit the {what}", idea=idea,
                  comment=comment, values=values, errors=errors or [])


@pages.get("/improve/ideas/{idea_id}/edit")
def edit_idea_page(request: Request, idea_id: RecordId, user: CurrentUser = Depends(page_user)):
    idea = readable_idea(request.app.state.engine, user, idea_id)
    _require_author(user, idea["submitted_by"], "idea")
    return _edit_form(request, idea, {"title": idea["title"], "description": idea["description"] or "",
                                      "needs_money": "yes" if idea["needs_money"] else "no"})


@pages.post("/improve/ideas/{idea_id}/edit")
async def edit_idea_save(request: Request, idea_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    _require_author(user, idea["submitted_by"], "idea")
    form = await request.form()
    values = {"title": form.get("title") or "", "description": form.get("description") or "",
              "needs_money": "yes" if form.get("needs_money") == "yes" else "no"}
    try:
        edit_idea(eng, idea_id, title=values["title"], description=values["description"],
                  needs_money=values["needs_money"] == "yes", actor=user.email, as_admin=user.is_admin)
    except ValidationError as exc:
        return _edit_form(request, idea, values, errors=[{"text": exc.user_message(), "href": "#title"}],
                          status=400)
    return RedirectResponse(f"/improve/ideas/{idea_id}?saved=1", status_code=303)


def _comment_of(idea: dict, comment_id: int) -> dict:
    comment = next((c for c in idea["comments"] if c["id"] == comment_id), None)
    if comment is None:
        raise NotFoundError(f"no comment {comment_id} on idea {idea['id']}")
    return comment


@pages.get("/improve/ideas/{idea_id}/comments/{comment_id}/edit")
def edit_comment_page(request: Request, idea_id: RecordId, comment_id: RecordId,
                      user: CurrentUser = Depends(page_user)):
    idea = readable_idea(request.app.state.engine, user, idea_id)
    comment = _comment_of(idea, comment_id)
    _require_author(user, comment["author"], "comment")
    return _edit_form(request, idea, {"text": comment["text"]}, comment=comment)


@pages.post("/improve/ideas/{idea_id}/comments/{comment_id}/edit")
async def edit_comment_save(request: Request, idea_id: RecordId, comment_id: RecordId,
                            user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    comment = _comment_of(idea, comment_id)
    _require_author(user, comment["author"], "comment")
    form = await request.form()
    values = {"text": form.get("text") or ""}
    try:
        edit_comment(eng, idea_id, comment_id, values["text"], user.email, as_admin=user.is_admin)
    except ValidationError as exc:
        return _edit_form(request, idea, values, comment=comment,
                          errors=[{"text": exc.user_message(), "href": "#text"}], status=400)
    return RedirectResponse(f"/improve/ideas/{idea_id}?saved=1#comments", status_code=303)


@pages.post("/improve/ideas/{idea_id}/vote")
async def vote_page(request: Request, idea_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    require(may_take_part(user.role, user.org_code, idea["org_code"]), "staff", idea["org_code"])
    form = await request.form()
    vote_for_idea(eng, idea_id, user.email, remove=form.get("remove") == "yes")
    return RedirectResponse(f"/improve/ideas/{idea_id}", status_code=303)


@pages.post("/improve/ideas/{idea_id}/comment")
async def comment_page(request: Request, idea_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    require(may_take_part(user.role, user.org_code, idea["org_code"]), "staff", idea["org_code"])
    form = await request.form()
    comment_on_idea(eng, idea_id, form.get("text") or "", user.email)
    return RedirectResponse(f"/improve/ideas/{idea_id}", status_code=303)


@pages.post("/improve/ideas/{idea_id}/triage")
async def triage_page(request: Request, idea_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    require(may_manage(user.role, user.org_code, idea["org_code"]), "analysts", idea["org_code"])
    form = await request.form()
    status = form.get("status") or ""
    if status == "new_project":
        pid = create_project(eng, idea["org_code"], idea["title"], idea.get("description"), from_idea=idea_id,
                             actor=user.email)
        return RedirectResponse(f"/improve/projects/{pid}", status_code=303)
    project = form.get("project_id") or None
    triage_idea(eng, idea_id, status, form.get("note") or None, int(project) if project else None, user.email)
    return RedirectResponse(f"/improve/ideas/{idea_id}", status_code=303)


@pages.get("/improve/projects/new")
def new_project_page(request: Request, partnership: int | None = None, user: CurrentUser = Depends(page_user)):
    org = user.org_code or ""
    require(may_manage(user.role, user.org_code, org) or user.is_admin, "analysts", org or "an organisation")
    return render(request, "improve/project_new.html", title="Start an improvement project", org=org,
                  partnership=partnership or "", errors=[])


@pages.post("/improve/projects/new")
async def create_project_page(request: Request, user: CurrentUser = Depends(page_user)):
    form = await request.form()
    org = (form.get("org_code") or user.org_code or "").strip().upper()
    require(may_manage(user.role, user.org_code, org), "analysts", org or "an organisation")
    partnership = (form.get("partnership_id") or "").strip()
    try:
        pid = create_project(request.app.state.engine, org, form.get("title") or "", form.get("aim") or None,
                             int(partnership) if partnership.isdigit() else None, actor=user.email)
    except PartneringError as exc:
        return render(request, "improve/project_new.html", status_code=400, title="Start an improvement project",
                      org=org, partnership=partnership, values=form,
                      errors=[{"text": exc.user_message(), "href": "#title"}])
    return RedirectResponse(f"/improve/projects/{pid}", status_code=303)


@pages.get("/improve/projects/{project_id}")
def project_page(request: Request, project_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    p = readable_project(eng, user, project_id)
    return render(request, "improve/project.html", title=p.title, p=p, charts=measure_charts(eng, user, p),
                  kinds=DRIVER_KINDS, decisions=DECISIONS, scale=IHI_SCALE, statuses=PROJECT_STATUSES,
                  can_manage=may_manage(user.role, user.org_code, p.org_code),
                  change_ideas=_change_ideas(p.drivers),
                  change_ideas_choices=lambda nodes: [(str(n.id), f"{n.id}: {n.text[:60]}") for n in nodes],
                  scale_choices=lambda scale: [(f"{k:.1f}", f"{k:.1f} {v}") for k, v in scale.items()])


def _change_ideas(nodes) -> list:
    out = []
    for n in nodes:
        if n.kind == "change_idea":
            out.append(n)
        out.extend(_change_ideas(n.children))
    return out


def _managed(request: Request, user: CurrentUser, project_id: RecordId):
    p = readable_project(request.app.state.engine, user, project_id)
    require(may_manage(user.role, user.org_code, p.org_code), "analysts", p.org_code)
    return p


@pages.post("/improve/projects/{project_id}/drivers")
async def driver_page(request: Request, project_id: RecordId, user: CurrentUser = Depends(page_user)):
    _managed(request, user, project_id)
    form = await request.form()
    parent = (form.get("parent_id") or "").strip()
    add_driver(request.app.state.engine, project_id, form.get("kind") or "", form.get("text") or "",
               int(parent) if parent.isdigit() else None, user.email)
    return RedirectResponse(f"/improve/projects/{project_id}#drivers", status_code=303)


@pages.post("/improve/projects/{project_id}/cycles")
async def cycle_page(request: Request, project_id: RecordId, user: CurrentUser = Depends(page_user)):
    _managed(request, user, project_id)
    form = await request.form()
    idea = (form.get("change_idea_id") or "").strip()
    measures = [m.strip() for m in (form.get("measures") or "").replace(",", "\n").splitlines() if m.strip()]
    add_cycle(request.app.state.engine, project_id, form.get("title") or "", form.get("start_period") or "",
              measures, int(idea) if idea.isdigit() else None, form.get("end_period") or None,
              form.get("plan") or None, form.get("do") or None, form.get("study") or None, form.get("act") or None,
              form.get("decision") or None, user.email)
    return RedirectResponse(f"/improve/projects/{project_id}#cycles", status_code=303)


@pages.post("/improve/projects/{project_id}/progress")
async def progress_page(request: Request, project_id: RecordId, user: CurrentUser = Depends(page_user)):
    _managed(request, user, project_id)
    form = await request.form()
    record_progress(request.app.state.engine, project_id, form.get("period") or "", form.get("score") or "",
                    form.get("note") or None, user.email)
    return RedirectResponse(f"/improve/projects/{project_id}#progress", status_code=303)


# ------------------------------------------------------------------------------------------------ API


class IdeaIn(BaseModel):
    org_code: str | None = Field(None, description="Organisation (default: yours)")
    title: str
    description: str | None = None
    needs_money: bool = False


class CommentIn(BaseModel):
    text: str


class IdeaEditIn(BaseModel):
    title: str | None = Field(None, description="The idea in a line (unchanged when left out)")
    description: str | None = Field(None, description="More detail (an empty string clears it)")
    needs_money: bool | None = Field(None, description="Whether it needs money (unchanged when left out)")


class TriageIn(BaseModel):
    status: str = Field(description="under_review, accepted or not_taken_forward")
    note: str | None = None
    project_id: int | None = None


class ProjectIn(BaseModel):
    org_code: str | None = Field(None, description="Organisation (default: yours)")
    title: str
    aim: str | None = None
    partnership_id: int | None = None
    from_idea: int | None = None


class DriverIn(BaseModel):
    kind: str = Field(description="primary, secondary or change_idea")
    text: str
    parent_id: int | None = None


class CycleIn(BaseModel):
    title: str
    start_period: str = Field(examples=["2025-05"])
    measures: list[str] = Field(default_factory=list, description="Indicator codes (CODE@ORG for another series)")
    change_idea_id: int | None = None
    end_period: str | None = None
    plan: str | None = None
    do: str | None = None
    study: str | None = None
    act: str | None = None
    decision: str | None = None


class ProgressIn(BaseModel):
    period: str = Field(examples=["2025-06"])
    score: float = Field(description="IHI assessment scale, 0.5 to 5.0 in half points")
    note: str | None = None


def _project_out(eng, user, p) -> dict:
    out = asdict(p)
    out["annotations"] = {f"{code}@{org}": cycle_annotations(p, code, org) for code, org in p.measures}
    return out


@api.get("/improve/ideas", responses=ERROR_RESPONSES)
def api_ideas(request: Request, org: str | None = Query(None, description="Organisation (administrators)"),
              user: CurrentUser = Depends(api_user)) -> list[dict]:
    """Staff improvement ideas you may see, newest first."""
    df = list_ideas(request.app.state.engine, _scope_org(user, org))
    df["submitted_at"] = df["submitted_at"].astype(str)
    return records(df)


@api.post("/improve/ideas", status_code=201, responses=ERROR_RESPONSES)
def api_submit(request: Request, body: IdeaIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Submit an improvement idea for an organisation."""
    org = (body.org_code or user.org_code or "").upper()
    require(may_take_part(user.role, user.org_code, org), "staff", org)
    eng = request.app.state.engine
    return get_idea(eng, submit_idea(eng, org, body.title, body.description, body.needs_money, user.email))


@api.get("/improve/ideas/{idea_id}", responses=ERROR_RESPONSES)
def api_idea(request: Request, idea_id: RecordId, user: CurrentUser = Depends(api_user)) -> dict:
    """One idea with its votes, comments and triage decision."""
    return readable_idea(request.app.state.engine, user, idea_id)


@api.patch("/improve/ideas/{idea_id}", responses=ERROR_RESPONSES)
def api_edit_idea(request: Request, idea_id: RecordId, body: IdeaEditIn, user: CurrentUser = Depends(api_user)
                  ) -> dict:
    """Edit an idea's title, detail or whether it needs money (its author, or an administrator); audited with the
    fields before and after."""
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    _require_author(user, idea["submitted_by"], "idea")
    return edit_idea(eng, idea_id, title=body.title, description=body.description, needs_money=body.needs_money,
                     actor=user.email, as_admin=user.is_admin)


@api.patch("/improve/ideas/{idea_id}/comments/{comment_id}", responses=ERROR_RESPONSES)
def api_edit_comment(request: Request, idea_id: RecordId, comment_id: RecordId, body: CommentIn,
                     user: CurrentUser = Depends(api_user)) -> dict:
    """Edit a comment on an idea (its author, or an administrator); audited with the text before and after."""
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    _require_author(user, _comment_of(idea, comment_id)["author"], "comment")
    return edit_comment(eng, idea_id, comment_id, body.text, user.email, as_admin=user.is_admin)


@api.get("/improve/ideas/{idea_id}/history", responses=ERROR_RESPONSES)
def api_idea_history(request: Request, idea_id: RecordId, user: CurrentUser = Depends(api_user)) -> list[dict]:
    """Every edit of an idea and its comments, oldest first: who, when, and the fields before and after."""
    eng = request.app.state.engine
    readable_idea(eng, user, idea_id)
    return [{**h, "at": h["at"].isoformat(timespec="seconds")} for h in idea_history(eng, idea_id)]


@api.post("/improve/ideas/{idea_id}/votes", responses=ERROR_RESPONSES)
def api_vote(request: Request, idea_id: RecordId, user: CurrentUser = Depends(api_user)) -> dict:
    """Vote for an idea (staff of its organisation)."""
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    require(may_take_part(user.role, user.org_code, idea["org_code"]), "staff", idea["org_code"])
    return {"idea_id": idea_id, "votes": vote_for_idea(eng, idea_id, user.email)}


@api.post("/improve/ideas/{idea_id}/comments", status_code=201, responses=ERROR_RESPONSES)
def api_comment(request: Request, idea_id: RecordId, body: CommentIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Comment on an idea (staff of its organisation)."""
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    require(may_take_part(user.role, user.org_code, idea["org_code"]), "staff", idea["org_code"])
    return {"idea_id": idea_id, "comment_id": comment_on_idea(eng, idea_id, body.text, user.email)}


@api.post("/improve/ideas/{idea_id}/triage", responses=ERROR_RESPONSES)
def api_triage(request: Request, idea_id: RecordId, body: TriageIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Triage an idea: its new status, a note and any project it became (analysts of its organisation)."""
    eng = request.app.state.engine
    idea = readable_idea(eng, user, idea_id)
    require(may_manage(user.role, user.org_code, idea["org_code"]), "analysts", idea["org_code"])
    return triage_idea(eng, idea_id, body.status, body.note, body.project_id, user.email)


@api.get("/improve/projects", responses=ERROR_RESPONSES)
def api_projects(request: Request, org: str | None = Query(None, description="Organisation (administrators)"),
                 user: CurrentUser = Depends(api_user)) -> list[dict]:
    """Improvement projects you may see."""
    df = list_projects(request.app.state.engine, _scope_org(user, org))
    for c in ("created_at", "updated_at"):
        df[c] = df[c].astype(str)
    return records(df)


@api.post("/improve/projects", status_code=201, responses=ERROR_RESPONSES)
def api_create_project(request: Request, body: ProjectIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Start an improvement project for an organisation."""
    org = (body.org_code or user.org_code or "").upper()
    require(may_manage(user.role, user.org_code, org), "analysts", org or "an organisation")
    eng = request.app.state.engine
    pid = create_project(eng, org, body.title, body.aim, body.partnership_id, body.from_idea, user.email)
    return _project_out(eng, user, get_project(eng, pid))


@api.get("/improve/projects/{project_id}", responses=ERROR_RESPONSES)
def api_project(request: Request, project_id: RecordId, user: CurrentUser = Depends(api_user)) -> dict:
    """A project with its driver tree, cycles, progress scores, and per measure the cycles as chart annotations."""
    eng = request.app.state.engine
    return _project_out(eng, user, readable_project(eng, user, project_id))


@api.post("/improve/projects/{project_id}/drivers", status_code=201, responses=ERROR_RESPONSES)
def api_driver(request: Request, project_id: RecordId, body: DriverIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Add a driver (primary, secondary or change idea) to a project's driver diagram."""
    _managed(request, user, project_id)
    return {"driver_id": add_driver(request.app.state.engine, project_id, body.kind, body.text, body.parent_id,
                                    user.email)}


@api.post("/improve/projects/{project_id}/cycles", status_code=201, responses=ERROR_RESPONSES)
def api_cycle(request: Request, project_id: RecordId, body: CycleIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Record a PDSA cycle of a project, with the measures it tests."""
    _managed(request, user, project_id)
    cid = add_cycle(request.app.state.engine, project_id, body.title, body.start_period, body.measures,
                    body.change_idea_id, body.end_period, body.plan, body.do, body.study, body.act, body.decision,
                    user.email)
    return {"cycle_id": cid}


@api.post("/improve/projects/{project_id}/progress", status_code=201, responses=ERROR_RESPONSES)
def api_progress(request: Request, project_id: RecordId, body: ProgressIn, user: CurrentUser = Depends(api_user)
                 ) -> dict:
    """Record a project's IHI progress score for a month."""
    _managed(request, user, project_id)
    sid = record_progress(request.app.state.engine, project_id, body.period, body.score, body.note, user.email)
    return {"progress_id": sid, "score": body.score, "label": IHI_SCALE.get(body.score, "")}
