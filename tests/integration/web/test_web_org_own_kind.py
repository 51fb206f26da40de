"""The organisation page, its board pack and ``/api/v1/assessment/{code}`` assess an organisation among its own kind
(``partnering.measure.own_kind``, as ``partnering assess --org`` and ``partnering report`` do): an ambulance trust
among ambulance trusts with the ambulance key metrics, not shown as "not assessed" because it is no acute trust."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, make_app, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ambulance_app(tmp_path_factory, nhs):
    """A store with the real AmbSYS time series only (ten ambulance trusts, England, the Isle of Wight trust)."""
    from partnering.ingest import load
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    home = tmp_path_factory.mktemp("web-amb")
    url = f"sqlite:///{home / 'amb.db'}"
    eng = get_engine(url)
    for f in sorted((nhs / "ambulance-ambsys").glob("*.xlsx")):
        load("ambulance-ambsys", f, eng)
    create_user(eng, "admin@test.nhs.uk", "admin", None, password=PASSWORD)
    return make_app(url, home)


@pytest.mark.shared
def test_ambulance_trust_page_and_api_assess_it_among_ambulance_trusts(ambulance_app):
    from partnering.web.auth import create_token

    with TestClient(ambulance_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        html = c.get("/org/RX9").text
        assert "East Midlands Ambulance Service NHS Trust" in html
        assert "not assessed" not in html and "not among those assessed" not in html
        # the segment is scored on the ambulance league table's metric (Category 2 mean), among ambulance trusts
        assert "average metric score 4.00 from 1 metric: Ambulance Category 2 (emergency) mean response time" in html
        # the Isle of Wight NHS Trust (kind "trust": unknown without ODS) is no ambulance trust; alone of its kind
        # and without the acute key metrics, it is assessed but not segmented, and the page says so
        assert "Not segmented: no month with scores on more than half of the key metrics" in c.get("/org/R1F").text
        token = create_token(ambulance_app.state.engine, "admin@test.nhs.uk", "own kind")
        body = c.get("/api/v1/assessment/RX9", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["flags"]["org_code"] == "RX9" and body["flags"]["segment"] in (1, 2, 3, 4)
    c1 = next(i for i in body["icons"] if i["indicator"] == "amb_c1_mean_min")
    # AmbSYS "Raw" sheet, RX9 August 2025: C1 mean 534 seconds = 8.90 minutes
    assert c1["latest_period"] == "2025-08" and c1["latest_value"] == pytest.approx(534 / 60)


def test_a_demo_ambulance_trust_without_data_is_not_assessed_and_says_why(admin, demo_app):
    from partnering.store import repository as repo

    code = repo.organisations_frame(demo_app.state.engine, ["ambulance_trust"])["org_code"].iloc[0]
    html = admin.get(f"/org/{code}").text
    # the demo has no ambulance response times: nothing of its kind to assess it among (not "not an acute trust")
    assert "is not assessed: it is compared only with organisations of its own kind (Ambulance trusts)" in html
    assert admin.get(f"/api/v1/assessment/{code}").status_code == 404


@pytest.fixture(scope="module")
def ods_ambulance_app(tmp_path_factory, nhs):
    """The register of organisations (ODS) and the real AmbSYS time series: eleven ambulance trusts, of which the
    Welsh one (RT4) has no AmbSYS data, and no context variable any ambulance trust has a value on."""
    from partnering.ingest import load
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    home = tmp_path_factory.mktemp("web-ods-amb")
    url = f"sqlite:///{home / 'ods-amb.db'}"
    eng = get_engine(url)
    load("ods", nhs / "ods", eng)
    load("ambulance-ambsys", nhs / "ambulance-ambsys" / "AmbSYS-Time-Series-until-20250831.xlsx", eng)
    create_user(eng, "admin@test.nhs.uk", "admin", None, password=PASSWORD)
    return make_app(url, home)


@pytest.mark.shared
def test_an_ambulance_trusts_candidates_and_peers_are_among_its_own_kind(ods_ambulance_app):
    from partnering.match.service import DEFAULT_MAX_MINUTES, partner_candidates
    from partnering.web.auth import create_token

    eng = ods_ambulance_app.state.engine
    # what ``partnering partners RX9`` lists: ambulance trusts assessed among their kind, within 90 minutes
    cli = partner_candidates(eng, "RX9", max_minutes=DEFAULT_MAX_MINUTES)
    assert list(cli["supporter"]) == ["RX8", "RYA"]
    with TestClient(ods_ambulance_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        html = c.get("/org/RX9").text
        assert "has not been assessed" not in html and "No candidate partners" not in html
        assert "Yorkshire Ambulance Service NHS Trust" in html
        # no context variable has a value for any ambulance trust: no peers at 1.00, and the page says why
        assert "No peers: this organisation has no context data to compare." in html
        assert "identical on every variable compared" not in html
        token = create_token(eng, "admin@test.nhs.uk", "own kind partners")
        auth = {"Authorization": f"Bearer {token}"}
        body = c.get("/api/v1/organisations/RX9/partners", headers=auth).json()
        assert [r["supporter"] for r in body["items"]] == list(cli["supporter"])
        assert [r["score"] for r in body["items"]] == pytest.approx(list(cli["score"]))
        assert c.get("/api/v1/organisations/RX9/peers", headers=auth).json()["items"] == []
