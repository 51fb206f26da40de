"""Consolidation savings (issue #12 s.3): hand-worked figures, forms, placeholders, and the round trip into an
appraisal case so that a merger and a group are costed like every other option."""

from __future__ import annotations

import numpy as np
import pytest

from partnering.design.consolidation import (
    DEFAULT_PARAMETERS,
    add_to_case,
    consolidation_savings,
    groups_from_regions,
    to_option,
)
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit


def _by(result):
    return {s.component: s.gbp_per_year for s in result.savings}


def test_two_reference_trusts_merger_matches_hand_working():
    r = consolidation_savings(["RAA", "RBB"], {"RAA": 450e6, "RBB": 450e6})
    s = _by(r)
    # by hand: back office at the reference trust = 8.5% x 450m - (0.4m + 1.8m + 0.15m) = 35.9m;
    # saving = 35.9m x (2 - 2 ** 0.7) = 35.9m x 0.3754952 = 13,480,278
    assert s["back_office"] == pytest.approx(13_480_278, abs=2)
    assert s["board"] == 400_000 and s["audit"] == 150_000
    assert s["executive_team"] == pytest.approx(2 * 1_800_000 - 1.25 * 1_800_000)
    assert s["procurement"] == pytest.approx(0.20 * 0.01 * 450e6)
    assert r.recurring_saving == pytest.approx(16_280_278, abs=5)
    assert r.transition_cost == pytest.approx(2_500_000 + 0 + 750_000 + 3_000_000)
    assert "within Monitor's 1-3%" in r.monitor_check()
    assert not r.warnings


def test_savings_rise_with_scale_and_vanish_without_economies_of_scale():
    two = consolidation_savings(["A", "B"], {"A": 300e6, "B": 300e6})
    three = consolidation_savings(["A", "B", "C"], {"A": 300e6, "B": 300e6, "C": 300e6})
    assert three.recurring_saving > two.recurring_saving
    flat = consolidation_savings(["A", "B"], {"A": 300e6, "B": 300e6}, parameters={"scale_elasticity": 1.0})
    assert _by(flat)["back_office"] == pytest.approx(0.0, abs=1e-3)


def test_group_keeps_boards_and_audits_and_saves_less_than_a_merger():
    merger = consolidation_savings(["A", "B", "C"], form="merger")
    group = consolidation_savings(["A", "B", "C"], form="group")
    g = _by(group)
    assert g["board"] == 0 and g["audit"] == 0
    assert group.recurring_saving < merger.recurring_saving
    assert group.transition_cost < merger.transition_cost


def test_ranges_bracket_the_point_value():
    r = consolidation_savings(["A", "B"], {"A": 250e6, "B": 600e6})
    lo, hi = r.recurring_saving_range
    assert lo < r.recurring_saving < hi
    for s in r.savings:
        assert s.low <= s.gbp_per_year <= s.high


def test_placeholder_turnover_is_said():
    r = consolidation_savings(["RAA", "RBB"], {"RAA": 500e6})
    assert r.turnover["RBB"] == DEFAULT_PARAMETERS["reference_turnover_gbp"].value
    assert r.turnover_supplied == {"RAA": True, "RBB": False}
    assert any("PLACEHOLDER" in w and "RBB" in w and "RAA" not in w for w in r.warnings)


@pytest.mark.parametrize("trusts, turnover, msg", [
    (["A"], None, "at least two"),
    (["A", "A"], None, "twice"),
    (["A", "B"], {"C": 1e8}, "not in the grouping"),
    (["A", "B"], {"A": -5}, "positive"),
    (["A", "B"], {"A": 212e12}, "more than GBP 10bn"),  # millions typed as pounds: no NHS trust has that income
])
def test_bad_groupings_are_refused(trusts, turnover, msg):
    with pytest.raises(ValidationError, match=msg):
        consolidation_savings(trusts, turnover)


def test_every_parameter_names_its_source_and_basis():
    from partnering.design.consolidation import SOURCES

    for p in DEFAULT_PARAMETERS.values():
        assert p.source in SOURCES and p.basis in ("evidence", "judgement")
        assert p.low <= p.value <= p.high
    assert DEFAULT_PARAMETERS["corporate_cost_share"].low == 0.06
    assert DEFAULT_PARAMETERS["corporate_cost_share"].high == 0.11


def test_option_profile_delays_savings_and_spreads_transition():
    r = consolidation_savings(["A", "B"])
    o = to_option(r)
    assert o.kind == "merge"
    assert o.flows["transaction_cost"][:2].sum() == pytest.approx(r.transition_cost)
    assert o.flows["transaction_cost"][2:].sum() == 0
    # completion 2 years + delay 2 years: nothing in years 0-3, full effect from year 4 + 3 ramp years = year 7
    assert np.all(o.flows["cash_releasing_benefit"][:4] == 0)
    assert o.flows["cash_releasing_benefit"][7] == pytest.approx(r.recurring_saving)
    assert 0 < o.flows["cash_releasing_benefit"][5] < r.recurring_saving


def _case():
    from partnering.appraise.case import parse_case

    return parse_case("""
[case]
title = "Consolidation test"
price_base_year = 2025
years = 10

[[options]]
key = "bau"
name = "Business as usual"
kind = "bau"
role = "bau"
""")


def test_added_to_a_case_it_costs_the_same_as_the_option():
    from partnering.appraise.case import dump_case, parse_case, to_economic_case

    r = consolidation_savings(["A", "B"], {"A": 400e6, "B": 350e6}, form="group")
    case = add_to_case(_case(), r, role="preferred")
    again = parse_case(dump_case(case))
    econ = to_economic_case(again)
    from partnering.appraise.economics import prepare
    from partnering.appraise.model import CATEGORIES

    # the case's option carries the full saving with its timing; once timed (no optimism bias here, so no
    # works-duration uplift) its flows are the design option's
    real = prepare(econ).real[econ.option_keys.index("consolidation_group")]
    want = to_option(r)
    for cat in ("transaction_cost", "cash_releasing_benefit"):
        np.testing.assert_allclose(real[CATEGORIES.index(cat)], want.flows[cat], rtol=1e-9, atol=1e-6)
    assert [u.name for u in econ.uncertainties] == ["consolidation_group_saving"]
    with pytest.raises(ValidationError, match="already has an option"):
        add_to_case(case, r)


def test_groups_from_a_regions_result():
    regions = {"regions": [{"id": 1, "members": ["E1", "E2"]}, {"id": 2, "members": ["E3"]}]}
    groups = groups_from_regions(regions, {"RAA": "E1", "RBB": "E2", "RCC": "E3", "RDD": "E9"})
    assert groups == {"1": ["RAA", "RBB"], "2": ["RCC"]}
