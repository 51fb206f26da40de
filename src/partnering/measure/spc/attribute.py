"""Attribute charts: P (proportions), U (rates per unit) and C (counts), vectorised.

Formulas: Montgomery, D. C. *Introduction to Statistical Quality Control*, 7th ed. (Wiley,
2012), section 7.2 (the fraction nonconforming / P chart with variable sample size) and
section 7.3 (the C chart for counts and the U chart for counts per unit with variable sample
size). NHS England's *Making Data Count* guidance ("Strengthening your decisions", 2019)
recommends XmR by default and these charts where counts or proportions with very different
denominators are plotted; the rules applied to the points are the same.

* P chart: ``p_i = numerator_i / denominator_i``; centre ``p̄ = Σ numerator / Σ denominator``;
  ``sigma_i = sqrt(p̄ (1 - p̄) / n_i)``.
* U chart: ``u_i = numerator_i / denominator_i``; centre ``ū = Σ numerator / Σ denominator``;
  ``sigma_i = sqrt(ū / n_i)``.
* C chart: ``c_i = y_i``; centre ``c̄ = mean(c)``; ``sigma = sqrt(c̄)``.

Limits are centre ± 3 sigma and the 2-sigma lines centre ± 2 sigma (the same "two thirds of the
way to the limits" as XmR). As Montgomery, limits that fall outside the possible range are
clamped: below 0 to 0 for all three charts, and above 1 to 1 for P. Centre values use the first
``fix_after_n_points`` rows of each group when fixed, as XmR. ``screen_outliers`` does not apply
(there are no moving ranges).
"""

from __future__ import annotations

import numpy as np

from partnering.measure.spc.limits import Limits, fixed_values
from partnering.measure.spc.segments import Segments


def proportion_values(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, missing where either is missing or the denominator is not positive."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ok = (den > 0) & ~np.isnan(num)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def _pooled_rate(
    numerator: np.ndarray, denominator: np.ndarray, segments: Segments, fix_after_rows: np.ndarray
) -> np.ndarray:
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    usable = (den > 0) & ~np.isnan(num) & (segments.pos < fix_after_rows)
    total_num = segments.sum(np.where(usable, num, 0.0))
    total_den = segments.sum(np.where(usable, den, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return segments.broadcast(total_num / total_den)


def _limits(centre: np.ndarray, sigma: np.ndarray, upper_bound: float | None) -> Limits:
    lo, hi = 0.0, np.inf if upper_bound is None else upper_bound
    return Limits(
        mean=centre,
        lpl=np.clip(centre - 3 * sigma, lo, hi),
        upl=np.clip(centre + 3 * sigma, lo, hi),
        lower_2sigma=np.clip(centre - 2 * sigma, lo, hi),
        upper_2sigma=np.clip(centre + 2 * sigma, lo, hi),
        sigma=sigma,
    )


def p_chart_limits(
    numerator: np.ndarray, denominator: np.ndarray, segments: Segments, fix_after_rows: np.ndarray
) -> Limits:
    """P chart (Montgomery 7.2): ``p̄ ± 3 sqrt(p̄(1-p̄)/n_i)``, clamped to [0, 1]."""
    if np.any(np.asarray(numerator, dtype=float) > np.asarray(denominator, dtype=float)):
        raise ValueError("a P chart needs numerator <= denominator")
    p_bar = _pooled_rate(numerator, denominator, segments, fix_after_rows)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(p_bar * (1 - p_bar) / np.where(den > 0, den, np.nan))
    return _limits(p_bar, sigma, 1.0)


def u_chart_limits(
    numerator: np.ndarray, denominator: np.ndarray, segments: Segments, fix_after_rows: np.ndarray
) -> Limits:
    """U chart (Montgomery 7.3): ``ū ± 3 sqrt(ū/n_i)``, clamped at 0."""
    u_bar = _pooled_rate(numerator, denominator, segments, fix_after_rows)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(u_bar / np.where(den > 0, den, np.nan))
    return _limits(u_bar, sigma, None)


def c_chart_limits(counts: np.ndarray, segments: Segments, fix_after_rows: np.ndarray) -> Limits:
    """C chart (Montgomery 7.3): ``c̄ ± 3 sqrt(c̄)``, clamped at 0."""
    c = np.asarray(counts, dtype=float)
    c_bar = segments.broadcast(segments.nanmean(fixed_values(c, segments, fix_after_rows)))
    return _limits(c_bar, np.sqrt(c_bar), None)
