"""REST API: pagination, CSV, SPC, assessment, matching, errors as JSON."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def api(demo_app):
    from partnering.web.auth import create_token

    token = create_token(demo_app.state.engine, "admin@test.nhs.uk", "api tests")
    with TestClient(demo_app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_pagination(api):
    first = api.get("/api/v1/organisations?kind=acute_trust&limit=10&offset=0").json()
    second = api.get("/api/v1/organisations?kind=acute_trust&limit=10&offset=10").json()
    assert first["total"] == second["total"] > 20
    assert len(first["items"]) == 10 and first["limit"] == 10 and second["offset"] == 10
    assert {o["org_code"] for o in first["items"]}.isdisjoint(o["org_code"] for o in second["items"])
    assert api.get("/api/v1/organisations?limit=0").status_code == 422


def test_csv_on_request(api):
    r = api.get("/api/v1/observations?org=ZA1&indicator=ae_4h_pct_all&from=2025-01&to=2025-06&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(r.text))
    assert list(df.columns) == ["org_code", "indicator", "period", "numerator", "denominator", "value"]
    assert len(df) == 6 and df["period"].min() == "2025-01" and r.headers["x-total-count"] == "6"
    r = api.get("/api/v1/indicators", headers={"Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv") and "improvement_direction" in r.text


def test_spc_get_and_post(api):
    r = api.get("/api/v1/spc?org=ZA1&indicator=ae_4h_pct_all")
    assert r.status_code == 200
    body = r.json()
    assert len(body["points"]) >= 20 and body["icons"]["variation_icon"]
    pts = [{"x": f"2024-{m:02d}", "y": 10.0} for m in range(1, 13)] + [{"x": "2025-01", "y": 50.0}]
    r = api.post("/api/v1/spc", json={"points": pts, "improvement_direction": "decrease"})
    assert r.status_code == 200
    last = r.json()["points"][-1]
    assert last["point_type"] == "special_cause_concern" and last["explanation"]
    r = api.post("/api/v1/spc", json={"points": [{"x": "not a date", "y": 1}]})
    assert r.status_code == 400 and set(r.json()) == {"error"}


def test_assessment_peers_partners_plan(api):
    flags = api.get("/api/v1/assessment?persistent_difficulty=true").json()
    assert flags["total"] >= 1 and all(f["persistent_difficulty"] for f in flags["items"])
    code = flags["items"][0]["org_code"]
    one = api.get(f"/api/v1/assessment/{code}").json()
    assert one["flags"]["org_code"] == code and one["icons"]
    peers = api.get(f"/api/v1/organisations/{code}/peers").json()
    assert peers["total"] >= 1 and peers["items"][0]["reason"]
    r = api.get(f"/api/v1/organisations/{code}/partners")
    assert r.status_code == 200, r.text
    partners = r.json()
    assert partners["total"] >= 1 and partners["items"][0]["reason"]
    assert code not in {p["supporter"] for p in partners["items"]}
    plan = api.post("/api/v1/buddying-plan", json={"capacity": 2, "max_travel_minutes": 120}).json()
    assert {"pairs", "unmatched", "solver", "proven_optimal"} <= set(plan)
    assert len(plan["pairs"]) + len(plan["unmatched"]) >= 1


def test_imports_listing(api):
    r = api.get("/api/v1/imports").json()
    assert r["total"] >= 1 and r["items"][0]["kind"]
    assert api.get("/api/v1/imports/1/rejected").json()["total"] == 0


def test_errors_are_json(api):
    r = api.get("/api/v1/organisations/NOPE")
    assert r.status_code == 404 and r.json() == {"error": "organisation 'NOPE' is not in the store"}
    r = api.get("/api/v1/spc?org=ZA1")
    assert r.status_code == 422 and "indicator" in r.json()["error"]
    r = api.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json() == {"error": "not found"}
    r = api.post("/api/v1/buddying-plan", json={"required": [["ZA1", "ZA1"], ["ZA1", "ZA2"]]})
    assert 400 <= r.status_code < 500 and set(r.json()) == {"error"}
    r = api.get("/api/v1/imports/99999")
    assert r.status_code == 404


def test_unexpected_error_is_500_without_internals(demo_app, monkeypatch):
    from partnering.web import services
    from partnering.web.auth import create_token

    def boom(*a, **k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services, "organisations", boom)
    token = create_token(demo_app.state.engine, "viewer@test.nhs.uk", "boom")
    with TestClient(demo_app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/organisations", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text and set(r.json()) == {"error"}


def test_openapi_spec_is_precise(api):
    spec = api.get("/openapi.json").json()
    assert "/api/v1/observations" in spec["paths"] and "/api/v1/buddying-plan" in spec["paths"]
    assert not any(p.startswith("/org") or p == "/" for p in spec["paths"])
    ref = spec["paths"]["/api/v1/organisations"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref["$ref"].endswith("Page_Organisation_")
    assert api.get("/api/v1/openapi.json").json()["paths"] == spec["paths"]
    docs = api.get("/api/v1/docs")  # needs a session, not a token: pages are for browsers
    assert docs.status_code in (200, 303)
