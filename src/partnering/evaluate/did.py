"""Difference-in-differences: two-way fixed effects, an event study with a pre-trend test, and staggered starts.

Methods
-------
* **Two-way fixed effects (TWFE)** ``y_it = a_i + g_t + delta D_it + e_it`` by OLS (statsmodels) on the treated
  units and the comparators (``Panel.donors()``: never treated, not excluded for spillover), with errors clustered
  by unit (Bertrand, Duflo & Mullainathan 2004, "How much should we trust differences-in-differences estimates?",
  *QJE* 119:249-275).  On a balanced panel with one start this equals the 2x2 difference in means (Angrist &
  Pischke 2009, *Mostly Harmless Econometrics*, ch. 5): on Proposition 99 it is -27.349111.
* **Few treated units.**  Cluster-robust errors are far too small when few units are treated (Conley & Taber 2011,
  "Inference with 'difference in differences' with a small number of policy changes", *REStat* 93:113-125;
  MacKinnon & Webb 2017, *J Appl Econometrics* 32:233-254).  With fewer than :data:`FEW_TREATED` treated units the
  interval and p-value come from the Conley-Taber placebo distribution instead: each comparator in turn is treated
  as if it had been partnered over the same window, and the spread of those placebo effects is the uncertainty.
* **Event study**: effect by period relative to the start, against the last pre-period (``e = -1``); the
  **pre-trend test** asks whether the leads (``e <= -2``) are jointly zero: a Wald test with the clustered
  covariance when many units are treated, otherwise the placebo rank of the mean squared lead.
* **Staggered starts**: Callaway & Sant'Anna (2021), "Difference-in-differences with multiple time periods",
  *J Econometrics* 225:200-230.  Group-time effects ``ATT(g, t)`` compare units first treated in ``g`` with
  never-treated (``control="never"``) or not-yet-treated (``control="notyet"``) units, each against the group's
  last pre-period ``g - 1`` (the "universal" base period), aggregated to one effect (weights by group size) and by
  event time.  Uncertainty by a unit bootstrap stratified by group (the R package ``did`` uses a multiplier
  bootstrap of the same influence functions).
* **Partnerships that end**: the post-period is truncated at the end (a treated unit's periods after its end are
  left out); the effect after buddying stops is not estimated here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.errors import ValidationError
from partnering.evaluate.panel import Panel
from partnering.evaluate.result import MethodResult

__all__ = ["FEW_TREATED", "callaway_santanna", "event_study", "twfe_did"]

#: Below this many treated units, cluster-robust errors over-reject (MacKinnon & Webb 2017 find rejection rates
#: far above nominal with fewer than about 10 treated clusters), so placebo inference (Conley & Taber 2011) is used.
FEW_TREATED = 10


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _treat_mask(panel: Panel) -> np.ndarray:
    """``D[i, t]``: unit i is treated in period t (from its start to its end, inclusive)."""
    d = np.zeros(panel.y.shape, dtype=bool)
    for u in panel.treated:
        e = panel.end_index(u)
        d[panel.index(u), panel.start_index(u): (None if e is None else e + 1)] = True
    return d


def _analysis_rows(panel: Panel) -> tuple[list[int], np.ndarray]:
    """Rows used (treated + comparators) and a mask of cells kept (observed, not after a treatment's end)."""
    rows = [panel.index(u) for u in panel.treated] + [panel.index(u) for u in panel.donors()]
    keep = np.isfinite(panel.y)
    for u in panel.treated:
        e = panel.end_index(u)
        if e is not None:
            keep[panel.index(u), e + 1:] = False
    return rows, keep


def _twfe_fit(y: np.ndarray, d: np.ndarray, keep: np.ndarray):
    import statsmodels.api as sm

    n, t = y.shape
    ii, tt = np.nonzero(keep)
    x = np.zeros((len(ii), 1 + (n - 1) + (t - 1)))
    x[:, 0] = d[ii, tt]
    unit_cols = ii > 0
    x[np.nonzero(unit_cols)[0], ii[unit_cols]] = 1.0
    time_cols = tt > 0
    x[np.nonzero(time_cols)[0], n - 1 + tt[time_cols]] = 1.0
    x = np.column_stack([np.ones(len(ii)), x])
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # a small solve: BLAS threads only contend (2 cores shared)
        fit = sm.OLS(y[ii, tt], x).fit(method="qr", cov_type="cluster", cov_kwds={"groups": ii})
    return float(fit.params[1]), float(fit.bse[1])


def _placebo_twfe(y: np.ndarray, s: int, e: int | None) -> np.ndarray:
    """DiD of each row of ``y`` (comparators only) treated over [s, e] against the other rows: a balanced-panel
    2x2 difference in means per row, vectorised (NaN cells skipped)."""
    ok = np.isfinite(y)
    tot, cnt = np.where(ok, y, 0).sum(0), ok.sum(0)
    others = (tot[None, :] - np.where(ok, y, 0)) / np.maximum(cnt[None, :] - ok, 1)
    gap = np.where(ok, y - others, np.nan)
    last = y.shape[1] if e is None else e + 1
    return np.nanmean(gap[:, s:last], axis=1) - np.nanmean(gap[:, :s], axis=1)


def _relative_gaps(panel: Panel, rows_t: list[int], rows_c: list[int], keep: np.ndarray) -> np.ndarray:
    """Treated-minus-comparator mean per period (NaN cells and periods after an end skipped)."""
    y = np.where(keep, panel.y, np.nan)
    return np.nanmean(y[rows_t], axis=0) - np.nanmean(y[rows_c], axis=0)


def twfe_did(panel: Panel, level: float = 0.95, inference: str = "auto") -> MethodResult:
    """Two-way fixed-effects DiD of the treated units against ``panel.donors()``.

    ``inference``: ``"cluster"`` (unit-clustered errors), ``"placebo"`` (Conley-Taber), or ``"auto"`` (placebo
    below :data:`FEW_TREATED` treated units).
    """
    from scipy.stats import norm

    if not panel.treated:
        raise ValidationError("difference-in-differences needs a treated unit")
    donors = panel.donors()
    if len(donors) < 2:
        raise ValidationError("difference-in-differences needs at least 2 comparator units")
    rows, keep = _analysis_rows(panel)
    y, d, k = panel.y[rows], _treat_mask(panel)[rows], keep[rows]
    att, se_cl = _twfe_fit(y, d, k)
    z = _z(level)
    n_t = len(panel.treated)
    mode = ("placebo" if n_t < FEW_TREATED else "cluster") if inference == "auto" else inference
    first = panel.treated[0]
    s, e = panel.start_index(first), panel.end_index(first)
    rows_t, rows_c = [panel.index(u) for u in panel.treated], [panel.index(u) for u in donors]
    placebo = _placebo_twfe(np.where(keep[rows_c], panel.y[rows_c], np.nan), s, e)
    placebo = placebo[np.isfinite(placebo)]
    warnings: list[str] = []
    if mode == "placebo":
        a = 1 - level
        lo_q, hi_q = np.quantile(placebo, [a / 2, 1 - a / 2])
        ci = (att - hi_q, att - lo_q)
        p = float((1 + np.sum(np.abs(placebo) >= abs(att))) / (1 + len(placebo)))
        if len(placebo) < 19:
            warnings.append(f"only {len(placebo)} comparators: a placebo interval at {level:.0%} needs at least 19 "
                            "to be meaningful")
    else:
        ci = (att - z * se_cl, att + z * se_cl)
        p = float(2 * norm.sf(abs(att) / se_cl)) if se_cl > 0 else np.nan
    gap = _relative_gaps(panel, rows_t, rows_c, keep)
    last = len(panel.periods) if e is None else e + 1
    pre_mean = np.nanmean(gap[:s])
    post = range(s, last)
    a = 1 - level
    spread = np.quantile(_placebo_gap_matrix(panel.y[rows_c], keep[rows_c], s), [a / 2, 1 - a / 2], axis=0) \
        if mode == "placebo" else None
    gaps = pd.DataFrame({
        "period": [panel.periods[t] for t in post],
        "gap": [float(gap[t] - pre_mean) for t in post],
        **({"low": [float(gap[t] - pre_mean - spread[1][t]) for t in post],
            "high": [float(gap[t] - pre_mean - spread[0][t]) for t in post]} if spread is not None else {}),
    })
    es = event_study(panel, level=level)
    if es["pre_trend_p"] is not None and es["pre_trend_p"] < 0.05:
        warnings.append(f"pre-trends differ (test p = {es['pre_trend_p']:.3f}): treated and comparators were already "
                        "moving apart before the start, so parallel trends is doubtful")
    if s < 12:
        warnings.append(f"short pre-period: {s} periods before the start; parallel trends cannot be checked well")
    if len({panel.starts[u] for u in panel.treated}) > 1:
        warnings.append("staggered starts: TWFE mixes already-treated units into comparisons (Goodman-Bacon 2021); "
                        "read the Callaway-Sant'Anna result")
    assumptions = [
        "Parallel trends: without the partnership the treated unit would have moved like the comparators "
        f"({len(donors)} units).",
        "No spillover: comparators were not affected by the partnership (the supporter and same-ICB trusts are "
        "excluded by default)." if panel.excluded else "No spillover: comparators were not affected by it.",
        "No anticipation: nothing changed before the start because of it.",
        ("Uncertainty from placebo runs (Conley & Taber 2011): each comparator treated as if partnered, because "
         f"errors clustered on {n_t} treated unit(s) would be too small.") if mode == "placebo"
        else "Uncertainty from errors clustered by unit.",
    ]
    if panel.ends:
        assumptions.append("Where the partnership ended, periods after its end are left out (post-period truncated).")
    return MethodResult(
        method="did", att=att, ci_low=float(ci[0]), ci_high=float(ci[1]), level=level, p_value=p, gaps=gaps,
        weights=pd.DataFrame({"unit": donors, "weight": 1.0 / len(donors)}), rmspe_pre=float(
            np.sqrt(np.nanmean((gap[:s] - pre_mean) ** 2))), assumptions=assumptions, warnings=warnings,
        details={"inference": mode, "se_cluster": se_cl, "placebo": placebo.tolist(), "event_study": es["table"],
                 "pre_trend_p": es["pre_trend_p"], "pre_trend_test": es["test"], "comparators": donors},
    )


def _placebo_gap_matrix(yc: np.ndarray, keep: np.ndarray, s: int) -> np.ndarray:
    """Per comparator and period: its gap to the other comparators minus its pre-period mean gap."""
    y = np.where(keep, yc, np.nan)
    ok = np.isfinite(y)
    tot, cnt = np.where(ok, y, 0).sum(0), ok.sum(0)
    others = (tot[None, :] - np.where(ok, y, 0)) / np.maximum(cnt[None, :] - ok, 1)
    gap = np.where(ok, y - others, np.nan)
    return gap - np.nanmean(gap[:, :s], axis=1, keepdims=True)


def event_study(panel: Panel, level: float = 0.95) -> dict:
    """Effects by event time ``e`` (period minus start) against ``e = -1`` for treated units with one start, and a
    pre-trend test of the leads (see the module docstring).  Returns ``{"table", "pre_trend_p", "test"}``."""
    from scipy.stats import chi2

    first = panel.treated[0]
    s = panel.start_index(first)
    rows, keep = _analysis_rows(panel)
    rows_t = [panel.index(u) for u in panel.treated if panel.starts[u] == panel.starts[first]]
    rows_c = [panel.index(u) for u in panel.donors()]
    y = np.where(keep, panel.y, np.nan)
    d_t = y[rows_t] - y[rows_t][:, [s - 1]]
    d_c = y[rows_c] - y[rows_c][:, [s - 1]]
    coef = np.nanmean(d_t, 0) - np.nanmean(d_c, 0)
    n_t, n_c = np.isfinite(d_t).sum(0), np.isfinite(d_c).sum(0)
    e = np.arange(len(panel.periods)) - s
    z = _z(level)
    leads = np.nonzero(e <= -2)[0]
    if len(rows_t) >= FEW_TREATED:
        se = np.sqrt(np.nanvar(d_t, 0, ddof=1) / np.maximum(n_t, 1) + np.nanvar(d_c, 0, ddof=1) / np.maximum(n_c, 1))
        low, high = coef - z * se, coef + z * se
        ok = leads[np.isfinite(coef[leads]) & (se[leads] > 0)]
        stat = float(np.sum((coef[ok] / se[ok]) ** 2)) if len(ok) else np.nan
        p = float(chi2.sf(stat, len(ok))) if len(ok) else None
        test = f"Wald test of {len(ok)} leads = 0 (independent leads assumed)"
    else:
        # placebo: each comparator against the others, same event times
        ok = np.isfinite(y[rows_c])
        tot, cnt = np.where(ok, y[rows_c], 0).sum(0), ok.sum(0)
        others = (tot[None, :] - np.where(ok, y[rows_c], 0)) / np.maximum(cnt[None, :] - ok, 1)
        pl = (y[rows_c] - others)
        pl = pl - pl[:, [s - 1]]
        a = 1 - level
        q = np.nanquantile(pl, [a / 2, 1 - a / 2], axis=0)
        low, high = coef - q[1], coef - q[0]
        if len(leads):
            stat = float(np.nanmean(coef[leads] ** 2))
            pstats = np.nanmean(pl[:, leads] ** 2, axis=1)
            pstats = pstats[np.isfinite(pstats)]
            p = float((1 + np.sum(pstats >= stat)) / (1 + len(pstats)))
        else:
            p = None
        test = "placebo rank of the mean squared lead among comparators (Conley & Taber 2011)"
    table = pd.DataFrame({"event_time": e, "period": list(panel.periods), "coef": coef, "low": low, "high": high})
    table = table[table["event_time"] != -1]
    end = panel.end_index(first)
    if end is not None:
        table = table[table["event_time"] <= end - s]
    return {"table": table.reset_index(drop=True), "pre_trend_p": p, "test": test}


# ------------------------------------------------------------------------------------- Callaway & Sant'Anna


def _cs_cells(panel: Panel, control: str):
    """Per group g: (base index, treated mask N x T, comparator mask N x T, group rows)."""
    n, t = panel.y.shape
    start = np.full(n, np.inf)
    end = np.full(n, np.inf)
    for u in panel.treated:
        start[panel.index(u)] = panel.start_index(u)
        e = panel.end_index(u)
        end[panel.index(u)] = np.inf if e is None else e
    allowed = np.zeros(n, dtype=bool)
    allowed[[panel.index(u) for u in panel.donors(exclude_treated=False)]] = True
    allowed[[panel.index(u) for u in panel.treated]] = True
    never = allowed & ~np.isfinite(start)
    cells = {}
    tt = np.arange(t)
    for g in sorted({int(start[panel.index(u)]) for u in panel.treated}):
        if g < 1:
            continue
        base = g - 1
        members = allowed & (start == g)
        tm = members[:, None] & (tt[None, :] <= end[:, None])
        if control == "never":
            cm = np.repeat(never[:, None], t, axis=1)
        else:
            cm = allowed[:, None] & (start[:, None] > np.maximum(tt[None, :], base)) & (start[:, None] != g)
        cells[g] = (base, tm, cm, members)
    return cells, start


def callaway_santanna(panel: Panel, control: str = "notyet", level: float = 0.95, n_boot: int = 499,
                      seed: int = 0) -> MethodResult:
    """Callaway & Sant'Anna (2021) group-time ATTs, aggregated overall (weights by group size) and by event time.

    ``control``: ``"never"`` (never-treated comparators) or ``"notyet"`` (never- and not-yet-treated).
    """
    from scipy.stats import norm

    if control not in ("never", "notyet"):
        raise ValidationError(f"control must be 'never' or 'notyet', not {control!r}")
    if not panel.treated:
        raise ValidationError("Callaway-Sant'Anna needs a treated unit")
    cells, start = _cs_cells(panel, control)
    if not cells:
        raise ValidationError("no treated group starts after the first period")
    y = panel.y
    n, t = y.shape
    rng = np.random.default_rng(seed)
    # stratified unit bootstrap weights: each group and the rest resampled within themselves
    strata = np.where(np.isfinite(start), start, -1)
    w = np.zeros((n_boot + 1, n))
    w[0] = 1.0
    for s_ in np.unique(strata):
        idx = np.nonzero(strata == s_)[0]
        draws = rng.integers(0, len(idx), size=(n_boot, len(idx)))
        np.add.at(w[1:], (np.repeat(np.arange(n_boot), len(idx)), idx[draws.ravel()]), 1.0)
    tt = np.arange(t)
    att_gt, size_gt = [], []  # per (g, t): (B+1,) estimates, (B+1,) treated weight
    keys = []
    for g, (base, tm, cm, _members) in cells.items():
        d = y - y[:, [base]]
        ok = np.isfinite(d)
        dz = np.where(ok, d, 0.0)
        tm, cm = tm & ok, cm & ok
        num_t, den_t = w @ (dz * tm), w @ tm
        num_c, den_c = w @ (dz * cm), w @ cm
        with np.errstate(invalid="ignore", divide="ignore"):
            est = num_t / den_t - num_c / den_c
        for ti in tt:
            if ti == base or den_t[0, ti] == 0 or den_c[0, ti] == 0:
                continue
            keys.append((g, ti))
            att_gt.append(est[:, ti])
            size_gt.append(den_t[:, ti])
    est = np.array(att_gt).T  # (B+1, cells)
    size = np.array(size_gt).T
    g_arr = np.array([k[0] for k in keys])
    t_arr = np.array([k[1] for k in keys])
    ev = t_arr - g_arr
    post = ev >= 0
    if not post.any():
        raise ValidationError("no post-period cells to aggregate")
    z = _z(level)

    def agg(mask):
        wts = np.where(mask[None, :], size, 0.0)
        e_ = np.where(mask[None, :], np.nan_to_num(est), 0.0)
        return (wts * e_).sum(1) / wts.sum(1)

    overall = agg(post)
    att = float(overall[0])
    se = float(np.nanstd(overall[1:], ddof=1))
    p = float(2 * norm.sf(abs(att) / se)) if se > 0 else np.nan
    dyn = []
    for e_ in np.unique(ev):
        a = agg(ev == e_)
        s_e = float(np.nanstd(a[1:], ddof=1))
        dyn.append({"event_time": int(e_), "coef": float(a[0]), "low": float(a[0] - z * s_e),
                    "high": float(a[0] + z * s_e), "se": s_e})
    dyn = pd.DataFrame(dyn)
    pre = dyn[(dyn["event_time"] < -1)]
    pre_p = None
    if len(pre):
        leads = [agg(ev == e_) for e_ in pre["event_time"]]
        m = np.array(leads)  # (leads, B+1)
        v = np.cov(m[:, 1:])
        v = np.atleast_2d(v)
        stat = float(m[:, 0] @ np.linalg.pinv(v) @ m[:, 0])
        from scipy.stats import chi2

        pre_p = float(chi2.sf(stat, len(pre)))
    gaps = dyn[dyn["event_time"] >= 0][["event_time", "coef", "low", "high"]].rename(columns={"coef": "gap"})
    first_g = min(cells)
    gaps.insert(0, "period", [panel.periods[first_g + int(e_)] if first_g + int(e_) < t else None
                              for e_ in gaps["event_time"]])
    gt = pd.DataFrame({"group": [panel.periods[g] for g in g_arr], "period": [panel.periods[x] for x in t_arr],
                       "att": est[0], "low": est[0] - z * np.nanstd(est[1:], 0, ddof=1),
                       "high": est[0] + z * np.nanstd(est[1:], 0, ddof=1)})
    warnings = []
    small = [panel.periods[g] for g, c in cells.items() if c[3].sum() < 5]
    if small:
        warnings.append(f"few treated units in group(s) starting {', '.join(map(str, small))}: the bootstrap "
                        "resamples them, so it understates the uncertainty; prefer the DiD placebo interval")
    if pre_p is not None and pre_p < 0.05:
        warnings.append(f"pre-trends differ (test p = {pre_p:.3f})")
    return MethodResult(
        method="cs", att=att, ci_low=att - z * se, ci_high=att + z * se, level=level, p_value=p,
        gaps=gaps.reset_index(drop=True), assumptions=[
            "Parallel trends for each start group against "
            + ("never-partnered units." if control == "never" else "units not yet partnered at the time."),
            "Each group is compared with its own last period before the start; groups are weighted by size.",
            "Where a partnership ended, periods after its end are left out (post-period truncated).",
        ], warnings=warnings,
        details={"control": control, "group_time": gt, "event_study": dyn, "pre_trend_p": pre_p, "se": se,
                 "n_boot": n_boot},
    )
