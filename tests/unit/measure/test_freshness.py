"""Freshness per family of data: the latest month of each source and whether it has stopped (issue #9 part 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.measure.freshness import data_freshness, stale_note

pytestmark = pytest.mark.unit


def _obs(rows):
    return pd.DataFrame(rows, columns=["org_code", "indicator", "period", "value"])


def test_a_family_three_months_behind_is_stale_and_named_with_its_last_month():
    obs = _obs([("RAA", "ae_4h_pct_all", "2026-03", 70.0), ("RAA", "ae_4h_pct_all", "2026-02", 71.0),
                ("RAA", "rtt_within_18w_pct", "2025-12", 60.0), ("RAA", "rtt_within_18w_pct:C_110", "2025-12", 50.0),
                ("RAA", "own_falls", "2026-01", 2.0)])
    f = data_freshness(obs).set_index("family")
    assert f.loc["ae-monthly", "latest_period"] == "2026-03" and f.loc["ae-monthly", "months_behind"] == 0
    assert f.loc["rtt", "months_behind"] == 3 and bool(f.loc["rtt", "stale"])
    assert f.loc["kpi", "months_behind"] == 2 and not bool(f.loc["kpi", "stale"])
    note = stale_note(data_freshness(obs))
    assert note == ("Stale data: RTT data end in 2025-12, 3 months before the latest month (2026-03). "
                    "Months after that rest on the other metrics alone.")
    assert stale_note(data_freshness(obs), {"ae-monthly"}) == ""


def test_missing_values_do_not_make_a_family_fresh():
    obs = _obs([("RAA", "ae_4h_pct_all", "2026-03", 70.0), ("RAA", "rtt_within_18w_pct", "2025-10", 60.0),
                ("RAA", "rtt_within_18w_pct", "2026-03", None)])
    f = data_freshness(obs).set_index("family")
    assert f.loc["rtt", "latest_period"] == "2025-10" and bool(f.loc["rtt", "stale"])
