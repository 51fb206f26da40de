"""The summary icon table's filters, paging and short headings (web.system.table_rows, short_heading)."""

from __future__ import annotations

import pytest

from partnering.web.system import PAGE_SIZES, SHORT_HEADINGS, short_heading, table_rows

pytestmark = pytest.mark.unit


def _rows(n: int) -> list[dict]:
    return [{"org_code": f"R{i:03d}", "org_name": f"Trust {i}", "segment": float(i % 4 + 1),
             "persistent_difficulty": i % 10 == 0, "track_record": i % 7 == 0} for i in range(n)]


def test_pages_of_25_by_default_and_all():
    rows = _rows(130)
    shown, p = table_rows(rows, "", "", "", "1", "")
    assert len(shown) == PAGE_SIZES[0] == 25 and p["pages"] == 6 and (p["first"], p["last"]) == (1, 25)
    shown, p = table_rows(rows, "", "", "", "6", "")
    assert [r["org_code"] for r in shown] == [f"R{i:03d}" for i in range(125, 130)] and p["last"] == 130
    shown, p = table_rows(rows, "", "", "", "99", "50")  # past the end: the last page
    assert p["page"] == 3 and len(shown) == 30
    shown, p = table_rows(rows, "", "", "", "1", "all")
    assert len(shown) == 130 and p["pages"] == 1
    shown, p = table_rows(rows, "", "", "", "x", "7")  # not a page size: the default
    assert len(shown) == 25 and p["page"] == 1


def test_filters_segment_flag_and_name():
    rows = _rows(130)
    shown, p = table_rows(rows, "2", "", "", "1", "all")
    assert p["total"] == len([r for r in rows if r["segment"] == 2]) and all(r["segment"] == 2 for r in shown)
    shown, _ = table_rows(rows, "", "difficulty", "", "1", "all")
    assert [r["org_code"] for r in shown] == [f"R{i:03d}" for i in range(0, 130, 10)]
    shown, _ = table_rows(rows, "", "track", "", "1", "all")
    assert all(r["track_record"] for r in shown) and len(shown) == 19
    shown, _ = table_rows(rows, "", "neither", "", "1", "all")
    assert not any(r["persistent_difficulty"] or r["track_record"] for r in shown)
    shown, _ = table_rows(rows, "", "", "trust 12", "1", "all")
    assert {r["org_code"] for r in shown} == {"R012"} | {f"R{i:03d}" for i in range(120, 130)}
    shown, _ = table_rows(rows, "", "", "r007", "1", "all")  # an exact code
    assert [r["org_code"] for r in shown] == ["R007"]
    shown, p = table_rows(rows, "9", "", "", "1", "")
    assert shown == [] and p["total"] == 0 and p["first"] == 0


def test_short_headings():
    assert short_heading("ae_4h_pct_all", "A&E attendances within 4 hours (all types)") == "A&E 4 hours"
    assert all(len(v) <= 19 for v in SHORT_HEADINGS.values())
    # a metric another family adds: its name up to the first bracket, comma or colon, at most three words
    assert short_heading("x_62d_pct", "Cancer 62-day referral to treatment (all routes)") == "Cancer 62-day referral…"
    assert short_heading("x_6w_pct", "Diagnostics within 6 weeks, % of waiting list") == "Diagnostics within 6…"
    assert short_heading("x_pp", "People Promise: raising concerns") == "People Promise"
