"""DM01 loader on the twelve real provider web files (.xls, August 2024 – July 2025)."""

from __future__ import annotations

from datetime import date

import pytest

from official_workbook import folder_files, load_all, xlsx
from partnering.errors import IngestError
from partnering.ingest import load
from partnering.ingest.dm01 import parse_dm01
from partnering.store import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.shared]

INDICATORS = ["dm01_waiting_list", "dm01_over_6w", "dm01_over_13w", "dm01_over_6w_pct", "dm01_activity"]


def _files(nhs):
    return folder_files(nhs / "diagnostics-dm01", "*.xls", 12)


def test_every_file_loads_into_the_store(nhs, engine):
    files = _files(nhs)
    reports = load_all("diagnostics-dm01", files, engine)
    assert sorted(r.period for r in reports) == ["2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2025-01",
                                                 "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    batches = repo.batches_frame(engine).set_index("period")
    # "Published:" 11th September 2025 (July 2025 file); August 2024 "Revised:" 10th July 2025 — a revision is the
    # later publication
    assert batches.loc["2025-07", "published_on"] == date(2025, 9, 11)
    assert batches.loc["2024-08", "published_on"] == date(2025, 7, 10)
    assert set(batches["publication_basis"]) == {"file"}
    obs = repo.observations_frame(engine, INDICATORS, ["RWA"], join_successors=False).set_index(
        ["period", "indicator"])["value"]
    # July 2025 file, sheet "Provider", row 417 (RWA, Hull University Teaching Hospitals): waiting list 16,741;
    # 6+ weeks 4,379; 13+ weeks 1,865; percentage 0.261573; activity 2,020 + 7,748 + 9,949
    assert obs["2025-07", "dm01_waiting_list"] == 16_741
    assert obs["2025-07", "dm01_over_6w"] == 4_379
    assert obs["2025-07", "dm01_over_13w"] == 1_865
    assert obs["2025-07", "dm01_over_6w_pct"] == pytest.approx(26.1573, abs=5e-5)
    assert obs["2025-07", "dm01_activity"] == 19_717
    # sheet "Provider by Test", row 2835: RWA Magnetic Resonance Imaging, waiting list 2,814, 6+ weeks 125, 13+ weeks
    # 16, percentage 0.044421 (row 2850, its Total, repeats the Provider sheet's 16,741 / 4,379 / 1,865)
    mri = repo.observations_frame(engine, None, ["RWA"], join_successors=False, include_breakdowns=True)
    mri = mri[mri.period == "2025-07"].set_index("indicator")["value"]
    assert mri["dm01_waiting_list:magnetic_resonance_imaging"] == 2_814
    assert mri["dm01_over_6w:magnetic_resonance_imaging"] == 125
    assert mri["dm01_over_13w:magnetic_resonance_imaging"] == 16
    assert mri["dm01_over_6w_pct:magnetic_resonance_imaging"] == pytest.approx(4.4421, abs=5e-5)
    assert sum(v for i, v in mri.items() if i.startswith("dm01_waiting_list:")) == 16_741
    assert load("diagnostics-dm01", files[0], engine).status == "unchanged"


def test_england_row_of_each_file_equals_the_providers(nhs):
    f = next(f for f in _files(nhs) if "July-2025" in f.name)
    p = parse_dm01(f.read_bytes(), str(f))
    o = p.observations
    total = o[o.indicator == "dm01_waiting_list"]["value"].sum()
    six = o[o.indicator == "dm01_over_6w"]["value"].sum()
    # July 2025 file, sheet "Provider", row 15 (England "Total"): waiting list 1,730,933; 6+ weeks 378,816;
    # 13+ weeks 131,140; "Percentage waiting 6+ weeks" 0.218851 (21.9%)
    assert (total, six) == (1_730_933, 378_816)
    assert o[o.indicator == "dm01_over_13w"]["value"].sum() == 131_140
    assert 100 * six / total == pytest.approx(21.8851, abs=5e-5)
    assert p.notes[0] == "England row (sheet row 15) matches the provider rows"


def test_a_bad_workbook_writes_nothing(nhs, tmp_path, engine, snapshot):
    load("diagnostics-dm01", _files(nhs)[0], engine)
    before = snapshot(engine)
    header = ["Provider Code", "Provider Name", "Total Waiting List", "Number waiting 6+ Weeks",
              "Number waiting 13+ Weeks", "Percentage waiting 6+ weeks", "Planned tests / procedures",
              "Unscheduled tests / procedures", "Waiting list tests / procedures (excluding planned)"]
    bad = tmp_path / "Monthly-Diagnostics-Web-File-Provider-August-2025.xlsx"
    bad.write_bytes(xlsx({"Provider": [["Period:", "August 2025"], header, [None, "Total", 10, 1, 0, 0.1, 1, 1, 1],
                                       ["RWA", "Hull", 10, "one", 0, 0.1, 1, 1, 1]]}))
    with pytest.raises(IngestError) as exc:
        load("diagnostics-dm01", bad, engine)
    assert (exc.value.row, exc.value.column) == (4, "Number waiting 6+ Weeks")
    no_sheet = tmp_path / "dm01-by-test.xlsx"
    no_sheet.write_bytes(xlsx({"Provider by Test": [header]}))
    with pytest.raises(IngestError, match="has no sheet 'Provider'"):
        load("diagnostics-dm01", no_sheet, engine)
    assert snapshot(engine) == before
