"""Interrupted time series: segmented regression of the treated unit's own series, before and after the start.

Method (Bernal, Cummins & Gasparrini 2017, "Interrupted time series regression for the evaluation of public health
interventions: a tutorial", *Int J Epidemiol* 46(1):348-355, doi:10.1093/ije/dyw098; Wagner et al. 2002,
"Segmented regression analysis of interrupted time series studies in medication use research", *J Clin Pharm Ther*
27:299-309)::

    y_t = b0 + b1 t + b2 post_t + b3 (t - s) post_t [+ month-of-year terms] + e_t

``b2`` is the change in level at the start ``s`` and ``b3`` the change in slope.  The effect in post-period ``t``
is ``b2 + b3 (t - s)`` (the gap between the series and its projected pre-period line); ``att`` is its average over
the post-period.

Autocorrelation: by default the errors are modelled as AR(1) and estimated by iterated feasible GLS (statsmodels
``GLSAR``, Cochrane-Orcutt style), with Student t intervals.  Newey-West errors (Newey & West 1987, *Econometrica*
55:703-708; lag ``floor(4 (n/100)^(2/9))``, Newey & West 1994) are available with ``errors="newey-west"``, but in
our simulation study (tests/unit/evaluate/test_its_did_simulation.py: 48 months, AR(1) rho 0.3) they rejected a true
null 15-16% of the time at 5% against 9-11% for AR(1) GLS; Turner et al. (2021), "Evaluation of statistical methods
used in the analysis of interrupted time series studies: a simulation study", *BMC Med Res Methodol* 21:181, found
the same for short series (Newey-West and OLS under-cover; Prais-Winsten and REML do better).

Monthly series get month-of-year terms (Bernal et al. 2017, "seasonality") when the pre-period covers at least
two full years, so each month's effect is estimated from more than one year.

A treatment that ends (buddying stops) has its post-period truncated at the end: later periods are left out.
Several treated units are analysed one by one and their effects averaged (independent errors assumed).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from partnering.errors import ValidationError
from partnering.evaluate.panel import Panel
from partnering.evaluate.result import MethodResult

__all__ = ["MIN_POINTS", "interrupted_time_series", "is_monthly", "newey_west_lags"]

#: Points wanted on each side of the start: Wagner et al. (2002) recommend at least 12 monthly points before and
#: 12 after for segmented regression (fewer gives little power and unstable trend estimates).
MIN_POINTS = 12

_KEPT = ("att", "se", "beta", "se_beta", "lags", "seasonal", "n_pre", "n_post", "rmspe_pre", "durbin_watson", "rho",
         "df")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def is_monthly(periods) -> bool:
    """True when every period is an ISO month (``2024-04``)."""
    return len(periods) > 0 and all(isinstance(p, str) and _MONTH.match(p) for p in periods)


def newey_west_lags(n: int) -> int:
    """Newey & West (1994) automatic lag length: ``floor(4 (n/100)^(2/9))``."""
    return int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _fit_one(y: np.ndarray, periods: tuple, s: int, e: int | None, level: float, seasonal: bool | None,
             errors: str = "ar1"):
    """Segmented regression of one series; returns a dict of estimates (see module docstring)."""
    import statsmodels.api as sm

    last = len(y) if e is None else e + 1
    t_all = np.arange(last, dtype=float)
    yy = y[:last]
    ok = np.isfinite(yy)
    post = (t_all >= s).astype(float)
    n_pre, n_post = int((ok & (post == 0)).sum()), int((ok & (post == 1)).sum())
    if n_pre < 3 or n_post < 1:
        raise ValidationError(f"interrupted time series needs at least 3 observed periods before the start and 1 "
                              f"after (has {n_pre} and {n_post})")
    cols = [np.ones(last), t_all, post, (t_all - s) * post]
    names = ["const", "time", "level_change", "slope_change"]
    monthly = is_monthly(periods)
    if seasonal is None:
        seasonal = monthly and n_pre >= 24
    if seasonal and monthly:
        month = np.array([int(p[5:7]) for p in periods[:last]])
        for m in range(2, 13):  # January is the reference month
            if (month[ok] == m).any():
                cols.append((month == m).astype(float))
                names.append(f"month_{m:02d}")
    x = np.column_stack(cols)
    lags = newey_west_lags(int(ok.sum()))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # a small solve: BLAS threads only contend
        if errors == "ar1":
            fit = sm.GLSAR(yy[ok], x[ok], rho=1).iterative_fit(maxiter=20)
        elif errors == "newey-west":
            fit = sm.OLS(yy[ok], x[ok]).fit(method="qr", cov_type="HAC", use_t=True,
                                            cov_kwds={"maxlags": lags, "use_correction": True})
        else:
            raise ValidationError(f"errors must be 'ar1' or 'newey-west', not {errors!r}")
    beta, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    # effect per post period: b2 + b3 (t - s); its variance c' V c
    tp = np.arange(s, last, dtype=float)
    c = np.zeros((len(tp), len(beta)))
    c[:, 2], c[:, 3] = 1.0, tp - s
    eff = c @ beta
    se_t = np.sqrt(np.einsum("ij,jk,ik->i", c, cov, c))
    cbar = c[np.isfinite(yy[s:last])].mean(axis=0) if np.isfinite(yy[s:last]).any() else c.mean(axis=0)
    att, se = float(cbar @ beta), float(np.sqrt(cbar @ cov @ cbar))
    resid_pre = fit.resid[(post[ok] == 0)]
    return {
        "att": att, "se": se, "eff": eff, "se_t": se_t, "beta": dict(zip(names, beta.tolist())),
        "se_beta": dict(zip(names, np.sqrt(np.diag(cov)).tolist())), "lags": lags,
        "seasonal": bool(seasonal and monthly),
        "n_pre": n_pre, "n_post": n_post, "rmspe_pre": float(np.sqrt(np.mean(resid_pre ** 2))),
        "post_periods": list(periods[s:last]), "observed": yy[s:last],
        "sd_pre": float(np.nanstd(yy[:s])),
        "durbin_watson": float(sm.stats.durbin_watson(fit.resid)), "df": float(fit.df_resid),
        "rho": float(np.ravel(getattr(fit.model, "rho", [np.nan]))[0]) if errors == "ar1" else None,
    }


def interrupted_time_series(panel: Panel, level: float = 0.95, seasonal: bool | None = None,
                            errors: str = "ar1") -> MethodResult:
    """Segmented regression ITS for each treated unit of ``panel`` (comparators are not used).

    ``errors``: ``"ar1"`` (default: AR(1) errors by feasible GLS, Student t intervals) or ``"newey-west"`` (OLS
    with Newey-West errors, Student t); see the module docstring for why AR(1) is the default.
    ``seasonal``: ``None`` adds month-of-year terms for monthly data with at least 24 pre-period months; ``True`` /
    ``False`` forces them on / off.
    """
    if not panel.treated:
        raise ValidationError("interrupted time series needs a treated unit")
    from scipy.stats import t as student_t

    fits = {u: _fit_one(panel.y[panel.index(u)], panel.periods, panel.start_index(u), panel.end_index(u), level,
                        seasonal, errors) for u in panel.treated}
    df = min(f["df"] for f in fits.values())
    z = float(student_t.ppf(0.5 + level / 2, df))
    n = len(fits)
    att = float(np.mean([f["att"] for f in fits.values()]))
    se = float(np.sqrt(np.sum([f["se"] ** 2 for f in fits.values()])) / n)
    p = float(2 * student_t.sf(abs(att) / se, df)) if se > 0 else np.nan
    rows = []
    for u, f in fits.items():
        for per, g, s_, obs in zip(f["post_periods"], f["eff"], f["se_t"], f["observed"]):
            rows.append({"unit": u, "period": per, "gap": float(g), "low": float(g - z * s_), "high": float(g + z * s_),
                         "observed": float(obs), "counterfactual": float(obs - g)})
    gaps = pd.DataFrame(rows)
    if n == 1:
        gaps = gaps.drop(columns="unit")
    else:
        gaps = gaps.groupby("period", sort=False)[["gap", "low", "high"]].mean().reset_index()
    warnings = []
    for u, f in fits.items():
        who = f" ({u})" if n > 1 else ""
        if f["n_pre"] < MIN_POINTS:
            warnings.append(f"short pre-period{who}: {f['n_pre']} points before the start; at least {MIN_POINTS} are "
                            "recommended (Wagner et al. 2002), so the pre-period trend is uncertain")
        if f["n_post"] < MIN_POINTS:
            warnings.append(f"short post-period{who}: {f['n_post']} points after the start; effects that take years "
                            "to show cannot be seen yet")
        if f["sd_pre"] > 0 and f["rmspe_pre"] > 0.9 * f["sd_pre"]:
            warnings.append(f"poor pre-period fit{who}: the line explains little of the series before the start "
                            f"(residual {f['rmspe_pre']:.3g} vs spread {f['sd_pre']:.3g})")
        if is_monthly(panel.periods) and not f["seasonal"] and seasonal is None:
            warnings.append(f"no seasonal terms{who}: fewer than 24 pre-period months, so month-of-year effects are "
                            "not modelled")
    first = next(iter(fits.values()))
    assumptions = [
        "Without the partnership, the pre-period line (level and trend"
        + (", with the same month-of-year pattern" if first["seasonal"] else "")
        + ") would have continued unchanged.",
        "Nothing else that affects the outcome changed at the same time (no co-intervention; no comparator checks it).",
        ("Errors follow an AR(1) process (estimated by feasible GLS, Student t intervals)." if errors == "ar1" else
         f"Errors may be autocorrelated: Newey-West standard errors with {first['lags']} lag(s), Student t."),
    ]
    if panel.ends:
        assumptions.append("Where the partnership ended, periods after its end are left out (post-period truncated).")
    return MethodResult(
        method="its", att=att, ci_low=att - z * se, ci_high=att + z * se, level=level, p_value=p, gaps=gaps,
        rmspe_pre=float(np.mean([f["rmspe_pre"] for f in fits.values()])), assumptions=assumptions, warnings=warnings,
        details={"units": {u: {k: f[k] for k in _KEPT} for u, f in fits.items()}, "se": se},
    )
