"""Cancelled operations loader on the four real quarterly workbooks (Q2 2024-25 – Q1 2025-26)."""

from __future__ import annotations

from datetime import date

import pytest

from official_workbook import folder_files, load_all, xlsx
from partnering.errors import IngestError
from partnering.ingest import load
from partnering.ingest.cancelled_ops import parse_cancelled_ops
from partnering.store import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.shared]

INDICATORS = ["cancelled_ops_last_minute", "cancelled_ops_not_treated_28d", "cancelled_ops_not_treated_28d_pct"]


def _files(nhs):
    return folder_files(nhs / "cancelled-operations", "*.xlsx", 4)


def test_every_quarter_loads_at_its_last_month(nhs, engine):
    files = _files(nhs)
    reports = load_all("cancelled-operations", files, engine)
    # Q1 2025-26 (April to June 2025) is stored at 2025-06, Q2 2024-25 (July to September 2024) at 2024-09, ...
    assert [r.period for r in reports] == ["2025-06", "2024-09", "2024-12", "2025-03"]
    batches = repo.batches_frame(engine).set_index("period")
    assert batches.loc["2025-06", "published_on"] == date(2025, 8, 14)  # "Published: 14th August 2025"
    obs = repo.observations_frame(engine, INDICATORS, ["RWA"], join_successors=False).set_index(
        ["period", "indicator"])
    # Q1-2025-26 workbook, sheet "Provider", row 157: RWA (Hull University Teaching Hospitals) 321 last-minute
    # cancellations, 110 not treated within 28 days; Q2-2024-25, row 159: 266 and 87
    assert obs.loc[("2025-06", "cancelled_ops_last_minute"), "value"] == 321
    assert obs.loc[("2025-06", "cancelled_ops_not_treated_28d"), "value"] == 110
    assert obs.loc[("2025-06", "cancelled_ops_not_treated_28d_pct"), "value"] == pytest.approx(100 * 110 / 321)
    assert obs.loc[("2024-09", "cancelled_ops_last_minute"), "value"] == 266
    assert obs.loc[("2024-09", "cancelled_ops_not_treated_28d"), "value"] == 87


def test_providers_add_up_to_the_england_row_including_the_independent_sector(nhs):
    f = next(f for f in _files(nhs) if f.name.startswith("Q1-2025-26"))
    p = parse_cancelled_ops(f.read_bytes(), str(f))
    o = p.observations
    # sheet "Provider", row 18: England (Including Independent Sector) 19,278 cancellations, 4,305 not treated in
    # 28 days (row 17, excluding the independent sector: 19,268 and 4,303)
    assert o[o.indicator == "cancelled_ops_last_minute"]["value"].sum() == 19_278
    assert o[o.indicator == "cancelled_ops_not_treated_28d"]["value"].sum() == 4_305
    assert p.rows_loaded == 141


def test_a_bad_workbook_writes_nothing(nhs, tmp_path, engine, snapshot):
    load("cancelled-operations", _files(nhs)[0], engine)
    before = snapshot(engine)
    from partnering.ingest.cancelled_ops import CANCELLED, NOT_TREATED

    header = ["Organisation Code", "Organisation Name", CANCELLED, NOT_TREATED]
    rows = [["Period:", "Quarter 2, 2025-26 (July to September 2025)"], header,
            ["-", "England (Including Independent Sector)", 5, 1], ["RWA", "HULL", 5, "1 patient"]]
    bad = tmp_path / "Q2-2025-26-Cancelled-Operations.xlsx"
    bad.write_bytes(xlsx({"Provider": rows}))
    with pytest.raises(IngestError) as exc:
        load("cancelled-operations", bad, engine)
    assert (exc.value.file, exc.value.row, exc.value.column) == (str(bad), 4, NOT_TREATED)
    no_header = tmp_path / "Q3-2025-26-Cancelled-Operations.xlsx"
    no_header.write_bytes(xlsx({"Provider": [["Period:", "Quarter 3, 2025-26"], ["Org", "Cancelled"], ["RWA", 5]]}))
    with pytest.raises(IngestError, match="sheet 'Provider' has no header row"):
        load("cancelled-operations", no_header, engine)
    assert snapshot(engine) == before
