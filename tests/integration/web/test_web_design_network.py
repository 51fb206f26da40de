"""/design/network and /api/v1/design/network on the real LSOAs and stroke units (issue #12 s.2)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = [pytest.mark.integration, pytest.mark.shared]


@pytest.fixture
def api(demo_app):
    from partnering.web.auth import create_token

    token = create_token(demo_app.state.engine, "admin@test.nhs.uk", "design network tests")
    with TestClient(demo_app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_network_api_returns_hubs_with_a_bound(api):
    r = api.post("/api/v1/design/network", json={"p": 3, "icb": "QHM", "time_limit": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["hubs"]) == 3
    assert body["bound"] <= body["objective"]
    assert len(body["equity"]) == 10


def test_network_api_refuses_unknown_fields(api):
    assert api.post("/api/v1/design/network", json={"p": 3, "bogus": 1}).status_code == 422


def test_network_api_needs_sign_in(demo_app):
    with TestClient(demo_app) as c:
        assert c.post("/api/v1/design/network", json={"p": 3}).status_code == 401


def test_network_page_draws_map_and_tables(admin):
    r = admin.get("/design/network?p=3&icb=QHM")
    assert r.status_code == 200, r.text
    assert "<svg" in r.text and "Hubs, numbered as on the map" in r.text
    assert "IMD 2025 decile" in r.text


def test_network_page_form_without_a_run(admin):
    r = admin.get("/design/network")
    assert r.status_code == 200
    assert "Design the network" in r.text and "Hubs, numbered as on the map" not in r.text
