"""The pipeline beyond the conformance cases: ordering, x kinds, the beyond-reference options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.measure.spc import run_spc

pytestmark = pytest.mark.unit


def _series(y, name="a"):
    return pd.DataFrame({"series": name, "x": pd.date_range("2020-01-01", periods=len(y), freq="D"), "y": y})


def test_input_order_does_not_matter_and_output_is_sorted():
    data = pd.concat([_series(np.arange(15.0) % 4, "b"), _series(np.arange(15.0) % 3, "a")])
    shuffled = data.sample(frac=1, random_state=1)
    a = run_spc(data).points
    b = run_spc(shuffled).points
    pd.testing.assert_frame_equal(a, b)
    assert a["series"].tolist() == ["a"] * 15 + ["b"] * 15
    assert a["x"].is_monotonic_increasing or a.groupby("series")["x"].apply(lambda s: s.is_monotonic_increasing).all()


def test_integer_x_and_integer_rebase():
    data = pd.DataFrame({"series": "a", "x": range(1, 21), "y": np.arange(20.0) % 5})
    points = run_spc(data, rebase=[11]).points
    assert points["rebase_group"].tolist() == [0] * 10 + [1] * 10


def test_rebase_on_the_first_point_starts_group_one():
    points = run_spc(_series(np.arange(5.0)), rebase="2020-01-01").points
    assert (points["rebase_group"] == 1).all()


def test_two_in_three_counts_outside_option():
    # 15 quiet points, then one far outside the limits, one just above the mean and one beyond
    # the 2-sigma line: two of three beyond 2 sigma only if the outside point counts (MDC 2023)
    y = [0, 1] * 7 + [0]
    quiet = run_spc(_series(y)).points
    hi2, upl = quiet["upper_2sigma"][0], quiet["upl"][0]
    y2 = [*y, upl + 5, 1.0, (hi2 + upl) / 2]
    ref = run_spc(_series(y2), screen_outliers=True, fix_after_n_points=15).points
    new = run_spc(_series(y2), fix_after_n_points=15, two_in_three_counts_outside=True).points
    assert ref["special_cause_type"].tolist()[-3:] == ["Above UCL", "Common Cause", "Common Cause"]
    assert new["special_cause_type"].tolist()[-3:] == ["Above UCL", "Common Cause", "2 in 3 Above CL"]
    assert "points beyond the limits count too" in new["explanation"].iloc[-1]


def test_six_point_trend_option_relabels():
    y = [4, 2, 5, 1, 2, 3, 4, 5, 6, 3, 5, 2, 4]
    assert run_spc(_series(y)).points["special_cause_flag"].sum() == 0
    six = run_spc(_series(y), trend_points=6).points
    assert six["special_cause_type"].tolist()[3:9] == ["6 Point Trend (Increasing)"] * 6


def test_missing_value_in_monotone_window_returns_a_result():
    # NHSRplotthedots 0.2.2 stops with "missing value where TRUE/FALSE needed" on the window
    # 1, NA, 2, 3, 4, 5, 6; we treat the gap as breaking the trend and carry on
    y = [5, 9, 1, np.nan, 2, 3, 4, 5, 6, 7, 8, 1, 9]
    points = run_spc(_series(y)).points
    assert len(points) == 13
    labels = points["special_cause_type"].tolist()
    assert labels[4:11] == ["7 Point Trend (Increasing)"] * 7
    assert labels[:4] == labels[11:] + ["Common Cause"] * 2 == ["Common Cause"] * 4
    assert points["point_type"][3] == "common_cause" and pd.isna(points["relative_to_mean"][3])


def test_explanations_say_which_rule_and_direction():
    y = [0.0, 1.0] * 8 + [30.0]
    p = run_spc(_series(y), improvement_direction="decrease").points
    text = p["explanation"].iloc[-1]
    assert "above the upper process limit" in text and "Lower is better" in text and "concern" in text
    assert p.loc[~p["special_cause_flag"], "explanation"].eq("").all()
    assert p.loc[p["special_cause_flag"], "explanation"].ne("").all()
    assert "explanation" not in run_spc(_series(y), explain=False).points.columns


def test_short_series_and_single_point():
    p = run_spc(_series([3.0])).points
    assert p["mean"][0] == 3 and np.isnan(p["upl"][0]) and p["short_group_warning"][0]
    assert pd.isna(p["outside_limits"][0]) and p["relative_to_mean"][0] == 0


@pytest.mark.parametrize("kind", ["str", "object", "category", "int"])
def test_series_labels_of_any_kind_and_split_blocks(kind):
    a, b = _series(np.arange(14.0) % 5, "a"), _series(np.arange(14.0) % 3, "b")
    # series "a" arrives in two blocks, separated by "b"
    data = pd.concat([a.iloc[:7], b, a.iloc[7:]], ignore_index=True)
    data["series"] = data["series"].map({"a": 1, "b": 2}) if kind == "int" else data["series"].astype(kind)
    points = run_spc(data).points
    want = run_spc(pd.concat([a, b], ignore_index=True)).points
    assert points["special_cause_type"].astype(str).tolist() == want["special_cause_type"].astype(str).tolist()
    np.testing.assert_allclose(points["upl"], want["upl"])
    assert points["series"].astype(str).tolist() == (
        ["1"] * 14 + ["2"] * 14 if kind == "int" else ["a"] * 14 + ["b"] * 14
    )
