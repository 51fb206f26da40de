"""Partner reasons never silently rest on stale data nor mix months (issue #9.4), on hand-made frames.

R is weak on RTT (a family whose data end in 2025-03, twelve months before A&E) and strong on A&E; S is the other
way round, and S's latest A&E month is a month earlier than R's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.match.candidates import MatchInputs, explain_pairs, load_catalogue, performance_arrays, score_pairs
from partnering.match.service import data_note

pytestmark = pytest.mark.unit

IND = {"ae_4h_pct_all": ("A&E 4-hour", "percent", "increase", 78.0),
       "rtt_within_18w_pct": ("RTT 18 weeks", "percent", "increase", 92.0)}
# org -> indicator -> (percentile, rank, value, latest month)
PERF = {"R": {"ae_4h_pct_all": (0.02, 2, 85.0, "2026-03"), "rtt_within_18w_pct": (0.90, 90, 50.0, "2025-03")},
        "S": {"ae_4h_pct_all": (0.60, 60, 70.0, "2026-02"), "rtt_within_18w_pct": (0.05, 5, 80.0, "2025-03")}}

FRESHNESS = pd.DataFrame({
    "family": ["ae-monthly", "rtt"], "family_name": ["A&E", "RTT"],
    "indicators": ["ae_4h_pct_all", "rtt_within_18w_pct"], "latest_period": ["2026-03", "2025-03"],
    "months_behind": [0, 12], "stale": [False, True]})


def _inputs(freshness=FRESHNESS) -> MatchInputs:
    st, ic = [], []
    for org, per in PERF.items():
        for ind, (pct, rank, val, month) in per.items():
            name, unit, direction, target = IND[ind]
            st.append({"org_code": org, "indicator": ind, "months_scored": 12, "months_top_quartile": 0,
                       "months_bottom_quartile": 0, "mean_value": val, "latest_period": month, "latest_value": val,
                       "latest_rank": float(rank), "latest_n": 100, "latest_percentile": pct,
                       "top_quartile_streak": 0})
            ic.append({"org_code": org, "indicator": ind, "latest_period": month, "latest_value": val,
                       "target": target, "variation_icon": "common_cause", "assurance_type": None,
                       "point_type": "common_cause", "indicator_name": name, "unit": unit,
                       "improvement_direction": direction})
    perf, meta = performance_arrays(pd.DataFrame(st), pd.DataFrame(ic))
    orgs = pd.DataFrame({"name": ["Trust R", "Trust S"], "kind": ["acute_trust"] * 2}, index=["R", "S"])

    def travel(recs, sups):
        m = np.full((len(recs), len(sups)), 30.0)
        return m, m / 0.75, np.zeros(m.shape, dtype=bool)

    return MatchInputs(orgs=orgs, perf=perf, indicators=meta, in_difficulty={"R"}, track_record=set(),
                       similarity=pd.DataFrame({"S": [0.5]}, index=["R"]), loads={},
                       catalogue=load_catalogue(None), travel=travel,
                       extra={} if freshness is None else {"freshness": freshness})


def _explained(inp):
    return explain_pairs(score_pairs(inp, ["R"], ["S"]), inp).iloc[0]


def test_a_reason_on_a_stale_family_says_where_its_data_end():
    row = _explained(_inputs())
    assert row["best_indicator"] == "rtt_within_18w_pct"
    assert "RTT 18 weeks (80.0% in 2025-03; R is 90th; RTT data end in 2025-03)" in row["reason"]


def test_two_way_learning_names_both_months_when_they_differ():
    row = _explained(_inputs())
    assert row["learn_back_indicator"] == "ae_4h_pct_all"
    assert "(85.0% in 2026-03, 2nd of 100" in row["two_way_learning"]
    assert "(70.0% in 2026-02, 60th" in row["two_way_learning"]
    assert "data end" not in row["two_way_learning"]  # A&E is not stale


def test_without_a_stale_family_nothing_is_added():
    fresh = FRESHNESS.assign(stale=False, months_behind=0)
    row = _explained(_inputs(fresh))
    assert "data end" not in row["reason"]
    assert data_note(_inputs(fresh)) == ""


def test_the_result_note_names_the_stale_family_the_scores_use():
    note = data_note(_inputs())
    assert note.startswith("Stale data: RTT data end in 2025-03, 12 months before the latest month (2026-03)")
