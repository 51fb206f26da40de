"""The web application: NHS.UK-style pages and the REST API (``/api/v1``) over the ``partnering`` library.

``create_app(db_url, secure_cookies=...)`` builds a FastAPI app over one store; ``partnering serve`` and
``partnering up`` run it with uvicorn (:mod:`partnering.web.serve`).  Session cookies are HTTP-only,
SameSite=Lax and Secure unless ``secure_cookies=False`` (the default when serving on 127.0.0.1/localhost
over plain HTTP).  Nothing the browser loads comes from another host (Content-Security-Policy ``'self'``).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from partnering.config import Settings
from partnering.errors import (
    AccessDenied,
    ConfigError,
    InfeasibleError,
    IngestError,
    NotFoundError,
    PartneringError,
    ValidationError,
)
from partnering.web import deps, icons
from partnering.web.assets import STATIC, VENDOR, plotly_js

log = logging.getLogger("partnering.web")
TEMPLATES = Path(__file__).with_name("templates")
SESSION_COOKIE = "partnering_session"
SESSION_MAX_AGE = 8 * 3600  # a working day
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ERROR_STATUS = {NotFoundError: 404, AccessDenied: 403, ValidationError: 400, IngestError: 400, ConfigError: 400,
                InfeasibleError: 409}
CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


def secret_key(home: Path) -> str:
    """``PARTNERING_SECRET_KEY``, else a random key kept in ``$PARTNERING_HOME/secret_key`` (mode 600)."""
    env = os.environ.get("PARTNERING_SECRET_KEY")
    if env:
        return env
    path = home / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


@lru_cache(maxsize=1)
def template_env() -> Environment:
    """The one Jinja environment (templates are read once: no per-render file checks)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined, autoescape=True, auto_reload=False,
    )
    env.globals.update(variation_icon=icons.variation_icon, assurance_icon=icons.assurance_icon,
                       icon_sprite=icons.sprite, VARIATION_SHORT=icons.VARIATION_SHORT,
                       ASSURANCE_SHORT=icons.ASSURANCE_SHORT)
    env.filters["num"] = _num
    env.filters["yesno"] = lambda v: "Yes" if bool(v) and str(v) != "nan" else "No"
    return env


def _templates() -> Jinja2Templates:
    return Jinja2Templates(env=template_env())


def _num(v, digits: int = 1, unit: str = "") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "" if v is None else str(v)
    if f != f:
        return "–"
    if unit == "percent":
        return f"{f:.{digits}f}%"
    if unit == "count" or (digits == 0):
        return f"{f:,.0f}"
    return f"{f:,.{digits}f}"


class SecurityHeaders:
    """Plain ASGI middleware (``BaseHTTPMiddleware`` costs a task and a stream per request): a CSP nonce for the
    request (``request.state.csp_nonce``) and the security headers on every response."""

    STATIC = ("/static/", "/assets/")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        no_store = not scope.get("path", "").startswith(self.STATIC)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", CSP.format(nonce=nonce).encode()),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"DENY")]
                if no_store:
                    extra.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_api(request: Request) -> bool:
    p = request.url.path
    return p.startswith("/api/") or p == "/openapi.json"


def warm(engine) -> None:
    """Compute the expensive results once so the first visitors do not wait (runs in a background thread).

    Order: the assessment and summary table (every page needs them), the matching inputs and default plan,
    then every assessed organisation's page view (peers, partner candidates, charts, tables).
    """
    from partnering.web import services
    from partnering.web.auth import CurrentUser

    try:
        admin = CurrentUser(0, "warm@local", "warm", "admin", None)
        viewer = CurrentUser(0, "warm@local", "warm", "viewer", None)
        services.indicators(engine)
        for user in (admin, viewer):
            services.summary_table(engine, user)
        services.buddying_plan(engine, viewer, services.PlanParams())
        a = services.assessment(engine, viewer)
        from partnering.web.routes_pages import org_view

        for code in (a.flags["org_code"] if a is not None else []):
            org_view(engine, viewer, code)  # peers, partner candidates, charts and tables of the page
    except Exception:  # pragma: no cover - warming is best effort
        log.exception("cache warm-up failed")


def create_app(db_url: str | None = None, *, secure_cookies: bool | None = None, warm_cache: bool = True) -> FastAPI:
    from partnering.store.db import get_engine

    settings = Settings.from_env(db_url)
    engine = get_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_cache:
            threading.Thread(target=warm, args=(engine,), name="partnering-warm", daemon=True).start()
        yield

    app = FastAPI(
        title="Partnering API",
        version="1",
        description="Organisations, indicators, observations, SPC, assessment, peers, partner candidates, "
                    "buddying plans and imports. Authenticate with `Authorization: Bearer <token>` "
                    "(`partnering users token EMAIL`). JSON by default; CSV with `?format=csv` or "
                    "`Accept: text/csv`.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.templates = _templates()
    app.state.secure_cookies = True if secure_cookies is None else secure_cookies
    app.state.max_upload_bytes = MAX_UPLOAD_BYTES
    from partnering.web.auth import LoginRateLimiter

    app.state.limiter = LoginRateLimiter()

    app.add_middleware(SecurityHeaders)
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=3)  # level 9: 3x the CPU, 25% smaller
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings.home), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=app.state.secure_cookies)

    # ---- static files: our CSS/JS, NHS.UK frontend (/assets is where its CSS expects images), plotly.js
    app.mount("/static", StaticFiles(directory=str(STATIC), check_dir=False), name="static")
    app.mount("/assets", StaticFiles(directory=str(VENDOR / "nhsuk" / "assets"), check_dir=False), name="assets")

    @app.get("/js/plotly.min.js", include_in_schema=False)
    def plotly_bundle():
        from fastapi.responses import FileResponse

        return FileResponse(plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    # ---- errors
    @app.exception_handler(deps.SignInRequired)
    async def _signin(request: Request, exc: deps.SignInRequired):
        from urllib.parse import quote

        return RedirectResponse(f"/signin?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(PartneringError)
    async def _library_error(request: Request, exc: PartneringError):
        status = next((s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 400)
        return _error(request, status, exc.user_message())

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def _starlette_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            detail = "Page not found" if not is_api(request) else "not found"
        return _error(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
            parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else e.get("msg", "invalid"))
        return _error(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(request, 500, "Something went wrong on our side. The error has been logged.")

    # ---- routes
    from partnering.web import api, routes_auth, routes_data, routes_pages

    app.include_router(routes_auth.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_data.router)
    app.include_router(api.router)
    return app


def _error(request: Request, status: int, message: str, headers=None):
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    try:
        if status == 401:
            return RedirectResponse("/signin", status_code=303)
        titles = {400: "There is a problem", 403: "You cannot do this", 404: "Page not found",
                  409: "This cannot be done", 413: "File too large", 422: "There is a problem",
                  429: "Too many attempts", 500: "Sorry, there is a problem with the service"}
        resp = deps.render(request, "error.html", status_code=status, title=titles.get(status, "There is a problem"),
                           message=message)
        if headers:
            resp.headers.update(headers)
        return resp
    except Exception:  # pragma: no cover - last resort
        log.exception("error page failed")
        return HTMLResponse("<h1>Sorry, there is a problem with the service</h1>", status_code=status)
