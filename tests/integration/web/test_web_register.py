"""The partnership register on the web and the API (issue #11 s.1): who may write, the form's error summary, the
detail page with its history, renewals, the API, and the 'record this partnership' link on the buddying plan."""

from __future__ import annotations

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
    return client


def _post_form(client, url, data):
    token = csrf_of(client.get("/account").text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


ENTRY = {"recipient_code": "ZA1", "supporter_code": "ZA2", "form": "buddying", "start_period": "2024-04",
         "status": "active", "aims": "Recover the 4-hour standard",
         "targets": "ae_attendances_total:1000:900:2025-03", "parties": "university:University of Ulstead",
         "why_this_partner": "Top quartile on flow, 20 minutes away"}


def test_analyst_of_a_party_records_a_partnership_and_sees_its_history(web):
    _as(web, "analyst.a@test.nhs.uk")
    r = _post_form(web, "/partnerships/new", ENTRY)
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    page = web.get(url).text
    assert "Recover the 4-hour standard" in page
    assert "University of Ulstead" in page
    # the ingredients not recorded are named
    assert "Leadership skills supported" in page.split("Not recorded yet")[1].split("</div>")[0]
    pid = int(url.rsplit("/", 1)[1])
    edit = web.get(f"{url}/edit").text
    r = web.post(f"{url}/edit", data={**{k: v for k, v in ENTRY.items()}, "lessons": "Start with flow",
                                       "version": "1", "csrf_token": csrf_of(edit)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    history = web.get(url).text.split('id="history-table"')[1]
    assert re.findall(r'<th scope="row" class="nhsuk-table__header">(\d+)</th><td class="nhsuk-table__cell">(\w+)',
                      history) == [("2", "update"), ("1", "create")]
    api = web.get(f"/api/v1/partnerships/{pid}").json()
    assert api["lessons"] == "Start with flow" and api["version"] == 2
    assert [t["indicator_code"] for t in api["targets"]] == ["ae_attendances_total"]


def test_the_form_lists_every_problem_in_an_error_summary(web):
    _as(web, "analyst.a@test.nhs.uk")
    r = _post_form(web, "/partnerships/new", {**ENTRY, "supporter_code": "NOPE1", "start_period": "2024-13"})
    assert r.status_code == 400
    summary = r.text.split("nhsuk-error-summary__list")[1].split("</ul>")[0]
    assert 'href="#start_period"' in summary and "ISO month" in summary
    r = _post_form(web, "/partnerships/new", {**ENTRY, "supporter_code": "NOPE1"})
    assert r.status_code == 400
    assert 'href="#supporter_code"' in r.text and "no organisation NOPE1" in r.text


def test_viewers_and_analysts_of_other_organisations_may_not_write(web):
    _as(web, "admin@test.nhs.uk")
    pid = web.post("/api/v1/partnerships", json={"recipient_code": "ZA1", "supporter_code": "ZA2",
                                                  "form": "buddying"},
                   headers={"x-csrf-token": csrf_of(web.get("/account").text)}).json()["id"]
    _as(web, "viewer@test.nhs.uk")
    assert web.get("/partnerships/new").status_code == 403
    assert web.get(f"/partnerships/{pid}").status_code == 200  # viewers read
    token = csrf_of(web.get("/account").text)
    r = web.patch(f"/api/v1/partnerships/{pid}", json={"lessons": "x"}, headers={"x-csrf-token": token})
    assert r.status_code == 403
    assert "analyst role" in r.json()["error"]


def test_an_analyst_cannot_record_a_partnership_their_organisation_is_not_party_to(web):
    from sqlalchemy import insert

    from partnering.store.models import Organisation

    eng = web.app.state.engine
    with eng.begin() as conn:
        conn.execute(insert(Organisation), [{"org_code": "ZA3", "name": "Trust ZA3", "kind": "acute_trust"}])
    _as(web, "analyst.b@test.nhs.uk")  # of ZA2
    r = web.post("/api/v1/partnerships", json={"recipient_code": "ZA1", "supporter_code": "ZA3",
                                               "form": "buddying"},
                 headers={"x-csrf-token": csrf_of(web.get("/account").text)})
    assert r.status_code == 403
    assert "ZA1, ZA3" in r.json()["error"]


def test_renewal_through_the_api_links_the_new_period(web):
    _as(web, "analyst.a@test.nhs.uk")
    h = {"x-csrf-token": csrf_of(web.get("/account").text)}
    first = web.post("/api/v1/partnerships", json={"recipient_code": "ZA1", "supporter_code": "ZA2",
                                                   "form": "buddying", "start_period": "2023-04"}, headers=h)
    assert first.status_code == 201
    pid = first.json()["id"]
    r = web.post(f"/api/v1/partnerships/{pid}/renew", json={"start_period": "2025-04"}, headers=h)
    assert r.status_code == 201
    assert r.json()["renews_id"] == pid and r.json()["start_period"] == "2025-04"
    old = web.get(f"/api/v1/partnerships/{pid}").json()
    assert (old["end_period"], old["status"]) == ("2025-03", "ended")
    listed = web.get("/api/v1/partnerships", params={"org": "ZA1"}).json()
    assert sorted(p["id"] for p in listed) == sorted([pid, r.json()["id"]])


def test_the_form_is_prefilled_from_the_query_string(web):
    _as(web, "analyst.a@test.nhs.uk")
    page = web.get("/partnerships/new?recipient=za1&supporter=ZA2&form=alliance").text
    assert re.search(r'id="recipient_code" name="recipient_code" type="text" value="ZA1"', page)
    assert re.search(r'id="supporter_code" name="supporter_code" type="text" value="ZA2"', page)
    assert '<option value="alliance" selected>' in page


def test_renew_from_the_partnership_page(web):
    _as(web, "analyst.a@test.nhs.uk")
    token = csrf_of(web.get("/account").text)
    pid = web.post("/api/v1/partnerships", json={"recipient_code": "ZA1", "supporter_code": "ZA2",
                                                 "form": "alliance", "start_period": "2024-01"},
                   headers={"x-csrf-token": token}).json()["id"]
    page = web.get(f"/partnerships/{pid}").text
    r = web.post(f"/partnerships/{pid}/renew", data={"start_period": "2025-01", "csrf_token": csrf_of(page)},
                 follow_redirects=False)
    assert r.status_code == 303
    new_id = int(r.headers["location"].split("?")[0].rsplit("/", 1)[1])
    assert web.get(f"/api/v1/partnerships/{new_id}").json()["renews_id"] == pid
