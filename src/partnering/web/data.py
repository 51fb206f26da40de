"""The data stage: upload a KPI or official NHS file, the import history, the rejected rows of a batch, and
publishing an upload — as pages (``/data``) and as the imports API (``/api/v1/imports``).

Upload policy and loading are shared by both in :mod:`partnering.web.uploads`; the library loads the file
(:func:`partnering.ingest.load`) and scopes what each user may see (:mod:`partnering.store.repository`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from partnering.errors import IngestError, PartneringError
from partnering.store.models import ORG_KINDS
from partnering.store.undo import UndoRefused
from partnering.web import downloads, services
from partnering.web.auth import CurrentUser
from partnering.web.deps import api_user, check_csrf, page_user, require_role
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import CSV_RESPONSE, FORMAT, LIMIT, OFFSET, Page, jsonable, page
from partnering.web.render import records, render
from partnering.web.uploads import (
    CREATING_KINDS,
    kinds_for,
    publish_upload,
    store_upload,
    undo_upload,
    upload_result,
)

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])
BATCH_ID = PathParam(ge=1, le=2**63 - 1, description="Import batch id", examples=[1])


# ------------------------------------------------------------------------------------------------ pages


def _data_page(request: Request, user: CurrentUser, status: int = 200, **ctx):
    eng = request.app.state.engine
    history = services.batches(eng, user, limit=200)
    if not history.empty:
        history = history.assign(file=history["file_name"].map(lambda s: Path(str(s)).name))
    ctx.setdefault("errors", [])
    ctx.setdefault("reports", [])
    ctx.setdefault("form", {"kind": "kpi", "period": "", "create_organisations": ""})
    undone = request.query_params.get("undone", "")
    summary = request.session.pop("undo_summary", None)
    ctx.setdefault("undo_summary", summary if summary and str(summary.get("batch")) == undone else None)
    return render(request, "data/data.html", status_code=status, title="Data", kinds=kinds_for(user),
                  org_kinds=ORG_KINDS, creating_kinds=CREATING_KINDS, undone=undone if undone.isdigit() else "",
                  history=records(history), max_mb=request.app.state.max_upload_bytes // (1024 * 1024), **ctx)


@pages.get("/data")
def data(request: Request, user: CurrentUser = Depends(page_user)):
    return _data_page(request, user)


@pages.post("/data")
def upload(request: Request, kind: str = Form("kpi"), period: str = Form(""), publish: str = Form(""),
           create_organisations: str = Form(""), file: UploadFile | None = File(None),
           user: CurrentUser = Depends(require_role("analyst"))):
    form = {"kind": kind, "period": period, "create_organisations": create_organisations}
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > request.app.state.max_upload_bytes + 1024 * 1024:
        return _data_page(request, user, 413, form=form, errors=[{
            "text": f"The file is larger than {request.app.state.max_upload_bytes // (1024 * 1024)} MB",
            "href": "#file"}])
    try:
        reports = store_upload(request, user, kind, file, period, publish == "yes", create_organisations or None)
    except IngestError as exc:
        where = [f"file {Path(str(exc.file)).name}"]
        if exc.row is not None:
            where.append(f"line {exc.row}")
        if exc.column is not None:
            where.append(f"column '{exc.column}'")
        return _data_page(request, user, 400, form=form, errors=[{
            "text": f"{', '.join(where)}: {exc.reason}. Nothing was loaded from this file.", "href": "#file"}])
    except PartneringError as exc:
        msg = exc.user_message().replace(str(Path(tempfile.gettempdir())), "")
        return _data_page(request, user, 400, form=form, errors=[{"text": msg, "href": "#file"}])
    eng = request.app.state.engine
    return _data_page(request, user, form=form, reports=[upload_result(eng, r) for r in reports])


#: rows of a publish preview shown on the batch page (the API pages through all of them)
PREVIEW_SHOWN = 500


def _batch_page(request: Request, user: CurrentUser, batch_id: int, status: int = 200, **ctx):
    eng = request.app.state.engine
    b = services.batch(eng, user, batch_id)
    b["file"] = Path(str(b["file_name"])).name
    rej = services.rejected(eng, user, batch_id)
    preview, n_preview, n_replacing = [], 0, 0
    if user.is_admin and not b.get("published"):
        pv = services.publish_preview(eng, user, batch_id)
        n_preview, n_replacing = len(pv), int(pv["published_value"].notna().sum()) if not pv.empty else 0
        preview = records(pv.head(PREVIEW_SHOWN))
    ctx.setdefault("errors", [])
    return render(request, "data/batch.html", status_code=status, title=f"Import {batch_id}", batch=b,
                  rejected=records(rej.head(1000)), n_rejected=len(rej), preview=preview, n_preview=n_preview,
                  n_replacing=n_replacing, just_published=request.query_params.get("published") == "1", **ctx)


@pages.get("/data/batches/{batch_id}")
def batch(request: Request, batch_id: int, user: CurrentUser = Depends(page_user)):
    return _batch_page(request, user, batch_id)


@pages.post("/data/batches/{batch_id}/publish")
def batch_publish(request: Request, batch_id: int, user: CurrentUser = Depends(require_role("admin"))):
    publish_upload(request, user, batch_id)
    return RedirectResponse(f"/data/batches/{batch_id}?published=1", status_code=303)


@pages.get("/data/batches/{batch_id}/undo")
def batch_undo_confirm(request: Request, batch_id: int, user: CurrentUser = Depends(require_role("admin"))):
    """The confirmation step before an undo: what it removes and restores; the button posts with the CSRF token."""
    b = services.batch(request.app.state.engine, user, batch_id)
    b["file"] = Path(str(b["file_name"])).name
    return render(request, "data/undo.html", title=f"Undo import {batch_id}", batch=b)


@pages.post("/data/batches/{batch_id}/undo")
def batch_undo(request: Request, batch_id: int, user: CurrentUser = Depends(require_role("admin"))):
    try:
        summary = undo_upload(request, user, batch_id)
    except UndoRefused as exc:  # the library's reason, in the batch page's error summary
        return _batch_page(request, user, batch_id, 400, errors=[{"text": exc.user_message(), "href": "#undo"}])
    request.session["undo_summary"] = {"batch": batch_id, "removed": int(summary.get("values_removed", 0)),
                                       "restored": int(summary.get("values_restored", 0)),
                                       "kept": list(summary.get("organisations_kept", []))}
    return RedirectResponse(f"/data?undone={batch_id}", status_code=303)


@pages.get("/data/batches/{batch_id}/rejected")
def batch_rejected(request: Request, batch_id: int, format: str = "csv", user: CurrentUser = Depends(page_user)):
    rej = services.rejected(request.app.state.engine, user, batch_id)
    cols = [c for c in ("batch_id", "line", "column", "reason") if c in rej.columns]
    return downloads.table_response(rej[cols], format, f"batch-{batch_id}-rejected-rows")


# ------------------------------------------------------------------------------------------------ API


class BatchOut(BaseModel):
    id: int
    kind: str
    file_name: str
    period: str | None = None
    status: str
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    observations_new: int | None = None
    observations_superseded: int | None = None
    owner_org: str | None = None
    published: bool | None = None
    uploaded_by: str | None = None
    message: str | None = None


class RejectedOut(BaseModel):
    batch_id: int
    line: int | None = None
    column: str | None = None
    reason: str


class RejectedRowOut(BaseModel):
    line: int | None = None
    column: str | None = None
    reason: str


class ImportReport(BaseModel):
    batch_id: int | None = None
    kind: str
    status: str
    period: str | None = None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    observations_new: int
    observations_superseded: int
    message: str = ""
    organisations_created: list[str] = Field(default_factory=list,
                                             description="Organisations this upload created (only when asked)")
    rejected: list[RejectedRowOut] = Field(default_factory=list,
                                           description="Rejected rows with line, column and reason (the first "
                                                       "1,000; all at /imports/{id}/rejected)")


class PreviewRow(BaseModel):
    org_code: str
    indicator: str
    period: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    published_value: float | None = Field(None, description="The published value publishing would supersede")
    published_numerator: float | None = None
    published_denominator: float | None = None
    published_batch_id: int | None = None


class UndoOut(BaseModel):
    batch_id: int
    file: str | None = None
    kind: str | None = None
    period: str | None = None
    values_removed: int
    values_restored: int
    organisations_kept: list[str] = Field(default_factory=list)


BATCH_COLS = list(BatchOut.model_fields)


@api.get("/imports", response_model=Page[BatchOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def imports(request: Request, limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
            user: CurrentUser = Depends(api_user)):
    """Import history you may see: published batches, your organisation's own, or all (admins)."""
    df = services.batches(request.app.state.engine, user)
    return page(request, df, limit, offset, format, BATCH_COLS, "imports")


