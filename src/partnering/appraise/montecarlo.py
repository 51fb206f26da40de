"""Monte Carlo appraisal: NPSV distributions, the probability each option is best, and the value of information.

Method.
- Every uncertain input is a multiplier on the flows it targets (``Uncertainty``), drawn from its distribution by
  the inverse-CDF method from one standard-normal score per input and draw.
- Correlations between inputs: a Gaussian copula. The normal scores are correlated with the Cholesky factor of the
  requested correlation matrix before each marginal is applied ("NORTA": Cario & Nelson 1997, Modeling and
  generating random vectors with arbitrary marginal distributions and correlation matrix; the copula view: Nelsen
  2006, An Introduction to Copulas, s.2.3). The correlation given is that of the normal scores; it equals the
  Spearman rank correlation of the inputs to within about 0.02 for any monotone marginals.
- Common random numbers: every option reads the same draws (an input targeting ``*.category`` moves that category
  of all options together), so differences between options carry no sampling noise from unrelated draws
  (Law, Simulation Modeling and Analysis, 5th ed., s.11.2).
- The present value is linear in each multiplier, so each option x category is discounted once (by
  :func:`partnering.appraise.economics.prepare`, the same code as the deterministic case) and a draw's NPSV is
  ``sum_c multiplier[d, o, c] x sign_c x PV[o, c]``: the years axis is summed before the draws are taken, exactly,
  so the work and memory are draws x (options x categories), never a per-draw Python loop.
- The expected value of perfect information: EVPI = E[max_o NPSV_o] - max_o E[NPSV_o] (Raiffa & Schlaifer 1961,
  Applied Statistical Decision Theory; Claxton 1999, J Health Econ 18:341-364, for its use in health appraisal):
  what it would be worth to know which option is best before choosing.
- P10/P50/P90 are the 10th, 50th and 90th percentiles of each option's NPSV (the HM Treasury/IPA convention for
  ranges: P50 the central estimate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import special

from partnering.appraise.economics import SIGN, Prepared, prepare
from partnering.appraise.model import CATEGORIES, EconomicCase, Uncertainty
from partnering.errors import ValidationError

PERT_SHAPE = 4.0  # the classic PERT weight on the mode (Malcolm et al. 1959; Vose, Risk Analysis, 3rd ed., s.9.1)


@dataclass(frozen=True)
class MonteCarloResult:
    options: list[str]
    npsv: np.ndarray  # draws x options
    summary: pd.DataFrame  # per option: mean, sd, p10, p50, p90, p_best, p_positive, deterministic
    evpi: float
    draws: int
    seed: int


def _params(u: Uncertainty, *names: str) -> list[float]:
    missing = [n for n in names if n not in u.params]
    if missing:
        raise ValidationError(f"uncertainty {u.name!r} ({u.distribution}) needs {', '.join(missing)}")
    return [float(u.params[n]) for n in names]


def _check_order(u: Uncertainty, low: float, mode: float, high: float) -> None:
    if not low <= mode <= high:
        raise ValidationError(f"uncertainty {u.name!r}: need low <= mode <= high, got {low:g}, {mode:g}, {high:g}")


SCORE_GRID = (-9.0, 9.0, 16_384)  # normal scores covered by the PERT quantile table, and its number of steps


@lru_cache(maxsize=64)
def _beta_table(alpha: float, beta: float) -> np.ndarray:
    """The Beta(alpha, beta) quantile at Phi(z) on an even grid of normal scores z (exact at the grid points)."""
    low, high, steps = SCORE_GRID
    return special.betaincinv(alpha, beta, special.ndtr(np.linspace(low, high, steps + 1)))


def _beta_quantile_of_score(alpha: float, beta: float, z: np.ndarray) -> np.ndarray:
    """Beta quantile at Phi(z), by linear interpolation in a table on an even grid of scores.

    ``scipy.special.betaincinv`` costs about 4 microseconds a value (0.4 s per input at 100,000 draws); the table is
    computed once per shape (exactly, by betaincinv) and read by index arithmetic. Interpolation error is below
    1e-7 of the distribution's range (checked against betaincinv in tests/unit/appraise/test_montecarlo.py);
    scores beyond +/-9 (probability below 1e-18) take the end values.
    """
    table = _beta_table(alpha, beta)
    low, high, steps = SCORE_GRID
    position = np.clip((z - low) * (steps / (high - low)), 0.0, steps)
    index = np.minimum(position.astype(np.intp), steps - 1)
    fraction = position - index
    return table[index] + fraction * (table[index + 1] - table[index])


def multipliers_from_scores(u: Uncertainty, z: np.ndarray) -> np.ndarray:
    """The multipliers of ``u`` for standard-normal scores ``z`` (inverse CDF of its distribution at Phi(z))."""
    d = u.distribution
    if d == "fixed":
        (value,) = _params(u, "value")
        return np.full(z.shape, value)
    if d == "normal":
        mean, sd = _params(u, "mean", "sd")
        if sd < 0:
            raise ValidationError(f"uncertainty {u.name!r}: sd cannot be negative")
        return mean + sd * z
    if d == "lognormal":
        median, sigma = _params(u, "median", "sigma")
        if median <= 0 or sigma < 0:
            raise ValidationError(f"uncertainty {u.name!r}: lognormal needs median > 0 and sigma >= 0")
        return median * np.exp(sigma * z)
    if d == "pert":
        p = None  # read from a table indexed by the score itself (below)
    else:
        p = special.ndtr(z)
    if d == "uniform":
        low, high = _params(u, "low", "high")
        _check_order(u, low, low, high)
        return low + (high - low) * p
    low, mode, high = _params(u, "low", "mode", "high")
    _check_order(u, low, mode, high)
    width = high - low
    if width == 0:
        return np.full(z.shape, low)
    if d == "triangular":
        cut = (mode - low) / width
        left = low + np.sqrt(p * width * (mode - low))
        right = high - np.sqrt((1.0 - p) * width * (high - mode))
        return np.where(p < cut, left, right)
    if d == "pert":
        alpha = 1.0 + PERT_SHAPE * (mode - low) / width
        beta = 1.0 + PERT_SHAPE * (high - mode) / width
        return low + width * _beta_quantile_of_score(alpha, beta, z)
    raise ValidationError(f"uncertainty {u.name!r}: unknown distribution {d!r}")  # pragma: no cover (model checks)


def correlation_matrix(case: EconomicCase) -> np.ndarray:
    """The normal-score correlation matrix of the case's uncertainties (identity where none is given)."""
    names = [u.name for u in case.uncertainties]
    index = {n: i for i, n in enumerate(names)}
    corr = np.eye(len(names))
    for a, b, rho in case.correlations:
        if a == b:
            raise ValidationError(f"correlation of {a!r} with itself")
        corr[index[a], index[b]] = corr[index[b], index[a]] = rho
    return corr


