"""Values of merged trusts without numerator and denominator are weighted, not averaged (issue #9.6).

A merger fixture: trusts AAA (large) and BBB (small) closed and became CCC.  Before the fix ``observations_frame``
averaged their median waits unweighted (20 weeks here); weighted by each trust's waiting list it is 12 weeks.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from partnering.store import repository as repo

pytestmark = pytest.mark.unit

MONTH = "2025-03"


def _store(engine, rows):
    with engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame([
            {"org_code": "AAA", "name": "BIG TRUST", "kind": "acute_trust", "close_date": date(2024, 4, 1)},
            {"org_code": "BBB", "name": "SMALL TRUST", "kind": "acute_trust", "close_date": date(2024, 4, 1)},
            {"org_code": "CCC", "name": "MERGED TRUST", "kind": "acute_trust"},
            {"org_code": "DDD", "name": "OTHER TRUST", "kind": "acute_trust"},
        ]))
        repo.upsert_successions(conn, pd.DataFrame([
            {"old_code": "AAA", "new_code": "CCC", "effective": date(2024, 4, 1)},
            {"old_code": "BBB", "new_code": "CCC", "effective": date(2024, 4, 1)},
        ]))
        obs = pd.DataFrame(rows, columns=repo.OBS_COLUMNS)
        repo.ensure_indicators(conn, obs["indicator"].unique(), {"kpi_mean_stay_days": "count"})
        bid = repo.create_batch(conn, kind="test", file_name="merger.csv", checksum="x", period=MONTH)
        repo.write_observations(conn, bid, obs)


RTT = [
    ("AAA", "rtt_median_wait_weeks", MONTH, None, None, 10.0),
    ("BBB", "rtt_median_wait_weeks", MONTH, None, None, 30.0),
    ("AAA", "rtt_incomplete_pathways", MONTH, None, None, 900.0),
    ("BBB", "rtt_incomplete_pathways", MONTH, None, None, 100.0),
    ("DDD", "rtt_median_wait_weeks", MONTH, None, None, 7.0),
]


def _value(df, org, code):
    return float(df[(df.org_code == org) & (df.indicator == code)]["value"].iloc[0])


def test_median_wait_of_merged_trusts_is_weighted_by_pathways(sqlite_engine):
    _store(sqlite_engine, RTT)
    df = repo.observations_frame(sqlite_engine)
    assert _value(df, "CCC", "rtt_median_wait_weeks") == pytest.approx((10 * 900 + 30 * 100) / 1000)  # 12, not 20
    assert _value(df, "CCC", "rtt_incomplete_pathways") == 1000  # counts still add up
    assert _value(df, "DDD", "rtt_median_wait_weeks") == 7.0  # an organisation that did not merge is untouched


def test_weights_are_read_even_when_only_the_median_is_asked_for(sqlite_engine):
    _store(sqlite_engine, RTT)
    df = repo.observations_frame(sqlite_engine, ["rtt_median_wait_weeks"], ["CCC"])
    assert list(df["indicator"].unique()) == ["rtt_median_wait_weeks"]
    assert _value(df, "CCC", "rtt_median_wait_weeks") == pytest.approx(12.0)


def test_without_a_weight_the_mean_is_unweighted(sqlite_engine):
    rows = [r for r in RTT if not (r[0] == "BBB" and r[1] == "rtt_incomplete_pathways")]
    _store(sqlite_engine, rows)
    df = repo.observations_frame(sqlite_engine, ["rtt_median_wait_weeks"])
    assert _value(df, "CCC", "rtt_median_wait_weeks") == pytest.approx(20.0)  # nothing says how large BBB was


def test_a_mean_with_a_denominator_is_weighted_by_it(sqlite_engine):
    _store(sqlite_engine, [
        ("AAA", "kpi_mean_stay_days", MONTH, None, 10.0, 5.0),
        ("BBB", "kpi_mean_stay_days", MONTH, None, 30.0, 2.0),
    ])
    df = repo.observations_frame(sqlite_engine, ["kpi_mean_stay_days"])
    assert _value(df, "CCC", "kpi_mean_stay_days") == pytest.approx((5 * 10 + 2 * 30) / 40)  # 2.75, not 3.5
    assert _value(df, "CCC", "kpi_mean_stay_days") != pytest.approx(3.5)


def test_the_weight_of_a_breakdown_is_the_same_part_of_its_parents_weight():
    assert repo.weight_indicator("rtt_median_wait_weeks") == "rtt_incomplete_pathways"
    assert repo.weight_indicator("rtt_p92_wait_weeks:C_100") == "rtt_incomplete_pathways:C_100"
    assert repo.weight_indicator("ae_attendances_total") is None