@api.get("/imports/{batch_id}", response_model=BatchOut, responses=ERROR_RESPONSES)
def import_one(request: Request, batch_id: int = BATCH_ID, user: CurrentUser = Depends(api_user)):
    """One import batch: file, kind, owner, publication, rows loaded and rejected."""
    b = services.batch(request.app.state.engine, user, batch_id)
    return {k: jsonable(b.get(k)) for k in BATCH_COLS}


@api.get("/imports/{batch_id}/rejected", response_model=Page[RejectedOut],
         responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def import_rejected(request: Request, batch_id: int = BATCH_ID, limit: int = LIMIT, offset: int = OFFSET,
                    format: str | None = FORMAT, user: CurrentUser = Depends(api_user)):
    """An import batch's rejected rows, each with its line, column and reason."""
    df = services.rejected(request.app.state.engine, user, batch_id)
    return page(request, df, limit, offset, format, list(RejectedOut.model_fields), f"batch-{batch_id}-rejected")


@api.post("/imports/{batch_id}/publish", response_model=BatchOut, responses=ERROR_RESPONSES)
def import_publish(request: Request, batch_id: int = BATCH_ID,
                   user: CurrentUser = Depends(require_role("admin", api=True))):
    """Publish an upload to every signed-in user (admins); published values it replaces are kept as history."""
    publish_upload(request, user, batch_id)
    b = services.batch(request.app.state.engine, user, batch_id)
    return {k: jsonable(b.get(k)) for k in BATCH_COLS}


@api.get("/batches/{batch_id}/publish-preview", response_model=Page[PreviewRow],
         responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def batch_publish_preview(request: Request, batch_id: int = BATCH_ID, limit: int = LIMIT, offset: int = OFFSET,
                          format: str | None = FORMAT, user: CurrentUser = Depends(require_role("admin", api=True))):
    """Before publishing an upload (admins): each of its values with the published value it would supersede
    (``published_value`` null where nothing is published for that organisation, indicator and month)."""
    df = services.publish_preview(request.app.state.engine, user, batch_id)
    return page(request, df, limit, offset, format, list(PreviewRow.model_fields), f"batch-{batch_id}-preview")


@api.post("/batches/{batch_id}/undo", response_model=UndoOut, responses=ERROR_RESPONSES)
def batch_undo_api(request: Request, batch_id: int = BATCH_ID,
                   user: CurrentUser = Depends(require_role("admin", api=True))):
    """Undo a batch (admins): its values are removed and what they superseded restored, audited.  Refused (400,
    with the reason) where a later batch builds on it or its load replaced reference data; 404 for no such batch."""
    summary = undo_upload(request, user, batch_id)
    return {"batch_id": batch_id, **{k: jsonable(v) for k, v in summary.items() if k in UndoOut.model_fields}}


@api.post("/imports", response_model=list[ImportReport], responses=ERROR_RESPONSES)
def import_upload(request: Request, kind: str = Form(..., description="kpi | ae-monthly | rtt (ods, imd, geo: admins)"),
                  file: UploadFile = File(...), period: str | None = Form(None, description="YYYY-MM"),
                  publish: bool = Form(False, description="Publish to everyone (admins only)"),
                  create_organisations: str | None = Form(
                      None, description="Admins, KPI files: create organisations the store does not know, as this "
                                        "kind (e.g. other_provider); otherwise their rows are rejected"),
                  user: CurrentUser = Depends(require_role("analyst", api=True))):
    """Upload and load a file (one transaction: a bad file writes nothing).  Each answer lists the file's
    rejected rows (line, column, reason) and any organisations it created."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > request.app.state.max_upload_bytes + 1024 * 1024:
        raise HTTPException(413, "file too large")
    reports = store_upload(request, user, kind, file, period, publish, create_organisations)
    eng = request.app.state.engine
    return [{k: v for k, v in upload_result(eng, r).items() if k in ImportReport.model_fields} for r in reports]
