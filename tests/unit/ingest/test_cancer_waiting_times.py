"""The cancer waiting times loader on a small CWT CRS provider extract: which rows make the headline, and refusals."""

from datetime import datetime

import pytest

from official_workbook import xlsx
from partnering.errors import IngestError
from partnering.ingest.cancer import parse_cancer

pytestmark = pytest.mark.unit

SHEET = "CWT CRS Provider Extract"
HEADER = ["PERIOD", "YEAR", "MONTH", "STANDARD", "ORG CODE", "STAGE/ROUTE", "TREATMENT MODALITY", "CANCER TYPE",
          "TOTAL TREATED", "WITHIN STANDARD", "BREACHES"]
APR = datetime(2025, 4, 1)


def _row(std, route, modality, cancer, total, within, org="RWA", month=APR):
    return [month, "2025/26", month.strftime("%b").upper(), std, org, route, modality, cancer, total, within,
            total - within]


ROWS = [
    _row("28-day FDS", "URGENT SUSPECTED CANCER", None, "Suspected lung cancer", 100, 70),
    _row("28-day FDS", "NATIONAL SCREENING PROGRAMME", None, "Suspected breast cancer", 20, 18),
    # 62-day: each route by cancer type (ALL MODALITIES) and again by modality (ALL CANCERS)
    _row("62-day Combined", "Urgent Suspected Cancer", "ALL MODALITIES", "Lung", 8, 5),
    _row("62-day Combined", "Urgent Suspected Cancer", "ALL MODALITIES", "Breast", 2.5, 2.5),
    _row("62-day Combined", "Urgent Suspected Cancer", "Surgery", "ALL CANCERS", 6.5, 4.5),
    _row("62-day Combined", "Urgent Suspected Cancer", "Radiotherapy", "ALL CANCERS", 4, 3),
    _row("62-day Combined", "Breast Symptomatic", "ALL MODALITIES", "Breast", 1, 0),
    _row("62-day Combined", "Breast Symptomatic", "Surgery", "ALL CANCERS", 1, 0),
    _row("31-day Combined", "First Treatment", "ALL MODALITIES", "Lung", 10, 9),
    _row("31-day Combined", "First Treatment", "Surgery", "ALL CANCERS", 10, 9),
    _row("31-day Combined", "First Treatment", "ALL MODALITIES", "Lung", 4, 4, month=datetime(2025, 5, 1)),
    _row("31-day Combined", "First Treatment", "Surgery", "ALL CANCERS", 4, 4, month=datetime(2025, 5, 1)),
]


def _parse(rows, sheet=SHEET, header=HEADER):
    return parse_cancer(xlsx({sheet: [header, *rows]}), "cwt.xlsx")


def test_the_headline_sums_every_route_once():
    p = _parse(ROWS)
    o = p.observations.set_index(["org_code", "period", "indicator"])
    assert o.loc[("RWA", "2025-04", "cwt_fds_28d_pct"), ["numerator", "denominator"]].tolist() == [88, 120]
    # 62-day: urgent suspected cancer 7.5 of 10.5 plus breast symptomatic 0 of 1; the modality rows not again
    assert o.loc[("RWA", "2025-04", "cwt_62d_pct"), ["numerator", "denominator"]].tolist() == [7.5, 11.5]
    assert o.loc[("RWA", "2025-04", "cwt_62d_pct"), "value"] == pytest.approx(100 * 7.5 / 11.5)
    assert o.loc[("RWA", "2025-05", "cwt_31d_pct"), "value"] == 100
    assert p.period == "2025-05" and p.notes[0] == "months 2025-04 to 2025-05"
    assert p.published_on is None  # the extract has no title block
    # per cancer type: lung 62-day is 5 of 8 (urgent suspected cancer); breast 2.5 of 3.5 (two routes summed)
    assert o.loc[("RWA", "2025-04", "cwt_62d_pct:lung"), ["numerator", "denominator"]].tolist() == [5, 8]
    assert o.loc[("RWA", "2025-04", "cwt_62d_pct:breast"), ["numerator", "denominator"]].tolist() == [2.5, 3.5]
    assert o.loc[("RWA", "2025-04", "cwt_fds_28d_pct:suspected_lung_cancer"), "value"] == 70
    assert not any(":all_cancers" in i for i in p.observations["indicator"])  # modality rows are not a type


def test_partitions_that_disagree_refuse_the_file():
    rows = [r[:] for r in ROWS]
    rows[4][8], rows[4][10] = 7.5, 3  # one more surgery treatment than the cancer-type rows hold
    with pytest.raises(IngestError, match="RWA 2025-04 62-day combined / urgent suspected cancer: the rows by "
                                          "cancer type give 10.5 treated"):
        _parse(rows)


def test_periods_as_text_or_excel_serials():
    rows = [r[:] for r in ROWS]
    rows[0][0], rows[1][0] = "2025-04-01", 45748  # Excel serial 45748 is 1 April 2025
    p = _parse(rows)
    assert sorted(set(p.observations["period"])) == ["2025-04", "2025-05"]
    assert p.observations.set_index(["period", "indicator"]).loc[("2025-04", "cwt_fds_28d_pct"), "denominator"] == 120


def test_other_standards_are_named_not_used():
    p = _parse(ROWS + [_row("2WW", "Urgent Suspected Cancer", None, "Lung", 5, 5)])
    assert "1 rows of other standards not used: 2WW" in p.notes


def test_refusals_name_the_file_row_and_column():
    with pytest.raises(IngestError, match="has no sheet 'CWT CRS Provider Extract'"):
        _parse(ROWS, sheet="Sheet1")
    with pytest.raises(IngestError, match="missing: within standard"):
        _parse(ROWS, header=[h if h != "WITHIN STANDARD" else "WITHIN" for h in HEADER])
    rows = [r[:] for r in ROWS]
    rows[2][9] = "five"
    with pytest.raises(IngestError) as exc:
        _parse(rows)
    assert (exc.value.file, exc.value.row, exc.value.column) == ("cwt.xlsx", 4, "WITHIN STANDARD")
    assert "'five' is not a number" in exc.value.reason
    rows = [r[:] for r in ROWS]
    rows[0][9], rows[0][10] = 101, -1
    with pytest.raises(IngestError, match="WITHIN STANDARD 101 exceeds TOTAL TREATED 100"):
        _parse(rows)
    rows = [r[:] for r in ROWS]
    rows[3][2] = "MAY"
    with pytest.raises(IngestError, match="MONTH 'MAY' disagrees with PERIOD 2025-04"):
        _parse(rows)
    rows = [r[:] for r in ROWS]
    rows[1][0] = "sometime"
    with pytest.raises(IngestError, match="'sometime' is not a month"):
        _parse(rows)
