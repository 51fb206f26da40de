"""Signing out ends the session on the server: a copy of the cookie taken before sign-out no longer opens pages or
posts forms (issue found in review), while the user's other sessions go on.  On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from .conftest import PASSWORD, USERS, csrf_of, make_app, sign_in
from .conftest import signed_out as _signed_out

pytestmark = pytest.mark.integration

COOKIE = "partnering_session"
ME = "analyst.a@test.nhs.uk"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def signout_app(request, tmp_path):
    """An app with the test users on each backend (the ``engine`` fixture's store)."""
    from partnering.web.auth import create_user

    eng = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    for email, (role, _org) in USERS.items():
        create_user(eng, email, role, None, password=PASSWORD)
    return make_app(eng.url.render_as_string(hide_password=False), tmp_path)


def _tokens(app) -> int:
    from partnering.store.models import ApiToken

    with app.state.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ApiToken)).scalar_one())


def test_a_copied_cookie_stops_working_at_sign_out_and_other_sessions_go_on(signout_app):
    from partnering.web import auth

    app = signout_app
    with TestClient(app) as here, TestClient(app) as there, TestClient(app) as thief:
        assert sign_in(here, ME).status_code == 303 and sign_in(there, ME).status_code == 303
        copy = here.cookies.get(COOKIE)
        thief.cookies.set(COOKIE, copy)
        assert not _signed_out(thief)  # the copy works before sign-out (and its lookup is now cached)
        csrf = csrf_of(thief.get("/account").text)
        assert thief.post("/account/tokens", data={"label": "before", "csrf_token": csrf}).status_code == 200
        tokens = _tokens(app)
        out = here.post("/signout", data={"csrf_token": csrf_of(here.get("/signout").text)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/signin"
        # refused at once (the cached "still valid" answer is not used), on a page, a form post and the API
        assert _signed_out(thief)
        thief.cookies.set(COOKIE, copy)  # (a refused request clears the cookie: the thief replays it again)
        r = thief.post("/account/tokens", data={"label": "after", "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin")
        assert _tokens(app) == tokens
        thief.cookies.set(COOKIE, copy)  # (a refused request clears the cookie: the thief replays it again)
        assert thief.get("/api/v1/me").status_code == 401
        # another server process (no cache) refuses it too, from ended_sessions
        auth._session_cache.clear()
        thief.cookies.set(COOKIE, copy)  # (a refused request clears the cookie: the thief replays it again)
        assert _signed_out(thief)
        # the same user's other session is unaffected, and signing in again makes a new, working session
        assert not _signed_out(there)
        assert there.get("/api/v1/me").json()["email"] == ME
        assert _signed_out(here)
        assert sign_in(here, ME).status_code == 303 and not _signed_out(here)


def test_sign_out_purges_expired_rows_and_sessions_without_an_id_are_signed_out(signout_app):
    from itsdangerous import TimestampSigner

    from partnering.store.models import EndedSession
    from partnering.web.auth import users_frame

    app = signout_app
    old = datetime.now() - timedelta(days=2)
    with app.state.engine.begin() as conn:
        conn.execute(insert(EndedSession).values(session_id="long-gone", ended_at=old,
                                                 expires_at=old + timedelta(hours=8)))
    with TestClient(app) as c:
        assert sign_in(c, ME).status_code == 303
        c.post("/signout", data={"csrf_token": csrf_of(c.get("/signout").text)})
    with app.state.engine.connect() as conn:
        ids = conn.execute(select(EndedSession.session_id)).scalars().all()
    assert "long-gone" not in ids and len(ids) == 1
    # a session cookie made before sessions had ids (validly signed, right user and generation) is signed out
    uid = int(users_frame(app.state.engine).set_index("email").loc[ME, "id"])
    data = base64.b64encode(json.dumps({"uid": uid, "csrf": "x" * 20, "gen": 0}).encode())
    with TestClient(app) as legacy:
        legacy.cookies.set(COOKIE, TimestampSigner("test-secret").sign(data).decode())
        assert _signed_out(legacy)
