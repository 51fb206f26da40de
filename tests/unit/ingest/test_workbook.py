"""Finding the table in an official workbook by its header, on the real DM01 .xls and a cancelled-operations .xlsx."""

import io

import pandas as pd
import pytest

from partnering.errors import IngestError
from partnering.ingest.workbook import read_table

pytestmark = [pytest.mark.unit, pytest.mark.shared]


def test_dm01_xls_table_found_under_its_title_block(nhs):
    f = nhs / "diagnostics-dm01" / "Monthly-Diagnostics-Web-File-Provider-April-2025_3EY67.xls"
    t = read_table(f.read_bytes(), f.name, "Provider", ["Provider Code", "Total Waiting List"])
    assert t.header_row == 14  # the header moves between editions; this one sits under 13 title rows
    assert t.title_value("Period:") == "April 2025"
    assert t.title_value("Published:") == "12th June 2025"
    first = t.frame.iloc[0]
    assert pd.isna(first["Provider Code"])  # England total row has no provider code
    assert t.rows[0] == 15 and t.rows[1] == 17  # the blank row between England and the providers is skipped
    assert t.frame["Provider Code"].notna().sum() == len(t.frame) - 1


def test_missing_header_names_file_sheet_and_label(nhs):
    f = next((nhs / "cancelled-operations").glob("*.xlsx"))
    with pytest.raises(IngestError) as exc:
        read_table(f.read_bytes(), f.name, "Provider", ["Org Code", "No such column"])
    msg = str(exc.value)
    assert f.name in msg and "'Provider'" in msg and "no such column" in msg


def test_missing_sheet_lists_the_sheets(nhs):
    f = next((nhs / "cancelled-operations").glob("*.xlsx"))
    with pytest.raises(IngestError, match="has no sheet 'Nope' \\(sheets: National & Regional, Provider"):
        read_table(f.read_bytes(), f.name, "Nope", ["x"])


def test_a_csv_is_not_a_workbook():
    with pytest.raises(IngestError, match="neither an .xlsx"):
        read_table(io.BytesIO(b"a,b\n1,2\n").getvalue(), "x.csv", "Provider", ["a"])
