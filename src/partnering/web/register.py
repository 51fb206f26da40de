"""The partnership register (issue #11 s.1) as pages and as ``/api/v1/partnerships``.

Pages: the register (``/partnerships``, filters by organisation and status); a partnership (``/partnerships/{id}``:
parties, targets, the ingredients for success — those not yet recorded are named —, business case, lessons, its
improvement projects and its change history); the form to record one (``/partnerships/new``, pre-filled from the
query string: the buddying plan and the partner candidates link here with ``recipient``, ``supporter`` and
``form``) and to edit one, each with an error summary; renew.

API: list, create, read (with history), update (``PATCH``: the fields to change, optionally ``expected_version``),
end and renew.

Access: everyone signed in reads; analysts of a party organisation, and administrators, write
(:func:`partnering.register.may_write`).  Every write goes through :mod:`partnering.register` (validated, audited,
versioned).  Nothing is computed here.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from partnering.errors import AccessDenied, ValidationError
from partnering.register import (
    FORMS,
    INGREDIENTS,
    PARTY_ROLES,
    STATUSES,
    EntryInvalid,
    PartnershipEntry,
    add_partnership,
    end_partnership,
    get_partnership,
    list_partnerships,
    may_write,
    partnership_history,
    renew_partnership,
    require_write,
    update_partnership,
    validate_entry,
)
from partnering.register.files import parse_parties, parse_targets
from partnering.web.auth import CurrentUser
from partnering.web.deps import ROLE_RANK, api_user, check_csrf, page_user
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import RecordId
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])

#: the form's fields that map one to one onto the entry (lists are one line each in a text box)
TEXT_FIELDS = ("recipient_code", "supporter_code", "form", "start_period", "end_period", "title", "status",
               "mandated_by", "aims", *INGREDIENTS, "lessons", "appraisal_case_id")


def _codes(entry_or_record) -> list[str]:
    codes = [entry_or_record.recipient_code, entry_or_record.supporter_code]
    codes += [p.org_code for p in entry_or_record.parties if p.org_code]
    return codes


def _can_create(user: CurrentUser) -> bool:
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK["analyst"]


def _names(request: Request) -> dict[str, str]:
    from partnering.web import services

    df = services.organisations(request.app.state.engine)
    return dict(zip(df["org_code"], df["name"]))


# ------------------------------------------------------------------------------------------------ pages


@pages.get("/partnerships")
def register_page(request: Request, org: str | None = None, status: str | None = None,
                  user: CurrentUser = Depends(page_user)):
    status = status if status in STATUSES else None
    rows = records(list_partnerships(request.app.state.engine, org=org or None, status=status))
    return render(request, "register/list.html", title="Partnership register", rows=rows, org=org or "",
                  status=status or "", statuses=STATUSES, forms=FORMS, can_create=_can_create(user))


def _form_values(rec=None, query: dict | None = None) -> dict:
    v = {k: "" for k in TEXT_FIELDS}
    v.update(parties="", targets="", mandated=False, version="", status="active", form="buddying")
    if rec is not None:
        for k in TEXT_FIELDS:
            val = rec.ingredients.get(k) if k in INGREDIENTS else getattr(rec, k)
            v[k] = "" if val is None else str(val)
        v["mandated"] = rec.mandated
        v["version"] = str(rec.version)
        v["parties"] = "\n".join(f"{p.role}:{p.org_code or p.name}" for p in rec.parties[2:])
        v["targets"] = "\n".join(
            ":".join([t.indicator_code + ("" if t.org_code == rec.recipient_code else f"@{t.org_code}"),
                      "" if t.baseline is None else f"{t.baseline:g}", "" if t.target is None else f"{t.target:g}",
                      t.target_period or ""]) for t in rec.targets)
    for k, val in (query or {}).items():
        if k in ("recipient", "supporter"):
            v[f"{k}_code"] = val.upper()
        elif k == "form" and val in FORMS:
            v["form"] = val
        elif k == "case":
            v["appraisal_case_id"] = val
        elif k == "title":
            v["title"] = val
    return v


def _form_page(request: Request, user: CurrentUser, values: dict, rec=None, errors=None, status: int = 200):
    title = f"Edit partnership {rec.id}" if rec else "Record a partnership"
    return render(request, "register/form.html", status_code=status, title=title, values=values, rec=rec,
                  errors=errors or [], forms=FORMS, statuses=STATUSES, roles=PARTY_ROLES, ingredients=INGREDIENTS)


@pages.get("/partnerships/new")
def new_page(request: Request, recipient: str | None = None, supporter: str | None = None,
             form: str | None = None, case: str | None = None, user: CurrentUser = Depends(page_user)):
    if not _can_create(user):
        raise AccessDenied("you need the analyst role to record partnerships")
    query = {k: v for k, v in (("recipient", recipient), ("supporter", supporter), ("form", form), ("case", case))
             if v}
    return _form_page(request, user, _form_values(query=query))


def _entry_from_form(form) -> tuple[dict, dict, list[dict]]:
    """(entry data, values to show again, errors) from a posted form."""
    values = {k: (form.get(k) or "").strip() for k in (*TEXT_FIELDS, "parties", "targets", "version")}
    values["mandated"] = form.get("mandated") == "yes"
    data = {k: values[k] or None for k in TEXT_FIELDS}
    data["status"] = values["status"] or "active"
    data["mandated"] = values["mandated"]
    errors = []
    for key, parse in (("parties", parse_parties), ("targets", parse_targets)):
        try:
            data[key] = parse("; ".join(line for line in values[key].splitlines() if line.strip()))
        except ValueError as exc:
            errors.append({"text": str(exc), "href": f"#{key}"})
    return data, values, errors


def _problem_errors(exc: EntryInvalid) -> list[dict]:
    out = []
    for loc, msg in exc.problems:
        head = loc.split(".")[0] if loc else ""
        label = {"recipient_code": "Recipient", "supporter_code": "Supporter", "start_period": "First month",
                 "end_period": "Last month", "appraisal_case_id": "Business case"}.get(head, head.replace("_", " ")
                                                                                    .capitalize())
        out.append({"text": f"{label}: {msg}" if label else msg, "href": f"#{head or 'recipient_code'}"})
    return out


@pages.post("/partnerships/new")
async def create_page(request: Request, user: CurrentUser = Depends(page_user)):
    form = await request.form()
    data, values, errors = _entry_from_form(form)
    eng = request.app.state.engine
    if not errors:
        try:
            entry = validate_entry(data)
            require_write(user.role, user.org_code, _codes(entry))
            rec = add_partnership(eng, entry, user.email)
            return RedirectResponse(f"/partnerships/{rec.id}?saved=1", status_code=303)
        except EntryInvalid as exc:
            errors = _problem_errors(exc)
    return _form_page(request, user, values, errors=errors, status=400)


@pages.get("/partnerships/{partnership_id}")
def detail_page(request: Request, partnership_id: RecordId, saved: str | None = None,
                user: CurrentUser = Depends(page_user)):
    from partnering.improve import list_projects

    eng = request.app.state.engine
    rec = get_partnership(eng, partnership_id)
    history = partnership_history(eng, partnership_id)
    projects = records(list_projects(eng, partnership_id=partnership_id))
    missing = [label for k, label in INGREDIENTS.items() if not rec.ingredients.get(k)]
    return render(request, "register/detail.html", title=rec.title or f"Partnership {rec.id}", rec=rec,
                  history=history, projects=projects, missing=missing, names=_names(request), forms=FORMS,
                  statuses=STATUSES, roles=PARTY_ROLES, ingredients=INGREDIENTS, saved=bool(saved),
                  can_edit=may_write(user.role, user.org_code, rec.party_codes))


def _writable(request: Request, user: CurrentUser, partnership_id: RecordId):
    """The partnership, when the user may change it (:class:`AccessDenied` saying why otherwise)."""
    rec = get_partnership(request.app.state.engine, partnership_id)
    require_write(user.role, user.org_code, rec.party_codes)
    return rec


@pages.get("/partnerships/{partnership_id}/edit")
def edit_page(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(page_user)):
    rec = _writable(request, user, partnership_id)
    return _form_page(request, user, _form_values(rec), rec=rec)


@pages.post("/partnerships/{partnership_id}/edit")
async def edit_save(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    rec = _writable(request, user, partnership_id)
    form = await request.form()
    data, values, errors = _entry_from_form(form)
    if not errors:
        try:
            version = int(values["version"]) if values["version"].isdigit() else None
            new_codes = [data["recipient_code"], data["supporter_code"],
                         *[p["org_code"] for p in data.get("parties", []) if p.get("org_code")]]
            require_write(user.role, user.org_code, [c for c in new_codes if c])
            update_partnership(eng, partnership_id, data, user.email, expected_version=version)
            return RedirectResponse(f"/partnerships/{partnership_id}?saved=1", status_code=303)
        except EntryInvalid as exc:
            errors = _problem_errors(exc)
        except AccessDenied:
            raise
        except Exception as exc:
            if not isinstance(exc, ValidationError):
                raise
            errors = [{"text": exc.user_message(), "href": "#recipient_code"}]
    return _form_page(request, user, values, rec=rec, errors=errors, status=400)


def _end_page(request: Request, rec, values: dict, errors=None, status: int = 200):
    return render(request, "register/end.html", status_code=status, title=f"End partnership {rec.id}", rec=rec,
                  values=values, errors=errors or [], names=_names(request), forms=FORMS)


@pages.get("/partnerships/{partnership_id}/end")
def end_page(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(page_user)):
    """The form to end a partnership: its last month, why it ended, the lessons, and a confirmation."""
    rec = _writable(request, user, partnership_id)
    return _end_page(request, rec, {"end_period": rec.end_period or "", "reason": "", "lessons": rec.lessons or "",
                                    "confirm": False, "version": str(rec.version)})


@pages.post("/partnerships/{partnership_id}/end")
async def end_save(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    rec = _writable(request, user, partnership_id)
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("end_period", "reason", "lessons", "version")}
    values["confirm"] = form.get("confirm") == "yes"
    errors = []
    if not values["end_period"]:
        errors.append({"text": "Enter the last month of the partnership, for example 2026-03", "href": "#end_period"})
    if not values["reason"]:
        errors.append({"text": "Say why the partnership ended", "href": "#reason"})
    if not values["confirm"]:
        errors.append({"text": "Confirm that the partnership has ended", "href": "#confirm"})
    if not errors:
        try:
            if values["version"].isdigit() and int(values["version"]) != rec.version:
                raise ValidationError(f"partnership {rec.id} was changed by someone else since you opened this form "
                                      f"(now version {rec.version}): check it and end it again")
            end_partnership(eng, partnership_id, values["end_period"], user.email,
                            lessons=values["lessons"] or None, reason=values["reason"])
            return RedirectResponse(f"/partnerships/{partnership_id}?saved=1", status_code=303)
        except EntryInvalid as exc:
            errors = [{"text": e["text"], "href": e["href"] if e["href"] == "#lessons" else "#end_period"}
                      for e in _problem_errors(exc)]
        except ValidationError as exc:
            errors = [{"text": exc.user_message(), "href": "#end_period"}]
    return _end_page(request, rec, values, errors, status=400)


@pages.post("/partnerships/{partnership_id}/renew")
async def renew_page(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    _writable(request, user, partnership_id)
    form = await request.form()
    new = renew_partnership(eng, partnership_id, (form.get("start_period") or "").strip(), user.email)
    return RedirectResponse(f"/partnerships/{new.id}?saved=1", status_code=303)


# ------------------------------------------------------------------------------------------------ API


class EndIn(BaseModel):
    end_period: str = Field(description="Last month (ISO)", examples=["2026-03"])
    lessons: str | None = Field(None, description="What was learned (replaces the lessons recorded so far)")
    reason: str | None = Field(None, description="Why it ended: added to the lessons as 'Ended in YYYY-MM: ...'")


class RenewIn(BaseModel):
    start_period: str = Field(description="First month of the new period (ISO)", examples=["2026-04"])
    end_period: str | None = Field(None, description="Last month of the new period, if known")


def _out(eng, rec) -> dict:
    out = rec.to_dict()
    out["history"] = [{"version": h["version"], "at": h["at"].isoformat(timespec="seconds"), "actor": h["actor"],
                       "action": h["action"]} for h in partnership_history(eng, rec.id)]
    return out


@api.get("/partnerships", responses=ERROR_RESPONSES)
def api_list(request: Request, org: str | None = Query(None, description="Recipient or supporter ODS code"),
             status: str | None = Query(None, description="proposed, active or ended"),
             form: str | None = Query(None, description="Form of partnership"),
             user: CurrentUser = Depends(api_user)) -> list[dict]:
    """The register, newest first."""
    df = list_partnerships(request.app.state.engine, org=org, status=status, form=form)
    df["updated_at"] = df["updated_at"].astype(str)
    return records(df)


@api.post("/partnerships", status_code=201, responses=ERROR_RESPONSES)
def api_create(request: Request, entry: PartnershipEntry, user: CurrentUser = Depends(api_user)) -> dict:
    """Record a partnership (analysts of a party organisation, or administrators)."""
    require_write(user.role, user.org_code, _codes(entry))
    eng = request.app.state.engine
    return _out(eng, add_partnership(eng, entry, user.email))


@api.get("/partnerships/{partnership_id}", responses=ERROR_RESPONSES)
def api_get(request: Request, partnership_id: RecordId, user: CurrentUser = Depends(api_user)) -> dict:
    """A partnership with its parties, targets, ingredients for success and change history."""
    eng = request.app.state.engine
    return _out(eng, get_partnership(eng, partnership_id))


@api.patch("/partnerships/{partnership_id}", responses=ERROR_RESPONSES)
def api_update(request: Request, partnership_id: RecordId,
               changes: dict = Body(..., examples=[{"lessons": "...", "expected_version": 2}]),
               user: CurrentUser = Depends(api_user)) -> dict:
    """Change fields (``parties``/``targets`` replace the lists); ``expected_version`` guards a concurrent edit."""
    eng = request.app.state.engine
    rec = get_partnership(eng, partnership_id)
    require_write(user.role, user.org_code, rec.party_codes)
    changes = dict(changes)
    expected = changes.pop("expected_version", None)
    if changes.get("recipient_code") or changes.get("supporter_code"):  # still a party after the change
        require_write(user.role, user.org_code, [changes.get("recipient_code") or rec.recipient_code,
                                                 changes.get("supporter_code") or rec.supporter_code])
    return _out(eng, update_partnership(eng, partnership_id, changes, user.email, expected_version=expected))


@api.post("/partnerships/{partnership_id}/end", responses=ERROR_RESPONSES)
def api_end(request: Request, partnership_id: RecordId, body: EndIn, user: CurrentUser = Depends(api_user)) -> dict:
    """End a partnership: the month it ends, why, and the lessons learnt, audited."""
    eng = request.app.state.engine
    require_write(user.role, user.org_code, get_partnership(eng, partnership_id).party_codes)
    return _out(eng, end_partnership(eng, partnership_id, body.end_period, user.email, body.lessons, body.reason))


@api.post("/partnerships/{partnership_id}/renew", status_code=201, responses=ERROR_RESPONSES)
def api_renew(request: Request, partnership_id: RecordId, body: RenewIn, user: CurrentUser = Depends(api_user)) -> dict:
    """Renew a partnership from a new start month (optionally a new end month): a new version, audited."""
    eng = request.app.state.engine
    require_write(user.role, user.org_code, get_partnership(eng, partnership_id).party_codes)
    changes = {"end_period": body.end_period} if body.end_period else None
    return _out(eng, renew_partnership(eng, partnership_id, body.start_period, user.email, changes))
