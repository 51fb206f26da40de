"""``concern_recent_points`` decides which concerns count; good practice is judged against similar organisations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.measure.assess import AssessConfig, assess_frames, similar_organisations
from partnering.measure.segment import SegmentConfig

pytestmark = pytest.mark.unit

PERIODS = list(pd.period_range(end="2026-03", periods=30, freq="M").strftime("%Y-%m"))
TWO = SegmentConfig(metrics=("ae_4h_pct_all", "rtt_within_18w_pct"), min_orgs=4)


def _system_with_a_dip(dip_month="2026-01"):
    """B is best on both key metrics every month; its 4-hour % dips far below its own level in one month only."""
    rng = np.random.default_rng(1)
    codes = ["B"] + [f"T{i}" for i in range(11)]
    rows = []
    for k, code in enumerate(codes):
        for p in PERIODS:
            four = 92.0 if code == "B" else 70 + 1.5 * k
            if code == "B" and p == dip_month:
                four = 88.0  # still the best trust that month, but far outside B's own process limits
            rows.append((code, "ae_4h_pct_all", p, four + rng.normal(0, 0.3)))
            rows.append((code, "rtt_within_18w_pct", p, (80.0 if code == "B" else 55 + k) + rng.normal(0, 0.3)))
    obs = pd.DataFrame(rows, columns=["org_code", "indicator", "period", "value"])
    orgs = pd.DataFrame({"org_code": codes, "name": [f"Trust {c}" for c in codes], "kind": "acute_trust"})
    return obs, orgs


def test_concern_recent_points_sets_how_far_back_a_concern_counts():
    obs, orgs = _system_with_a_dip("2026-01")  # the third-last month
    one = assess_frames(obs, orgs, AssessConfig(concern_recent_points=1, segment=TWO))
    three = assess_frames(obs, orgs, AssessConfig(concern_recent_points=3, segment=TWO))
    pts = one.points[one.points["series"] == "B|ae_4h_pct_all"].set_index("x")
    assert pts.loc["2026-01-01", "point_type"] == "special_cause_concern"
    assert (pts.loc["2026-02-01":, "point_type"] == "common_cause").all()
    f1, f3 = one.flags.set_index("org_code").loc["B"], three.flags.set_index("org_code").loc["B"]
    # the latest point alone: no concern, so B's 30 months in segment 1 are a track record
    assert f1["key_metrics_in_concern"] == 0 and bool(f1["track_record"])
    assert "no special cause concern on any key metric in the last month" in f1["track_record_reason"]
    # the last three months: the January dip counts, so they are not
    assert f3["key_metrics_in_concern"] == 1 and not bool(f3["track_record"])
    assert "special cause concern in the last 3 months on A&E attendances within 4 hours" in f3["track_record_reason"]
    assert "in 2026-01" in f3["track_record_reason"]


def test_a_concern_older_than_the_recent_months_does_not_count():
    obs, orgs = _system_with_a_dip("2025-11")  # the fifth-last month
    f = assess_frames(obs, orgs, AssessConfig(concern_recent_points=3, segment=TWO)).flags.set_index("org_code")
    assert f.loc["B", "key_metrics_in_concern"] == 0 and bool(f.loc["B", "track_record"])


# ------------------------------------------------------------------------------------------ good practice

NEAR = [f"S{i}" for i in range(1, 6)]  # catchments like W's
FAR = [f"F{i}" for i in range(1, 11)]  # catchments unlike W's


def _difficulty_system():
    """W is worst on the 4-hour measure every month (segment 4 on that one key metric).  On 18 weeks it beats the
    five trusts whose catchments are like its own and loses to the ten others; on 52 weeks it beats everyone."""
    codes = ["W"] + NEAR + FAR
    rows = []
    for k, code in enumerate(codes):
        four = 50.0 if code == "W" else 70 + k
        weeks18 = 70.0 if code == "W" else (59.0 + k if code in NEAR else 70.0 + k)
        over52 = 0.5 if code == "W" else 2.0 + 0.1 * k
        for p in PERIODS:
            rows += [(code, "ae_4h_pct_all", p, four), (code, "rtt_within_18w_pct", p, weeks18),
                     (code, "rtt_over_52w_pct", p, over52)]
    obs = pd.DataFrame(rows, columns=["org_code", "indicator", "period", "value"])
    orgs = pd.DataFrame({"org_code": codes + ["X"], "name": [f"Trust {c}" for c in codes + ["X"]],
                         "kind": ["acute_trust"] * len(codes) + ["specialist_trust"]})
    i = np.arange(1, 6)
    j = np.arange(1, 11)
    context = pd.DataFrame(
        {"imd_score": np.r_[30.0, 30 + 0.5 * i, 10.0 + j, 30.0],
         "pct_over_65": np.r_[18.0, 18 + 0.2 * i, 25 + 0.3 * j, 18.0],
         "catchment_population": np.r_[500_000.0, 500_000 * (1 + 0.05 * i), 150_000 + 10_000 * j, 500_000.0]},
        index=pd.Index(codes + ["X"], name="org_code"))
    return obs, orgs, context


CFG = AssessConfig(segment=SegmentConfig(metrics=("ae_4h_pct_all",), min_orgs=4), good_practice_similar=5)


def test_similar_organisations_are_the_nearest_of_the_same_kind_on_catchment_context():
    _, orgs, context = _difficulty_system()
    # S1 is nearest and S5 farthest by construction; X has W's very catchment but is another kind
    assert similar_organisations("W", orgs, context, 5) == NEAR
    assert similar_organisations("W", orgs, context, 3) == ["S1", "S2", "S3"]
    assert similar_organisations("W", orgs, None, 5) is None


def test_good_practice_is_judged_against_similar_organisations():
    obs, orgs, context = _difficulty_system()
    a = assess_frames(obs, orgs[orgs["kind"] == "acute_trust"], CFG, context=context)
    assert bool(a.flags.set_index("org_code").loc["W", "persistent_difficulty"])
    gp = a.good_practice[a.good_practice["org_code"] == "W"].set_index("indicator")
    # 18 weeks: better than all 5 similar trusts (though worse than most trusts nationally)
    assert gp.loc["rtt_within_18w_pct", ["better_than", "n_peers"]].tolist() == [5, 5]
    assert gp.loc["rtt_within_18w_pct", "compared_with"] == "similar"
    assert gp.loc["rtt_within_18w_pct", "peer_median"] == 62.0  # S1..S5 have 60..64 (59 + k, k = 1..5)
    assert ("better than 5 of the 5 organisations of its kind most similar in catchment deprivation, age and size"
            in gp.loc["rtt_within_18w_pct", "explanation"])
    assert set(gp.index) == {"rtt_within_18w_pct", "rtt_over_52w_pct"}


def test_without_context_good_practice_says_it_compares_with_every_organisation_of_the_kind():
    obs, orgs, _ = _difficulty_system()
    a = assess_frames(obs, orgs[orgs["kind"] == "acute_trust"], CFG)
    gp = a.good_practice[a.good_practice["org_code"] == "W"].set_index("indicator")
    assert list(gp.index) == ["rtt_over_52w_pct"]  # 18 weeks: better than only 5 of 15
    row = gp.loc["rtt_over_52w_pct"]
    assert row["n_peers"] == 15 and row["compared_with"] == "kind"
    assert "15 other organisations of its kind nationally (no context data to find similar ones)" in row["explanation"]


def test_a_given_peer_list_still_wins_over_similarity():
    obs, orgs, context = _difficulty_system()
    a = assess_frames(obs, orgs[orgs["kind"] == "acute_trust"], CFG, peers={"W": FAR[:4]}, context=context)
    gp = a.good_practice[a.good_practice["org_code"] == "W"].set_index("indicator")
    assert list(gp.index) == ["rtt_over_52w_pct"]
    assert gp.loc["rtt_over_52w_pct", "n_peers"] == 4 and gp.loc["rtt_over_52w_pct", "compared_with"] == "peers"