def correlated_scores(case: EconomicCase, draws: int | None = None, seed: int | None = None) -> np.ndarray:
    """Standard-normal scores, uncertainties x draws (one contiguous row per input), correlated as the case says.

    Row ``k`` is input ``k``'s scores; columns are draws. Cholesky factor ``L`` of the correlation matrix times
    independent scores (NORTA, Cario & Nelson 1997).
    """
    n = case.draws if draws is None else draws
    rng = np.random.default_rng(case.seed if seed is None else seed)
    k = len(case.uncertainties)
    z = rng.standard_normal((k, n))
    if case.correlations:
        corr = correlation_matrix(case)
        # Only inputs named in a correlation need mixing (the rest of L is the identity).
        linked = np.flatnonzero(np.abs(corr - np.eye(k)).sum(axis=1) > 0)
        try:
            chol = np.linalg.cholesky(corr[np.ix_(linked, linked)])
        except np.linalg.LinAlgError as exc:
            raise ValidationError(
                "the correlations are inconsistent (their matrix is not positive definite): loosen the strongest ones"
            ) from exc
        z[linked] = chol @ z[linked]
    return z


def _targets(case: EconomicCase) -> list[tuple[int, int, list[int]]]:
    """(option index, category index, uncertainty indices) for every option x category an uncertainty moves."""
    keys = {k: i for i, k in enumerate(case.option_keys)}
    moved: dict[tuple[int, int], list[int]] = {}
    for k, u in enumerate(case.uncertainties):
        for target in u.targets:
            option, _, category = target.partition(".")
            c = CATEGORIES.index(category)
            if option == "*":
                rows = range(len(keys))
            elif option in keys:
                rows = [keys[option]]
            else:
                raise ValidationError(f"uncertainty {u.name!r}: no option {option!r} in the case")
            for o in rows:
                moved.setdefault((o, c), []).append(k)
    return [(o, c, ks) for (o, c), ks in sorted(moved.items())]


