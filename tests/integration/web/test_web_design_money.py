"""/api/v1/design/money: consolidation savings and weighted-need allocation through the API (issue #12 s.3-4)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def api(demo_app):
    from partnering.web.auth import create_token

    token = create_token(demo_app.state.engine, "admin@test.nhs.uk", "design money tests")
    with TestClient(demo_app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_consolidation_api_matches_the_library(api):
    r = api.post("/api/v1/design/money/consolidation",
                 json={"trusts": ["RAA", "RBB"], "turnover_gbp": {"RAA": 450e6, "RBB": 450e6}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recurring_saving_gbp"] == pytest.approx(16_280_278, abs=5)
    assert body["transition_cost_gbp"] == pytest.approx(6_250_000)


def test_consolidation_api_refuses_one_trust(api):
    r = api.post("/api/v1/design/money/consolidation", json={"trusts": ["RAA"]})
    assert r.status_code == 422


def test_consolidation_api_needs_sign_in(demo_app):
    with TestClient(demo_app) as c:
        r = c.post("/api/v1/design/money/consolidation", json={"trusts": ["RAA", "RBB"]})
    assert r.status_code == 401


@pytest.mark.shared
def test_allocation_api_on_areas(api, shared):
    r = api.post("/api/v1/design/money/allocation", json={"units": "areas", "budget_gbp": 1e9, "draws": 10,
                                                          "rows": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["units"] == 296 and len(body["units"]) == 3
    assert body["concentration_index"] is None
