"""NHS Staff Survey 2024 loader on the real detailed spreadsheets (../shared/data/nhs/staff-survey)."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.ingest.staff_survey import load_staff_survey, parse_staff_survey

pytestmark = [pytest.mark.integration, pytest.mark.shared]


@pytest.fixture(scope="module")
def organisational(nhs):
    f = nhs / "staff-survey" / "NSS24-detailed-spreadsheets-organisational-results.xlsx"
    return f, parse_staff_survey(f.read_bytes(), str(f))


def test_a_trusts_engagement_and_raising_concerns_scores(organisational):
    f, p = organisational
    o = p.observations.set_index(["org_code", "indicator"])
    # sheet "THEMES", row 206 (RWA Hull University Teaching Hospitals), column G "Staff Engagement - score"
    assert o.loc[("RWA", "nss_engagement"), "value"] == pytest.approx(6.471245, abs=5e-7)
    assert o.loc[("RWA", "nss_engagement"), "line"] == 206
    # sheet "PEOPLE PROMISE ELEMENTS", row 206, "PP3_2 - score" (raising concerns)
    assert o.loc[("RWA", "nss_pp3_2_raising_concerns"), "value"] == pytest.approx(6.088553, abs=5e-7)
    # independent read of the same cell with plain pandas
    themes = pd.read_excel(f, sheet_name="THEMES", header=4)
    rwa = themes[themes["ODS code"] == "RWA"].iloc[0]
    assert o.loc[("RWA", "nss_engagement"), "value"] == rwa["Staff Engagement - score"]
    # sheet "HEALTH WELLBEING SAFETY Q18-22", row 206, Q20a "% Agree" + "% Strongly agree"
    q = pd.read_excel(f, sheet_name="HEALTH WELLBEING SAFETY Q18-22", header=None)
    row = q[q[0] == "RWA"].iloc[0]
    start = next(i for i, v in enumerate(q.iloc[0]) if str(v).startswith("Q20a"))
    assert o.loc[("RWA", "nss_q20a_secure_raising_concerns_pct"), "value"] == pytest.approx(
        row[start + 3] + row[start + 4])


def test_every_organisation_loads(organisational):
    _, p = organisational
    assert not p.rejected
    assert p.rows_loaded == 263 and p.observations.org_code.nunique() == 263
    assert set(p.observations.period) == {"2024-12"}


def test_the_national_figure_is_england(nhs):
    f = nhs / "staff-survey" / "NSS24-detailed-spreadsheets-national-results.xlsx"
    p = parse_staff_survey(f.read_bytes(), str(f))
    o = p.observations.set_index(["org_code", "indicator"])
    # sheet "THEMES", row 6 (Base "National", no breakdown), column E "Staff Engagement - score"
    assert o.loc[("ENG", "nss_engagement"), "value"] == pytest.approx(6.846146, abs=5e-7)
    assert o.loc[("ENG", "nss_engagement"), "line"] == 6
    assert set(p.observations.org_code) == {"ENG"} and len(p.observations) == 17


def test_every_file_in_the_folder_loads(nhs, sqlite_engine):
    reports = load_staff_survey(nhs / "staff-survey", sqlite_engine)
    assert [r.status for r in reports] == ["loaded", "loaded"]
    assert sum(r.rows_rejected for r in reports) == 0
