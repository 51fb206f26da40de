"""What users read about peers and partners: variables, kinds and distances in words, not variable names."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.match.candidates import kind_words
from partnering.match.context import CONTEXT_THEMES
from partnering.match.peers import default_weights, explain_peer, variable_words
from partnering.match.service import DEFAULT_MAX_MINUTES, _mostly_imputed

pytestmark = pytest.mark.unit


def test_every_context_variable_has_words():
    for var in list(CONTEXT_THEMES) + list(default_weights()):
        words = variable_words(var)
        assert "_" not in words and not words.startswith("log ") and not words.startswith("pct "), (var, words)
    assert variable_words("log_rtt_pathways") == "elective waiting list size"
    assert variable_words("contrib_imd_score") == "deprivation (IMD score)"


def test_explanation_in_words():
    row = pd.Series({"contrib_imd_score": 0.1, "contrib_log_rtt_pathways": 0.2, "contrib_type1_share": 0.7,
                     "imputed_vars": "log_rtt_pathways"})
    text = explain_peer(row)
    assert text == ("closest on deprivation (IMD score) and elective waiting list size; differs most on share of A&E "
                    "attendances at major (type 1) departments (70% of the difference between them); not known for "
                    "one of the two, so the median was used (imputed: elective waiting list size)")
    assert "squared" not in text and "_" not in text


def test_kind_words():
    assert kind_words("acute_trust") == "Acute trust"
    assert kind_words("independent_provider") == "Independent-sector provider"
    assert kind_words("some_new_kind") == "Some new kind"


def test_mostly_imputed_by_weight():
    w = {"a": 1.0, "b": 1.0, "c": 2.0}
    flags = _mostly_imputed(pd.Series(["", "a", "a, b", "c", "a, c"]), w)
    # half the weight (a+b = 2 of 4, or c = 2 of 4) is not "mostly"; more than half is
    assert flags.tolist() == [False, False, False, False, True]


def test_plan_default_travel_limit():
    # the buddying plan's default (docs/methods/buddying-plan.md): the candidates use the same
    from partnering.web.match import travel_limit

    assert DEFAULT_MAX_MINUTES == 90.0
    assert travel_limit("") == DEFAULT_MAX_MINUTES and travel_limit(None) == DEFAULT_MAX_MINUTES
    assert travel_limit("120") == 120.0 and travel_limit("none") is None
    from partnering.errors import ValidationError

    for bad in ("lots", "0", "-5", "601", "nan"):
        with pytest.raises(ValidationError):
            travel_limit(bad)


def test_partner_view():
    from partnering.web.match import partner_view

    df = pd.DataFrame({"rank": [1, 2], "supporter": ["A", "B"], "supporter_kind": ["acute_trust", "university"],
                       "score": [78.6, 60.0], "travel_minutes": [82.2, float("nan")], "reason": ["r1", "r2"],
                       "two_way_learning": ["", ""]})
    rows, cols = partner_view(df)
    assert [c for c, _ in cols] == ["rank", "kind", "score", "travel", "reason"]  # nothing to learn: no column
    assert [r["rank"] for r in rows] == ["1", "2"] and [r["kind"] for r in rows] == ["Acute trust", "University"]
    assert [r["travel"] for r in rows] == ["82", ""]
    rows, cols = partner_view(df.assign(two_way_learning=["", "Two-way: ..."]))
    assert cols[-1] == ("two_way_learning", "What they could learn in return")
    assert partner_view(None) == (None, []) and partner_view(df.iloc[0:0]) == ([], [])
