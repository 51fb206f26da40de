"""Geometry for the demo, on shapely (GEOS): point-in-polygon, distance to a boundary, area.

Used by the maintainer script that derives ``icb_centres.csv`` and by tests that check points fall inside the
real ICB boundaries.  Shapely 2 (https://shapely.readthedocs.io/en/stable/) does the work: ``contains_xy`` is a
vectorised point-in-polygon test over numpy arrays, an ``STRtree`` finds the area containing each of many points
at once, and polygon holes and multi-part areas are handled by GEOS as the OGC Simple Features model defines
them.  Distances and areas are taken in a local equirectangular projection around the point of interest.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius (Moritz 2000, Geodetic Reference System 1980)


def load_polygons(path: str | Path) -> list[tuple[dict, shapely.Geometry]]:
    """(properties, geometry) for every feature of a GeoJSON polygon file, geometries prepared for fast tests."""
    features = json.loads(Path(path).read_text())["features"]
    out = []
    for f in features:
        geom = shape(f["geometry"])
        if geom.geom_type not in ("Polygon", "MultiPolygon"):  # pragma: no cover - boundary files hold polygons
            raise ValueError(f"unsupported geometry {geom.geom_type}")
        shapely.prepare(geom)
        out.append((f["properties"], geom))
    return out


def points_in_area(lon: np.ndarray, lat: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """True where a point lies inside ``area`` (holes excluded), for arrays of longitudes and latitudes."""
    return shapely.contains_xy(area, np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def area_of_points(lon: np.ndarray, lat: np.ndarray, areas: list[shapely.Geometry]) -> np.ndarray:
    """Index into ``areas`` of the area containing each point, -1 where none does (first area if several)."""
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    tree = shapely.STRtree(areas)
    point_idx, area_idx = tree.query(points, predicate="within")
    out = np.full(len(points), -1, dtype=np.int64)
    # several hits only where areas overlap: keep the lowest area index, whatever order the tree returns
    order = np.lexsort((area_idx, point_idx))
    point_idx, area_idx = point_idx[order], area_idx[order]
    first = np.r_[True, point_idx[1:] != point_idx[:-1]] if len(point_idx) else np.zeros(0, dtype=bool)
    out[point_idx[first]] = area_idx[first]
    return out


def local_xy_km(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection around (lon0, lat0), in km; accurate to well under 1% across an ICB."""
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    return (np.asarray(lon) - lon0) * k * np.cos(np.radians(lat0)), (np.asarray(lat) - lat0) * k


def _local(area: shapely.Geometry, lon0: float, lat0: float) -> shapely.Geometry:
    def project(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(local_xy_km(coords[:, 0], coords[:, 1], lon0, lat0))

    return shapely.transform(area, project)


def distance_to_boundary_km(lon0: float, lat0: float, area: shapely.Geometry) -> float:
    """Shortest distance (km) from a point to the area's boundary (outer rings and holes)."""
    return float(shapely.distance(_local(area, lon0, lat0).boundary, shapely.Point(0.0, 0.0)))


def area_km2(area: shapely.Geometry, lon0: float, lat0: float) -> float:
    """Area (km²) in the local projection around (lon0, lat0); holes are subtracted."""
    return float(_local(area, lon0, lat0).area)
