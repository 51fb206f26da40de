"""Run the web app with uvicorn: ``partnering serve`` and ``partnering up``.

``workers`` > 1 starts that many uvicorn worker processes (each builds the app through :func:`app_factory`
from the environment variables below).  The result cache is per process: each worker warms and keeps its own.
"""

from __future__ import annotations

import os

from partnering.config import ENV_SERVE_DB as ENV_DB
from partnering.config import ENV_SERVE_SECURE_COOKIES as ENV_SECURE
from partnering.config import Settings

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def secure_default(host: str) -> bool:
    """Secure cookies unless serving plain HTTP on this machine only (browsers drop Secure cookies over
    http://, and 127.0.0.1/localhost never leaves the machine).  Behind an HTTPS proxy keep them on."""
    return host not in LOCAL_HOSTS


def app_factory():
    """The app for one uvicorn worker process (``workers`` > 1): settings come from the environment."""
    from partnering.web.app import create_app

    settings = Settings.from_env()
    return create_app(settings.serve_db, secure_cookies=settings.serve_secure_cookies)


def serve(host: str = "127.0.0.1", port: int = 8000, db: str | None = None, secure_cookies: bool | None = None,
          log_level: str = "info", workers: int = 1) -> None:
    import uvicorn

    from partnering.store.db import get_engine
    from partnering.web.app import create_app
    from partnering.web.auth import ensure_first_admin

    engine = get_engine(db)
    first = ensure_first_admin(engine)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}"
    if first:
        email, password = first
        print(f"First run: created an administrator.\nSign in at {url} as {email} with password {password}\n"
              "(shown once; change it with `partnering users set-password`).", flush=True)
    else:
        print(f"Serving on {url}", flush=True)
    secure = secure_default(host) if secure_cookies is None else secure_cookies
    if workers > 1:
        if db:
            os.environ[ENV_DB] = db
        os.environ[ENV_SECURE] = "1" if secure else "0"
        print(f"{workers} worker processes (each keeps its own cache and warms it at start-up)", flush=True)
        uvicorn.run("partnering.web.serve:app_factory", factory=True, workers=workers, host=host, port=port,
                    log_level=log_level, proxy_headers=True)
        return
    app = create_app(db, secure_cookies=secure)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True)
