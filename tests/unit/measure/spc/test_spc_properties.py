"""Property tests for the vectorised core (hypothesis).

* many series at once == each series on its own, and == the independent per-series pandas
  baseline (bench/_spc_baseline.py), on random series with random gaps and rebases;
* adding a constant moves the limits by that constant and changes no flag;
* the flagged points of every rule satisfy the rule's definition.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnering.measure.spc import run_spc

pytestmark = pytest.mark.unit

_BASELINE_PATH = Path(__file__).resolve().parents[4] / "bench" / "_spc_baseline.py"
_spec = importlib.util.spec_from_file_location("spc_baseline_impl", _BASELINE_PATH)
baseline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baseline)

COLUMNS = [
    "series",
    "x",
    "rebase_group",
    "mean",
    "lpl",
    "upl",
    "outside_limits",
    "relative_to_mean",
    "close_to_limits",
    "special_cause_type",
    "point_type",
    "short_group_warning",
]


@st.composite
def many_series(draw):
    n_series = draw(st.integers(1, 5))
    frames, options = [], []
    for s in range(n_series):
        n = draw(st.integers(1, 40))
        # small integer grid makes ties, points on the mean and trends likely
        values = draw(st.lists(st.integers(-4, 4) | st.none(), min_size=n, max_size=n))
        scale = draw(st.sampled_from([1.0, 0.5, 1000.0]))
        y = [np.nan if v is None else v * scale for v in values]
        dates = pd.date_range("2021-01-01", periods=n, freq="D")
        frames.append(pd.DataFrame({"series": f"s{s}", "x": dates, "y": y}))
        k = draw(st.integers(0, 2))
        cuts = sorted(set(draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))))
        options.append(
            {
                "series": f"s{s}",
                "improvement_direction": draw(st.sampled_from(["increase", "decrease", "neutral"])),
                "target": draw(st.none() | st.floats(-5, 5)),
                "rebase": ";".join(str(dates[c].date()) for c in cuts),
                "fix_after_n_points": draw(st.none() | st.integers(12, 20)),
                "screen_outliers": draw(st.booleans()),
            }
        )
    data = pd.concat(frames, ignore_index=True)
    order = draw(st.permutations(range(len(data))))
    return data.iloc[list(order)].reset_index(drop=True), pd.DataFrame(options)


def _assert_same_points(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got[COLUMNS].reset_index(drop=True)
    want = want[COLUMNS].reset_index(drop=True)
    for col in COLUMNS:
        g, w = got[col], want[col]
        if col in ("mean", "lpl", "upl"):
            np.testing.assert_allclose(g.to_numpy(float), w.to_numpy(float), rtol=1e-9, atol=1e-9, err_msg=col)
        else:
            gl = [None if pd.isna(v) else v for v in g.astype(object)]
            wl = [None if pd.isna(v) else v for v in w.astype(object)]
            assert gl == wl, col


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(many_series(), st.sampled_from([6, 7]), st.booleans())
def test_vectorised_equals_baseline_and_each_series_alone(case, trend_points, counts_outside):
    data, options = case
    together = run_spc(data, options, trend_points=trend_points, two_in_three_counts_outside=counts_outside)
    points, icons = baseline.baseline_spc(
        data, options, trend_points=trend_points, two_in_three_counts_outside=counts_outside
    )
    _assert_same_points(together.points, points)
    pd.testing.assert_frame_equal(
        together.icons.astype(object).reset_index(drop=True), icons.astype(object), check_dtype=False
    )
    for name, frame in data.groupby("series"):
        alone = run_spc(frame, options[options["series"] == name], trend_points=trend_points)
        if not counts_outside:
            _assert_same_points(alone.points, together.points[together.points["series"] == name])


@_settings
@given(many_series(), st.floats(-1e4, 1e4).filter(lambda c: abs(c) > 1e-3))
def test_adding_a_constant_changes_no_flag(case, constant):
    data, options = case
    # integer-valued data so that the shift is exact in floating point
    constant = float(round(constant))
    before = run_spc(data, options.drop(columns="target")).points
    after = run_spc(data.assign(y=data["y"] + constant), options.drop(columns="target")).points
    for col in ("special_cause_type", "point_type", "outside_limits", "close_to_limits", "relative_to_mean"):
        assert before[col].astype(object).fillna(-9).tolist() == after[col].astype(object).fillna(-9).tolist(), col
    np.testing.assert_allclose(after["mean"] - constant, before["mean"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(after["upl"] - after["lpl"], before["upl"] - before["lpl"], rtol=1e-9, atol=1e-6)


@_settings
@given(many_series())
def test_flags_meet_their_rule_definitions(case):
    data, options = case
    p = run_spc(data, options).points
    label = p["special_cause_type"].astype(str)
    outside = p["outside_limits"].fillna(False).to_numpy(bool)
    assert (label.isin(["Above UCL", "Below LCL"]).to_numpy() == outside).all()
    two3 = label.str.startswith("2 in 3").to_numpy()
    assert p["close_to_limits"].fillna(False).to_numpy(bool)[two3].all()
    shift = label.str.startswith("7 Points").to_numpy()
    rtm = p["relative_to_mean"].fillna(0).to_numpy()
    assert (rtm[shift] != 0).all()
    # every shift point sits in a run of >= 7 same-side points of its group
    key = p["series"].astype(str) + "#" + p["rebase_group"].astype(str)
    run_id = ((rtm != np.roll(rtm, 1)) | (key != key.shift()).to_numpy()).cumsum()
    run_len = pd.Series(run_id).map(pd.Series(run_id).value_counts()).to_numpy()
    assert (run_len[shift] >= 7).all()
    # special_cause_flag agrees with the label, and missing values are never flagged
    assert (p["special_cause_flag"].to_numpy() == (label != "Common Cause").to_numpy()).all()
    assert not p["special_cause_flag"][p["y"].isna()].any()
