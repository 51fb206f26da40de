"""Issue #9 on the data pages and the imports API: refused rows and created organisations in every upload answer,
organisations created only when an admin names the kind, undo (admins, confirmed, audited), previewed publish."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration

# the attack of issue #9: an official indicator in a KPI file, an impossible value, an unknown organisation code
ATTACK = (b"org_code,indicator,period,value\n"
          b"ZA1,ae_attendances_total,2024-03,250\n"   # line 2: official, owned by the A&E loader
          b"ZA1,my_waits,2025-01,4\n"                 # line 3: loaded (an own measure)
          b"ZZZ,my_waits,2025-01,3\n"                 # line 4: unknown organisation
          b"ZA1,my_waits,2025-02,5\n")               # line 5: loaded
OWN = b"org_code,indicator,period,value\nZA1,my_count,2025-01,3\nZA1,my_count,2025-02,12\n"


def token_client(app, email):
    from partnering.web.auth import create_token

    tok = create_token(app.state.engine, email)
    c = TestClient(app)
    c.headers["Authorization"] = f"Bearer {tok}"
    return c


@pytest.fixture
def api(fresh_app):
    clients = {e.split("@")[0]: token_client(fresh_app, e) for e in
               ("admin@test.nhs.uk", "analyst.a@test.nhs.uk", "viewer@test.nhs.uk")}
    for c in clients.values():
        c.__enter__()
    yield clients
    for c in clients.values():
        c.__exit__(None, None, None)


def post_file(c, content, **data):
    return c.post("/api/v1/imports", data={"kind": "kpi", **data}, files={"file": ("kpi.csv", content, "text/csv")})


def org_codes(app) -> set[str]:
    from partnering.store.repository import organisations_frame

    return set(organisations_frame(app.state.engine)["org_code"])


def test_api_upload_lists_each_refused_row_and_creates_no_organisation(api, fresh_app):
    r = post_file(api["admin"], ATTACK)
    assert r.status_code == 200, r.text
    rep = r.json()[0]
    refused = {(x["line"], x["column"]): x["reason"] for x in rep["rejected"]}
    assert 2 in {line for line, _ in refused}, refused  # the official indicator's row
    assert any(line == 4 for line, _ in refused), refused  # the unknown organisation's row
    assert any("ZZZ" in why or "organisation" in why for (line, _), why in refused.items() if line == 4)
    assert rep["rows_rejected"] == len(rep["rejected"])
    assert rep["organisations_created"] == []
    assert "ZZZ" not in org_codes(fresh_app)


def test_page_upload_lists_refused_rows(fresh_app):
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.a@test.nhs.uk").status_code == 303
        tok = csrf_of(c.get("/data").text)
        r = c.post("/data", data={"kind": "kpi", "csrf_token": tok}, files={"file": ("kpi.csv", ATTACK, "text/csv")})
    assert r.status_code == 200, r.text
    assert "Rows refused" in r.text
    section = r.text.split("Rows refused", 1)[1].split("</table>", 1)[0]
    assert ">2</th>" in section and ">4</th>" in section  # the line numbers of the refused rows


def test_only_admins_create_organisations_and_the_answer_lists_them(api, fresh_app):
    denied = post_file(api["analyst.a"], ATTACK, create_organisations="other_provider")
    assert denied.status_code == 403, denied.text
    assert "ZZZ" not in org_codes(fresh_app)
    ok = post_file(api["admin"], ATTACK, create_organisations="other_provider")
    assert ok.status_code == 200, ok.text
    assert ok.json()[0]["organisations_created"] == ["ZZZ"], str(ok.json())
    from partnering.store.repository import organisations_frame

    orgs = organisations_frame(fresh_app.state.engine).set_index("org_code")
    assert orgs.loc["ZZZ", "kind"] == "other_provider"
    wrong = post_file(api["admin"], OWN, create_organisations="castle")
    assert wrong.status_code == 400 and "castle" in wrong.json()["error"]


def test_api_undo_restores_and_is_for_admins_only(api, fresh_app):
    from partnering.store.repository import observations_frame

    eng = fresh_app.state.engine
    before = observations_frame(eng)
    up = post_file(api["admin"], OWN, publish="true").json()[0]
    assert len(observations_frame(eng)) == len(before) + 2
    bid = up["batch_id"]
    assert api["analyst.a"].post(f"/api/v1/batches/{bid}/undo").status_code == 403
    assert api["viewer"].post(f"/api/v1/batches/{bid}/undo").status_code == 403
    assert api["admin"].post("/api/v1/batches/9999/undo").status_code == 404
    r = api["admin"].post(f"/api/v1/batches/{bid}/undo")
    assert r.status_code == 200, r.text
    assert r.json()["values_removed"] == 2 and r.json()["batch_id"] == bid
    after = observations_frame(eng)
    assert after.equals(before)
    from partnering.store.audit import audit_frame

    log = audit_frame(eng)
    undo = log[log["action"] == "data.undo"]
    assert len(undo) == 1 and undo.iloc[0]["actor"] == "admin@test.nhs.uk"
    # and the cache refreshed: the API no longer shows the undone values
    obs = api["admin"].get("/api/v1/observations?indicator=my_count").json()
    assert obs["total"] == 0


def test_refused_undo_says_why_in_the_api_and_on_the_page(api, fresh_app):
    first = post_file(api["admin"], OWN, publish="true").json()[0]["batch_id"]
    post_file(api["admin"], OWN.replace(b",12\n", b",13\n"), publish="true")  # supersedes one of its values
    r = api["admin"].post(f"/api/v1/batches/{first}/undo")
    assert r.status_code == 400
    assert "later batch" in r.json()["error"] and "first" in r.json()["error"]
    with TestClient(fresh_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        confirm = c.get(f"/data/batches/{first}/undo")
        assert confirm.status_code == 200 and "Are you sure" in confirm.text
        no_csrf = c.post(f"/data/batches/{first}/undo")
        assert no_csrf.status_code == 403
        page = c.post(f"/data/batches/{first}/undo", data={"csrf_token": csrf_of(confirm.text)})
        assert page.status_code == 400
        assert "nhsuk-error-summary" in page.text and "later batch" in page.text


def test_page_undo_with_confirmation(fresh_app, api):
    bid = post_file(api["admin"], OWN, publish="true").json()[0]["batch_id"]
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.a@test.nhs.uk").status_code == 303
        assert c.get(f"/data/batches/{bid}/undo").status_code == 403
        assert "Undo import" not in c.get(f"/data/batches/{bid}").text
    with TestClient(fresh_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        batch_page = c.get(f"/data/batches/{bid}")
        assert f'href="/data/batches/{bid}/undo"' in batch_page.text
        confirm = c.get(f"/data/batches/{bid}/undo")
        r = c.post(f"/data/batches/{bid}/undo", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/data?undone={bid}"
        done = c.get(r.headers["location"])
        assert f"Import {bid} was undone" in done.text and "2 values removed" in done.text
        assert c.get(f"/data/batches/{bid}").status_code == 404


# ------------------------------------------------------------------------------------------ previewed publish


def test_publish_preview_library(fresh_app):
    """The library function: each value of an upload beside the published value it would supersede."""
    from partnering.store.repository import publish_batch, publish_preview

    eng = fresh_app.state.engine
    import pandas as pd

    from partnering.ingest.base import Parsed, commit_parsed

    obs = pd.DataFrame([
        {"org_code": "ZA1", "indicator": "ae_attendances_total", "period": "2024-03", "numerator": None,
         "denominator": None, "value": 2000.0},
        {"org_code": "ZA1", "indicator": "ae_attendances_total", "period": "2025-01", "numerator": None,
         "denominator": None, "value": 900.0}])
    rep = commit_parsed(Parsed(kind="ae-monthly", file="draft.csv", observations=obs), "draft", eng,
                        owner_org="ZA1", published=False)
    pv = publish_preview(eng, rep.batch_id)
    assert list(pv["period"]) == ["2024-03", "2025-01"]
    assert list(pv["value"]) == [2000.0, 900.0]
    assert pv.loc[0, "published_value"] == 1003.0  # the seed's March 2024 value (1000 + 3)
    assert pv["published_value"].isna().tolist() == [False, True]  # nothing published for 2025-01
    assert pv.loc[0, "published_batch_id"] == 1
    with eng.begin() as conn:
        published, superseded = publish_batch(conn, rep.batch_id)
    assert (published, superseded) == (2, int(pv["published_value"].notna().sum()))
    assert publish_preview(eng, rep.batch_id)["published_value"].isna().all()  # published: supersedes nothing now
    with pytest.raises(Exception) as exc:
        publish_preview(eng, 9999)
    assert type(exc.value).__name__ == "NotFoundError"


def test_publish_preview_page_and_api(fresh_app, api):
    up = post_file(api["analyst.a"], b"org_code,indicator,period,value\nZA1,my_count,2025-01,3\n").json()[0]
    bid = up["batch_id"]
    r = api["admin"].get(f"/api/v1/batches/{bid}/publish-preview")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["items"][0]["value"] == 3.0 and body["items"][0]["published_value"] is None
    assert api["analyst.a"].get(f"/api/v1/batches/{bid}/publish-preview").status_code == 403
    assert api["admin"].get("/api/v1/batches/9999/publish-preview").status_code == 404
    with TestClient(fresh_app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        page = c.get(f"/data/batches/{bid}")
    assert "Before you publish" in page.text and "none (new)" in page.text
    assert page.text.index("Before you publish") < page.text.index("Publish this upload")
