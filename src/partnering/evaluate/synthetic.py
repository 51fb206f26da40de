"""Synthetic control: a weighted average of comparator units that tracks the treated unit before the treatment.

Method (docs/methods/evaluation-synthetic-control.md has the full write-up and sources):

* **Weights.**  Donor weights ``w >= 0``, ``sum(w) == 1`` minimise ``(X1 - X0 w)' V (X1 - X0 w)`` over pre-period
  predictors ``X`` (Abadie & Gardeazabal 2003; Abadie, Diamond & Hainmueller 2010, "ADH", eq. 4).  Predictors are
  scaled by their standard deviation across units as R ``Synth`` does.  The diagonal ``V`` is chosen by the nested
  search of ADH (2010, section 2.3): the ``V`` whose weights give the smallest mean squared gap of the outcome over
  the pre-period.  The inner problem is solved exactly (``_simplex.simplex_least_squares``, an active-set method);
  the outer search scores a batch of candidate ``V`` (equal, R Synth's regression-based start, seeded Dirichlet
  draws) and refines the best ones by Nelder-Mead on ``|v| / sum|v|`` (R ``Synth``'s parameterisation).  When the
  predictors are the outcome in every pre-period (the default without covariates) ``V = I`` is exactly optimal (the
  outer loss *is* the inner one), so no search is run.
* **Inference.**  Placebo in space: every donor in turn as if treated (its own fit, the other donors as its pool;
  the treated units are never placebo donors), and the permutation p-value of ADH (2010, section 4.1) on the ratio of
  post- to pre-period RMSPE.  Placebo in time: a fake start inside the pre-period (ADH 2015, section 4.2, "in-time
  placebo").  Leave-one-out: each donor with weight dropped in turn (Abadie, Diamond & Hainmueller 2015, section 4.3).
* **Interval.**  By inverting the placebo test for a constant effect ``alpha`` (Firpo & Possebom 2018, section 3):
  ``alpha`` is in the set when the treated unit's RMSPE ratio of ``Y - alpha`` is not in the extreme ``1 - level`` of
  the placebo distribution.  Because the treated unit is never a placebo donor, the placebo ratios do not depend on
  ``alpha`` and the set is found exactly (it is an interval: the ratio is convex in ``alpha``).
* **Several treated units** (staggered starts): each is fitted on its own against the never-treated donors; the
  estimate is the mean of the units' effects and the test statistic the mean of their RMSPE ratios, against means of
  the same number of placebo ratios (Cavallo, Galiani, Noy & Pantano 2013, section III.B).

Units in ``panel.excluded`` (spillover: the supporter, trusts in the same ICB) never become donors or placebos.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize

from partnering.errors import ValidationError
from partnering.evaluate._simplex import GRAM_MAX, simplex_least_squares, simplex_quadratic
from partnering.evaluate.panel import Panel
from partnering.evaluate.result import MethodResult

METHOD = "synthetic_control"

# Judgement thresholds for warnings (not facts from a source; stated in docs/methods/evaluation-synthetic-control.md)
MIN_PRE_PERIODS = 10        # Abadie (2021, JEL 59(2), s. 3.2): a credible fit needs a long pre-period; no fixed number
MIN_PRE_FIT_R2 = 0.8        # share of the treated unit's pre-period variance the synthetic unit must reproduce
LOO_CHANGE = 0.5            # dropping one donor moves the estimate by half or more: it rests on that donor
MAX_PLACEBO_SETS = 10_000   # random placebo sets for several treated units (all of them when fewer)


@dataclass(frozen=True)
class Predictor:
    """One predictor: the mean of ``variable`` (the outcome or a covariate) over ``periods`` (None: the pre-period)."""

    variable: str
    periods: tuple | None = None

    @property
    def label(self) -> str:
        if self.periods is None:
            return f"{self.variable} (pre-period mean)"
        if len(self.periods) == 1:
            return f"{self.variable} ({self.periods[0]})"
        return f"{self.variable} (mean {self.periods[0]}-{self.periods[-1]})"


@dataclass(frozen=True)
class _Effort:
    """How hard the outer V search works: optimisers from R Synth's two starts, random candidates scored,
    Nelder-Mead runs from the best of them, evaluations per run, and rounds of polishing (see :func:`_polish`)."""

    methods: tuple[str, ...]
    random: int
    starts: int
    evaluations: int
    polish: int = 0


SEARCH = {
    # R Synth's synth(): starts equal and regression-based V, optimx Nelder-Mead and BFGS, the lowest loss, run
    # to convergence (polished)
    "synth": _Effort(methods=("Nelder-Mead", "BFGS"), random=0, starts=0, evaluations=5000, polish=12),
    # the same plus 200 seeded random V scored and Nelder-Mead from the best 3: a lower loss where one exists
    "thorough": _Effort(methods=("Nelder-Mead", "BFGS"), random=200, starts=3, evaluations=3000, polish=12),
}
LIGHT = _Effort(methods=("BFGS",), random=40, starts=1, evaluations=600)  # placebo, leave-one-out, in-time refits
POLISH_TOL = 1e-10  # polishing stops when a round lowers the loss by less than this fraction
NM_EVALS = 500  # Nelder-Mead evaluations per polishing round


@dataclass
class _Fit:
    weights: np.ndarray          # over the donor rows given
    v: np.ndarray | None         # predictor weights (None: the outcome in every pre-period, V = I)
    synthetic: np.ndarray        # synthetic outcome, every period
    rmspe_pre: float


# ---------------------------------------------------------------------------------------------------------- public
def weighted_gaps(panel: Panel, weights, treated: str | None = None) -> pd.DataFrame:
    """The gaps a given set of donor weights implies: ``treated - sum_j w_j donor_j`` in every period.

    ``weights`` is a mapping unit -> weight, a Series indexed by unit, or a frame with ``unit`` and ``weight``
    columns.  No optimiser is involved: this is the check against published weights (e.g. Stata ``synth2``'s for
    Proposition 99).  Returns period, treated, synthetic, gap and post (treated window).
    """
    treated = treated or panel.treated[0]
    w = _as_weight_series(weights)
    missing = [u for u in w.index if u not in panel.units]
    if missing:
        raise ValidationError(f"weights name unit(s) not in the panel: {', '.join(map(str, missing))}")
    rows = [panel.index(u) for u in w.index]
    synthetic = w.to_numpy(dtype=float) @ panel.y[rows]
    y1 = panel.y[panel.index(treated)]
    post = _post_mask(panel, treated)
    return pd.DataFrame({"period": list(panel.periods), "treated": y1, "synthetic": synthetic,
                         "gap": y1 - synthetic, "post": post})


def synthetic_control(panel: Panel, *, predictors=None, covariates: list[str] | None = None, level: float = 0.95,
                      placebo: bool = True, placebo_in_time: bool = True, leave_one_out: bool = True,
                      optimize_periods=None, search: str = "thorough", seed: int = 0) -> MethodResult:
    """Synthetic control estimate of the effect on ``panel``'s treated unit(s), with placebo inference.

    ``predictors``: a list of :class:`Predictor` or tuples ``(variable, periods)`` (periods None = the whole
    pre-period; the mean over the periods, missing values skipped, as R ``Synth``'s ``dataprep`` does).  Default:
    the outcome in every pre-period, or, with ``covariates``, each covariate's pre-period mean plus the outcome in
    the first, middle and last pre-period (three lagged outcomes as in ADH 2010, Table 1).  ``optimize_periods``:
    the pre-periods whose outcome gaps the V search minimises (default: all of them; R ``Synth``'s
    ``time.optimize.ssr``).  ``level``: of the interval.  ``seed``: the outer search's random candidates and the
    placebo sets for several treated units.  ``search``: the outer V search, ``"synth"`` (R Synth's protocol,
    reproduces its published weights) or ``"thorough"`` (that plus seeded random starts; the lowest pre-period loss
    found, which may be a different optimum of this non-convex problem).
    """
    if search not in SEARCH:
        raise ValidationError(f"search must be one of {', '.join(SEARCH)}, got {search!r}")
    if not panel.treated:
        raise ValidationError("synthetic control needs a treated unit (panel.starts is empty)")
    if not 0 < level < 1:
        raise ValidationError(f"level must be between 0 and 1, got {level}")
    rng = np.random.default_rng(seed)
    specs = _predictor_specs(panel, predictors, covariates)
    donors = [u for u in panel.donors() if u not in panel.starts]
    if len(donors) < 2:
        raise ValidationError(f"synthetic control needs at least 2 donors; the panel has {len(donors)} "
                              f"(excluded for spillover: {len(panel.excluded)})")
    cov = _covariate_cube(panel, specs)

    units = {}
    for t in panel.treated:
        units[t] = _analyse_unit(panel, t, donors, specs, cov, optimize_periods, rng, leave_one_out,
                                 placebo_in_time, SEARCH[search])

    warnings: list[str] = []
    for t, u in units.items():
        prefix = f"{t}: " if len(units) > 1 else ""
        warnings += [prefix + w for w in u["warnings"]]

    placebo_table = None
    p_value = None
    ci = (np.nan, np.nan)
    if placebo:
        placebo_table, ratios_by_start = _placebos(panel, donors, specs, cov, optimize_periods, rng, units)
        stats, p_value = _placebo_p_value(units, ratios_by_start, donors, rng)
        ci, ci_note = _invert(units, stats, level)
        if ci_note:
            warnings.append(ci_note)
    att = float(np.mean([u["att"] for u in units.values()]))

    if len(units) == 1:
        (t, u), = units.items()
        gaps = u["gaps"]
        weights = u["weights"]
        rmspe = u["rmspe_pre"]
    else:
        gaps = _pooled_gaps(units)
        weights = pd.concat([u["weights"].assign(treated=t) for t, u in units.items()], ignore_index=True)
        rmspe = float(np.sqrt(np.mean([u["rmspe_pre"] ** 2 for u in units.values()])))

    details = {
        "interval_method": "inversion of the placebo-in-space RMSPE-ratio test for a constant effect "
                           "(Firpo & Possebom 2018)",
        "p_value_method": "placebo in space, rank of the post/pre RMSPE ratio (Abadie, Diamond & Hainmueller 2010)"
                          + (", mean over treated units (Cavallo et al. 2013)" if len(units) > 1 else ""),
        "search": search if specs is not None else "none: V = I is optimal for outcome-only predictors",
        "pooling": "one at a time, mean of the units' effects" if len(units) > 1 else "single treated unit",
        "donors": donors,
        "excluded": dict(panel.excluded),
        "predictors": [s.label for s in specs] if specs is not None else "outcome in every pre-period",
        "units": {t: {k: v for k, v in u.items() if k not in ("warnings",)} for t, u in units.items()},
    }
    if placebo_table is not None:
        details["placebos"] = placebo_table
    for key in ("v", "placebo_in_time", "leave_one_out"):
        if len(units) == 1:
            details[key] = next(iter(units.values())).get(key)
    return MethodResult(method=METHOD, att=att, ci_low=ci[0], ci_high=ci[1], level=level, p_value=p_value,
                        gaps=gaps, weights=weights, rmspe_pre=rmspe, assumptions=_assumptions(),
                        warnings=warnings, details=details)


# ---------------------------------------------------------------------------------------------------------- fitting
def _predictor_specs(panel: Panel, predictors, covariates) -> list[Predictor] | None:
    """None means 'the outcome in every pre-period' (V = I, no search)."""
    if predictors is None and not covariates:
        return None
    specs: list[Predictor] = []
    for p in predictors or []:
        if isinstance(p, Predictor):
            specs.append(p)
        elif isinstance(p, str):
            specs.append(Predictor(p))
        else:
            var, periods = (p[0], p[1]) if len(p) > 1 else (p[0], None)
            specs.append(Predictor(var, None if periods is None else tuple(_plain_list(periods))))
    if covariates:
        specs += [Predictor(c) for c in covariates]
        if predictors is None:
            specs += [Predictor(panel.outcome, ("__lag__", f)) for f in ("first", "middle", "last")]
    known = {panel.outcome} | (set(panel.covariates.columns) - {"unit", "period"} if panel.covariates is not None
                               else set())
    bad = sorted({s.variable for s in specs} - known)
    if bad:
        raise ValidationError(f"unknown predictor(s) {', '.join(bad)}: use the outcome {panel.outcome!r} or a "
                              f"covariate of the panel ({', '.join(sorted(known - {panel.outcome})) or 'none'})")
    return specs


def _plain_list(periods) -> list:
    return [p.item() if isinstance(p, np.generic) else p for p in periods]


def _covariate_cube(panel: Panel, specs) -> dict[str, np.ndarray]:
    """variable -> units x periods array (the outcome and each covariate a predictor uses)."""
    cube = {panel.outcome: panel.y}
    if specs is None or panel.covariates is None:
        return cube
    cov = panel.covariates.copy()
    cov["unit"] = cov["unit"].astype(str)
    for var in {s.variable for s in specs} - {panel.outcome}:
        wide = cov.pivot_table(index="unit", columns="period", values=var, aggfunc="mean", dropna=False)
        cube[var] = wide.reindex(index=list(panel.units), columns=list(panel.periods)).to_numpy(dtype=float)
    return cube


def _predictor_matrix(panel: Panel, specs, cube, rows, pre: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Predictors x rows (means over each predictor's periods within ``pre``, a boolean mask of periods)."""
    pre_idx = np.flatnonzero(pre)
    out, labels = [], []
    for s in specs:
        if s.periods is not None and s.periods and s.periods[0] == "__lag__":
            pos = {"first": pre_idx[0], "middle": pre_idx[len(pre_idx) // 2], "last": pre_idx[-1]}[s.periods[1]]
            cols = np.array([pos])
            label = f"{s.variable} ({panel.periods[pos]})"
        elif s.periods is None:
            cols, label = pre_idx, s.label
        else:
            cols = np.array([panel.periods.index(p) for p in s.periods if p in panel.periods], dtype=int)
            cols = cols[pre[cols]] if cols.size else cols
            label = s.label
        if cols.size == 0:
            continue
        block = cube[s.variable][np.ix_(rows, cols)]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no value in the periods: NaN, predictor dropped below
            col = np.nanmean(block, axis=1) if np.isnan(block).any() else block.mean(axis=1)
        out.append(col)
        labels.append(label)
    return np.array(out), labels


def _fit(x1, X0, z1, Z0, rng, search: bool, effort: _Effort | None = None
         ) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Weights (and V) for one treated unit; returns (w, v, outer loss = mean squared gap over the fit periods)."""
    if not search:
        w = simplex_least_squares(Z0, z1)
        r = Z0 @ w - z1
        return w, None, float(r @ r / len(r))
    effort = effort or SEARCH["thorough"]
    k = X0.shape[0]
    X = np.column_stack([X0, x1])
    sd = X.std(axis=1, ddof=1)
    sd[~(sd > 0)] = 1.0
    X0s, x1s = X0 / sd[:, None], x1 / sd

    # the inner problem as a quadratic in w: G(V) = X0s' V X0s, c(V) = X0s' V x1s (n x n, formed per V)
    small = X0s.shape[1] <= GRAM_MAX
    last = {"w": None, "warm": True}  # warm starts for Nelder-Mead; BFGS's finite differences want cold, exact ones

    def loss_of(v):
        v = np.abs(v)
        total = v.sum()
        if not total > 0:
            return np.inf, None
        v = v / total
        if small:
            vX0 = X0s * v[:, None]
            w = simplex_quadratic(vX0.T @ X0s, x1s @ vX0, start=last["w"] if last["warm"] else None)
        else:
            root = np.sqrt(v)
            w = simplex_least_squares(X0s * root[:, None], x1s * root, start=last["w"] if last["warm"] else None)
        last["w"] = w
        r = Z0 @ w - z1
        return float(r @ r / len(r)), w

    # R Synth's protocol: equal and regression-based starts, Nelder-Mead and BFGS from each, the lowest loss
    starts = [np.full(k, 1.0 / k)]
    reg = _regression_v(X0s, x1s, Z0, z1)
    if reg is not None:
        starts.append(reg)
    runs = [(v, m, "protocol") for v in starts for m in effort.methods]
    # the best V of each family of runs: (loss, v)
    best = {"protocol": (np.inf, starts[0])}
    if effort.random:
        # seeded Dirichlet candidates, scored; Nelder-Mead from the best few (escapes the protocol's local optima)
        cands = np.vstack([rng.dirichlet(np.full(k, a), size=effort.random // 4) for a in (0.2, 0.5, 1.0, 2.0)])
        scores = np.array([loss_of(v)[0] for v in cands])
        order = np.argsort(scores, kind="stable")[:effort.starts]
        best["random"] = (float(scores[order[0]]), cands[order[0]])
        runs += [(cands[i], "Nelder-Mead", "random") for i in order]
    for v0, method, family in runs:
        last["w"], last["warm"] = None, method == "Nelder-Mead"
        opts = ({"maxfev": effort.evaluations, "xatol": 1e-8, "fatol": 1e-14} if method == "Nelder-Mead"
                else {"maxiter": effort.evaluations})
        res = minimize(lambda v: loss_of(v)[0], v0, method=method, options=opts)
        if res.fun < best[family][0]:
            best[family] = (float(res.fun), np.abs(res.x))
    last["w"], last["warm"] = None, False  # polish and the final answer from cold, exact inner solutions
    finals = []
    for loss0, v0 in best.values():
        v0 = v0 / v0.sum()
        if effort.polish:
            loss0, v0 = _polish(loss_of, X0s, x1s, Z0, z1, v0, effort.polish)
        finals.append((loss0, v0))
    best_v = min(finals, key=lambda f: f[0])[1]
    loss, w = loss_of(best_v)
    return w, best_v, loss


def _polish(loss_of, X0s, x1s, Z0, z1, v, rounds: int) -> tuple[float, np.ndarray]:
    """Run the outer search on from ``v`` until it stops improving: R Synth's optimisers, run to convergence.

    scipy's Nelder-Mead and BFGS stop early on the outer loss's flat, kinked surface (on the Basque data the
    protocol stopped at Catalu\u00f1a 0.8564 where R Synth reports 0.8508, with a higher loss).  Each round runs
    L-BFGS-B with the exact gradient of the loss (below) and then Nelder-Mead restarted from the best point — a
    restart is the standard remedy for Nelder-Mead's stagnation (Kelley 1999, "Detection and remediation of
    stagnation in the Nelder-Mead algorithm using a sufficient decrease condition", SIAM J Optim 10(1):43-55) —
    until a round lowers the loss by less than :data:`POLISH_TOL` of it, or after ``rounds`` rounds.

    Gradient: on the donors with weight (support S) the inner optimum solves the KKT system
    ``[G_SS 1; 1' 0] [w_S; mu] = [c_S; 1]`` with ``G = X0s' V X0s``, ``c = X0s' V x1s``; differentiating it in
    ``v_k`` gives ``dL/dv_k = lambda' (a_k (x1s_k - a_k' w_S))`` where ``a_k`` is predictor k's row over S and
    ``[lambda; nu]`` solves the same (symmetric) system with right-hand side ``[dL/dw_S; 0]``
    (the adjoint method; e.g. Gould et al. 2016, "On differentiating parameterized argmin and argmax problems",
    arXiv:1607.05447).  It is exact where the support does not change, which is almost everywhere.
    """
    T = len(z1)

    def loss_grad(x):
        x = np.maximum(x, 0.0)
        total = x.sum()
        if not total > 0:
            return np.inf, np.zeros_like(x)
        v = x / total
        loss, w = loss_of(v)
        support = np.flatnonzero(w > 0)
        n = len(support)
        A = X0s[:, support]
        kkt = np.zeros((n + 1, n + 1))
        kkt[:n, :n] = (A * v[:, None]).T @ A
        kkt[:n, n] = kkt[n, :n] = 1.0
        r = Z0 @ w - z1
        lam = np.linalg.lstsq(kkt, np.concatenate([2.0 / T * (Z0[:, support].T @ r), [0.0]]), rcond=None)[0][:n]
        grad_v = (A * (x1s - A @ w[support])[:, None]) @ lam
        return loss, (grad_v - v @ grad_v) / total

    best_loss, best_v = loss_of(v)[0], v
    for _ in range(rounds):
        res = minimize(loss_grad, best_v, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(best_v),
                       options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-12})
        cands = [np.maximum(res.x, 0.0)]
        start = cands[0] if cands[0].sum() > 0 else best_v
        res = minimize(lambda q: loss_of(q)[0], start / start.sum(), method="Nelder-Mead",
                       options={"maxfev": NM_EVALS, "xatol": 1e-10, "fatol": 1e-15})
        cands.append(np.abs(res.x))
        improved = False
        for c in cands:
            if not c.sum() > 0:
                continue
            c = c / c.sum()
            loss = loss_of(c)[0]
            if loss < best_loss * (1 - POLISH_TOL):
                best_loss, best_v, improved = loss, c, True
        if not improved:
            break
    return best_loss, best_v


def _regression_v(X0s, x1s, Z0, z1) -> np.ndarray | None:
    """R Synth's second starting value: V from the squared coefficients of a regression of the fit-period outcomes
    on the scaled predictors across units (Synth's ``synth()``, 'regression-based V')."""
    X = np.column_stack([np.ones(X0s.shape[1] + 1), np.column_stack([X0s, x1s]).T])
    Z = np.column_stack([Z0, z1]).T
    if X.shape[0] <= X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1]:
        return None
    beta = np.linalg.lstsq(X, Z, rcond=None)[0][1:]
    v = np.einsum("ij,ij->i", beta, beta)
    return v / v.sum() if v.sum() > 0 else None


def _fit_unit(panel, unit, donor_units, specs, cube, pre, fit_mask, rng, effort=None
              ) -> tuple[_Fit, list[str], np.ndarray]:
    """Fit ``unit`` on ``donor_units`` using pre-period mask ``pre``; returns the fit, the predictor labels and the
    donors kept (those with a complete outcome over the fit periods)."""
    i1 = panel.index(unit)
    rows = np.asarray(donor_units) if isinstance(donor_units, np.ndarray) else _rows(panel, donor_units)
    y = panel.y
    fit_cols = np.flatnonzero(fit_mask & ~np.isnan(y[i1]))
    ok = ~np.isnan(y[np.ix_(rows, fit_cols)]).any(axis=1)
    rows = rows[ok]
    z1, Z0 = y[i1, fit_cols], y[np.ix_(rows, fit_cols)].T
    if specs is None:
        w, v, _ = _fit(None, None, z1, Z0, rng, search=False)
        labels = []
    else:
        X, labels = _predictor_matrix(panel, specs, cube, np.concatenate([[i1], rows]), pre)
        good = ~np.isnan(X).any(axis=1)
        X, labels = X[good], [lab for lab, g in zip(labels, good) if g]
        w, v, _ = _fit(X[:, 0], X[:, 1:], z1, Z0, rng, search=True, effort=effort)
    nz = w > 0  # only donors with weight: placebo loops over thousands of donors
    synthetic = w[nz] @ np.nan_to_num(y[rows[nz]])
    gap_pre = (y[i1] - synthetic)[pre]
    rmspe = float(np.sqrt(np.nanmean(gap_pre ** 2)))
    return _Fit(w, v, synthetic, rmspe), labels, rows


def _rows(panel: Panel, names) -> np.ndarray:
    """Row indices of ``names`` (one dict, not ``tuple.index`` per name: placebo loops run over thousands)."""
    where = {u: i for i, u in enumerate(panel.units)}
    return np.array([where[u] for u in names], dtype=int)


def _masks(panel: Panel, unit: str, optimize_periods) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(panel.periods)
    start = panel.start_index(unit)
    pre = np.arange(n) < start
    post = _post_mask(panel, unit)
    if optimize_periods is None:
        fit = pre.copy()
    else:
        wanted = set(_plain_list(optimize_periods))
        fit = np.array([p in wanted for p in panel.periods]) & pre
        if not fit.any():
            raise ValidationError("optimize_periods has no period before the treatment start")
    return pre, post, fit


def _post_mask(panel: Panel, unit: str) -> np.ndarray:
    n = len(panel.periods)
    idx = np.arange(n)
    end = panel.end_index(unit)
    return (idx >= panel.start_index(unit)) & (idx <= (n - 1 if end is None else end))


def _analyse_unit(panel, unit, donors, specs, cube, optimize_periods, rng, leave_one_out, in_time, effort) -> dict:
    pre, post, fit_mask = _masks(panel, unit, optimize_periods)
    if pre.sum() < 2:
        raise ValidationError(f"{unit}: synthetic control needs at least 2 periods before the start "
                              f"({panel.starts[unit]})")
    fit, labels, rows = _fit_unit(panel, unit, donors, specs, cube, pre, fit_mask, rng, effort)
    y1 = panel.y[panel.index(unit)]
    gap = y1 - fit.synthetic
    att = float(np.nanmean(gap[post]))
    kept = [panel.units[r] for r in rows]
    weights = (pd.DataFrame({"unit": kept, "weight": fit.weights})
               .sort_values(["weight", "unit"], ascending=[False, True], ignore_index=True))
    gaps = pd.DataFrame({"period": list(panel.periods), "treated": y1, "synthetic": fit.synthetic, "gap": gap,
                         "post": post})
    warnings = []
    n_pre = int(pre.sum())
    if n_pre < MIN_PRE_PERIODS:
        warnings.append(f"short pre-period: {n_pre} periods before the start (fewer than {MIN_PRE_PERIODS}); "
                        "a close fit over few periods may be luck, not a shared trend")
    pre_vals = y1[pre]
    var = float(np.nanvar(pre_vals))
    r2 = 1 - fit.rmspe_pre ** 2 / var if var > 0 else np.nan
    if not (r2 >= MIN_PRE_FIT_R2):
        warnings.append(f"poor pre-period fit: RMSPE {fit.rmspe_pre:.3g} reproduces {max(r2, 0):.0%} of the "
                        f"treated unit's pre-period variation (want {MIN_PRE_FIT_R2:.0%}+); the synthetic unit is "
                        "not a credible comparator")
    lo = np.nanmin(panel.y[np.ix_(rows, np.flatnonzero(pre))], axis=0)
    hi = np.nanmax(panel.y[np.ix_(rows, np.flatnonzero(pre))], axis=0)
    outside = float(np.mean((pre_vals < lo) | (pre_vals > hi)))
    if outside >= 0.5:
        warnings.append(f"the treated unit lies outside every donor's range in {outside:.0%} of pre-period "
                        "periods: no weighted average can match it, and a unit chosen for extreme values tends "
                        "to move back (regression to the mean)")
    dropped = len(donors) - len(kept)
    if dropped:
        warnings.append(f"{dropped} donor(s) dropped for missing values in the fit periods")
    out = {"att": att, "gaps": gaps, "weights": weights, "rmspe_pre": fit.rmspe_pre,
           "rmspe_post": float(np.sqrt(np.nanmean(gap[post] ** 2))), "pre": pre, "post": post,
           "v": None if fit.v is None else pd.DataFrame({"predictor": labels, "v": fit.v}),
           "warnings": warnings, "start": panel.starts[unit]}
    if leave_one_out:
        out["leave_one_out"] = _leave_one_out(panel, unit, kept, fit, specs, cube, pre, post, fit_mask, rng, att,
                                              warnings)
    if in_time:
        out["placebo_in_time"] = _in_time(panel, unit, kept, specs, cube, pre, fit_mask, rng, att, warnings)
    return out


def _leave_one_out(panel, unit, kept, fit, specs, cube, pre, post, fit_mask, rng, att, warnings):
    y1 = panel.y[panel.index(unit)]
    rows = []
    for d, wd in zip(kept, fit.weights):
        if wd <= 1e-6:
            continue
        others = [u for u in kept if u != d]
        if len(others) < 1:
            continue
        f, _, _ = _fit_unit(panel, unit, others, specs, cube, pre, fit_mask, rng, LIGHT)
        gap = y1 - f.synthetic
        rows.append({"dropped": d, "weight": float(wd), "att": float(np.nanmean(gap[post])),
                     "rmspe_pre": f.rmspe_pre})
    table = pd.DataFrame(rows, columns=["dropped", "weight", "att", "rmspe_pre"])
    if len(table) and att != 0:
        change = (table["att"] - att).abs() / abs(att)
        flip = np.sign(table["att"]) != np.sign(att)
        worst = table.loc[change.idxmax()]
        if change.max() >= LOO_CHANGE or flip.any():
            warnings.append(f"the estimate rests on one donor: without {worst['dropped']} it is "
                            f"{worst['att']:.3g} instead of {att:.3g}")
    return table


def _in_time(panel, unit, kept, specs, cube, pre, fit_mask, rng, att, warnings):
    """Fake start halfway through the pre-period (at least 2 periods on each side), fitted on data before it."""
    pre_idx = np.flatnonzero(pre)
    if len(pre_idx) < 4:
        return None
    fake = pre_idx[len(pre_idx) // 2]
    n = len(panel.periods)
    fake_pre = np.arange(n) < fake
    fake_post = pre & ~fake_pre
    fake_fit = fit_mask & fake_pre if (fit_mask & fake_pre).any() else fake_pre
    f, _, _ = _fit_unit(panel, unit, kept, specs, cube, fake_pre, fake_fit, rng, LIGHT)
    gap = panel.y[panel.index(unit)] - f.synthetic
    fake_att = float(np.nanmean(gap[fake_post]))
    ratio = float(np.sqrt(np.nanmean(gap[fake_post] ** 2)) / f.rmspe_pre) if f.rmspe_pre > 0 else np.inf
    if abs(fake_att) >= 0.5 * abs(att) and abs(fake_att) > 2 * f.rmspe_pre:
        warnings.append(f"placebo in time: a fake start at {panel.periods[fake]} shows an 'effect' of "
                        f"{fake_att:.3g} before anything happened (the estimate is {att:.3g})")
    return {"start": panel.periods[fake], "att": fake_att, "rmspe_pre": f.rmspe_pre, "ratio": ratio}


# ---------------------------------------------------------------------------------------------------------- inference
def _placebos(panel, donors, specs, cube, optimize_periods, rng, units):
    """Every donor as if treated at each treated unit's start; its pool is the other donors."""
    rows, ratios_by_start = [], {}
    donor_rows = _rows(panel, donors)
    for start in dict.fromkeys(u["start"] for u in units.values()):
        ratios = np.full(len(donors), np.nan)
        for j, d in enumerate(donors):
            p = panel.treat_instead(d, start)
            pre, post, fit_mask = _masks(p, d, optimize_periods)
            f, _, _ = _fit_unit(p, d, np.delete(donor_rows, j), specs, cube, pre, fit_mask, rng, LIGHT)
            gap = panel.y[donor_rows[j]] - f.synthetic
            post_rmspe = float(np.sqrt(np.nanmean(gap[post] ** 2)))
            ratios[j] = post_rmspe / f.rmspe_pre if f.rmspe_pre > 0 else np.inf
            rows.append({"unit": d, "start": start, "rmspe_pre": f.rmspe_pre, "rmspe_post": post_rmspe,
                         "ratio": ratios[j], "att": float(np.nanmean(gap[post]))})
        ratios_by_start[start] = ratios
    return pd.DataFrame(rows), ratios_by_start


def _unit_ratio(u, alpha=0.0) -> float:
    g = u["gaps"]["gap"].to_numpy()[u["post"]] - alpha
    return float(np.sqrt(np.nanmean(g ** 2)) / u["rmspe_pre"]) if u["rmspe_pre"] > 0 else np.inf


def _placebo_p_value(units, ratios_by_start, donors, rng):
    """Placebo statistics (one per placebo set) and the permutation p-value of the treated statistic."""
    if len(units) == 1:
        stats = next(iter(ratios_by_start.values()))
    else:
        n = len(units)
        if n > len(donors):
            raise ValidationError("more treated units than donors: placebo sets cannot be drawn")
        draws = np.array([rng.permutation(len(donors))[:n] for _ in range(MAX_PLACEBO_SETS)])
        stats = np.mean([ratios_by_start[u["start"]][draws[:, i]] for i, u in enumerate(units.values())], axis=0)
    observed = float(np.mean([_unit_ratio(u) for u in units.values()]))
    p = (1 + int(np.sum(stats >= observed))) / (len(stats) + 1)
    return stats, p


def _invert(units, stats, level) -> tuple[tuple[float, float], str | None]:
    """The constant effects ``alpha`` not rejected at ``1 - level`` by the placebo test (Firpo & Possebom 2018)."""
    s = np.sort(np.asarray(stats, dtype=float))[::-1]
    n = len(s)
    # smallest m with (1 + m) / (n + 1) > 1 - level: alpha accepted iff at least m placebo statistics >= its own
    # (1 + count) / (n + 1) > 1 - level  <=>  count >= floor((1 - level) (n + 1))
    m = int(np.floor((1 - level) * (n + 1) + 1e-9))
    if m == 0:
        return (-np.inf, np.inf), (f"with {n} placebos the test cannot reject at {1 - level:.0%}: the interval is "
                                   "unbounded (more donors are needed)")
    crit = s[m - 1]

    def excess(alpha):
        return float(np.mean([_unit_ratio(u, alpha) for u in units.values()])) - crit

    centre = float(np.mean([u["att"] for u in units.values()]))
    res = minimize(lambda a: excess(float(a[0])), [centre], method="Nelder-Mead", options={"xatol": 1e-10})
    a0 = float(res.x[0])
    if excess(a0) > 0:
        return (np.nan, np.nan), ("no constant effect is consistent with the placebo distribution at this level: "
                                  "the post-period gaps vary more than the placebos' (the effect is not constant)")
    spread = max(1.0, abs(a0), *(u["rmspe_pre"] * crit for u in units.values()))

    def edge(direction):
        step = spread
        while excess(a0 + direction * step) <= 0:
            step *= 2
            if step > 1e12:
                return direction * np.inf
        return brentq(excess, a0, a0 + direction * step, xtol=1e-12) if direction > 0 else \
            brentq(excess, a0 - step, a0, xtol=1e-12)

    return (edge(-1), edge(1)), None


def _pooled_gaps(units) -> pd.DataFrame:
    """Mean gap by event time (0 = each unit's start) across treated units."""
    frames = []
    for u in units.values():
        g = u["gaps"].copy()
        start = int(np.flatnonzero(u["post"])[0]) if u["post"].any() else len(g)
        g["period"] = np.arange(len(g)) - start
        frames.append(g[["period", "gap", "post"]])
    out = pd.concat(frames).groupby("period", as_index=False).agg(gap=("gap", "mean"), post=("post", "max"))
    return out


def _as_weight_series(weights) -> pd.Series:
    if isinstance(weights, pd.DataFrame):
        return pd.Series(weights["weight"].to_numpy(dtype=float), index=weights["unit"].astype(str))
    if isinstance(weights, pd.Series):
        return weights.astype(float).rename(index=str)
    if isinstance(weights, Mapping):
        return pd.Series({str(k): float(v) for k, v in weights.items()})
    if isinstance(weights, Iterable):
        return pd.Series({str(k): float(v) for k, v in weights})
    raise ValidationError("weights must be a mapping unit -> weight, a Series or a frame with unit and weight")


def _assumptions() -> list[str]:
    return [
        "Without the partnership, the treated unit would have followed the weighted average of the donors that "
        "matched it before the start (the same underlying trends act on both).",
        "The donors were not affected by the partnership (units at risk of spillover are excluded).",
        "Nothing else that changed at the start affects the treated unit differently from its donors.",
        "The p-value and interval treat the treated unit as one draw among the donors (placebo test); they assume a "
        "constant effect over the post-period for the interval.",
    ]
