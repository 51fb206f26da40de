"""Build England's simplified outline for the web map (src/partnering/web/geo/england-outline.json).

Source: the 7 NHS England regions of July 2022 in ../shared/data/geo/boundaries/nhs-regions22.geojson (the union of
the ONS ICB 2022 ultra-generalised boundaries; OGL v3, Ordnance Survey data (c) Crown copyright and database right;
its MANIFEST.md names the repositories). Merged into one outline, simplified to 0.01 degrees (Douglas-Peucker,
about 1 km), islands under 0.0003 square degrees and holes dropped, coordinates rounded to 0.001 degrees.

    .venv/bin/python scripts/make_england_outline.py [REGIONS.geojson]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shapely.geometry import MultiPolygon, shape
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "partnering" / "web" / "geo" / "england-outline.json"
SOURCE = ("NHS England regions (July 2022) as the union of ICB 2022 ultra generalised boundaries (ONS, OGL v3; "
          "Ordnance Survey data (c) Crown copyright and database right), via "
          "../shared/data/geo/boundaries/nhs-regions22.geojson (see its MANIFEST.md); simplified to 0.01 degrees "
          "(Douglas-Peucker), islands under 0.0003 square degrees dropped, holes dropped")


def main(src: Path) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    merged = unary_union([shape(f["geometry"]).buffer(0) for f in data["features"]])
    simple = merged.simplify(0.01, preserve_topology=True)
    polys = MultiPolygon([p for p in getattr(simple, "geoms", [simple]) if p.area > 0.0003])
    coords = [[[[round(x, 3), round(y, 3)] for x, y in p.exterior.coords]] for p in polys.geoms]
    out = {"type": "FeatureCollection", "features": [{"type": "Feature",
                                                      "properties": {"name": "England", "source": SOURCE},
                                                      "geometry": {"type": "MultiPolygon", "coordinates": coords}}]}
    OUT.write_text(json.dumps(out, separators=(",", ":")), encoding="utf-8")
    print(f"{len(polys.geoms)} polygons, {sum(len(p.exterior.coords) for p in polys.geoms)} points -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data/geo/boundaries/nhs-regions22.geojson")
