"""The parameter registry: every value carries a vintage and a source; overrides are validated."""

import pytest

from partnering.appraise.parameters import default_parameters, load_parameters
from partnering.errors import ConfigError

pytestmark = pytest.mark.unit


def test_defaults_name_their_sources_and_vintages():
    params = default_parameters()
    assert params.qaly_value.value == 70000.0 and params.qaly_value.price_base == "2020-21"  # DHSC
    assert set(params.vintages) == {"2022", "2026"}
    for vintage in params.vintages.values():
        for schedule in (vintage.standard, vintage.health, vintage.long_horizon):
            if schedule is not None:
                assert schedule.source and schedule.vintage
    assert params.vintage("2026").long_horizon_after_years == 50
    assert params.vintage("2026").bcr_is_gate is False  # Green Book 2026: BCR reported, not a gate
    assert params.optimism_bias.types["non_standard_buildings"].capex == (0.51, 0.04)  # Mott MacDonald Table 2
    assert "judgement" in params.optimism_bias.stage_mitigation.source.lower()


def test_override_file_changes_only_what_it_names(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[qaly_value]\nvalue = 60000.0\nsource = "board decision 2026-11"\n')
    params = load_parameters(path)
    assert params.qaly_value.value == 60000.0
    assert params.qaly_value.price_base == "2020-21"
    assert params.vintage("2022").standard.rates[0] == 0.035


def test_impossible_overrides_are_refused_with_their_path():
    with pytest.raises(ConfigError, match="vintages.2022.standard"):
        load_parameters({"vintages": {"2022": {"standard": {"rates": [3.5, 3.0, 2.5, 2.0, 1.5, 1.0]}}}})
    with pytest.raises(ConfigError, match="band_starts"):
        load_parameters({"vintages": {"2026": {"health": {"band_starts": [0, 76, 31, 126, 201, 301]}}}})
    with pytest.raises(ConfigError, match="qaly_value.value"):
        load_parameters({"qaly_value": {"value": -1.0}})
    with pytest.raises(ConfigError, match="not found"):
        load_parameters("/nonexistent/parameters.toml")
