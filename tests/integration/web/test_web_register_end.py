"""Ending a partnership on the web (issue #11, left open: the API and CLI could, no page did): its last month, why,
the lessons and a confirmation, each missing one named in the NHS.UK error summary; analysts of a party and
administrators only; saved as a version ("end") and audited with the entry before and after."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select
from tests.integration.web.conftest import csrf_of
from tests.integration.web.test_web_register import _as, web  # noqa: F401  (the fixture and the sign-in)

pytestmark = pytest.mark.integration


def _partnership(web) -> int:  # noqa: F811
    from partnering.register import add_partnership

    return add_partnership(web.app.state.engine, {"recipient_code": "ZA1", "supporter_code": "ZA2",
                                                  "form": "buddying", "start_period": "2024-04",
                                                  "lessons": "Start with flow"}, actor="t").id


def test_a_party_ends_a_partnership_on_its_page(web):  # noqa: F811
    pid = _partnership(web)
    _as(web, "analyst.b@test.nhs.uk")  # the supporter's analyst
    assert f'href="/partnerships/{pid}/end"' in web.get(f"/partnerships/{pid}").text
    form = web.get(f"/partnerships/{pid}/end").text
    assert "Start with flow" in form and 'name="confirm"' in form
    token = csrf_of(form)
    r = web.post(f"/partnerships/{pid}/end", data={"csrf_token": token, "version": "1"})
    assert r.status_code == 400 and "nhsuk-error-summary" in r.text
    summary = r.text.split("nhsuk-error-summary__list")[1].split("</ul>")[0]
    assert re.findall(r'href="(#\w+)"', summary) == ["#end_period", "#reason", "#confirm"]
    assert 'id="confirm-error"' in r.text and 'aria-describedby="confirm-error"' in r.text
    # a month before the start is refused by the register's own rule, the values kept
    r = web.post(f"/partnerships/{pid}/end", data={"csrf_token": token, "version": "1", "end_period": "2023-12",
                                                   "reason": "Aims met", "confirm": "yes"})
    assert r.status_code == 400 and "before start_period 2024-04" in r.text and "Aims met" in r.text
    r = web.post(f"/partnerships/{pid}/end", data={"csrf_token": token, "version": "1", "end_period": "2026-03",
                                                   "reason": "The recipient left the recovery programme",
                                                   "lessons": "Start with flow", "confirm": "yes"},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/partnerships/{pid}?saved=1"
    api = web.get(f"/api/v1/partnerships/{pid}").json()
    assert (api["status"], api["end_period"], api["version"]) == ("ended", "2026-03", 2)
    assert api["lessons"] == "Start with flow\n\nEnded in 2026-03: The recipient left the recovery programme"
    assert [h["action"] for h in api["history"]] == ["end", "create"]
    from partnering.store.models import AuditEvent

    with web.app.state.engine.connect() as conn:
        actor, before, after = conn.execute(select(AuditEvent.actor, AuditEvent.before, AuditEvent.after)
                                            .where(AuditEvent.action == "register.partnership.end")).one()
    assert actor == "analyst.b@test.nhs.uk"
    assert (json.loads(before)["status"], json.loads(after)["status"]) == ("active", "ended")
    page = web.get(f"/partnerships/{pid}?saved=1").text
    assert "Saved as version 2" in page and "Change how it ended" in page
    # a stale form (opened at version 1) is refused rather than overwriting the newer version
    r = web.post(f"/partnerships/{pid}/end", data={"csrf_token": token, "version": "1", "end_period": "2026-02",
                                                   "reason": "x", "confirm": "yes"})
    assert r.status_code == 400 and "changed by someone else" in r.text


def test_only_analysts_of_a_party_and_administrators_end_it(web):  # noqa: F811
    pid = _partnership(web)
    from sqlalchemy import insert

    from partnering.store.models import Organisation
    from partnering.web.auth import create_user

    with web.app.state.engine.begin() as conn:  # a third trust, party to nothing
        conn.execute(insert(Organisation).values(org_code="ZA3", name="Trust ZA3", kind="acute_trust"))
    create_user(web.app.state.engine, "analyst.c@test.nhs.uk", "analyst", "ZA3", password="correct horse battery")
    create_user(web.app.state.engine, "staff.a@test.nhs.uk", "viewer", "ZA1", password="correct horse battery")
    for who in ("analyst.c@test.nhs.uk", "staff.a@test.nhs.uk"):
        _as(web, who)
        assert 'href="/partnerships/%d/end"' % pid not in web.get(f"/partnerships/{pid}").text
        assert web.get(f"/partnerships/{pid}/end").status_code == 403
        token = csrf_of(web.get("/account").text)
        r = web.post(f"/partnerships/{pid}/end", data={"csrf_token": token, "end_period": "2026-03",
                                                       "reason": "x", "confirm": "yes"})
        assert r.status_code == 403
    _as(web, "admin@test.nhs.uk")
    token = csrf_of(web.get(f"/partnerships/{pid}/end").text)
    r = web.post(f"/partnerships/{pid}/end", data={"csrf_token": token, "end_period": "2025-09",
                                                   "reason": "Mandated support withdrawn", "confirm": "yes"},
                 follow_redirects=False)
    assert r.status_code == 303
    assert web.get(f"/api/v1/partnerships/{pid}").json()["end_period"] == "2025-09"


def test_the_api_records_why_it_ended(web):  # noqa: F811
    pid = _partnership(web)
    _as(web, "analyst.a@test.nhs.uk")
    h = {"x-csrf-token": csrf_of(web.get("/account").text)}
    r = web.post(f"/api/v1/partnerships/{pid}/end", json={"end_period": "2026-03", "reason": "Aims met"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["lessons"] == "Start with flow\n\nEnded in 2026-03: Aims met"
