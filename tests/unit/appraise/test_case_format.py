"""The decision case file: reading, typed errors with a line, the Green Book shortlist rule, ramps, transaction-cost
components and the hand-over to the numeric core."""

from __future__ import annotations

import numpy as np
import pytest

from partnering.appraise.case import (
    dump_case,
    load_case,
    option_flows,
    parse_case,
    ramp_profile,
    shortlist_problems,
    to_economic_case,
)
from partnering.errors import IngestError

pytestmark = pytest.mark.unit

CASE = """
[case]
title = "Emergency surgery at two sites"
price_base_year = 2026
years = 5
draws = 1000

[problem]
kind = "unstaffable_service"
service = "24/7 emergency surgery"

[[long_list]]
dimension = "scope"
choice = "Emergency surgery only"

[[options]]
key = "bau"
name = "Business as usual"
kind = "bau"
role = "bau"

[[options]]
key = "dm"
name = "Do minimum"
kind = "do_minimum"
role = "do_minimum"
[options.flows]
revenue_cost = [10, 10, 10, 10, 10]

[[options]]
key = "network"
name = "Clinical network"
kind = "partner"
form = "network"
role = "preferred"
[options.flows]
revenue_cost = [20, 20, 20, 20, 20]
cash_releasing_benefit = [40, 40, 40, 40, 40]
[options.ramp]
delay_years = 1
ramp_years = 2
[[options.transaction_costs]]
component = "legal_and_advisory"
amount = 7
year = 0
[[options.transaction_costs]]
component = "it_integration"
amount = 5
year = 2

[[options]]
key = "merge"
name = "Merge"
kind = "merge"
role = "alternative"
[options.flows]
capital_cost = [100, 0, 0, 0, 0]
[options.optimism_bias]
mix = { standard_buildings = 0.7, non_standard_buildings = 0.3 }
stage = "OBC"

[[uncertainties]]
name = "savings"
targets = ["network.cash_releasing_benefit"]
distribution = "triangular"
low = 0.5
mode = 1.0
high = 1.2
"""


def test_a_case_reads_and_round_trips_through_toml():
    case = parse_case(CASE, "surgery.toml")
    assert [o.key for o in case.options] == ["bau", "dm", "network", "merge"]
    assert case.n_years == 5
    again = parse_case(dump_case(case, "written by the test"))
    assert again == case


def test_ramp_and_transaction_components_shape_the_flows():
    case = parse_case(CASE)
    flows = option_flows(case.option("network"), 5)
    # nothing in year 0 (delay 1), then a straight line over 2 years: year 1 averages 0.25, year 2 0.75, then full
    assert flows["cash_releasing_benefit"].tolist() == pytest.approx([0, 10, 30, 40, 40])
    assert flows["transaction_cost"].tolist() == [7, 0, 5, 0, 0]
    assert flows["revenue_cost"].tolist() == [20] * 5  # costs are not ramped


def test_ramp_profile_fractional_delay_gives_part_of_a_year():
    assert ramp_profile(3, 0.5, 0).tolist() == pytest.approx([0.5, 1.0, 1.0])
    assert ramp_profile(3, 0, 0).tolist() == [1.0, 1.0, 1.0]


def test_to_economic_case_carries_options_bias_and_uncertainty():
    econ = to_economic_case(parse_case(CASE))
    assert econ.option_keys == ["bau", "dm", "network", "merge"]
    merge = econ.options[3]
    assert merge.optimism_bias.mix == {"standard_buildings": 0.7, "non_standard_buildings": 0.3}
    assert merge.optimism_bias.stage == "OBC"
    assert econ.uncertainties[0].params == {"low": 0.5, "mode": 1.0, "high": 1.2}
    assert econ.draws == 1000
    np.testing.assert_allclose(econ.options[2].flows["transaction_cost"], [7, 0, 5, 0, 0])


def test_a_full_shortlist_has_no_problems_but_a_missing_long_list_dimension_is_named():
    probs = shortlist_problems(parse_case(CASE))
    assert len(probs) == 1 and "solution, delivery, implementation, funding" in probs[0]


def test_a_shortlist_without_bau_or_an_alternative_is_told():
    text = CASE.replace('key = "bau"\nname = "Business as usual"\nkind = "bau"\nrole = "bau"',
                        'key = "make"\nname = "Make"\nkind = "make"\nrole = "alternative"')
    probs = shortlist_problems(parse_case(text))
    assert any("business-as-usual" in p for p in probs)
    only = parse_case(CASE.replace('role = "alternative"', 'role = "preferred"'))
    assert any("More than one option" in p for p in shortlist_problems(only))


def test_errors_name_the_file_the_line_and_the_field():
    bad = CASE.replace('form = "network"', 'form = "franchise"')
    with pytest.raises(IngestError) as exc:
        parse_case(bad, "surgery.toml")
    err = exc.value
    assert err.file == "surgery.toml"
    assert err.column == "options.2"
    line = bad.splitlines()[err.row - 1]
    assert line.strip() == "[[options]]"  # the third option's header
    assert "franchise" in err.reason and "network" in err.reason


def test_an_unknown_flow_category_points_at_its_table():
    bad = CASE.replace("cash_releasing_benefit = [40", "cash_benefit = [40")
    with pytest.raises(IngestError) as exc:
        parse_case(bad, "c.toml")
    assert exc.value.column == "options.2.flows"
    assert "cash_benefit" in exc.value.reason
    assert bad.splitlines()[exc.value.row - 1].strip() == "[options.flows]"


def test_bad_toml_gives_its_line():
    with pytest.raises(IngestError) as exc:
        parse_case("[case]\ntitle = \n", "x.toml")
    assert exc.value.row == 2


def test_uncertainty_targets_must_be_options_of_the_case_and_distributions_complete():
    with pytest.raises(IngestError, match="not 'option.category'"):
        parse_case(CASE.replace('targets = ["network.cash_releasing_benefit"]', 'targets = ["nope.capital_cost"]'))
    with pytest.raises(IngestError, match="needs low, mode, high"):
        parse_case(CASE.replace("mode = 1.0\n", ""))


def test_load_case_missing_file(tmp_path):
    with pytest.raises(IngestError, match="no such case file"):
        load_case(tmp_path / "none.toml")