def npsv_draws(
    case: EconomicCase, prepared: Prepared | None = None, draws: int | None = None, seed: int | None = None
) -> np.ndarray:
    """NPSV of every option in every draw (draws x options), common random numbers across options."""
    prep = prepared or prepare(case)
    pv = prep.pv
    base = pv @ SIGN
    n = case.draws if draws is None else draws
    if n < 1:
        raise ValidationError("draws must be at least 1")
    out = np.broadcast_to(base, (n, len(base))).copy()
    if not case.uncertainties:
        return out
    scores = correlated_scores(case, n, seed)
    multipliers = scores  # each input's row of scores is replaced by its multipliers, in place (saves a copy)
    for k, u in enumerate(case.uncertainties):
        multipliers[k] = multipliers_from_scores(u, scores[k])
    targets = _targets(case)
    if not targets:
        return out
    # One row per moved option x category: the product of its multipliers, minus 1 (the change from the point).
    change = np.empty((len(targets), n))
    effect = np.zeros((len(targets), len(base)))
    for j, (o, c, ks) in enumerate(targets):
        row = change[j]
        if len(ks) == 1:
            np.subtract(multipliers[ks[0]], 1.0, out=row)
        else:
            np.prod(multipliers[ks], axis=0, out=row)
            row -= 1.0
        effect[j, o] = SIGN[c] * pv[o, c]
    out += (effect.T @ change).T  # options x draws, contiguous over draws
    return out


def summarise(npsv: np.ndarray, keys: list[str], deterministic: np.ndarray | None = None) -> tuple[pd.DataFrame, float]:
    """Per-option summary of a draws x options NPSV array, and the EVPI."""
    best = np.argmax(npsv, axis=1)
    p_best = np.bincount(best, minlength=npsv.shape[1]) / npsv.shape[0]
    p10, p50, p90 = np.percentile(npsv, [10, 50, 90], axis=0)
    mean = npsv.mean(axis=0)
    summary = pd.DataFrame(
        {
            "mean": mean,
            "sd": npsv.std(axis=0, ddof=1) if npsv.shape[0] > 1 else np.zeros(npsv.shape[1]),
            "p10": p10,
            "p50": p50,
            "p90": p90,
            "p_best": p_best,
            "p_positive": (npsv > 0).mean(axis=0),
        },
        index=pd.Index(keys, name="option"),
    )
    if deterministic is not None:
        summary["deterministic"] = deterministic
    evpi = float(npsv.max(axis=1).mean() - mean.max())
    return summary, max(evpi, 0.0)


def simulate(case: EconomicCase) -> MonteCarloResult:
    """Simulate ``case.draws`` draws (seed ``case.seed``) and summarise them."""
    prep = prepare(case)
    npsv = npsv_draws(case, prep)
    summary, evpi = summarise(npsv, prep.keys, prep.npsv())
    return MonteCarloResult(prep.keys, npsv, summary, evpi, npsv.shape[0], case.seed)
