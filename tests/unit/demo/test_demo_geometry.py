"""Point-in-polygon, distances and areas through shapely, on shapes with known answers and on the real geography."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon

from partnering.demo.geometry import (
    area_km2,
    area_of_points,
    distance_to_boundary_km,
    load_polygons,
    local_xy_km,
    points_in_area,
)

pytestmark = pytest.mark.unit

# a 4 x 4 degree square with a 2 x 2 hole in the middle, and a separate 1 x 1 island to the east
SQUARE = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
HOLE = [(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)]
ISLAND = [(6, 0), (7, 0), (7, 1), (6, 1), (6, 0)]


def test_points_in_area_respects_holes_and_parts():
    area = MultiPolygon([Polygon(SQUARE, [HOLE]), Polygon(ISLAND)])
    lon = np.array([0.5, 2.0, 3.5, 6.5, 5.0, -1.0])
    lat = np.array([0.5, 2.0, 3.5, 0.5, 0.5, 2.0])
    assert points_in_area(lon, lat, area).tolist() == [True, False, True, True, False, False]


def test_each_point_gets_the_area_that_contains_it():
    areas = [Polygon(SQUARE, [HOLE]), Polygon(HOLE), Polygon(ISLAND)]
    lon = np.array([2.0, 0.5, 6.5, 10.0, 2.5])
    lat = np.array([2.0, 0.5, 0.5, 10.0, 1.5])
    assert area_of_points(lon, lat, areas).tolist() == [1, 0, 2, -1, 1]


def test_overlapping_areas_give_the_first():
    areas = [Polygon(ISLAND), Polygon(SQUARE), Polygon(SQUARE)]
    assert area_of_points(np.array([2.0, 6.5]), np.array([2.0, 0.5]), areas).tolist() == [1, 0]


def test_distance_and_area_in_the_local_projection():
    # a square 20 km a side centred on (lon0, lat0), holding a 10 km square hole, built in degrees
    lon0, lat0 = -1.5, 53.0
    k_lat = 180.0 / (np.pi * 6371.0088)
    k_lon = k_lat / np.cos(np.radians(lat0))

    def square(half_km):
        return [(lon0 + sx * half_km * k_lon, lat0 + sy * half_km * k_lat)
                for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]]

    outer = Polygon(square(10))
    assert area_km2(outer, lon0, lat0) == pytest.approx(400.0, rel=1e-9)
    with_hole = Polygon(square(10), [square(5)])
    assert area_km2(with_hole, lon0, lat0) == pytest.approx(300.0, rel=1e-9)
    assert distance_to_boundary_km(lon0, lat0, outer) == pytest.approx(10.0, rel=1e-9)
    assert distance_to_boundary_km(lon0, lat0, with_hole) == pytest.approx(5.0, rel=1e-9)  # the hole's edge


def test_local_projection_scales():
    x, y = local_xy_km(np.array([1.0]), np.array([51.0]), 0.0, 51.0)
    assert x[0] == pytest.approx(np.pi / 180 * 6371.0088 * np.cos(np.radians(51.0)))
    assert y[0] == 0.0


def test_load_polygons_reads_geojson(tmp_path):
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "A"},
         "geometry": {"type": "Polygon", "coordinates": [SQUARE, HOLE]}},
        {"type": "Feature", "properties": {"code": "B"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[ISLAND]]}},
    ]}))
    polys = load_polygons(path)
    assert [p["code"] for p, _ in polys] == ["A", "B"]
    assert area_of_points(np.array([0.5, 6.5, 2.0]), np.array([0.5, 0.5, 2.0]), [g for _, g in polys]).tolist() == \
        [0, 1, -1]


def _even_odd(lon: np.ndarray, lat: np.ndarray, geometry: dict) -> np.ndarray:
    """Independent oracle: even-odd ray casting over every ring of a GeoJSON (Multi)Polygon."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    inside = np.zeros(len(lon), dtype=bool)
    for ring in (np.asarray(r, dtype=float) for poly in polygons for r in poly):
        x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        for s in range(0, len(lon), 2000):
            px, py = lon[s:s + 2000, None], lat[s:s + 2000, None]
            crosses = (y1 > py) != (y2 > py)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            inside[s:s + 2000] ^= ((crosses & (px < x_at)).sum(axis=1) % 2).astype(bool)
    return inside


@pytest.mark.shared
def test_gp_practices_fall_in_the_same_icb_as_by_ray_casting(geo):
    gp = pd.read_csv(geo / "gp" / "gp-practices-registered-2023-07.csv").dropna(subset=["Latitude", "Longitude"])
    lon, lat = gp["Longitude"].to_numpy(float), gp["Latitude"].to_numpy(float)
    path = geo / "boundaries" / "icb22-with-region.geojson"
    features = json.loads(path.read_text())["features"]
    oracle = np.column_stack([_even_odd(lon, lat, f["geometry"]) for f in features])
    assert (oracle.sum(axis=1) <= 1).all()
    expected = np.where(oracle.any(axis=1), oracle.argmax(axis=1), -1)
    got = area_of_points(lon, lat, [g for _, g in load_polygons(path)])
    assert (got >= 0).sum() > 6300  # nearly every practice is inside an ICB
    np.testing.assert_array_equal(got, expected)


@pytest.mark.shared
def test_lsoa_centroids_fall_in_their_own_icb(geo):
    """The ONS lookup's ICB for each LSOA is independent truth; 7 centroids lie on water outside the generalised map."""
    lsoa = pd.read_csv(geo / "areas" / "lsoa21-centroid-population.csv")
    polys = load_polygons(geo / "boundaries" / "icb24-derived.geojson")
    idx = area_of_points(lsoa["lon"].to_numpy(float), lsoa["lat"].to_numpy(float), [g for _, g in polys])
    codes = np.array([p["icb24_code"] for p, _ in polys])
    inside = idx >= 0
    assert int((~inside).sum()) == 7
    assert (codes[idx[inside]] == lsoa["icb24_code"].to_numpy()[inside]).all()
