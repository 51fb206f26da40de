"""Segmentation, persistent difficulty, track record and good practice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.measure.assess import AssessConfig, assess_frames
from partnering.measure.segment import SegmentConfig, metric_scores, monthly_segments

pytestmark = pytest.mark.unit


def _periods(n, end="2026-03"):
    return list(pd.period_range(end=end, periods=n, freq="M").strftime("%Y-%m"))


def test_metric_scores_rank_best_to_worst_in_the_improvement_direction():
    obs = pd.DataFrame({"org_code": list("ABCD") * 2,
                        "indicator": ["ae_4h_pct_all"] * 4 + ["rtt_over_52w_pct"] * 4,
                        "period": "2025-01", "value": [90, 80, 70, 60, 1.0, 2.0, 3.0, 4.0]})
    s = metric_scores(obs, ["ae_4h_pct_all", "rtt_over_52w_pct"]).set_index(["indicator", "org_code"])["score"]
    # higher is better for 4-hour %, lower is better for 52-week %
    assert s["ae_4h_pct_all"].to_dict() == {"A": 1.0, "B": 2.0, "C": 3.0, "D": 4.0}
    assert s["rtt_over_52w_pct"].to_dict() == {"A": 1.0, "B": 2.0, "C": 3.0, "D": 4.0}


def test_segments_by_quartile_and_by_fixed_thresholds():
    orgs = [f"R{i:02d}" for i in range(8)]
    obs = pd.DataFrame({"org_code": orgs, "indicator": "ae_4h_pct_all", "period": "2025-01",
                        "value": np.linspace(95, 60, 8)})
    q = monthly_segments(obs, SegmentConfig(metrics=("ae_4h_pct_all",)))
    assert q.set_index("org_code")["segment"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    t = monthly_segments(obs, SegmentConfig(metrics=("ae_4h_pct_all",), thresholds=(1.5, 2.5, 3.5)))
    # scores are 1, 1.43, 1.86, 2.29, 2.71, 3.14, 3.57, 4
    assert t.set_index("org_code")["segment"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    with pytest.raises(ValidationError):
        SegmentConfig(thresholds=(3.0, 2.0, 1.0)).validate()


def _system(n_orgs=12, months=30, seed=0):
    """A system where W is always worst, B always best, and W is best on the 18-week measure."""
    rng = np.random.default_rng(seed)
    periods = _periods(months)
    rows = []
    codes = ["W", "B"] + [f"T{i}" for i in range(n_orgs - 2)]
    for k, code in enumerate(codes):
        base4 = {"W": 60.0, "B": 92.0}.get(code, 70 + 1.5 * k)
        base18 = {"W": 80.0, "B": 75.0}.get(code, 55 + k)
        for p in periods:
            rows.append((code, "ae_4h_pct_all", p, base4 + rng.normal(0, 0.5)))
            rows.append((code, "rtt_within_18w_pct", p, base18 + rng.normal(0, 0.5)))
    obs = pd.DataFrame(rows, columns=["org_code", "indicator", "period", "value"])
    obs["numerator"] = np.nan
    obs["denominator"] = np.nan
    orgs = pd.DataFrame({"org_code": codes, "name": [f"Trust {c}" for c in codes], "kind": "acute_trust"})
    return obs, orgs


def test_persistent_difficulty_track_record_and_good_practice_explain_themselves():
    obs, orgs = _system()
    cfg = AssessConfig(segment=SegmentConfig(metrics=("ae_4h_pct_all", "rtt_within_18w_pct"), min_orgs=4))
    a = assess_frames(obs, orgs, cfg)
    f = a.flags.set_index("org_code")
    # W is worst on 4-hour but best on 18 weeks, so its average (4 + 1) / 2 keeps it out of segment 4
    assert not bool(f.loc["W", "persistent_difficulty"])
    worst = a.segments.groupby("org_code")["avg_score"].mean().idxmax()
    assert bool(f.loc[worst, "persistent_difficulty"])
    assert "In segment 4" in f.loc[worst, "difficulty_reason"]
    assert "of the last 12 months" in f.loc[worst, "difficulty_reason"]
    best = a.segments.groupby("org_code")["avg_score"].mean().idxmin()
    assert bool(f.loc[best, "track_record"])
    assert "segment 1" in f.loc[best, "track_record_reason"]
    assert not f["persistent_difficulty"][f["track_record"]].any()
    # icon table has one row per organisation x indicator with icons
    assert len(a.icons) == len(orgs) * 2
    assert set(a.icons["variation_icon"]) <= {"common_cause", "improvement_high", "improvement_low", "concern_high",
                                              "concern_low", "neutral_high", "neutral_low", "none"}


def test_good_practice_of_an_organisation_in_difficulty():
    obs, orgs = _system()
    # make W bottom on 4-hour by a wide margin and give it a third, bad measure so it is in segment 4
    extra = obs[obs.indicator == "ae_4h_pct_all"].copy()
    extra["indicator"] = "rtt_over_52w_pct"
    extra["value"] = np.where(extra["org_code"] == "W", 9.0, 1.0 + extra.index % 5 * 0.1)
    obs = pd.concat([obs, extra], ignore_index=True)
    cfg = AssessConfig(segment=SegmentConfig(metrics=("ae_4h_pct_all", "rtt_within_18w_pct", "rtt_over_52w_pct"),
                                             min_orgs=4))
    a = assess_frames(obs, orgs, cfg)
    f = a.flags.set_index("org_code")
    assert bool(f.loc["W", "persistent_difficulty"])
    gp = a.good_practice[a.good_practice.org_code == "W"]
    assert list(gp["indicator"]) == ["rtt_within_18w_pct"]
    assert gp["better_than"].iloc[0] == gp["n_peers"].iloc[0] == 11
    assert "good practice a partnership must not lose" in f.loc["W", "good_practice"]


def test_config_is_validated():
    with pytest.raises(ValidationError):
        AssessConfig(difficulty_min_months=13, difficulty_window=12).validate()
    with pytest.raises(ValidationError):
        AssessConfig(track_window=0).validate()


def test_demo_designed_profiles_are_found():
    from partnering.demo import generate

    system = generate(seed=2026)
    a = assess_frames(system.observations, system.organisations)
    truth = system.truth.set_index("org_code")["designed_profile"]
    f = a.flags.set_index("org_code")
    designed_bad = truth[truth == "persistent_difficulty"].index
    designed_good = truth[truth == "track_record"].index
    # every designed organisation is assessed (an empty intersection would make the .all() below vacuous)
    assert len(designed_bad) > 0 and len(designed_good) > 0
    assert set(designed_bad) | set(designed_good) <= set(f.index)
    assert f.loc[designed_bad, "persistent_difficulty"].all()
    assert f.loc[designed_good, "track_record"].all()
    assert not (f["persistent_difficulty"] & f["track_record"]).any()
    # every flag explains itself
    assert (f.loc[f["persistent_difficulty"], "difficulty_reason"].str.len() > 40).all()
    assert (f.loc[f["track_record"], "track_record_reason"].str.len() > 40).all()


def test_one_organisations_early_month_does_not_move_everyones_windows():
    obs, orgs = _system()
    cfg = AssessConfig(segment=SegmentConfig(metrics=("ae_4h_pct_all", "rtt_within_18w_pct"), min_orgs=4))
    before = assess_frames(obs, orgs, cfg)
    early = pd.DataFrame({"org_code": ["T0"], "indicator": ["ae_4h_pct_all"], "period": ["2026-04"],
                          "value": [99.0], "numerator": [np.nan], "denominator": [np.nan]})
    after = assess_frames(pd.concat([obs, early], ignore_index=True), orgs, cfg)
    cols = ["org_code", "persistent_difficulty", "track_record", "months_segment_4", "months_segment_1"]
    pd.testing.assert_frame_equal(before.flags[cols].sort_values("org_code").reset_index(drop=True),
                                  after.flags[cols].sort_values("org_code").reset_index(drop=True))
    st = after.standing.set_index(["org_code", "indicator"])
    assert st.loc[("T0", "ae_4h_pct_all"), "latest_period"] == "2026-03"  # not "1st of 1" in 2026-04
    # the early value still appears on T0's own chart
    pts = after.points[after.points.series == "T0|ae_4h_pct_all"]
    assert pd.Timestamp(pts["x"].max()).strftime("%Y-%m") == "2026-04"
