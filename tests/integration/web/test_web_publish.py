"""Publishing an upload: admins only, CSRF-protected, audited, and seen by everyone at once."""

from __future__ import annotations

import re

import pytest

from .conftest import csrf_of
from .test_web_data import clients, upload  # noqa: F401  (the fixture is reused)

pytestmark = pytest.mark.integration


def test_admin_publishes_an_upload_and_every_viewer_sees_it(clients, fresh_app):  # noqa: F811
    from partnering.web.auth import audit_frame

    a, b, viewer, admin = clients["analyst.a"], clients["analyst.b"], clients["viewer"], clients["admin"]
    r = upload(a)
    batch_id = max(int(x) for x in re.findall(r'href="/data/batches/(\d+)"', r.text))
    assert viewer.get("/api/v1/observations?indicator=my_local_kpi").json()["total"] == 0  # cached as unseen
    page = admin.get(f"/data/batches/{batch_id}")
    assert "Publish this upload" in page.text
    assert "Publish this upload" not in a.get(f"/data/batches/{batch_id}").text  # analysts cannot publish
    # no CSRF token: refused; an analyst: refused; the admin with a token: published
    assert admin.post(f"/data/batches/{batch_id}/publish").status_code == 403
    token_a = csrf_of(a.get("/account").text)
    assert a.post(f"/data/batches/{batch_id}/publish", data={"csrf_token": token_a}).status_code == 403
    done = admin.post(f"/data/batches/{batch_id}/publish", data={"csrf_token": csrf_of(page.text)},
                      follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?published=1")
    for c in (viewer, b, a, admin):
        assert c.get("/api/v1/observations?indicator=my_local_kpi").json()["total"] == 2
    assert b.get(f"/data/batches/{batch_id}").status_code == 200
    log = audit_frame(fresh_app.state.engine)
    row = log[log["action"] == "data.publish"].iloc[0]
    assert row["actor"] == "admin@test.nhs.uk" and '"values_published": 2' in row["after"]


def test_publish_through_the_api_is_for_admins(clients, fresh_app):  # noqa: F811
    a, admin = clients["analyst.a"], clients["admin"]
    r = upload(a, name="api.csv")
    batch_id = max(int(x) for x in re.findall(r'href="/data/batches/(\d+)"', r.text))
    csrf_a = csrf_of(a.get("/account").text)
    assert a.post(f"/api/v1/imports/{batch_id}/publish", headers={"X-CSRF-Token": csrf_a}).status_code == 403
    csrf = csrf_of(admin.get("/account").text)
    res = admin.post(f"/api/v1/imports/{batch_id}/publish", headers={"X-CSRF-Token": csrf})
    assert res.status_code == 200 and res.json()["published"] is True
    assert admin.post("/api/v1/imports/999999/publish", headers={"X-CSRF-Token": csrf}).status_code == 404
