"""``partnering improve ideas edit|edit-comment|history`` (issue #11, left open): the command line's user edits
what they wrote; someone else's text needs ``--as-admin``; the history comes back from the audit log.  And
``partnering partnerships end --reason`` (why a partnership ended, kept in its lessons)."""

from __future__ import annotations

import json

import pytest
from tests.integration.test_register_cli import home, run  # noqa: F401  (the fixture and the runner)

pytestmark = pytest.mark.integration


def test_edit_an_idea_and_a_comment_from_the_command_line(home):  # noqa: F811
    from partnering.improve import comment_on_idea
    from partnering.store.db import dispose_all, get_engine

    run(home, "improve", "ideas", "submit", "--org", "RA1", "--title", "Discharge lounge")
    run(home, "improve", "ideas", "comment", "1", "--text", "Ward 3 first")
    eng = get_engine(f"sqlite:///{home / 'cli.db'}")
    comment_on_idea(eng, 1, "Someone else's comment", actor="x@nhs")
    dispose_all()
    assert "Idea 1: Discharge lounge by 11am" in run(home, "improve", "ideas", "edit", "1", "--title",
                                                     "Discharge lounge by 11am", "--needs-money").stdout
    run(home, "improve", "ideas", "edit-comment", "1", "1", "--text", "Ward 3 first, then ward 5")
    p = run(home, "improve", "ideas", "edit-comment", "1", "2", "--text", "mine now", check=False)
    assert p.returncode != 0 and "only the author" in (p.stdout + p.stderr)
    run(home, "improve", "ideas", "edit-comment", "1", "2", "--text", "moderated", "--as-admin")
    hist = json.loads(run(home, "improve", "ideas", "history", "1", "--json").stdout)
    assert [(h["what"], h["after"]) for h in hist] == [
        ("idea", {"needs_money": True, "title": "Discharge lounge by 11am"}),
        ("comment 1", {"text": "Ward 3 first, then ward 5"}), ("comment 2", {"text": "moderated"})]
    assert hist[2]["before"] == {"text": "Someone else's comment"}


def test_end_a_partnership_with_why_from_the_command_line(home):  # noqa: F811
    from partnering.register import add_partnership
    from partnering.store.db import dispose_all, get_engine

    eng = get_engine(f"sqlite:///{home / 'cli.db'}")
    pid = add_partnership(eng, {"recipient_code": "RA1", "supporter_code": "RB2", "form": "buddying",
                                "start_period": "2024-04"}, actor="t").id
    dispose_all()
    out = run(home, "partnerships", "end", str(pid), "--end", "2026-03", "--reason", "Aims met").stdout
    assert f"Partnership {pid} ended in 2026-03 (version 2)" in out
    rec = json.loads(run(home, "partnerships", "show", str(pid), "--json").stdout)
    assert (rec["status"], rec["lessons"]) == ("ended", "Ended in 2026-03: Aims met")
