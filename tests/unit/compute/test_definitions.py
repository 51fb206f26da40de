"""The record-level definitions on DuckDB against figures worked out by hand from the worked example
(partnering.compute.example; the reasoning for each record is beside it there and in docs/record-level.md)."""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from partnering.compute.example import KNOWN_ORGS, write_example
from partnering.compute.run import COLUMNS, compute_indicators
from partnering.definitions import periods
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = write_example(tmp_path_factory.mktemp("example"))
    return compute_indicators(folder, "duckdb", KNOWN_ORGS)


def _value(result, indicator, period):
    t = result.indicators
    row = t[(t["org_code"] == "R1A") & (t["indicator"] == indicator) & (t["period"] == period)]
    assert len(row) == 1, (indicator, period)
    return row.iloc[0]


def test_columns_and_order(example):
    assert list(example.indicators.columns) == COLUMNS
    assert set(example.indicators["org_code"]) == {"R1A"}  # R9Z exists nowhere: its record is rejected


@pytest.mark.parametrize("indicator, period, numerator, denominator, value", [
    # January: records 1, 2, 3, 5, 4 and 12 are accepted (6 attendances; 4 type 1, 1 type 2, 1 type 3)
    ("ae_attendances_total", "2025-01", None, None, 6),
    ("ae_attendances_type1", "2025-01", None, None, 4),
    ("ae_attendances_type2", "2025-01", None, None, 1),
    ("ae_attendances_other", "2025-01", None, None, 1),
    ("ae_over_4h_total", "2025-01", None, None, 3),          # records 2, 3, 5 (record 1 is exactly 4 hours)
    ("ae_over_4h_type1", "2025-01", None, None, 2),          # records 2, 3
    ("ae_4h_pct_all", "2025-01", 3, 6, 50.0),                # records 1, 4, 12 of 6
    ("ae_4h_pct_type1", "2025-01", 2, 4, 50.0),              # records 1, 12 of 4
    ("ae_4h_pct_type2", "2025-01", 0, 1, 0.0),
    ("ae_4h_pct_other", "2025-01", 1, 1, 100.0),
    ("ae_12h_from_arrival_pct", "2025-01", 1, 4, 25.0),      # record 3 (13 hours)
    ("ae_emergency_admissions_via_ae", "2025-01", None, None, 2),  # records 2, 3
    ("ae_dta_over_4h", "2025-01", None, None, 1),            # record 3 (record 2 waited 3 h 0 min 1 s)
    ("ae_dta_over_12h", "2025-01", None, None, 1),           # record 3 (12.5 hours)
    ("ae_attendances_total", "2025-02", None, None, 1),      # record 13 arrived at 00:00 on 1 February
    # RTT census 31 January: pathways 1 (126 days), 2 (127 days), 3 (365 days) are waiting
    ("rtt_incomplete_pathways", "2025-01", None, None, 3),
    ("rtt_within_18w_pct", "2025-01", 1, 3, 100 / 3),
    ("rtt_over_52w", "2025-01", None, None, 1),
    # census 28 February: pathways 1, 2, 3 and 5 (27 days) are waiting; only 5 is within 18 weeks
    ("rtt_incomplete_pathways", "2025-02", None, None, 4),
    ("rtt_within_18w_pct", "2025-02", 1, 4, 25.0),
    ("rtt_over_52w", "2025-02", None, None, 1),
])
def test_hand_computed_figures(example, indicator, period, numerator, denominator, value):
    row = _value(example, indicator, period)
    assert row["value"] == pytest.approx(value)
    if numerator is None:
        assert np.isnan(row["numerator"]) and np.isnan(row["denominator"])
    else:
        assert (row["numerator"], row["denominator"]) == (numerator, denominator)


def test_every_reject_counted_by_reason(example):
    got = {(r.record_type, r.reason): r.records for r in example.rejected.itertuples()}
    assert got == {
        ("attendances", "duplicate record"): 1, ("attendances", "unknown organisation code"): 1,
        ("attendances", "missing departure time"): 1, ("attendances", "departure before arrival"): 1,
        ("attendances", "unknown department type"): 1, ("attendances", "admitted without a decision to admit time"): 1,
        ("pathways", "duplicate record"): 1, ("pathways", "unknown treatment function"): 1,
        ("pathways", "clock stop before clock start"): 1, ("pathways", "missing clock start"): 1,
    }
    assert example.records == {"attendances": 13, "pathways": 9}  # accepted + rejected = every record read


def test_no_known_organisations_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="no known organisation codes"):
        compute_indicators(write_example(tmp_path), "duckdb", [])


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="no such record set folder"):
        compute_indicators(tmp_path / "nowhere", "duckdb", KNOWN_ORGS)


@given(st.integers(min_value=0, max_value=4_107_542_399))  # 1970-01-01 to 2100-02-28 23:59:59
def test_month_arithmetic_agrees_with_the_calendar(seconds):
    when = pd.Timestamp(seconds, unit="s", tz="UTC")
    assert periods.yyyymm(seconds) == when.year * 100 + when.month


def test_month_arithmetic_on_leap_days_and_edges():
    for y, m, d in ((1970, 1, 1), (2000, 2, 29), (2000, 3, 1), (2024, 2, 29), (2024, 12, 31), (2100, 2, 28)):
        for secs in (calendar.timegm((y, m, d, 0, 0, 0)), calendar.timegm((y, m, d, 23, 59, 59))):
            assert periods.yyyymm(secs) == y * 100 + m


def test_census_day_is_the_last_day_of_the_month():
    assert periods.census_day(202402) == calendar.timegm((2024, 2, 29, 0, 0, 0))
    assert periods.census_day(202412) == calendar.timegm((2024, 12, 31, 0, 0, 0))
    assert periods.label(202503) == "2025-03"
