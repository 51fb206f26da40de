"""ODS loader: real trusts, sites, successors and ICB lookup; bad files refused with the store unchanged."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnering.errors import IngestError
from partnering.ingest.ods import kind_from_name, load_ods, load_ods_folder, parse_ods, read_table
from partnering.store import repository as repo

pytestmark = pytest.mark.unit


@pytest.fixture
def ods_store(nhs, sqlite_engine):
    reports = load_ods_folder(nhs / "ods", sqlite_engine)
    return sqlite_engine, reports


@pytest.mark.shared
def test_real_ods_folder_loads_trusts_sites_successors_and_icbs(ods_store, nhs):
    engine, reports = ods_store
    assert [r.status for r in reports] == ["loaded"] * 6
    orgs = repo.organisations_frame(engine).set_index("org_code")
    etr = pd.read_csv(nhs / "ods" / "etr.csv", header=None, dtype=str, keep_default_na=False)
    assert len(etr) == 274
    trusts = orgs[orgs["source"].str.startswith("ODS etr", na=False)]
    assert len(trusts) == 274
    assert (orgs["kind"] == "icb").sum() == 36 and (orgs["kind"] == "region").sum() == 7
    assert set(orgs[orgs["kind"] == "region"].index) == {f"Y{n}" for n in range(56, 64)} - {"Y57"}
    assert orgs.loc["QMF", "region_code"] == "Y56"
    # a known trust: Cambridge University Hospitals, coordinates from the postcode file
    pc = pd.read_csv(nhs / "ods" / "postcode-latlong.csv", dtype=str).set_index("pcds")
    rgt = orgs.loc["RGT"]
    assert rgt["postcode"] == "CB2 0QQ" and rgt["region_code"] == "Y61" and rgt["icb_code"] == "S1Y5D"
    assert rgt["latitude"] == pytest.approx(float(pc.loc["CB2 0QQ", "lat"]))
    assert rgt["longitude"] == pytest.approx(float(pc.loc["CB2 0QQ", "long"]))
    assert str(rgt["open_date"]) == "1993-04-01" and pd.isna(rgt["close_date"])
    assert trusts["latitude"].notna().all()  # every etr postcode is in the lookup
    # kinds from unambiguous names only
    kinds = trusts["kind"].value_counts()
    assert kinds["ambulance_trust"] == 11 and kinds["mental_health_trust"] == 10 and kinds["community_trust"] == 15
    assert orgs.loc["RW4", "kind"] == "trust"  # MERSEY CARE: "CARE" is not a kind
    assert orgs.loc["RT4", "kind"] == "ambulance_trust" and pd.isna(orgs.loc["RT4", "region_code"])  # Welsh
    # sites: 1,234 rows, 8 repeated site codes rejected; independent parents created
    counts = repo.counts(engine)
    assert counts["sites"] == 1226
    assert (orgs["kind"] == "independent_provider").sum() == 36
    assert orgs.loc["NDA", "kind"] == "independent_provider"
    rej = repo.rejected_frame(engine)
    site_rej = rej[rej["file_name"].str.endswith("hospital-sites-2018.csv")]
    assert len(site_rej) == 8 and site_rej["reason"].str.contains("already given on line").all()
    # successors: 25,480 rows, 39 self-successions rejected, 35 repeated pairs kept once
    succ_rej = rej[rej["file_name"].str.endswith("org-successors.csv")]
    assert len(succ_rej) == 39 and succ_rej["reason"].str.contains("cannot succeed itself").all()
    assert set(succ_rej["line"]) >= {482, 9947}
    smap = repo.successor_map(engine)
    assert smap["RBZ"] == "RH8"  # Northern Devon -> Royal Devon (2022)
    assert smap["RTV"] == "RW4"
    assert smap["R1E"] == "RRE"
    assert smap["RW6"] in {"R0A", "RM3"}  # Pennine Acute was split in 2021
    assert orgs.loc["RBZ", "successor_code"] == "RH8"
    assert orgs["successor_code"].notna().sum() == 53


@pytest.mark.shared
def test_reloading_the_ods_folder_changes_nothing(ods_store, nhs, snapshot):
    engine, _ = ods_store
    before = snapshot(engine)
    reports = load_ods_folder(nhs / "ods", engine)
    assert {r.status for r in reports} == {"unchanged"}
    assert snapshot(engine) == before


@pytest.mark.shared
def test_a_more_precise_kind_in_the_store_is_kept(nhs, sqlite_engine):
    with sqlite_engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame([{"org_code": "RGT", "name": "x", "kind": "acute_trust"},
                                                      {"org_code": "RW4", "name": "y", "kind": "mental_health_trust"}]))
    load_ods([nhs / "ods" / "etr.csv", nhs / "ods" / "postcode-latlong.csv"], sqlite_engine)
    orgs = repo.organisations_frame(sqlite_engine).set_index("org_code")
    assert orgs.loc["RGT", "kind"] == "acute_trust" and orgs.loc["RGT", "official_name"].startswith("CAMBRIDGE")
    assert orgs.loc["RW4", "kind"] == "mental_health_trust"


# ----------------------------------------------------------------------------------------- bad input

ETR_ROW = '"R0A","MANCHESTER UNIVERSITY NHS FOUNDATION TRUST","Y62","QOP","COBBETT HOUSE","OXFORD ROAD","","MANCHESTER","","M13 9WL","20171001","",""'


def _write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_etr_quirks_bom_crlf_spaces_and_bad_rows(tmp_path, sqlite_engine):
    text = "\ufeff" + "\r\n".join([
        ETR_ROW.replace('"R0A"', '" R0A "'),
        '"RXX","SURREY AND BORDERS PARTNERSHIP NHS FOUNDATION TRUST","Y59","QXU","a","b","","c","","KT22 7AD","2001x","",""',
        '"bad code!","X","Y62","QOP","","","","","","M1 1AA","20010101","",""',
        '"RX1","NORTH WEST AMBULANCE SERVICE NHS TRUST","Y62","QOP","","","","","","BL1 5DD","20060701","20990101",""',
    ]) + "\r\n"
    etr = _write(tmp_path, "trusts.csv", text)
    pcs = _write(tmp_path, "pc.csv", "pcds,lat,long\r\nM13 9WL,53.46,-2.23\r\nBL1 5DD,53.6, 99\r\n")
    [report] = load_ods([etr, pcs], sqlite_engine)
    assert report.rows_loaded == 2
    orgs = repo.organisations_frame(sqlite_engine).set_index("org_code")
    assert orgs.loc["R0A", "latitude"] == 53.46 and orgs.loc["RX1", "kind"] == "ambulance_trust"
    assert pd.isna(orgs.loc["RX1", "latitude"])  # its postcode row was rejected (longitude 99)
    rej = repo.rejected_frame(sqlite_engine).sort_values("line")
    got = {(int(r.line), r.column) for r in rej.itertuples()}
    assert (2, "column 11 (open date)") in got and (3, "column 1 (code)") in got
    assert (3, "pc.csv: lat") in got


def test_unrecognised_file_is_refused_and_nothing_is_written(tmp_path, sqlite_engine, snapshot):
    before = snapshot(sqlite_engine)
    good = _write(tmp_path, "etr.csv", ETR_ROW + "\n")
    wrong = _write(tmp_path, "sites.csv", "Period,Org Code,Org name\n2025-03,R0A,X\n")
    with pytest.raises(IngestError, match="is not one of the ODS files"):
        load_ods([good, wrong], sqlite_engine)
    assert snapshot(sqlite_engine) == before


@pytest.mark.parametrize("name,content,message", [
    ("pc.csv", "pcds,lat,long\nM1 1AA,53.4,-2.2\n", "loaded together with the trusts file"),
    ("sites.csv", "OrganisationCode,ParentODSCode,Sector,Latitude,Longitude\nRX101,RX1,NHS Sector,53,-2\n",
     "has no 'OrganisationName' column"),
    ("empty.csv", "", "is empty"),
    ("bin.csv", "\x00\x01\x02PK", "binary"),
    ("huge.csv", "old_code,new_code,date\n\"" + "A" * 200_000 + "\",B,2020-01-01\n", "not a readable CSV"),
    ("succ.csv", "old_code,new_code,date\n", "has a header but no rows"),
])
def test_bad_files_fail_with_one_clear_message(tmp_path, sqlite_engine, snapshot, name, content, message):
    before = repo.counts(sqlite_engine)
    snap = snapshot(sqlite_engine)
    p = tmp_path / name
    p.write_bytes(content.encode("latin-1"))
    with pytest.raises(IngestError, match=message) as err:
        load_ods([p], sqlite_engine)
    assert str(p) in str(err.value)
    assert repo.counts(sqlite_engine) == before and snapshot(sqlite_engine) == snap


def test_missing_file_is_refused(tmp_path, sqlite_engine):
    with pytest.raises(IngestError, match="file not found"):
        load_ods([tmp_path / "nope.csv"], sqlite_engine)


def test_successor_file_rows_are_validated():
    data = b"old_code,new_code,date\nRBZ,RH8,2022-04-01\nRBZ,RH8,2021-01-01\nR1E,R1E,2018-05-31\nR,RRE,2018\nRXX,RYY,31/12/2020\n"
    [(parsed, _)] = parse_ods([("s.csv", data)])
    assert parsed.successions.to_dict("records") == [
        {"old_code": "RBZ", "new_code": "RH8", "effective": pd.Timestamp("2022-04-01").date()}]
    assert [(ln, col) for ln, col, _ in parsed.rejected] == [(4, "new_code"), (5, "old_code"), (6, "date")]


def test_name_hints_are_conservative():
    assert kind_from_name("LONDON AMBULANCE SERVICE NHS TRUST") == "ambulance_trust"
    assert kind_from_name("KENT AND MEDWAY MENTAL HEALTH NHS TRUST") == "mental_health_trust"
    assert kind_from_name("KENT COMMUNITY HEALTH NHS FOUNDATION TRUST") == "community_trust"
    for ambiguous in ("MERSEY CARE NHS FOUNDATION TRUST", "NORTHERN CARE ALLIANCE NHS FOUNDATION TRUST",
                      "SUSSEX PARTNERSHIP NHS FOUNDATION TRUST", "WALSALL HEALTHCARE NHS TRUST"):
        assert kind_from_name(ambiguous) == "trust"


# ----------------------------------------------------------------------------------------- property

cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=8),
       crlf=st.booleans(), bom=st.booleans())
def test_read_table_returns_stripped_cells_and_physical_lines(rows, crlf, bom):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_ALL).writerows([["a", "b", "c"], *rows])
    text = buf.getvalue()
    data = (("\ufeff" if bom else "") + text).encode("utf-8")
    t = read_table(data, "x.csv")
    keep = [r for r in rows if any(c.strip() for c in r)]
    assert t.header == ["a", "b", "c"]
    assert t.rows == [[c.strip() for c in r] for r in keep]
    # physical line of each row = 1 + lines taken by the header and earlier rows
    expected, line = [], 2
    for r in rows:
        if any(c.strip() for c in r):
            expected.append(line)
        line += 1 + sum(c.count("\n") for c in r)
    assert t.lines == expected
