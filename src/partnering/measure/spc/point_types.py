"""Combine the rules into a special-cause type and a point type per point.

Precedence (NHSRplotthedots ``ptd_special_cause_type``): outside the limits > trend >
two-in-three > shift (7 points one side) > common cause. Codes are small integers; labels use
the reference's spellings exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.measure.spc.segments import starts_or_single

COMMON_CAUSE = 0
ABOVE_UCL, BELOW_LCL = 1, 2
TREND_UP, TREND_DOWN = 3, 4
TWO_IN_THREE_ABOVE, TWO_IN_THREE_BELOW = 5, 6
SHIFT_ABOVE, SHIFT_BELOW = 7, 8

#: +1 for "high" special causes, -1 for "low" ones, by special-cause code.
CODE_SIGN = np.array([0, 1, -1, 1, -1, 1, -1, 1, -1], dtype=np.int8)

POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)


def special_cause_labels(trend_points: int = 7) -> tuple[str, ...]:
    """Labels by code, spelled as the reference (``'7 Point Trend (Increasing)'`` ...)."""
    return (
        "Common Cause",
        "Above UCL",
        "Below LCL",
        f"{trend_points} Point Trend (Increasing)",
        f"{trend_points} Point Trend (Decreasing)",
        "2 in 3 Above CL",
        "2 in 3 Below CL",
        "7 Points Above CL",
        "7 Points Below CL",
    )


def trend_rising(part_of_trend: np.ndarray, rising: np.ndarray, is_start: np.ndarray) -> np.ndarray:
    """True where the trend a point belongs to reads as increasing.

    As the reference: when the next point of the group is also part of a trend the step to it is
    used (so a peak shared by a rising and a falling trend reads as falling), else the step from
    the previous point (none at a group start, read as "decreasing" like the reference).
    ``rising[i]``: the step from row i-1 to row i (same group) is strictly up.
    """
    n = len(part_of_trend)
    use_next = np.zeros(n, dtype=bool)
    rising_next = np.zeros(n, dtype=bool)
    if n > 1:
        use_next[:-1] = part_of_trend[1:] & ~is_start[1:] & part_of_trend[:-1]
        rising_next[:-1] = rising[1:]
    return np.where(use_next, rising_next, rising)


def trend_direction(y: np.ndarray, part_of_trend: np.ndarray, is_start: np.ndarray | None = None) -> np.ndarray:
    """+1 / -1: the direction of the trend each point belongs to (see :func:`trend_rising`)."""
    y = np.asarray(y, dtype=float)
    starts = starts_or_single(is_start, len(y))
    rising = np.zeros(len(y), dtype=bool)
    if len(y) > 1:
        rising[1:] = y[1:] > y[:-1]
    rising &= ~starts
    up = trend_rising(np.asarray(part_of_trend) != 0, rising, starts)
    return np.where(up, 1, -1).astype(np.int8)


def special_cause_code_flags(
    relative_to_mean: np.ndarray,
    outside: np.ndarray,
    trend: np.ndarray,
    trend_up: np.ndarray,
    two_in_three: np.ndarray,
    shift: np.ndarray,
) -> np.ndarray:
    """Special-cause code per point by precedence, from boolean rule flags (int8 codes)."""
    # each rule's code is (base + 1 when low); later rules overwrite earlier ones by precedence
    below = (relative_to_mean <= 0).view(np.int8)  # "Above" needs relative_to_mean > 0
    code = np.zeros(len(below), dtype=np.int8)
    np.copyto(code, below + np.int8(SHIFT_ABOVE), where=shift)
    np.copyto(code, below + np.int8(TWO_IN_THREE_ABOVE), where=two_in_three)
    np.copyto(code, np.int8(TREND_DOWN) - trend_up.view(np.int8), where=trend)
    # outside: "Above UCL" only when relative_to_mean == 1, as the reference
    np.copyto(code, np.int8(BELOW_LCL) - (relative_to_mean == 1).view(np.int8), where=outside)
    return code


def special_cause_code(
    y: np.ndarray,
    relative_to_mean: np.ndarray,
    outside_limits: np.ndarray,
    part_of_trend: np.ndarray,
    part_of_two_in_three: np.ndarray,
    part_of_shift: np.ndarray,
    is_start: np.ndarray | None = None,
) -> np.ndarray:
    """Special-cause code per point by precedence; "Above"/"Below" from ``relative_to_mean``."""
    rtm = np.nan_to_num(np.asarray(relative_to_mean, dtype=float), nan=0.0).astype(np.int8)
    trend = np.asarray(part_of_trend) != 0
    return special_cause_code_flags(
        rtm,
        np.nan_to_num(np.asarray(outside_limits, dtype=float), nan=0.0) != 0,
        trend,
        trend_direction(y, trend, is_start) == 1,
        np.asarray(part_of_two_in_three) != 0,
        np.asarray(part_of_shift) != 0,
    )


def point_type_code(special_cause: np.ndarray, direction: np.ndarray | int) -> np.ndarray:
    """Index into :data:`POINT_TYPES` from the special-cause code and improvement direction
    (1 increase, -1 decrease, 0 neutral; scalar or per point)."""
    sign = CODE_SIGN.take(np.asarray(special_cause))
    direction = np.asarray(direction, dtype=np.int8)
    # lookup on (sign + 1) * 3 + (direction + 1): sign -1/0/1 x direction -1/0/1
    table = np.array(
        [
            1, 4, 2,  # sign -1 (low): decrease -> improvement, neutral -> neutral_low, increase -> concern
            0, 0, 0,  # common cause
            2, 3, 1,  # sign +1 (high): decrease -> concern, neutral -> neutral_high, increase -> improvement
        ],
        dtype=np.int8,
    )  # fmt: skip
    return table.take((sign + 1) * 3 + (direction + 1))


def special_cause_type(codes: np.ndarray, trend_points: int = 7) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(special_cause_labels(trend_points)))


def point_type(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(POINT_TYPES))
