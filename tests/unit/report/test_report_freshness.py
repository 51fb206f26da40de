"""The performance report states each family's latest month and marks a stale family (issue #9.4)."""

from __future__ import annotations

import pytest

from partnering.measure.assess import assess_frames
from partnering.report.performance import freshness_lines, render_html, summary_texts, write_report

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def stale_rtt():
    """The demo system with its RTT data cut off six months before its A&E data end."""
    from partnering.demo import generate

    system = generate(seed=7)
    obs = system.observations
    last = sorted(obs["period"].unique())
    cut = last[-7]
    rtt = obs["indicator"].str.startswith("rtt_")
    a = assess_frames(obs[~rtt | (obs["period"] <= cut)], system.organisations)
    return a, cut, last[-1]


def test_freshness_lines_name_each_family_and_the_stale_one(stale_rtt):
    a, cut, newest = stale_rtt
    lines = freshness_lines(a)
    assert f"A&E: latest month {newest}" in lines
    assert f"RTT: latest month {cut} — STALE, 6 months behind {newest}" in lines


def test_html_shows_freshness_the_stale_note_by_the_flags_and_stale_months(stale_rtt):
    a, cut, _ = stale_rtt
    org = a.flags[a.flags.persistent_difficulty].org_code.iloc[0]
    html = render_html(a, org)
    assert "<h2>Data freshness</h2>" in html
    assert f"RTT: latest month {cut} — STALE" in html
    box = html[html.index("<h2>Persistent difficulty</h2>"):]
    box = box[: box.index("</div>")]
    assert f"RTT data end in {cut}" in box  # beside the flag, not only in the summary
    rtt_rows = a.icons[(a.icons.org_code == org) & a.icons.indicator.str.startswith("rtt_")]
    assert len(rtt_rows) and html.count(f"<td>{cut} (stale)</td>") == len(rtt_rows)


def test_pdf_summary_page_carries_the_same(stale_rtt, tmp_path):
    a, cut, _ = stale_rtt
    org = a.flags[a.flags.persistent_difficulty].org_code.iloc[0]
    texts = summary_texts(a, a.org(org)["flags"])
    fresh = next(t for t in texts if t.startswith("Data freshness"))
    assert f"RTT: latest month {cut} — STALE" in fresh
    assert any(t.startswith("Persistent difficulty:") and f"RTT data end in {cut}" in t for t in texts)
    assert write_report(a, org, tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
