"""The two traps of evaluating partnerships: regression to the mean, and spillover onto comparators.

**Regression to the mean.**  Trusts are buddied *because* they were doing badly, and a series picked at a low point
tends to move back towards its mean anyway (Barnett, van der Pols & Dobson 2005, "Regression to the mean: what it
is and how to deal with it", *Int J Epidemiol* 34:215-220).  A before-and-after change, or a comparison with all
other trusts, credits that drift to the partnership.  The check here compares the treated unit with the
comparators that were *as bad before*: the nearest on the level and the trend of the last ``window`` pre-period
points (standardised), the selection window itself (matching on pre-intervention outcomes, as the Health
Foundation's Improvement Analytics Unit does; see also Daw & Hatfield 2018, "Matching and regression to the mean
in difference-in-differences analysis", *Health Serv Res* 53:4138-4156, who warn that matching on levels can
itself create regression to the mean when the groups' long-run means differ, so the check is shown beside the
other methods, not instead of them).  ``att`` is the treated unit's change minus the matched comparators' change
(window to post-period); the interval is a prediction interval from the spread of the matched comparators' own
changes (Student's t, k - 1 degrees of freedom).

**Spillover.**  The supporting trust shares staff and practice with the recipient, and trusts in the same
integrated care board (ICB) share patients, system plans and money; neither is a clean comparator.  By default
they are excluded from comparators, each with its reason, in ``Panel.excluded``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from partnering.errors import ValidationError
from partnering.evaluate.panel import Panel
from partnering.evaluate.result import MethodResult

__all__ = ["RTM_WINDOW", "regression_to_mean_check", "spillover_exclusions", "with_spillover_excluded"]

#: Pre-period points that define "how bad it was": the last 12 months, the span of NHS England's oversight
#: segmentation and of the annual figures on which trusts are picked for support (a year of monthly data).
RTM_WINDOW = 12


def spillover_exclusions(treated: str, supporter: str | None, icb_of: Mapping[str, str | None],
                         units=None) -> dict[str, str]:
    """Units that are not clean comparators for ``treated``: the supporter and units in the same ICB."""
    out: dict[str, str] = {}
    if supporter and supporter != treated:
        out[str(supporter)] = f"the supporter of {treated}: it shares staff and practice with it (spillover)"
    icb = icb_of.get(treated)
    if icb:
        for u, i in icb_of.items():
            if u not in (treated, supporter) and i == icb and (units is None or u in units):
                out[str(u)] = f"in the same ICB ({icb}) as {treated}: shared patients and system plans (spillover)"
    return out


def with_spillover_excluded(panel: Panel, supporter: str | None, icb_of: Mapping[str, str | None]) -> Panel:
    """``panel`` with the spillover exclusions of its treated units added to ``Panel.excluded``."""
    excl = dict(panel.excluded)
    for u in panel.treated:
        for k, v in spillover_exclusions(u, supporter, icb_of, set(panel.units)).items():
            if k not in panel.starts:
                excl.setdefault(k, v)
    return dataclasses.replace(panel, excluded=excl)


def _level_trend(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and least-squares slope of each row (NaN-aware)."""
    t = np.arange(y.shape[1], dtype=float)
    ok = np.isfinite(y)
    n = ok.sum(1)
    lvl = np.where(n > 0, np.nansum(y, 1) / np.maximum(n, 1), np.nan)
    tc = np.where(ok, t[None, :] - (np.where(ok, t, 0).sum(1) / np.maximum(n, 1))[:, None], 0)
    yc = np.where(ok, y - lvl[:, None], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (tc * yc).sum(1) / (tc ** 2).sum(1)
    return lvl, slope


def regression_to_mean_check(panel: Panel, window: int = RTM_WINDOW, k: int = 10, level: float = 0.95
                             ) -> MethodResult:
    """Compare the treated unit's change with that of the ``k`` comparators most like it before the start."""
    if not panel.treated:
        raise ValidationError("the regression-to-the-mean check needs a treated unit")
    unit = panel.treated[0]
    s, e = panel.start_index(unit), panel.end_index(unit)
    last = len(panel.periods) if e is None else e + 1
    w0 = max(0, s - window)
    donors = panel.donors()
    if len(donors) < 3:
        raise ValidationError("the regression-to-the-mean check needs at least 3 comparators")
    rows = [panel.index(unit)] + [panel.index(d) for d in donors]
    pre = panel.y[rows, w0:s]
    lvl, slope = _level_trend(pre)
    post = np.nanmean(panel.y[rows, s:last], axis=1)
    change = post - lvl
    feats = np.column_stack([lvl, slope])
    sd = np.nanstd(feats[1:], axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    dist = np.sqrt(np.nansum(((feats[1:] - feats[0]) / sd) ** 2, axis=1))
    dist = np.where(np.isfinite(change[1:]), dist, np.inf)
    k = min(k, int(np.isfinite(dist).sum()))
    order = np.argsort(dist, kind="stable")[:k]
    matched_change = change[1:][order]
    all_change = change[1:][np.isfinite(change[1:])]
    att = float(change[0] - matched_change.mean())
    # the treated unit's change against the matched mean: a prediction interval for one more unit like them,
    # sd * sqrt(1 + 1/k) with Student's t on k - 1 degrees of freedom
    from scipy.stats import t as student_t

    sd_m = float(np.std(matched_change, ddof=1))
    se = sd_m * np.sqrt(1 + 1 / k)
    q = float(student_t.ppf(0.5 + level / 2, k - 1))
    p = float(2 * student_t.sf(abs(att) / se, k - 1)) if se > 0 else float("nan")
    pct = float(np.mean(lvl[1:] < lvl[0]))
    matched_rows = [rows[1 + i] for i in order]
    per_period = (panel.y[rows[0], s:last] - np.nanmean(panel.y[matched_rows, s:last], 0)
                  - (lvl[0] - lvl[1:][order].mean()))
    naive = float(change[0])
    rtm_part = float(matched_change.mean() - all_change.mean())
    summary = (f"Before the start, {unit} averaged {lvl[0]:.3g} over the last {s - w0} periods (higher than "
               f"{pct:.0%} of comparators). Its change afterwards was {naive:+.3g}. The {k} comparators that were "
               f"most like it before changed by {matched_change.mean():+.3g} on their own, against "
               f"{all_change.mean():+.3g} for all comparators; so {rtm_part:+.3g} of a plain comparison is what "
               f"units like it do anyway (regression to the mean). Net of that: {att:+.3g}.")
    warnings = []
    if k < 10:
        warnings.append(f"only {k} matched comparators: the check is coarse")
    if s - w0 < window:
        warnings.append(f"short pre-period for the regression-to-the-mean check: {s - w0} of {window} points")
    return MethodResult(
        method="rtm", att=att, ci_low=att - q * se, ci_high=att + q * se, level=level, p_value=p,
        gaps=pd.DataFrame({"period": list(panel.periods[s:last]), "gap": per_period}),
        weights=pd.DataFrame({"unit": [donors[i] for i in order], "weight": 1.0 / k,
                              "pre_level": lvl[1:][order], "pre_trend": slope[1:][order],
                              "change": matched_change}),
        assumptions=["Comparators that were as bad (same level and trend over the selection window) would have "
                     "changed like the treated unit without the partnership."],
        warnings=warnings,
        details={"summary": summary, "naive_change": naive, "matched_change": float(matched_change.mean()),
                 "all_change": float(all_change.mean()), "regression_to_mean": rtm_part,
                 "pre_level": float(lvl[0]), "pre_trend": float(slope[0]), "pre_percentile": pct, "window": s - w0},
    )
