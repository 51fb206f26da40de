"""Realised effects against a business case's forecast (issue #11 s.3): the first form (a forecast in the
indicator's units) is unchanged; a case's money forecast is set beside the effects, never divided into them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.evaluate.triangulate import CaseForecast, realised_vs_forecast

pytestmark = pytest.mark.unit

PER_YEAR = pd.DataFrame({"year": [2024, 2025], "effect": [1.0, 3.0], "periods": [9, 12]})


def _case(gaps=None, problem=None) -> CaseForecast:
    benefits = pd.DataFrame({"year": [0, 1, 2], "calendar_year": [2024, 2025, 2026],
                             "total_gbp": [0.0, 500_000.0, 1_000_000.0], "share_of_full": [0.0, 0.5, 1.0]})
    return CaseForecast(7, "Buddying", "buddy", "Buddying with B", 2024, benefits, gaps or {}, problem)


def test_the_first_form_is_unchanged():
    out = realised_vs_forecast(PER_YEAR, {2024: 2.0, 2025: 2.0}, 3)
    assert set(out) == {"case", "table", "summary"} and out["case"] == 3
    assert out["table"]["realised_share"].tolist() == [0.5, 1.5]
    assert out["summary"] == "Over 2 year(s) with both, realised effects total 4 against a forecast of 4."
    assert realised_vs_forecast(PER_YEAR, None)["summary"].startswith("No business case")


def test_a_case_forecast_is_set_beside_the_effects_with_the_share_of_its_gap():
    gaps = {"ae": {"value": 70.0, "standard": 78.0, "top_quartile": None, "direction": "increase"}}
    out = realised_vs_forecast(PER_YEAR, None, 7, case=_case(gaps), indicator="ae", unit="percent",
                               improvement_direction="increase")
    t = out["table"].set_index("year")
    assert list(t.index) == [2024, 2025, 2026]
    assert t.loc[2025, "forecast_benefit_gbp"] == 500_000.0 and t.loc[2025, "realised_effect"] == 3.0
    assert np.isnan(t.loc[2026, "realised_effect"])
    assert t["share_of_gap_closed"].tolist()[:2] == [1 / 8, 3 / 8]  # the gap is 78 - 70 = 8 points
    assert "realised_share" not in t  # money is never divided into an indicator
    assert "In 2025 the realised effect closes 38% of the gap of +8" in out["summary"]
    assert "starting in 2025 and at full value from 2026" in out["summary"]
    assert any(c.startswith("money against the indicator") for c in out["not_comparable"])
    assert out["gap"]["to_close"] == 8.0 and out["gap"]["against"] == "the standard"


def test_without_a_gap_or_with_one_already_closed_size_is_not_compared():
    out = realised_vs_forecast(PER_YEAR, None, 7, case=_case(), indicator="ae")
    assert "share_of_gap_closed" not in out["table"] and len(out["comparable"]) == 1
    assert any("names no gap for ae" in c for c in out["not_comparable"])
    closed = {"ae": {"value": 90.0, "standard": 78.0, "direction": "increase"}}
    out = realised_vs_forecast(PER_YEAR, None, 7, case=_case(closed), indicator="ae")
    assert "share_of_gap_closed" not in out["table"] and out["gap"]["to_close"] == 0.0
    assert any("already at the standard" in c for c in out["not_comparable"])


def test_a_case_that_could_not_be_read_says_so():
    out = realised_vs_forecast(PER_YEAR, None, 7, case=_case(problem="business case 7 could not be read: gone"))
    assert out["table"] is None and "could not be read: gone" in out["summary"]
