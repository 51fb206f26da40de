"""Discounting conformance: the Green Book schedules and the worked NPV reproduce exactly.

Figures are facts from public guidance (also listed in ../shared/conformance/appraisal/green-book.md):
HM Treasury Green Book 2022, Annex A6 (rates and bands); NHS Scotland Capital Investment guidance (SCIM), Annex A
Table 2 (the worked NPV 8,253 / 8,253.227 and its discount factors).
"""

import numpy as np
import pytest

from partnering.appraise.discount import discount_factors, present_value, yearly_rates
from partnering.errors import ConfigError, ValidationError

pytestmark = pytest.mark.unit

# SCIM Annex A Table 2: discount factors for years 1-10 at 3.5%, as published (4 decimals).
PUBLISHED_FACTORS = [0.9662, 0.9335, 0.9019, 0.8714, 0.8420, 0.8135, 0.7860, 0.7594, 0.7337, 0.7089]
WORKED_FLOWS = [1000.0] * 10 + [-500.0]  # +1,000 in years 0-9, -500 in year 10


@pytest.mark.parametrize("vintage", ["2022", "2026"])
def test_worked_npv_reproduces_8253_227(vintage):
    npv = present_value(WORKED_FLOWS, "standard", vintage)
    assert round(npv, 3) == 8253.227
    assert round(npv) == 8253


@pytest.mark.parametrize("vintage", ["2022", "2026"])
def test_published_discount_factors_years_1_to_10(vintage):
    factors = discount_factors(11, "standard", vintage)
    assert factors[0] == 1.0  # year 0 undiscounted
    assert [round(f, 4) for f in factors[1:]] == PUBLISHED_FACTORS


def test_bands_continue_from_the_previous_band():
    # Green Book A6: 3.5% for years 0-30, then 3.0% for 31-75, 2.5% for 76-125.
    f = discount_factors(130, "standard", "2022")
    assert f[30] == pytest.approx(1 / 1.035**30, rel=1e-14)
    assert f[31] == pytest.approx(1 / 1.035**30 / 1.03, rel=1e-14)
    assert f[75] == pytest.approx(1 / 1.035**30 / 1.03**45, rel=1e-13)
    assert f[76] == pytest.approx(1 / 1.035**30 / 1.03**45 / 1.025, rel=1e-13)
    assert f[126] == pytest.approx(1 / 1.035**30 / 1.03**45 / 1.025**50 / 1.02, rel=1e-13)


def test_rates_by_band_standard_and_health():
    years = [0, 30, 31, 75, 76, 125, 126, 200, 201, 300, 301, 400]
    standard = yearly_rates(401, "standard", "2026")[years]
    health = yearly_rates(401, "health", "2026")[years]
    assert list(standard) == [0.035, 0.035, 0.03, 0.03, 0.025, 0.025, 0.02, 0.02, 0.015, 0.015, 0.01, 0.01]
    assert list(health) == [
        0.015,
        0.015,
        0.0129,
        0.0129,
        0.0107,
        0.0107,
        0.0086,
        0.0086,
        0.0064,
        0.0064,
        0.0043,
        0.0043,
    ]


def test_health_rate_discounts_qalys_at_1_5_percent():
    f = discount_factors(3, "health", "2022")
    assert f[1] == pytest.approx(1 / 1.015, rel=1e-15)
    assert f[2] == pytest.approx(1 / 1.015**2, rel=1e-15)


def test_shift_moves_every_rate():
    f = discount_factors(3, "standard", "2026", shift=0.01)
    assert f[2] == pytest.approx(1 / 1.045**2, rel=1e-15)


def test_long_horizon_schedule_only_in_2026():
    assert discount_factors(2, "long_horizon", "2026")[1] == pytest.approx(1 / 1.03)
    with pytest.raises(ConfigError):
        discount_factors(2, "long_horizon", "2022")


def test_unknown_vintage_and_bad_flows_are_refused():
    with pytest.raises(ConfigError, match="2019"):
        discount_factors(3, "standard", "2019")
    with pytest.raises(ValidationError):
        present_value([1.0, float("nan")])
    assert present_value([]) == 0.0
    assert np.all(np.diff(discount_factors(500)) < 0)
