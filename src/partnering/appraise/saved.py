"""Stored decision cases: save, update, read and list the TOML text of cases in the store's ``appraisal_cases``.

Every write is validated first (:func:`partnering.appraise.case.parse_case`: a case that does not read is not
stored) and audited in the same transaction through :func:`partnering.store.audit.record` (``appraise.case.create``,
``appraise.case.update``), whichever face made it. Who may write which organisation's cases is the faces' rule
(analysts of the organisation, or admins); the library records who did.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import insert, select, update

from partnering.appraise.case import DecisionCase, parse_case
from partnering.errors import NotFoundError
from partnering.store.audit import record
from partnering.store.models import AppraisalCase

LIST_COLUMNS = ["id", "org_code", "title", "created_by", "created_at", "updated_at"]


def save_case(engine, text: str, actor: str | None = None) -> int:
    """Store a new case (validated) and return its id."""
    case = parse_case(text, "case")
    now = datetime.now()
    with engine.begin() as conn:
        res = conn.execute(insert(AppraisalCase).values(
            org_code=case.case.org_code, title=case.case.title[:300], toml=text, created_by=actor or "cli",
            created_at=now, updated_at=now))
        case_id = int(res.inserted_primary_key[0])
        record(conn, actor, "appraise.case.create", f"appraisal_case:{case_id}", None,
               {"org_code": case.case.org_code, "title": case.case.title})
    return case_id


def update_case(engine, case_id: int, text: str, actor: str | None = None) -> DecisionCase:
    """Replace a stored case's text (validated); the audit event keeps the text before and after."""
    case = parse_case(text, f"case {case_id}")
    with engine.begin() as conn:
        before = conn.execute(select(AppraisalCase.toml).where(AppraisalCase.id == case_id)).scalar_one_or_none()
        if before is None:
            raise NotFoundError(f"no appraisal case {case_id}")
        conn.execute(update(AppraisalCase).where(AppraisalCase.id == case_id).values(
            org_code=case.case.org_code, title=case.case.title[:300], toml=text, updated_at=datetime.now()))
        record(conn, actor, "appraise.case.update", f"appraisal_case:{case_id}", {"toml": before}, {"toml": text})
    return case


def get_case(engine, case_id: int) -> dict:
    """A stored case as a dict (id, org_code, title, toml, created_by, created_at, updated_at)."""
    with engine.connect() as conn:
        cols = [*LIST_COLUMNS, "toml"]
        row = conn.execute(select(*[getattr(AppraisalCase, c) for c in cols])
                           .where(AppraisalCase.id == case_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no appraisal case {case_id}")
        return dict(zip(cols, row))


def list_cases(engine, org_code: str | None = None) -> pd.DataFrame:
    """Stored cases, newest first; ``org_code`` keeps one organisation's."""
    stmt = select(*[getattr(AppraisalCase, c) for c in LIST_COLUMNS]).order_by(AppraisalCase.updated_at.desc())
    if org_code:
        stmt = stmt.where(AppraisalCase.org_code == org_code.upper())
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=LIST_COLUMNS)
