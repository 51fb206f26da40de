"""The synthetic record set: seeded, chunked, schema as documented, every kind of messiness present."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from partnering.compute import generate as gen
from partnering.compute.run import compute_indicators
from partnering.compute.schema import ATTENDANCE_SCHEMA, PATHWAY_SCHEMA
from partnering.compute.validate import ATTENDANCE_REASONS, PATHWAY_REASONS
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

ORGS = ["RAA", "RBB", "RCC", "RDD"]


def test_same_seed_same_files_and_chunks_bound_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "CHUNK", 20_000)
    a = gen.generate(tmp_path / "a", 60_000, 3, ORGS)
    gen.generate(tmp_path / "b", 60_000, 3, ORGS)
    assert a["attendances"] == 48_000 and a["pathways"] == 12_000
    parts = sorted((tmp_path / "a" / "attendances").glob("*.parquet"))
    assert len(parts) == 3  # one file per chunk of 20,000
    ta, tb = pq.read_table(tmp_path / "a" / "attendances"), pq.read_table(tmp_path / "b" / "attendances")
    assert ta.schema.equals(ATTENDANCE_SCHEMA) and ta.equals(tb)
    assert pq.read_table(tmp_path / "a" / "pathways").schema.equals(PATHWAY_SCHEMA)
    c = gen.generate(tmp_path / "c", 60_000, 4, ORGS)
    assert c["records"] == 60_000 and not pq.read_table(tmp_path / "c" / "attendances").equals(ta)


def test_messiness_is_rejected_never_dropped(tmp_path):
    gen.generate(tmp_path, 200_000, 1, ORGS)
    result = compute_indicators(tmp_path, "duckdb", ORGS)
    reasons = set(result.rejected["reason"])
    # every fault the generator makes shows up under its own reason, and nothing else is rejected
    assert reasons == set(gen.MESSINESS) and reasons <= set(ATTENDANCE_REASONS) | set(PATHWAY_REASONS)
    accepted = result.indicators.query("indicator == 'ae_attendances_total'")["value"].sum()
    rejected = result.rejected.query("record_type == 'attendances'")["records"].sum()
    assert accepted + rejected == 160_000  # no attendance is lost: accepted + rejected = read
    four_hours = result.indicators.query("indicator == 'ae_4h_pct_type1'")
    national = four_hours["numerator"].sum() / four_hours["denominator"].sum() * 100
    assert 50 < national < 70  # about 60% of type 1 within 4 hours, as designed (generate.py docstring)


def test_bad_sizes_are_refused(tmp_path):
    with pytest.raises(ValidationError, match="at least 1"):
        gen.generate(tmp_path, 0, 1, ORGS)
    with pytest.raises(ValidationError, match="no organisations"):
        gen.generate(tmp_path, 10, 1, [])
