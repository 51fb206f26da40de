"""Fixtures for the web tests: one demo store per session, fresh small stores for tests that write."""

from __future__ import annotations

import os
import re
from unittest import mock

import pandas as pd
import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
USERS = {
    "admin@test.nhs.uk": ("admin", None),
    "analyst.a@test.nhs.uk": ("analyst", "ZA1"),
    "analyst.b@test.nhs.uk": ("analyst", "ZA2"),
    "viewer@test.nhs.uk": ("viewer", None),
}


def make_app(url: str, home, **kw):
    from partnering.web.app import create_app

    with mock.patch.dict(os.environ, {"PARTNERING_HOME": str(home), "PARTNERING_SECRET_KEY": "test-secret"}):
        return create_app(url, secure_cookies=kw.pop("secure_cookies", False), warm_cache=False, **kw)


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory):
    from partnering.ingest.demo import load_demo
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    home = tmp_path_factory.mktemp("web-demo")
    url = f"sqlite:///{home / 'demo.db'}"
    eng = get_engine(url)
    load_demo(eng)
    for email, (role, org) in USERS.items():
        create_user(eng, email, role, org, password=PASSWORD)
    return make_app(url, home)


@pytest.fixture
def client(demo_app):
    with TestClient(demo_app) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/"):
    token = csrf_of(client.get("/signin").text)
    return client.post("/signin", data={"email": email, "password": password, "csrf_token": token, "next": next_url},
                       follow_redirects=False)


def signed_out(client: TestClient) -> bool:
    """Whether ``client``'s session is signed out: /account sends it to the sign-in page (True) or shows (False)."""
    r = client.get("/account", follow_redirects=False)
    if r.status_code == 200:
        return False
    assert r.status_code == 303 and r.headers["location"].startswith("/signin"), (r.status_code, r.headers)
    return True


@pytest.fixture
def admin(client):
    assert sign_in(client, "admin@test.nhs.uk").status_code == 303
    return client


@pytest.fixture
def fresh_app(tmp_path):
    """A small store without the demo (for tests that upload): two trusts, four users."""
    from partnering.ingest.base import Parsed, commit_parsed
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    eng = get_engine(url)
    # two trusts with a year of official A&E attendances (as the A&E loader would write them)
    orgs = pd.DataFrame({"org_code": ["ZA1", "ZA2"], "name": ["Trust ZA1", "Trust ZA2"], "kind": "acute_trust"})
    obs = pd.DataFrame([{"org_code": org, "indicator": "ae_attendances_total", "period": f"2024-{m:02d}",
                         "numerator": None, "denominator": None, "value": 1000 + m}
                        for org in ("ZA1", "ZA2") for m in range(1, 13)])
    commit_parsed(Parsed(kind="ae-monthly", file="seed.csv", organisations=orgs, observations=obs), "seed", eng)
    for email, (role, org) in USERS.items():
        create_user(eng, email, role, org, password=PASSWORD)
    return make_app(url, tmp_path)
