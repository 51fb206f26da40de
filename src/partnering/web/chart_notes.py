"""Chart annotations and rebases (issue #14.3) and chart and board-pack downloads (issue #14.4), as pages and as
``/api/v1/...``.

* ``/org/{code}/notes`` lists an organisation's annotations and rebases (everyone signed in sees them, as they
  see the organisation page) and, for an analyst of the organisation or an administrator
  (:func:`partnering.improve.access.may_manage`), the forms to add them (``POST /org/{code}/notes``), change and
  delete them (``POST /notes/{id}/change``, ``/notes/{id}/delete``) and undo a recent change
  (``POST /notes/undo/{event}``: the audit log keeps the note before every change).  The store keeps who and
  when and audits every write (:mod:`partnering.store.annotations`); a rebase restarts the SPC mean and limits in
  the assessment, so every page, the report and the API show the rebased limits.
* ``/org/{code}/download/charts/{indicator}.png`` / ``.svg``: the chart the page shows, server-drawn with matplotlib
  from the same chart specification (:func:`partnering.report.chart_spec.chart_spec`) with its title, data date and
  source line; ``/org/{code}/download-board-pack``: the board pack (PDF)
  (:func:`partnering.report.performance.write_report`).
* API: ``GET/POST /api/v1/organisations/{code}/notes``, ``PATCH/DELETE /api/v1/notes/{id}``, and
  ``GET /api/v1/organisations/{code}/charts/{indicator}`` (the chart specification as JSON).
"""

from __future__ import annotations

import io
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

import matplotlib
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from partnering.errors import NotFoundError, PartneringError
from partnering.improve.access import may_manage, require
from partnering.indicators.catalogue import indicator, load_catalogue
from partnering.report.chart_spec import chart_spec
from partnering.store import annotations as store
from partnering.web import services
from partnering.web.auth import CurrentUser
from partnering.web.cache import cached
from partnering.web.deps import CSRF_FIELD, api_user, check_csrf, csrf_token, page_user
from partnering.web.downloads import safe_name
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import CODE, RecordId
from partnering.web.render import records, render
from partnering.web.templating import render_fragment

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])

KIND_WORDS = {"annotation": "Annotation", "rebase": "Rebase"}
CHART_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


# ------------------------------------------------------------------------------------------------ shared


def org_notes(eng, code: str) -> pd.DataFrame:
    """The organisation's notes, cached per data version (every note write is audited, which moves the version)."""
    return cached(eng, "chart_notes", None, lambda: store.notes_frame(eng, [code]), code.upper())


def chart_of(eng, user, code: str, indicator_code: str) -> dict:
    """The chart specification of one of the organisation's series, as the page draws it: the assessment's points
    (with any rebase applied), its icons, its notes, the catalogue's standards and source."""
    code = code.upper()
    org = services.org_row(eng, code)
    pts = services.org_spc(eng, user, code)
    if pts.empty or indicator_code not in set(pts["indicator"]):
        raise NotFoundError(f"no values of {indicator_code!r} for {code}")
    sub = pts[pts["indicator"] == indicator_code]
    d = indicator(indicator_code, load_catalogue())
    notes = org_notes(eng, code)
    return chart_spec(sub, title=f"{d.name if d else indicator_code}: {org['name']}",
                      unit=d.unit if d else "", indicator_code=indicator_code,
                      icons=services.org_spc_icons(eng, user, code, indicator_code),
                      notes=notes[notes["indicator"] == indicator_code] if not notes.empty else None)


def chart_file(eng, user, code: str, indicator_code: str, fmt: str) -> bytes:
    """The chart as PNG or SVG bytes, cached per data version and viewer scope."""
    from partnering.report.spc_chart import draw_spec

    def compute():
        fig = draw_spec(chart_of(eng, user, code, indicator_code), width=10.0, height=5.6)
        buf = io.BytesIO()
        alt = getattr(fig, "alt_text", "")
        if fmt == "svg":  # text kept as text (searchable, read by screen readers, editable in a board paper)
            with matplotlib.rc_context({"svg.fonttype": "none"}):
                fig.savefig(buf, format="svg", metadata={"Title": alt[:200], "Description": alt})
        else:
            fig.savefig(buf, format="png", dpi=150, metadata={"Title": alt[:200], "Description": alt})
        return buf.getvalue()

    return cached(eng, "chart_file", user, compute, code.upper(), indicator_code, fmt)


