"""Uploads, import history and organisation scoping of unpublished data (pages and API)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration

KPI = b"org_code,indicator,period,value\nZA1,my_local_kpi,2025-01,3\nZA1,my_local_kpi,2025-02,4\n" \
      b"ZA1,my_local_kpi,2025-03,oops\n"


def upload(client, content=KPI, name="local.csv", kind="kpi", publish=None):
    page = client.get("/account")  # every signed-in user has a form there (viewers have none on /data)
    data = {"kind": kind, "csrf_token": csrf_of(page.text)}
    if publish:
        data["publish"] = "yes"
    return client.post("/data", data=data, files={"file": (name, content, "text/csv")})


@pytest.fixture
def clients(fresh_app):
    out = {}
    for email in ("analyst.a@test.nhs.uk", "analyst.b@test.nhs.uk", "viewer@test.nhs.uk", "admin@test.nhs.uk"):
        c = TestClient(fresh_app)
        c.__enter__()
        assert sign_in(c, email).status_code == 303
        out[email.split("@")[0]] = c
    yield out
    for c in out.values():
        c.__exit__(None, None, None)


def test_unpublished_upload_is_seen_only_by_its_organisation_and_admins(clients, fresh_app):
    a, b, viewer, admin = clients["analyst.a"], clients["analyst.b"], clients["viewer"], clients["admin"]
    r = upload(a)
    assert r.status_code == 200, r.text
    assert "2 of 3 rows loaded, 1 rejected" in r.text
    batch_id = max(int(x) for x in __import__("re").findall(r'href="/data/batches/(\d+)"', r.text))
    for c, sees in ((a, True), (admin, True), (b, False), (viewer, False)):
        assert (c.get(f"/data/batches/{batch_id}").status_code == 200) is sees
        assert ("local.csv" in c.get("/data").text) is sees
        ids = [i["id"] for i in c.get("/api/v1/imports").json()["items"]]
        assert (batch_id in ids) is sees
        obs = c.get("/api/v1/observations?indicator=my_local_kpi").json()
        assert (obs["total"] == 2) is sees and (obs["total"] == 0) is (not sees)
        dl = c.get("/org/ZA1/download/observations?format=csv").text
        assert ("my_local_kpi" in dl) is sees
    # rejected rows, with line, column and reason
    page = a.get(f"/data/batches/{batch_id}")
    assert "oops" in page.text or "value" in page.text
    rej = a.get(f"/api/v1/imports/{batch_id}/rejected").json()
    assert rej["total"] == 1 and rej["items"][0]["line"] == 4 and rej["items"][0]["column"]
    assert b.get(f"/api/v1/imports/{batch_id}/rejected").status_code == 404


def test_admin_upload_is_published_and_audited(clients, fresh_app):
    from partnering.web.auth import audit_frame

    r = upload(clients["admin"], KPI.replace(b"my_local_kpi", b"shared_kpi"), publish=True)
    assert r.status_code == 200
    assert clients["viewer"].get("/api/v1/observations?indicator=shared_kpi").json()["total"] == 2
    log = audit_frame(fresh_app.state.engine)
    row = log[log["action"] == "data.upload"].iloc[0]
    assert row["actor"] == "admin@test.nhs.uk" and '"rows_loaded": 2' in row["after"]


def test_bad_file_is_refused_with_an_error_summary(clients):
    r = upload(clients["analyst.a"], b"code,kpi,month,val\nZA1,x,2025-01,1\n", name="wrong.csv")
    assert r.status_code == 400
    assert "nhsuk-error-summary" in r.text and "file wrong.csv" in r.text and "Nothing was loaded" in r.text
    r = upload(clients["analyst.a"], b"", name="empty.csv")
    assert r.status_code == 400 and "empty" in r.text
    r = upload(clients["analyst.a"], b"x", kind="ods")
    assert r.status_code == 400 and "cannot upload files of kind" in r.text


def test_viewer_cannot_upload(clients):
    r = upload(clients["viewer"])
    assert r.status_code == 403


def test_upload_size_limit(clients, fresh_app, monkeypatch):
    monkeypatch.setattr(fresh_app.state, "max_upload_bytes", 100)
    r = upload(clients["analyst.a"], b"org_code,indicator,period,value\n" + b"ZA1,k,2025-01,1\n" * 20)
    assert r.status_code in (400, 413) and "larger than" in r.text


def test_api_upload(fresh_app):
    from partnering.web.auth import create_token

    token = create_token(fresh_app.state.engine, "analyst.b@test.nhs.uk")
    with TestClient(fresh_app) as c:
        r = c.post("/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, data={"kind": "kpi"},
                   files={"file": ("b.csv", KPI.replace(b"ZA1", b"ZA2"))})
    assert r.status_code == 200, r.text
    rep = r.json()[0]
    assert rep["rows_loaded"] == 2 and rep["rows_rejected"] == 1


@pytest.mark.shared
def test_new_official_families_can_be_uploaded(clients, nhs):
    """The upload form offers every official family the CLI loads; an admin's KH03 workbook loads and is published."""
    from partnering.ingest import LOADERS
    from partnering.web.uploads import ADMIN_KINDS, UPLOAD_KINDS

    assert set(LOADERS) - {"context"} <= set(UPLOAD_KINDS) | set(ADMIN_KINDS)
    form = clients["analyst.a"].get("/data").text
    assert "Beds open overnight KH03" in form and "Cancer waiting times provider extract" in form
    f = nhs / "beds-overnight" / "Beds-Open-Overnight-Web_File-Q4-2024-25.xlsx"
    r = upload(clients["admin"], f.read_bytes(), name=f.name, kind="beds-overnight", publish=True)
    assert r.status_code == 200, r.text[:2000]
    obs = clients["viewer"].get("/api/v1/observations?indicator=beds_ga_occupancy_pct&org=ENG").json()
    # KH03 Q4 2024-25, "NHS Trust by Sector", England row: G&A % occupied 92.531032 (stored at the quarter's end)
    assert obs["total"] == 1 and obs["items"][0]["period"] == "2025-03"
    assert obs["items"][0]["value"] == pytest.approx(92.531032, abs=1e-5)
