"""Stored decision cases: validated before they are stored, every write audited."""

from __future__ import annotations

import pytest

from partnering.appraise.saved import get_case, list_cases, save_case, update_case
from partnering.errors import IngestError, NotFoundError
from partnering.store.audit import audit_frame

pytestmark = pytest.mark.unit

TEXT = """
[case]
title = "Buddying for ZA1"
org_code = "ZA1"
price_base_year = 2026

[[options]]
key = "bau"
name = "Business as usual"
kind = "bau"
"""


def test_save_update_read_and_audit(engine):
    cid = save_case(engine, TEXT, "analyst@test")
    got = get_case(engine, cid)
    assert got["org_code"] == "ZA1" and got["toml"] == TEXT and got["created_by"] == "analyst@test"
    update_case(engine, cid, TEXT.replace("Buddying for ZA1", "Options for ZA1"), "admin@test")
    assert list_cases(engine, "za1")["title"].tolist() == ["Options for ZA1"]
    events = audit_frame(engine, action="appraise.case")
    assert events["action"].tolist() == ["appraise.case.update", "appraise.case.create"]
    assert events["actor"].tolist() == ["admin@test", "analyst@test"]
    assert "Buddying for ZA1" in events["before"].iloc[0]


def test_an_invalid_case_is_not_stored(engine):
    with pytest.raises(IngestError):
        save_case(engine, TEXT.replace('kind = "bau"', 'kind = "x"'), "a")
    assert list_cases(engine).empty
    with pytest.raises(NotFoundError):
        update_case(engine, 999, TEXT, "a")
