"""The audit log belongs to the store: library loads and publishes are audited whichever face made them, and the
store's data version moves with any audited write (so result caches refresh)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from partnering.errors import IngestError
from partnering.ingest.kpi import load_kpi
from partnering.store import audit
from partnering.store import repository as repo

pytestmark = pytest.mark.integration


def _known(engine, code="RWA"):
    with engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame({"org_code": [code], "name": ["Hull"], "kind": ["acute_trust"]}))


def _kpi(tmp_path, name="my-measures.csv", value="12"):
    f = tmp_path / name
    f.write_text(f"org_code,indicator,period,value\nRWA,own_falls_per_1000,2026-01,{value}\n", encoding="utf-8")
    return f


def test_a_load_by_the_library_is_audited_with_the_command_line_user(tmp_path, engine):
    _known(engine)
    rep = load_kpi(_kpi(tmp_path), engine)
    events = audit.audit_frame(engine)
    assert events["action"].tolist() == ["data.load"]
    ev = events.iloc[0]
    assert ev["actor"].startswith("cli:") and ev["target"] == f"batch {rep.batch_id}"
    after = json.loads(ev["after"])
    assert after["kind"] == "kpi" and after["file"] == "my-measures.csv" and after["values_new"] == 1
    # the same bytes again write nothing, so nothing new is audited
    assert load_kpi(_kpi(tmp_path), engine).status == "unchanged"
    assert len(audit.audit_frame(engine)) == 1


def test_a_refused_file_leaves_no_audit_event(tmp_path, engine):
    bad = tmp_path / "bad.csv"
    bad.write_text("org,period\nRWA,2026-01\n", encoding="utf-8")
    with pytest.raises(IngestError):
        load_kpi(bad, engine)
    assert audit.audit_frame(engine).empty


def test_publishing_is_audited_with_its_actor_and_moves_the_data_version(tmp_path, engine):
    _known(engine)
    rep = load_kpi(_kpi(tmp_path), engine, owner_org="RWA", published=False, uploaded_by="analyst@nhs.net")
    assert audit.audit_frame(engine).iloc[0]["actor"] == "analyst@nhs.net"
    before = repo.data_version(engine)
    with engine.begin() as conn:
        assert repo.publish_batch(conn, rep.batch_id, actor="admin@nhs.net") == (1, 0)
    # no batch was added, yet the version moved: the publish is an audited write
    assert repo.data_version(engine) != before
    ev = audit.audit_frame(engine, action="data.publish").iloc[0]
    assert ev["actor"] == "admin@nhs.net" and ev["target"] == f"batch {rep.batch_id}"
    assert json.loads(ev["after"])["values_published"] == 1
    # publishing again changes nothing and is not audited again
    with engine.begin() as conn:
        assert repo.publish_batch(conn, rep.batch_id, actor="admin@nhs.net") == (0, 0)
    assert len(audit.audit_frame(engine, action="data.publish")) == 1


def test_an_audit_event_rolls_back_with_its_transaction(engine):
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            audit.record(conn, "someone", "test.change", "x")
            raise RuntimeError("the change fails")
    assert audit.audit_frame(engine).empty
