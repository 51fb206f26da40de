"""How the web face answers errors: the library's typed errors and HTTP errors as a JSON body on the API
(``{"error": "..."}``) and as an NHS.UK error page elsewhere; never a traceback to a user.

Status codes: 400 invalid input, 401 not signed in, 403 not allowed, 404 not found, 409 infeasible, 413 too
large, 422 invalid parameters, 429 too many sign-in attempts; anything unexpected is a logged 500 without
internals.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from partnering.errors import (
    AccessDenied,
    ConfigError,
    InfeasibleError,
    IngestError,
    NotFoundError,
    PartneringError,
    ValidationError,
)
from partnering.web.deps import SignInRequired
from partnering.web.render import render

log = logging.getLogger("partnering.web")
ERROR_STATUS = {NotFoundError: 404, AccessDenied: 403, ValidationError: 400, IngestError: 400, ConfigError: 400,
                InfeasibleError: 409}
PAGE_TITLES = {400: "There is a problem", 403: "You cannot do this", 404: "Page not found",
               409: "This cannot be done", 413: "File too large", 422: "There is a problem",
               429: "Too many attempts", 500: "Sorry, there is a problem with the service"}


class ErrorBody(BaseModel):
    error: str


#: the error answers every API operation declares in OpenAPI
ERROR_RESPONSES = {code: {"model": ErrorBody, "description": desc} for code, desc in (
    (400, "Invalid input"), (401, "Not signed in / bad token"), (403, "Not allowed"), (404, "Not found"),
    (422, "Invalid parameters"))}


def is_api(request: Request) -> bool:
    p = request.url.path
    return p.startswith("/api/") or p == "/openapi.json"


def status_of(exc: PartneringError) -> int:
    return next((s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 400)


def error_response(request: Request, status: int, message: str, headers=None):
    """``{"error": message}`` for the API; the error page (or the sign-in page for a 401) for pages."""
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    try:
        if status == 401:
            return RedirectResponse("/signin", status_code=303)
        resp = render(request, "shared/error.html", status_code=status,
                      title=PAGE_TITLES.get(status, "There is a problem"), message=message)
        if headers:
            resp.headers.update(headers)
        return resp
    except Exception:  # pragma: no cover - last resort
        log.exception("error page failed")
        return HTMLResponse("<h1>Sorry, there is a problem with the service</h1>", status_code=status)


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _signin(request: Request, exc: SignInRequired):
        return RedirectResponse(f"/signin?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(PartneringError)
    async def _library_error(request: Request, exc: PartneringError):
        return error_response(request, status_of(exc), exc.user_message())

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(StarletteHTTPException)
    async def _starlette_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            detail = "Page not found" if not is_api(request) else "not found"
        return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
            parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else e.get("msg", "invalid"))
        return error_response(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "Something went wrong on our side. The error has been logged.")
