"""The deterministic economic case: NPSV, BCR, NPSV per public £, categories, optimism bias, QALYs, ramps.

Expected values are worked by hand from the Green Book definitions (NPSV = PV benefits - PV costs; BCR = PV
benefits / PV costs: Green Book 2022 5.54-5.56), the published rates (3.5% standard, 1.5% health: Annex A6),
the DHSC QALY value (£70,000) and the Mott MacDonald capex bound for standard buildings (24%).
"""

import pytest

from partnering.appraise.economics import cash_flows, delay, evaluate, ramp
from partnering.appraise.model import CATEGORIES, EconomicCase, OptimismBias, Option
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

D1, D2, D3 = 1 / 1.035, 1 / 1.035**2, 1 / 1.035**3


def _case(**kwargs):
    bau = Option("bau", "Business as usual", "bau", {"revenue_cost": [10.0, 10.0, 10.0, 10.0]})
    make = Option(
        "make",
        "Improvement programme",
        "make",
        {
            "capital_cost": [100.0, 0.0, 0.0, 0.0],
            "cash_releasing_benefit": [0.0, 20.0, 20.0, 20.0],
            "non_cash_releasing_benefit": [0.0, 10.0, 10.0, 10.0],
            "societal_benefit": [0.0, 0.0, 0.0, 5.0],
            "qalys": [0.0, 0.001, 0.0, 0.0],
        },
        **kwargs,
    )
    return EconomicCase([bau, make], price_base_year=2026)


def test_npsv_bcr_and_categories_by_hand():
    row = evaluate(_case()).loc["make"]
    pv_qalys = 0.001 * 70000 / 1.015
    benefits = 30 * (D1 + D2 + D3) + 5 * D3 + pv_qalys
    assert row["pv_capital_cost"] == pytest.approx(100.0)
    assert row["pv_cash_releasing_benefit"] == pytest.approx(20 * (D1 + D2 + D3))
    assert row["pv_non_cash_releasing_benefit"] == pytest.approx(10 * (D1 + D2 + D3))
    assert row["pv_societal_benefit"] == pytest.approx(5 * D3)
    assert row["pv_qalys"] == pytest.approx(pv_qalys)
    assert row["pv_benefits"] == pytest.approx(benefits)
    assert row["npsv"] == pytest.approx(benefits - 100.0)
    assert row["bcr"] == pytest.approx(benefits / 100.0)
    assert row["npsv_per_public_pound"] == pytest.approx((benefits - 100.0) / 100.0)
    assert row["qalys"] == pytest.approx(0.001)


def test_bau_row_and_npsv_against_bau():
    frame = evaluate(_case())
    bau_cost = 10 * (1 + D1 + D2 + D3)
    assert frame.loc["bau", "npsv"] == pytest.approx(-bau_cost)
    assert frame.loc["bau", "bcr"] == 0.0
    assert frame.loc["make", "npsv_vs_bau"] == pytest.approx(frame.loc["make", "npsv"] + bau_cost)


def test_optimism_bias_uplifts_capital_cost():
    row = evaluate(_case(optimism_bias=OptimismBias({"standard_buildings": 1.0}))).loc["make"]
    assert row["pv_capital_cost"] == pytest.approx(124.0)  # 24% upper bound, unmitigated
    assert row["optimism_bias_capex"] == pytest.approx(0.24)


def test_public_spend_can_exclude_a_category():
    option = Option(
        "buy",
        "Outsource",
        "buy",
        {"revenue_cost": [50.0], "capital_cost": [30.0]},
        public_spend_categories=("revenue_cost",),
    )
    row = evaluate(EconomicCase([option], 2026)).loc["buy"]
    assert row["pv_public_spend"] == 50.0
    assert row["npsv_per_public_pound"] == pytest.approx(-80.0 / 50.0)


def test_cash_flows_add_up_to_the_evaluation():
    case = _case(optimism_bias=OptimismBias({"standard_buildings": 1.0}, stage="FBC"))
    flows = cash_flows(case)
    assert len(flows) == 2 * len(CATEGORIES) * 4
    frame = evaluate(case)
    for key in ("bau", "make"):
        mine = flows[flows.option == key]
        assert (mine.sign * mine.present_value).sum() == pytest.approx(frame.loc[key, "npsv"])
    capital = flows[(flows.option == "make") & (flows.category == "capital_cost") & (flows.year == 0)].iloc[0]
    assert capital.adjusted_value == pytest.approx(100 * (1 + 0.24 * 0.2))  # FBC: 80% of the 24% mitigated
    assert capital.calendar_year == 2026


def test_long_horizon_sensitivity_runs_beyond_50_years_in_2026_only():
    option = Option("merge", "Merge", "merge", {"revenue_cost": [1.0] * 61, "cash_releasing_benefit": [2.0] * 61})
    long_2026 = evaluate(EconomicCase([option], 2026, vintage="2026"))
    assert "npsv_long_horizon" in long_2026
    assert long_2026.loc["merge", "npsv_long_horizon"] > long_2026.loc["merge", "npsv"]  # lower rates
    assert "npsv_long_horizon" not in evaluate(EconomicCase([option], 2026, vintage="2022"))
    short = Option("merge", "Merge", "merge", {"revenue_cost": [1.0] * 51})
    assert "npsv_long_horizon" not in evaluate(EconomicCase([short], 2026, vintage="2026"))


def test_ramp_and_delay():
    assert list(ramp(90.0, 2, 3, 7)) == [0.0, 0.0, 30.0, 60.0, 90.0, 90.0, 90.0]
    assert list(ramp(5.0, 0, 1, 3)) == [5.0, 5.0, 5.0]
    assert list(delay([1.0, 2.0, 3.0, 4.0], 2)) == [0.0, 0.0, 1.0, 2.0]
    with pytest.raises(ValidationError):
        ramp(1.0, 0, 0, 3)


def test_invalid_options_are_refused():
    with pytest.raises(ValidationError, match="different numbers of years"):
        Option("x", "X", "make", {"capital_cost": [1.0, 2.0], "revenue_cost": [1.0]})
    with pytest.raises(ValidationError, match="unknown flow categories"):
        Option("x", "X", "make", {"capex": [1.0]})
    with pytest.raises(ValidationError, match="kind"):
        Option("x", "X", "franchise", {})
    with pytest.raises(ValidationError, match="unique"):
        EconomicCase([Option("x", "X", "make", {}), Option("x", "Y", "buy", {})], 2026)
