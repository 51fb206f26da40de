"""Switching values against hand-worked roots, and tornado data.

Roots by hand: a cost of 100 in year 0 and a benefit B a year in years 1-3 break even when B x (1/1.035 +
1/1.035^2 + 1/1.035^3) = 100; a flow of -100 now and +110 next year has NPSV zero at a 10% rate, i.e. a shift of
6.5 points on the Green Book's 3.5% (Annex A6).
"""

import pytest

from partnering.appraise.model import EconomicCase, Option, Uncertainty
from partnering.appraise.sensitivity import switching_values, tornado

pytestmark = pytest.mark.unit

ANNUITY = 1 / 1.035 + 1 / 1.035**2 + 1 / 1.035**3


def _case():
    bau = Option("bau", "BAU", "bau", {"revenue_cost": [0.0, 0.0, 0.0, 0.0]})
    make = Option("make", "Make", "make", {"capital_cost": [100.0, 0, 0, 0], "cash_releasing_benefit": [0, 40, 40, 40]})
    return EconomicCase([bau, make], 2026)


def _row(frame, input_name, option):
    return frame[(frame.input == input_name) & (frame.option == option)].iloc[0]


def test_benefit_multiplier_that_makes_npsv_zero():
    row = _row(switching_values(_case()), "make.cash_releasing_benefit", "make")
    assert row.npsv_zero_at == pytest.approx(100 / (40 * ANNUITY), rel=1e-10)
    # make is preferred (NPSV > 0 = BAU's): it stops being preferred at the same multiplier.
    assert row.preferred == "make"
    assert row.preferred_changes_at == pytest.approx(100 / (40 * ANNUITY), rel=1e-10)
    assert row.preferred_after == "bau"


def test_capital_cost_multiplier_that_makes_npsv_zero():
    row = _row(switching_values(_case()), "make.capital_cost", "make")
    assert row.npsv_zero_at == pytest.approx(40 * ANNUITY / 100, rel=1e-10)
    assert row.npsv_zero_change == pytest.approx(40 * ANNUITY / 100 - 1, rel=1e-10)


def test_discount_shift_that_makes_npsv_zero():
    project = Option("p", "P", "make", {"capital_cost": [100.0, 0.0], "cash_releasing_benefit": [0.0, 110.0]})
    row = _row(switching_values(EconomicCase([project], 2026)), "discount_shift", "p")
    assert row.npsv_zero_at == pytest.approx(0.065, abs=1e-9)


def test_qaly_value_that_makes_npsv_zero():
    option = Option("p", "P", "partner", {"revenue_cost": [0.0, 50.0], "qalys": [0.0, 0.001]})
    row = _row(switching_values(EconomicCase([option], 2026)), "qaly_value", "p")
    # 0.001 x V / 1.015 = 50 / 1.035
    assert row.npsv_zero_at == pytest.approx(50 / 1.035 * 1.015 / 0.001, rel=1e-10)


def test_no_switch_within_range_reads_nan():
    frame = switching_values(_case())
    assert "bau.revenue_cost" not in set(frame.input)  # a zero flow has nothing to switch
    benefit_only = Option("b", "B", "make", {"cash_releasing_benefit": [10.0]})
    row = _row(switching_values(EconomicCase([benefit_only], 2026)), "b.cash_releasing_benefit", "b")
    assert row.npsv_zero_at == pytest.approx(0.0)  # only no benefit at all makes it zero
    assert row.preferred_changes_at != row.preferred_changes_at  # NaN: a single option cannot be overtaken


def test_tornado_orders_by_swing_and_uses_uncertainty_percentiles():
    case = _case()
    case.uncertainties.append(
        Uncertainty("benefits", ("make.cash_releasing_benefit",), "uniform", {"low": 0.5, "high": 1.5}, "test range")
    )
    frame = tornado(case, "make")
    assert list(frame.swing) == sorted(frame.swing, reverse=True)
    benefits = frame[frame.input == "benefits"].iloc[0]
    assert benefits.low_value == pytest.approx(0.6) and benefits.high_value == pytest.approx(1.4)  # P10/P90
    assert benefits.npsv_high - benefits.npsv_low == pytest.approx(0.8 * 120 * ANNUITY / 3)
    capital = frame[frame.input == "make.capital_cost"].iloc[0]
    assert capital.npsv_low - capital.npsv_high == pytest.approx(40.0)  # +/-20% of 100: the low cost, the higher NPSV
    assert frame.attrs["base_npsv"] == pytest.approx(40 * ANNUITY - 100)
