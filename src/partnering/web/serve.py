"""Run the web app with uvicorn: ``partnering serve`` and ``partnering up``."""

from __future__ import annotations

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def secure_default(host: str) -> bool:
    """Secure cookies unless serving plain HTTP on this machine only (browsers drop Secure cookies over
    http://, and 127.0.0.1/localhost never leaves the machine).  Behind an HTTPS proxy keep them on."""
    return host not in LOCAL_HOSTS


def serve(host: str = "127.0.0.1", port: int = 8000, db: str | None = None, secure_cookies: bool | None = None,
          log_level: str = "info") -> None:
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
    app = create_app(db, secure_cookies=secure)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True)
