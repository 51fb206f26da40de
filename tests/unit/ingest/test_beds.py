"""KH03 beds loader on small workbooks shaped like "NHS Trust by Sector": columns found by their group labels."""

from __future__ import annotations

import io

import openpyxl
import pytest

from partnering.errors import IngestError
from partnering.ingest.beds import load_beds, parse_beds
from partnering.store import repository as repo

pytestmark = pytest.mark.unit

SECTORS = ["Total ", "General & Acute", "Learning Disabilities", "Maternity", "Mental Illness"]


def _row(code, name, avail, occ, pct=None):
    pct = pct if pct is not None else [o / a if a else "-" for a, o in zip(avail, occ)]
    return [None, "2024-25", "September", "Y56" if code else None, code, name, *avail, None, *occ, None, *pct]


def _workbook(rows, sheet="NHS Trust by Sector", header_label="Org Code") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([])
    ws.append([None, "Title:", "Average daily number of available and occupied beds open overnight by sector"])
    ws.append([None, "Period:", "July to September 2024"])
    ws.append([None, "Published:", "21st November 2024"])
    ws.append([None, "Available", None, None, None, None, "Available", None, None, None, None, None, "Occupied",
               None, None, None, None, None, "% Occupied"])
    ws.append([None, "Year", "Period End", "Region Code", header_label, "Org Name", *SECTORS, None, *SECTORS, None,
               *SECTORS])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


A = ([100, 90, 0, 10, 0], [92, 85, 0, 7, 0])
B = ([300, 250, 0, 20, 30], [270, 230, 0, 12, 28])
GOOD = [_row(None, "England", [400, 340, 0, 30, 30], [362, 315, 0, 19, 28]), [],
        _row("RWA", "HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST", *A),
        _row("RX1", "NOTTINGHAM UNIVERSITY HOSPITALS NHS TRUST", *B)]


def test_quarter_under_its_last_month_occupancy_in_percent_and_publication_date():
    p = parse_beds(_workbook(GOOD), "beds.xlsx")
    o = p.observations.set_index(["org_code", "indicator"])
    assert p.period == "2024-09" and str(p.published_on) == "2024-11-21"
    assert o.loc[("RWA", "beds_ga_occupancy_pct"), "value"] == pytest.approx(100 * 85 / 90)
    assert o.loc[("ENG", "beds_ga_available"), "value"] == 340
    assert ("RWA", "beds_occupancy_pct:mental_illness") not in o.index  # no beds of the sector: no value


def test_a_workbook_without_the_sheet_is_refused():
    with pytest.raises(IngestError, match="beds.xlsx.*has no sheet 'NHS Trust by Sector'"):
        parse_beds(_workbook(GOOD, sheet="Region by Sector"), "beds.xlsx")


def test_a_sheet_without_the_header_is_refused():
    with pytest.raises(IngestError, match="missing: org code"):
        parse_beds(_workbook(GOOD, header_label="Organisation"), "beds.xlsx")


def test_trusts_not_adding_up_to_england_refuse_the_file():
    rows = [list(r) for r in GOOD]
    rows[3][7] = 260  # a trust's G&A available beds edited
    with pytest.raises(IngestError, match="trusts sum to"):
        parse_beds(_workbook(rows), "beds.xlsx")


def test_a_non_numeric_cell_rejects_its_row_with_row_column_reason(sqlite_engine, tmp_path):
    rows = [list(r) for r in GOOD]
    rows[2][19] = "n/a"  # RWA's % occupied G&A, sheet row 9
    f = tmp_path / "beds.xlsx"
    f.write_bytes(_workbook(rows))
    report = load_beds(f, sqlite_engine)
    rej = repo.rejected_frame(sqlite_engine)
    assert report.rows_rejected == 1
    assert list(zip(rej.line, rej.column, rej.reason)) == [(9, "General & Acute.2", "'n/a' is not a number")]
    stored = set(repo.observations_frame(sqlite_engine).org_code)
    assert "RWA" not in stored and "RX1" in stored


def test_a_refused_file_writes_nothing(sqlite_engine, tmp_path, snapshot):
    before = snapshot(sqlite_engine)
    f = tmp_path / "beds.xlsx"
    f.write_bytes(_workbook(GOOD, header_label="Organisation"))
    with pytest.raises(IngestError):
        load_beds(f, sqlite_engine)
    assert snapshot(sqlite_engine) == before


def test_a_folder_loads_its_good_workbooks_and_names_each_refused_one(sqlite_engine, tmp_path):
    (tmp_path / "a-good.xlsx").write_bytes(_workbook(GOOD))
    (tmp_path / "b-bad.xlsx").write_bytes(_workbook(GOOD, sheet="Region by Sector"))
    with pytest.raises(IngestError) as exc:
        load_beds(tmp_path, sqlite_engine)
    msg = exc.value.user_message()
    assert "1 of 2 workbooks refused" in msg and "b-bad.xlsx: has no sheet 'NHS Trust by Sector'" in msg
    assert "a-good.xlsx" in msg.split("Loaded:")[1]
    assert set(repo.observations_frame(sqlite_engine).org_code) == {"ENG", "RWA", "RX1"}  # the good file loaded


def test_a_non_numeric_bed_count_rejects_its_row_without_refusing_the_file():
    rows = [list(r) for r in GOOD]
    rows[3][7] = "closed"  # RX1's G&A available beds, sheet row 10: that column cannot be checked against England
    p = parse_beds(_workbook(rows), "beds.xlsx")
    assert p.rejected == [(10, "General & Acute", "'closed' is not a number")]
    assert "RX1" not in set(p.observations.org_code)
    assert "not checked against England (a cell that is not a number): available ga" in p.notes
