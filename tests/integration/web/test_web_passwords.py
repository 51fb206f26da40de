"""Changing one's own password (current password required) and an administrator's reset of another user's
password: both audited, neither storing the password; who may do what."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, csrf_of, sign_in
from .conftest import signed_out as _signed_out

pytestmark = pytest.mark.integration

NEW = "a much longer new password"


def _audit(app, action: str, target: str) -> list[dict]:
    from partnering.store.audit import audit_frame

    df = audit_frame(app.state.engine, 500)
    return df[(df["action"] == action) & (df["target"] == target)].to_dict("records")


def _change(client, current, new, confirm=None):
    token = csrf_of(client.get("/account/password").text)
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": new if confirm is None else confirm,
                                                  "csrf_token": token})


def test_change_own_password_needs_the_current_one(fresh_app):
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.a@test.nhs.uk").status_code == 303
        page = c.get("/account")
        assert 'href="/account/password"' in page.text
        wrong = _change(c, "not my password", NEW)
        assert wrong.status_code == 400 and "Enter your current password correctly" in wrong.text
        assert 'href="#current_password"' in wrong.text
        short = _change(c, PASSWORD, "short")
        assert short.status_code == 400 and "at least 10 characters" in short.text
        mismatch = _change(c, PASSWORD, NEW, confirm=NEW + "x")
        assert mismatch.status_code == 400 and "same new password twice" in mismatch.text
        ok = _change(c, PASSWORD, NEW)
        assert ok.status_code == 200 and "Your password has been changed" in ok.text
    rows = _audit(fresh_app, "user.update", "analyst.a@test.nhs.uk")
    assert rows and rows[-1]["actor"] == "analyst.a@test.nhs.uk"
    assert json.loads(rows[-1]["after"])["password"] == "changed"
    assert NEW not in str(rows) and "argon2" not in str(rows)
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.a@test.nhs.uk").status_code == 400  # the old password no longer works
        assert sign_in(c, "analyst.a@test.nhs.uk", NEW).status_code == 303


def test_change_password_needs_sign_in_and_csrf(fresh_app):
    with TestClient(fresh_app) as c:
        assert c.get("/account/password", follow_redirects=False).status_code in (302, 303, 401)
        assert sign_in(c, "viewer@test.nhs.uk").status_code == 303
        r = c.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW,
                                              "confirm_password": NEW, "csrf_token": "forged"})
        assert r.status_code == 403


def test_admin_resets_another_users_password(fresh_app):
    from partnering.web.auth import users_frame

    users = users_frame(fresh_app.state.engine).set_index("email")
    target = int(users.loc["analyst.b@test.nhs.uk", "id"])
    with TestClient(fresh_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        page = c.get("/admin/users")
        assert f'action="/admin/users/{target}/password"' in page.text
        r = c.post(f"/admin/users/{target}/password", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 200
        m = re.search(r"New password for <strong>analyst.b@test.nhs.uk</strong>: <code>([^<]+)</code>", r.text)
        assert m, r.text[:2000]
        new = m.group(1)
        missing = c.post("/admin/users/999999/password", data={"csrf_token": csrf_of(page.text)})
        assert missing.status_code == 404
    rows = _audit(fresh_app, "user.update", "analyst.b@test.nhs.uk")
    assert rows[-1]["actor"] == "admin@test.nhs.uk" and json.loads(rows[-1]["after"])["password"] == "reset"
    assert new not in str(rows)
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.b@test.nhs.uk").status_code == 400
        assert sign_in(c, "analyst.b@test.nhs.uk", new).status_code == 303


@pytest.mark.parametrize("who", ["analyst.a@test.nhs.uk", "viewer@test.nhs.uk"])
def test_only_admins_reset_passwords(fresh_app, who):
    from partnering.web.auth import users_frame

    target = int(users_frame(fresh_app.state.engine).set_index("email").loc["analyst.b@test.nhs.uk", "id"])
    with TestClient(fresh_app) as c:
        assert sign_in(c, who).status_code == 303
        token = csrf_of(c.get("/account").text)
        r = c.post(f"/admin/users/{target}/password", data={"csrf_token": token})
        assert r.status_code == 403
    assert not [r for r in _audit(fresh_app, "user.update", "analyst.b@test.nhs.uk")
                if json.loads(r["after"]).get("password") == "reset"]


def test_users_page_with_events_that_have_no_after(fresh_app):
    """A deletion's audit event has no 'after' (a peer group forgotten): the users page still lists the log."""
    from partnering.store.peer_groups import clear_peer_group, set_peer_group

    set_peer_group(fresh_app.state.engine, "ZA1", ["ZA2"], "admin@test.nhs.uk")
    assert clear_peer_group(fresh_app.state.engine, "ZA1", "admin@test.nhs.uk")
    with TestClient(fresh_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        page = c.get("/admin/users")
        assert page.status_code == 200 and "peers.unpin" in page.text


def test_changing_ones_password_signs_out_the_other_sessions(fresh_app):
    from partnering.web.auth import create_token

    me = "analyst.a@test.nhs.uk"
    token = create_token(fresh_app.state.engine, me, "script")
    with TestClient(fresh_app) as here, TestClient(fresh_app) as there, TestClient(fresh_app) as other_user:
        for c, who in ((here, me), (there, me), (other_user, "analyst.b@test.nhs.uk")):
            assert sign_in(c, who).status_code == 303
        old_csrf = csrf_of(here.get("/account").text)
        assert not _signed_out(there)
        ok = _change(here, PASSWORD, NEW)
        assert ok.status_code == 200 and "Anywhere else you were signed in has been signed out" in ok.text
        # the session that changed it goes on, in a fresh session (a new CSRF token; the old one no longer works)
        assert not _signed_out(here)
        new_csrf = csrf_of(here.get("/account").text)
        assert new_csrf != old_csrf
        assert here.post("/account/tokens", data={"label": "x", "csrf_token": old_csrf}).status_code == 403
        assert here.post("/account/tokens", data={"label": "x", "csrf_token": new_csrf}).status_code == 200
        # the other session of the same user has ended, for pages and the API alike; another user's has not
        assert there.get("/api/v1/me").status_code == 401
        assert _signed_out(there)
        assert not _signed_out(other_user)
        # API tokens are separate credentials: they still work (the account page revokes them)
        assert there.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["email"] == me
        assert sign_in(there, me).status_code == 400
        assert sign_in(there, me, NEW).status_code == 303 and not _signed_out(there)
    ended = _audit(fresh_app, "user.sessions_end", me)
    assert len(ended) == 1 and ended[0]["actor"] == me
    after = json.loads(ended[0]["after"])
    assert after["ended"] == "other sessions" and after["reason"] == "password changed"
    assert after["session_generation"] == json.loads(ended[0]["before"])["session_generation"] + 1


def test_an_administrators_reset_signs_out_every_session_of_the_user(fresh_app):
    from partnering.web.auth import users_frame

    who = "analyst.b@test.nhs.uk"
    target = int(users_frame(fresh_app.state.engine).set_index("email").loc[who, "id"])
    with TestClient(fresh_app) as admin, TestClient(fresh_app) as one, TestClient(fresh_app) as two:
        for c, email in ((admin, "admin@test.nhs.uk"), (one, who), (two, who)):
            assert sign_in(c, email).status_code == 303
        assert not _signed_out(one) and not _signed_out(two)
        page = admin.get("/admin/users")
        r = admin.post(f"/admin/users/{target}/password", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 200 and "They have been signed out everywhere" in r.text
        assert _signed_out(one) and _signed_out(two)
        assert not _signed_out(admin)
    ended = _audit(fresh_app, "user.sessions_end", who)
    assert len(ended) == 1 and ended[0]["actor"] == "admin@test.nhs.uk"
    assert json.loads(ended[0]["after"])["ended"] == "all sessions"
    assert json.loads(ended[0]["after"])["reason"] == "password reset"


def test_a_password_set_outside_the_web_ends_sessions_and_other_changes_do_not(fresh_app):
    """``partnering users password`` goes through the same function; a role change leaves sessions alone."""
    from partnering.web.auth import set_user

    who = "viewer@test.nhs.uk"
    with TestClient(fresh_app) as c:
        assert sign_in(c, who).status_code == 303
        set_user(fresh_app.state.engine, who, "cli", role="analyst")
        assert not _signed_out(c)
        set_user(fresh_app.state.engine, who, "cli", password=NEW)
        assert _signed_out(c)
    assert [json.loads(r["after"])["ended"] for r in _audit(fresh_app, "user.sessions_end", who)] == ["all sessions"]
