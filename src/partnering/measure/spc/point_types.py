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


def trend_direction(y: np.ndarray, part_of_trend: np.ndarray, is_start: np.ndarray | None = None) -> np.ndarray:
    """+1 / -1: the direction of the trend a point belongs to.

    As the reference: when the next point of the group is also part of a trend the step to it is
    used (so a peak shared by a rising and a falling trend reads as falling), else the step from
    the previous point (0 at a group start, read as "decreasing" like the reference).
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    starts = starts_or_single(is_start, n)
    part = np.asarray(part_of_trend) != 0
    left = np.zeros(n)
    right = np.zeros(n)
    if n > 1:
        step = np.sign(np.diff(y))
        left[1:] = step
        right[:-1] = step
        right[-1] = step[-1]
    left[starts] = 0
    nxt_part = np.zeros(n, dtype=bool)
    nxt_part[:-1] = part[1:] & ~starts[1:]
    sdy = np.where(nxt_part & part, right, left)
    return np.where(sdy == 1, 1, -1).astype(np.int8)


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
    rtm = np.nan_to_num(np.asarray(relative_to_mean, dtype=float), nan=0.0)
    above = rtm > 0
    code = np.zeros(len(rtm), dtype=np.int8)
    shift = np.asarray(part_of_shift) != 0
    code[shift] = np.where(above[shift], SHIFT_ABOVE, SHIFT_BELOW)
    two3 = np.asarray(part_of_two_in_three) != 0
    code[two3] = np.where(above[two3], TWO_IN_THREE_ABOVE, TWO_IN_THREE_BELOW)
    trend = np.asarray(part_of_trend) != 0
    direction = trend_direction(y, trend, is_start)
    code[trend] = np.where(direction[trend] == 1, TREND_UP, TREND_DOWN)
    out = np.nan_to_num(np.asarray(outside_limits, dtype=float), nan=0.0) != 0
    code[out] = np.where(rtm[out] == 1, ABOVE_UCL, BELOW_LCL)
    return code


def point_type_code(special_cause: np.ndarray, direction: np.ndarray | int) -> np.ndarray:
    """Index into :data:`POINT_TYPES` from the special-cause code and improvement direction
    (1 increase, -1 decrease, 0 neutral; scalar or per point)."""
    sign = CODE_SIGN[np.asarray(special_cause)]
    direction = np.broadcast_to(np.asarray(direction, dtype=np.int8), sign.shape)
    oriented = sign * direction
    out = np.zeros(sign.shape, dtype=np.int8)
    out[oriented > 0] = 1
    out[oriented < 0] = 2
    neutral = direction == 0
    out[neutral & (sign > 0)] = 3
    out[neutral & (sign < 0)] = 4
    return out


def special_cause_type(codes: np.ndarray, trend_points: int = 7) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(special_cause_labels(trend_points)))


def point_type(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(POINT_TYPES))
