"""The same record-level definitions on Apache Spark and DuckDB give identical monthly figures, and SPC run by
Spark groups (applyInPandas) equals the local run.  One local Spark session for the module (local[2], 2 shuffle
partitions, UI off); Spark needs Java 17: on CI (CI=true) a missing Java fails, elsewhere the module skips."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from partnering.cli.compute import spc_for_frame
from partnering.compute import engines
from partnering.compute.example import KNOWN_ORGS, write_example
from partnering.compute.generate import generate
from partnering.compute.run import compute_indicators
from partnering.compute.spc_spark import series_points, spc_on_spark

pytestmark = pytest.mark.integration

ORGS = ["RAA", "RBB", "RCC", "RDD", "REE"]


@pytest.fixture(scope="module")
def spark():
    if engines.java_home() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Spark needs Java 17 on CI (openjdk-17-jre-headless; .ci/run sets JAVA_HOME)")
        pytest.skip("Spark needs Java 17 (no java on PATH, no JAVA_HOME, no /usr/lib/jvm/java-17-openjdk-*)")
    session = engines.spark_session("local[2]", shuffle_partitions=2)
    # tiny data: compiling whole-stage code for 30 sums costs more than it saves (results are the same)
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    generate(folder, 8_000, 11, ORGS, first_period=202404, months=13)
    return folder


def _same(a, b):
    pd.testing.assert_frame_equal(a.indicators, b.indicators, check_exact=True)
    pd.testing.assert_frame_equal(a.rejected, b.rejected, check_exact=True)
    assert a.records == b.records


def test_worked_example_identical_on_spark(spark, tmp_path):
    folder = write_example(tmp_path)
    on_spark = compute_indicators(folder, "spark", KNOWN_ORGS, session=spark)
    _same(on_spark, compute_indicators(folder, "duckdb", KNOWN_ORGS))
    # and one hand figure read straight off Spark's table (tests/unit/compute/test_definitions.py has them all)
    t = on_spark.indicators.set_index(["indicator", "period"])
    assert t.loc[("ae_4h_pct_all", "2025-01"), ["numerator", "denominator"]].tolist() == [3, 6]


def test_generated_records_identical_on_spark(spark, records):
    on_spark = compute_indicators(records, "spark", ORGS, session=spark)
    on_duckdb = compute_indicators(records, "duckdb", ORGS)
    _same(on_spark, on_duckdb)
    assert len(on_duckdb.indicators) > 500 and on_duckdb.rejected_total > 0


def test_spc_on_spark_equals_local(spark, records):
    points = series_points(compute_indicators(records, "duckdb", ORGS).indicators)
    local = spc_for_frame(points)  # one run over every series at once
    distributed = spc_on_spark(spark, points, spc_for_frame)
    pd.testing.assert_frame_equal(distributed, local, check_exact=True, check_dtype=False)
    assert local["series"].nunique() == points["series"].nunique() and local["special_cause_flag"].any()
