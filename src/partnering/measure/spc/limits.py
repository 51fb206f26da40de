"""XmR (individuals and moving range) limits, per (series, rebase group), vectorised.

Constants (Wheeler, *Understanding Variation*, 2nd ed., 2000; Wheeler & Chambers,
*Understanding Statistical Process Control*, 1992):

* ``2.66 = 3 / d2`` with ``d2 = 1.128`` for moving ranges of two points: the natural process
  limits are ``mean ± 2.66 × average moving range`` (three sigma);
* ``3.267 = D4`` for n = 2: the upper range limit, used to screen out moving ranges that are
  themselves special causes before the limits are computed (NHSRplotthedots ``screen_outliers``);
* the 2-sigma lines are two thirds of the way to the limits: ``mean ± 2 × (2.66 / 3) × mean MR``
  (NHSRplotthedots ``limitclose``), used by the two-in-three rule.

Semantics follow NHSRplotthedots 0.2.2 (``ptd_spc_standard``): the mean uses only the first
``fix_after_n_points`` rows of a group (counting rows whose value is missing); a missing value
voids the moving ranges on both sides of it; limits are not clamped at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from partnering.measure.spc.segments import Segments

#: 3 / d2 with d2 = 1.128 (Wheeler). The reference uses the rounded 2.66.
LIMIT_FACTOR = 2.66
#: D4 for moving ranges of size 2 (Wheeler); moving ranges at or above 3.267 x mean MR are screened.
SCREEN_FACTOR = 3.267
#: two thirds of the way from the mean to the limits: the 2-sigma lines (NHSRplotthedots limitclose).
TWO_SIGMA_FACTOR = 2 * (LIMIT_FACTOR / 3)


@dataclass
class Limits:
    """Per-row centre line, process limits and 2-sigma lines."""

    mean: np.ndarray
    lpl: np.ndarray
    upl: np.ndarray
    lower_2sigma: np.ndarray
    upper_2sigma: np.ndarray
    sigma: np.ndarray  # sigma estimate: per segment for XmR (mean MR / 1.128), per row for P/U/C


def fixed_values(y: np.ndarray, segments: Segments, fix_after_rows: np.ndarray) -> np.ndarray:
    """``y`` with rows after the first ``fix_after_n_points`` of each group set missing."""
    if not np.isfinite(fix_after_rows).any():
        return y
    return np.where(segments.pos < fix_after_rows, y, np.nan)


def moving_ranges(values: np.ndarray, is_start: np.ndarray) -> np.ndarray:
    """``|y_t - y_{t-1}|`` within each segment; NaN at segment starts and next to missing values."""
    mr = np.empty_like(values)
    if len(values):
        mr[0] = np.nan
        np.subtract(values[1:], values[:-1], out=mr[1:])
        np.abs(mr, out=mr)
        mr[is_start] = np.nan
    return mr


def mean_moving_range(mr: np.ndarray, segments: Segments, screen_rows: np.ndarray) -> np.ndarray:
    """Mean moving range per segment, after screening (where asked) ranges >= 3.267 x the mean once."""
    # one pass is enough here: limits are never compared for equality the way the mean is
    amr = segments.nanmean(mr, refine=False)
    if not screen_rows.any():
        return amr
    keep = mr < segments.broadcast(SCREEN_FACTOR * amr)
    if not screen_rows.all():
        keep |= ~screen_rows
    return segments.nanmean(np.where(keep, mr, np.nan), refine=False)


def xmr_limits(y: np.ndarray, segments: Segments, fix_after_rows: np.ndarray, screen_rows: np.ndarray) -> Limits:
    """Mean, process limits and 2-sigma lines for every row.

    ``fix_after_rows`` (float, ``inf`` = not fixed) and ``screen_rows`` (bool) are per row.
    """
    fy = fixed_values(y, segments, fix_after_rows)
    mean = segments.nanmean(fy)
    amr = mean_moving_range(moving_ranges(fy, segments.is_start), segments, screen_rows)
    spread = LIMIT_FACTOR * amr
    close = TWO_SIGMA_FACTOR * amr
    b = segments.broadcast
    return Limits(
        mean=b(mean),
        lpl=b(mean - spread),
        upl=b(mean + spread),
        lower_2sigma=b(mean - close),
        upper_2sigma=b(mean + close),
        sigma=amr / 1.128,
    )


@dataclass
class Position:
    """Where each point sits against its limits (comparisons strict, as in the reference)."""

    outside_limits: np.ndarray  # bool, False where unknown
    relative_to_mean: np.ndarray  # int8 -1/0/1, 0 where unknown
    close_to_limits: np.ndarray  # bool: beyond a 2-sigma line, inside the limits
    beyond_2sigma: np.ndarray  # bool: beyond a 2-sigma line (inside or outside the limits)
    limits_known: np.ndarray  # the value and the limits exist (else outside/close are "missing")
    mean_known: np.ndarray  # the value and the mean exist (else relative_to_mean is "missing")


def position_flags(y: np.ndarray, limits: Limits) -> Position:
    """Compare each value with its mean, 2-sigma lines and process limits."""
    above = y > limits.upl
    outside = above | (y < limits.lpl)
    beyond = (y < limits.lower_2sigma) | (y > limits.upper_2sigma)
    rtm = (y > limits.mean).view(np.int8) - (y < limits.mean).view(np.int8)
    present = ~np.isnan(y)
    known = present & ~np.isnan(limits.upl)
    # NaN comparisons are False, so outside/beyond are already False where unknown
    return Position(outside, rtm, beyond & ~outside, beyond, known, present & ~np.isnan(limits.mean))
