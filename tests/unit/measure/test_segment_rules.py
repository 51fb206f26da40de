"""Segment rules: tied average scores share a segment; an organisation needs more than half of the key metrics
that have data that month; the explanation names the metrics actually scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.measure.assess import AssessConfig, assess_frames
from partnering.measure.segment import SegmentConfig, monthly_segments, required_metrics

pytestmark = pytest.mark.unit

KEY = ("ae_4h_pct_all", "rtt_within_18w_pct", "ae_dta_over_12h_pct", "rtt_over_52w_pct")
# the four key metrics' values for an organisation of quality q (0 worst .. 1 best), in their own directions
VALUES = {
    "ae_4h_pct_all": lambda q: 60 + 30 * q,
    "rtt_within_18w_pct": lambda q: 50 + 30 * q,
    "ae_dta_over_12h_pct": lambda q: 20 - 15 * q,
    "rtt_over_52w_pct": lambda q: 5 - 4 * q,
}


def test_tied_average_scores_share_a_segment():
    # R03 and R04 tie at 80 on the 4th and 5th places of 8: the segment 2 / 3 boundary runs through the tie
    orgs = [f"R{i:02d}" for i in range(8)]
    obs = pd.DataFrame({"org_code": orgs, "indicator": "ae_4h_pct_all", "period": "2025-01",
                        "value": [95, 90, 85, 80, 80, 70, 65, 60]})
    seg = monthly_segments(obs, SegmentConfig(metrics=("ae_4h_pct_all",))).set_index("org_code")["segment"]
    assert seg["R03"] == seg["R04"] == 3  # the tie goes to the worse segment, whatever the codes' order
    assert seg.tolist() == [1, 1, 2, 3, 3, 3, 4, 4]
    # the same for a tie of averages over different scores: R01 is 2nd and 7th of 8, R03 4th and 5th
    two = pd.DataFrame({"org_code": orgs * 2, "indicator": ["ae_4h_pct_all"] * 8 + ["rtt_within_18w_pct"] * 8,
                        "period": "2025-01",
                        "value": [95, 90, 85, 80, 75, 70, 65, 60] + [80, 50, 75, 60, 70, 65, 55, 45]})
    seg2 = monthly_segments(two, SegmentConfig(metrics=("ae_4h_pct_all", "rtt_within_18w_pct")))
    avg = seg2.set_index("org_code")["avg_score"]
    assert avg["R01"] == pytest.approx(avg["R03"])
    s = seg2.set_index("org_code")["segment"]
    assert s["R01"] == s["R03"] == 3  # 4th and 5th of 8 again


def test_required_metrics_is_more_than_half_of_those_with_data():
    assert [required_metrics(m) for m in (1, 2, 3, 4)] == [1, 2, 2, 3]
    assert required_metrics(4, min_metrics=1) == 1
    with pytest.raises(ValidationError):
        SegmentConfig(min_metrics=0).validate()


def _system(months=("2025-01", "2025-02")):
    """Nine organisations with all four key metrics, of qualities 0.1 .. 0.9, and ONE, the best on the 4-hour
    measure, which reports nothing else; in 2025-02 only the two A&E metrics have data."""
    rows = []
    codes = [f"T{i}" for i in range(1, 10)]
    for p in months:
        metrics = KEY if p == "2025-01" else ("ae_4h_pct_all", "ae_dta_over_12h_pct")
        for i, code in enumerate(codes):
            q = (i + 1) / 10
            rows += [(code, m, p, VALUES[m](q)) for m in metrics]
        rows.append(("ONE", "ae_4h_pct_all", p, 99.0))
    obs = pd.DataFrame(rows, columns=["org_code", "indicator", "period", "value"])
    orgs = pd.DataFrame({"org_code": codes + ["ONE"], "name": [f"Trust {c}" for c in codes + ["ONE"]],
                         "kind": "acute_trust"})
    return obs, orgs


def test_an_organisation_with_one_scored_metric_is_not_ranked_against_those_with_four():
    obs, _ = _system()
    seg = monthly_segments(obs)
    jan = seg[seg["period"] == "2025-01"].set_index("org_code")
    assert "ONE" not in jan.index  # 1 of 4 key metrics is not more than half
    assert (jan["metrics_required"] == 3).all() and (jan["metrics_scored"] == 4).all()
    assert jan["n_orgs"].iloc[0] == 9
    # with only the two A&E metrics published in February, an organisation needs both
    feb = seg[seg["period"] == "2025-02"].set_index("org_code")
    assert "ONE" not in feb.index and (feb["metrics_required"] == 2).all()
    # the old rule is still there when asked for: one scored metric is enough
    loose = monthly_segments(obs, SegmentConfig(min_metrics=1))
    assert loose[(loose["org_code"] == "ONE") & (loose["period"] == "2025-01")]["segment"].tolist() == [1]


def test_the_segment_explanation_names_the_metrics_actually_scored():
    obs, orgs = _system()
    cfg = AssessConfig(segment=SegmentConfig(min_orgs=4))
    f = assess_frames(obs, orgs, cfg).flags.set_index("org_code")
    # the latest month (2025-02) scored only the two A&E metrics
    summary = f.loc["T5", "summary"]
    assert "from 2 metrics: A&E attendances within 4 hours (all types) and 12-hour waits" in summary
    assert "RTT" not in summary
    assert f.loc["ONE", "summary"].startswith("Not segmented")
    assert np.isnan(f.loc["ONE", "avg_score"])
