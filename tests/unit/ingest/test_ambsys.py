"""AmbSYS loader on small workbooks shaped like the real one: refusals name file, sheet, row, column and reason."""

from __future__ import annotations

import io

import openpyxl
import pytest

from partnering.errors import IngestError
from partnering.ingest.ambsys import load_ambsys, parse_ambsys
from partnering.store import repository as repo

pytestmark = pytest.mark.unit

HEADER = ["Concatenated", "Year", "Month", "Reg", None, "Area", "Trust", "A7", "A8", "A10", "A24", "A25", "A26",
          "A31", "A32"]


def _row(area, trust, a8, a25, month="AUGUST"):
    # A7 all incidents, A8 C1 incidents, A10 C2 incidents, A24 C1 total seconds, A25 mean, A26 90th, A31/A32 C2
    return [f"2025-26{month}{area}", "2025-26", month, None, None, area, trust, a8 * 10, a8, a8 * 5, a8 * 500, a25,
            900, 1600, 3300]


def _workbook(rows, sheet="Raw", header=HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([None] * 10)
    ws.append([None, "C1-C4 response times"])  # group labels above the header, as in the real sheet
    ws.append([])
    ws.append([None, None, None, "Contacts"])
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [_row("ENG", None, 300, 500), _row("RX9", "EAST MIDLANDS AMBULANCE SERVICE NHS TRUST", 100, 534),
        _row("RYC", "EAST OF ENGLAND AMBULANCE SERVICE NHS TRUST", 200, 480), _row("Y60", None, 100, 534)]


def test_seconds_become_minutes_england_and_trusts_kept_regions_not():
    p = parse_ambsys(_workbook(GOOD), "amb.xlsx")
    o = p.observations
    c1 = o[o.indicator == "amb_c1_mean_min"].set_index("org_code")["value"]
    assert c1["RX9"] == pytest.approx(534 / 60) and c1["ENG"] == pytest.approx(500 / 60)
    assert "Y60" not in set(o.org_code)  # a region row is a sum of its trusts
    assert set(o.period) == {"2025-08"}  # August in financial year 2025-26
    kinds = dict(zip(p.organisations_seen.org_code, p.organisations_seen.kind))
    assert kinds == {"ENG": "region", "RX9": "ambulance_trust", "RYC": "ambulance_trust"}


def test_a_workbook_without_the_raw_sheet_is_refused():
    with pytest.raises(IngestError) as exc:
        parse_ambsys(_workbook(GOOD, sheet="Response times"), "amb.xlsx")
    assert "amb.xlsx" in str(exc.value) and "has no sheet 'Raw'" in str(exc.value)


def test_a_raw_sheet_without_the_header_is_refused():
    header = [h if h != "A25" else "C1 mean" for h in HEADER]
    with pytest.raises(IngestError, match="no header row with .*missing: a25"):
        parse_ambsys(_workbook(GOOD, header=header), "amb.xlsx")


def test_trusts_that_do_not_add_up_to_england_refuse_the_file():
    rows = [_row("ENG", None, 301, 500), *GOOD[1:]]
    with pytest.raises(IngestError) as exc:
        parse_ambsys(_workbook(rows), "amb.xlsx")
    assert exc.value.row == 6 and "trusts sum to 3,000 on A7 but the England row says 3,010" in str(exc.value)


def test_a_non_numeric_cell_rejects_its_row_with_row_column_reason_and_writes_nothing_of_it(sqlite_engine, tmp_path):
    rows = [list(r) for r in GOOD]
    rows[1][11] = "8 min 54"  # RX9's C1 mean (column A25), sheet row 7
    f = tmp_path / "amb.xlsx"
    f.write_bytes(_workbook(rows))
    report = load_ambsys(f, sqlite_engine)
    rej = repo.rejected_frame(sqlite_engine)
    assert report.rows_rejected == 1
    assert list(zip(rej.line, rej.column, rej.reason)) == [
        (7, "A25", "'8 min 54' is not a number (seconds or a count)")]
    stored = set(repo.observations_frame(sqlite_engine).org_code)
    assert "RX9" not in stored and "RYC" in stored


def test_a_refused_file_writes_nothing(sqlite_engine, tmp_path, snapshot):
    before = snapshot(sqlite_engine)
    f = tmp_path / "amb.xlsx"
    f.write_bytes(_workbook(GOOD, sheet="Other"))
    with pytest.raises(IngestError):
        load_ambsys(f, sqlite_engine)
    assert snapshot(sqlite_engine) == before


def test_a_non_numeric_count_rejects_its_row_and_leaves_that_month_unchecked_not_refused():
    rows = [list(r) for r in GOOD]
    rows[2][8] = "two hundred"  # RYC's C1 incidents (A8), sheet row 8: the England sum cannot be checked on A8
    p = parse_ambsys(_workbook(rows), "amb.xlsx")
    assert p.rejected == [(8, "A8", "'two hundred' is not a number (seconds or a count)")]
    assert "RYC" not in set(p.observations.org_code)
    assert "not checked against England (a cell that is not a number): A8 2025-08" in p.notes
