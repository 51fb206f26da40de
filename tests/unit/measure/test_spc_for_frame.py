"""One SPC path for stored observations: the month grid, and the web using the library's function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.measure.assess import assess_frames, month_grid, spc_for_frame

pytestmark = pytest.mark.unit

MONTHS = list(pd.period_range("2023-01", "2024-12", freq="M").strftime("%Y-%m"))
# 47 .. 53 rise over seven reported months (2023-09 .. 2024-04) but 2024-01 is missing: with the gap there are
# runs of four and three rising points, not a seven-point trend
RISING_OVER_A_HOLE = [50, 52, 49, 51, 50, 52, 49, 51, 47, 48, 49, 50, None, 51, 52, 53, 50, 52, 49, 51, 50, 52, 49, 51]
# moving ranges are all 1 on each side of the hole (2023-11); only the step over the hole (11 -> 13) is 2
LEVEL_OVER_A_HOLE = [10, 11] * 5 + [None] + [13, 14] * 6 + [13]


def _obs(values, org="A", indicator="ae_4h_pct_all"):
    df = pd.DataFrame({"org_code": org, "indicator": indicator, "period": MONTHS[: len(values)], "value": values})
    return df[df["value"].notna()].reset_index(drop=True)


def _month(points):
    return pd.to_datetime(points["x"]).dt.strftime("%Y-%m")


def test_month_grid_puts_a_missing_month_back_as_a_missing_value():
    obs = pd.concat([_obs(RISING_OVER_A_HOLE), _obs([1.0, 2.0], org="B")], ignore_index=True)
    grid = month_grid(obs)
    a = grid[grid["org_code"] == "A"].set_index("period")["value"]
    assert list(a.index) == MONTHS  # 24 months, the hole included
    assert np.isnan(a["2024-01"]) and a["2023-12"] == 50 and a["2024-02"] == 51
    # a series is not stretched past its own first and last months
    assert list(grid[grid["org_code"] == "B"]["period"]) == ["2023-01", "2023-02"]


def test_month_grid_refuses_a_period_that_is_not_a_month_and_a_month_given_twice():
    with pytest.raises(ValidationError, match="ISO month"):
        month_grid(pd.DataFrame({"org_code": ["A"], "indicator": ["k"], "period": ["2024-13"], "value": [1.0]}))
    twice = pd.DataFrame({"org_code": "A", "indicator": "k", "period": ["2024-01", "2024-01"], "value": [1.0, 2.0]})
    with pytest.raises(ValidationError, match="more than one value for 2024-01"):
        month_grid(twice)


def test_a_trend_does_not_bridge_a_missing_month_in_the_assessment():
    obs = _obs(RISING_OVER_A_HOLE)
    orgs = pd.DataFrame({"org_code": ["A"], "name": ["Trust A"], "kind": ["acute_trust"]})
    pts = assess_frames(obs, orgs).points.assign(month=_month)
    pts = pts[pts["series"] == "A|ae_4h_pct_all"].set_index("month")
    assert np.isnan(pts.loc["2024-01", "y"])  # the hole is a point without a value
    # bridged, 2023-09 .. 2024-04 would be a seven-point rising trend (special cause improvement for 4-hour %)
    assert (pts.loc["2023-09":"2024-04", "point_type"] == "common_cause").all()
    assert not pts["special_cause_flag"].any()


def test_a_moving_range_does_not_bridge_a_missing_month_in_the_assessment():
    obs = _obs(LEVEL_OVER_A_HOLE, indicator="rtt_within_18w_pct")
    orgs = pd.DataFrame({"org_code": ["A"], "name": ["Trust A"], "kind": ["acute_trust"]})
    a = assess_frames(obs, orgs)
    icon = a.icons.set_index("indicator").loc["rtt_within_18w_pct"]
    # every moving range inside a run is 1, so the limits are the mean +- 2.66 x 1 (bridged: 2.66 x 20/19)
    assert icon["upl"] - icon["mean"] == pytest.approx(2.66)
    assert icon["mean"] - icon["lpl"] == pytest.approx(2.66)
    assert icon["n_points"] == len(obs)  # the gap month is not counted as a point
    assert icon["latest_period"] == MONTHS[len(LEVEL_OVER_A_HOLE) - 1]


def test_library_spc_for_frame_charts_unknown_indicators_neutral_with_no_target():
    obs = pd.concat([_obs(RISING_OVER_A_HOLE), _obs(LEVEL_OVER_A_HOLE, indicator="my_own_kpi")], ignore_index=True)
    pts, icons = spc_for_frame(obs, with_icons=True)
    assert set(icons["series"]) == {"A|ae_4h_pct_all", "A|my_own_kpi"}
    assert list(icons.columns[-2:]) == ["org_code", "indicator"]
    kpi = pts[pts["indicator"] == "my_own_kpi"]
    assert kpi["target"].isna().all()
    four = pts[pts["indicator"] == "ae_4h_pct_all"]
    assert (four["target"] == 78.0).all()  # the catalogue's operational standard
    assert len(four) == len(MONTHS) and four["y"].isna().sum() == 1


def test_the_web_charts_a_frame_through_the_library_function():
    from partnering.web import services

    obs = _obs(LEVEL_OVER_A_HOLE, indicator="my_own_kpi")
    pts, icons = services.spc_for_frame(obs, with_icons=True)
    lib_pts, lib_icons = spc_for_frame(obs, with_icons=True)
    pd.testing.assert_frame_equal(pts, lib_pts)
    pd.testing.assert_frame_equal(icons, lib_icons)
    last = pts.iloc[-1]
    assert last["upl"] - last["mean"] == pytest.approx(2.66)  # the web's own KPI charts see the gap too
