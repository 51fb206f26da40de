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
- Speed (bench/appraise.py): the scores are drawn in one call (the same stream as ever for a seed); each group of
  correlated inputs is mixed by its own Cholesky factor, one row at a time, straight into that input's multipliers;
  triangular and PERT multipliers are read from per-shape quantile tables in normal-score space (within 1e-7 of
  the range of the exact inverse CDF; the normal CDF alone would cost 12 ns a value); P10/P50/P90 select their
  order statistics inside a bracket found from a sample, bit for bit numpy's percentiles.
- Uncertain benefit delays: an input targeting ``option.benefit_delay`` draws the option's planned delay in years
  (the same scores, copula and common random numbers as every other input; a draw below zero is taken as zero).
  The present value is not linear in the delay, so each timed category's present value is tabulated once per option
  as a function of the planned delay (:func:`partnering.appraise.economics.timed_pv`, the same code as the
  deterministic case, works-duration optimism bias included) on a grid of :data:`DELAY_STEP` years anchored at the
  point delay, and each draw reads it by linear interpolation (the share of a year's benefit is piecewise quadratic
  in the delay, so the error is below DELAY_STEP^2/8 of its second derivative: about 1e-4 of a year's timed benefit
  a year of delay); a draw at the point delay reads the grid point itself, so a collapsed distribution gives the
  deterministic NPSV. Multipliers on the same flows scale the tabulated value.
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

from partnering.appraise.economics import SIGN, Prepared, prepare, timed_pv
from partnering.appraise.model import CATEGORIES, EconomicCase, Uncertainty
from partnering.errors import ValidationError

DELAY_STEP = 1.0 / 40.0  # years between the points of a delay table (see the module docstring)
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


SCORE_GRID = (-9.0, 9.0, 16_384)  # normal scores covered by the quantile tables, and their number of steps


@lru_cache(maxsize=64)
def _beta_table(alpha: float, beta: float) -> np.ndarray:
    """The Beta(alpha, beta) quantile at Phi(z) on an even grid of normal scores z (exact at the grid points)."""
    low, high, steps = SCORE_GRID
    return special.betaincinv(alpha, beta, special.ndtr(np.linspace(low, high, steps + 1)))


@lru_cache(maxsize=64)
def _triangular_table(cut: float) -> np.ndarray:
    """The quantile of the triangular distribution on [0, 1] with mode ``cut`` at Phi(z), on the score grid.

    The same formula as :func:`multipliers_from_scores` (inverse CDF: sqrt(p c) below the mode, 1 - sqrt((1 - p)
    (1 - c)) above it), evaluated exactly at the grid points.
    """
    low, high, steps = SCORE_GRID
    p = special.ndtr(np.linspace(low, high, steps + 1))
    return np.where(p < cut, np.sqrt(p * cut), 1.0 - np.sqrt((1.0 - p) * (1.0 - cut)))


