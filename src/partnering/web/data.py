"""The data stage: upload a KPI or official NHS file, the import history, the rejected rows of a batch, and
publishing an upload — as pages (``/data``) and as the imports API (``/api/v1/imports``).

Upload policy and loading are shared by both in :mod:`partnering.web.uploads`; the library loads the file
(:func:`partnering.ingest.load`) and scopes what each user may see (:mod:`partnering.store.repository`).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from partnering.errors import IngestError, PartneringError
from partnering.web import downloads, services
from partnering.web.auth import CurrentUser
from partnering.web.deps import api_user, check_csrf, page_user, require_role
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.paging import CSV_RESPONSE, FORMAT, LIMIT, OFFSET, Page, jsonable, page
from partnering.web.render import records, render
from partnering.web.uploads import kinds_for, publish_upload, store_upload

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])
BATCH_ID = PathParam(description="Import batch id", examples=[1])


# ------------------------------------------------------------------------------------------------ pages


def _data_page(request: Request, user: CurrentUser, status: int = 200, **ctx):
    eng = request.app.state.engine
    history = services.batches(eng, user, limit=200)
    if not history.empty:
        history = history.assign(file=history["file_name"].map(lambda s: Path(str(s)).name))
    ctx.setdefault("errors", [])
    ctx.setdefault("reports", [])
    ctx.setdefault("form", {"kind": "kpi", "period": ""})
    return render(request, "data/data.html", status_code=status, title="Data", kinds=kinds_for(user),
                  history=records(history), max_mb=request.app.state.max_upload_bytes // (1024 * 1024), **ctx)


@pages.get("/data")
def data(request: Request, user: CurrentUser = Depends(page_user)):
    return _data_page(request, user)


@pages.post("/data")
def upload(request: Request, kind: str = Form("kpi"), period: str = Form(""), publish: str = Form(""),
           file: UploadFile | None = File(None), user: CurrentUser = Depends(require_role("analyst"))):
    form = {"kind": kind, "period": period}
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > request.app.state.max_upload_bytes + 1024 * 1024:
        return _data_page(request, user, 413, form=form, errors=[{
            "text": f"The file is larger than {request.app.state.max_upload_bytes // (1024 * 1024)} MB",
            "href": "#file"}])
    try:
        reports = store_upload(request, user, kind, file, period, publish == "yes")
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
    return _data_page(request, user, form=form, reports=[{**asdict(r), "line": r.line()} for r in reports])


@pages.get("/data/batches/{batch_id}")
def batch(request: Request, batch_id: int, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    b = services.batch(eng, user, batch_id)
    b["file"] = Path(str(b["file_name"])).name
    rej = services.rejected(eng, user, batch_id)
    return render(request, "data/batch.html", title=f"Import {batch_id}", batch=b, rejected=records(rej.head(1000)),
                  n_rejected=len(rej), just_published=request.query_params.get("published") == "1")


@pages.post("/data/batches/{batch_id}/publish")
def batch_publish(request: Request, batch_id: int, user: CurrentUser = Depends(require_role("admin"))):
    publish_upload(request, user, batch_id)
    return RedirectResponse(f"/data/batches/{batch_id}?published=1", status_code=303)


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


BATCH_COLS = list(BatchOut.model_fields)


@api.get("/imports", response_model=Page[BatchOut], responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def imports(request: Request, limit: int = LIMIT, offset: int = OFFSET, format: str | None = FORMAT,
            user: CurrentUser = Depends(api_user)):
    """Import history you may see: published batches, your organisation's own, or all (admins)."""
    df = services.batches(request.app.state.engine, user)
    return page(request, df, limit, offset, format, BATCH_COLS, "imports")


@api.get("/imports/{batch_id}", response_model=BatchOut, responses=ERROR_RESPONSES)
def import_one(request: Request, batch_id: int = BATCH_ID, user: CurrentUser = Depends(api_user)):
    b = services.batch(request.app.state.engine, user, batch_id)
    return {k: jsonable(b.get(k)) for k in BATCH_COLS}


@api.get("/imports/{batch_id}/rejected", response_model=Page[RejectedOut],
         responses={**CSV_RESPONSE, **ERROR_RESPONSES})
def import_rejected(request: Request, batch_id: int = BATCH_ID, limit: int = LIMIT, offset: int = OFFSET,
                    format: str | None = FORMAT, user: CurrentUser = Depends(api_user)):
    df = services.rejected(request.app.state.engine, user, batch_id)
    return page(request, df, limit, offset, format, list(RejectedOut.model_fields), f"batch-{batch_id}-rejected")


@api.post("/imports/{batch_id}/publish", response_model=BatchOut, responses=ERROR_RESPONSES)
def import_publish(request: Request, batch_id: int = BATCH_ID,
                   user: CurrentUser = Depends(require_role("admin", api=True))):
    """Publish an upload to every signed-in user (admins); published values it replaces are kept as history."""
    publish_upload(request, user, batch_id)
    b = services.batch(request.app.state.engine, user, batch_id)
    return {k: jsonable(b.get(k)) for k in BATCH_COLS}


@api.post("/imports", response_model=list[ImportReport], responses=ERROR_RESPONSES)
def import_upload(request: Request, kind: str = Form(..., description="kpi | ae-monthly | rtt (ods, imd, geo: admins)"),
                  file: UploadFile = File(...), period: str | None = Form(None, description="YYYY-MM"),
                  publish: bool = Form(False, description="Publish to everyone (admins only)"),
                  user: CurrentUser = Depends(require_role("analyst", api=True))):
    """Upload and load a file (one transaction: a bad file writes nothing)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > request.app.state.max_upload_bytes + 1024 * 1024:
        raise HTTPException(413, "file too large")
    reports = store_upload(request, user, kind, file, period, publish)
    return [{k: v for k, v in asdict(r).items() if k in ImportReport.model_fields} for r in reports]
