"""Annotations and rebases on the web and in the API (issue #14.3), and chart and board-pack downloads (#14.4):
who may read and write them, what the pages, the charts, the downloads and the API show."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration

IND = "ae_attendances_total"


def _client(app, email):
    c = TestClient(app)
    assert sign_in(c, email).status_code == 303
    return c


def _api_token(app, email) -> dict:
    from partnering.web.auth import create_token

    return {"Authorization": f"Bearer {create_token(app.state.engine, email, 'test')}"}


def test_an_analyst_of_the_organisation_annotates_and_rebases_from_the_page(fresh_app):
    c = _client(fresh_app, "analyst.a@test.nhs.uk")  # analyst of ZA1
    page = c.get(f"/org/ZA1/notes?indicator={IND}")
    assert page.status_code == 200 and 'id="add-note"' in page.text
    tok = csrf_of(page.text)
    r = c.post("/org/ZA1/notes", data={"csrf_token": tok, "indicator": IND, "period": "2024-03",
                                       "kind": "annotation", "text": "New front door model"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/org/ZA1/notes?indicator={IND}&saved=added"
    r = c.post("/org/ZA1/notes", data={"csrf_token": tok, "indicator": IND, "period": "2024-07", "kind": "rebase",
                                       "text": "Urgent treatment centre opened"}, follow_redirects=False)
    assert r.status_code == 303
    # a bad month: the form again with the error summary, nothing stored
    bad = c.post("/org/ZA1/notes", data={"csrf_token": tok, "indicator": IND, "period": "July", "kind": "rebase",
                                         "text": "x"})
    assert bad.status_code == 400 and "There is a problem" in bad.text and 'href="#period"' in bad.text
    listed = c.get("/org/ZA1/notes").text
    assert "New front door model" in listed and "Urgent treatment centre opened" in listed
    assert "analyst.a@test.nhs.uk" in listed
    # the organisation page: the chart figure carries both, the list under the chart and the data table say them
    org = c.get("/org/ZA1").text
    assert "Rebased 2024-07: Urgent treatment centre opened" in org and "New front door model" in org
    assert "Rebase 2024-07:" in org and "Rebased: Urgent treatment centre opened" in org
    # the API's SPC restarts at the rebase; the chart spec names it
    api = c.get(f"/api/v1/spc?org=ZA1&indicator={IND}").json()["points"]
    assert [p["rebase_group"] for p in api if p["x"] < "2024-07"] == [0] * 6
    assert {p["rebase_group"] for p in api if p["x"] >= "2024-07"} == {1}
    spec = c.get(f"/api/v1/organisations/ZA1/charts/{IND}").json()
    assert [r["period"] for r in spec["rebases"]] == ["2024-07"]
    assert [a["text"] for a in spec["annotations"]] == ["New front door model"]
    # the downloads carry them on their months
    csv = c.get(f"/org/ZA1/download/spc?indicator={IND}&format=csv").text.splitlines()
    assert "annotation" in csv[0] and "rebase_reason" in csv[0]
    assert any("2024-07" in line and "Urgent treatment centre opened" in line for line in csv[1:])
    # change and delete
    notes = c.get("/api/v1/organisations/ZA1/notes").json()
    ann = next(n for n in notes if n["kind"] == "annotation")
    r = c.post(f"/notes/{ann['id']}/change", data={"csrf_token": tok, "text": "New front door model (phase 1)",
                                                   "period": "2024-04"}, follow_redirects=False)
    assert r.status_code == 303
    again = c.get("/api/v1/organisations/ZA1/notes").json()
    changed = next(n for n in again if n["id"] == ann["id"])
    assert (changed["period"], changed["text"], changed["updated_by"]) == ("2024-04", "New front door model (phase 1)",
                                                                          "analyst.a@test.nhs.uk")
    assert c.post(f"/notes/{ann['id']}/delete", data={"csrf_token": tok}, follow_redirects=False).status_code == 303
    assert [n["kind"] for n in c.get("/api/v1/organisations/ZA1/notes").json()] == ["rebase"]
    # the recent changes, newest first, each with an undo: undoing the delete brings the changed note back
    from partnering.store.annotations import note_history

    history = note_history(fresh_app.state.engine, "ZA1")
    assert [(h["action"], h["kind"]) for h in history] == [("delete", "annotation"), ("change", "annotation"),
                                                           ("add", "rebase"), ("add", "annotation")]
    page = c.get("/org/ZA1/notes").text
    assert f'action="/notes/undo/{history[0]["event_id"]}"' in page
    r = c.post(f"/notes/undo/{history[0]['event_id']}", data={"csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/org/ZA1/notes?saved=undone"
    back = {n["id"]: n for n in c.get("/api/v1/organisations/ZA1/notes").json()}
    assert back[ann["id"]]["text"] == "New front door model (phase 1)"
    viewer = _client(fresh_app, "viewer@test.nhs.uk")
    assert "/notes/undo/" not in viewer.get("/org/ZA1/notes").text  # a viewer sees the history, no undo


def test_the_form_under_each_chart_is_for_those_who_may_write(fresh_app):
    analyst = _client(fresh_app, "analyst.a@test.nhs.uk")
    page = analyst.get("/org/ZA1").text
    assert page.count("Annotate or rebase this chart") == page.count("data-spc-chart=") >= 1
    assert f'<input type="hidden" name="indicator" value="{IND}">' in page
    r = analyst.post("/org/ZA1/notes", data={"csrf_token": csrf_of(page), "indicator": IND, "period": "2024-09",
                                             "kind": "annotation", "text": "Ambulance handover hub",
                                             "next": "/org/ZA1#chart-0-heading"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/org/ZA1#chart-0-heading"
    assert "Ambulance handover hub" in analyst.get("/org/ZA1").text
    # a viewer, and another organisation's analyst, see the note but no form
    for email in ("viewer@test.nhs.uk", "analyst.b@test.nhs.uk"):
        other = _client(fresh_app, email).get("/org/ZA1").text
        assert "Ambulance handover hub" in other and "Annotate or rebase this chart" not in other
    assert "Annotate or rebase this chart" in _client(fresh_app, "admin@test.nhs.uk").get("/org/ZA1").text


def test_who_may_write_notes(fresh_app):
    from partnering.store.annotations import add_note

    note = add_note(fresh_app.state.engine, "ZA1", IND, "2024-05", "annotation", "seen by all", actor="seed")
    viewer = _client(fresh_app, "viewer@test.nhs.uk")
    page = viewer.get("/org/ZA1/notes")
    assert page.status_code == 200 and "seen by all" in page.text and 'id="add-note"' not in page.text
    other = _client(fresh_app, "analyst.b@test.nhs.uk")  # analyst of ZA2
    assert 'id="add-note"' not in other.get("/org/ZA1/notes").text
    assert 'id="add-note"' in other.get("/org/ZA2/notes").text
    body = {"indicator": IND, "period": "2024-05", "kind": "annotation", "text": "x"}
    for email, want in (("viewer@test.nhs.uk", 403), ("analyst.b@test.nhs.uk", 403), ("analyst.a@test.nhs.uk", 201),
                        ("admin@test.nhs.uk", 201)):
        headers = _api_token(fresh_app, email)
        r = viewer.post("/api/v1/organisations/ZA1/notes", json=body, headers=headers)
        assert r.status_code == want, (email, r.text)
        r = viewer.patch(f"/api/v1/notes/{note.id}", json={"text": f"by {email}"}, headers=headers)
        assert r.status_code == (200 if want == 201 else 403), (email, r.text)
    r = viewer.delete(f"/api/v1/notes/{note.id}", headers=_api_token(fresh_app, "analyst.b@test.nhs.uk"))
    assert r.status_code == 403
    r = viewer.delete(f"/api/v1/notes/{note.id}", headers=_api_token(fresh_app, "admin@test.nhs.uk"))
    assert r.status_code == 200 and r.json()["text"] == "by admin@test.nhs.uk"
    # the audit log has every write, by whom
    from partnering.store.audit import audit_frame

    log = audit_frame(fresh_app.state.engine, action="chart.")
    assert set(log["actor"]) == {"seed", "analyst.a@test.nhs.uk", "admin@test.nhs.uk"}
    assert list(log["action"])[0] == "chart.annotation.delete"
    bad = viewer.post("/api/v1/organisations/ZA1/notes", json={**body, "period": "2024-13"},
                      headers=_api_token(fresh_app, "admin@test.nhs.uk"))
    assert bad.status_code == 400 and "ISO month" in bad.text


def test_chart_downloads_and_the_board_pack(fresh_app):
    c = _client(fresh_app, "viewer@test.nhs.uk")
    org = c.get("/org/ZA1").text
    assert f'href="/org/ZA1/download/charts/{IND}.png"' in org and f'href="/org/ZA1/download/charts/{IND}.svg"' in org
    png = c.get(f"/org/ZA1/download/charts/{IND}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.headers["content-disposition"] == f'attachment; filename="ZA1-{IND}.png"'
    svg = c.get(f"/org/ZA1/download/charts/{IND}.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    # the same chart as the page: its title with the organisation, the data date and the source line, as text
    assert "A&amp;E attendances (all types): Trust ZA1" in svg.text
    assert "Data to 2024-12." in svg.text and "Source: NHS England" in svg.text
    assert c.get(f"/org/ZA1/download/charts/{IND}.gif").status_code == 404
    assert c.get("/org/ZA1/download/charts/no_such_indicator.png").status_code == 404
    pack = c.get("/org/ZA1/download-board-pack")
    assert pack.status_code == 200 and pack.content.startswith(b"%PDF")
    assert pack.headers["content-disposition"] == 'attachment; filename="ZA1-board-pack.pdf"'


def test_a_rebase_also_restarts_a_series_the_assessment_does_not_cover(fresh_app):
    """An organisation outside the assessed kinds (here a community trust) still has its charts: SPC over its own
    series, which must take its recorded rebase too."""
    import pandas as pd

    from partnering.ingest.base import Parsed, commit_parsed
    from partnering.store.annotations import add_note
    from partnering.web.cache import invalidate_version

    eng = fresh_app.state.engine
    orgs = pd.DataFrame({"org_code": ["ZC1"], "name": ["Community ZC1"], "kind": "community_trust"})
    obs = pd.DataFrame([{"org_code": "ZC1", "indicator": IND, "period": f"2024-{m:02d}", "numerator": None,
                         "denominator": None, "value": 500 + 10 * m} for m in range(1, 13)])
    commit_parsed(Parsed(kind="ae-monthly", file="zc1.csv", organisations=orgs, observations=obs), "zc1", eng)
    add_note(eng, "ZC1", IND, "2024-07", "rebase", "Walk-in centre moved", actor="seed")
    invalidate_version(eng)
    c = _client(fresh_app, "viewer@test.nhs.uk")
    points = c.get(f"/api/v1/spc?org=ZC1&indicator={IND}").json()["points"]
    assert [p["rebase_group"] for p in points] == [0] * 6 + [1] * 6
    # each group's mean is its own months' mean: 500 + 10 * (1..6) and 500 + 10 * (7..12)
    assert points[0]["mean"] == pytest.approx(535.0) and points[-1]["mean"] == pytest.approx(595.0)
    assert "Rebased 2024-07: Walk-in centre moved" in c.get("/org/ZC1").text
