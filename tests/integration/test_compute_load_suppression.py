"""Record-level figures into the store and out again (issue #15): the worked example
(:mod:`partnering.compute.example`) computed on DuckDB and loaded by the path ``compute indicators --load`` takes
(:func:`partnering.compute.load.load_indicators`) into a SQLite store that also holds an official A&E figure; the
three indicators only records give are stored, and downloads and exports suppress small derived counts while the
official figure is re-published as published."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from partnering.compute.example import KNOWN_ORGS, write_example
from partnering.compute.load import load_indicators
from partnering.compute.run import compute_indicators
from partnering.ingest.base import Parsed, commit_parsed
from partnering.report.export import derived_mask, export_observations
from partnering.report.suppression import AS_PUBLISHED, DERIVED_SUPPRESSION, RULE_COLUMN, SUPPRESSED
from partnering.store import repository as repo
from partnering.store.publication import DERIVED
from partnering.web.downloads import publishable

pytestmark = pytest.mark.integration

NEW = ("ae_4h_pct_type2", "ae_4h_pct_other", "ae_12h_from_arrival_pct")


def _official(engine, period: str, type2: float):
    """An official A&E figure for R1A as a published monthly file gives it (an ``ae-monthly`` batch, dated by the
    file): ``type2`` type 2 attendances, a small count NHS England publishes unsuppressed."""
    obs = pd.DataFrame({"org_code": ["R1A"], "indicator": ["ae_attendances_type2"], "period": [period],
                        "numerator": [float("nan")], "denominator": [float("nan")], "value": [type2]})
    parsed = Parsed(kind="ae-monthly", file=f"ae-{period}.csv", rows_read=1, observations=obs,
                    published_on=date(2025, 2, 13))
    return commit_parsed(parsed, f"official-{period}", engine)


@pytest.fixture
def store(sqlite_engine, tmp_path):
    with sqlite_engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame({"org_code": ["R1A"], "name": ["Example trust"],
                                                      "kind": ["acute_trust"]}))
    _official(sqlite_engine, "2024-12", 3.0)  # stays official
    _official(sqlite_engine, "2025-01", 4.0)  # superseded by the derived figure (records give 1)
    result = compute_indicators(write_example(tmp_path / "example"), "duckdb", KNOWN_ORGS)
    reports = load_indicators(result, "example-records", sqlite_engine)
    return sqlite_engine, reports


def test_load_stores_the_three_new_indicators_in_their_own_batch(store):
    engine, reports = store
    assert [r.kind for r in reports] == ["ae-monthly", "ae-record-level", "rtt"]
    assert all(r.status == "loaded" and r.rows_rejected == 0 for r in reports)
    batches = repo.batches_frame(engine)
    assert set(batches.loc[batches["kind"] != "ae-monthly", "publication_basis"]) == {DERIVED}
    obs = repo.observations_frame(engine, list(NEW)).set_index(["indicator", "period"])
    # the hand-worked January figures (docs/record-level.md): type 2 0 of 1, types 3-4 1 of 1, 12 hours 1 of 4
    assert obs.loc[("ae_4h_pct_type2", "2025-01"), ["numerator", "denominator", "value"]].tolist() == [0, 1, 0]
    assert obs.loc[("ae_4h_pct_other", "2025-01"), "value"] == 100.0
    assert obs.loc[("ae_12h_from_arrival_pct", "2025-01"), ["numerator", "denominator", "value"]].tolist() == \
        [1, 4, 25.0]
    stored = repo.indicators_frame(engine).set_index("code")
    assert set(stored.loc[list(NEW), "owner"]) == {"ae-record-level"}


def test_a_published_file_cannot_write_the_record_level_indicators(store):
    engine, _ = store
    obs = pd.DataFrame({"org_code": ["R1A"], "indicator": ["ae_12h_from_arrival_pct"], "period": ["2025-01"],
                        "numerator": [1.0], "denominator": [2.0], "value": [50.0]})
    report = commit_parsed(Parsed(kind="ae-monthly", file="ae.csv", rows_read=1, observations=obs), "x", engine)
    assert report.rows_rejected == 1 and report.observations_new == 0
    assert repo.rejected_frame(engine, report.batch_id)["reason"].str.contains("owned by the ae-record-level").all()


def test_downloads_suppress_derived_small_counts_and_keep_official_ones(store):
    engine, _ = store
    obs = repo.observations_frame(engine, ["ae_attendances_type2", "ae_4h_pct_type2", "ae_4h_pct_all"])
    assert derived_mask(engine, obs).tolist() == (obs["period"] != "2024-12").tolist()
    units = repo.indicators_frame(engine).set_index("code")["unit"].to_dict()
    out = publishable(engine, obs, units=units).set_index(["indicator", "period"])
    official = out.loc[("ae_attendances_type2", "2024-12")]
    assert official["value"] == 3 and official[RULE_COLUMN] == AS_PUBLISHED
    derived = out.loc[("ae_attendances_type2", "2025-01")]  # 1 type 2 attendance from records (superseded the 4)
    assert derived["value"] == SUPPRESSED and derived[RULE_COLUMN] == DERIVED_SUPPRESSION
    # a percentage on 1 attendance would reveal it: withheld; ae_4h_pct_all 3 of 6: numerator and denominator hidden
    assert out.loc[("ae_4h_pct_type2", "2025-01"), "value"] == SUPPRESSED
    assert out.loc[("ae_4h_pct_all", "2025-01"), ["numerator", "denominator", "value"]].tolist() == \
        [SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert set(out.loc[out.index.get_level_values("period") != "2024-12", RULE_COLUMN]) == {DERIVED_SUPPRESSION}


def test_export_for_publication_names_the_rule(store, tmp_path):
    engine, _ = store
    path = tmp_path / "obs.csv"
    export_observations(engine, path, indicators=["ae_attendances_type2", "ae_12h_from_arrival_pct"],
                        suppress=True)
    got = pd.read_csv(path, dtype=str, keep_default_na=False).set_index(["indicator", "period"])
    assert got.loc[("ae_attendances_type2", "2024-12"), ["value", RULE_COLUMN]].tolist() == ["3.0", AS_PUBLISHED]
    assert got.loc[("ae_attendances_type2", "2025-01"), ["value", RULE_COLUMN]].tolist() == \
        [SUPPRESSED, DERIVED_SUPPRESSION]
    # 1 of 4 type 1 attendances over 12 hours: the numerator is suppressed, so the percentage is withheld
    assert got.loc[("ae_12h_from_arrival_pct", "2025-01"), ["numerator", "denominator", "value"]].tolist() == \
        [SUPPRESSED, SUPPRESSED, SUPPRESSED]
    # without --suppress the analyst's export keeps every figure
    export_observations(engine, path, indicators=["ae_attendances_type2"])
    raw = pd.read_csv(path, dtype={"period": str}).set_index("period")
    assert raw.loc["2025-01", "value"] == 1 and RULE_COLUMN not in raw


def test_undoing_the_derived_batches_brings_back_the_official_figure(store):
    from partnering.store.undo import undo_batch

    engine, reports = store
    with engine.begin() as conn:
        for r in reversed(reports):
            undo_batch(conn, r.batch_id)
    obs = repo.observations_frame(engine, ["ae_attendances_type2", *NEW]).set_index(["indicator", "period"])
    assert obs["value"].to_dict() == {("ae_attendances_type2", "2024-12"): 3.0,
                                      ("ae_attendances_type2", "2025-01"): 4.0}
    assert not derived_mask(engine, obs.reset_index()).any()
