"""Maintainer script: derive ``icb_centres.csv`` (package data) from the real geography in ``../shared``.

Run once, by hand, when the geography changes::

    python -m partnering.demo.build_icb_centres /work/shared/data/geo

For each of the 42 ICBs (2024 basis) it keeps the population-weighted centroid and Census 2021 population
(``areas/icb24-centroid-population.csv``), finds the NHS England region (ODS code Y56..Y63) whose 2022 ICB polygon
contains that centroid (``boundaries/icb22-with-region.geojson``; a point-in-polygon join, because two ICB codes
changed in 2024) and records two radii: ``spread_km`` (the radius of a circle with the ICB's area) and
``safe_radius_km`` (distance from the centroid to the nearest ICB boundary), so the demo can jitter
organisations around the centre without leaving England. The demo never reads ``../shared`` at run time.

Contains public sector information licensed under the Open Government Licence v3.0 (ONS).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.demo.geometry import area_km2, distance_to_boundary_km, load_polygons, points_in_area

ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0 (ONS)"
OUTPUT = Path(__file__).with_name("icb_centres.csv")


def build(geo_dir: Path) -> pd.DataFrame:
    centres = pd.read_csv(geo_dir / "areas" / "icb24-centroid-population.csv")
    polygons = load_polygons(geo_dir / "boundaries" / "icb22-with-region.geojson")
    lons, lats = centres["pwc_lon"].to_numpy(dtype=float), centres["pwc_lat"].to_numpy(dtype=float)
    inside = np.column_stack([points_in_area(lons, lats, geom) for _, geom in polygons])  # centroid x polygon
    rows = []
    for c, row in zip(centres.itertuples(index=False), inside):
        hit = np.flatnonzero(row)
        lon, lat = float(c.pwc_lon), float(c.pwc_lat)
        if len(hit) != 1:
            raise RuntimeError(f"{c.icb24_code}: centroid in {len(hit)} ICB 2022 polygons")
        props, geom = polygons[hit[0]]
        area = area_km2(geom, lon, lat)
        rows.append(
            {
                "ons_icb24_code": c.icb24_code,
                "region_code": props["NHSER22CDH"],
                "population": int(c.pop_census2021),
                "latitude": round(lat, 5),
                "longitude": round(lon, 5),
                "spread_km": round(float(np.sqrt(area / np.pi)), 1),
                "safe_radius_km": round(distance_to_boundary_km(lon, lat, geom), 1),
            }
        )
    return pd.DataFrame(rows).sort_values(["region_code", "ons_icb24_code"]).reset_index(drop=True)


def main(argv: list[str]) -> None:
    geo_dir = Path(argv[1] if len(argv) > 1 else "/work/shared/data/geo")
    table = build(geo_dir)
    with OUTPUT.open("w", newline="") as fh:
        fh.write(f"# {ATTRIBUTION}. Derived from ONS LSOA 2021 population-weighted centroids and ICB boundaries.\n")
        table.to_csv(fh, index=False)
    print(f"wrote {len(table)} rows to {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv)
