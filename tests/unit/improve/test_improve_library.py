"""partnering.improve: ideas, votes, triage, the driver tree's rules, PDSA cycles and their chart annotations, the
IHI progress scale (issue #11 s.2)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from partnering import improve as im
from partnering.errors import NotFoundError, ValidationError
from partnering.store.models import AuditEvent, Organisation

pytestmark = pytest.mark.unit


@pytest.fixture
def store(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(insert(Organisation), [{"org_code": c, "name": f"Trust {c}", "kind": "acute_trust"}
                                            for c in ("RA1", "RB2")])
    return sqlite_engine


def test_one_vote_per_person_and_ideas_ranked_by_votes(store):
    a = im.submit_idea(store, "ra1", "Discharge lounge", actor="x@nhs")
    b = im.submit_idea(store, "RA1", "Board rounds at 9", actor="y@nhs")
    for voter in ("x@nhs", "x@nhs", "y@nhs"):
        im.vote_for_idea(store, b, voter)
    assert im.vote_for_idea(store, a, "x@nhs") == 1
    assert im.vote_for_idea(store, b, "y@nhs", remove=True) == 1
    ranked = im.list_ideas(store, "RA1")
    assert ranked["votes"].tolist() == [1, 1] and ranked["id"].tolist() == [b, a]  # ties: newest first
    im.vote_for_idea(store, a, "z@nhs")
    assert im.list_ideas(store, "RA1")[["id", "votes"]].values.tolist() == [[a, 2], [b, 1]]


def test_triage_rules(store):
    iid = im.submit_idea(store, "RA1", "Discharge lounge")
    with pytest.raises(ValidationError, match="say why"):
        im.triage_idea(store, iid, "not_taken_forward")
    other = im.create_project(store, "RB2", "Someone else's")
    with pytest.raises(ValidationError, match="belongs to RB2"):
        im.triage_idea(store, iid, "accepted", project_id=other)
    pid = im.create_project(store, "RA1", "Flow", from_idea=iid)
    assert im.get_idea(store, iid)["project_id"] == pid
    assert im.get_project(store, pid).ideas == [{"id": iid, "title": "Discharge lounge"}]


def test_driver_tree_allows_only_its_shape(store):
    pid = im.create_project(store, "RA1", "Flow", "95% in 4 hours")
    p1 = im.add_driver(store, pid, "primary", "Discharge early")
    s1 = im.add_driver(store, pid, "secondary", "Criteria-led discharge", parent_id=p1)
    c1 = im.add_driver(store, pid, "change_idea", "Nurse-led discharge", parent_id=s1)
    with pytest.raises(ValidationError, match="goes under the aim"):
        im.add_driver(store, pid, "primary", "x", parent_id=p1)
    with pytest.raises(ValidationError, match="under a primary driver"):
        im.add_driver(store, pid, "secondary", "x")
    with pytest.raises(ValidationError, match="under a primary driver or secondary driver"):
        im.add_driver(store, pid, "change_idea", "x", parent_id=None)
    tree = im.get_project(store, pid).drivers
    assert [(n.id, [(m.id, [k.id for k in m.children]) for m in n.children]) for n in tree] == [(p1, [(s1, [c1])])]


def test_cycles_become_annotations_of_their_measures_only(store):
    pid = im.create_project(store, "RA1", "Flow")
    im.add_cycle(store, pid, "Lounge pilot", "2024-05", ["ae_4h_pct_all"], end_period="2024-07")
    im.add_cycle(store, pid, "Streaming", "2024-03", ["ae_4h_pct_all@RB2", "ae_attendances_total"])
    p = im.get_project(store, pid)
    assert [c["title"] for c in p.cycles] == ["Streaming", "Lounge pilot"]  # in start order
    notes = im.cycle_annotations(p, "ae_4h_pct_all")
    assert [(n["x"], n["x_end"], n["label"]) for n in notes] == [("2024-05", "2024-07", "PDSA 2: Lounge pilot")]
    assert [n["label"] for n in im.cycle_annotations(p, "ae_4h_pct_all", "RB2")] == ["PDSA 1: Streaming"]
    with pytest.raises(NotFoundError, match="no indicator nope"):
        im.add_cycle(store, pid, "x", "2024-08", ["nope"])
    with pytest.raises(ValidationError, match="ends"):
        im.add_cycle(store, pid, "x", "2024-08", end_period="2024-06")


def test_progress_on_the_ihi_scale_only(store):
    pid = im.create_project(store, "RA1", "Flow")
    im.record_progress(store, pid, "2024-06", 3)
    for bad in (0, 2.7, 5.5, "high"):
        with pytest.raises(ValidationError, match="IHI"):
            im.record_progress(store, pid, "2024-07", bad)
    p = im.get_project(store, pid)
    assert (p.latest_score, p.progress[0]["label"]) == (3.0, "Modest improvement")
    assert list(im.IHI_SCALE) == [x / 2 for x in range(1, 11)]


def test_every_write_is_audited(store):
    iid = im.submit_idea(store, "RA1", "x", actor="a@nhs")
    im.vote_for_idea(store, iid, "a@nhs")
    im.comment_on_idea(store, iid, "yes", "a@nhs")
    pid = im.create_project(store, "RA1", "Flow", actor="a@nhs")
    im.add_cycle(store, pid, "c", "2024-01", actor="a@nhs")
    im.record_progress(store, pid, "2024-02", 2, actor="a@nhs")
    with store.connect() as conn:
        actions = conn.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["improve.idea.submit", "improve.idea.vote", "improve.idea.comment", "improve.project.create",
                       "improve.cycle.add", "improve.progress.record"]


def test_access_by_organisation():
    assert im.may_take_part("viewer", "ra1", "RA1") and not im.may_take_part("analyst", "RB2", "RA1")
    assert im.may_manage("analyst", "RA1", "RA1") and not im.may_manage("viewer", "RA1", "RA1")
    assert im.may_read("viewer", "RB2", "RA1", also=("RA1", "RB2")) and not im.may_read("viewer", "RC3", "RA1")
