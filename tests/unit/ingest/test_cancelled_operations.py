"""The cancelled operations loader on small workbooks laid out as NHS England's quarterly file."""

from datetime import date

import pytest

from official_workbook import xlsx
from partnering.errors import IngestError
from partnering.ingest.cancelled_ops import CANCELLED, NOT_TREATED, parse_cancelled_ops, quarter_end

pytestmark = pytest.mark.unit

HEADER = [None, "Region Code", "Region Name", "Organisation Code", "Organisation Name", CANCELLED, NOT_TREATED]
ROWS = [
    [None, "-", None, "-", "England (Excluding Independent Sector)", 30, 6],
    [None, "-", None, "-", "England (Including Independent Sector)", 32, 8],
    [],
    [None, "Y56", "LONDON", "R1H", "BARTS HEALTH NHS TRUST", 20, 5],
    [None, "Y63", "NORTH EAST", "RWA", "HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST", 10, 1],
    [None, "Y63", "NORTH EAST", "NT123", "AN INDEPENDENT HOSPITAL", 2, 2],
]


def _sheet(rows, period="Quarter 1, 2025-26 (April to June 2025)"):
    return [[], [None, "Title:", "Cancelled Operations (elective only)"], [None, "Period:", period],
            [None, "Published:", "14th August 2025"], [None, "Revised:", "-"], [], [None, "Provider Level Data"],
            HEADER, *rows]


@pytest.mark.parametrize("text, month", [
    ("Quarter 1, 2025-26 (April to June 2025)", "2025-06"), ("Quarter 2, 2024-25 (July to September 2024)", "2024-09"),
    ("Quarter 3, 2024-25 (October to December 2024)", "2024-12"), ("Quarter 4, 2024-25 (January to March 2025)",
                                                                    "2025-03"),
    ("Q3-2024-25-Cancelled-Operations-65554.xlsx", "2024-12"), ("Quarter 1, 2025-27", None), ("June 2025", None)])
def test_a_quarter_is_stored_at_its_last_month(text, month):
    assert quarter_end(text) == month


def test_counts_and_the_share_not_treated_within_28_days():
    p = parse_cancelled_ops(xlsx({"Provider": _sheet(ROWS)}), "q1.xlsx")
    assert (p.period, p.published_on) == ("2025-06", date(2025, 8, 14))
    o = p.observations.set_index(["org_code", "indicator"])
    assert o.loc[("R1H", "cancelled_ops_last_minute"), "value"] == 20
    assert o.loc[("R1H", "cancelled_ops_not_treated_28d_pct"), "value"] == pytest.approx(25.0)
    assert o.loc[("RWA", "cancelled_ops_not_treated_28d_pct"), ["numerator", "denominator"]].tolist() == [1, 10]
    assert "England (including independent sector) row (sheet row 10) matches" in p.notes[0]


def test_no_share_where_breaches_exceed_the_quarters_cancellations():
    rows = [r[:] for r in ROWS]
    rows[5][5], rows[1][5] = 1, 31  # NT123: 2 breaches (from last quarter's cancellations) against 1 cancellation
    p = parse_cancelled_ops(xlsx({"Provider": _sheet(rows)}), "q1.xlsx")
    nt = p.observations[p.observations.org_code == "NT123"]
    assert set(nt.indicator) == {"cancelled_ops_last_minute", "cancelled_ops_not_treated_28d"}
    assert "NT123" in p.notes[-1]


def test_refusals_name_the_file_row_and_column():
    with pytest.raises(IngestError, match="has no sheet 'Provider' \\(sheets: National & Regional\\)"):
        parse_cancelled_ops(xlsx({"National & Regional": _sheet(ROWS)}), "q1.xlsx")
    with pytest.raises(IngestError, match="no header row"):
        parse_cancelled_ops(xlsx({"Provider": _sheet(ROWS)[:7] + ROWS}), "q1.xlsx")
    rows = [r[:] for r in ROWS]
    rows[4][6] = "*"
    with pytest.raises(IngestError) as exc:
        parse_cancelled_ops(xlsx({"Provider": _sheet(rows)}), "q1.xlsx")
    assert (exc.value.row, exc.value.column) == (13, NOT_TREATED) and "'*' is not a number" in exc.value.reason
    rows = [r[:] for r in ROWS]
    rows[3][5] = 21
    with pytest.raises(IngestError, match="providers sum to 33 but the England \\(including independent sector\\) "
                                          "row says 32"):
        parse_cancelled_ops(xlsx({"Provider": _sheet(rows)}), "q1.xlsx")
    with pytest.raises(IngestError, match="--period 2025-04 disagrees with the file's own period 2025-06"):
        parse_cancelled_ops(xlsx({"Provider": _sheet(ROWS)}), "q1.xlsx", "2025-04")
    untitled = xlsx({"Provider": _sheet(ROWS, period=None)})
    with pytest.raises(IngestError, match="--period 2025-05 is not the last month of a quarter"):
        parse_cancelled_ops(untitled, "cancelled.xlsx", "2025-05")
    assert parse_cancelled_ops(untitled, "cancelled.xlsx", "2025-06").period == "2025-06"
