"""Small numpy geometry helpers for the demo: point-in-polygon (ray casting) and distances.

Used by the maintainer script that derives ``icb_centres.csv`` and by the tests that check synthetic
coordinates fall inside the real ICB boundaries. Nothing here is on a hot path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def rings_of(geometry: dict) -> list[np.ndarray]:
    """All linear rings (outer and holes) of a GeoJSON Polygon or MultiPolygon, as (n, 2) lon/lat arrays."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:  # pragma: no cover - boundary files only hold polygons
        raise ValueError(f"unsupported geometry {geometry['type']}")
    return [np.asarray(ring, dtype=float) for polygon in polygons for ring in polygon]


def points_in_rings(lon: np.ndarray, lat: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd ray casting: True where a point lies inside the area the rings bound (holes respected)."""
    lon = np.asarray(lon, dtype=float)[:, None]
    lat = np.asarray(lat, dtype=float)[:, None]
    inside = np.zeros(lon.shape[0], dtype=bool)
    for ring in rings:
        x1, y1 = ring[:-1, 0][None, :], ring[:-1, 1][None, :]
        x2, y2 = ring[1:, 0][None, :], ring[1:, 1][None, :]
        crosses = (y1 > lat) != (y2 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
        hits = crosses & (lon < x_at)
        inside ^= (hits.sum(axis=1) % 2).astype(bool)
    return inside


def load_polygons(path: str | Path) -> list[tuple[dict, list[np.ndarray]]]:
    """(properties, rings) for every feature of a GeoJSON polygon file."""
    features = json.loads(Path(path).read_text())["features"]
    return [(f["properties"], rings_of(f["geometry"])) for f in features]


def local_xy_km(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection around (lon0, lat0), in km; accurate to well under 1% across an ICB."""
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    return (np.asarray(lon) - lon0) * k * np.cos(np.radians(lat0)), (np.asarray(lat) - lat0) * k


def distance_to_rings_km(lon0: float, lat0: float, rings: list[np.ndarray]) -> float:
    """Shortest distance (km) from a point to any edge of the rings."""
    best = np.inf
    for ring in rings:
        x, y = local_xy_km(ring[:, 0], ring[:, 1], lon0, lat0)
        ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.clip(np.where(seg2 > 0, -(ax * dx + ay * dy) / seg2, 0.0), 0.0, 1.0)
        d = np.hypot(ax + t * dx, ay + t * dy)
        best = min(best, float(d.min()))
    return best


def ring_area_km2(rings: list[np.ndarray], lon0: float, lat0: float) -> float:
    """Area (km²) by the shoelace formula with even-odd signs ignored (holes are rare in ICB files)."""
    total = 0.0
    for ring in rings:
        x, y = local_xy_km(ring[:, 0], ring[:, 1], lon0, lat0)
        total += 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])))
    return total
