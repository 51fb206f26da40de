"""Trust names from ODS (stored in capitals) are shown in the NHS's own title case; the official string is kept.

Oracle: the names NHS England itself publishes in the A&E monthly workbook (March 2025: sheets System Mapping,
Provider Level Data, Acute Trust Mapping), for the trusts whose ODS name is the same name in capitals.  NHS
England's sheets are not consistent with each other: some titles come from a spreadsheet PROPER() ("King'S",
"And", "Of", "Upon"), so a trust counts as matched when one of NHS England's spellings is ours exactly.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from partnering.store import repository as repo
from partnering.store.names import display_name

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("official, shown", [
    ("HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST", "Hull University Teaching Hospitals NHS Trust"),
    ("KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST", "King's College Hospital NHS Foundation Trust"),
    ("BARKING, HAVERING AND REDBRIDGE UNIVERSITY HOSPITALS NHS TRUST",
     "Barking, Havering and Redbridge University Hospitals NHS Trust"),
    ("ST GEORGE'S UNIVERSITY HOSPITALS NHS FOUNDATION TRUST", "St George's University Hospitals NHS Foundation Trust"),
    ("THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST",
     "The Newcastle upon Tyne Hospitals NHS Foundation Trust"),
    ("UNIVERSITY HOSPITALS OF MORECAMBE BAY NHS FOUNDATION TRUST",
     "University Hospitals of Morecambe Bay NHS Foundation Trust"),
    ("NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD", "NHS Humber and North Yorkshire Integrated Care Board"),
    ("2GETHER NHS FOUNDATION TRUST", "2gether NHS Foundation Trust"),
    ("GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "Guy's and St Thomas' NHS Foundation Trust"),
    ("HARROGATE AND DISTRICT NHS FOUNDATION TRUST (ICB)", "Harrogate and District NHS Foundation Trust (ICB)"),
])
def test_capitals_become_the_nhs_title(official, shown):
    assert display_name(official) == shown


def test_a_name_already_in_mixed_case_is_left_as_it_is():
    assert display_name("Synthetic Trust And Partners of Nowhere") == "Synthetic Trust And Partners of Nowhere"
    assert display_name(None) is None


def test_reads_show_the_title_and_keep_the_official_string(sqlite_engine):
    with sqlite_engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame([
            {"org_code": "RWA", "name": "HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST", "kind": "acute_trust"},
            {"org_code": "XX1", "name": "Demo Trust", "kind": "acute_trust"}]))
    for df in (repo.organisations_frame(sqlite_engine), repo.organisations_by_code(sqlite_engine, ["RWA", "XX1"])):
        got = df.set_index("org_code")
        assert got.loc["RWA", "name"] == "Hull University Teaching Hospitals NHS Trust"
        assert got.loc["RWA", "official_name"] == "HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST"
        assert got.loc["XX1", "name"] == "Demo Trust" == got.loc["XX1", "official_name"]


def _nhs_spellings(nhs) -> pd.DataFrame:
    book = nhs / "ae-workbook" / "March-2025-AE-by-provider.xls"
    parts = []
    for sheet, col in (("System Mapping", 0), ("Provider Level Data", 1), ("Acute Trust Mapping", 0)):
        raw = pd.read_excel(book, sheet_name=sheet, header=None)
        part = raw.iloc[:, [col, col + 2]].dropna()
        part.columns = ["org_code", "nhs_name"]
        parts.append(part.astype(str))
    out = pd.concat(parts, ignore_index=True)
    out["nhs_name"] = out["nhs_name"].str.strip()
    return out.drop_duplicates()


@pytest.mark.shared
def test_real_ods_names_match_nhs_englands_own_titles(nhs):
    etr = pd.read_csv(nhs / "ods" / "etr.csv", header=None, dtype=str, usecols=[0, 1], names=["org_code", "ods"])
    assert not etr["ods"].str.contains("[a-z]").any()  # the ODS file is all capitals
    both = _nhs_spellings(nhs).merge(etr, on="org_code")
    both = both[both["nhs_name"].str.upper() == both["ods"].str.upper()].copy()  # same name, not a renamed trust
    both["ours"] = both["ods"].map(display_name)
    matched = (both["ours"] == both["nhs_name"]).groupby(both["org_code"]).any()
    assert len(matched) >= 150
    assert matched.mean() >= 0.94  # measured 151 of 160 trusts (94.4%)

    def proper_artefacts_undone(s: str) -> str:  # NHS England's PROPER() spellings, written as its other sheets do
        s = re.sub(r"'S\b", "'s", s)
        return re.sub(r"(?<=\S) (And|Of|Upon) ", lambda m: f" {m.group(1).lower()} ", s)

    fixed = (both["ours"] == both["nhs_name"].map(proper_artefacts_undone)).groupby(both["org_code"]).any()
    assert fixed.all(), sorted(fixed[~fixed].index)
