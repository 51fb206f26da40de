"""A map of England drawn server-side as inline SVG: no tiles, no scripts, no requests.

Projection: equirectangular with longitudes scaled by cos(53.5°) (England's middle latitude), which keeps
shapes recognisable at national scale (the distortion across 50–56°N is under 10%).  Boundaries come from
``$PARTNERING_HOME/boundaries/<level>.geojson`` (written by :func:`partnering.ingest.geo.load_boundaries`);
without them the map shows the organisations only.  Organisations are marked by segment with a shape *and*
the segment number, so the map never relies on colour alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from markupsafe import Markup, escape

from partnering.config import Settings

ENGLAND = (-6.45, 49.85, 1.95, 55.9)  # lon min, lat min, lon max, lat max
COS = math.cos(math.radians(53.5))
WIDTH = 640
LEVELS = ("region", "icb")  # drawn, outermost last so its stroke sits on top
SEGMENT_SHAPES = {1: "circle", 2: "square", 3: "triangle", 4: "diamond"}
SEGMENT_FILL = {1: "#005eb8", 2: "#41b6e6", 3: "#ffb81c", 4: "#d5281b"}


@dataclass(frozen=True)
class Frame:
    lon0: float
    lat0: float
    lon1: float
    lat1: float

    @property
    def height(self) -> int:
        return int(round(WIDTH * (self.lat1 - self.lat0) / ((self.lon1 - self.lon0) * COS)))

    def xy(self, lon, lat) -> tuple[float, float]:
        x = (lon - self.lon0) / (self.lon1 - self.lon0) * WIDTH
        y = (self.lat1 - lat) / (self.lat1 - self.lat0) * self.height
        return x, y


def frame_for(orgs: pd.DataFrame | None) -> Frame:
    """England, or the box round the given organisations (with a margin) when they are few/regional."""
    if orgs is None or orgs.empty:
        return Frame(*ENGLAND)
    lat = orgs["latitude"].dropna()
    lon = orgs["longitude"].dropna()
    if lat.empty:
        return Frame(*ENGLAND)
    pad = 0.35
    lo0, la0, lo1, la1 = lon.min() - pad / COS, lat.min() - pad, lon.max() + pad / COS, lat.max() + pad
    if (lo1 - lo0) * COS > (ENGLAND[2] - ENGLAND[0]) * COS * 0.8:
        return Frame(*ENGLAND)
    # keep England's aspect ratio roughly so the map is not a sliver
    w, h = (lo1 - lo0) * COS, la1 - la0
    if h < w * 0.9:
        mid = (la0 + la1) / 2
        la0, la1 = mid - w * 0.45, mid + w * 0.45
    elif w < h * 0.8:
        mid = (lo0 + lo1) / 2
        lo0, lo1 = mid - h * 0.4 / COS, mid + h * 0.4 / COS
    return Frame(lo0, la0, lo1, la1)


#: England's outline, drawn when no boundary files are loaded (the demo's map): the 7 NHS England regions of July
#: 2022 (the union of the ONS ICB 2022 ultra-generalised boundaries; OGL v3, Ordnance Survey data © Crown copyright
#: and database right) from ../shared/data/geo/boundaries/nhs-regions22.geojson (its MANIFEST.md names the source
#: repositories), merged into one outline, simplified to 0.01° (Douglas–Peucker, about 1 km) and islands under
#: 0.0003 square degrees dropped: 14 polygons, 984 points, 16 kB. Built by scripts/make_england_outline.py.
OUTLINE = Path(__file__).with_name("geo") / "england-outline.json"


def outline_path(fr: Frame) -> str:
    """SVG path data of England's outline on the map's frame ("" if the file is missing)."""
    if not OUTLINE.is_file():
        return ""
    return rings_path(_rings(str(OUTLINE), OUTLINE.stat().st_mtime), fr)


def boundary_file(level: str, home: Path | None = None) -> Path:
    return (home or Settings.from_env().home) / "boundaries" / f"{level}.geojson"


@lru_cache(maxsize=16)
def _rings(path: str, mtime: float) -> tuple:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rings = []
    for feat in data.get("features", []):
        geom = feat.get("geometry") or {}
        if geom.get("type") == "Polygon":
            polys = [geom["coordinates"]]
        elif geom.get("type") == "MultiPolygon":
            polys = geom["coordinates"]
        else:
            continue
        for poly in polys:
            for ring in poly:
                rings.append(tuple((float(p[0]), float(p[1])) for p in ring))
    return tuple(rings)


def boundary_paths(level: str, fr: Frame, home: Path | None = None) -> str:
    p = boundary_file(level, home)
    if not p.is_file():
        return ""
    try:
        rings = _rings(str(p), p.stat().st_mtime)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return ""
    return rings_path(rings, fr)


def rings_path(rings, fr: Frame) -> str:
    """SVG path data for (lon, lat) rings on the map's frame; points closer than 0.1 px merged, slivers dropped."""
    parts = []
    for ring in rings:
        pts, last = [], None
        for lon, lat in ring:
            x, y = fr.xy(lon, lat)
            q = (round(x, 1), round(y, 1))
            if q != last:
                pts.append(f"{q[0]:g},{q[1]:g}")
                last = q
        if len(pts) >= 3:
            parts.append("M" + "L".join(pts) + "Z")
    return "".join(parts)


