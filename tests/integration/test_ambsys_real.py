"""AmbSYS loader on the real time series to August 2025 (../shared/data/nhs/ambulance-ambsys)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from partnering.ingest.ambsys import load_ambsys, parse_ambsys

pytestmark = [pytest.mark.integration, pytest.mark.shared]


@pytest.fixture(scope="module")
def ambsys(nhs):
    f = nhs / "ambulance-ambsys" / "AmbSYS-Time-Series-until-20250831.xlsx"
    return f, parse_ambsys(f.read_bytes(), str(f))


def _value(parsed, org, indicator, period):
    o = parsed.observations
    hit = o[(o.org_code == org) & (o.indicator == indicator) & (o.period == period)]
    assert len(hit) == 1, (org, indicator, period)
    return hit.iloc[0]


def test_published_c1_means_of_a_trust_and_england(ambsys):
    _, p = ambsys
    # sheet "Raw", row 1456 (2025-26 AUGUST RX9), column A25: 534 seconds
    rx9 = _value(p, "RX9", "amb_c1_mean_min", "2025-08")
    assert rx9.value == pytest.approx(534 / 60) and rx9.line == 1456
    # sheet "Raw", row 102 (2025-26 AUGUST ENG), column A25: 467 seconds; A26 (90th centile) 836 seconds
    eng = _value(p, "ENG", "amb_c1_mean_min", "2025-08")
    assert eng.value == pytest.approx(467 / 60) and eng.line == 102
    assert _value(p, "ENG", "amb_c1_p90_min", "2025-08").value == pytest.approx(836 / 60)
    # England C2 mean August 2025, A31 = 1623 seconds (27:03); handovers over 60 minutes A146/A140 = 23565/407251
    assert _value(p, "ENG", "amb_c2_mean_min", "2025-08").value == pytest.approx(1623 / 60)
    assert _value(p, "ENG", "amb_handover_over60_pct", "2025-08").value == pytest.approx(100 * 23565 / 407251)


def test_england_matches_the_response_times_dashboard_sheet(ambsys):
    """The workbook's own "Response times" sheet (set to England) shows August 2017's C1 mean as 00:09:14."""
    f, p = ambsys
    ws = openpyxl.load_workbook(f, read_only=True, data_only=True)["Response times"]
    for row in ws.iter_rows(min_row=16, max_row=17, values_only=True):
        if isinstance(row[0], dt.datetime) and row[0] == dt.datetime(2017, 8, 1):
            shown = row[7]  # "Mean (min:sec)" under C1
            break
    seconds = shown.hour * 3600 + shown.minute * 60 + shown.second
    assert seconds == 554
    assert _value(p, "ENG", "amb_c1_mean_min", "2017-08").value == pytest.approx(seconds / 60)


def test_the_whole_series_parses_with_nothing_rejected_and_regions_left_out(ambsys):
    _, p = ambsys
    o = p.observations
    assert not p.rejected
    assert o.period.min() == "2017-08" and o.period.max() == "2025-08"
    assert set(o.org_code) == {"ENG", "RX9", "RYC", "R1F", "RRU", "RX6", "RX7", "RYE", "RYD", "RYF", "RYA", "RX8"}
    # handover items start in October 2023 (the Handovers sheet's first months are blank)
    assert o[o.indicator == "amb_handovers"].period.min() == "2023-10"
    assert str(p.published_on) == "2025-09-11"  # Introduction sheet, "Published"


def test_every_file_in_the_folder_loads_once(nhs, sqlite_engine):
    reports = load_ambsys(nhs / "ambulance-ambsys", sqlite_engine)
    assert [r.status for r in reports] == ["loaded"]
    assert reports[0].rows_rejected == 0 and reports[0].observations_new > 13_000
    again = load_ambsys(nhs / "ambulance-ambsys", sqlite_engine)
    assert [r.status for r in again] == ["unchanged"]
    from partnering.store import repository as repo

    kinds = repo.organisations_frame(sqlite_engine).set_index("org_code")["kind"]
    assert kinds["RX9"] == "ambulance_trust" and kinds["ENG"] == "region"