@lru_cache(maxsize=64)
def _padded(kind: str, a: float, b: float, low: float = 0.0, width: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``low + width x`` a unit quantile table, and its steps (``table[i + 1] - table[i]``), padded by one point so
    that no index needs capping. ``kind`` "pert" (Beta(a, b)) or "triangular" (mode at ``a``)."""
    table = low + width * (_beta_table(a, b) if kind == "pert" else _triangular_table(a))
    values = np.append(table, table[-1])
    return values, np.diff(values, append=values[-1])


def _read_table(table: tuple[np.ndarray, np.ndarray], z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Quantile at Phi(z) by linear interpolation in a table on an even grid of scores, written to ``out``.

    ``scipy.special.betaincinv`` costs about 4 microseconds a value (0.4 s per input at 100,000 draws) and even the
    triangular formula's normal CDF about 12 ns; the table is computed once per shape (exactly, at the grid points)
    and read by index arithmetic (a row of draws at a time: blocks that fit the cache cost more in calls than they
    save). Interpolation error is below 1e-7 of the
    distribution's range (checked against the exact quantiles in tests/unit/appraise/test_montecarlo.py); scores
    beyond +/-9 (probability below 1e-18) take the end values. ``out`` may be ``z`` itself.
    """
    values, steps_ = table
    low, high, steps = SCORE_GRID
    position = np.subtract(z, low)
    np.multiply(position, steps / (high - low), out=position)
    np.clip(position, 0.0, float(steps), out=position)
    index = position.astype(np.int32)  # truncation = floor (positions are >= 0); int32 halves the gathers' traffic
    np.subtract(position, index, out=position)  # the fraction of the step
    np.take(steps_, index, out=out)
    np.multiply(out, position, out=out)
    np.add(out, np.take(values, index, out=position), out=out)
    return out


def _beta_quantile_of_score(alpha: float, beta: float, z: np.ndarray) -> np.ndarray:
    """Beta quantile at Phi(z), read from the table (see :func:`_read_table`)."""
    return _read_table(_padded("pert", alpha, beta), np.asarray(z, dtype=float), np.empty(np.shape(z)))


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


def _multipliers(u: Uncertainty, z: np.ndarray, out: np.ndarray) -> None:
    """Write the multipliers of ``u`` for scores ``z`` to ``out`` (which may be ``z``): the Monte Carlo's fast path.

    Triangular and PERT inputs are read from their quantile tables (:func:`_read_table`; the triangular within
    1e-7 of its range of the exact formula used by :func:`multipliers_from_scores`); the others as there.
    """
    d = u.distribution
    if d in ("triangular", "pert"):
        low, mode, high = _params(u, "low", "mode", "high")
        _check_order(u, low, mode, high)
        width = high - low
        if width == 0:
            out.fill(low)
            return
        if d == "pert":
            shape = (1.0 + PERT_SHAPE * (mode - low) / width, 1.0 + PERT_SHAPE * (high - mode) / width)
        else:
            shape = ((mode - low) / width, 0.0)
        _read_table(_padded(d, *shape, low, width), z, out)
        return
    out[...] = multipliers_from_scores(u, z)


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


def _components(corr: np.ndarray) -> list[np.ndarray]:
    """The groups of inputs linked by correlations (connected components), each in input order; singletons left out."""
    k = corr.shape[0]
    linked = np.abs(corr - np.eye(k)) > 0
    seen = np.zeros(k, dtype=bool)
    groups = []
    for start in np.flatnonzero(linked.any(axis=1)):
        if seen[start]:
            continue
        group, frontier = {int(start)}, [int(start)]
        while frontier:
            i = frontier.pop()
            for j in np.flatnonzero(linked[i]):
                if int(j) not in group:
                    group.add(int(j))
                    frontier.append(int(j))
        seen[list(group)] = True
        groups.append(np.array(sorted(group)))
    return groups


def _raw_scores(case: EconomicCase, draws: int | None, seed: int | None) -> tuple[np.ndarray, list]:
    """Independent standard-normal scores (uncertainties x draws) and, per group of correlated inputs, the group
    and the Cholesky factor of its correlation matrix."""
    n = case.draws if draws is None else draws
    rng = np.random.default_rng(case.seed if seed is None else seed)
    z = rng.standard_normal((len(case.uncertainties), n))
    factors = []
    if case.correlations:
        corr = correlation_matrix(case)
        for group in _components(corr):
            try:
                factors.append((group, np.linalg.cholesky(corr[np.ix_(group, group)])))
            except np.linalg.LinAlgError as exc:
                raise ValidationError(
                    "the correlations are inconsistent (their matrix is not positive definite): loosen the strongest"
                    " ones"
                ) from exc
    return z, factors


def _correlated_rows(z: np.ndarray, group: np.ndarray, chol: np.ndarray):
    """Yield (input index, its correlated scores) for a group, last input first, computed from ``z``'s raw rows.

    Row r of ``L z`` needs raw rows 0..r only, so taking the rows from the last one back lets the caller overwrite
    row r as soon as it is yielded (the yielded array is a work buffer, reused).
    """
    mixed, term = np.empty(z.shape[1]), np.empty(z.shape[1])
    for r in range(len(group) - 1, -1, -1):
        np.multiply(z[group[r]], chol[r, r], out=mixed)
        for j in range(r):
            if chol[r, j] != 0.0:
                np.multiply(z[group[j]], chol[r, j], out=term)
                mixed += term
        yield int(group[r]), mixed


def correlated_scores(case: EconomicCase, draws: int | None = None, seed: int | None = None) -> np.ndarray:
    """Standard-normal scores, uncertainties x draws (one contiguous row per input), correlated as the case says.

    Row ``k`` is input ``k``'s scores; columns are draws. Cholesky factor ``L`` of the correlation matrix times
    independent scores (NORTA, Cario & Nelson 1997). ``L`` is block-diagonal over the groups of inputs linked by
    correlations (the Cholesky factor of a matrix whose inputs fall into unlinked groups is the factors of the
    groups), so each group is mixed by its own small factor and inputs named in no correlation are left as drawn.
    """
    z, factors = _raw_scores(case, draws, seed)
    for group, chol in factors:
        for k, row in _correlated_rows(z, group, chol):
            z[k] = row
    return z


def _targets(case: EconomicCase) -> list[tuple[int, int, list[int]]]:
    """(option index, category index, uncertainty indices) for every option x category an uncertainty moves."""
    keys = {k: i for i, k in enumerate(case.option_keys)}
    moved: dict[tuple[int, int], list[int]] = {}
    for k, u in enumerate(case.uncertainties):
        if u.is_delay:
            continue
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


def delay_targets(case: EconomicCase) -> dict[int, int]:
    """Option index -> the index of the uncertainty that draws its benefit delay (at most one per option)."""
    keys = {k: i for i, k in enumerate(case.option_keys)}
    out: dict[int, int] = {}
    for k, u in enumerate(case.uncertainties):
        if not u.is_delay:
            continue
        for target in u.targets:
            option = target.partition(".")[0]
            if option not in keys:
                raise ValidationError(f"uncertainty {u.name!r}: no option {option!r} in the case")
            o = keys[option]
            if case.options[o].timing is None:
                raise ValidationError(f"uncertainty {u.name!r}: option {option!r} has no benefit timing")
            if o in out:
                raise ValidationError(f"option {option!r}: two uncertainties draw its benefit delay")
            out[o] = k
    return out


def _delay_reader(prep: Prepared, o: int, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For option ``o`` and its drawn planned delays: the table of its present values (grid points x categories),
    and per draw the grid index and the fraction of the step (see the module docstring)."""
    point = float(prep.timing[o].delay_years)
    cap = prep.n_years / prep.delay_factor[o] + 2 * DELAY_STEP  # beyond this no timed benefit is left in the horizon
    d = np.clip(drawn, 0.0, cap)
    j_lo = int(np.floor((float(d.min()) - point) / DELAY_STEP)) - 1
    j_hi = int(np.ceil((float(d.max()) - point) / DELAY_STEP)) + 1
    j_lo, j_hi = min(j_lo, -1), max(j_hi, 1)
    grid = point + DELAY_STEP * np.arange(j_lo, j_hi + 1)
    table = timed_pv(prep, o, grid)
    position = (d - point) / DELAY_STEP  # exactly 0 at the point delay, so its draws read the grid point itself
    position -= j_lo
    index = np.minimum(np.floor(position).astype(np.intp), len(grid) - 2)
    return table, index, position - index


def npsv_draws(
    case: EconomicCase, prepared: Prepared | None = None, draws: int | None = None, seed: int | None = None
) -> np.ndarray:
    """NPSV of every option in every draw (draws x options), common random numbers across options.

    Computed as options x draws (each option's draws contiguous) and returned transposed (a view).
    """
    prep = prepared or prepare(case)
    pv = prep.pv
    base = pv @ SIGN
    n = case.draws if draws is None else draws
    if n < 1:
        raise ValidationError("draws must be at least 1")
    out = np.empty((len(base), n))
    out[...] = base[:, None]
    if not case.uncertainties:
        return out.T
    # Each input's row of scores becomes its multipliers, in place; correlated inputs are mixed on the way.
    multipliers, factors = _raw_scores(case, n, seed)
    correlated = np.zeros(len(case.uncertainties), dtype=bool)
    for group, chol in factors:
        correlated[group] = True
        for k, row in _correlated_rows(multipliers, group, chol):
            _multipliers(case.uncertainties[k], row, multipliers[k])
    for k, u in enumerate(case.uncertainties):
        if not correlated[k]:
            _multipliers(u, multipliers[k], multipliers[k])
    # Each moved option x category adds effect x (product of its multipliers - 1), the change from the point.
    change = np.empty(n)
    moved = {(o, c): ks for o, c, ks in _targets(case)}
    for o, k in delay_targets(case).items():
        table, index, fraction = _delay_reader(prep, o, multipliers[k])
        for c in range(len(CATEGORIES)):
            if not np.any(table[:, c] != pv[o, c]):
                continue  # the delay does not move this category
            ks = moved.pop((o, c), [])
            # the tabulated present value of each draw's delay, times the draw's multipliers on the same flows
            np.take(table[:, c], index, out=change)
            step = np.take(table[:, c], index + 1)
            step -= change
            step *= fraction
            change += step
            for kk in ks:
                change *= multipliers[kk]
            change -= pv[o, c]
            change *= SIGN[c]
            out[o] += change
    for (o, c), ks in sorted(moved.items()):
        effect = SIGN[c] * pv[o, c]
        if effect == 0.0:
            continue
        if len(ks) == 1:
            np.subtract(multipliers[ks[0]], 1.0, out=change)
        else:
            np.multiply(multipliers[ks[0]], multipliers[ks[1]], out=change)
            for k in ks[2:]:
                change *= multipliers[k]
            change -= 1.0
        change *= effect
        out[o] += change
    return out.T


QUANTILES = (10, 50, 90)  # P10 / P50 / P90
SAMPLE_STRIDE = 32  # every 32nd draw brackets the order statistics the percentiles need (see _percentiles)


def _order_statistics(x: np.ndarray, sample: np.ndarray, ranks: tuple[int, int]) -> tuple[float, float] | None:
    """The values of rank ``ranks`` (0-based, ``ranks[0] <= ranks[1]``) in ``x``, exactly, or None if the bracket
    missed.

    Selecting in all of ``x`` (``np.partition``) costs about 1 ms per 100,000 values and rank; instead ``sample``
    (every :data:`SAMPLE_STRIDE`-th value of ``x``, sorted) gives a bracket [lo, hi] around the ranks (+/- 4
    standard errors of a sample quantile, plus 2), the values below ``lo`` are counted and only those inside the
    bracket are partitioned. The answer is exact whenever the bracket holds both ranks (checked by counting);
    otherwise None.
    """
    n, m = x.shape[0], sample.shape[0]
    p0, p1 = ranks[0] / n, ranks[1] / n
    margin = 4.0 * np.sqrt(m * max(p0 * (1 - p0), p1 * (1 - p1), 1.0 / m)) + 2.0
    i_lo, i_hi = int(np.floor(p0 * m - margin)), int(np.ceil(p1 * m + margin))
    if i_lo <= 0 or i_hi >= m - 1:
        return None
    lo, hi = sample[i_lo], sample[i_hi]
    below = int(np.count_nonzero(x < lo))
    inside = x[(x >= lo) & (x <= hi)]
    if not below <= ranks[0] <= ranks[1] < below + inside.shape[0]:
        return None
    found = np.partition(inside, [ranks[0] - below, ranks[1] - below])
    return float(found[ranks[0] - below]), float(found[ranks[1] - below])


def _percentiles(rows: np.ndarray, qs: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """``np.percentile(rows, qs, axis=1)`` (its default "linear" method, bit for bit), faster on long rows.

    The virtual index ``(n - 1) q`` and the interpolation ``a + (b - a) g`` (``b - (b - a)(1 - g)`` when g >= 0.5)
    are numpy's own (numpy/lib/_function_base_impl.py, ``_quantile`` and ``_lerp``); the two order statistics
    each needs come from :func:`_order_statistics`. Short rows, rows with NaN and missed brackets use numpy.
    Equality with numpy is tested (tests/unit/appraise/test_montecarlo.py).
    """
    n = rows.shape[1]
    if n < 64 * SAMPLE_STRIDE or np.isnan(rows).any():
        return np.percentile(rows, qs, axis=1)
    q = np.true_divide(np.asarray(qs, dtype=float), 100)
    virtual = (n - 1) * q
    previous = np.floor(virtual).astype(np.intp)
    gamma = virtual - previous
    following = np.minimum(previous + 1, n - 1)
    out = np.empty((len(qs), rows.shape[0]))
    for o, x in enumerate(rows):
        sample = np.sort(x[::SAMPLE_STRIDE])
        for i in range(len(qs)):
            pair = _order_statistics(x, sample, (int(previous[i]), int(following[i])))
            if pair is None:
                return np.percentile(rows, qs, axis=1)
            a, b = pair
            diff = b - a
            out[i, o] = b - diff * (1 - gamma[i]) if gamma[i] >= 0.5 else a + diff * gamma[i]
    return out


def summarise(npsv: np.ndarray, keys: list[str], deterministic: np.ndarray | None = None) -> tuple[pd.DataFrame, float]:
    """Per-option summary of a draws x options NPSV array, and the EVPI."""
    rows = np.ascontiguousarray(npsv.T)  # options x draws (no copy for npsv_draws' answer)
    n_options, n = rows.shape
    # The best option of each draw (the first on a tie, as argmax) and the best NPSV, one option at a time.
    top = rows[0].copy()
    best = np.zeros(n, dtype=np.intp)
    ahead = np.empty(n, dtype=bool)
    for o in range(1, n_options):
        np.greater(rows[o], top, out=ahead)
        best[ahead] = o
        np.maximum(top, rows[o], out=top)
    p_best = np.bincount(best, minlength=n_options) / n
    p10, p50, p90 = _percentiles(rows)
    mean = rows.mean(axis=1)
    summary = pd.DataFrame(
        {
            "mean": mean,
            "sd": rows.std(axis=1, ddof=1) if n > 1 else np.zeros(n_options),
            "p10": p10,
            "p50": p50,
            "p90": p90,
            "p_best": p_best,
            "p_positive": np.count_nonzero(rows > 0, axis=1) / n,
        },
        index=pd.Index(keys, name="option"),
    )
    if deterministic is not None:
        summary["deterministic"] = deterministic
    evpi = float(top.mean() - mean.max())
    return summary, max(evpi, 0.0)


def simulate(case: EconomicCase) -> MonteCarloResult:
    """Simulate ``case.draws`` draws (seed ``case.seed``) and summarise them."""
    prep = prepare(case)
    npsv = npsv_draws(case, prep)
    summary, evpi = summarise(npsv, prep.keys, prep.npsv())
    return MonteCarloResult(prep.keys, npsv, summary, evpi, npsv.shape[0], case.seed)
