"""Assessment on the real A&E and RTT data: icon table, segments and flags a reader can check."""

from __future__ import annotations

import re

import pytest

from partnering.measure.assess import assess
from partnering.store import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.shared]


def test_real_assessment_of_acute_trusts(real_store):
    a = assess(real_store)
    f = a.flags
    acute = repo.organisations_frame(real_store, ["acute_trust"])
    specialist = repo.organisations_frame(real_store, ["specialist_trust"])
    # every trust with type 1 A&E attendances is an acute or a specialist trust (MANIFEST: 121 in March 2026, more
    # over three years); specialist trusts (children's, women's ...) are assessed among themselves, not here
    assert 121 <= len(acute) + len(specialist) <= 135
    assert set(specialist.org_code) == {"RBS", "RCU", "RQ3"}  # Alder Hey, Sheffield and Birmingham children's
    assert len(f) == len(acute)
    # the icon table covers every trust on the 4-hour measure, with the latest month of the data
    four = a.icons[a.icons.indicator == "ae_4h_pct_all"]
    assert four["latest_period"].max() == "2026-03"
    assert (four["target"] == 78.0).all()
    # segments are quartiles of the average metric score in each month
    latest = a.segments[a.segments.period == "2025-03"]
    counts = latest["segment"].value_counts().sort_index()
    assert list(counts.index) == [1, 2, 3, 4] and counts.max() - counts.min() <= 1
    # tied average scores share a segment; every average covers more than half of the key metrics with data
    seg = a.segments
    assert seg.groupby(["period", seg["avg_score"].round(9)])["segment"].nunique().max() == 1
    assert (seg["metrics_scored"] >= seg["metrics_required"]).all()
    assert (seg.loc[seg["period"] == "2025-03", "metrics_required"] == 3).all()  # 4 key metrics that month
    # good practice is judged against the 10 most similar acute trusts (the fixture loads catchment context)
    gp = a.good_practice
    assert len(gp) > 0 and (gp["compared_with"] == "similar").all() and (gp["n_peers"] <= 10).all()
    # flags: a minority in persistent difficulty, each explained, none also a track record
    bad, good = f[f.persistent_difficulty], f[f.track_record]
    assert 0 < len(bad) < len(f) / 3
    assert not (f.persistent_difficulty & f.track_record).any()
    assert bad["difficulty_reason"].str.contains("of the last 12 months").all()
    # the flagged organisations really are worse: their 4-hour mean over the last year is below the median
    obs = repo.observations_frame(real_store, ["ae_4h_pct_all"])
    last_year = obs[obs.period >= "2025-04"].groupby("org_code")["value"].mean()
    assert last_year.reindex(bad.org_code).median() < last_year.reindex(f.org_code).median()
    if len(good):
        assert last_year.reindex(good.org_code).median() > last_year.reindex(f.org_code).median()


@pytest.mark.shared
def test_real_assessment_says_that_rtt_stopped_before_ae(real_store):
    """The real RTT files end in March 2025, the A&E files in March 2026: every organisation's summary says so."""
    a = assess(real_store)
    f = a.freshness.set_index("family")
    assert f.loc["ae-monthly", "latest_period"] == "2026-03" and f.loc["rtt", "latest_period"] == "2025-03"
    assert bool(f.loc["rtt", "stale"]) and f.loc["rtt", "months_behind"] == 12
    assert (a.flags["data_note"].str.contains("RTT data end in 2025-03, 12 months before the latest month")).all()
    assert a.flags["summary"].str.contains("Stale data: RTT").all()


@pytest.mark.shared
def test_a_concern_on_a_stale_metric_says_its_data_have_ended(real_store):
    a = assess(real_store)
    reasons = " ".join(a.flags["difficulty_reason"]) + " ".join(a.flags["track_record_reason"])
    # each concern on an RTT metric ("RTT incomplete pathways ... (value in month: why") says its data have ended
    quoted = len(re.findall(r"RTT incomplete pathways[^()]*\([^()]* in 2025-0[1-3]: ", reasons))
    assert quoted > 0, "expected RTT concerns quoted from the last RTT months on the real data"
    assert reasons.count("; RTT data end in 2025-03)") == quoted
