"""Benefit delays: exact ramp shares, the works-duration optimism bias that lengthens them (Mott MacDonald's worked
example), uncertain delays in the Monte Carlo (collapsed distributions reproduce the deterministic NPSV; draws agree
with re-appraising each delay), switching values and tornado rows on the delay, the QALY value's price year."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnering.appraise.case import parse_case, to_economic_case
from partnering.appraise.economics import evaluate, prepare, ramp_profile
from partnering.appraise.model import BenefitTiming, EconomicCase, OptimismBias, Option, Uncertainty
from partnering.appraise.montecarlo import correlated_scores, multipliers_from_scores, simulate
from partnering.appraise.parameters import load_parameters, qaly_value_at
from partnering.appraise.sensitivity import switching_values, tornado
from partnering.errors import IngestError, ValidationError

pytestmark = pytest.mark.unit

YEARS = 12


def _case(timing: BenefitTiming, uncertainties=(), correlations=(), draws=2_000, seed=3, mix=None, price_year=2020,
          parameters=None) -> EconomicCase:
    bau = Option("bau", "BAU", "bau", {"revenue_cost": [1.0] * YEARS})
    merge = Option("merge", "Merge", "merge",
                   {"capital_cost": [40.0] + [0.0] * (YEARS - 1), "cash_releasing_benefit": [12.0] * YEARS,
                    "qalys": [0.0002] * YEARS, "revenue_cost": [2.0] * YEARS},
                   optimism_bias=OptimismBias(mix or {"equipment_development": 1.0}, stage="SOC"), timing=timing)
    return EconomicCase([bau, merge], price_year, uncertainties=list(uncertainties), correlations=list(correlations),
                        draws=draws, seed=seed, parameters=parameters)


# ------------------------------------------------------------------------------------------------ ramp shares


@pytest.mark.parametrize("delay,ramp", [(0.0, 0.0), (0.5, 0.0), (1.3, 0.0), (2.0, 3.0), (0.37, 1.7), (11.9, 2.0)])
def test_ramp_shares_are_the_exact_yearly_average_of_the_line(delay, ramp):
    fine = (np.arange(YEARS * 10_000) + 0.5) / 10_000  # midpoints of 10,000 steps a year
    line = (fine >= delay).astype(float) if ramp == 0 else np.clip((fine - delay) / ramp, 0.0, 1.0)
    expected = line.reshape(YEARS, -1).mean(axis=1)
    np.testing.assert_allclose(ramp_profile(YEARS, delay, ramp), expected, atol=2e-4)
    # by hand: a delay of 2 and a ramp of 3 give 1/6, 1/2, 5/6 in years 2-4 (the line's averages), then 1
    if (delay, ramp) == (2.0, 3.0):
        assert ramp_profile(6, 2.0, 3.0).tolist() == pytest.approx([0, 0, 1 / 6, 0.5, 5 / 6, 1])


def test_ramp_shares_take_an_array_of_delays():
    shares = ramp_profile(5, np.array([0.0, 1.5, 9.0]), 1.0)
    assert shares.shape == (3, 5)
    np.testing.assert_allclose(shares[1], ramp_profile(5, 1.5, 1.0))
    assert shares[2].sum() == 0.0  # a delay beyond the horizon leaves nothing


# ------------------------------------------------------------------------------------------------ works duration


def test_works_duration_uplift_delays_benefits_as_the_supplementary_guidance_example():
    # HM Treasury supplementary guidance on optimism bias, s.4: a non-standard building's 28-month works duration
    # with the 39% upper bound becomes 38.9 months; with 23.8% of it mitigated, 29.7% and 36.3 months.
    timing = BenefitTiming(delay_years=28 / 12, ramp_years=0.0)
    prep = prepare(_case(timing, mix={"non_standard_buildings": 1.0}))
    assert prep.delay_factor[1] == pytest.approx(1.39)
    assert 28 * prep.delay_factor[1] == pytest.approx(38.92)
    case = _case(timing, mix={"non_standard_buildings": 1.0})
    case.options[1] = Option(**{**case.options[1].__dict__,
                                "optimism_bias": OptimismBias({"non_standard_buildings": 1.0}, mitigation=0.238)})
    mitigated = prepare(case)
    assert 28 * mitigated.delay_factor[1] == pytest.approx(36.32, abs=0.01)
    # the benefits start at the lengthened delay: 38.92 months = 3.2433 years -> year 3 keeps 1 - 0.2433
    share = mitigated.real[1, 3, :] / 12.0  # cash-releasing benefit
    effective = 28 * mitigated.delay_factor[1] / 12
    assert share[:3].tolist() == [0.0, 0.0, 0.0] and share[3] == pytest.approx(4 - effective) and share[4] == 1.0
    # costs are not timed
    assert mitigated.real[1, 1, :].tolist() == [2.0] * YEARS


def test_works_duration_uplift_can_be_switched_off_in_the_registry_or_the_option():
    timing = BenefitTiming(delay_years=2.0, ramp_years=1.0)
    on = prepare(_case(timing))
    assert on.delay_factor[1] == pytest.approx(1.54)  # equipment/development upper bound 54% at SOC
    params = load_parameters({"optimism_bias": {"works_duration_delays_benefits": False}})
    off = prepare(_case(timing, parameters=params))
    assert off.delay_factor[1] == 1.0
    own = prepare(_case(BenefitTiming(2.0, 1.0, works_duration_uplift=False)))
    assert own.delay_factor[1] == 1.0
    np.testing.assert_array_equal(off.real, own.real)
    assert evaluate(_case(timing))["npsv"]["merge"] < evaluate(_case(timing, parameters=params))["npsv"]["merge"]


# ------------------------------------------------------------------------------------------------ Monte Carlo

COLLAPSED = {
    "fixed": lambda d: {"value": d},
    "normal": lambda d: {"mean": d, "sd": 0.0},
    "uniform": lambda d: {"low": d, "high": d},
    "triangular": lambda d: {"low": d, "mode": d, "high": d},
    "pert": lambda d: {"low": d, "mode": d, "high": d},
}


@settings(max_examples=30, deadline=None)
@given(
    delay=st.floats(0.0, 8.0),
    ramp=st.floats(0.0, 4.0),
    distribution=st.sampled_from(sorted(COLLAPSED)),
    rho=st.floats(-0.9, 0.9),
    seed=st.integers(0, 2**31 - 1),
)
def test_collapsed_delay_distributions_give_the_deterministic_npsv(delay, ramp, distribution, rho, seed):
    case = _case(BenefitTiming(delay, ramp),
                 [Uncertainty("delay", ("merge.benefit_delay",), distribution, COLLAPSED[distribution](delay)),
                  Uncertainty("savings", ("*.cash_releasing_benefit",), "fixed", {"value": 1.0})],
                 [("delay", "savings", rho)], draws=200, seed=seed)
    result = simulate(case)
    expected = evaluate(case)["npsv"].to_numpy()
    np.testing.assert_allclose(result.summary["mean"].to_numpy(), expected, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(result.summary["p90"].to_numpy(), expected, rtol=1e-12, atol=1e-6)


def test_uncertain_delay_draws_match_reappraising_each_delay():
    u = Uncertainty("delay", ("merge.benefit_delay",), "triangular", {"low": 1.0, "mode": 2.0, "high": 5.0})
    m = Uncertainty("savings", ("merge.cash_releasing_benefit",), "normal", {"mean": 1.0, "sd": 0.2})
    case = _case(BenefitTiming(2.0, 3.0), [u, m], [("delay", "savings", -0.4)], draws=400, seed=11)
    draws = simulate(case).npsv[:, 1]
    z = correlated_scores(case, 400, 11)
    delays, mult = multipliers_from_scores(u, z[0]), multipliers_from_scores(m, z[1])
    exact = []
    for d, x in zip(delays, mult):
        prep = prepare(case, delays={1: d})
        pv = prep.pv
        pv[1, 3] *= x  # the savings multiplier on the cash-releasing benefit
        exact.append(prep.npsv(pv)[1])
    scale = float(np.abs(prepare(case).pv[1]).sum())
    # the delay table's interpolation and the triangular quantile table: within 1e-5 of the option's total |PV|
    np.testing.assert_allclose(draws, exact, atol=1e-5 * scale)
    # later benefits are worth less: the draws' NPSV falls with the drawn delay
    assert np.corrcoef(delays, draws)[0, 1] < -0.5


def test_delay_uncertainty_needs_a_timed_option_and_one_option():
    bau = Option("bau", "BAU", "bau", {"revenue_cost": [1.0]})
    with pytest.raises(ValidationError, match="no benefit timing"):
        EconomicCase([bau], 2026, uncertainties=[Uncertainty("d", ("bau.benefit_delay",), "fixed", {"value": 1.0})])
    with pytest.raises(ValidationError, match="not '\\*'"):
        Uncertainty("d", ("*.benefit_delay",), "fixed", {"value": 1.0})
    with pytest.raises(ValidationError, match="mixes"):
        Uncertainty("d", ("a.benefit_delay", "a.qalys"), "fixed", {"value": 1.0})


CASE = """
[case]
title = "Delay"
price_base_year = 2026
years = 10

