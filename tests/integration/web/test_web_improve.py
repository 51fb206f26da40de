"""Improvement work on the web and the API (issue #11 s.2): ideas scoped to the organisation, triage by its
analysts, a project whose PDSA cycle is drawn on the measure's SPC chart as an annotation, progress scores."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from tests.integration.web.conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def web(fresh_app):
    with TestClient(fresh_app) as c:
        yield c


def _as(client, email):
    client.cookies.clear()
    assert sign_in(client, email).status_code == 303
    return {"x-csrf-token": csrf_of(client.get("/account").text)}


def test_staff_submit_and_vote_and_other_organisations_cannot_see(web):
    h = _as(web, "viewer@test.nhs.uk")  # a viewer names no organisation: may not submit
    assert web.post("/api/v1/improve/ideas", json={"org_code": "ZA1", "title": "x"}, headers=h).status_code == 403
    h = _as(web, "analyst.a@test.nhs.uk")
    idea = web.post("/api/v1/improve/ideas", json={"title": "Discharge lounge"}, headers=h)
    assert idea.status_code == 201 and idea.json()["org_code"] == "ZA1"
    iid = idea.json()["id"]
    assert web.post(f"/api/v1/improve/ideas/{iid}/votes", headers=h).json()["votes"] == 1
    assert web.post(f"/api/v1/improve/ideas/{iid}/votes", headers=h).json()["votes"] == 1  # one vote a person
    h = _as(web, "analyst.b@test.nhs.uk")  # ZA2
    assert web.get(f"/api/v1/improve/ideas/{iid}", headers=h).status_code == 403
    assert web.get(f"/improve/ideas/{iid}").status_code == 403
    assert web.post(f"/api/v1/improve/ideas/{iid}/votes", headers=h).status_code == 403
    assert [i["id"] for i in web.get("/api/v1/improve/ideas").json()] == []
    h = _as(web, "admin@test.nhs.uk")
    assert [i["id"] for i in web.get("/api/v1/improve/ideas", params={"org": "ZA1"}).json()] == [iid]


def test_a_project_shows_its_pdsa_cycle_on_the_measures_spc_chart(web):
    h = _as(web, "analyst.a@test.nhs.uk")
    pid = web.post("/api/v1/improve/projects", json={"title": "Flow", "aim": "Fewer attendances"},
                   headers=h).json()["id"]
    primary = web.post(f"/api/v1/improve/projects/{pid}/drivers", json={"kind": "primary", "text": "Streaming"},
                       headers=h).json()["driver_id"]
    idea = web.post(f"/api/v1/improve/projects/{pid}/drivers",
                    json={"kind": "change_idea", "text": "GP in the front door", "parent_id": primary},
                    headers=h).json()["driver_id"]
    r = web.post(f"/api/v1/improve/projects/{pid}/cycles",
                 json={"title": "GP streaming pilot", "start_period": "2024-06", "measures": ["ae_attendances_total"],
                       "change_idea_id": idea}, headers=h)
    assert r.status_code == 201, r.text
    assert web.post(f"/api/v1/improve/projects/{pid}/progress", json={"period": "2024-07", "score": 2.5},
                    headers=h).json()["label"] == "Changes tested, but no improvement"
    assert web.post(f"/api/v1/improve/projects/{pid}/progress", json={"period": "2024-07", "score": 2.7},
                    headers=h).status_code == 400
    out = web.get(f"/api/v1/improve/projects/{pid}").json()
    assert out["annotations"]["ae_attendances_total@ZA1"][0]["x"] == "2024-06"
    page = web.get(f"/improve/projects/{pid}").text
    fig = json.loads(re.search(r'<script type="application/json" id="measure-0-data">(.*?)</script>', page,
                               re.S).group(1))
    assert [s["x0"] for s in fig["layout"]["shapes"] if s["type"] == "line"] == ["2024-06-01"]
    assert fig["layout"]["annotations"][0]["text"] == "PDSA 1: GP streaming pilot"
    assert "Change idea" in page and "GP in the front door" in page
    # another organisation's analyst may neither read nor add cycles
    h = _as(web, "analyst.b@test.nhs.uk")
    assert web.get(f"/improve/projects/{pid}").status_code == 403
    assert web.post(f"/api/v1/improve/projects/{pid}/cycles", json={"title": "x", "start_period": "2024-08"},
                    headers=h).status_code == 403


def test_triage_into_a_new_project_on_the_page(web):
    h = _as(web, "analyst.a@test.nhs.uk")
    iid = web.post("/api/v1/improve/ideas", json={"title": "Board rounds at 9"}, headers=h).json()["id"]
    token = csrf_of(web.get(f"/improve/ideas/{iid}").text)
    r = web.post(f"/improve/ideas/{iid}/triage", data={"status": "new_project", "csrf_token": token},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/improve/projects/")
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    idea = web.get(f"/api/v1/improve/ideas/{iid}").json()
    assert (idea["status"], idea["project_id"]) == ("accepted", pid)
    # a viewer of the same organisation may vote but not triage
    from partnering.web.auth import create_user

    create_user(web.app.state.engine, "staff.a@test.nhs.uk", "viewer", "ZA1", password="correct horse battery")
    h = _as(web, "staff.a@test.nhs.uk")
    assert web.post(f"/api/v1/improve/ideas/{iid}/votes", headers=h).json()["votes"] == 1
    r = web.post(f"/api/v1/improve/ideas/{iid}/triage", json={"status": "under_review"}, headers=h)
    assert r.status_code == 403
