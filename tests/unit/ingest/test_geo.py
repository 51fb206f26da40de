"""Geography loader: boundaries, ICB areas, GP practices, travel matrices."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from partnering.errors import IngestError
from partnering.ingest.geo import (
    boundary_path,
    load_boundaries,
    load_gp_practices,
    load_icb_areas,
    load_travel_matrix,
    validate_boundaries,
)
from partnering.ingest.ods import load_ods
from partnering.store import repository as repo

pytestmark = pytest.mark.unit


def _home() -> Path:
    return Path(os.environ["PARTNERING_HOME"])


@pytest.mark.shared
def test_real_boundaries_validate_and_are_copied(geo, sqlite_engine, snapshot):
    r = load_boundaries(geo / "boundaries" / "icb22.geojson", engine=sqlite_engine)
    assert r.status == "loaded" and r.rows_loaded == 42
    # ONS-style file names map to the canonical levels the web map draws (icb, subicb, region, ltla)
    target = boundary_path("icb")
    assert target == _home() / "boundaries" / "icb.geojson"
    assert target.read_bytes() == (geo / "boundaries" / "icb22.geojson").read_bytes()
    counts = {}
    for f in sorted((geo / "boundaries").glob("*.geojson")):
        gj, code = validate_boundaries(f.read_bytes(), str(f))
        counts[f.stem] = (len(gj["features"]), code)
    assert counts["icb22"] == (42, "ICB22CD") and counts["sicbl22"] == (106, "SICBL22CD")
    assert counts["nhs-regions22"] == (7, "NHSER22CD") and counts["ltla24"][0] == 361
    before = snapshot(sqlite_engine)
    assert load_boundaries(geo / "boundaries" / "icb22.geojson", engine=sqlite_engine).status == "unchanged"
    assert snapshot(sqlite_engine) == before


def _fc(coords, geom="Polygon", props=None):
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props if props is not None else {"ICB22CD": "E54000001"},
         "geometry": {"type": geom, "coordinates": coords}}]}


SQUARE = [[[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.1], [-1.0, 52.0]]]


@pytest.mark.parametrize("content,message", [
    ("not json", "is not JSON"),
    (json.dumps({"type": "Feature"}), "not a GeoJSON FeatureCollection"),
    (json.dumps(_fc([[[450000, 200000], [450100, 200000], [450100, 200100], [450000, 200000]]])),
     "not WGS84 longitude/latitude inside the UK"),
    (json.dumps(_fc([-1.0, 52.0], geom="Point")), "not a Polygon or MultiPolygon"),
    (json.dumps(_fc(SQUARE, props={"name": "x"})), "has no code property"),
    (json.dumps(_fc([[[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.1]]])), "not closed"),
])
def test_invalid_boundaries_are_refused_and_nothing_is_copied(tmp_path, sqlite_engine, snapshot, content, message):
    p = tmp_path / "icb.geojson"
    p.write_text(content)
    before = snapshot(sqlite_engine)
    with pytest.raises(IngestError, match=message):
        load_boundaries(p, engine=sqlite_engine)
    assert snapshot(sqlite_engine) == before
    assert not (_home() / "boundaries" / "icb.geojson").exists()


def test_a_valid_small_boundary_file_loads(tmp_path, sqlite_engine):
    p = tmp_path / "Test Level.geojson"
    p.write_text(json.dumps(_fc(SQUARE)))
    load_boundaries(p, engine=sqlite_engine)
    assert (_home() / "boundaries" / "test-level.geojson").exists()


@pytest.mark.shared
def test_icb_areas_give_population_centroids_and_mergers(sqlite_engine, nhs):
    load_ods([nhs / "ods" / "subicb-icb-region-2026.csv"], sqlite_engine)
    r = load_icb_areas(sqlite_engine)
    assert r.rows_loaded == 42
    attrs = repo.attributes_frame(sqlite_engine)
    assert attrs.loc["QMF", "population"] == 1998709
    assert 51.4 < attrs.loc["QMF", "centroid_lat"] < 51.7
    assert attrs.loc["Z9B2Z", "population"] == pytest.approx(attrs.loc["QMJ", "population"]
                                                             + attrs.loc["QRV", "population"])
    smap = repo.successor_map(sqlite_engine)
    assert smap["QMJ"] == "Z9B2Z" and smap["QRV"] == "Z9B2Z"
    assert "QM7" not in smap  # Hertfordshire and West Essex was split: no single successor
    orgs = repo.organisations_frame(sqlite_engine, ["icb"])
    assert len(orgs) == 36 + 12  # 36 ICBs of 2026 (30 kept a 2024 code) + the 12 2024 codes gone by 2026


@pytest.mark.shared
def test_real_gp_practices(sqlite_engine, geo, snapshot):
    r = load_gp_practices(engine=sqlite_engine)
    assert r.rows_read == 6378 and r.rows_loaded == 6378 and r.rows_rejected == 0
    assert "IMD 2025 joined for 6,010 of 6,378" in r.message
    orgs = repo.organisations_frame(sqlite_engine, ["gp_practice"]).set_index("org_code")
    assert len(orgs) == 6378
    a = orgs.loc["A84002"]
    assert a["postcode"] == "NE65 7UW" and a["latitude"] == pytest.approx(55.309097)
    assert a["icb_code"] == "QHM" and a["region_code"] == "Y63"
    attrs = repo.attributes_frame(sqlite_engine)
    assert attrs.loc["A84002", "list_size"] == 6077
    assert orgs.loc["A81001", "official_name"] == "THE DENSHAM SURGERY"
    assert orgs.loc["A81001", "name"] == "The Densham Surgery"  # shown in title case (store.names)
    raw = pd.read_csv(geo / "gp" / "gp-practices-registered-2023-07.csv")
    assert attrs["list_size"].sum() == raw.NUMBER_OF_PATIENTS.sum()
    before = snapshot(sqlite_engine)
    assert load_gp_practices(engine=sqlite_engine).status == "unchanged"
    assert snapshot(sqlite_engine) == before


GP_HEADER = "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS,Latitude,Longitude"


def test_gp_bad_rows_are_rejected_with_line_and_column(tmp_path, sqlite_engine):
    p = tmp_path / "gp.csv"
    rows = [
        GP_HEADER,
        'GP,01-Jul-23,GP,00L,E38000130,A84002,NE65 7UW ,ALL,ALL,"6,077",55.3,-1.9',
        "GP,01-Jul-23,GP,00L,E38000130,A84005,NE22 6JX,ALL,ALL,lots,55.1,-1.6",
        "GP,01-Jul-23,GP,00L,E38000130,A84006,NE66 2NL,ALL,ALL,100,4.1,-1.6",
        "GP,01-Jul-23,GP,00L,E38000130,XX,NE66 2NL,ALL,ALL,100,55.1,-1.6",
        "GP,01-Jul-23,GP,00L,E38000130,A84007,NE66 2NL,ALL,ALL,-,,",
    ]
    p.write_bytes(("\ufeff" + "".join(r + "\r\n" for r in rows)).encode())
    r = load_gp_practices(p, sqlite_engine, mapping=False, lsoa_imd=False, subicb_lookup=False)
    assert r.rows_loaded == 2
    rej = repo.rejected_frame(sqlite_engine)
    assert sorted(zip(rej.line, rej.column)) == [(3, "NUMBER_OF_PATIENTS"), (4, "Latitude"), (5, "CODE")]
    attrs = repo.attributes_frame(sqlite_engine)
    assert attrs.loc["A84002", "list_size"] == 6077
    assert "A84007" not in attrs.index  # "-": not published, so no list_size


def test_gp_file_with_age_breakdowns_is_refused(tmp_path, sqlite_engine, snapshot):
    p = tmp_path / "gp.csv"
    p.write_text(GP_HEADER + "\nGP,x,GP,00L,E38000130,A84002,NE65 7UW,MALE,0_4,10,55.3,-1.9\n")
    before = snapshot(sqlite_engine)
    with pytest.raises(IngestError, match="breakdowns by sex or age"):
        load_gp_practices(p, sqlite_engine, mapping=False, lsoa_imd=False, subicb_lookup=False)
    assert snapshot(sqlite_engine) == before


@pytest.mark.shared
def test_real_travel_matrix_is_copied_with_normalised_keys(geo, sqlite_engine):
    r = load_travel_matrix(geo / "travel" / "stroke-units-travel-minutes.csv", engine=sqlite_engine)
    assert r.rows_loaded == 125
    m = pd.read_csv(_home() / "travel" / "stroke-units-travel-minutes.csv", index_col=0)
    assert m.shape == (125, 125) and m.loc["B152TH", "B714HJ"] == 18.7 and m.loc["B152TH", "B152TH"] == 0


@pytest.mark.parametrize("content,message", [
    ("from,A1,B2\nA1,0,x\nB2,3,0\n", "not a number of minutes"),
    ("from,A1,B2\nA1,0,-4\nB2,3,0\n", "negative travel time"),
    ("from,A1,B2\nC3,0,4\nD4,3,0\n", "not a square-ish matrix"),
    ("from,A1,B2\nA1,0\nB2,3,0\n", "fields where the header has"),
    ("from,A1\nA1,0\n", "fewer than 2 destination"),
])
def test_bad_travel_matrices_are_refused(tmp_path, sqlite_engine, snapshot, content, message):
    p = tmp_path / "m.csv"
    p.write_text(content)
    before = snapshot(sqlite_engine)
    with pytest.raises(IngestError, match=message):
        load_travel_matrix(p, engine=sqlite_engine)
    assert snapshot(sqlite_engine) == before
    assert not (_home() / "travel" / "m.csv").exists()
