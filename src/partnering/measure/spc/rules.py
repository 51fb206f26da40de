"""The Making Data Count rules, each a tiny pure function over flat arrays.

Every function takes values for many series at once, laid out flat and sorted by
(series, rebase group, x), plus ``is_start`` marking the first row of each group (``None`` = one
group). Runs restart at every group start, exactly as NHSRplotthedots applies its rules per facet
and rebase group. The reference's names are kept (``ptd_seven_point_trend`` -> ``seven_point_trend``).

Missing values: a missing value (``NaN`` in ``y``, 0 in ``relative_to_mean``/``close``) breaks
every run and window it falls in. Where the reference returns a result this is what it does; where
it stops with an error (a missing value inside an otherwise monotone 7-point window, R's
``if (NA)``) we return "no trend" for that window instead — see docs/methods/spc.md.
"""

from __future__ import annotations

import numpy as np

from partnering.measure.spc.segments import run_length, spread_back, starts_or_single

#: Length of a shift (run on one side of the mean) and the default trend length (MDC; reference).
RUN_POINTS = 7


def outside_limits(y: np.ndarray, lpl: np.ndarray, upl: np.ndarray) -> np.ndarray:
    """A point strictly above the upper or below the lower process limit."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(y) > upl) | (np.asarray(y) < lpl)


def seven_point_trend(y: np.ndarray, is_start: np.ndarray | None = None, points: int = RUN_POINTS) -> np.ndarray:
    """+1 / -1 at the last point of ``points`` values each strictly above (below) the one before.

    A tie or a missing value breaks the trend. ``points=6`` gives the shorter 6-point trend.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    starts = starts_or_single(is_start, n)
    rising = np.zeros(n, dtype=bool)
    falling = np.zeros(n, dtype=bool)
    if n > 1:
        step = np.diff(y)
        with np.errstate(invalid="ignore"):
            rising[1:] = step > 0
            falling[1:] = step < 0
    rising &= ~starts
    falling &= ~starts
    out = np.zeros(n, dtype=np.int8)
    out[run_length(rising, starts) >= points - 1] = 1
    out[run_length(falling, starts) >= points - 1] = -1
    return out


def part_of_seven_trend(v: np.ndarray, is_start: np.ndarray | None = None, points: int = RUN_POINTS) -> np.ndarray:
    """1 where ``v`` is non-zero at this point or at one of the next ``points - 1`` of its group.

    Turns "a run ends here" markers into "this point belongs to a run" for trends and shifts.
    """
    v = np.asarray(v)
    starts = starts_or_single(is_start, len(v))
    return spread_back(v != 0, starts, points).astype(np.int8)


def seven_point_one_side_mean(
    relative_to_mean: np.ndarray, is_start: np.ndarray | None = None, points: int = RUN_POINTS
) -> np.ndarray:
    """1 at the 7th and later points of a run strictly on one side of the mean (a shift).

    A point on the mean (0) or a missing value (0 / NaN) breaks the run.
    """
    rtm = np.nan_to_num(np.asarray(relative_to_mean, dtype=float), nan=0.0)
    n = len(rtm)
    starts = starts_or_single(is_start, n)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = rtm[1:] == rtm[:-1]
    same &= (rtm != 0) & ~starts
    return ((run_length(same, starts) >= points - 1) & (rtm != 0)).astype(np.int8)


def two_in_three(
    close_to_limits: np.ndarray, relative_to_mean: np.ndarray, is_start: np.ndarray | None = None
) -> np.ndarray:
    """1 where the point lies in some window of 3 consecutive points of its group that are all
    strictly on one side of the mean with at least 2 of them beyond a 2-sigma line."""
    close = np.nan_to_num(np.asarray(close_to_limits, dtype=float), nan=0.0)
    rtm = np.nan_to_num(np.asarray(relative_to_mean, dtype=float), nan=0.0)
    n = len(close)
    starts = starts_or_single(is_start, n)
    out = np.zeros(n, dtype=bool)
    if n < 3:
        return out.astype(np.int8)
    k = n - 2  # windows starting at 0..n-3
    n_close = close[:-2] + close[1:-1] + close[2:]
    side = rtm[:-2] + rtm[1:-1] + rtm[2:]
    within = ~starts[1:-1] & ~starts[2:]
    window = (n_close >= 2) & (np.abs(side) == 3) & within
    out[:k] |= window
    out[1 : k + 1] |= window
    out[2 : k + 2] |= window
    return out.astype(np.int8)


def part_of_two_in_three(two_in_three_flags: np.ndarray, close_to_limits: np.ndarray) -> np.ndarray:
    """Only the points beyond a 2-sigma line in a qualifying window are flagged."""
    close = np.nan_to_num(np.asarray(close_to_limits, dtype=float), nan=0.0)
    return ((np.asarray(two_in_three_flags) == 1) & (np.abs(close) == 1)).astype(np.int8)
