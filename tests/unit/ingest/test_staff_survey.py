"""NHS Staff Survey loader on small workbooks shaped like the detailed spreadsheets: groups found by their labels,
refusals and rejected rows name the file, sheet, row, column and reason."""

from __future__ import annotations

import io

import openpyxl
import pytest

from partnering.errors import IngestError
from partnering.ingest.staff_survey import QUESTIONS, SCORES, load_staff_survey, parse_staff_survey
from partnering.store import repository as repo

pytestmark = pytest.mark.unit

ID = ["ODS code", "Organisation name", "Benchmarking group", "Region", "ICS", "Weighting"]
ORGS = [("RWA", "Hull University Teaching Hospitals NHS Trust", "Acute and Acute & Community Trusts"),
        ("RX9", "East Midlands Ambulance Service NHS Trust", "Ambulance Trusts")]


def _sheet(ws, codes, question: bool, values):
    """Group labels in row 1, header in row 5, one row per organisation (as the real sheets are laid out)."""
    labels, header = [None] * len(ID), list(ID)
    for code in codes:
        if question:
            labels += [f"{code} - question text", None, None, None, None, None]
            header += ["% Strongly disagree", "% Disagree", "% Neither agree nor disagree", "% Agree",
                       "% Strongly agree", "Base (number of responses)"]
        else:
            labels += [f"{code} - label", None]
            header += [f"{code} - score", "Base (number of responses)"]
    labels[0] = "NHS Staff Survey 2024 - WEIGHTED Results"
    ws.append(labels)
    ws.append(["sheet id"])
    ws.append(["Note: fewer than 10 responses are not displayed"])
    ws.append([])
    ws.append(header)
    for (org, name, group), row in zip(ORGS, values):
        ws.append([org, name, group, "-", "-", "Occupation Group", *row])


def _workbook(bad_cell=None, drop_sheet=None, rename_header=False) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets: dict[str, list[str]] = {}
    for s, code in (*SCORES.values(), *QUESTIONS.values()):
        sheets.setdefault(s, []).append(code)
    for s, codes in sheets.items():
        if s == drop_sheet:
            continue
        question = codes[0].startswith("Q")
        one = [1, 2, 17, 50, 30, 400] if question else [6.5, 400]
        rows = [[x for _ in codes for x in one] for _ in ORGS]
        if bad_cell and s == bad_cell[0]:
            rows[bad_cell[1]][bad_cell[2]] = bad_cell[3]
        _sheet(wb.create_sheet(s), codes, question, rows)
        if rename_header and s == "THEMES":
            wb[s]["A5"] = "Organisation code"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_scores_and_percent_positive_per_organisation_under_the_survey_years_last_month():
    p = parse_staff_survey(_workbook(), "nss.xlsx")
    o = p.observations.set_index(["org_code", "indicator"])
    assert o.loc[("RWA", "nss_engagement"), "value"] == 6.5
    # % positive = % agree + % strongly agree
    assert o.loc[("RX9", "nss_q20a_secure_raising_concerns_pct"), "value"] == 80.0
    assert set(p.observations.period) == {"2024-12"}
    kinds = dict(zip(p.organisations_seen.org_code, p.organisations_seen.kind))
    assert kinds == {"RWA": "acute_trust", "RX9": "ambulance_trust"}


def test_a_workbook_without_a_sheet_is_refused():
    with pytest.raises(IngestError, match="has no sheet 'THEMES'"):
        parse_staff_survey(_workbook(drop_sheet="THEMES"), "nss.xlsx")


def test_a_sheet_without_the_header_is_refused():
    with pytest.raises(IngestError) as exc:
        parse_staff_survey(_workbook(rename_header=True), "nss.xlsx")
    assert "nss.xlsx" in str(exc.value) and "'THEMES'" in str(exc.value) and "ods code" in str(exc.value)


def test_a_non_numeric_cell_rejects_the_organisation_with_sheet_row_column_reason(sqlite_engine, tmp_path):
    f = tmp_path / "nss.xlsx"
    f.write_bytes(_workbook(bad_cell=("THEMES", 1, 0, "six")))  # RX9's engagement score: sheet row 7, column G
    report = load_staff_survey(f, sqlite_engine)
    rej = repo.rejected_frame(sqlite_engine)
    assert report.rows_rejected == 1 and report.rows_loaded == 1
    assert list(zip(rej.line, rej.column, rej.reason)) == [
        (7, "Staff Engagement - score", "sheet 'THEMES': 'six' is not a number")]
    stored = set(repo.observations_frame(sqlite_engine).org_code)
    assert "RX9" not in stored and "RWA" in stored  # nothing of the rejected organisation is written


def test_suppressed_cells_are_no_value_not_an_error():
    p = parse_staff_survey(_workbook(bad_cell=("THEMES", 0, 0, "*")), "nss.xlsx")
    assert not p.rejected
    o = p.observations
    assert o[(o.org_code == "RWA") & (o.indicator == "nss_engagement")].empty
