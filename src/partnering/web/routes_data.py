"""Data: upload a KPI or official NHS file, the import history, and the rejected rows of a batch."""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from partnering.errors import IngestError, PartneringError, ValidationError
from partnering.store import repository as repo
from partnering.web import downloads, services
from partnering.web.auth import CurrentUser, audit
from partnering.web.cache import invalidate_version
from partnering.web.deps import check_csrf, page_user, render, require_role
from partnering.web.routes_pages import _records

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])

#: what a user may upload, in words; reference files (organisations, deprivation, geography) are admin-only
UPLOAD_KINDS = {
    "kpi": "Your own KPI file (CSV: org_code, indicator, period, value ...)",
    "ae-monthly": "A&E attendances and emergency admissions (monthly, NHS England)",
    "rtt": "Referral to treatment waiting times (monthly, NHS England)",
}
ADMIN_KINDS = {
    "ods": "Organisation Data Service file (organisations, admins only)",
    "imd": "Indices of Deprivation file (admins only)",
    "geo": "Geography: boundaries, areas, GP practices (admins only)",
}
SCOPED_KINDS = ("kpi", "ae-monthly", "rtt")
PERIODIC_KINDS = ("ae-monthly", "rtt")


def kinds_for(user: CurrentUser) -> dict[str, str]:
    return {**UPLOAD_KINDS, **(ADMIN_KINDS if user.is_admin else {})}


def safe_filename(name: str | None) -> str:
    base = Path(name or "upload").name
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .") or "upload"
    return base[:120]


def _rename_in_error(exc: PartneringError, path: str, folder: str, name: str) -> None:
    def fix(text: str) -> str:
        return text.replace(path, name).replace(folder + "/", "").replace(folder, "")

    if isinstance(exc, IngestError):
        exc.file = fix(str(exc.file))
        exc.args = (exc.user_message(),)
    else:
        exc.args = tuple(fix(a) if isinstance(a, str) else a for a in exc.args)


def store_upload(request: Request, user: CurrentUser, kind: str, upload: UploadFile, period: str | None,
                 publish: bool) -> list:
    """Write the upload to a private temp folder and load it through ``partnering.ingest.load``."""
    from partnering.ingest import load

    if kind not in kinds_for(user):
        raise ValidationError(f"you cannot upload files of kind {kind!r}; choose one of {', '.join(kinds_for(user))}")
    if upload is None or not upload.filename:
        raise ValidationError("choose a file to upload")
    limit = request.app.state.max_upload_bytes
    period = (period or "").strip() or None
    if period and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValidationError("the month must look like 2025-03")
    if period and kind not in PERIODIC_KINDS:
        period = None
    name = safe_filename(upload.filename)
    with tempfile.TemporaryDirectory(prefix="partnering-upload-") as tmp:
        path = Path(tmp) / name
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ValidationError(f"{name} is larger than {limit // (1024 * 1024)} MB")
                out.write(chunk)
        if size == 0:
            raise IngestError(name, "the file is empty")
        opts = {}
        if kind in SCOPED_KINDS:
            opts = {"owner_org": user.org_code, "published": bool(publish) if user.is_admin else False,
                    "uploaded_by": user.email}
        try:
            report = load(kind, path, request.app.state.engine, period=period, **opts)
        except PartneringError as exc:  # name the file the user sent, never the temporary path
            _rename_in_error(exc, str(path), tmp, name)
            raise
    reports = report if isinstance(report, list) else [report]
    eng = request.app.state.engine
    invalidate_version(eng)
    with eng.begin() as conn:
        for r in reports:  # record the name the user knows, not the temporary path
            if r.batch_id is not None and r.status != "unchanged":
                repo.finish_batch(conn, r.batch_id, file_name=name)
            r.file = name
        for r in reports:
            after = {k: v for k, v in asdict(r).items() if k != "file"}
            after.update({"file": name, "owner_org": opts.get("owner_org"), "published": opts.get("published", True)})
            audit(conn, user.email, "data.upload", f"batch {r.batch_id}", None, after)
    return reports


def _data_page(request: Request, user: CurrentUser, status: int = 200, **ctx):
    eng = request.app.state.engine
    history = services.batches(eng, user, limit=200)
    if not history.empty:
        history = history.assign(file=history["file_name"].map(lambda s: Path(str(s)).name))
    ctx.setdefault("errors", [])
    ctx.setdefault("reports", [])
    ctx.setdefault("form", {"kind": "kpi", "period": ""})
    return render(request, "data.html", status_code=status, title="Data", kinds=kinds_for(user),
                  history=_records(history), max_mb=request.app.state.max_upload_bytes // (1024 * 1024), **ctx)


@router.get("/data")
def data(request: Request, user: CurrentUser = Depends(page_user)):
    return _data_page(request, user)


@router.post("/data")
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


@router.get("/data/batches/{batch_id}")
def batch(request: Request, batch_id: int, user: CurrentUser = Depends(page_user)):
    eng = request.app.state.engine
    b = services.batch(eng, user, batch_id)
    b["file"] = Path(str(b["file_name"])).name
    rej = services.rejected(eng, user, batch_id)
    return render(request, "batch.html", title=f"Import {batch_id}", batch=b, rejected=_records(rej.head(1000)),
                  n_rejected=len(rej), just_published=request.query_params.get("published") == "1")


def publish_upload(request: Request, user: CurrentUser, batch_id: int) -> tuple[int, int]:
    """Publish an upload (admins): the library does it in one transaction; audited; caches see it at once."""
    eng = request.app.state.engine
    before = services.batch(eng, user, batch_id)
    with eng.begin() as conn:
        published, superseded = repo.publish_batch(conn, batch_id)
        if published or superseded or not before.get("published"):
            audit(conn, user.email, "data.publish", f"batch {batch_id}", {"published": bool(before.get("published"))},
                  {"published": True, "values_published": published, "published_values_superseded": superseded})
    invalidate_version(eng)
    return published, superseded


@router.post("/data/batches/{batch_id}/publish")
def batch_publish(request: Request, batch_id: int, user: CurrentUser = Depends(require_role("admin"))):
    publish_upload(request, user, batch_id)
    return RedirectResponse(f"/data/batches/{batch_id}?published=1", status_code=303)


@router.get("/data/batches/{batch_id}/rejected")
def batch_rejected(request: Request, batch_id: int, format: str = "csv", user: CurrentUser = Depends(page_user)):
    rej = services.rejected(request.app.state.engine, user, batch_id)
    cols = [c for c in ("batch_id", "line", "column", "reason") if c in rej.columns]
    return downloads.table_response(rej[cols], format, f"batch-{batch_id}-rejected-rows")
