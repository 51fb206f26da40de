"""A pre-filled case for an organisation of the demo store: gaps from measure, partners from match, defaults from
evidence with their sources."""

from __future__ import annotations

import pytest

from partnering.appraise.case import dump_case, parse_case, shortlist_problems
from partnering.appraise.defaults import load_defaults
from partnering.appraise.prefill import gap_points, prefill_case
from partnering.errors import ConfigError, NotFoundError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from partnering.ingest.demo import load_demo
    from partnering.measure.assess import assess
    from partnering.store.db import get_engine

    eng = get_engine(f"sqlite:///{tmp_path_factory.mktemp('prefill') / 'demo.db'}")
    load_demo(eng)
    a = assess(eng)
    code = a.flags[a.flags["persistent_difficulty"]].sort_values("avg_score")["org_code"].iloc[0]
    return eng, a, code


def test_prefilled_case_for_an_organisation_in_difficulty(demo):
    eng, a, code = demo
    case = prefill_case(eng, code, assessment=a, price_base_year=2026)
    assert case.case.org_code == code and case.problem.kind == "persistent_difficulty"
    # the gaps are the assessment's key metrics, in their own units, with the peers' median
    assert [g.indicator for g in case.problem.gaps] == [m for m in a.metrics if m in
                                                        set(a.icons[a.icons["org_code"] == code]["indicator"])]
    icons = a.icons[a.icons["org_code"] == code].set_index("indicator")
    for g in case.problem.gaps:
        assert g.value == pytest.approx(float(icons.loc[g.indicator, "latest_value"]))
        assert g.median == pytest.approx(float(a.standing[a.standing["indicator"] == g.indicator]["latest_value"]
                                               .median()))
    kinds = [o.kind for o in case.options]
    assert kinds == ["bau", "do_minimum", "make", "buy", "partner", "merge"]
    partner = case.option("partner_buddying").partner
    from partnering.match.service import partner_candidates

    best = partner_candidates(eng, code, k=1, assessment=a).iloc[0]
    assert partner.org_code == best["supporter"] and partner.suitability == pytest.approx(best["score"], abs=0.05)
    assert shortlist_problems(case) == []
    # merge transaction costs come from the defaults, each naming its source
    tx = {t.component: t for t in case.option("merge").transaction_costs}
    d = load_defaults()
    assert tx["legal_and_advisory"].amount == d.value("kinds.merge.transaction_costs.legal_and_advisory")
    assert "Health Foundation" in tx["legal_and_advisory"].source
    # the file round-trips
    assert parse_case(dump_case(case)) == case


def test_gap_points_count_only_shortfalls_to_the_top_quartile(demo):
    from partnering.appraise.case import Gap

    gaps = [Gap(indicator="a", unit="percent", direction="increase", value=70, top_quartile=75),
            Gap(indicator="b", unit="percent", direction="decrease", value=2.0, top_quartile=0.5),
            Gap(indicator="c", unit="percent", direction="increase", value=90, top_quartile=80),
            Gap(indicator="d", unit="count", direction="decrease", value=50, top_quartile=10)]
    assert gap_points(gaps) == pytest.approx(6.5)


def test_unknown_organisation_is_named(demo):
    eng, a, _ = demo
    with pytest.raises(NotFoundError, match="ZZZ9"):
        prefill_case(eng, "ZZZ9", assessment=a)


def test_every_default_names_a_known_source_and_overrides_are_marked_as_the_users():
    d = load_defaults()
    rows = d.rows()
    assert rows and all(r["reference"] for r in rows)
    assert {"gaynor_2012", "fulop_2002", "monitor_mergers", "kings_fund_2015", "dalton_2014", "keogh_2013",
            "carter_2016", "cma_nhs", "psr_2023"} <= set(d.sources)
    over = load_defaults({"kinds": {"merge": {"realised_savings_share": 0.02}}})
    v = over.get("kinds.merge.realised_savings_share")
    assert v.value == 0.02 and v.basis == "user" and v.low is None
    with pytest.raises(ConfigError, match="source"):
        load_defaults({"kinds": {"merge": {"new_thing": {"value": 1, "source": "nowhere"}}}})


def test_prefilled_merger_delay_is_an_uncertain_reference_class_and_turnover_an_input(demo):
    eng, a, code = demo
    case = prefill_case(eng, code, assessment=a, price_base_year=2026, turnover_gbp=300e6)
    # completion 1 / 2 / 5 years (King's Fund) + 2 years after completion (Fulop et al.): triangular 3 / 4 / 7
    delay = next(u for u in case.uncertainties if u.targets == ["merge.benefit_delay"])
    assert (delay.distribution, delay.low, delay.mode, delay.high) == ("triangular", 3.0, 4.0, 7.0)
    assert "King's Fund" in delay.source and "Fulop" in delay.source
    merge = case.option("merge")
    assert merge.ramp.delay_years == delay.mode and merge.ramp.works_duration_uplift is False
    assert any(c.a == "merge_delay" and c.b == "merge_savings" and c.rho < 0 for c in case.correlations)
    # the turnover given is used (savings are a share of it) and said so; without it the placeholder is named
    d = load_defaults()
    assert merge.flows["cash_releasing_benefit"][0] == round(d.value("kinds.merge.realised_savings_share") * 300e6)
    assert case.route.turnover_gbp == 300e6 and "as given" in case.warnings[0]
    placeholder = prefill_case(eng, code, assessment=a, price_base_year=2026)
    assert "PLACEHOLDER" in placeholder.warnings[0] and "--turnover" in placeholder.warnings[0]
    assert parse_case(dump_case(case)) == case
