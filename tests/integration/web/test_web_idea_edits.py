"""Editing ideas and comments on the web and the API (issue #11, left open): the author or an administrator,
nobody else; the form shows errors in the NHS.UK error summary; the idea page shows what changed."""

from __future__ import annotations

import re

import pytest
from tests.integration.web.conftest import csrf_of
from tests.integration.web.test_web_improve import _as, web  # noqa: F401  (the fixture and the sign-in)

pytestmark = pytest.mark.integration


def test_author_edits_idea_and_comment_on_the_page_others_may_not(web):  # noqa: F811
    from partnering.web.auth import create_user

    create_user(web.app.state.engine, "staff.a@test.nhs.uk", "viewer", "ZA1", password="correct horse battery")
    h = _as(web, "analyst.a@test.nhs.uk")
    iid = web.post("/api/v1/improve/ideas", json={"title": "Discharge lounge"}, headers=h).json()["id"]
    page = web.get(f"/improve/ideas/{iid}").text
    assert f'href="/improve/ideas/{iid}/edit"' in page
    form = web.get(f"/improve/ideas/{iid}/edit").text
    assert 'value="Discharge lounge"' in form
    token = csrf_of(form)
    r = web.post(f"/improve/ideas/{iid}/edit", data={"title": "", "description": "x", "csrf_token": token})
    assert r.status_code == 400 and "nhsuk-error-summary" in r.text and 'href="#title"' in r.text
    r = web.post(f"/improve/ideas/{iid}/edit", data={"title": "Discharge lounge by 11am", "description": "Ward 3",
                                                     "needs_money": "yes", "csrf_token": token},
                 follow_redirects=False)
    assert r.status_code == 303
    page = web.get(f"/improve/ideas/{iid}").text
    assert "<h1>Discharge lounge by 11am</h1>" in page and "(edited)" in page
    hist = re.search(r'<table class="nhsuk-table" id="history-table">(.*?)</table>', page, re.S).group(1)
    assert "title: Discharge lounge</td>" in hist and "description: none<br>" in hist
    assert "needs money: no" in hist and "needs money: yes" in hist
    # another member of ZA1 comments; the idea's author may not edit that comment, the commenter may
    h2 = _as(web, "staff.a@test.nhs.uk")
    cid = web.post(f"/api/v1/improve/ideas/{iid}/comments", json={"text": "Try it on ward 3"},
                   headers=h2).json()["comment_id"]
    assert web.get(f"/improve/ideas/{iid}/edit").status_code == 403  # not the idea's author
    assert web.patch(f"/api/v1/improve/ideas/{iid}", json={"title": "mine now"}, headers=h2).status_code == 403
    r = web.patch(f"/api/v1/improve/ideas/{iid}/comments/{cid}", json={"text": "Try it on ward 3 first"}, headers=h2)
    assert r.status_code == 200 and r.json()["text"] == "Try it on ward 3 first"
    token = csrf_of(web.get(f"/improve/ideas/{iid}/comments/{cid}/edit").text)
    r = web.post(f"/improve/ideas/{iid}/comments/{cid}/edit", data={"text": "", "csrf_token": token})
    assert r.status_code == 400 and "nhsuk-error-summary" in r.text
    h = _as(web, "analyst.a@test.nhs.uk")
    assert web.get(f"/improve/ideas/{iid}/comments/{cid}/edit").status_code == 403
    assert web.patch(f"/api/v1/improve/ideas/{iid}/comments/{cid}", json={"text": "x"}, headers=h).status_code == 403
    # another organisation's analyst cannot even read it; an administrator edits anyone's
    h = _as(web, "analyst.b@test.nhs.uk")
    assert web.patch(f"/api/v1/improve/ideas/{iid}", json={"title": "x"}, headers=h).status_code == 403
    h = _as(web, "admin@test.nhs.uk")
    r = web.patch(f"/api/v1/improve/ideas/{iid}/comments/{cid}", json={"text": "Ward 3 first (moderated)"},
                  headers=h)
    assert r.status_code == 200
    hist = web.get(f"/api/v1/improve/ideas/{iid}/history").json()
    assert [(x["actor"], x["what"]) for x in hist] == [
        ("analyst.a@test.nhs.uk", "idea"), ("staff.a@test.nhs.uk", f"comment {cid}"),
        ("admin@test.nhs.uk", f"comment {cid}")]
    assert hist[2]["before"] == {"text": "Try it on ward 3 first"}
    assert web.patch(f"/api/v1/improve/ideas/{iid}/comments/999999", json={"text": "x"}, headers=h).status_code == 404
