"""MCDA: swing weights, the exact rank-reversal weights and the combined recommendation."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.appraise.mcda import normalise_weights, recommend, score_options
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

SCORES = pd.DataFrame({"quality": [80, 40, 0], "cost": [20, 100, 50]}, index=["a", "b", "c"])


def test_weights_are_swings_normalised():
    w = normalise_weights({"quality": 100, "cost": 60})
    assert w["quality"] == pytest.approx(0.625) and w["cost"] == pytest.approx(0.375)


def test_totals_and_ranks_by_hand():
    res = score_options(SCORES, {"quality": 100, "cost": 100})
    # a: 50, b: 70, c: 25
    assert res.totals.to_dict() == pytest.approx({"a": 50.0, "b": 70.0, "c": 25.0})
    assert res.ranks.to_dict() == {"a": 2, "b": 1, "c": 3}
    assert res.top == "b"


def test_rank_reversal_weight_is_where_the_totals_tie():
    res = score_options(SCORES, {"quality": 100, "cost": 100})
    row = res.sensitivity.set_index("criterion").loc["quality"]
    # a and b tie when 80x + 20(1-x) = 40x + 100(1-x)  ->  x = 2/3
    assert row["reversal_weight"] == pytest.approx(2 / 3)
    assert row["change_needed"] == pytest.approx(2 / 3 - 0.5)
    assert row["new_top"] == "a"
    # and at that weight the totals really do tie
    x = row["reversal_weight"]
    tot = SCORES["quality"] * x + SCORES["cost"] * (1 - x)
    assert tot["a"] == pytest.approx(tot["b"])


def test_no_reversal_when_the_top_option_dominates():
    dom = pd.DataFrame({"q": [90, 10], "r": [90, 10]}, index=["x", "y"])
    res = score_options(dom, {"q": 50, "r": 100})
    assert res.sensitivity["reversal_weight"].isna().all()
    assert not res.fragile


def test_bad_scores_and_weights_are_refused():
    with pytest.raises(ValidationError, match="between 0 and 100"):
        score_options(SCORES.assign(cost=[20, 101, 50]), {"quality": 1, "cost": 1})
    with pytest.raises(ValidationError, match="all zero"):
        normalise_weights({"quality": 0})
    with pytest.raises(ValidationError, match="missing"):
        score_options(SCORES, {"quality": 1, "access": 1})


def test_recommendation_when_money_and_mcda_agree():
    mc = score_options(pd.DataFrame({"q": [90, 10], "r": [90, 10]}, index=["x", "y"]), {"q": 1, "r": 1})
    rec = recommend(pd.Series({"x": 0.8, "y": 0.2}), mc)
    assert rec.separated and rec.preferred == "x"


def test_recommendation_says_plainly_when_the_evidence_does_not_separate():
    mc = score_options(SCORES, {"quality": 100, "cost": 100})  # b first, reversal 0.17 away
    rec = recommend(pd.Series({"a": 0.45, "b": 0.40, "c": 0.15}), mc)
    assert not rec.separated and rec.preferred is None
    assert rec.text.startswith("The evidence does not separate the options")


def test_recommendation_when_money_and_robust_mcda_disagree():
    mc = score_options(pd.DataFrame({"q": [10, 90], "r": [10, 90]}, index=["x", "y"]), {"q": 1, "r": 1})
    rec = recommend(pd.Series({"x": 0.9, "y": 0.1}), mc)
    assert not rec.separated
    assert "money favours x" in rec.text and "favour y" in rec.text
