"""/design/regions and /api/v1/design/regions on England's 296 local authorities (issue #12 s.1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = [pytest.mark.integration, pytest.mark.shared]

ENGLAND = 56_490_056  # Census 2021, England, summed over LSOAs


@pytest.fixture
def api(demo_app):
    from partnering.web.auth import create_token

    token = create_token(demo_app.state.engine, "admin@test.nhs.uk", "design regions tests")
    with TestClient(demo_app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_regions_api_returns_k_balanced_regions(api):
    r = api.post("/api/v1/design/regions", json={"k": 7, "balance": 0.05, "objective": "compact"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["regions"]) == 7
    assert sum(len(g["members"]) for g in body["regions"]) == 296
    assert all(0.95 * ENGLAND / 7 <= g["population"] <= 1.05 * ENGLAND / 7 for g in body["regions"])


def test_regions_api_names_the_binding_constraint(api):
    r = api.post("/api/v1/design/regions", json={"k": 150, "balance": 0.05})
    assert r.status_code == 409  # InfeasibleError (web/errors.py)
    assert r.json()["error"].startswith("balance: area E08000025 alone has 1,144,925 people")


def test_regions_api_refuses_unknown_fields_and_needs_sign_in(api, demo_app):
    assert api.post("/api/v1/design/regions", json={"k": 7, "bogus": 1}).status_code == 422
    with TestClient(demo_app) as c:
        assert c.post("/api/v1/design/regions", json={"k": 7}).status_code == 401


def test_regions_page_draws_map_and_table(admin):
    r = admin.get("/design/regions?k=7&areas=ltla24&balance=0.05&objective=need")
    assert r.status_code == 200, r.text
    assert "<svg" in r.text and "Regions, numbered as on the map" in r.text
    assert r.text.count('<tr class="nhsuk-table__row"><th scope="row"') == 7
    assert "Birmingham" in r.text


def test_regions_page_shows_an_impossible_request_as_an_error(admin):
    r = admin.get("/design/regions?k=42&respect=nhs-region")
    assert r.status_code == 200
    assert "There is a problem" in r.text and "respect nhs-region: London" in r.text
    assert "Regions, numbered as on the map" not in r.text
