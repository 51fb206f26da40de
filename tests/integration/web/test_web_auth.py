"""Sign-in and out, sessions, CSRF, rate limiting, API tokens and the users CLI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, csrf_of, make_app, sign_in

pytestmark = pytest.mark.integration


def test_every_page_needs_sign_in(client):
    for path in ("/", "/org/ZA1", "/plan", "/data", "/methods", "/account", "/admin/users", "/api/v1/docs"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/signin?next="), path
    r = client.get("/api/v1/organisations")
    assert r.status_code == 401
    assert r.json() == {"error": "sign in or send an API token: Authorization: Bearer <token>"}


def test_sign_in_and_out(client):
    r = sign_in(client, "viewer@test.nhs.uk", next_url="/methods")
    assert r.status_code == 303 and r.headers["location"] == "/methods"
    page = client.get("/methods")
    assert page.status_code == 200 and "viewer@test.nhs.uk" in page.text
    token = csrf_of(client.get("/signout").text)
    assert client.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/methods", follow_redirects=False).status_code == 303


def test_wrong_password_and_open_redirect(client):
    r = sign_in(client, "viewer@test.nhs.uk", "not the password")
    assert r.status_code == 400 and "Enter a correct email address and password" in r.text
    r = sign_in(client, "viewer@test.nhs.uk", next_url="//evil.example/")
    assert r.headers["location"] == "/"


def test_session_cookie_flags(demo_app, tmp_path):
    with TestClient(demo_app) as c:
        r = sign_in(c, "viewer@test.nhs.uk")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    secure_app = make_app(str(demo_app.state.engine.url), tmp_path, secure_cookies=True)
    with TestClient(secure_app, base_url="https://testserver") as c:
        r = sign_in(c, "viewer@test.nhs.uk")
    assert "; secure" in r.headers["set-cookie"].lower()


def test_post_without_csrf_token_is_refused(client):
    r = client.post("/signin", data={"email": "viewer@test.nhs.uk", "password": PASSWORD})
    assert r.status_code == 403
    sign_in(client, "analyst.a@test.nhs.uk")
    r = client.post("/data", data={"kind": "kpi"}, files={"file": ("x.csv", b"org_code,indicator,period,value\n")})
    assert r.status_code == 403
    r = client.post("/data", data={"kind": "kpi", "csrf_token": "forged"},
                    files={"file": ("x.csv", b"org_code,indicator,period,value\n")})
    assert r.status_code == 403
    # the API accepts a signed-in browser only with the header
    r = client.post("/api/v1/spc", json={"points": [{"x": "2025-01", "y": 1}]})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]


def test_sign_in_rate_limit(client):
    email = "viewer@test.nhs.uk"
    for _ in range(5):
        assert sign_in(client, "ratelimited@test.nhs.uk", "guess").status_code == 400
    r = sign_in(client, "ratelimited@test.nhs.uk", "guess")
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    assert int(r.headers["retry-after"]) > 0
    # another account from the same address is unaffected
    assert sign_in(client, email).status_code == 303


def test_api_tokens(demo_app, client):
    from partnering.web.auth import create_token

    token = create_token(demo_app.state.engine, "viewer@test.nhs.uk", "test")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer ptk_nonsense"})
    assert r.status_code == 401 and r.json() == {"error": "invalid or revoked API token"}
    # token writes need no CSRF header; a viewer still cannot upload
    r = client.post("/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, data={"kind": "kpi"},
                    files={"file": ("x.csv", b"a\n")})
    assert r.status_code == 403 and "analyst" in r.json()["error"]


def test_token_page_shows_token_once_and_audits(admin, demo_app):
    from partnering.web.auth import audit_frame

    page = admin.get("/account")
    r = admin.post("/account/tokens", data={"label": "board script", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and "ptk_" in r.text
    assert "ptk_" not in admin.get("/account").text
    log = audit_frame(demo_app.state.engine)
    assert "token.create" in set(log["action"])


def test_admin_creates_user_viewer_cannot(admin, demo_app):
    page = admin.get("/admin/users")
    r = admin.post("/admin/users", data={"email": "new.person@test.nhs.uk", "role": "viewer", "org_code": "ZA3",
                                         "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and "new.person@test.nhs.uk" in r.text
    with TestClient(demo_app) as c:
        sign_in(c, "viewer@test.nhs.uk")
        assert c.get("/admin/users").status_code == 403


def test_users_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from partnering.cli.main import app

    monkeypatch.setenv("PARTNERING_HOME", str(tmp_path))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    r = runner.invoke(app, ["--db", db, "users", "create", "cli@test.nhs.uk", "--role", "analyst",
                            "--password", "a long password"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", db, "users", "create", "gen@test.nhs.uk", "--role", "viewer"], input="\n")
    assert r.exit_code == 0 and "Password:" in r.output
    r = runner.invoke(app, ["--db", db, "users", "list"])
    assert "cli@test.nhs.uk" in r.output and "analyst" in r.output
    r = runner.invoke(app, ["--db", db, "users", "token", "cli@test.nhs.uk"])
    assert r.exit_code == 0 and r.output.strip().startswith("ptk_")


def test_first_run_admin(tmp_path):
    from partnering.store.db import get_engine
    from partnering.web.auth import authenticate, ensure_first_admin

    eng = get_engine(f"sqlite:///{tmp_path / 'first.db'}")
    email, password = ensure_first_admin(eng)
    assert email == "admin@partnering.local" and authenticate(eng, email, password).is_admin
    assert ensure_first_admin(eng) is None
