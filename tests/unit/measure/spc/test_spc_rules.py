"""Rules over several groups at once: runs restart at every group start."""

from __future__ import annotations

import numpy as np
import pytest

from partnering.measure.spc.rules import (
    part_of_seven_trend,
    part_of_two_in_three,
    seven_point_one_side_mean,
    seven_point_trend,
    two_in_three,
)

pytestmark = pytest.mark.unit


def test_trend_does_not_cross_a_group_start():
    y = np.arange(10.0)
    starts = np.zeros(10, bool)
    starts[[0, 4]] = True  # groups of 4 and 6 rising points: neither reaches 7
    assert not seven_point_trend(y, starts).any()
    assert seven_point_trend(y).tolist() == [0] * 6 + [1] * 4


def test_six_point_trend_option():
    y = np.array([5, 1, 2, 3, 4, 5, 6, 0.0])
    assert seven_point_trend(y).tolist() == [0] * 8
    assert seven_point_trend(y, points=6).tolist() == [0, 0, 0, 0, 0, 0, 1, 0]
    assert part_of_seven_trend(seven_point_trend(y, points=6), points=6).tolist() == [0, 1, 1, 1, 1, 1, 1, 0]


def test_missing_value_inside_a_monotone_window_breaks_the_trend():
    """The reference stops with an error here (R's if (NA)); we return 'no trend'."""
    y = np.array([1, 2, 3, np.nan, 5, 6, 7, 8.0])
    assert not seven_point_trend(y).any()


def test_shift_needs_seven_and_a_point_on_the_mean_breaks_it():
    rtm = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1.0])
    flags = seven_point_one_side_mean(rtm)
    assert flags.tolist() == [0] * 10 + [1]
    assert part_of_seven_trend(flags).tolist() == [0] * 4 + [1] * 7


def test_shift_restarts_at_group_start():
    rtm = np.ones(10)
    starts = np.zeros(10, bool)
    starts[5] = True
    assert not seven_point_one_side_mean(rtm, starts).any()


def test_two_in_three_windows_stay_inside_groups():
    close = np.array([0, 1, 1, 0.0])
    rtm = np.ones(4)
    starts = np.array([True, False, True, False])
    assert two_in_three(close, rtm, starts).tolist() == [0, 0, 0, 0]
    assert two_in_three(close, rtm).tolist() == [1, 1, 1, 1]
    assert part_of_two_in_three(two_in_three(close, rtm), close).tolist() == [0, 1, 1, 0]


def test_missing_values_count_as_breaks_in_two_in_three():
    close = np.array([1, np.nan, 1.0])
    rtm = np.array([1, np.nan, 1.0])
    assert not two_in_three(close, rtm).any()
