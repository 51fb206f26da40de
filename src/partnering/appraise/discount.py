"""Discounting by the Green Book's declining schedules.

The discount factor of year ``t`` is the product of ``1 / (1 + r_s)`` for ``s = 1 .. t``, where ``r_s`` is the rate
of the band holding year ``s``; year 0 is undiscounted (HM Treasury Green Book 2022, Annex A6; 2026, chapter 6).
Within the first band this is ``1 / 1.035**t``; beyond it the factor continues from the last year of the previous
band at the lower rate. Health effects use the health schedule, as the DHSC CIA model does.
"""

from __future__ import annotations

import numpy as np

from partnering.appraise.parameters import Parameters, resolve
from partnering.errors import ValidationError

SCHEDULES = ("standard", "health", "long_horizon")


def yearly_rates(n_years: int, schedule: str = "standard", vintage: str | int = "2026", parameters=None) -> np.ndarray:
    """The rate applying to each year 0 .. n_years-1 (year 0's rate is shown but never used)."""
    params: Parameters = resolve(parameters)
    sched = params.schedule(schedule, vintage)
    years = np.arange(n_years)
    band = np.searchsorted(np.asarray(sched.band_starts), years, side="right") - 1
    return np.asarray(sched.rates, dtype=float)[band]


def discount_factors(
    n_years: int,
    schedule: str = "standard",
    vintage: str | int = "2026",
    parameters=None,
    shift: float = 0.0,
) -> np.ndarray:
    """Discount factors for years 0 .. n_years-1 (year 0 = 1).

    ``shift`` adds a constant to every rate (in fractions: 0.01 = one percentage point), for sensitivity tests.
    """
    if n_years < 0:
        raise ValidationError("the number of years cannot be negative")
    rates = yearly_rates(n_years, schedule, vintage, parameters) + shift
    if np.any(rates <= -1.0):
        raise ValidationError("a discount rate of -100% or below has no discount factor")
    growth = np.ones(n_years)
    growth[1:] = 1.0 + rates[1:]
    return 1.0 / np.cumprod(growth)


def present_value(
    flows, schedule: str = "standard", vintage: str | int = "2026", parameters=None, shift: float = 0.0
) -> float:
    """The present value of yearly ``flows`` (year 0 first) under ``schedule``."""
    values = np.asarray(flows, dtype=float)
    if values.ndim != 1:
        raise ValidationError("flows must be a list of yearly values, year 0 first")
    if not np.all(np.isfinite(values)):
        raise ValidationError("flows hold a missing or infinite value")
    return float(values @ discount_factors(len(values), schedule, vintage, parameters, shift))
