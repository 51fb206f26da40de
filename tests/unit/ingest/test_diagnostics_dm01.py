"""The DM01 loader on small workbooks laid out as NHS England's provider web file: figures, checks and refusals."""

from datetime import date

import pytest

from official_workbook import xlsx
from partnering.errors import IngestError
from partnering.ingest.dm01 import ACTIVITY, parse_dm01

pytestmark = pytest.mark.unit

HEADER = [None, "Regional Team Code", "Regional Team Name", "Provider Code", "Provider Name", "Total Waiting List",
          "Number waiting 6+ Weeks", "Number waiting 13+ Weeks", "Percentage waiting 6+ weeks", *ACTIVITY]


def _sheet(rows, period="July 2025", published="11th September 2025", revised=None):
    return [
        [],
        [None, "Title:", "Monthly Diagnostics"],
        [None, "Period:", period],
        [None, "Published:", published],
        [None, "Revised:", revised],
        [],
        [None, "Provider level data"],
        HEADER,
        *rows,
    ]


ROWS = [
    [None, None, None, None, "Total", 300, 60, 12, 0.2, 30, 40, 500],
    [],
    [None, "Y56", "London", "RF4", "Barking", 100, 10, 2, 0.1, 10, 20, 200],
    [None, "Y56", "London", "R1H", "Barts", 200, 50, 10, 0.25, 20, 20, 300],
]


def test_figures_period_and_publication_from_the_title_block():
    p = parse_dm01(xlsx({"Provider": _sheet(ROWS, revised="10th October 2025")}), "dm01.xlsx")
    assert p.period == "2025-07"
    assert p.published_on == date(2025, 10, 10)  # a revision is a later publication
    o = p.observations.set_index(["org_code", "indicator"])["value"]
    assert o["R1H", "dm01_over_6w_pct"] == pytest.approx(25.0)
    assert o["R1H", "dm01_over_13w_pct"] == pytest.approx(5.0)
    assert o["RF4", "dm01_activity"] == 230
    assert o["RF4", "dm01_waiting_list"] == 100
    assert p.rejected == [] and p.rows_loaded == 2
    assert "England row (sheet row 9) matches" in p.notes[0]
    assert p.notes[1] == "no 'Provider by Test' sheet: no breakdown by test"


BY_TEST_HEADER = [None, "Regional Team Code", "Regional Team Name", "Provider Code", "Provider Name", "Diagnostic ID",
                  "Diagnostic Test Name", *HEADER[5:]]


def _by_test(mri_barts=(120, 30, 6, 0.25)):
    rows = [[None, None, None, None, "Total", None, None, 300, 60, 12, 0.2, 30, 40, 500], []]
    for code, name, tests in (("RF4", "Barking", [(1, "Magnetic Resonance Imaging", (100, 10, 2, 0.1, 10, 20, 200))]),
                              ("R1H", "Barts", [(1, "Magnetic Resonance Imaging", (*mri_barts, 5, 5, 100)),
                                                (2, "Computed Tomography", (80, 20, 4, 0.25, 15, 15, 200))])):
        total = [sum(x[2][i] for x in tests) for i in range(7)]
        total[3] = total[1] / total[0]
        for tid, test, v in [*tests, (16, "Total", tuple(total))]:
            rows.append([None, "Y56", "London", code, name, tid, test, *v])
    return _sheet(rows)[:7] + [BY_TEST_HEADER] + rows


def test_breakdowns_by_test_add_up_to_each_provider():
    p = parse_dm01(xlsx({"Provider": _sheet(ROWS), "Provider by Test": _by_test()}), "dm01.xlsx")
    o = p.observations.set_index(["org_code", "indicator"])["value"]
    assert o["R1H", "dm01_over_6w_pct:magnetic_resonance_imaging"] == pytest.approx(25.0)
    assert o["R1H", "dm01_waiting_list:computed_tomography"] == 80
    assert ("R1H", "dm01_waiting_list:total") not in o.index  # the Total row is the headline, not a test
    assert "every provider's tests add up to its Total row" in p.notes[-1]
    with pytest.raises(IngestError, match="provider R1H's tests sum to 201 in 'Total Waiting List' but its Total "
                                          "row says 200"):
        bad = _by_test()
        bad[-2][7] = 81  # R1H computed tomography: one more patient than its Total row holds
        parse_dm01(xlsx({"Provider": _sheet(ROWS), "Provider by Test": bad}), "dm01.xlsx")


def test_period_option_must_agree_with_the_file():
    with pytest.raises(IngestError, match="--period 2025-06 disagrees with the file's own period 2025-07"):
        parse_dm01(xlsx({"Provider": _sheet(ROWS)}), "dm01.xlsx", "2025-06")
    p = parse_dm01(xlsx({"Provider": _sheet(ROWS, period=None)}), "dm01.xlsx", "2025-06")
    assert p.period == "2025-06"  # the file does not say: the option decides


def test_providers_that_do_not_add_up_to_england_refuse_the_file():
    rows = [r[:] for r in ROWS]
    rows[3][6] = 51  # Barts 6+ weeks: the providers now sum to 61, England says 60
    with pytest.raises(IngestError, match="'Number waiting 6\\+ Weeks' providers sum to 61 but the England row "
                                          "says 60"):
        parse_dm01(xlsx({"Provider": _sheet(rows)}), "dm01.xlsx")


def test_a_non_numeric_cell_names_file_row_and_column():
    rows = [r[:] for r in ROWS]
    rows[2][5] = "n/a"
    with pytest.raises(IngestError) as exc:
        parse_dm01(xlsx({"Provider": _sheet(rows)}), "dm01.xlsx")
    e = exc.value
    assert (e.file, e.row, e.column) == ("dm01.xlsx", 11, "Total Waiting List")  # sheet row 11: RF4
    assert "'n/a' is not a number" in e.reason


def test_missing_sheet_header_or_england_row_are_refused():
    with pytest.raises(IngestError, match="has no sheet 'Provider'"):
        parse_dm01(xlsx({"Provider by Test": _sheet(ROWS)}), "dm01.xlsx")
    no_header = _sheet(ROWS)
    no_header[7] = [c if c != "Number waiting 13+ Weeks" else "13 weeks" for c in HEADER]
    with pytest.raises(IngestError, match="no header row .* \\(missing: number waiting 13\\+ weeks\\)"):
        parse_dm01(xlsx({"Provider": no_header}), "dm01.xlsx")
    with pytest.raises(IngestError, match="has 0 England total \\(Provider Name .Total. without a code\\) rows"):
        parse_dm01(xlsx({"Provider": _sheet(ROWS[2:])}), "dm01.xlsx")


def test_a_percentage_that_contradicts_its_counts_is_a_rejected_row():
    rows = [r[:] for r in ROWS]
    rows[2][8] = 0.3  # RF4: 10 of 100 is 10%, not 30%
    p = parse_dm01(xlsx({"Provider": _sheet(rows)}), "dm01.xlsx")
    assert [(r[0], r[1]) for r in p.rejected] == [(11, "Percentage waiting 6+ weeks")]
    assert set(p.observations["org_code"]) == {"R1H"}
