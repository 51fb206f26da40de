"""Staff ideas for improvement: submit, comment, vote (one vote per person), and triage — accept into a project
(a new one, or one that exists), keep under review, or not take forward with the reason.  Most ideas need no money,
so each says whether it does.  Every write is audited (``improve.idea.*``).

An idea and a comment can be edited by their author, or by an administrator (:func:`edit_idea`,
:func:`edit_comment`).  Like chart notes (:mod:`partnering.store.annotations`), which keep their history in the
audit log rather than in a table of versions, an edit is audited with the text before and after, and the history of
an idea and its comments is read back from the log (:func:`idea_history`)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select, update

from partnering.errors import AccessDenied, NotFoundError, ValidationError
from partnering.store import audit
from partnering.store.models import AuditEvent, IdeaComment, IdeaVote, ImprovementIdea, ImprovementProject, Organisation

IDEA_STATUSES = {"new": "New", "under_review": "Under review", "accepted": "Accepted into a project",
                 "not_taken_forward": "Not taken forward"}
IDEA_COLUMNS = ["id", "org_code", "title", "description", "needs_money", "status", "triage_note", "project_id",
                "submitted_by", "submitted_at"]


def _text(v, what: str, limit: int) -> str:
    v = (v or "").strip()
    if not v:
        raise ValidationError(f"{what} is required")
    if len(v) > limit:
        raise ValidationError(f"{what} is longer than {limit:,} characters")
    return v


def _known_org(conn, org_code: str) -> str:
    code = (org_code or "").strip().upper()
    if not code:  # missing input, not a missing organisation
        raise ValidationError("choose the organisation the idea is for")
    if conn.execute(select(Organisation.org_code).where(Organisation.org_code == code)).first() is None:
        raise NotFoundError(f"no organisation {code} in the store")
    return code


def submit_idea(engine: Engine, org_code: str, title: str, description: str | None = None,
                needs_money: bool = False, actor: str | None = None) -> int:
    """Record a member of staff's idea for ``org_code``; returns its id."""
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        code = _known_org(conn, org_code)
        row = {"org_code": code, "title": _text(title, "the idea's title", 300),
               "description": (description or "").strip() or None, "needs_money": bool(needs_money),
               "status": "new", "submitted_by": actor, "submitted_at": datetime.now()}
        iid = int(conn.execute(insert(ImprovementIdea).values(**row)).inserted_primary_key[0])
        audit.record(conn, actor, "improve.idea.submit", f"idea {iid}", None, row)
    return iid


def _idea_row(conn, idea_id: int) -> dict:
    row = conn.execute(select(*[getattr(ImprovementIdea, c) for c in IDEA_COLUMNS])
                       .where(ImprovementIdea.id == int(idea_id))).first()
    if row is None:
        raise NotFoundError(f"no idea {idea_id}")
    return dict(zip(IDEA_COLUMNS, row))


def get_idea(engine: Engine, idea_id: int) -> dict:
    """An idea with its ``votes`` (count), ``voters`` and ``comments`` (oldest first)."""
    with engine.connect() as conn:
        idea = _idea_row(conn, idea_id)
        idea["voters"] = sorted(conn.execute(select(IdeaVote.voter).where(IdeaVote.idea_id == idea["id"]))
                                .scalars())
        idea["votes"] = len(idea["voters"])
        idea["comments"] = [dict(r._mapping) for r in conn.execute(
            select(IdeaComment.id, IdeaComment.author, IdeaComment.at, IdeaComment.text)
            .where(IdeaComment.idea_id == idea["id"]).order_by(IdeaComment.id))]
    return idea


def org_of_idea(engine: Engine, idea_id: int) -> str:
    with engine.connect() as conn:
        return _idea_row(conn, idea_id)["org_code"]


