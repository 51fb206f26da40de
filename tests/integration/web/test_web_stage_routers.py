"""The web face as a router per stage over the library: right statuses with reasons (never 501), the plan map
drawn from the service's own lines, reads that never write, cached results that requests never change."""

from __future__ import annotations

import dataclasses
import re
import threading

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

pytestmark = pytest.mark.integration


@pytest.fixture
def api(demo_app):
    from partnering.web.auth import create_token

    token = create_token(demo_app.state.engine, "viewer@test.nhs.uk", "stage router tests")
    with TestClient(demo_app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


# ------------------------------------------------------------------------------------------------ statuses


def test_partners_of_an_unassessed_organisation_is_a_404_with_the_reason(api):
    r = api.get("/api/v1/organisations/QX01/partners")  # an ICB: not assessed, so no candidates
    assert r.status_code == 404
    # an ICB is not a trust: the reason says so (it said "not been assessed" before partners followed each
    # organisation's own kind)
    assert r.json() == {"error": "QX01 is an integrated care board (ICB); partners are found for NHS trusts"}


def test_partners_of_a_missing_organisation_is_a_404(api):
    r = api.get("/api/v1/organisations/NOPE/partners")
    assert r.status_code == 404 and r.json() == {"error": "organisation 'NOPE' is not in the store"}


def test_bad_matching_input_is_refused_with_its_status(api):
    assert api.get("/api/v1/organisations/ZA1/partners?limit=0").status_code == 422
    assert api.get("/api/v1/buddying-plan?forbid=ZA1").status_code == 400


def test_no_operation_declares_or_answers_501(demo_app, api):
    spec = demo_app.openapi()
    declared = {code for ops in spec["paths"].values() for op in ops.values() for code in op["responses"]}
    assert "501" not in declared
    for code in ("ZA1", "QX01", "Z10001"):
        assert api.get(f"/api/v1/organisations/{code}/partners").status_code != 501


def test_org_page_says_why_there_are_no_partner_candidates(admin):
    html = admin.get("/org/QX01").text
    assert re.search(r"No candidate partners: [^<]*QX01 is an integrated care board \(ICB\); partners are found "
                     r"for NHS trusts", html)
    assert "not available in this version" not in html


# ------------------------------------------------------------------------------------------------ plan map


def test_plan_map_draws_the_services_line_for_every_pair(admin, api):
    plan = api.get("/api/v1/buddying-plan").json()
    assert plan["pairs"], "the demo has organisations in persistent difficulty"
    html = admin.get("/plan").text
    group = re.search(r'<g class="app-map__plan"[^>]*>(.*?)</g>', html, re.S)
    assert group, "the plan map has no lines"
    titles = re.findall(r"<line [^>]*><title>(.*?)</title></line>", group.group(1))
    expected = sorted(f"{p['recipient']} supported by {p['supporter']}" for p in plan["pairs"])
    assert sorted(titles) == expected


def test_plan_lines_join_the_recipient_to_its_supporter(demo_app):
    """The map's coordinates are the organisations' own: each line's ends are the pair's stored locations."""
    from partnering.web import services
    from partnering.web.auth import CurrentUser

    eng = demo_app.state.engine
    viewer = CurrentUser(0, "t@test", "t", "viewer", None)
    res = services.buddying_plan(eng, viewer, services.PlanParams())
    orgs = services.organisations(eng).set_index("org_code")
    assert len(res.map_lines) == len(res.pairs)
    for line in res.map_lines:
        r, s = orgs.loc[line["recipient"]], orgs.loc[line["supporter"]]
        assert (line["from"]["lat"], line["from"]["lon"]) == pytest.approx((r["latitude"], r["longitude"]))
        assert (line["to"]["lat"], line["to"]["lon"]) == pytest.approx((s["latitude"], s["longitude"]))


# ------------------------------------------------------------------------------------------------ reads


def test_reading_the_indicator_catalogue_does_not_write_the_store(fresh_app):
    from partnering.web.auth import create_token
    from partnering.web.cache import invalidate_version

    eng = fresh_app.state.engine
    with eng.begin() as conn:
        conn.execute(text("UPDATE indicators SET name = 'edited in the store' WHERE code = 'ae_4h_pct_all'"))
    invalidate_version(eng)
    token = create_token(eng, "viewer@test.nhs.uk", "read test")
    with TestClient(fresh_app) as c:
        r = c.get("/api/v1/indicators?limit=1000", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    names = {i["code"]: i["name"] for i in r.json()["items"]}
    assert names["ae_4h_pct_all"] == "edited in the store"
    with eng.connect() as conn:
        stored = conn.execute(text("SELECT name FROM indicators WHERE code = 'ae_4h_pct_all'")).scalar_one()
    assert stored == "edited in the store"


def test_opening_a_store_syncs_the_indicator_catalogue(tmp_path):
    from partnering.indicators.catalogue import load_catalogue
    from partnering.store import repository as repo
    from partnering.store.db import get_engine

    eng = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    stored = repo.indicators_frame(eng, include_breakdowns=True).set_index("code")
    cat = load_catalogue()
    assert set(cat) <= set(stored.index)
    assert stored.loc["ae_4h_pct_all", "name"] == cat["ae_4h_pct_all"].name


def test_import_history_of_another_organisation_hides_its_unpublished_uploads(fresh_app, tmp_path):
    from partnering.ingest import load
    from partnering.web import services
    from partnering.web.auth import CurrentUser

    eng = fresh_app.state.engine
    path = tmp_path / "za1-private.csv"
    path.write_text("org_code,indicator,period,value\nZA1,private_kpi,2025-01,3\n")
    report = load("kpi", path, eng, owner_org="ZA1", published=False, uploaded_by="analyst.a@test.nhs.uk")
    mine = CurrentUser(0, "a@test", "a", "viewer", "ZA1")
    other = CurrentUser(0, "b@test", "b", "viewer", "ZA2")
    nobody = CurrentUser(0, "c@test", "c", "viewer", None)
    admin = CurrentUser(0, "d@test", "d", "admin", None)
    for user, sees in ((mine, True), (other, False), (nobody, False), (admin, True)):
        ids = set(services.batches(eng, user)["id"])
        assert (report.batch_id in ids) is sees, user
        assert 1 in ids  # the published seed load is everyone's


# ------------------------------------------------------------------------------------------------ no lock


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame | pd.Series):
        return isinstance(b, type(a)) and a.equals(b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if callable(a):
        return a is b
    return a == b


def _snapshot(inp) -> dict:
    import copy

    return {f: copy.deepcopy(getattr(inp, f)) for f in inp.__dataclass_fields__ if f != "travel"} | {
        "travel": inp.travel}


def test_concurrent_requests_leave_the_cached_match_inputs_unchanged(demo_app):
    """The global match lock went: results are immutable, so requests in parallel must not change shared inputs."""
    from partnering.web import services
    from partnering.web.auth import CurrentUser
    from partnering.web.cache import invalidate_version

    eng = demo_app.state.engine
    viewer = CurrentUser(0, "t@test", "t", "viewer", None)
    # read the store's version afresh: a remembered one (up to VERSION_TTL old) may predate another test's write
    invalidate_version(eng)
    inp = services.match_inputs(eng, viewer)
    before = _snapshot(inp)
    codes = list(services.assessment(eng, viewer).flags["org_code"][:6])
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            services.partner_candidates(eng, viewer, codes[i % len(codes)])
            services.peers(eng, viewer, codes[(i + 1) % len(codes)])
            services.buddying_plan(eng, viewer, services.PlanParams(capacity=1 + i % 3,
                                                                    max_travel_minutes=60.0 + 15 * i))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert services.match_inputs(eng, viewer) is inp
    after = _snapshot(inp)
    changed = [k for k in before if not _same(before[k], after[k])]
    assert not changed, f"requests changed the shared match inputs: {changed}"


# ------------------------------------------------------------------------------------------------ audit


def test_a_publish_through_the_web_is_audited_once_as_the_signed_in_admin(fresh_app, tmp_path):
    from partnering.ingest import load
    from partnering.web.auth import audit_frame, create_token

    eng = fresh_app.state.engine
    path = tmp_path / "za1-upload.csv"
    path.write_text("org_code,indicator,period,value\nZA1,own_kpi,2025-01,3\nZA1,own_kpi,2025-02,4\n")
    report = load("kpi", path, eng, owner_org="ZA1", published=False, uploaded_by="analyst.a@test.nhs.uk")
    token = create_token(eng, "admin@test.nhs.uk", "publish test")
    with TestClient(fresh_app) as c:
        r = c.post(f"/api/v1/imports/{report.batch_id}/publish", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["published"] is True
    log = audit_frame(eng)
    events = log[(log["action"] == "data.publish") & (log["target"] == f"batch {report.batch_id}")]
    assert list(events["actor"]) == ["admin@test.nhs.uk"]
    assert '"values_published": 2' in events["after"].iloc[0]


# ------------------------------------------------------------------------------------------------ pairs


def test_plan_pairs_are_read_by_the_librarys_one_parser(api):
    """Form, query and JSON pairs go through ``partnering.match.service.parse_pairs``: the CLI's ``REC:SUP`` works
    in the query, and a code that cannot be an organisation code is bad input (400), not a missing one."""
    plan = api.get("/api/v1/buddying-plan").json()
    rec, sup = plan["pairs"][0]["recipient"], plan["pairs"][0]["supporter"]
    for forbid in (f"{rec}:{sup}", f"{rec}-{sup}", f"{rec.lower()} {sup.lower()}"):
        again = api.get(f"/api/v1/buddying-plan?forbid={forbid}").json()
        assert (rec, sup) not in {(p["recipient"], p["supporter"]) for p in again["pairs"]}, forbid
    r = api.post("/api/v1/buddying-plan", json={"forbidden": [[rec, "not a code!"]]})
    assert r.status_code == 400 and "organisation codes" in r.json()["error"]
