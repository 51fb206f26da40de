"""Optimism-bias conformance: the Mott MacDonald (2002) worked examples reproduce exactly.

Mott MacDonald (2002), Review of Large Public Procurement in the UK, Table 2, as used in HM Treasury's
Supplementary Green Book Guidance: Optimism Bias (figures also in ../shared/conformance/appraisal/green-book.md).
"""

import pytest

from partnering.appraise.model import OptimismBias
from partnering.appraise.optimism import adjusted_cost, mitigated, mix_bounds, uplift
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

MIX = {"non_standard_buildings": 0.3, "standard_buildings": 0.7}


def test_mix_capex_uplift_is_32_1_percent():
    upper, lower = mix_bounds(MIX, "capex")
    assert round(upper * 100, 6) == 32.1  # 0.3 x 51 + 0.7 x 24
    assert round(lower * 100, 6) == 2.6  # 0.3 x 4 + 0.7 x 2


def test_mix_works_duration_uplift_is_14_5_percent():
    upper, _ = mix_bounds(MIX, "works_duration")
    assert round(upper * 100, 6) == 14.5  # 0.3 x 39 + 0.7 x 4


def test_mitigating_92_percent_of_51_percent_gives_104m_and_111m_with_costed_risk():
    upper, lower = mix_bounds({"non_standard_buildings": 1.0}, "capex")
    residual = mitigated(upper, lower, 0.92)
    assert round(residual * 100, 2) == 4.08  # (1 - 0.92) x 51% "about 4%"
    assert round(adjusted_cost(100.0, residual)) == 104  # £100m -> £104m
    assert round(adjusted_cost(100.0, residual, costed_risk=7.0)) == 111  # + £7m costed risk -> £111m


def test_uplift_of_an_option_unmitigated_and_by_stage():
    soc = uplift(OptimismBias(MIX, stage="SOC"))
    assert soc.capex == pytest.approx(0.321) and soc.works_duration == pytest.approx(0.145)
    obc = uplift(OptimismBias(MIX, stage="OBC"))  # registry ladder: 50% mitigated at OBC (documented assumption)
    assert obc.capex == pytest.approx(0.1605)
    full = uplift(OptimismBias(MIX, mitigation=1.0))  # never below the lower bound
    assert full.capex == pytest.approx(0.026)
    assert uplift(None).capex == 0.0


def test_outsourcing_takes_the_operating_cost_uplift_only():
    u = uplift(OptimismBias({"outsourcing": 1.0}))
    assert u.opex == pytest.approx(0.41) and u.capex == 0.0


def test_bad_mixes_are_refused():
    with pytest.raises(ValidationError, match="sum"):
        OptimismBias({"standard_buildings": 0.5})
    with pytest.raises(ValidationError, match="project type"):
        uplift(OptimismBias({"castles": 1.0}))
    with pytest.raises(ValidationError, match="stage"):
        OptimismBias(MIX, stage="PBC")
