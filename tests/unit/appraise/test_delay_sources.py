"""The pre-fill's delay sources say honestly what the figures are: the purchase's procurement time and benefit delay
are judgements informed by the Provider Selection Regime regulations (which set no overall duration), named once and
in English; the merger's are the King's Fund reference class and Fulop et al."""

from __future__ import annotations

import pytest

from partnering.appraise.defaults import load_defaults
from partnering.appraise.prefill import _option, delay_distribution

pytestmark = pytest.mark.unit


def test_buy_delay_is_a_judgement_informed_by_the_psr_named_once():
    d = load_defaults()
    spread = delay_distribution(d, "buy")
    assert (spread["low"], spread["mode"], spread["high"]) == (1.5, 1.75, 2.5)
    src = spread["source"]
    assert src.startswith("Procurement 0.5 to 1.5 years (most likely 0.75): a judgement, informed by The Health Care "
                          "Services (Provider Selection Regime) Regulations 2023")
    assert src.count("Provider Selection Regime") == 1 and "1 years" not in src and ".;" not in src
    assert src.endswith("then 1 year before benefits start, on the same basis")
    assert "judgement" in d.get("kinds.buy.procurement_years").note
    buy = _option("buy", "buy", "Buy", 10, d, 450e6, 1e6, "SOC", "alternative", form="independent_sector")
    assert buy.ramp.source == src and buy.ramp.delay_years == 1.75


def test_merge_delay_cites_its_evidence():
    src = delay_distribution(load_defaults(), "merge")["source"]
    assert src.startswith("Completion 1 to 5 years (most likely 2): Collins B (2015)")
    assert "then 2 years before benefits start: Fulop N" in src and "judgement" not in src
