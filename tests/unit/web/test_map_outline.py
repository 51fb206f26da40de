"""Without boundary files (the demo), the map draws England's outline rather than markers on a blank square."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from partnering.web import map as webmap

pytestmark = pytest.mark.unit


def test_outline_is_drawn_without_boundaries(tmp_path):
    orgs = pd.DataFrame({"org_code": ["RWA"], "name": ["Hull"], "latitude": [53.74], "longitude": [-0.36],
                         "segment": [4]})
    svg = str(webmap.render_map(orgs, title="t", home=tmp_path))  # tmp_path: no boundaries folder
    assert 'class="app-map__england"' in svg and 'class="app-map__icb"' not in svg
    d = svg.split('class="app-map__england" d="', 1)[1].split('"', 1)[0]
    assert d.count("M") == 14  # 14 polygons: the mainland and the islands kept


def test_outline_file_names_its_source_and_covers_england():
    data = json.loads(webmap.OUTLINE.read_text(encoding="utf-8"))
    props = data["features"][0]["properties"]
    assert "nhs-regions22.geojson" in props["source"] and "Crown copyright" in props["source"]
    pts = [p for poly in data["features"][0]["geometry"]["coordinates"] for ring in poly for p in ring]
    lon = [p[0] for p in pts]
    lat = [p[1] for p in pts]
    # England's extremes: Land's End/Scilly about -6.4, Lowestoft 1.76 E; the Lizard 49.96 N, Berwick 55.81 N
    assert -6.5 < min(lon) < -6.2 and 1.7 < max(lon) < 1.8
    assert 49.8 < min(lat) < 50.0 and 55.7 < max(lat) < 55.9
    assert len(pts) < 2000
