"""Partner suitability on hand-made frames: components, weights, reasons, two-way learning, catalogue files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import NotFoundError, ValidationError
from partnering.match.candidates import (
    COMPONENTS,
    MatchInputs,
    SuitabilityWeights,
    explain_pairs,
    load_catalogue,
    ordinal,
    performance_arrays,
    score_pairs,
)

pytestmark = pytest.mark.unit

IND = {
    "ae_4h_pct_all": ("A&E 4-hour", "percent", "increase", 78.0),
    "rtt_within_18w_pct": ("RTT 18 weeks", "percent", "increase", 92.0),
    "rtt_median_wait_weeks": ("RTT median wait", "weeks", "decrease", np.nan),
}

# org -> indicator -> (latest_percentile, latest_rank, latest_value, months_top_quartile, concern)
PERF = {
    "R": {"ae_4h_pct_all": (0.90, 90, 70.0, 0, True), "rtt_within_18w_pct": (0.05, 5, 93.0, 24, False),
          "rtt_median_wait_weeks": (0.40, 40, 12.0, 0, False)},
    "S1": {"ae_4h_pct_all": (0.02, 2, 85.0, 24, False), "rtt_within_18w_pct": (0.10, 10, 90.0, 20, False),
           "rtt_median_wait_weeks": (0.10, 10, 9.0, 20, False)},
    "S2": {"ae_4h_pct_all": (0.30, 30, 76.0, 0, False), "rtt_within_18w_pct": (0.60, 60, 70.0, 0, False),
           "rtt_median_wait_weeks": (0.50, 50, 14.0, 0, False)},
    "S3": {"ae_4h_pct_all": (0.95, 95, 65.0, 0, True), "rtt_within_18w_pct": (0.70, 70, 60.0, 0, False),
           "rtt_median_wait_weeks": (0.90, 90, 20.0, 0, True)},
}
PERF["S4"] = PERF["S1"]  # as good as S1, but far away
PERF["S5"] = PERF["S1"]  # as good as S1, but already supporting two organisations
MINUTES = {"S1": 30.0, "S2": 30.0, "S3": 30.0, "S4": 300.0, "S5": 30.0, "XI": 40.0, "XT": np.nan}


def _frames():
    st, ic = [], []
    for org, per in PERF.items():
        for ind, (pct, rank, val, mtq, concern) in per.items():
            name, unit, direction, target = IND[ind]
            st.append({"org_code": org, "indicator": ind, "months_scored": 24, "months_top_quartile": mtq,
                       "months_bottom_quartile": 0, "mean_value": val, "latest_period": "2026-03",
                       "latest_value": val, "latest_rank": float(rank), "latest_n": 100, "latest_percentile": pct,
                       "top_quartile_streak": mtq})
            ic.append({"org_code": org, "indicator": ind, "latest_period": "2026-03", "latest_value": val,
                       "target": target, "variation_icon": "concern_low" if concern else "common_cause",
                       "assurance_type": None, "point_type": "special_cause_concern" if concern else "common_cause",
                       "indicator_name": name, "unit": unit, "improvement_direction": direction})
    return pd.DataFrame(st), pd.DataFrame(ic)


def _inputs(catalogue=None, loads=None) -> MatchInputs:
    standing, icons = _frames()
    perf, meta = performance_arrays(standing, icons)
    orgs = pd.DataFrame(
        {"name": [f"Trust {c}" for c in PERF] + ["Indie", "Tech"],
         "kind": ["acute_trust"] * len(PERF) + ["independent_provider", "technology_partner"]},
        index=list(PERF) + ["XI", "XT"],
    )
    sim = pd.DataFrame({"S1": [0.8], "S2": [0.8], "S3": [0.8], "S4": [0.8], "S5": [0.8]}, index=["R"])

    def travel(recs, sups):
        m = np.array([[MINUTES.get(s, np.nan) for s in sups] for _ in recs], dtype=float)
        return m, m / 0.75, np.zeros(m.shape, dtype=bool)

    return MatchInputs(
        orgs=orgs, perf=perf, indicators=meta, in_difficulty={"R"}, track_record={"S1", "S4", "S5"},
        similarity=sim, loads=loads if loads is not None else {"S5": ["Q1", "Q2"]},
        catalogue=load_catalogue(catalogue), travel=travel,
    )


def _scores(inp, cands=("S1", "S2", "S3", "S4", "S5"), weights=SuitabilityWeights()):
    return score_pairs(inp, ["R"], list(cands), weights).set_index("supporter")


def test_capable_near_free_track_record_trust_ranks_first():
    s = _scores(_inputs())
    assert s["score"].idxmax() == "S1"
    assert s.loc["S1", "score"] > s.loc["S2", "score"] > s.loc["S3", "score"]
    assert s.loc["S1", "score"] > s.loc["S4", "score"]  # farther
    assert s.loc["S1", "score"] > s.loc["S5", "score"]  # busier
    assert s.loc["S4", "proximity"] == 0.0 and s.loc["S5", "spare_capacity"] == pytest.approx(1 / 3)


def test_capability_counts_only_where_the_recipient_is_weak_and_the_candidate_better():
    s = _scores(_inputs())
    # R is weak on 4-hour (bottom 10%, concern, failing 78%) only; S3 is worse there -> no capability
    assert s.loc["S3", "capability"] == 0.0
    assert s.loc["S1", "best_indicator"] == "ae_4h_pct_all"
    # S1 on 4-hour: 24/24 months top quartile, no concern, meets the 78% standard -> strength 1.0
    assert s.loc["S1", "capability"] == pytest.approx(1.0)
    # S2: 0 months top quartile, no concern (0.2), below standard (0) -> 0.2
    assert s.loc["S2", "capability"] == pytest.approx(0.2)


def test_score_is_the_weighted_sum_of_components_on_0_to_100():
    s = _scores(_inputs())
    w = SuitabilityWeights().normalised()
    assert sum(w.values()) == pytest.approx(1.0)
    recomputed = sum(100 * w[k] * s[k] for k in COMPONENTS)
    np.testing.assert_allclose(s["score"], recomputed)
    np.testing.assert_allclose(s["score"], s[[f"pts_{k}" for k in COMPONENTS]].sum(axis=1))
    assert ((s["score"] >= 0) & (s["score"] <= 100)).all()
    for k in COMPONENTS:
        assert s[k].between(0, 1).all(), k
    only_cap = _scores(_inputs(), weights=SuitabilityWeights(capability=1, track_record=0, similarity=0,
                                                              proximity=0, spare_capacity=0, kind_fit=0))
    np.testing.assert_allclose(only_cap["score"], 100 * only_cap["capability"])


def test_failing_the_standard_makes_a_measure_weak_even_in_the_top_half():
    inp = _inputs()
    inp.perf["meets_standard"].loc["R", "rtt_within_18w_pct"] = 0.0  # 5th nationally but below 92%
    s = _scores(inp)
    # now weak on 4-hour (weight 0.9) and RTT 18 weeks (0.5); S1 is worse than R on RTT -> 0.9 / 1.4
    assert s.loc["S1", "capability"] == pytest.approx(0.9 / 1.4)


def test_bad_weights_are_refused():
    with pytest.raises(ValidationError):
        SuitabilityWeights(capability=-1).normalised()
    with pytest.raises(ValidationError):
        SuitabilityWeights(0, 0, 0, 0, 0, 0).normalised()


def test_two_way_learning_where_the_recipient_is_a_quartile_better():
    s = _scores(_inputs())
    # R is 5th on RTT 18 weeks; S2 60th and S3 70th -> learning flows back; S1 (10th) is too close
    assert s.loc["S2", "learn_back_indicator"] == "rtt_within_18w_pct"
    assert s.loc["S3", "learn_back_indicator"] == "rtt_within_18w_pct"
    assert s.loc["S1", "learn_back_indicator"] == ""
    ex = explain_pairs(s.reset_index(), _inputs()).set_index("supporter")
    assert "R (Trust R) does better on RTT 18 weeks (93.0%, 5th of 100) than S2 (70.0%, 60th)" in (
        ex.loc["S2", "two_way_learning"])
    assert ex.loc["S1", "two_way_learning"] == ""


def test_reasons_carry_the_real_numbers():
    inp = _inputs()
    ex = explain_pairs(_scores(inp).reset_index(), inp).set_index("supporter")
    r1 = ex.loc["S1", "reason"]
    assert r1.startswith("2nd of 100 trusts on A&E 4-hour (85.0% in 2026-03; R is 90th)")
    assert "in the top quartile 24 of the last 24 months" in r1
    assert "a track record of high performance" in r1
    assert "30 minutes away (40 km, estimated drive)" in r1
    assert "supporting nobody yet" in r1 and "catchment and size similarity 0.80 (0 to 1)" in r1
    assert "already supporting 2 (Q1, Q2)" in ex.loc["S5", "reason"]
    assert ex.loc["S3", "reason"].startswith("no better than R on the measures where R is weak")


def test_catalogue_partners_scored_by_kind_fit_and_offers(tmp_path):
    cat = pd.DataFrame({"org_code": ["XI", "XT"], "name": ["Indie", "Tech"],
                        "kind": ["independent_provider", "technology_partner"],
                        "offers": ["elective capacity; diagnostics", "analytics"], "capacity": [2, 3]})
    inp = _inputs(cat)
    s = _scores(inp, ["S1", "XI", "XT"])
    # R is not weak on any RTT measure -> no elective need -> the independent provider has no capability
    assert s.loc["XI", "capability"] == 0.0 and s.loc["XI", "kind_fit"] == pytest.approx(0.3)
    assert s.loc["XT", "capability"] == pytest.approx(0.5) and s.loc["XT", "proximity"] == 0.5  # location unknown
    assert s.loc["XT", "track_record"] == 0 and s.loc["XT", "similarity"] == 0.5
    assert s.loc["S1", "score"] > s.loc["XT", "score"]
    # make R weak on RTT 18 weeks -> the independent provider with elective capacity now fits
    inp.perf["latest_percentile"].loc["R", "rtt_within_18w_pct"] = 0.8
    s2 = _scores(inp, ["XI"])
    assert s2.loc["XI", "capability"] == pytest.approx(0.5) and s2.loc["XI", "kind_fit"] == 1.0
    ex = explain_pairs(s2.reset_index(), inp)
    assert ex["reason"].iloc[0].startswith("independent-sector provider offering elective capacity; diagnostics")
    assert "capacity 2, supporting nobody yet" in ex["reason"].iloc[0]


def test_load_catalogue_csv_toml_and_errors(tmp_path):
    csv = tmp_path / "cat.csv"
    csv.write_text("org_code,name,kind,offers,capacity\nxa1,A,independent_provider,elective capacity,\n")
    df = load_catalogue(csv)
    assert df.loc[0, "org_code"] == "XA1" and df.loc[0, "capacity"] == 1
    toml = tmp_path / "cat.toml"
    toml.write_text('[[partner]]\norg_code = "XB1"\nname = "Uni"\nkind = "university"\noffers = "analytics"\n'
                    "capacity = 2\n")
    assert load_catalogue(toml).loc[0, "capacity"] == 2
    with pytest.raises(NotFoundError):
        load_catalogue(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("org_code,name,kind\nX1,A,spaceship\n")
    with pytest.raises(ValidationError, match="unknown partner kind"):
        load_catalogue(bad)
    bad.write_text("org_code,name\nX1,A\n")
    with pytest.raises(ValidationError, match="lacks columns"):
        load_catalogue(bad)
    bad.write_text("org_code,name,kind,capacity\nX1,A,university,-1\n")
    with pytest.raises(ValidationError, match="capacity"):
        load_catalogue(bad)


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
