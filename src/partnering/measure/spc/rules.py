"""The Making Data Count rules, each a tiny pure function over flat arrays.

Every function takes values for many series at once, laid out flat and sorted by
(series, rebase group, x), plus ``is_start`` marking the first row of each group (``None`` = one
group). Runs restart at every group start, exactly as NHSRplotthedots applies its rules per facet
and rebase group. The reference's names are kept (``ptd_seven_point_trend`` -> ``seven_point_trend``)
and so are its return conventions (0/1 or -1/0/1 per point); the ``*_flags`` variants return the
booleans the engine uses.

Missing values: a missing value (``NaN`` in ``y``, 0 in ``relative_to_mean``/``close``) breaks
every run and window it falls in. Where the reference returns a result this is what it does; where
it stops with an error (a missing value inside an otherwise monotone 7-point window, R's
``if (NA)``) we return "no trend" for that window instead — see docs/methods/spc.md.
"""

from __future__ import annotations

import numpy as np

from partnering.measure.spc.segments import spread_back, starts_or_single, window_all, window_any_ahead

#: Length of a shift (run on one side of the mean) and the default trend length (MDC; reference).
RUN_POINTS = 7


def outside_limits(y: np.ndarray, lpl: np.ndarray, upl: np.ndarray) -> np.ndarray:
    """A point strictly above the upper or below the lower process limit."""
    y = np.asarray(y, dtype=float)
    return (y > upl) | (y < lpl)


def steps(y: np.ndarray, is_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rising, falling): the step from the previous point of the same group is strictly up/down.

    False at group starts and next to missing values.
    """
    n = len(y)
    rising = np.zeros(n, dtype=bool)
    falling = np.zeros(n, dtype=bool)
    if n > 1:
        rising[1:] = y[1:] > y[:-1]
        falling[1:] = y[1:] < y[:-1]
    rising &= ~is_start
    falling &= ~is_start
    return rising, falling


def trend_end_flags(rising: np.ndarray, falling: np.ndarray, points: int = RUN_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(up, down): the point ends ``points`` values each strictly above (below) the one before."""
    return window_all(rising, points - 1), window_all(falling, points - 1)


def seven_point_trend(y: np.ndarray, is_start: np.ndarray | None = None, points: int = RUN_POINTS) -> np.ndarray:
    """+1 / -1 at the last point of ``points`` values each strictly above (below) the one before.

    A tie or a missing value breaks the trend. ``points=6`` gives the shorter 6-point trend.
    """
    y = np.asarray(y, dtype=float)
    up, down = trend_end_flags(*steps(y, starts_or_single(is_start, len(y))), points)
    return up.astype(np.int8) - down.astype(np.int8)


def part_of_run_flags(end_flags: np.ndarray, points: int = RUN_POINTS) -> np.ndarray:
    """Every point of a run whose end is flagged (runs never cross a group start)."""
    return window_any_ahead(end_flags, points)


def part_of_seven_trend(v: np.ndarray, is_start: np.ndarray | None = None, points: int = RUN_POINTS) -> np.ndarray:
    """1 where ``v`` is non-zero at this point or at one of the next ``points - 1`` of its group.

    Turns "a run ends here" markers into "this point belongs to a run" for trends and shifts.
    """
    v = np.asarray(v)
    return spread_back(v != 0, starts_or_single(is_start, len(v)), points).astype(np.int8)


def shift_end_flags(relative_to_mean: np.ndarray, is_start: np.ndarray, points: int = RUN_POINTS) -> np.ndarray:
    """The point ends a run of ``points`` values strictly on one side of the mean (int8 -1/0/1 in)."""
    rtm = relative_to_mean
    same = np.zeros(len(rtm), dtype=bool)
    if len(rtm) > 1:
        same[1:] = rtm[1:] == rtm[:-1]
    same &= (rtm != 0) & ~is_start
    return window_all(same, points - 1)


def seven_point_one_side_mean(
    relative_to_mean: np.ndarray, is_start: np.ndarray | None = None, points: int = RUN_POINTS
) -> np.ndarray:
    """1 at the 7th and later points of a run strictly on one side of the mean (a shift).

    A point on the mean (0) or a missing value (0 / NaN) breaks the run.
    """
    rtm = np.nan_to_num(np.asarray(relative_to_mean, dtype=float), nan=0.0).astype(np.int8)
    return shift_end_flags(rtm, starts_or_single(is_start, len(rtm)), points).astype(np.int8)


def two_in_three_flags(close: np.ndarray, relative_to_mean: np.ndarray, is_start: np.ndarray) -> np.ndarray:
    """Boolean form of :func:`two_in_three` (``close`` bool, ``relative_to_mean`` int8)."""
    n = len(close)
    out = np.zeros(n, dtype=bool)
    if n < 3:
        return out
    c = close.view(np.int8) if close.dtype == bool else close.astype(np.int8)
    r = relative_to_mean.astype(np.int8, copy=False)
    n_close = c[:-2] + c[1:-1] + c[2:]
    side = r[:-2] + r[1:-1] + r[2:]
    window = (n_close >= 2) & ((side == 3) | (side == -3)) & ~is_start[1:-1] & ~is_start[2:]
    out[:-2] |= window
    out[1:-1] |= window
    out[2:] |= window
    return out


def two_in_three(
    close_to_limits: np.ndarray, relative_to_mean: np.ndarray, is_start: np.ndarray | None = None
) -> np.ndarray:
    """1 where the point lies in some window of 3 consecutive points of its group that are all
    strictly on one side of the mean with at least 2 of them beyond a 2-sigma line."""
    close = np.nan_to_num(np.asarray(close_to_limits, dtype=float), nan=0.0) != 0
    rtm = np.nan_to_num(np.asarray(relative_to_mean, dtype=float), nan=0.0).astype(np.int8)
    return two_in_three_flags(close, rtm, starts_or_single(is_start, len(close))).astype(np.int8)


def part_of_two_in_three(two_in_three_flags: np.ndarray, close_to_limits: np.ndarray) -> np.ndarray:
    """Only the points beyond a 2-sigma line in a qualifying window are flagged."""
    close = np.nan_to_num(np.asarray(close_to_limits, dtype=float), nan=0.0)
    return ((np.asarray(two_in_three_flags) == 1) & (np.abs(close) == 1)).astype(np.int8)
