"""A new family of data in the assessment (issue #13 s.4): its indicators in the icon table, its own freshness row,
and, when the Framework scores it, in the segments and the flags' explanations.  A small synthetic family stands in
for the new loaders: a quarterly "beds" measure and a monthly cancer standard."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from partnering.indicators.catalogue import IndicatorDef, load_catalogue
from partnering.measure.assess import AssessConfig, assess_frames
from partnering.measure.freshness import data_freshness
from partnering.measure.segment import SegmentConfig, key_metrics

pytestmark = pytest.mark.unit

MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]


def _catalogue():
    cat = dict(load_catalogue())
    # stand-ins shaped like the new catalogue entries: a Framework metric (cancer 62-day, measured by a code the
    # metric table lists) and a quarterly measure the Framework does not score
    cat["cwt_62d_pct"] = IndicatorDef("cwt_62d_pct", "Cancer 62-day standard (synthetic)", "percent", "increase",
                                      national_standard=75.0, owner="cancer-waiting-times")
    cat["beds_ga_occupancy_pct"] = IndicatorDef("beds_ga_occupancy_pct", "G&A bed occupancy (synthetic)", "percent",
                                                "decrease", owner="beds-overnight",
                                                extra={"frequency": "quarterly"})
    return cat


def _frames(n=12):
    codes = [f"T{i:02d}" for i in range(n)]
    rows = []
    for i, c in enumerate(codes):
        q = i / (n - 1)  # 0 best .. 1 worst
        for j, p in enumerate(MONTHS):
            rows.append((c, "ae_4h_pct_all", p, 90 - 30 * q + (j % 3)))
            if p <= "2025-07":  # the cancer file stops in July 2025, like the real one
                rows.append((c, "cwt_62d_pct", p, 85 - 35 * q + (j % 2)))
            if p[5:] in ("03", "06", "09", "12"):  # quarterly, stored at the quarter's last month
                rows.append((c, "beds_ga_occupancy_pct", p, 85 + 10 * q))
    obs = pd.DataFrame(rows, columns=["org_code", "indicator", "period", "value"])
    orgs = pd.DataFrame({"org_code": codes, "name": [f"Trust {c}" for c in codes], "kind": "acute_trust"})
    return obs, orgs


def test_a_new_family_is_in_the_icon_table_freshness_segments_and_explanations():
    cat = _catalogue()
    obs, orgs = _frames()
    metrics = key_metrics(SegmentConfig(), cat)
    assert "cwt_62d_pct" in metrics  # a Framework metric as soon as the catalogue defines it
    assert "beds_ga_occupancy_pct" not in metrics  # not scored by the Framework
    a = assess_frames(obs, orgs, AssessConfig(), catalogue=cat)
    assert {"cwt_62d_pct", "beds_ga_occupancy_pct"} <= set(a.icons["indicator"])
    fr = a.freshness.set_index("family")
    assert fr.loc["cancer-waiting-times", "latest_period"] == "2025-07"
    assert fr.loc["cancer-waiting-times", "family_name"] == "Cancer waiting times"
    assert bool(fr.loc["cancer-waiting-times", "stale"])  # five months behind A&E
    assert not bool(fr.loc["beds-overnight", "stale"])  # quarterly, latest quarter in: not late
    assert fr.loc["beds-overnight", "family_name"] == "Beds (KH03)"
    seg = a.segments
    assert seg[seg.period == "2025-06"]["scored_metrics"].str.contains("cwt_62d_pct").all()
    assert not seg[seg.period == "2025-12"]["scored_metrics"].str.contains("cwt_62d_pct").any()
    # the worst trust is in persistent difficulty, and the reason names the cancer metric behind it
    worst = a.flags.set_index("org_code").loc["T11"]
    assert worst["persistent_difficulty"] and "Cancer 62-day standard (synthetic)" in worst["difficulty_reason"]
    assert "Cancer waiting times data end in 2025-07" in worst["summary"]


def test_ambulance_trusts_are_segmented_on_the_frameworks_ambulance_metrics():
    cat = dict(load_catalogue())
    cat["amb_c2_mean_min"] = IndicatorDef("amb_c2_mean_min", "Category 2 mean response time (synthetic)", "minutes",
                                          "decrease", owner="ambulance-ambsys")
    codes = [f"A{i:02d}" for i in range(10)]
    obs = pd.DataFrame([(c, "amb_c2_mean_min", p, 20 + 3 * i) for i, c in enumerate(codes) for p in MONTHS],
                       columns=["org_code", "indicator", "period", "value"])
    orgs = pd.DataFrame({"org_code": codes, "name": codes, "kind": "ambulance_trust"})
    a = assess_frames(obs, orgs, AssessConfig(kinds=("ambulance_trust",)), catalogue=cat)
    assert "amb_c2_mean_min" in a.metrics
    last = a.segments[a.segments.period == MONTHS[-1]].set_index("org_code")["segment"]
    assert last["A00"] == 1 and last["A09"] == 4
    # the acute default does not score ambulance response times
    assert "amb_c2_mean_min" not in key_metrics(replace(SegmentConfig(), trust_type="acute"), cat)


def test_freshness_of_a_quarterly_family_allows_its_own_interval():
    obs = pd.DataFrame({"org_code": "T1", "indicator": ["ae_4h_pct_all", "beds_ga_occupancy_pct"],
                        "period": ["2025-11", "2025-06"], "value": 1.0})
    cat = _catalogue()
    fr = data_freshness(obs, cat).set_index("family")
    # five months behind: stale for a monthly family (3), also for a quarterly one (3 + 2)
    assert bool(fr.loc["beds-overnight", "stale"])
    fr2 = data_freshness(obs.assign(period=["2025-11", "2025-07"]), cat).set_index("family")
    assert not bool(fr2.loc["beds-overnight", "stale"])  # four months behind a quarterly family: not yet late
