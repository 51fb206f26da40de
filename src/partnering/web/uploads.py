"""Uploads through the web face, shared by the data pages and the imports API: who may upload which kinds of
file, the upload written to a private temporary folder and loaded by :func:`partnering.ingest.load`, and
publishing an upload (admins).  Both are audited; the result cache sees them at once.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict
from pathlib import Path

from fastapi import Request, UploadFile

from partnering.errors import AccessDenied, IngestError, PartneringError, ValidationError
from partnering.ingest import load
from partnering.store import repository as repo
from partnering.store.undo import undo_batch
from partnering.web import services
from partnering.web.auth import CurrentUser, audit

#: what a user may upload, in words; reference files (organisations, deprivation, geography) are admin-only
UPLOAD_KINDS = {
    "kpi": "Your own KPI file (CSV: org_code, indicator, period, value ...)",
    "ae-monthly": "A&E attendances and emergency admissions (monthly, NHS England)",
    "rtt": "Referral to treatment waiting times (monthly, NHS England; the Full CSV data file, zipped or not)",
    "cancer-waiting-times": "Cancer waiting times provider extract (monthly, NHS England)",
    "diagnostics-dm01": "Diagnostic waiting times DM01 provider workbook (monthly, NHS England)",
    "ambulance-ambsys": "Ambulance systems indicators AmbSYS time series (monthly, NHS England)",
    "beds-overnight": "Beds open overnight KH03 (quarterly, NHS England)",
    "cancelled-operations": "Last-minute cancelled operations QMCO (quarterly, NHS England)",
    "staff-survey": "NHS Staff Survey detailed spreadsheet (annual)",
}
ADMIN_KINDS = {
    "ods": "Organisation Data Service file (organisations, admins only)",
    "imd": "Indices of Deprivation file (admins only)",
    "geo": "Geography: boundaries, areas, GP practices (admins only)",
}
SCOPED_KINDS = ("kpi", "ae-monthly", "rtt", "cancer-waiting-times", "diagnostics-dm01", "ambulance-ambsys",
                "beds-overnight", "cancelled-operations", "staff-survey")
PERIODIC_KINDS = ("ae-monthly", "rtt", "diagnostics-dm01", "cancelled-operations")  # those that take --period


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


#: the kinds of file whose rows for unknown organisations may create them (``load_kpi(create_organisations=...)``)
CREATING_KINDS = ("kpi",)
#: rejected rows listed with an upload's result (all of them: the batch page and ``/imports/{id}/rejected``)
REJECTED_SHOWN = 1000


def store_upload(request: Request, user: CurrentUser, kind: str, upload: UploadFile, period: str | None,
                 publish: bool, create_organisations: str | None = None) -> list:
    """Write the upload to a private temp folder and load it through ``partnering.ingest.load``.

    Rows for organisations the store does not know are rejected (the library's rule), unless an admin names the
    kind to create them as (``create_organisations``, KPI files only); the report then lists them."""
    if kind not in kinds_for(user):
        raise ValidationError(f"you cannot upload files of kind {kind!r}; choose one of {', '.join(kinds_for(user))}")
    create_organisations = (create_organisations or "").strip() or None
    if create_organisations is not None:
        if not user.is_admin:
            raise AccessDenied("only administrators may create organisations from an upload")
        if kind not in CREATING_KINDS:
            raise ValidationError(f"organisations can be created only from {', '.join(CREATING_KINDS)} files")
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
        opts: dict = {"create_organisations": create_organisations} if create_organisations else {}
        if kind in SCOPED_KINDS:
            opts |= {"owner_org": user.org_code, "published": bool(publish) if user.is_admin else False,
                    "uploaded_by": user.email}
        try:
            report = load(kind, path, request.app.state.engine, period=period, **opts)
        except PartneringError as exc:  # name the file the user sent, never the temporary path
            _rename_in_error(exc, str(path), tmp, name)
            raise
    reports = report if isinstance(report, list) else [report]
    eng = request.app.state.engine
    with eng.begin() as conn:
        for r in reports:  # record the name the user knows, not the temporary path
            if r.batch_id is not None and r.status != "unchanged":
                repo.finish_batch(conn, r.batch_id, file_name=name)
            r.file = name
        for r in reports:
            after = {k: v for k, v in asdict(r).items() if k != "file"}
            after.update({"file": name, "owner_org": opts.get("owner_org"), "published": opts.get("published", True),
                          "create_organisations": create_organisations})
            audit(conn, user.email, "data.upload", f"batch {r.batch_id}", None, after)
    return reports


def publish_upload(request: Request, user: CurrentUser, batch_id: int) -> tuple[int, int]:
    """Publish an upload (admins): the library does it, and audits it as this user, in one transaction
    (:func:`partnering.store.repository.publish_batch`); caches see it at once."""
    eng = request.app.state.engine
    services.batch(eng, user, batch_id)  # 404 for a batch this user may not see
    with eng.begin() as conn:
        published, superseded = repo.publish_batch(conn, batch_id, actor=user.email)
    return published, superseded


def upload_result(engine, report) -> dict:
    """One loaded file as the upload result shows it on the page and in the API alike: the report's counts, the
    organisations it created, and its rejected rows (line, column, reason; the first :data:`REJECTED_SHOWN`)."""
    out = asdict(report)
    out["line"] = report.line()
    out["organisations_created"] = list(report.organisations_created or [])
    rejected = []
    if report.batch_id is not None and report.rows_rejected:
        rej = repo.rejected_frame(engine, report.batch_id).head(REJECTED_SHOWN)
        rejected = [{"line": None if r.line is None or r.line != r.line else int(r.line),
                     "column": None if r.column is None or r.column != r.column else str(r.column),
                     "reason": str(r.reason)} for r in rej.itertuples()]
    out["rejected"] = rejected
    return out


def undo_upload(request: Request, user: CurrentUser, batch_id: int) -> dict:
    """Undo a batch (admins): the library removes its values and restores what they superseded, audited as this
    user (:func:`partnering.store.undo.undo_batch`); refused with the library's reason (``UndoRefused``, a 400);
    caches see it at once."""
    eng = request.app.state.engine
    services.batch(eng, user, batch_id)  # 404 for a batch this user may not see
    with eng.begin() as conn:
        summary = undo_batch(conn, batch_id, actor=user.email)
    return summary
