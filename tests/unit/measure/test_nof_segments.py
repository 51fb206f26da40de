"""The Oversight Framework 2025/26 method (measure.segment, measure.nof): scores 1-4 by rank, averaged, quartiled,
the deficit cap and segment 5, quarterly and annual values carried to their next publication, the league table and
the metric table."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.indicators.catalogue import load_catalogue
from partnering.measure.nof import agreement, framework_indicators, metric_status, nof_metrics
from partnering.measure.segment import (
    SegmentConfig,
    carry_forward,
    key_metrics,
    league_table,
    metric_scores,
    monthly_segments,
    publication_intervals,
)

pytestmark = pytest.mark.unit

CODES = [f"T{i}" for i in range(1, 9)]
# RTT 18-week % (higher is better) and 52-week % of the list (lower is better) for eight trusts
RTT18 = [70.0, 65.0, 62.0, 60.0, 58.0, 55.0, 52.0, 50.0]
RTT52 = [0.5, 1.5, 0.8, 2.0, 1.0, 3.0, 2.5, 4.0]
TWO = ("rtt_within_18w_pct", "rtt_over_52w_pct")


def _obs(period="2025-06"):
    return pd.DataFrame({"org_code": CODES * 2, "indicator": ["rtt_within_18w_pct"] * 8 + ["rtt_over_52w_pct"] * 8,
                         "period": period, "value": RTT18 + RTT52})


def test_scores_are_one_to_four_by_rank_as_the_technical_specification_says():
    # Worked by hand from "scored between 1.00 and 4.00 based on absolute % value ranked high to low": with n = 8
    # trusts the r-th best scores 1 + 3 (r - 1) / 7, so the steps are 3/7 = 0.428571...
    sc = metric_scores(_obs(), list(TWO)).set_index(["indicator", "org_code"])["score"]
    assert sc["rtt_within_18w_pct"].tolist() == pytest.approx([1 + 3 * r / 7 for r in range(8)])
    # 52-week % is better when lower: T1 (0.5%) 1st, T3 (0.8%) 2nd, T5 (1.0%) 3rd, T2 4th, T4 5th, T7 6th, T6 7th
    want52 = {"T1": 1, "T3": 2, "T5": 3, "T2": 4, "T4": 5, "T7": 6, "T6": 7, "T8": 8}
    assert sc["rtt_over_52w_pct"].to_dict() == pytest.approx({c: 1 + 3 * (r - 1) / 7 for c, r in want52.items()})


def test_average_score_is_quartiled_into_segments_and_the_deficit_cap_and_segment_5_adjust():
    seg = monthly_segments(_obs(), SegmentConfig(metrics=TWO)).set_index("org_code")
    # averages by hand: T1 (1+1)/2 = 1; T3 (3+2)/2 ranks 2.5 ... in score units: ((r18-1)+(r52-1)) * 3/7 / 2 + 1
    r18 = dict(zip(CODES, range(1, 9)))
    want = {c: 1 + 3 / 7 * ((r18[c] - 1) + ({"T1": 1, "T3": 2, "T5": 3, "T2": 4, "T4": 5, "T7": 6, "T6": 7,
                                               "T8": 8}[c] - 1)) / 2 for c in CODES}
    assert seg["avg_score"].to_dict() == pytest.approx(want)
    # summed rank steps: T1 0, T3 2+1 = 3, T2 1+3 = 4, T5 4+2 = 6, T4 3+4 = 7, T6 5+6 = 11, T7 6+5 = 11, T8 14;
    # quartiles of eight are pairs, and the T6/T7 tie over the 3/4 boundary goes to segment 4
    assert seg["segment"].to_dict() == {"T1": 1, "T3": 1, "T2": 2, "T5": 2, "T4": 3, "T6": 4, "T7": 4, "T8": 4}
    assert (seg["adjustment"] == "").all() and (seg["segment"] == seg["segment_unadjusted"]).all()
    adj = monthly_segments(_obs(), SegmentConfig(metrics=TWO, in_deficit=frozenset({"T1", "T6"}),
                                                 recovery_support=frozenset({"T8"}))).set_index("org_code")
    assert adj.loc["T1", "segment"] == 3 and adj.loc["T1", "segment_unadjusted"] == 1
    assert "deficit" in adj.loc["T1", "adjustment"]
    assert adj.loc["T6", "segment"] == 4 and adj.loc["T6", "adjustment"] == ""  # already below 3: no change
    assert adj.loc["T8", "segment"] == 5 and "Recovery Support" in adj.loc["T8", "adjustment"]


def test_fixed_thresholds_still_replace_quartiles():
    seg = monthly_segments(_obs(), SegmentConfig(metrics=TWO, thresholds=(1.5, 2.5, 3.5))).set_index("org_code")
    assert seg.loc["T1", "segment"] == 1 and seg.loc["T8", "segment"] == 4
    assert ((seg["avg_score"] <= 1.5) == (seg["segment"] == 1)).all()


def test_a_quarterly_value_counts_until_the_next_quarter_and_an_annual_one_for_a_year():
    q = pd.DataFrame({"org_code": "T1", "indicator": "q", "period": ["2025-04", "2025-07"], "value": [1.0, 2.0]})
    m = pd.DataFrame({"org_code": "T1", "indicator": "m", "period": [f"2025-{i:02d}" for i in range(4, 10)],
                      "value": 1.0})
    obs = pd.concat([q, m], ignore_index=True)
    iv = publication_intervals(obs)
    assert iv == {"q": 3, "m": 1}
    out = carry_forward(obs, iv)
    qq = out[out.indicator == "q"].set_index("period")["value"]
    # April's value stands for April to June, July's for July to September (the data end in September)
    assert qq.to_dict() == {"2025-04": 1.0, "2025-05": 1.0, "2025-06": 1.0, "2025-07": 2.0, "2025-08": 2.0,
                            "2025-09": 2.0}
    assert len(out[out.indicator == "m"]) == 6  # monthly data unchanged
    # a single annual survey takes its interval from the metric table's hint
    one = pd.DataFrame({"org_code": "T1", "indicator": "s", "period": ["2024-10"], "value": [7.0]})
    assert publication_intervals(one, {"s": 12}) == {"s": 12}


def test_league_table_ranks_by_adjusted_segment_then_average_score():
    obs = pd.concat([_obs("2025-04"), _obs("2025-06").assign(value=lambda d: d["value"])], ignore_index=True)
    lt = league_table(obs, "2025-06", SegmentConfig(metrics=TWO, in_deficit=frozenset({"T1"})))
    assert lt["rank"].tolist() == list(range(1, 9))
    # T1 has the best average but is in deficit: segment 3, ranked after every trust in segments 1 and 2
    assert lt.set_index("org_code").loc["T1", "segment"] == 3
    assert lt["org_code"].tolist()[:5] == ["T3", "T2", "T5", "T1", "T4"]
    assert lt["segment"].is_monotonic_increasing
    # months outside the quarter are not used: a value only in January leaves nothing to score in June
    jan = _obs("2025-01")
    assert league_table(jan, "2025-06", SegmentConfig(metrics=TWO)).empty


def test_default_metrics_are_the_frameworks_ranked_metrics_the_catalogue_has():
    cat = load_catalogue()
    nof = framework_indicators(cat)
    # the four metrics of the A&E and RTT families are Framework metrics (4-hour, 12-hour proxy, 18 and 52 weeks)
    assert {"ae_4h_pct_all", "ae_dta_over_12h_pct", "rtt_within_18w_pct", "rtt_over_52w_pct"} <= set(nof)
    assert set(nof) <= set(key_metrics(SegmentConfig(), cat))
    assert not any(cat[c].unit == "count" for c in nof)


def test_metric_table_says_what_is_in_and_what_is_missing():
    cat = load_catalogue()
    st = metric_status(cat, with_data={"ae_4h_pct_all", "rtt_within_18w_pct"}).set_index("metric")
    assert st.loc["rtt_18_weeks", "nof_id"] == "OF0023" and st.loc["rtt_18_weeks", "status"] == "in"
    assert st.loc["ae_12_hours", "status"] in ("proxy", "no data loaded")
    assert st.loc["rtt_plan_gap", "status"] == "not scored by Partnering"  # manual: needs the trust's plan
    assert st.loc["sickness_absence", "status"] == "missing" and st.loc["sickness_absence", "indicator"] == ""
    assert st.loc["rtt_52_weeks", "status"] == "no data loaded"  # defined, but not in with_data
    assert {m.key for m in nof_metrics()} == set(st.index)
    assert st["source"].str.len().gt(0).all()  # every metric names its source


def test_agreement_counts_same_segments_and_correlates_ranks():
    ours = pd.DataFrame({"org_code": ["A", "B", "C", "D"], "segment": [1, 2, 3, 4], "avg_score": [1.2, 2, 2.6, 3.5],
                         "rank": [1, 2, 3, 4]})
    pub = pd.DataFrame({"org_code": ["A", "B", "C", "D", "Z"], "published_segment": [1, 3, 3, None, 2],
                        "published_rank": [2, 1, 3, 4, 9]})
    a = agreement(ours, pub)
    assert a["published"] == 5 and a["matched"] == 4
    assert a["segments_compared"] == 3 and a["same_segment"] == 2
    assert a["share_same_segment"] == pytest.approx(2 / 3) and a["within_one_segment"] == 1.0
    assert a["ranks_compared"] == 4 and a["rank_correlation"] == pytest.approx(0.8)


def test_published_figures_file_is_refused_with_the_reason(tmp_path):
    from partnering.errors import IngestError
    from partnering.measure.nof import read_published

    ok = tmp_path / "pub.csv"
    ok.write_text("org_code,quarter,published_segment,published_rank\nRM3,Q1 2025/26,4,116\nRM3,Q2 2025/26,4,112\n")
    assert read_published(ok, "Q2 2025/26")["published_rank"].tolist() == [112]
    no_cols = tmp_path / "no.csv"
    no_cols.write_text("trust,segment\nRM3,4\n")
    with pytest.raises(IngestError, match="org_code and published_segment"):
        read_published(no_cols)
    bad = tmp_path / "bad.csv"
    bad.write_text("org_code,published_rank\nRM3,116\nRNN,joint 130th\n")
    with pytest.raises(IngestError) as e:
        read_published(bad)
    assert e.value.row == 3 and e.value.column == "published_rank"


def test_ambulance_default_leaves_out_the_acute_only_key_metrics():
    cat = load_catalogue()
    amb = key_metrics(SegmentConfig(trust_type="ambulance"), cat)
    assert "ae_4h_pct_all" not in amb and "rtt_within_18w_pct" not in amb
    assert set(framework_indicators(cat, "ambulance")) <= set(amb)