[[options]]
key = "bau"
name = "BAU"
kind = "bau"

[[options]]
key = "merge"
name = "Merge"
kind = "merge"
flows = { cash_releasing_benefit = [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0] }

[options.ramp]
delay_years = 4
ramp_years = 3
works_duration_uplift = false

[[uncertainties]]
name = "merge_delay"
targets = ["{target}"]
distribution = "triangular"
low = 3
mode = 4
high = 7
"""


def test_case_file_takes_a_delay_distribution():
    case = parse_case(CASE.replace("{target}", "merge.benefit_delay"))
    econ = to_economic_case(case)
    assert econ.options[1].timing == BenefitTiming(4.0, 3.0, works_duration_uplift=False)
    assert econ.uncertainties[0].is_delay
    # a 3/4/7 triangular delay is later on average (14/3 years) than its mode: the mean NPSV falls below the point
    result = simulate(econ)
    assert result.summary.loc["merge", "mean"] < evaluate(econ).loc["merge", "npsv"]
    with pytest.raises(IngestError, match="needs an option of this case with a \\[options.ramp\\]"):
        parse_case(CASE.replace("{target}", "bau.benefit_delay"))


# ------------------------------------------------------------------------------------------------ sensitivity


def test_switching_value_and_tornado_row_of_the_delay():
    u = Uncertainty("merge_delay", ("merge.benefit_delay",), "triangular", {"low": 1.0, "mode": 2.0, "high": 5.0})
    case = _case(BenefitTiming(2.0, 3.0), [u])
    sv = switching_values(case)
    row = sv[(sv["input"] == "merge.benefit_delay")].iloc[0]
    assert row["kind"] == "benefit_delay" and row["base"] == 2.0
    root = row["npsv_zero_at"]
    assert row["npsv"] > 0 and 2.0 < root < YEARS
    assert prepare(case, delays={1: root}).npsv()[1] == pytest.approx(0.0, abs=1e-6)
    frame = tornado(case, "merge")
    delay_row = frame[frame["input"] == "merge_delay"].iloc[0]
    low, high = multipliers_from_scores(u, np.array([-1.2815515655446004, 1.2815515655446004]))
    assert delay_row["low_value"] == pytest.approx(low) and delay_row["high_value"] == pytest.approx(high)
    assert delay_row["npsv_low"] == pytest.approx(prepare(case, delays={1: low}).npsv()[1])
    assert delay_row["npsv_high"] < delay_row["npsv_low"]
    # with no uncertainty on it, the delay moves +/-1 year (a documented default)
    plain = tornado(_case(BenefitTiming(2.0, 3.0)), "merge")
    assert plain[plain["input"] == "merge.benefit_delay"][["low_value", "high_value"]].iloc[0].tolist() == [1.0, 3.0]


# ------------------------------------------------------------------------------------------------ QALY price year


def test_qaly_value_in_another_price_year_is_warned_not_invented():
    params = load_parameters()
    assert qaly_value_at(params, 2020) == (70_000.0, None)  # 2020-21 prices, DHSC
    value, warning = qaly_value_at(params, 2026)
    assert value == 70_000.0 and "NOT rebased" in warning and "2020-21" in warning
    assert prepare(_case(BenefitTiming(), price_year=2026)).warnings == (warning,)
    assert prepare(_case(BenefitTiming(), price_year=2020)).warnings == ()
    # with a deflator series supplied (illustrative index values, not published figures) it is rebased
    own = load_parameters({"gdp_deflator": {"index": {"2020-21": 100.0, "2026-27": 120.0}, "vintage": "test",
                                            "source": "test series"}})
    assert qaly_value_at(own, 2026) == (pytest.approx(84_000.0), None)
    assert prepare(_case(BenefitTiming(), price_year=2026, parameters=own)).unit_value[-1] == pytest.approx(84_000.0)
