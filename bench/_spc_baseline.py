"""A straightforward per-series pandas implementation of the same SPC rules (the baseline).

Written independently of ``partnering.measure.spc`` (it shares none of its code) so that the
benchmark and the property tests can check the vectorised engine against it: loop over series,
then over rebase groups, and use pandas ``diff``/``rolling`` inside each group, the way an
analyst would write it. Semantics: NHSRplotthedots 0.2.2, plus the engine's documented choice
that a missing value breaks a trend.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

_DIRECTION = {"increase": 1, "neutral": 0, "decrease": -1}


def _mean(values: pd.Series) -> float:
    """Mean of the non-missing values, correctly rounded (R computes it in long double)."""
    v = values.dropna()
    return float(sum(map(Fraction, v)) / len(v)) if len(v) else np.nan


def _mean_range(values: pd.Series) -> float:
    """Mean of the non-missing moving ranges (only compared to 1e-9, so plain fsum)."""
    v = values.dropna()
    return math.fsum(v) / len(v) if len(v) else np.nan


def _group(y: pd.Series, fix_after: float, screen: bool, trend_points: int, counts_outside: bool) -> pd.DataFrame:
    n = len(y)
    pos = pd.Series(np.arange(n), index=y.index)
    fix_y = y.where(pos < fix_after)
    mean = _mean(fix_y)
    mr = fix_y.diff().abs()
    amr = _mean_range(mr)
    if screen:
        mr = mr.where(mr < 3.267 * amr)
        amr = _mean_range(mr)
    lpl, upl = mean - 2.66 * amr, mean + 2.66 * amr
    lo2, hi2 = mean - 2 * (2.66 / 3) * amr, mean + 2 * (2.66 / 3) * amr
    present = y.notna() & pd.notna(upl)
    outside = ((y > upl) | (y < lpl)) & present
    rtm = np.sign(y - mean).fillna(0)
    beyond = ((y < lo2) | (y > hi2)) & present
    close = beyond & ~outside
    rule_close = beyond if counts_outside else close

    def part_of(end_flags: pd.Series, length: int) -> pd.Series:
        # a point belongs to a run when a run ends at it or within the next length-1 points
        return end_flags[::-1].astype(float).rolling(length, min_periods=1).max()[::-1] > 0

    step = np.sign(y.diff())
    up_end = (step == 1).astype(float).rolling(trend_points - 1).sum() == trend_points - 1
    down_end = (step == -1).astype(float).rolling(trend_points - 1).sum() == trend_points - 1
    trend = part_of(up_end | down_end, trend_points)
    left = step.fillna(0)
    right = step.shift(-1)
    right.iloc[-1:] = step.iloc[-1:]
    use_right = trend & trend.shift(-1, fill_value=False)
    trend_up = np.where(use_right, right, left) == 1

    same = (rtm == rtm.shift()) & (rtm != 0)
    shift_end = (same.astype(float).rolling(6).sum() == 6) & (rtm != 0)
    shift = part_of(shift_end, 7)

    window_end = (rule_close.astype(float).rolling(3).sum() >= 2) & (rtm.rolling(3).sum().abs() == 3)
    two3 = part_of(window_end, 3) & rule_close

    above = rtm > 0
    label = np.select(
        [outside, trend, two3, shift],
        [
            np.where(rtm == 1, "Above UCL", "Below LCL"),
            np.where(trend_up, f"{trend_points} Point Trend (Increasing)", f"{trend_points} Point Trend (Decreasing)"),
            np.where(above, "2 in 3 Above CL", "2 in 3 Below CL"),
            np.where(above, "7 Points Above CL", "7 Points Below CL"),
        ],
        "Common Cause",
    )
    return pd.DataFrame(
        {
            "y": y,
            "mean": mean,
            "lpl": lpl,
            "upl": upl,
            "outside_limits": outside.where(present),
            "relative_to_mean": np.sign(y - mean),
            "close_to_limits": close.where(present),
            "special_cause_type": label,
            "short_group_warning": n < 13,
        },
        index=y.index,
    )


def _point_type(label: pd.Series, direction: int) -> pd.Series:
    high = label.str.contains("Above|Increasing")
    low = label.str.contains("Below|Decreasing")
    sign = np.where(high, 1, np.where(low, -1, 0))
    if direction == 0:
        out = np.select(
            [sign > 0, sign < 0], ["special_cause_neutral_high", "special_cause_neutral_low"], "common_cause"
        )
    else:
        oriented = sign * direction
        out = np.select(
            [oriented > 0, oriented < 0], ["special_cause_improvement", "special_cause_concern"], "common_cause"
        )
    return pd.Series(out, index=label.index)


def baseline_spc(
    data: pd.DataFrame,
    options: pd.DataFrame | None = None,
    *,
    improvement_direction: str = "increase",
    target: float | None = None,
    rebase: list | None = None,
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
    trend_points: int = 7,
    two_in_three_counts_outside: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Points and icons, one series at a time. ``options`` columns as ``run_spc`` (rebase ';'-separated)."""
    per_series = {} if options is None else options.set_index("series").to_dict("index")
    frames, icons = [], []
    for series, frame in data.groupby("series", sort=True):
        opt = per_series.get(series, {})
        direction = _DIRECTION[opt.get("improvement_direction") or improvement_direction]
        tgt = opt.get("target", target)
        tgt = np.nan if tgt is None or pd.isna(tgt) else float(tgt)
        fix = opt.get("fix_after_n_points", fix_after_n_points)
        fix = np.inf if fix is None or pd.isna(fix) else float(fix)
        screen = opt.get("screen_outliers", screen_outliers)
        rb = opt.get("rebase", rebase)
        if isinstance(rb, str):
            rb = [d for d in rb.split(";") if d]
        elif rb is None or (isinstance(rb, float) and np.isnan(rb)):
            rb = []
        frame = frame.sort_values("x").reset_index(drop=True)
        x = pd.to_datetime(frame["x"]) if not pd.api.types.is_integer_dtype(frame["x"]) else frame["x"]
        rb_x = pd.to_datetime(pd.Series(rb, dtype=object)) if not pd.api.types.is_integer_dtype(frame["x"]) else rb
        rebase_group = x.isin(list(rb_x)).astype(int).cumsum()
        parts = []
        for idx in frame.groupby(rebase_group, sort=True).groups.values():
            parts.append(
                _group(
                    frame.loc[idx, "y"].astype(float),
                    fix,
                    bool(screen),
                    trend_points,
                    two_in_three_counts_outside,
                )
            )
        out = pd.concat(parts).sort_index()
        out.insert(0, "series", series)
        out.insert(1, "x", x)
        out.insert(2, "rebase_group", rebase_group)
        out["point_type"] = _point_type(out["special_cause_type"], direction)
        out["target"] = tgt
        frames.append(out)
        last = out.iloc[-1]
        pt = last["point_type"]
        variation = {
            "common_cause": "common_cause",
            "special_cause_neutral_high": "neutral_high",
            "special_cause_neutral_low": "neutral_low",
            "special_cause_improvement": "improvement_high" if direction == 1 else "improvement_low",
            "special_cause_concern": "concern_low" if direction == 1 else "concern_high",
        }[pt]
        if np.isnan(tgt) or direction == 0:
            assurance = None
        elif tgt > last["upl"]:
            assurance = "consistent_fail" if direction == 1 else "consistent_pass"
        elif tgt < last["lpl"]:
            assurance = "consistent_pass" if direction == 1 else "consistent_fail"
        else:
            assurance = "inconsistent"
        icons.append({"series": series, "variation_icon": variation, "assurance_type": assurance})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(icons)