def comment_on_idea(engine: Engine, idea_id: int, text: str, actor: str | None = None) -> int:
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        _idea_row(conn, idea_id)
        body = _text(text, "the comment", 5_000)
        cid = int(conn.execute(insert(IdeaComment).values(idea_id=int(idea_id), author=actor, at=datetime.now(),
                                                          text=body)).inserted_primary_key[0])
        audit.record(conn, actor, "improve.idea.comment", f"idea {idea_id}", None, {"comment": cid, "text": body})
    return cid


def vote_for_idea(engine: Engine, idea_id: int, actor: str | None = None, remove: bool = False) -> int:
    """Vote for an idea (a second vote by the same person changes nothing), or take the vote back with
    ``remove``; returns the idea's number of votes."""
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        _idea_row(conn, idea_id)
        has = conn.execute(select(IdeaVote.voter).where(IdeaVote.idea_id == int(idea_id),
                                                        IdeaVote.voter == actor)).first() is not None
        if remove and has:
            conn.execute(delete(IdeaVote).where(IdeaVote.idea_id == int(idea_id), IdeaVote.voter == actor))
            audit.record(conn, actor, "improve.idea.unvote", f"idea {idea_id}")
        elif not remove and not has:
            conn.execute(insert(IdeaVote).values(idea_id=int(idea_id), voter=actor, at=datetime.now()))
            audit.record(conn, actor, "improve.idea.vote", f"idea {idea_id}")
        return int(conn.execute(select(func.count()).select_from(IdeaVote)
                                .where(IdeaVote.idea_id == int(idea_id))).scalar_one())


def triage_idea(engine: Engine, idea_id: int, status: str, note: str | None = None, project_id: int | None = None,
                actor: str | None = None) -> dict:
    """Decide on an idea: ``accepted`` (into ``project_id``, a project of the same organisation), ``under_review``
    or ``not_taken_forward`` (``note`` says why: required)."""
    actor = actor or audit.default_actor()
    if status not in IDEA_STATUSES or status == "new":
        raise ValidationError(f"triage an idea as one of under_review, accepted, not_taken_forward (got {status!r})")
    if status == "not_taken_forward" and not (note or "").strip():
        raise ValidationError("say why the idea is not taken forward (note)")
    with engine.begin() as conn:
        before = _idea_row(conn, idea_id)
        if status == "accepted":
            if project_id is None:
                raise ValidationError("an accepted idea goes into a project: give its id (or create one from it)")
            org = conn.execute(select(ImprovementProject.org_code)
                               .where(ImprovementProject.id == int(project_id))).scalar_one_or_none()
            if org is None:
                raise NotFoundError(f"no improvement project {project_id}")
            if org != before["org_code"]:
                raise ValidationError(f"project {project_id} belongs to {org}, the idea to {before['org_code']}")
        values = {"status": status, "triage_note": (note or "").strip() or None,
                  "project_id": int(project_id) if status == "accepted" else None}
        conn.execute(update(ImprovementIdea).where(ImprovementIdea.id == int(idea_id)).values(**values))
        after = _idea_row(conn, idea_id)
        audit.record(conn, actor, "improve.idea.triage", f"idea {idea_id}", before, after)
    return after


#: the audit actions of edits, whose before/after make an idea's history (:func:`idea_history`)
EDIT_ACTIONS = ("improve.idea.edit", "improve.idea.comment.edit")


def _may_edit(author: str, actor: str, as_admin: bool, what: str) -> None:
    if not as_admin and author != actor:
        raise AccessDenied(f"only the author of this {what} ({author}) or an administrator may edit it")