def _marker(shape: str, x: float, y: float, r: float = 6.0) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"/>'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}"/>'
    if shape == "triangle":
        pts = [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
    elif shape == "diamond":
        pts = [(x, y - r * 1.25), (x + r * 1.25, y), (x, y + r * 1.25), (x - r * 1.25, y)]
    else:  # a cross: not segmented
        a = r * 0.7
        return (f'<path d="M{x - a:.1f},{y - a:.1f}L{x + a:.1f},{y + a:.1f}'
                f'M{x + a:.1f},{y - a:.1f}L{x - a:.1f},{y + a:.1f}"/>')
    return '<path d="M' + "L".join(f"{px:.1f},{py:.1f}" for px, py in pts) + 'Z"/>'


def render_map(orgs: pd.DataFrame, *, title: str, lines: list[dict] | None = None, home: Path | None = None,
               frame_orgs: pd.DataFrame | None = None) -> Markup:
    """SVG map. ``orgs``: org_code, name, latitude, longitude, segment (NaN = not segmented).

    ``lines``: optional pairs as the buddying plan gives them (``partnering.match.service.PlanResult.map_lines``):
    ``recipient``, ``supporter``, and both ends as ``from`` (recipient) and ``to`` (supporter) ``{lat, lon}``.
    """
    fr = frame_for(frame_orgs if frame_orgs is not None else orgs)
    h = fr.height
    # A figure with a visible caption naming the map; the SVG is a *group* (not role="img") because it holds
    # links, one per organisation, that keyboard users reach in turn.
    out = ['<figure class="app-map-figure">',
           f'<figcaption id="map-caption" class="app-map-caption">{escape(title)}</figcaption>',
           f'<svg class="app-map" viewBox="0 0 {WIDTH} {h}" width="100%" role="group" '
           f'aria-labelledby="map-caption" aria-describedby="map-desc" xmlns="http://www.w3.org/2000/svg">',
           '<desc id="map-desc">Each organisation is a link marked by a shape and number that give its segment '
           '(1 circle, 2 square, 3 triangle, 4 diamond; a cross is not segmented). The table below the map '
           'lists the same organisations.</desc>',
           f'<rect width="{WIDTH}" height="{h}" fill="#f0f4f5"/>']
    drawn = False
    for level, width, colour in (("icb", 0.6, "#aeb7bd"), ("region", 1.4, "#4c6272")):
        d = boundary_paths(level, fr, home)
        if d:
            drawn = True
            fill = "#ffffff" if level == "icb" else "none"
            out.append(f'<path class="app-map__{level}" d="{d}" fill="{fill}" stroke="{colour}" '
                       f'stroke-width="{width}" stroke-linejoin="round"/>')
    if not drawn:  # no boundaries loaded: England's outline, so the markers are not dots on white
        d = outline_path(fr)
        if d:
            out.append(f'<path class="app-map__england" d="{d}" fill="#ffffff" stroke="#4c6272" stroke-width="1.2" '
                       'stroke-linejoin="round"/>')
    if lines:
        out.append('<g class="app-map__plan" stroke="#212b32" stroke-width="1.6" stroke-dasharray="5 3" fill="none">')
        for line in lines:
            a, b = line["from"], line["to"]
            if any(pd.isna(v) for v in (a["lat"], a["lon"], b["lat"], b["lon"])):
                continue
            x1, y1 = fr.xy(a["lon"], a["lat"])
            x2, y2 = fr.xy(b["lon"], b["lat"])
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"><title>'
                       f'{escape(line["recipient"])} supported by {escape(line["supporter"])}</title></line>')
        out.append("</g>")
    pts = orgs.dropna(subset=["latitude", "longitude"])
    out.append('<g class="app-map__orgs" stroke="#212b32" stroke-width="1">')
    for r in pts.itertuples():
        seg = int(r.segment) if "segment" in pts.columns and not pd.isna(r.segment) else None
        shape = SEGMENT_SHAPES.get(seg, "cross")
        fill = SEGMENT_FILL.get(seg, "none")
        x, y = fr.xy(r.longitude, r.latitude)
        label = f"{r.name} ({r.org_code}): " + (f"segment {seg}" if seg else "not segmented")
        out.append(f'<a href="/org/{escape(r.org_code)}" aria-label="{escape(label)}"><g fill="{fill}">'
                   f'<title>{escape(label)}</title>{_marker(shape, x, y)}</g>')
        if seg:
            tc = "#ffffff" if seg in (1, 4) else "#212b32"
            out.append(f'<text x="{x:.1f}" y="{y + 3:.1f}" text-anchor="middle" font-size="8" font-weight="bold" '
                       f'font-family="Arial, sans-serif" fill="{tc}" stroke="none">{seg}</text>')
        out.append("</a>")
    out.append("</g></svg></figure>")
    return Markup("".join(out))


def legend() -> Markup:
    items = []
    for seg, shape in list(SEGMENT_SHAPES.items()) + [(None, "cross")]:
        fill = SEGMENT_FILL.get(seg, "none")
        text = f"Segment {seg}" + (" (narrowest range of challenges)" if seg == 1 else
                                   " (broadest range of challenges)" if seg == 4 else "") if seg else "Not segmented"
        items.append(f'<li><svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">'
                     f'<g fill="{fill}" stroke="#212b32" stroke-width="1">{_marker(shape, 9, 9, 6)}</g></svg> '
                     f'{escape(text)}</li>')
    return Markup('<ul class="app-map-legend">' + "".join(items) + "</ul>")
