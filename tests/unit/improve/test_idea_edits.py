"""Editing ideas and comments (issue #11, left open): only the author or an administrator; audited with the fields
before and after; the idea's history read back from the audit log, as chart notes keep theirs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from partnering import improve as im
from partnering.errors import AccessDenied, NotFoundError, ValidationError
from partnering.store.models import AuditEvent, Organisation

pytestmark = pytest.mark.unit


@pytest.fixture
def store(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(insert(Organisation), [{"org_code": "RA1", "name": "Trust RA1", "kind": "acute_trust"}])
    return sqlite_engine


def test_the_author_edits_an_idea_and_the_change_is_audited_with_before_and_after(store):
    iid = im.submit_idea(store, "RA1", "Discharge lounge", "A room by the exit", actor="x@nhs")
    with pytest.raises(AccessDenied, match="only the author"):
        im.edit_idea(store, iid, title="Someone else's words", actor="y@nhs")
    after = im.edit_idea(store, iid, title="Discharge lounge by 11am", needs_money=True, actor="x@nhs")
    assert (after["title"], after["needs_money"], after["description"]) == ("Discharge lounge by 11am", True,
                                                                             "A room by the exit")
    with store.connect() as conn:
        ev = conn.execute(select(AuditEvent.actor, AuditEvent.target, AuditEvent.before, AuditEvent.after)
                        .where(AuditEvent.action == "improve.idea.edit")).all()
    assert len(ev) == 1 and ev[0].actor == "x@nhs" and ev[0].target == f"idea {iid}"
    assert json.loads(ev[0].before) == {"title": "Discharge lounge", "needs_money": False}
    assert json.loads(ev[0].after) == {"title": "Discharge lounge by 11am", "needs_money": True}
    # an administrator may edit anyone's idea; an unchanged save records nothing
    im.edit_idea(store, iid, description="", actor="admin@nhs", as_admin=True)
    im.edit_idea(store, iid, title="Discharge lounge by 11am", actor="x@nhs")
    hist = im.idea_history(store, iid)
    assert [(h["actor"], h["what"]) for h in hist] == [("x@nhs", "idea"), ("admin@nhs", "idea")]
    assert hist[1]["before"] == {"description": "A room by the exit"} and hist[1]["after"] == {"description": None}
    with pytest.raises(ValidationError, match="title is required"):
        im.edit_idea(store, iid, title="  ", actor="x@nhs")


def test_the_author_edits_a_comment_and_others_may_not(store):
    iid = im.submit_idea(store, "RA1", "Board rounds at 9", actor="x@nhs")
    cid = im.comment_on_idea(store, iid, "We tried it on ward 3", actor="y@nhs")
    with pytest.raises(AccessDenied):
        im.edit_comment(store, iid, cid, "rewritten", actor="x@nhs")  # the idea's author is not the comment's
    out = im.edit_comment(store, iid, cid, "We tried it on ward 3 in May", actor="y@nhs")
    assert out["text"] == "We tried it on ward 3 in May"
    assert im.get_idea(store, iid)["comments"][0]["text"] == "We tried it on ward 3 in May"
    im.edit_comment(store, iid, cid, "Tried on ward 3", actor="admin@nhs", as_admin=True)
    assert [(h["what"], h["before"]["text"], h["after"]["text"]) for h in im.idea_history(store, iid)] == [
        (f"comment {cid}", "We tried it on ward 3", "We tried it on ward 3 in May"),
        (f"comment {cid}", "We tried it on ward 3 in May", "Tried on ward 3")]
    other = im.submit_idea(store, "RA1", "Another", actor="x@nhs")
    with pytest.raises(NotFoundError):  # the comment belongs to another idea
        im.edit_comment(store, other, cid, "x", actor="y@nhs")
    with pytest.raises(ValidationError, match="comment is required"):
        im.edit_comment(store, iid, cid, "", actor="y@nhs")