def edit_idea(engine: Engine, idea_id: int, *, title: str | None = None, description: str | None = None,
              needs_money: bool | None = None, actor: str | None = None, as_admin: bool = False) -> dict:
    """Change an idea's title, detail or whether it needs money (``None`` leaves a field as it is; an empty
    ``description`` clears it).  Only its author — or, with ``as_admin``, an administrator — may; audited as
    ``improve.idea.edit`` with the fields before and after.  Returns the idea as :func:`get_idea` does."""
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        before = _idea_row(conn, idea_id)
        _may_edit(before["submitted_by"], actor, as_admin, "idea")
        values: dict = {}
        if title is not None:
            values["title"] = _text(title, "the idea's title", 300)
        if description is not None:
            values["description"] = description.strip() or None
        if needs_money is not None:
            values["needs_money"] = bool(needs_money)
        changed = {k: v for k, v in values.items() if before[k] != v}
        if changed:
            conn.execute(update(ImprovementIdea).where(ImprovementIdea.id == int(idea_id)).values(**changed))
            audit.record(conn, actor, "improve.idea.edit", f"idea {idea_id}",
                         {k: before[k] for k in changed}, changed)
    return get_idea(engine, idea_id)


def edit_comment(engine: Engine, idea_id: int, comment_id: int, text: str, actor: str | None = None,
                 as_admin: bool = False) -> dict:
    """Change the text of comment ``comment_id`` on idea ``idea_id``: its author or (``as_admin``) an
    administrator; audited as ``improve.idea.comment.edit`` with the text before and after."""
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        _idea_row(conn, idea_id)
        row = conn.execute(select(IdeaComment.author, IdeaComment.text)
                           .where(IdeaComment.id == int(comment_id), IdeaComment.idea_id == int(idea_id))).first()
        if row is None:
            raise NotFoundError(f"no comment {comment_id} on idea {idea_id}")
        _may_edit(row.author, actor, as_admin, "comment")
        body = _text(text, "the comment", 5_000)
        if body != row.text:
            conn.execute(update(IdeaComment).where(IdeaComment.id == int(comment_id)).values(text=body))
            audit.record(conn, actor, "improve.idea.comment.edit", f"idea {idea_id}",
                         {"comment": int(comment_id), "text": row.text}, {"comment": int(comment_id), "text": body})
    return {"id": int(comment_id), "idea_id": int(idea_id), "author": row.author, "text": body}


def idea_history(engine: Engine, idea_id: int) -> list[dict]:
    """Every edit of the idea and its comments, oldest first, from the audit log: ``at``, ``actor``, ``what``
    (``idea`` or ``comment N``), ``before`` and ``after`` (the changed fields)."""
    import json

    with engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.before,
                                   AuditEvent.after)
                            .where(AuditEvent.target == f"idea {int(idea_id)}", AuditEvent.action.in_(EDIT_ACTIONS))
                            .order_by(AuditEvent.id)).all()
    out = []
    for at, actor, action, before, after in rows:
        b, a = json.loads(before or "{}"), json.loads(after or "{}")
        what = "idea" if action == "improve.idea.edit" else f"comment {a.pop('comment', b.get('comment'))}"
        b.pop("comment", None)
        out.append({"at": at, "actor": actor, "what": what, "before": b, "after": a})
    return out


def list_ideas(engine: Engine, org_code: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Ideas with their ``votes`` and ``comments`` counts, most voted first (then newest)."""
    votes = select(IdeaVote.idea_id, func.count().label("votes")).group_by(IdeaVote.idea_id).subquery()
    comments = select(IdeaComment.idea_id, func.count().label("comments")).group_by(IdeaComment.idea_id).subquery()
    stmt = select(*[getattr(ImprovementIdea, c) for c in IDEA_COLUMNS], func.coalesce(votes.c.votes, 0),
                  func.coalesce(comments.c.comments, 0)) \
        .outerjoin(votes, votes.c.idea_id == ImprovementIdea.id) \
        .outerjoin(comments, comments.c.idea_id == ImprovementIdea.id)
    if org_code:
        stmt = stmt.where(ImprovementIdea.org_code == org_code.upper())
    if status:
        stmt = stmt.where(ImprovementIdea.status == status)
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=[*IDEA_COLUMNS, "votes", "comments"])
    return df.sort_values(["votes", "id"], ascending=[False, False], ignore_index=True)