def board_pack(eng, user, code: str) -> bytes:
    """The organisation's board pack as PDF bytes (cached per data version and viewer scope)."""
    from partnering.report.performance import PackExtras, write_report

    def compute():
        a = services.require_org_assessment(eng, user, code)  # among its own kind; 404 saying why if not assessed
        try:
            partners, reason = services.partner_candidates(eng, user, code), ""
        except NotFoundError as exc:
            partners, reason = None, exc.user_message()
        extras = PackExtras(org_notes(eng, code), services.peers(eng, user, code), partners, reason)
        with tempfile.TemporaryDirectory() as tmp:
            out = write_report(a, code, Path(tmp) / "pack.pdf", extras)
            return out.read_bytes()

    return cached(eng, "board_pack", user, compute, code.upper())


def _may_manage(user: CurrentUser, code: str) -> bool:
    return may_manage(user.role, user.org_code, code)


#: where the organisation page's (cached) body wants a chart's annotate-or-rebase form: ``<!--note-form ID IND-->``
NOTE_FORM_MARK = re.compile(r"<!--note-form (chart-\d+) ([^ >]+) -->")


def with_note_forms(request: Request, user: CurrentUser, code: str, html: str, charts: list[dict]) -> Markup:
    """The organisation page's body with, under each chart, the form to annotate or rebase it — for the
    organisation's analysts and admins (everyone else sees the body as cached, the markers being HTML comments)."""
    if not _may_manage(user, code):
        return Markup(html)
    names = {c["id"]: c.get("name", "") for c in charts}
    token = csrf_token(request)

    def form(m: re.Match) -> str:
        return str(render_fragment("organisation/note_form.html", code=code.upper(), chart_id=m.group(1),
                                   indicator=m.group(2), name=names.get(m.group(1), m.group(2)),
                                   csrf_field=CSRF_FIELD, csrf_token=token))

    return Markup(NOTE_FORM_MARK.sub(form, str(html)))


def _series_choices(eng, user, code: str) -> list[tuple[str, str]]:
    pts = services.org_spc(eng, user, code)
    if pts.empty:
        return []
    cat = load_catalogue()
    out = []
    for ind in sorted(pts["indicator"].unique()):
        d = indicator(ind, cat)
        out.append((ind, d.name if d else ind))
    return sorted(out, key=lambda t: t[1])


# ------------------------------------------------------------------------------------------------ pages


@pages.get("/org/{code}/notes")
def notes_page(request: Request, code: str, indicator_code: str = Query("", alias="indicator"),
               saved: str = "", user: CurrentUser = Depends(page_user)):
    return _notes_view(request, code, user, indicator_code, saved=saved)


def _notes_view(request: Request, code: str, user: CurrentUser, indicator_code: str = "", errors=None,
                form=None, saved: str = "", status_code: int = 200):
    eng = request.app.state.engine
    code = code.upper()
    org = services.org_row(eng, code)
    choices = _series_choices(eng, user, code)
    names = dict(choices)
    notes = org_notes(eng, code)
    rows = records(notes.assign(indicator_name=notes["indicator"].map(lambda c: names.get(c, c)),
                                kind_words=notes["kind"].map(KIND_WORDS))) if not notes.empty else []
    for r in rows:
        for col in ("created_at", "updated_at"):
            r[col] = r[col].strftime("%Y-%m-%d %H:%M") if isinstance(r[col], (datetime, pd.Timestamp)) else r[col]
    form = form or {"indicator": indicator_code, "period": "", "kind": "annotation", "text": ""}
    history = store.note_history(eng, code)
    for h in history:
        h["indicator_name"] = names.get(h["indicator"], h["indicator"])
        h["at"] = h["at"].strftime("%Y-%m-%d %H:%M") if isinstance(h["at"], (datetime, pd.Timestamp)) else h["at"]
    return render(request, "organisation/notes.html", status_code=status_code, history=history,
                  title=f"Annotations and rebases: {org['name']}", org=org, notes=rows, choices=choices,
                  can_manage=_may_manage(user, code), errors=errors or [], form=form, saved=saved,
                  kinds=list(KIND_WORDS.items()))


