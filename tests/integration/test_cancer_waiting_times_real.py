"""Cancer waiting times loader on the three real CWT CRS provider extracts (April 2024 – July 2025)."""

from __future__ import annotations

import pandas as pd
import pytest

from official_workbook import folder_files, load_all, xlsx
from partnering.errors import IngestError
from partnering.ingest import load
from partnering.store import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.shared]


@pytest.fixture(scope="module")
def cwt_store(tmp_path_factory, nhs):
    """A store holding every file of the folder (each ~10 s to read: loaded once for the module)."""
    from partnering.store.db import get_engine

    eng = get_engine(f"sqlite:///{tmp_path_factory.mktemp('cwt') / 'cwt.db'}")
    files = folder_files(nhs / "cancer-waiting-times", "*.xlsx", 3)
    reports = load_all("cancer-waiting-times", files, eng)
    return eng, files, reports


def test_every_file_loads_with_nothing_rejected(cwt_store):
    eng, files, reports = cwt_store
    assert [r.status for r in reports] == ["loaded"] * 3
    assert [r.rows_rejected for r in reports] == [0, 0, 0]
    # rows per file as the sheet holds them (MANIFEST: ~61k per half-year)
    assert sorted(r.rows_read for r in reports) == [41_013, 61_649, 61_780]
    obs = repo.observations_frame(eng, ["cwt_fds_28d_pct", "cwt_31d_pct", "cwt_62d_pct"], join_successors=False)
    assert obs["period"].min() == "2024-04" and obs["period"].max() == "2025-07"
    assert obs["period"].nunique() == 16


def test_england_headlines_equal_nhs_englands_published_figures(cwt_store):
    eng, _, _ = cwt_store
    obs = repo.observations_frame(eng, ["cwt_fds_28d_pct", "cwt_31d_pct", "cwt_62d_pct"], join_successors=False)
    g = obs.groupby(["period", "indicator"])[["numerator", "denominator"]].sum()
    pct = (100 * g["numerator"] / g["denominator"]).round(1)
    # NHS England, Cancer Waiting Times monthly statistics, England headlines as published for each month:
    # February 2025: FDS 80.2%, 31-day 91.8%, 62-day 67.0%; March 2025: FDS 78.9% (275.4k told), 62-day 71.4%;
    # April 2025: FDS 76.7% (209.6k told within 28 days), 31-day 91.3%, 62-day 69.9%; July 2025: 31-day 92.4%,
    # 62-day 69.2%
    published = {("2025-02", "cwt_fds_28d_pct"): 80.2, ("2025-02", "cwt_31d_pct"): 91.8,
                 ("2025-02", "cwt_62d_pct"): 67.0, ("2025-03", "cwt_fds_28d_pct"): 78.9,
                 ("2025-03", "cwt_62d_pct"): 71.4, ("2025-04", "cwt_fds_28d_pct"): 76.7,
                 ("2025-04", "cwt_31d_pct"): 91.3, ("2025-04", "cwt_62d_pct"): 69.9,
                 ("2025-07", "cwt_31d_pct"): 92.4, ("2025-07", "cwt_62d_pct"): 69.2}
    assert {k: pct[k] for k in published} == published
    assert round(g.loc[("2025-03", "cwt_fds_28d_pct"), "denominator"], -2) == 275_400
    assert round(g.loc[("2025-04", "cwt_fds_28d_pct"), "numerator"], -2) == 209_600
    # the headline 62-day includes the breast symptomatic route: without it April 2025 would read 69.8%


def test_a_named_trust_month_read_off_the_file(cwt_store, nhs):
    eng, _, _ = cwt_store
    obs = repo.observations_frame(eng, ["cwt_62d_pct", "cwt_fds_28d_pct", "cwt_31d_pct"], ["RWA"],
                                  join_successors=False).set_index(["period", "indicator"])
    # CWT-CRS-Apr-2025-to-Jul-2025 extract, ORG CODE RWA, PERIOD 2025-07-01, rows with TREATMENT MODALITY "ALL
    # MODALITIES" (or blank for FDS) summed over STAGE/ROUTE and CANCER TYPE: 62-day 195 of 355 (urgent suspected
    # cancer 99.5/190.5, consultant upgrade 76.5/120.5, screening 18/40, breast symptomatic 1/4); FDS 1,521 of
    # 2,995; 31-day 721 of 940
    assert obs.loc[("2025-07", "cwt_62d_pct"), ["numerator", "denominator"]].tolist() == [195, 355]
    assert obs.loc[("2025-07", "cwt_62d_pct"), "value"] == pytest.approx(100 * 195 / 355)
    assert obs.loc[("2025-07", "cwt_fds_28d_pct"), ["numerator", "denominator"]].tolist() == [1521, 2995]
    assert obs.loc[("2025-07", "cwt_31d_pct"), ["numerator", "denominator"]].tolist() == [721, 940]
    # per cancer type (breakdowns): they add up to the headline
    per_type = repo.observations_frame(eng, None, ["RWA"], join_successors=False, include_breakdowns=True)
    types = per_type[(per_type.period == "2025-07") & per_type.indicator.str.startswith("cwt_62d_pct:")]
    assert len(types) > 5 and types[["numerator", "denominator"]].sum().tolist() == [195, 355]
    # independently with plain pandas: the same July figures from the sheet
    f = nhs / "cancer-waiting-times" / "CWT-CRS-Apr-2025-to-Jul-2025-Data-Extract-Provider.xlsx"
    raw = pd.read_excel(f, sheet_name="CWT CRS Provider Extract")
    rwa = raw[(raw["ORG CODE"] == "RWA") & (raw["PERIOD"] == pd.Timestamp("2025-07-01"))
              & (raw["STANDARD"] == "62-day Combined") & (raw["TREATMENT MODALITY"] == "ALL MODALITIES")]
    assert rwa["TOTAL TREATED"].sum() == 355 and rwa["WITHIN STANDARD"].sum() == 195


def test_loading_again_changes_nothing_and_a_bad_file_writes_nothing(cwt_store, tmp_path, snapshot):
    eng, files, _ = cwt_store
    before = snapshot(eng)
    assert load("cancer-waiting-times", files[1], eng).status == "unchanged"
    bad = tmp_path / "cwt-bad.xlsx"
    bad.write_bytes(xlsx({"CWT CRS Provider Extract": [
        ["PERIOD", "STANDARD", "ORG CODE", "STAGE/ROUTE", "TREATMENT MODALITY", "CANCER TYPE", "TOTAL TREATED",
         "WITHIN STANDARD"],
        ["2025-08-01", "62-day Combined", "RWA", "Screening", "ALL MODALITIES", "Lung", 4, 2],
        ["2025-08-01", "62-day Combined", "RWA", "Screening", "ALL MODALITIES", "Breast", "x", 1]]}))
    with pytest.raises(IngestError) as exc:
        load("cancer-waiting-times", bad, eng)
    assert (exc.value.row, exc.value.column) == (3, "TOTAL TREATED") and "'x' is not a number" in exc.value.reason
    wrong = tmp_path / "not-cwt.xlsx"
    wrong.write_bytes(xlsx({"Provider": [["Org", "Value"], ["RWA", 1]]}))
    with pytest.raises(IngestError, match="has no sheet 'CWT CRS Provider Extract' \\(sheets: Provider\\)"):
        load("cancer-waiting-times", wrong, eng)
    assert snapshot(eng) == before
