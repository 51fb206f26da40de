"""Which areas touch: contiguity from shared boundary edges, computed from the boundary polygons.

Method. Two areas are neighbours when their boundaries share a line of positive length ("rook" contiguity; a
single shared point, "queen" contiguity, is not enough) — the usual definition for regionalisation (Duque, Ramos &
Suriñach 2007, "Supervised regionalization methods: a survey", International Regional Science Review 30(3), §2).
Candidate pairs come from an R-tree of the polygons' bounding boxes (shapely's ``STRtree``, Guttman 1984); for each
candidate the shared length is the length of the intersection of the two boundaries, kept when above a tolerance
(``min_shared``, in the polygons' units: degrees for WGS84) so that generalisation slivers do not create neighbours.

Islands. An area with no land neighbour (the Isle of Wight, the Isles of Scilly), or any group of areas cut off from
the rest, joins the rest by its shortest crossing: the pair of areas, one inside and one outside the group, whose
polygons are closest (shapely's ``distance``). Such links are returned separately as :class:`Crossing` so that every
answer built on them can say so.

Checked against ``../shared/data/geo/boundaries/ltla24.adjacency.csv`` and ``icb22.adjacency.csv`` (derived pairs
supplied for checking; see tests/unit/design/test_contiguity.py).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Crossing:
    """A link added across water between two areas that share no boundary (``km``: gap between the polygons)."""

    a: str
    b: str
    km: float


@dataclass
class Contiguity:
    """Neighbour lists over ``codes`` (indices into ``codes``), the land edges and the crossings added."""

    codes: list[str]
    edges: list[tuple[str, str, float]]  # (a, b, shared boundary length in polygon units), a < b
    crossings: list[Crossing] = field(default_factory=list)

    def neighbours(self) -> list[list[int]]:
        at = {c: i for i, c in enumerate(self.codes)}
        nb: list[set[int]] = [set() for _ in self.codes]
        for a, b, _ in self.edges:
            nb[at[a]].add(at[b])
            nb[at[b]].add(at[a])
        for x in self.crossings:
            nb[at[x.a]].add(at[x.b])
            nb[at[x.b]].add(at[x.a])
        return [sorted(s) for s in nb]

    def pairs(self) -> set[frozenset[str]]:
        """Every neighbour pair (land edges and crossings) as unordered pairs of codes."""
        return {frozenset((a, b)) for a, b, _ in self.edges} | {frozenset((x.a, x.b)) for x in self.crossings}


def read_polygons(path: str | Path, code_field: str, keep=None) -> tuple[list[str], list]:
    """Codes and shapely geometries from a GeoJSON file, optionally keeping codes for which ``keep(code)`` is true."""
    from shapely.geometry import shape

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    codes, geoms = [], []
    for f in data["features"]:
        code = str(f["properties"][code_field])
        if keep is not None and not keep(code):
            continue
        g = shape(f["geometry"])
        if not g.is_valid:
            g = g.buffer(0)
        codes.append(code)
        geoms.append(g)
    return codes, geoms


def _components(n: int, nb: list[set[int]]) -> list[list[int]]:
    seen = np.zeros(n, dtype=bool)
    comps = []
    for s in range(n):
        if seen[s]:
            continue
        seen[s] = True
        comp, q = [s], deque([s])
        while q:
            u = q.popleft()
            for v in nb[u]:
                if not seen[v]:
                    seen[v] = True
                    comp.append(v)
                    q.append(v)
        comps.append(comp)
    return comps


def _km_per_degree_gap(ga, gb) -> float:
    """Gap between two WGS84 geometries in km (nearest points, equirectangular at their mean latitude)."""
    from shapely.ops import nearest_points

    pa, pb = nearest_points(ga, gb)
    lat = np.radians((pa.y + pb.y) / 2)
    dx = (pa.x - pb.x) * 111.32 * np.cos(lat)
    dy = (pa.y - pb.y) * 110.57
    return float(np.hypot(dx, dy))


def contiguity(codes: list[str], geoms: list, min_shared: float = 1e-6) -> Contiguity:
    """Rook contiguity of ``geoms`` (shared boundary longer than ``min_shared``), islands joined by shortest crossing.

    ``min_shared`` is in the geometry's units (1e-6 degrees is about 0.1 m: generalised boundaries share whole
    edges, so only touching points and rounding slivers fall below it).
    """
    from shapely import STRtree

    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    edges: list[tuple[str, str, float]] = []
    nb: list[set[int]] = [set() for _ in codes]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        shared = geoms[i].boundary.intersection(geoms[j].boundary).length
        if shared > min_shared:
            a, b = sorted((codes[i], codes[j]))
            edges.append((a, b, float(shared)))
            nb[i].add(j)
            nb[j].add(i)
    crossings: list[Crossing] = []
    comps = _components(len(codes), nb)
    while len(comps) > 1:
        # join the smallest component to the rest by its shortest crossing, then recompute
        comps.sort(key=len)
        small, rest = comps[0], [i for c in comps[1:] for i in c]
        rest_tree = STRtree([geoms[i] for i in rest])
        best = None
        for i in small:
            j_local = int(rest_tree.nearest(geoms[i]))
            d = geoms[i].distance(geoms[rest[j_local]])
            if best is None or d < best[0]:
                best = (d, i, rest[j_local])
        _, i, j = best
        a, b = sorted((codes[i], codes[j]))
        crossings.append(Crossing(a, b, round(_km_per_degree_gap(geoms[i], geoms[j]), 1)))
        nb[i].add(j)
        nb[j].add(i)
        comps = _components(len(codes), nb)
    edges.sort()
    return Contiguity(codes=list(codes), edges=edges, crossings=crossings)


def is_connected(members: list[int] | set[int], nb: list[list[int]]) -> bool:
    """True when ``members`` induce a connected subgraph of the neighbour lists ``nb``."""
    members = set(members)
    if not members:
        return True
    start = next(iter(members))
    seen = {start}
    stack = [start]
    while stack:
        u = stack.pop()
        for v in nb[u]:
            if v in members and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(members)