@pages.post("/org/{code}/notes")
async def add_note_page(request: Request, code: str, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    require(_may_manage(user, code), "analysts", code)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("indicator", "period", "kind", "text")}
    back = str(form.get("next") or "")
    try:
        store.add_note(eng, code, values["indicator"], values["period"], values["kind"], values["text"], user.email)
    except PartneringError as exc:
        field = "text" if "text" in str(exc) or "reason" in str(exc) else "period" if "period" in str(exc) else \
            "indicator"
        return _notes_view(request, code, user, values["indicator"], errors=[{"text": exc.user_message(),
                                                                                "href": f"#{field}"}],
                           form=values, status_code=400)
    if back.startswith(f"/org/{code}#"):  # from the form under a chart: back to that chart
        return RedirectResponse(back, status_code=303)
    return RedirectResponse(f"/org/{code}/notes?indicator={values['indicator']}&saved=added", status_code=303)


def _managed_note(eng, user: CurrentUser, note_id: int) -> store.Note:
    note = store.get_note(eng, note_id)
    require(_may_manage(user, note.org_code), "analysts", note.org_code)
    return note


@pages.post("/notes/{note_id}/change")
async def change_note_page(request: Request, note_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    note = _managed_note(eng, user, note_id)
    code = note.org_code
    form = await request.form()
    try:
        store.change_note(eng, note_id, text=str(form.get("text") or ""), period=str(form.get("period") or ""),
                          actor=user.email)
    except PartneringError as exc:
        return _notes_view(request, code, user, note.indicator,
                           errors=[{"text": f"Note {note_id}: {exc.user_message()}", "href": f"#text-{note_id}"}],
                           status_code=400)
    return RedirectResponse(f"/org/{note.org_code}/notes?indicator={note.indicator}&saved=changed", status_code=303)


@pages.post("/notes/{note_id}/delete")
async def delete_note_page(request: Request, note_id: RecordId, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    note = _managed_note(eng, user, note_id)
    store.delete_note(eng, note_id, actor=user.email)
    return RedirectResponse(f"/org/{note.org_code}/notes?indicator={note.indicator}&saved=deleted", status_code=303)


@pages.post("/notes/undo/{event_id}")
async def undo_note_page(request: Request, event_id: RecordId, user: CurrentUser = Depends(page_user)):
    """Put a note back as it was before an audited change (the notes page's "Undo"); the undo is audited too."""
    eng = request.app.state.engine
    code = store.event_org(eng, event_id)
    require(_may_manage(user, code), "analysts", code)
    store.undo_change(eng, event_id, actor=user.email)
    return RedirectResponse(f"/org/{code}/notes?saved=undone", status_code=303)


@pages.get("/org/{code}/download/charts/{indicator_code}.{image}")
def chart_download(request: Request, code: str, indicator_code: str, image: str,
                   user: CurrentUser = Depends(page_user)):
    """The chart as the page shows it, with its title, data date and source line: PNG or SVG."""
    fmt = image.lower()
    if fmt not in CHART_MEDIA:
        raise NotFoundError(f"charts download as png or svg, not {image[:10]!r}")
    body = chart_file(request.app.state.engine, user, code, indicator_code, fmt)
    name = safe_name(f"{code.upper()}-{indicator_code}")
    return Response(body, media_type=CHART_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@pages.get("/org/{code}/download-board-pack")
def board_pack_download(request: Request, code: str, user: CurrentUser = Depends(page_user)):
    """The organisation's board pack: flags, icon table with the MDC icons, charts, peers, partners."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    body = board_pack(eng, user, code)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{safe_name(code)}-board-pack.pdf"'})


# ------------------------------------------------------------------------------------------------ API


class NoteIn(BaseModel):
    indicator: str = Field(description="Indicator code", examples=["ae_4h_pct_all"])
    period: str = Field(description="ISO month (YYYY-MM) the note is about, or the first month after a rebase",
                        examples=["2024-02"])
    kind: Literal["annotation", "rebase"] = Field(description="annotation: a note on a month; rebase: the SPC "
                                                  "limits are recalculated from this month, with the reason as text")
    text: str = Field(description="The annotation, or the rebase's reason", max_length=store.MAX_TEXT,
                      examples=["New front door model"])


class NoteChange(BaseModel):
    period: str | None = Field(None, description="New ISO month (YYYY-MM)")
    text: str | None = Field(None, description="New text or reason", max_length=store.MAX_TEXT)


#: a note as the API returns it: the store's own record (id, org_code, indicator, period, kind, text, who and when)
NoteOut = store.Note


def _out(note: store.Note) -> dict:
    return note.audit_view()


def _out_row(r: dict) -> dict:
    out = dict(r)
    for col in ("created_at", "updated_at"):
        v = out.get(col)
        out[col] = None if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT else \
            pd.Timestamp(v).isoformat(timespec="seconds")
    if out.get("updated_by") is not None and pd.isna(out["updated_by"]):
        out["updated_by"] = None
    return out


@api.get("/organisations/{code}/notes", response_model=list[NoteOut], responses=ERROR_RESPONSES,
         summary="List an organisation's chart annotations and rebases")
def list_notes(request: Request, code: str = CODE,
               indicator_code: str | None = Query(None, alias="indicator", description="Only this indicator"),
               user: CurrentUser = Depends(api_user)):
    """Every annotation and rebase recorded on the organisation's charts, with who made it and when."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    notes = org_notes(eng, code)
    if indicator_code and not notes.empty:
        notes = notes[notes["indicator"] == indicator_code]
    return [_out_row(r) for r in records(notes)]


@api.post("/organisations/{code}/notes", response_model=NoteOut, status_code=201, responses=ERROR_RESPONSES,
          summary="Annotate a month or record a rebase on a chart")
def add_note_api(request: Request, body: NoteIn, code: str = CODE, user: CurrentUser = Depends(api_user)):
    """An analyst of the organisation (or an administrator) annotates a month of one of its series, or records a
    rebase there with its reason (the SPC limits are then recalculated from that month).  Audited."""
    eng = request.app.state.engine
    code = code.upper()
    services.org_row(eng, code)
    require(_may_manage(user, code), "analysts", code)
    note = store.add_note(eng, code, body.indicator, body.period, body.kind, body.text, user.email)
    return _out(note)


@api.patch("/notes/{note_id}", response_model=NoteOut, responses=ERROR_RESPONSES,
           summary="Change a chart annotation or rebase")
def change_note_api(request: Request, body: NoteChange, note_id: RecordId, user: CurrentUser = Depends(api_user)):
    """Change the month or the text (reason) of a note; the audit log keeps it as it was."""
    eng = request.app.state.engine
    note = store.get_note(eng, note_id)
    require(_may_manage(user, note.org_code), "analysts", note.org_code)
    changed = store.change_note(eng, note_id, text=body.text, period=body.period, actor=user.email)
    return _out(changed)


@api.delete("/notes/{note_id}", response_model=NoteOut, responses=ERROR_RESPONSES,
            summary="Delete a chart annotation or rebase")
def delete_note_api(request: Request, note_id: RecordId, user: CurrentUser = Depends(api_user)):
    """Delete a note (the audit log keeps it; ``partnering notes undo EVENT`` brings it back).  Returns it."""
    eng = request.app.state.engine
    note = store.get_note(eng, note_id)
    require(_may_manage(user, note.org_code), "analysts", note.org_code)
    gone = store.delete_note(eng, note_id, actor=user.email)
    return _out(gone)


@api.get("/organisations/{code}/charts/{indicator_code}", responses=ERROR_RESPONSES,
         summary="The SPC chart specification of one of an organisation's series")
def chart_api(request: Request, indicator_code: str, code: str = CODE, user: CurrentUser = Depends(api_user)) -> dict:
    """What the pages, the report and the downloads draw: points with their marker, mean and limits per rebase
    group (limits a quantity cannot take shown at 0, with the note), targets and standards, rebases with their
    reasons, annotations, icons, data date and source line."""
    return chart_of(request.app.state.engine, user, code, indicator_code)
