"""The approvals route: delegated limits, HM Treasury thresholds, statutory transactions for mergers."""

from __future__ import annotations

import numpy as np
import pytest

from partnering.appraise.route import RouteThresholds, route_for_option

pytestmark = pytest.mark.unit


def bodies(kind, capital=0.0, revenue=0.0, **kw):
    flows = {"capital_cost": np.array([capital, 0.0]), "revenue_cost": np.array([revenue / 2, revenue / 2])}
    return [a.body for a in route_for_option(kind, flows, **kw)]


def test_small_scheme_needs_only_the_board():
    assert bodies("make", capital=1_000_000) == ["Trust board"]


def test_capital_above_the_delegated_limit_goes_to_jisc_and_distress_lowers_the_limit():
    assert "NHS England / DHSC Joint Investment Sub-Committee" not in bodies("make", capital=30e6)
    assert "NHS England / DHSC Joint Investment Sub-Committee" in bodies("make", capital=30e6,
                                                                         in_financial_distress=True)
    assert "NHS England / DHSC Joint Investment Sub-Committee" in bodies("make", capital=60e6)


def test_hm_treasury_thresholds_are_parameters():
    assert "HM Treasury" not in bodies("make", capital=200e6)
    assert "HM Treasury" in bodies("make", capital=301e6)
    assert "HM Treasury" in bodies("make", revenue=151e6)
    assert "HM Treasury" in bodies("make", capital=60e6, thresholds=RouteThresholds(hmt_capital_gbp=50e6))


def test_a_merger_is_a_statutory_transaction_and_the_cma_comes_in_with_an_independent_party():
    b = bodies("merge")
    assert "NHS England (statutory transaction assurance)" in b
    assert "Secretary of State for Health and Social Care" in b
    assert "Competition and Markets Authority" not in b
    assert "Competition and Markets Authority" in bodies("merge", independent_provider_party=True)


def test_buying_follows_the_provider_selection_regime():
    assert "Commissioner under the Provider Selection Regime" in bodies("buy", revenue=1e6)
    assert "NHS England (complex change: significant contract)" in bodies("buy", revenue=100e6, turnover_gbp=400e6)
