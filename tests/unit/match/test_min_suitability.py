"""The plan's default minimum suitability is the score of a candidate that brings the recipient nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.match.candidates import MatchInputs, SuitabilityWeights, load_catalogue, performance_arrays, score_pairs
from partnering.match.service import DEFAULT_MIN_SUITABILITY, no_help_score

pytestmark = pytest.mark.unit


def _neutral_pair_inputs(minutes: float) -> MatchInputs:
    """R is weak on one indicator (bottom decile, a concern); N is worse there, has no track record, is of neutral
    similarity (0.5), supports nobody and is ``minutes`` away."""
    rows = {"R": (0.90, 90, 70.0, True), "N": (0.95, 95, 65.0, True)}
    standing = pd.DataFrame([
        {"org_code": o, "indicator": "ae_4h_pct_all", "months_scored": 24, "months_top_quartile": 0,
         "months_bottom_quartile": 0, "mean_value": v, "latest_period": "2026-03", "latest_value": v,
         "latest_rank": float(rk), "latest_n": 100, "latest_percentile": p, "top_quartile_streak": 0}
        for o, (p, rk, v, _) in rows.items()])
    icons = pd.DataFrame([
        {"org_code": o, "indicator": "ae_4h_pct_all", "latest_period": "2026-03", "latest_value": v, "target": 78.0,
         "variation_icon": "concern_low" if c else "common_cause", "assurance_type": None,
         "point_type": "special_cause_concern" if c else "common_cause", "indicator_name": "A&E 4-hour",
         "unit": "percent", "improvement_direction": "increase"} for o, (p, rk, v, c) in rows.items()])
    perf, meta = performance_arrays(standing, icons)

    def travel(recs, sups):
        m = np.full((len(recs), len(sups)), float(minutes))
        return m, m, np.zeros(m.shape, dtype=bool)

    return MatchInputs(
        orgs=pd.DataFrame({"name": ["R", "N"], "kind": ["acute_trust", "acute_trust"]}, index=["R", "N"]),
        perf=perf, indicators=meta, in_difficulty={"R"}, track_record=set(),
        similarity=pd.DataFrame({"N": [0.5]}, index=["R"]), loads={}, catalogue=load_catalogue(None), travel=travel,
    )


def test_default_minimum_is_the_score_of_a_candidate_that_brings_nothing():
    row = score_pairs(_neutral_pair_inputs(90.0), ["R"], ["N"]).iloc[0]
    assert (row["capability"], row["track_record"], row["similarity"]) == (0.0, 0.0, 0.5)
    assert row["proximity"] == pytest.approx(0.5) and row["spare_capacity"] == 1.0 and row["kind_fit"] == 1.0
    assert row["score"] == pytest.approx(32.5)
    assert DEFAULT_MIN_SUITABILITY == 32.5 == pytest.approx(no_help_score())


def test_no_help_score_follows_weights_and_distance():
    # capability and track record carry no points for such a candidate, so only the other weights move it
    w = SuitabilityWeights(capability=50, track_record=0, similarity=10, proximity=20, spare_capacity=10, kind_fit=10)
    row = score_pairs(_neutral_pair_inputs(45.0), ["R"], ["N"], w).iloc[0]
    assert no_help_score(w, at_minutes=45.0) == pytest.approx(row["score"]) == pytest.approx(5 + 15 + 10 + 10)
