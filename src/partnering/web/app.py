"""The web application: NHS.UK-style pages and the REST API (``/api/v1``) over the ``partnering`` library.

``create_app(db_url, secure_cookies=...)`` builds a FastAPI app over one store; ``partnering serve`` and
``partnering up`` run it with uvicorn (:mod:`partnering.web.serve`).  Session cookies are HTTP-only,
SameSite=Lax and Secure unless ``secure_cookies=False`` (the default when serving on 127.0.0.1/localhost
over plain HTTP).  Nothing the browser loads comes from another host (Content-Security-Policy ``'self'``).

This module only assembles the app: middleware, static files, error handlers and one router pair (pages and
API) per stage — :mod:`~partnering.web.accounts`, :mod:`~partnering.web.system`,
:mod:`~partnering.web.organisation`, :mod:`~partnering.web.match`, :mod:`~partnering.web.data`.
"""

from __future__ import annotations

import os
import secrets
import threading
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from partnering.config import Settings
from partnering.store import audit as store_audit
from partnering.store.db import get_engine
from partnering.web import (
    accounts,
    appraise,
    cache,
    chart_notes,
    data,
    design,
    evaluate,
    improve,
    match,
    organisation,
    register,
    system,
)
from partnering.web.apidoc import summarise
from partnering.web.assets import STATIC, VENDOR, plotly_js
from partnering.web.auth import LoginRateLimiter
from partnering.web.deps import SESSION_MAX_AGE, refuse_unknown_query
from partnering.web.errors import add_error_handlers
from partnering.web.middleware import SecurityHeaders
from partnering.web.warm import warm

SESSION_COOKIE = "partnering_session"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: one module per stage, each with a ``pages`` and an ``api`` router (later stages add theirs here)
STAGES = (accounts, system, organisation, chart_notes, match, data, appraise, design, register, improve, evaluate)


def secret_key(settings: Settings) -> str:
    """``PARTNERING_SECRET_KEY`` (``settings.secret_key``), else a random key kept in
    ``$PARTNERING_HOME/secret_key`` (mode 600)."""
    if settings.secret_key:
        return settings.secret_key
    home = settings.home
    path = home / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def create_app(db_url: str | None = None, *, secure_cookies: bool | None = None, warm_cache: bool = True) -> FastAPI:
    settings = Settings.from_env(db_url)
    engine = get_engine(settings.database_url)
    # every audited write of this process forgets the remembered data version once it commits, whichever handler (or
    # library call) made it; writes by other processes show within cache.VERSION_TTL (store.audit's docstring)
    store_audit.subscribe(cache.invalidate_version)

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
        dependencies=[Depends(refuse_unknown_query)],  # an unknown query parameter is a 400, not ignored
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.secure_cookies = True if secure_cookies is None else secure_cookies
    app.state.max_upload_bytes = MAX_UPLOAD_BYTES
    app.state.limiter = LoginRateLimiter()

    app.add_middleware(SecurityHeaders)
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=3)  # level 9: 3x the CPU, 25% smaller
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=app.state.secure_cookies)

    # ---- static files: our CSS/JS, NHS.UK frontend (/assets is where its CSS expects images), plotly.js
    app.mount("/static", StaticFiles(directory=str(STATIC), check_dir=False), name="static")
    app.mount("/assets", StaticFiles(directory=str(VENDOR / "nhsuk" / "assets"), check_dir=False), name="assets")

    @app.get("/js/plotly.min.js", include_in_schema=False)
    def plotly_bundle():
        return FileResponse(plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    add_error_handlers(app)
    for stage in STAGES:
        app.include_router(stage.pages)
    for stage in STAGES:
        app.include_router(stage.api)
    summarise(app.router)  # each API operation's summary from its docstring (not its function's name)
    return app
