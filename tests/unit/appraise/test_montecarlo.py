"""Monte Carlo: convergence to the deterministic NPSV, correlations, common random numbers, EVPI.

EVPI check: with option A's NPSV fixed at 0 and option B's NPSV ~ Normal(0, s), EVPI = E[max(0, X)] = s/sqrt(2 pi)
(the mean of a half-normal over two; Raiffa & Schlaifer 1961 for EVPI's definition).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from partnering.appraise.economics import evaluate
from partnering.appraise.model import CATEGORIES, EconomicCase, Option, Uncertainty
from partnering.appraise.montecarlo import multipliers_from_scores, simulate
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

COLLAPSED = {
    "fixed": {"value": 1.0},
    "normal": {"mean": 1.0, "sd": 0.0},
    "lognormal": {"median": 1.0, "sigma": 0.0},
    "uniform": {"low": 1.0, "high": 1.0},
    "triangular": {"low": 1.0, "mode": 1.0, "high": 1.0},
    "pert": {"low": 1.0, "mode": 1.0, "high": 1.0},
}

flows = st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=3, max_size=3)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.tuples(st.sampled_from(CATEGORIES), flows), min_size=1, max_size=6),
    distribution=st.sampled_from(sorted(COLLAPSED)),
    rho=st.floats(-0.9, 0.9),
    seed=st.integers(0, 2**31 - 1),
)
def test_collapsed_distributions_give_the_deterministic_npsv(values, distribution, rho, seed):
    a = Option("a", "A", "make", {c: v for c, v in values})
    b = Option("b", "B", "partner", {c: [x / 2 for x in v] for c, v in values})
    uncertainties = [
        Uncertainty(f"u{i}", (f"*.{c}",), distribution, COLLAPSED[distribution]) for i, c in enumerate(CATEGORIES)
    ]
    case = EconomicCase(
        [a, b], 2026, uncertainties=uncertainties, correlations=[("u0", "u1", rho)], draws=200, seed=seed
    )
    result = simulate(case)
    expected = evaluate(case)["npsv"].to_numpy()
    np.testing.assert_allclose(result.summary["mean"].to_numpy(), expected, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(result.summary["p10"].to_numpy(), expected, rtol=1e-12, atol=1e-6)


def _two_options(b_distribution, b_params, draws=200_000):
    a = Option("a", "A", "bau", {"revenue_cost": [0.0]})
    b = Option("b", "B", "make", {"capital_cost": [100.0], "cash_releasing_benefit": [100.0]})
    u = Uncertainty("benefit", ("b.cash_releasing_benefit",), b_distribution, b_params)
    return EconomicCase([a, b], 2026, uncertainties=[u], draws=draws, seed=7)


def test_evpi_matches_the_half_normal_formula():
    result = simulate(_two_options("normal", {"mean": 1.0, "sd": 1.0}))  # NPSV_b ~ N(0, 100)
    assert result.evpi == pytest.approx(100 / math.sqrt(2 * math.pi), abs=1.0)
    assert result.summary.loc["b", "p_best"] == pytest.approx(0.5, abs=0.01)
    assert result.summary.loc["b", "p50"] == pytest.approx(0.0, abs=1.0)
    assert result.summary.loc["b", "p90"] == pytest.approx(128.155, abs=2.0)  # 1.2816 x 100


def test_mean_converges_for_symmetric_uncertainty():
    result = simulate(_two_options("triangular", {"low": 0.5, "mode": 1.0, "high": 1.5}))
    se = result.summary.loc["b", "sd"] / math.sqrt(result.draws)
    assert abs(result.summary.loc["b", "mean"] - 0.0) < 4 * se


def test_correlation_of_normal_scores_reaches_the_inputs():
    a = Option("a", "A", "make", {"capital_cost": [1.0], "revenue_cost": [1.0]})
    us = [
        Uncertainty("x", ("a.capital_cost",), "triangular", {"low": 0.8, "mode": 1.0, "high": 1.6}),
        Uncertainty("y", ("a.revenue_cost",), "pert", {"low": 0.9, "mode": 1.0, "high": 2.0}),
    ]
    case = EconomicCase([a], 2026, uncertainties=us, correlations=[("x", "y", 0.7)], draws=50_000, seed=3)
    from partnering.appraise.montecarlo import correlated_scores

    z = correlated_scores(case)
    x = multipliers_from_scores(us[0], z[0])
    y = multipliers_from_scores(us[1], z[1])
    assert stats.spearmanr(x, y).statistic == pytest.approx(0.7, abs=0.03)


def test_common_random_numbers_move_options_together():
    a = Option("a", "A", "make", {"cash_releasing_benefit": [100.0]})
    b = Option("b", "B", "partner", {"cash_releasing_benefit": [101.0]})
    u = Uncertainty("savings", ("*.cash_releasing_benefit",), "uniform", {"low": 0.5, "high": 1.5})
    result = simulate(EconomicCase([a, b], 2026, uncertainties=[u], draws=5_000))
    assert result.summary.loc["b", "p_best"] == 1.0  # the same draw scales both: b is always ahead
    assert result.evpi == pytest.approx(0.0, abs=1e-9)


def test_seed_reproduces_and_multipliers_follow_their_distributions():
    case = _two_options("lognormal", {"median": 1.0, "sigma": 0.2}, draws=1_000)
    np.testing.assert_array_equal(simulate(case).npsv, simulate(case).npsv)
    u = Uncertainty("t", ("*.qalys",), "triangular", {"low": 0.0, "mode": 1.0, "high": 4.0})
    assert multipliers_from_scores(u, np.array([0.0]))[0] == pytest.approx(4 - math.sqrt(0.5 * 4 * 3))  # median


def test_bad_inputs_are_refused():
    u = [Uncertainty(n, ("a.capital_cost",), "normal", {"mean": 1, "sd": 0.1}) for n in "xyz"]
    a = Option("a", "A", "make", {"capital_cost": [1.0]})
    bad = [("x", "y", 0.9), ("y", "z", 0.9), ("x", "z", -0.9)]
    with pytest.raises(ValidationError, match="positive definite"):
        simulate(EconomicCase([a], 2026, uncertainties=u, correlations=bad))
    stray = Uncertainty("s", ("nope.capital_cost",), "fixed", {"value": 1.0})
    with pytest.raises(ValidationError, match="no option 'nope'"):
        simulate(EconomicCase([a], 2026, uncertainties=[stray]))
    with pytest.raises(ValidationError, match="low <= mode <= high"):
        simulate(
            EconomicCase(
                [a],
                2026,
                uncertainties=[Uncertainty("t", ("a.capital_cost",), "pert", {"low": 1.2, "mode": 1.0, "high": 1.5})],
            )
        )


@pytest.mark.parametrize("low,mode,high", [(0.8, 1.0, 1.5), (0.0, 0.0, 1.0), (0.9, 2.0, 2.0), (0.5, 1.0, 1.5)])
def test_pert_quantiles_agree_with_the_exact_beta_quantile(low, mode, high):
    # PERT = low + (high - low) x Beta(1 + 4 (mode - low) / w, 1 + 4 (high - mode) / w) (Malcolm et al. 1959)
    w = high - low
    a, b = 1 + 4 * (mode - low) / w, 1 + 4 * (high - mode) / w
    z = np.random.default_rng(11).standard_normal(20_000)
    u = Uncertainty("p", ("*.qalys",), "pert", {"low": low, "mode": mode, "high": high})
    exact = low + w * stats.beta.ppf(stats.norm.cdf(z), a, b)
    np.testing.assert_allclose(multipliers_from_scores(u, z), exact, rtol=0, atol=1e-7 * w)


@pytest.mark.parametrize("low,mode,high", [(0.7, 1.0, 1.3), (0.0, 0.0, 1.0), (0.9, 2.0, 2.0), (0.5, 0.6, 3.0)])
@pytest.mark.parametrize("distribution", ["triangular", "pert"])
def test_the_fast_table_path_agrees_with_the_exact_quantiles(distribution, low, mode, high):
    # The Monte Carlo reads triangular and PERT quantiles from tables; the exact triangular inverse CDF is
    # low + sqrt(p w (mode - low)) below the mode, high - sqrt((1 - p) w (high - mode)) above (p = Phi(z)).
    from partnering.appraise.montecarlo import _multipliers

    w = high - low
    z = np.concatenate([np.random.default_rng(5).standard_normal(50_000), [-9.0, 0.0, 9.0]])
    u = Uncertainty("t", ("*.qalys",), distribution, {"low": low, "mode": mode, "high": high})
    if distribution == "pert":
        a, b = 1 + 4 * (mode - low) / w, 1 + 4 * (high - mode) / w
        exact = low + w * stats.beta.ppf(stats.norm.cdf(z), a, b)
    else:
        exact = stats.triang.ppf(stats.norm.cdf(z), (mode - low) / w, loc=low, scale=w)
    out = np.empty_like(z)
    _multipliers(u, z, out)
    np.testing.assert_allclose(out, exact, rtol=0, atol=1e-7 * w)
    np.testing.assert_allclose(multipliers_from_scores(u, z), exact, rtol=0, atol=1e-7 * w)
    beyond = np.array([-12.0, -9.0, 9.0, 12.0])  # scores beyond +/-9 (probability < 1e-18) take the end values
    _multipliers(u, beyond, beyond)
    assert beyond[0] == beyond[1] and beyond[2] == beyond[3]


def test_percentiles_equal_numpys_bit_for_bit():
    from partnering.appraise.montecarlo import _percentiles

    rng = np.random.default_rng(2026)
    for trial in range(60):
        n, k = int(rng.integers(1_000, 120_000)), int(rng.integers(1, 6))
        rows = [
            rng.standard_normal((k, n)) * 1e7 + 3e7,
            np.round(rng.standard_normal((k, n)) * 3),  # heavy ties
            rng.lognormal(0, 3, (k, n)),
            np.where(rng.random((k, n)) < 0.7, 5.0, rng.standard_normal((k, n))),  # one value most of the time
        ][trial % 4]
        np.testing.assert_array_equal(_percentiles(rows), np.percentile(rows, [10, 50, 90], axis=1))
    rows[0, 7] = np.nan
    np.testing.assert_array_equal(_percentiles(rows), np.percentile(rows, [10, 50, 90], axis=1))


def test_fused_draws_equal_the_step_by_step_computation():
    # npsv_draws mixes correlated groups by their own Cholesky factors and turns scores into multipliers on the
    # way; step by step: the full Cholesky factor times the raw scores, the exact inverse CDFs, effect x (m - 1).
    from partnering.appraise.economics import SIGN, prepare
    from partnering.appraise.montecarlo import _targets, correlated_scores, correlation_matrix, npsv_draws

    a = Option("a", "A", "make", {"capital_cost": [5.0, 1.0], "revenue_cost": [2.0, 2.0], "qalys": [0.0, 1e-3]})
    b = Option("b", "B", "partner", {"capital_cost": [3.0, 0.0], "cash_releasing_benefit": [1.0, 4.0]})
    us = [
        Uncertainty("cap", ("*.capital_cost",), "triangular", {"low": 0.8, "mode": 1.0, "high": 1.6}),
        Uncertainty("rev", ("a.revenue_cost",), "pert", {"low": 0.9, "mode": 1.0, "high": 2.0}),
        Uncertainty("q", ("a.qalys",), "lognormal", {"median": 1.0, "sigma": 0.3}),
        Uncertainty("s", ("b.cash_releasing_benefit", "b.capital_cost"), "normal", {"mean": 1.0, "sd": 0.2}),
        Uncertainty("f", ("a.revenue_cost",), "uniform", {"low": 0.9, "high": 1.2}),
    ]
    corr = [("cap", "s", 0.6), ("s", "q", -0.3), ("rev", "f", 0.4)]
    case = EconomicCase([a, b], 2026, uncertainties=us, correlations=corr, draws=20_000, seed=9)
    raw = np.random.default_rng(9).standard_normal((len(us), 20_000))
    z = np.linalg.cholesky(correlation_matrix(case)) @ raw
    np.testing.assert_allclose(correlated_scores(case), z, rtol=0, atol=1e-12)
    m = np.array([multipliers_from_scores(u, z[k]) for k, u in enumerate(us)])
    pv = prepare(case).pv
    expected = np.tile(pv @ SIGN, (20_000, 1))
    for o, c, ks in _targets(case):
        expected[:, o] += SIGN[c] * pv[o, c] * (np.prod(m[ks], axis=0) - 1.0)
    scale = np.abs(pv).sum(axis=1)
    np.testing.assert_allclose(npsv_draws(case), expected, rtol=0, atol=1e-7 * 0.8 * scale.max())
