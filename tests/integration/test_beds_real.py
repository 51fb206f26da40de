"""KH03 beds open overnight loader on the four real quarterly workbooks (../shared/data/nhs/beds-overnight)."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.ingest.beds import load_beds, parse_beds

pytestmark = [pytest.mark.integration, pytest.mark.shared]


def _file(nhs, quarter):
    return next((nhs / "beds-overnight").glob(f"*{quarter}*.xlsx"))


def test_a_trusts_general_and_acute_occupancy_for_a_quarter(nhs):
    f = _file(nhs, "Q4-2024-25")
    p = parse_beds(f.read_bytes(), str(f))
    o = p.observations.set_index(["org_code", "indicator"])
    assert p.period == "2025-03"  # January to March 2025
    # sheet "NHS Trust by Sector", row 191 (RWA), "% Occupied" / "General & Acute": 0.9218883...
    sheet = pd.read_excel(f, sheet_name="NHS Trust by Sector", header=None)
    rwa = sheet[sheet[4] == "RWA"].iloc[0]
    assert o.loc[("RWA", "beds_ga_occupancy_pct"), "value"] == pytest.approx(100 * rwa[19], abs=1e-9)
    assert o.loc[("RWA", "beds_ga_occupancy_pct"), "value"] == pytest.approx(92.188835, abs=5e-7)
    assert o.loc[("RWA", "beds_ga_occupancy_pct"), "line"] == 191
    # England row: G&A available 106,068.1 and occupied 98,145.9 (row 16)
    assert o.loc[("ENG", "beds_ga_available"), "value"] == pytest.approx(106068.13663, abs=1e-4)
    assert o.loc[("ENG", "beds_ga_occupancy_pct"), "value"] == pytest.approx(92.531032, abs=5e-7)


def test_every_file_in_the_folder_loads_with_its_quarter_and_publication(nhs, sqlite_engine):
    reports = load_beds(nhs / "beds-overnight", sqlite_engine)
    assert [r.status for r in reports] == ["loaded"] * 4
    assert sorted(r.period for r in reports) == ["2024-09", "2024-12", "2025-03", "2025-06"]
    # one published value per file is impossible for a percentage (a trust's mental illness beds more than 100%
    # occupied, e.g. RP1 Q1 2025-26 at 120.8%): rejected with its reason, the rest of the row kept
    assert [r.rows_rejected for r in reports] == [1, 1, 1, 1]
    from sqlalchemy import text

    with sqlite_engine.connect() as c:
        published = dict(c.execute(text("SELECT period, published_on FROM import_batches")).all())
        reasons = c.execute(text('SELECT reason FROM rejected_rows')).scalars().all()
    assert str(published["2024-12"]) == "2025-05-21"  # the Q3 file was revised on 21st May 2025
    assert all("a percentage must lie within 0–100" in r for r in reasons)
