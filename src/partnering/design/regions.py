"""Regional grouping: exactly k contiguous regions, every one within ±x% of the mean population (issue #12 §1).

Method (our own combination of published pieces; see docs/methods/design-regions.md):

1. *Units.* Areas named in "keep together" pairs are merged into one unit (union-find); "keep apart" pairs become a
   constraint on every move. With ``respect`` (e.g. NHS regions), each existing region is solved on its own with a
   share of the k regions chosen so that every share can meet the balance (largest remainder within the feasible
   range ``ceil(P/U)..floor(P/L)``).
2. *Seeded region growing.* k seeds spread by farthest-point sampling (Gonzalez 1985, the 2-approximation for
   k-centre); the least populous region that can still grow absorbs its cheapest unassigned neighbour — the
   growth phase of AZP (Openshaw 1977, "A geographical solution to scale and aggregation problems in
   region-building, partitioning and spatial modelling", Trans. IBG 2(4)) made balance-aware by always growing the
   smallest region.
3. *Balance repair.* Tabu search (Glover 1989, "Tabu search — part I", ORSA J. Computing 1(3)) on the total
   violation Σ max(0, P−U) + max(0, L−P): the best non-tabu move of a boundary unit out of (or into) a region
   outside the bounds that keeps the donor region contiguous and does not increase the violation; plateau moves
   pass the excess along the chain of regions, and the reverse move is tabu for a tenure.
4. *Local search on the objective.* AZP's boundary-move descent (Openshaw & Rao 1995, "Algorithms for
   reengineering 1991 Census geography", Environment and Planning A 27(3)): a boundary unit moves to a neighbouring
   region when the objective falls, both regions stay within the bounds and the donor stays contiguous; followed
   by pairwise swaps of boundary units between neighbouring regions (balance-neutral moves that single moves at a
   tight bound cannot make). Several seeds; the best feasible result is kept.

Objectives (all minimised): ``need`` — within-region sum of squared deviations of the standardised need attributes
(IMD 2025 average score, share aged 65+), the heterogeneity measure of AZP and SKATER (Assunção et al. 2006, Int.
J. Geographical Information Science 20(7)); ``compact`` — population-weighted moment of inertia about each region's
population-weighted centre (km², Weaver & Hess 1963, "A procedure for nonpartisan districting", Yale Law Journal
73(2)); ``travel`` — population × straight-line km to the region's population-weighted centre (not road time).

Contiguity comes from :mod:`partnering.design.contiguity` (shared boundary edges; islands by shortest crossing).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.design.contiguity import Contiguity, Crossing, contiguity, is_connected, read_polygons
from partnering.errors import InfeasibleError, ValidationError

OBJECTIVES = ("need", "compact", "travel")
AREA_KINDS = ("ltla24", "icb22", "sicbl22")
RESPECT = ("nhs-region",)
KM_PER_DEG_LAT = 110.57  # WGS84 metres per degree of latitude near 53°N / 1000 (Ordnance Survey, "A guide to
KM_PER_DEG_LON_EQ = 111.32  # coordinate systems in Great Britain", 2020, ellipsoid figures), and at the equator

# Local authorities abolished on 1 April 2023 and the unitary councils that replaced them (The Cumbria (Structural
# Changes) Order 2022, SI 2022/331; The North Yorkshire (Structural Changes) Order 2022, SI 2022/328; The Somerset
# (Structural Changes) Order 2022, SI 2022/329): Census 2021 age tables use the 2021 codes.
LTLA21_TO_24 = {
    **dict.fromkeys(["E07000026", "E07000028", "E07000029"], "E06000063"),  # Cumberland
    **dict.fromkeys(["E07000027", "E07000030", "E07000031"], "E06000064"),  # Westmorland and Furness
    **dict.fromkeys([f"E0700016{i}" for i in range(3, 10)], "E06000065"),  # North Yorkshire
    **dict.fromkeys(["E07000187", "E07000188", "E07000189", "E07000246"], "E06000066"),  # Somerset
}

_SOURCES = {
    "ltla24": ("boundaries/ltla24.geojson", "ltla24_code", "ltla24_name"),
    "icb22": ("boundaries/icb22.geojson", "ICB22CD", "ICB22NM"),
    "sicbl22": ("boundaries/sicbl22.geojson", "SICBL22CD", "SICBL22NM"),
}


# ------------------------------------------------------------------------------------------------ areas


@dataclass
class Areas:
    """Areas to group: codes, names, Census 2021 population, population-weighted centroid, need, NHS region."""

    kind: str
    frame: pd.DataFrame  # index code; name, population, lon, lat, imd_score, pct_65_plus, nhs_region
    contiguity: Contiguity
    geoms: list | None = None  # shapely polygons in frame order (None for synthetic areas)

    @property
    def codes(self) -> list[str]:
        return list(self.frame.index)


def _england(code: str) -> bool:
    return code[:3] in ("E06", "E07", "E08", "E09")


@lru_cache(maxsize=4)
def _load_areas_cached(kind: str, geo_dir: str, nhs_dir: str) -> Areas:
    from shapely import points

    geo, nhs = Path(geo_dir), Path(nhs_dir)
    rel, code_field, name_field = _SOURCES[kind]
    codes, geoms = read_polygons(geo / rel, code_field, keep=_england if kind == "ltla24" else None)
    import json

    feats = json.loads((geo / rel).read_text(encoding="utf-8"))["features"]
    names = {str(f["properties"][code_field]): str(f["properties"][name_field]) for f in feats}
    lsoa = pd.read_csv(geo / "areas/lsoa21-centroid-population.csv")
    imd = pd.read_csv(nhs / "imd/imd2025_england_lsoa21.csv", usecols=["lsoa21_code", "IMD_score"])
    lsoa = lsoa.merge(imd, on="lsoa21_code", how="left")
    from partnering.design.allocation import read_census_age_sex

    # the file's older_* columns hold 65-74 only (an upstream defect): read_census_age_sex rebuilds 65+
    age = read_census_age_sex(geo / "areas/census2021-age-sex-ltla21.csv").reset_index()
    age["ltla24_code"] = age["ltla21_code"].map(LTLA21_TO_24).fillna(age["ltla21_code"])
    age = age.groupby("ltla24_code")[["total_population", "older_females", "older_males"]].sum()
    pct65 = 100 * (age["older_females"] + age["older_males"]) / age["total_population"]
    lsoa["pct_65_plus"] = lsoa["ltla24_code"].map(pct65)  # an LSOA takes its local authority's share
    pts = points(lsoa["lon"].to_numpy(), lsoa["lat"].to_numpy())
    # NHS region of each LSOA: the region polygon holding its population-weighted centroid (nearest if on the coast)
    rcodes, rgeoms = read_polygons(geo / "boundaries/nhs-regions22.geojson", "NHSER22NM")
    lsoa["nhs_region"] = _locate(pts, rgeoms, rcodes)
    if kind == "ltla24":
        lsoa["area"] = lsoa["ltla24_code"]
    else:
        lsoa["area"] = _locate(pts, geoms, codes)
    w = lsoa["pop_census2021"].to_numpy(float)
    lsoa["_w"] = w
    for col in ("lon", "lat", "IMD_score", "pct_65_plus"):
        lsoa["_" + col] = lsoa[col] * w
    g = lsoa.groupby("area")
    agg = g[["_w", "_lon", "_lat", "_IMD_score", "_pct_65_plus"]].sum()
    region = lsoa.groupby(["area", "nhs_region"])["_w"].sum().reset_index()
    region = region.sort_values("_w").drop_duplicates("area", keep="last").set_index("area")["nhs_region"]
    frame = pd.DataFrame(index=pd.Index(codes, name="code"))
    frame["name"] = [names.get(c, c) for c in codes]
    frame["population"] = agg["_w"].reindex(codes).to_numpy()
    for col, src in (("lon", "_lon"), ("lat", "_lat"), ("imd_score", "_IMD_score"), ("pct_65_plus", "_pct_65_plus")):
        frame[col] = (agg[src] / agg["_w"]).reindex(codes).to_numpy()
    frame["nhs_region"] = region.reindex(codes).to_numpy()
    missing = frame["population"].isna()
    if missing.any():
        cent = [geoms[i].centroid for i in np.flatnonzero(missing)]
        frame.loc[missing, "population"] = 0.0
        frame.loc[missing, "lon"] = [p.x for p in cent]
        frame.loc[missing, "lat"] = [p.y for p in cent]
        frame.loc[missing, "nhs_region"] = _locate(points([p.x for p in cent], [p.y for p in cent]), rgeoms, rcodes)
    frame[["imd_score", "pct_65_plus"]] = frame[["imd_score", "pct_65_plus"]].fillna(
        frame[["imd_score", "pct_65_plus"]].mean()
    )
    return Areas(kind=kind, frame=frame, contiguity=contiguity(codes, geoms), geoms=geoms)


def _locate(pts, geoms, codes) -> np.ndarray:
    """Code of the polygon containing each point; points in none (coastal generalisation) take the nearest."""
    from shapely import STRtree

    tree = STRtree(geoms)
    out = np.full(len(pts), None, dtype=object)
    pi, gi = tree.query(pts, predicate="within")
    out[pi] = np.asarray(codes, dtype=object)[gi]
    miss = np.flatnonzero(pd.isna(out))
    if len(miss):
        near = tree.nearest(pts[miss])
        out[miss] = np.asarray(codes, dtype=object)[near]
    return out


def load_areas(kind: str = "ltla24", data_dir: str | Path | None = None) -> Areas:
    """England's areas of one kind (``ltla24``, ``icb22``, ``sicbl22``) from ``../shared/data`` (cached).

    Population: Census 2021 (ONS) summed from LSOA 2021; centre: population-weighted centroid of the LSOAs; need:
    population-weighted IMD 2025 average score (MHCLG, English Indices of Deprivation 2025) and the share aged 65+
    (Census 2021, by local authority); NHS region: NHS England region 2022 holding most of the population.
    """
    if kind not in AREA_KINDS:
        raise ValidationError(f"areas must be one of {', '.join(AREA_KINDS)}, not {kind!r}")
    if data_dir is None:
        from partnering.config import shared_data

        base = shared_data()
    else:
        base = Path(data_dir)
    return _load_areas_cached(kind, str(base / "geo"), str(base / "nhs"))


# ------------------------------------------------------------------------------------------------ results


@dataclass
class Region:
    number: int
    members: list[str]
    population: float
    imd_score: float  # population-weighted IMD 2025 average score
    pct_65_plus: float
    compactness: float | None  # Polsby-Popper 4πA/P² of the merged polygon (1 = a disc); None without polygons
    mean_km_to_centre: float  # population-weighted straight-line km to the region's population-weighted centre
    objective: float  # this region's share of the objective
    centre_lon: float
    centre_lat: float
    nhs_regions: list[str] = field(default_factory=list)


@dataclass
class RegionPlan:
    areas: str
    k: int
    balance: float
    objective: str
    objective_value: float
    mean_population: float
    lower: float
    upper: float
    largest_over_mean: float
    smallest_over_mean: float
    regions: list[Region]
    crossings: list[Crossing]  # island links used by the regions (joined by the shortest crossing)
    respect: str | None
    together: list[tuple[str, str]]
    apart: list[tuple[str, str]]
    seconds: float
    notes: list[str]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["crossings"] = [asdict(c) for c in self.crossings]
        return d

    def labels(self) -> dict[str, int]:
        return {m: r.number for r in self.regions for m in r.members}


# ------------------------------------------------------------------------------------------------ core search


class _Partition:
    """Labels of units, per-region additive sums and member sets; the moves of the search."""

    def __init__(self, nb, pop, cost, k, lower, upper, apart, rng):
        self.nb, self.pop, self.cost, self.k = nb, pop, cost, k
        self.lower, self.upper, self.apart, self.rng = lower, upper, apart, rng
        self.n = len(pop)

    # -- region statistics
    def reset(self, labels):
        self.labels = labels
        self.members = [set() for _ in range(self.k)]
        for i, r in enumerate(labels.tolist()):
            self.members[r].add(i)
        self.P = np.bincount(labels, weights=self.pop, minlength=self.k)
        self.stats = [self.cost.stats(list(m)) for m in self.members]
        self.rcost = np.array([self.cost.value(s, m) for s, m in zip(self.stats, self.members, strict=True)])

    def violation_of(self, p):
        return max(0.0, p - self.upper) + max(0.0, self.lower - p)

    def can_join(self, i, r):
        return not any(self.labels[j] == r for j in self.apart.get(i, ()))

    def stays_connected(self, i, a):
        m = self.members[a]
        if len(m) <= 1:
            return False
        nbs = [v for v in self.nb[i] if v in m]
        if len(nbs) <= 1:
            return True
        rest = m - {i}
        return is_connected(rest, self.nb)

    def delta(self, i, a, b):
        sa, sb = self.cost.remove(self.stats[a], i), self.cost.add(self.stats[b], i)
        ca = self.cost.value(sa, self.members[a] - {i})
        cb = self.cost.value(sb, self.members[b] | {i})
        return ca + cb - self.rcost[a] - self.rcost[b], sa, sb, ca, cb

    def move(self, i, a, b, sa=None, sb=None, ca=None, cb=None):
        if sa is None:
            _, sa, sb, ca, cb = self.delta(i, a, b)
        self.members[a].discard(i)
        self.members[b].add(i)
        self.labels[i] = b
        self.P[a] -= self.pop[i]
        self.P[b] += self.pop[i]
        self.stats[a], self.stats[b] = sa, sb
        self.rcost[a], self.rcost[b] = ca, cb

    def total_violation(self):
        return float(np.maximum(self.P - self.upper, 0).sum() + np.maximum(self.lower - self.P, 0).sum())

    # -- phase 2: seeded growth
    def grow(self, coords):
        n, k = self.n, self.k
        first = int(self.rng.integers(n))
        seeds = [first]
        dmin = ((coords - coords[first]) ** 2).sum(1)
        for _ in range(k - 1):
            dmin_masked = dmin.copy()
            dmin_masked[seeds] = -1
            s = int(np.argmax(dmin_masked))
            seeds.append(s)
            dmin = np.minimum(dmin, ((coords - coords[s]) ** 2).sum(1))
        labels = np.full(n, -1)
        P = np.zeros(k)
        cen = np.zeros((k, coords.shape[1]))
        for r, s in enumerate(seeds):
            labels[s] = r
            P[r] = self.pop[s]
            cen[r] = coords[s]
        frontier = [set(v for v in self.nb[s] if labels[v] < 0) for s in seeds]
        left = n - k
        while left:
            order = np.argsort(P)
            grew = False
            for strict in (True, False):
                for r in order.tolist():
                    fr = frontier[r]
                    fr -= {v for v in fr if labels[v] >= 0}
                    if not fr:
                        continue
                    if strict and P[r] >= self.upper:
                        continue
                    cand = [v for v in fr if not any(labels[j] == r for j in self.apart.get(v, ()))]
                    if not cand:
                        continue
                    cv = np.asarray(cand)
                    v = int(cv[np.argmin(((coords[cv] - cen[r]) ** 2).sum(1))])
                    labels[v] = r
                    cen[r] = (cen[r] * P[r] + coords[v] * self.pop[v]) / max(P[r] + self.pop[v], 1e-12)
                    P[r] += self.pop[v]
                    fr.discard(v)
                    fr.update(u for u in self.nb[v] if labels[u] < 0)
                    left -= 1
                    grew = True
                    break
                if grew:
                    break
            if not grew:  # only apart-blocked units remain: put each in any neighbouring region
                for v in np.flatnonzero(labels < 0).tolist():
                    rs = [labels[u] for u in self.nb[v] if labels[u] >= 0]
                    if rs:
                        labels[v] = rs[0]
                        left -= 1
                if not grew and (labels < 0).any() and left == int((labels < 0).sum()):
                    break
        self.reset(labels)

    # -- phase 2 (first choice): recursive spanning-tree bipartition
    def _edges(self):
        if not hasattr(self, "_eu"):
            self._eu = np.array([u for u in range(self.n) for v in self.nb[u] if u < v], dtype=np.int64)
            self._ev = np.array([v for u in range(self.n) for v in self.nb[u] if u < v], dtype=np.int64)
            self._local = np.full(self.n, -1, dtype=np.int64)
        return self._eu, self._ev, self._local

    def bisect(self, nodes: np.ndarray, range_a, range_b, tries: int, best_effort: bool = False):
        """Cut a random spanning tree of ``nodes`` into two connected sides with populations in ``range_a`` and
        ``range_b`` (either way round), a random such cut; after ``tries`` trees, None — or with ``best_effort`` the
        cut seen that came closest to the ranges."""
        eu, ev, local = self._edges()
        m = len(nodes)
        local[nodes] = np.arange(m)
        keep = (local[eu] >= 0) & (local[ev] >= 0)
        su, sv = local[eu[keep]], local[ev[keep]]
        pop = self.pop[nodes]
        total = float(pop.sum())
        (la, ha), (lb, hb) = range_a, range_b
        out = None
        closest = (math.inf, None)
        su_l, sv_l = su.tolist(), sv.tolist()
        for _ in range(tries):
            order, pred = _random_spanning_tree(m, su_l, sv_l, self.rng)
            if len(order) != m:
                break
            sub = pop.copy()
            for v in order[:0:-1].tolist():
                sub[pred[v]] += sub[v]
            st = sub[order]
            rest = total - st
            ok1 = (st >= la) & (st <= ha) & (rest >= lb) & (rest <= hb)  # subtree is side a
            ok2 = (rest >= la) & (rest <= ha) & (st >= lb) & (st <= hb)  # subtree is side b
            ok1[0] = ok2[0] = False
            cands = np.flatnonzero(ok1 | ok2)
            if not len(cands):
                if best_effort:
                    def gap(x, lo_, hi_):
                        return np.maximum(lo_ - x, 0) + np.maximum(x - hi_, 0)

                    e1 = gap(st, la, ha) + gap(rest, lb, hb)
                    e2 = gap(rest, la, ha) + gap(st, lb, hb)
                    e1[0] = e2[0] = math.inf
                    c = int(np.argmin(np.minimum(e1, e2)))
                    err = float(min(e1[c], e2[c]))
                    if err < closest[0]:
                        closest = (err, (order.copy(), pred.copy(), c, bool(e1[c] <= e2[c])))
                continue
            c = int(cands[self.rng.integers(len(cands))])
            # the subtree under order[c]: mark descendants by walking the BFS order (parents come first)
            inside = np.zeros(m, dtype=bool)
            inside[order[c]] = True
            for v in order[c + 1:].tolist():
                if inside[pred[v]]:
                    inside[v] = True
            sub_nodes, rest_nodes = nodes[inside], nodes[~inside]
            out = (sub_nodes, rest_nodes) if ok1[c] else (rest_nodes, sub_nodes)
            break
        if out is None and closest[1] is not None:
            order, pred, c, sub_is_a = closest[1]
            inside = np.zeros(m, dtype=bool)
            inside[order[c]] = True
            for v in order[c + 1:].tolist():
                if inside[pred[v]]:
                    inside[v] = True
            out = (nodes[inside], nodes[~inside]) if sub_is_a else (nodes[~inside], nodes[inside])
        local[nodes] = -1
        return out

    def tree_split(self, tries: int = 6, leaf_tries: int = 40, widen: float = 1.0, budget: int = 3000,
                   best_effort: bool = False) -> bool:
        """Recursive bisection along random spanning trees: cut a tree edge whose two sides can hold ⌊k/2⌋ and
        ⌈k/2⌉ regions within the bounds, and recurse on each side (the recursive tree partition of DeFord, Duchin &
        Solomon 2021, "Recombination: a family of Markov chains for redistricting", Harvard Data Science Review 3(1)).
        A subtree is connected, so every region is; ``budget`` caps the bisections tried."""
        mid, half = (self.lower + self.upper) / 2, (self.upper - self.lower) / 2 * widen
        lo, hi = mid - half, mid + half
        labels = np.full(self.n, -1)
        calls = [0]
        next_label = [0]

        def split(nodes: np.ndarray, kk: int) -> bool:
            if kk == 1:
                region = set(nodes.tolist())
                if any(j in region for i in region for j in self.apart.get(i, ())):
                    return False
                labels[nodes] = next_label[0]
                next_label[0] += 1
                return True
            k1, k2 = kk // 2, kk - kk // 2
            for _ in range(tries if kk > 2 else 1):
                if calls[0] >= budget:
                    return False
                calls[0] += 1
                cut = self.bisect(nodes, (k1 * lo, k1 * hi), (k2 * lo, k2 * hi), leaf_tries if kk == 2 else 8,
                                  best_effort=best_effort)
                if cut is None:
                    continue
                mark = next_label[0]
                if split(cut[0], k1) and split(cut[1], k2):
                    return True
                labels[nodes] = -1
                next_label[0] = mark
            return False

        if not split(np.arange(self.n), self.k):
            return False
        self.reset(labels)
        return True

    def recombine(self, max_iter: int, deadline: float) -> float:
        """Balance repair by recombination: merge a region outside the bounds with a neighbouring region and cut the
        pair again along a random spanning tree (DeFord, Duchin & Solomon 2021), keeping a cut that does not raise the
        total violation; an excess the pair cannot absorb is passed on to the neighbour's side."""
        V = self.total_violation()
        it = 0
        while V > 1e-9 and it < max_iter and time.perf_counter() < deadline:
            it += 1
            bad = np.flatnonzero((self.P > self.upper) | (self.P < self.lower))
            a = int(bad[self.rng.integers(len(bad))])
            nbr = sorted({int(self.labels[v]) for i in self.members[a] for v in self.nb[i]} - {a})
            if not nbr:
                break
            if self.rng.random() < 0.7:  # mostly the neighbour that best complements a's population
                b = min(nbr, key=lambda r: abs(self.P[a] + self.P[r] - 2 * (self.lower + self.upper) / 2))
            else:
                b = nbr[int(self.rng.integers(len(nbr)))]
            nodes = np.fromiter(self.members[a] | self.members[b], dtype=np.int64)
            total = self.P[a] + self.P[b]
            if 2 * self.lower <= total <= 2 * self.upper:
                ra = (max(self.lower, total - self.upper), min(self.upper, total - self.lower))
                rb = (self.lower, self.upper)
            else:  # one side within the bounds, the other carries the excess (or shortfall) on
                ra, rb = (self.lower, self.upper), (0.0, math.inf)
            cut = self.bisect(nodes, ra, rb, tries=10, best_effort=True)
            if cut is None:
                continue
            side_a, side_b = cut
            old = self.violation_of(self.P[a]) + self.violation_of(self.P[b])
            pa, pb = float(self.pop[side_a].sum()), float(self.pop[side_b].sum())
            new = self.violation_of(pa) + self.violation_of(pb)
            if new > old + 1e-9:
                continue
            sa, sb = set(side_a.tolist()), set(side_b.tolist())
            if any(j in s_ for s_ in (sa, sb) for i in s_ for j in self.apart.get(i, ())):
                continue
            # the side within the bounds keeps a's label when a was the violator, so the excess moves to b
            self.labels[side_a] = a
            self.labels[side_b] = b
            self.members[a], self.members[b] = sa, sb
            self.P[a], self.P[b] = pa, pb
            self.stats[a], self.stats[b] = self.cost.stats(sa), self.cost.stats(sb)
            self.rcost[a] = self.cost.value(self.stats[a], sa)
            self.rcost[b] = self.cost.value(self.stats[b], sb)
            V = self.total_violation()
        return V

    def recom_improve(self, deadline: float, trees: int = 6) -> bool:
        """One pass of recombination as a descent: for each pair of neighbouring regions, merge them, draw random
        spanning trees of the pair and keep the balanced cut with the lowest objective when it beats the current one
        (ReCom of DeFord, Duchin & Solomon 2021, used here to optimise rather than to sample)."""
        eu, ev, local = self._edges()
        pairs = sorted({(min(a, b), max(a, b)) for a, b in zip(self.labels[eu].tolist(), self.labels[ev].tolist(),
                                                                 strict=True) if a != b})
        improved = False
        for idx in self.rng.permutation(len(pairs)).tolist():
            if time.perf_counter() > deadline:
                break
            a, b = pairs[idx]
            nodes = np.fromiter(self.members[a] | self.members[b], dtype=np.int64)
            m = len(nodes)
            local[nodes] = np.arange(m)
            keep = (local[eu] >= 0) & (local[ev] >= 0)
            su, sv = local[eu[keep]].tolist(), local[ev[keep]].tolist()
            pop = self.pop[nodes]
            total = float(pop.sum())
            now = self.rcost[a] + self.rcost[b]
            best = None
            for _ in range(trees):
                order, pred = _random_spanning_tree(m, su, sv, self.rng)
                if len(order) != m:  # the pair no longer touches (an earlier recombination in this pass moved it)
                    break
                sub = pop.copy()
                for v in order[:0:-1].tolist():
                    sub[pred[v]] += sub[v]
                st = sub[order]
                ok = (st >= self.lower) & (st <= self.upper) & (total - st >= self.lower) & (total - st <= self.upper)
                ok[0] = False
                for c in np.flatnonzero(ok)[:4].tolist():
                    inside = np.zeros(m, dtype=bool)
                    inside[order[c]] = True
                    for v in order[c + 1:].tolist():
                        if inside[pred[v]]:
                            inside[v] = True
                    sa, sb = set(nodes[inside].tolist()), set(nodes[~inside].tolist())
                    ta, tb = self.cost.stats(sa), self.cost.stats(sb)
                    ca, cb = self.cost.value(ta, sa), self.cost.value(tb, sb)
                    if ca + cb < now - 1e-9 * max(1.0, abs(now)) and (best is None or ca + cb < best[0]):
                        if any(j in g for g in (sa, sb) for i in g for j in self.apart.get(i, ())):
                            continue
                        best = (ca + cb, sa, sb, ta, tb, ca, cb)
            local[nodes] = -1
            if best is None:
                continue
            _, sa, sb, ta, tb, ca, cb = best
            self.labels[list(sa)] = a
            self.labels[list(sb)] = b
            self.members[a], self.members[b] = sa, sb
            self.P[a], self.P[b] = float(self.pop[list(sa)].sum()), float(self.pop[list(sb)].sum())
            self.stats[a], self.stats[b] = ta, tb
            self.rcost[a], self.rcost[b] = ca, cb
            improved = True
        return improved

    # -- phase 3: balance repair (tabu: the best non-tabu move even when it worsens, the best state kept)
    def repair(self, max_iter):
        tabu: dict[tuple[int, int], int] = {}
        tenure = 10 + self.n // 50
        V = self.total_violation()
        best_v, best_labels, since, stall = V, self.labels.copy(), 0, 5 * tenure + 50
        it = 0
        while V > 1e-9 and it < max_iter:
            it += 1
            best = None
            bad = np.flatnonzero((self.P > self.upper) | (self.P < self.lower)).tolist()
            seen = set()
            for r in bad:
                over = self.P[r] > self.upper
                if over:
                    cands = [(i, r, b) for i in self.members[r] for b in {self.labels[v] for v in self.nb[i]} if b != r]
                else:
                    cands = [
                        (j, self.labels[j], r)
                        for i in self.members[r]
                        for j in self.nb[i]
                        if self.labels[j] != r
                    ]
                for i, a, b in cands:
                    if (i, b) in seen:
                        continue
                    seen.add((i, b))
                    if tabu.get((i, b), -1) >= it:
                        continue
                    pa, pb = self.P[a] - self.pop[i], self.P[b] + self.pop[i]
                    dv = (
                        self.violation_of(pa)
                        + self.violation_of(pb)
                        - self.violation_of(self.P[a])
                        - self.violation_of(self.P[b])
                    )
                    # prefer the larger decrease, then the move that best evens the two populations
                    key = (dv, abs(pa - pb))
                    if best is not None and key >= best[0]:
                        continue
                    if not self.can_join(i, b) or not self.stays_connected(i, a):
                        continue
                    best = (key, i, a, b)
            if best is None:
                break
            _, i, a, b = best
            self.move(i, a, b)
            tabu[(i, a)] = it + tenure
            V = self.total_violation()
            if V < best_v - 1e-9:
                best_v, best_labels, since = V, self.labels.copy(), 0
            else:
                since += 1
                if since > stall:
                    break
        if V > best_v + 1e-9:
            self.reset(best_labels)
            V = best_v
        return V

    # -- phase 4: objective descent
    def improve(self, deadline):
        eps = 1e-9 * max(1.0, float(np.abs(self.rcost).sum()))
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for i in self.rng.permutation(self.n).tolist():
                a = self.labels[i]
                for b in {self.labels[v] for v in self.nb[i]}:
                    if b == a:
                        continue
                    pa, pb = self.P[a] - self.pop[i], self.P[b] + self.pop[i]
                    if pa < self.lower or pb > self.upper:
                        continue
                    d, sa, sb, ca, cb = self.delta(i, a, b)
                    if d >= -eps or not self.can_join(i, b) or not self.stays_connected(i, a):
                        continue
                    self.move(i, a, b, sa, sb, ca, cb)
                    improved = True
                    break
            if not improved:
                improved = self.swap_pass(eps)

    def swap_pass(self, eps):
        """Exchange two boundary units between neighbouring regions when that lowers the objective within bounds."""
        for i in self.rng.permutation(self.n).tolist():
            a = self.labels[i]
            for j in self.nb[i]:
                b = self.labels[j]
                if b == a:
                    continue
                pa = self.P[a] - self.pop[i] + self.pop[j]
                pb = self.P[b] - self.pop[j] + self.pop[i]
                if not (self.lower <= pa <= self.upper and self.lower <= pb <= self.upper):
                    continue
                ma, mb = (self.members[a] - {i}) | {j}, (self.members[b] - {j}) | {i}
                sa = self.cost.add(self.cost.remove(self.stats[a], i), j)
                sb = self.cost.add(self.cost.remove(self.stats[b], j), i)
                ca, cb = self.cost.value(sa, ma), self.cost.value(sb, mb)
                if ca + cb - self.rcost[a] - self.rcost[b] >= -eps:
                    continue
                if not (self.can_join(i, b) and self.can_join(j, a)):
                    continue
                if not (is_connected(ma, self.nb) and is_connected(mb, self.nb)):
                    continue
                for u, x, y in ((i, a, b), (j, b, a)):
                    self.members[x].discard(u)
                    self.members[y].add(u)
                    self.labels[u] = y
                self.P[a], self.P[b] = pa, pb
                self.stats[a], self.stats[b] = sa, sb
                self.rcost[a], self.rcost[b] = ca, cb
                return True
        return False


def _random_spanning_tree(m: int, su: list[int], sv: list[int], rng) -> tuple[np.ndarray, np.ndarray]:
    """A random spanning tree (Kruskal's algorithm on random edge weights, Kruskal 1956) as a breadth-first order
    from a random root and each node's parent (-1 at the root); shorter than m when the graph is not connected."""
    parent = list(range(m))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj: list[list[int]] = [[] for _ in range(m)]
    joined = 0
    for e in rng.permutation(len(su)).tolist():
        a, b = su[e], sv[e]
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            adj[a].append(b)
            adj[b].append(a)
            joined += 1
            if joined == m - 1:
                break
    root = int(rng.integers(m))
    pred = [-1] * m
    seen = [False] * m
    seen[root] = True
    order = [root]
    for u in order:
        for v in adj[u]:
            if not seen[v]:
                seen[v] = True
                pred[v] = u
                order.append(v)
    return np.asarray(order, dtype=np.int64), np.asarray(pred, dtype=np.int64)


class _SSD:
    """Weighted within-region sum of squared deviations, from additive sums (W, S, Q) per region."""

    def __init__(self, x, w):
        self.x, self.w = x, w
        self.wx = x * w[:, None]
        self.wq = w * (x**2).sum(1)

    def stats(self, idx):
        idx = list(idx)
        return (float(self.w[idx].sum()), self.wx[idx].sum(0), float(self.wq[idx].sum()))

    def add(self, s, i):
        return (s[0] + self.w[i], s[1] + self.wx[i], s[2] + self.wq[i])

    def remove(self, s, i):
        return (s[0] - self.w[i], s[1] - self.wx[i], s[2] - self.wq[i])

    def value(self, s, _members):
        return s[2] - float(s[1] @ s[1]) / s[0] if s[0] > 0 else 0.0


class _Travel(_SSD):
    """Population × straight-line distance to the population-weighted centre (not additive: recomputed)."""

    def value(self, s, members):
        if s[0] <= 0:
            return 0.0
        idx = np.fromiter(members, dtype=np.int64)
        c = s[1] / s[0]
        return float((self.w[idx] * np.sqrt(((self.x[idx] - c) ** 2).sum(1))).sum())


def partition(
    nb: list[list[int]],
    population: np.ndarray,
    k: int,
    balance: float,
    coords: np.ndarray,
    features: np.ndarray | None = None,
    objective: str = "need",
    apart: dict[int, set[int]] | None = None,
    seed: int = 0,
    restarts: int = 4,
    time_limit: float = 5.0,
    mean: float | None = None,
    recombine_passes: int = 1,
) -> tuple[np.ndarray, float]:
    """Labels 0..k-1 of k contiguous regions within ±balance of the mean population (or raises), and the objective.

    ``nb``: neighbour lists; ``coords``: km (for seeding, ``compact`` and ``travel``); ``features``: need attributes
    (standardised by the caller) for ``need``. ``mean`` defaults to the total population / k.
    """
    pop = np.asarray(population, float)
    n = len(pop)
    mean = pop.sum() / k if mean is None else mean
    lower, upper = (1 - balance) * mean, (1 + balance) * mean
    if objective == "need":
        cost = _SSD(np.asarray(features, float), np.ones(n))
    elif objective == "compact":
        cost = _SSD(np.asarray(coords, float), pop)
    else:
        cost = _Travel(np.asarray(coords, float), pop)
    t0 = time.perf_counter()
    best: tuple[float, np.ndarray] | None = None
    best_v = math.inf
    rng = np.random.default_rng(seed)
    attempt = -1
    while True:
        attempt += 1
        # `restarts` starts; while none is feasible, keep starting until the time limit
        if attempt >= max(1, restarts) and (best is not None or time.perf_counter() - t0 > time_limit):
            break
        part = _Partition(nb, pop, cost, k, lower, upper, apart or {}, rng)
        v = math.inf
        # strict bounds by recursive tree bisection; else a near-balanced bisection and recombination repair
        if part.tree_split(budget=2 * k):
            v = 0.0
        elif part.tree_split(budget=2 * k, best_effort=True):
            v = part.repair(max_iter=40 * n)
            if v > 1e-9:
                v = part.recombine(max_iter=20 * k, deadline=time.perf_counter() + time_limit / max(1, restarts))
            if v > 1e-9:
                v = part.repair(max_iter=40 * n)
        if not math.isfinite(v):
            part.grow(np.asarray(coords, float))
            if (part.labels < 0).any():
                continue
            v = part.repair(max_iter=40 * n)
        best_v = min(best_v, v)
        if v > 1e-9:
            continue
        part.improve(deadline=t0 + time_limit)
        if recombine_passes and part.recom_improve(deadline=t0 + time_limit):
            part.improve(deadline=t0 + time_limit)
        total = float(part.rcost.sum())
        if best is None or total < best[0]:
            best = (total, part.labels.copy())
        if best is not None and time.perf_counter() - t0 > time_limit * (attempt + 2) / (restarts + 1):
            break
    if best is None:
        raise InfeasibleError(
            f"balance: no {k} contiguous regions within ±{balance:.0%} of the mean population "
            f"({lower:,.0f}–{upper:,.0f}) were found after {attempt} starts (closest: {best_v:,.0f} people outside "
            "the bounds); try a looser balance or a smaller k — the search is heuristic, so this is not a proof"
        )
    return best[1], best[0]


# ------------------------------------------------------------------------------------------------ public entry


def _km(lon, lat):
    return np.c_[lon * KM_PER_DEG_LON_EQ * np.cos(np.radians(53.0)), lat * KM_PER_DEG_LAT]


def _pairs(pairs, codes_set, what) -> list[tuple[str, str]]:
    out = []
    for p in pairs or ():
        parts = p.split(",") if isinstance(p, str) else list(p)
        if len(parts) != 2:
            raise ValidationError(f"{what}: {str(p)[:40]!r} is not a pair of area codes (write 'A,B')")
        a, b = str(parts[0]).strip(), str(parts[1]).strip()
        for c in (a, b):
            if c not in codes_set:
                raise ValidationError(f"{what}: {c} is not one of the areas")
        if a == b:
            raise ValidationError(f"{what}: {a} is paired with itself")
        out.append((a, b))
    return out


def _shares(pops: dict[str, float], k: int, lower: float, upper: float, counts: dict[str, int]) -> dict[str, int]:
    """Split k over groups: each group g needs ceil(P/U) <= k_g <= floor(P/L) (and <= its number of units)."""
    lo = {g: max(1, math.ceil(p / upper - 1e-9)) for g, p in pops.items()}
    hi = {g: min(counts[g], math.floor(p / lower + 1e-9)) for g, p in pops.items()}
    for g in pops:
        if lo[g] > hi[g]:
            raise InfeasibleError(
                f"respect nhs-region: {g} (population {pops[g]:,.0f}) cannot be split into regions of "
                f"{lower:,.0f}–{upper:,.0f} people"
            )
    if sum(lo.values()) > k or sum(hi.values()) < k:
        raise InfeasibleError(
            f"respect nhs-region: with the balance, the NHS regions need between {sum(lo.values())} and "
            f"{sum(hi.values())} regions in all, not {k}"
        )
    total = sum(pops.values())
    share = {g: min(max(k * p / total, lo[g]), hi[g]) for g, p in pops.items()}
    ks = {g: math.floor(share[g]) for g in pops}
    ks = {g: min(max(v, lo[g]), hi[g]) for g, v in ks.items()}
    while sum(ks.values()) < k:
        g = max((g for g in pops if ks[g] < hi[g]), key=lambda g: share[g] - ks[g])
        ks[g] += 1
    while sum(ks.values()) > k:
        g = max((g for g in pops if ks[g] > lo[g]), key=lambda g: ks[g] - share[g])
        ks[g] -= 1
    return ks


def balance_proof(nb: list, pop: np.ndarray, lower: float, upper: float, label) -> str | None:
    """A proof that no contiguous grouping keeps every region within [lower, upper], or None (none found — which
    proves nothing either way).

    Forced companions: a group G of units that must share a region (at first each unit alone) with fewer people
    than ``lower`` shares its region with at least one neighbouring group (the region is connected and larger than
    G), and only with neighbouring groups that fit beside it (pop(G) + pop(H) <= ``upper``). No fitting neighbour:
    G cannot reach the lower bound, a proof. Exactly one: G must join it, and the two become one group. Repeated
    until nothing changes. Sound for any k, keep-apart pairs or boundaries to respect (they only remove options).
    ``label(members)`` names a group of unit indices for the message. Linear in the edges per pass."""
    m = len(pop)
    parent = list(range(m))
    members = {i: [i] for i in range(m)}
    gpop = {i: float(pop[i]) for i in range(m)}
    why: dict[int, list[str]] = {i: [] for i in range(m)}

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    changed = True
    while changed:
        changed = False
        for r in list(members):
            if r not in members or gpop[r] >= lower:
                continue
            near = {root(j) for i in members[r] for j in nb[i]} - {r}
            fit = [g for g in near if gpop[r] + gpop[g] <= upper]
            if len(fit) > 1:
                continue
            if not fit:
                reasons = [w for g in sorted(near | {r}) for w in why[g]]
                others = "; ".join(f"{label(members[g])} ({gpop[g]:,.0f})" for g in sorted(near, key=gpop.get))
                return ((" ".join(reasons) + " Then " if reasons else "") +
                        f"{label(members[r])} ({gpop[r]:,.0f} people) is below the lower bound {lower:,.0f}, and "
                        f"joining any neighbour would take it above the upper bound {upper:,.0f}: {others}.")
            g = fit[0]
            text = (f"{label(members[r])} ({gpop[r]:,.0f} people) can reach the lower bound {lower:,.0f} only "
                    f"with {label(members[g])} ({gpop[g]:,.0f}).")
            parent[g] = r
            members[r] += members.pop(g)
            gpop[r] += gpop.pop(g)
            why[r] += why.pop(g) + [text]
            changed = True
    return None


def design_regions(
    areas: Areas,
    k: int,
    balance: float = 0.05,
    objective: str = "need",
    respect: str | None = None,
    together=(),
    apart=(),
    seed: int = 0,
    restarts: int = 4,
    time_limit: float = 5.0,
) -> RegionPlan:
    """Group ``areas`` into exactly ``k`` contiguous regions, each within ±``balance`` of the mean population.

    Raises :class:`InfeasibleError` naming the binding constraint (balance, keep-together/apart, respect) and
    :class:`ValidationError` for bad options.
    """
    t0 = time.perf_counter()
    f = areas.frame
    codes = list(f.index)
    n = len(codes)
    if objective not in OBJECTIVES:
        raise ValidationError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    if respect is not None and respect not in RESPECT:
        raise ValidationError(f"respect must be one of {', '.join(RESPECT)}, not {respect!r}")
    if not 0 < balance < 1:
        raise ValidationError(f"balance must be a fraction between 0 and 1 (0.05 = ±5%), not {balance}")
    if not 1 <= k <= n:
        raise InfeasibleError(f"k: {k} regions from {n} areas is impossible (1 to {n})")
    at = {c: i for i, c in enumerate(codes)}
    tog = _pairs(together, set(codes), "keep together")
    apa = _pairs(apart, set(codes), "keep apart")
    pop = f["population"].to_numpy(float)
    mean = pop.sum() / k
    lower, upper = (1 - balance) * mean, (1 + balance) * mean
    nb_area = areas.contiguity.neighbours()

    # units: union-find over keep-together pairs
    parent = list(range(n))

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in tog:
        parent[root(at[a])] = root(at[b])
    roots = sorted({root(i) for i in range(n)})
    rid = {r: u for u, r in enumerate(roots)}
    unit_of = np.array([rid[root(i)] for i in range(n)])
    m = len(roots)
    upop = np.bincount(unit_of, weights=pop, minlength=m)
    for a, b in apa:
        if unit_of[at[a]] == unit_of[at[b]]:
            raise InfeasibleError(
                f"keep apart {a},{b} contradicts keep together (the together pairs join them in one unit)"
            )
    big = int(np.argmax(upop))
    if upop[big] > upper:
        who = [codes[i] for i in np.flatnonzero(unit_of == big)]
        what = f"area {who[0]}" if len(who) == 1 else f"keep-together group {','.join(who)}"
        raise InfeasibleError(
            f"balance: {what} alone has {upop[big]:,.0f} people, above the upper bound {upper:,.0f} "
            f"(mean {mean:,.0f} +{balance:.0%}); use a smaller k or a looser balance"
        )
    if m < k:
        raise InfeasibleError(f"keep together: the pairs leave {m} units, fewer than k = {k}")
    unb = [set() for _ in range(m)]
    for i in range(n):
        for j in nb_area[i]:
            if unit_of[i] != unit_of[j]:
                unb[unit_of[i]].add(int(unit_of[j]))
    names = f["name"] if "name" in f.columns else pd.Series(codes, index=f.index)

    def _label(units: list[int]) -> str:
        areas_in = [i for u in units for i in np.flatnonzero(unit_of == u)]
        shown = " + ".join(f"{names.iloc[i]} ({codes[i]})" for i in areas_in[:4])
        return shown + (f" + {len(areas_in) - 4} more" if len(areas_in) > 4 else "")

    proof = balance_proof(unb, upop, lower, upper, _label)
    if proof:
        raise InfeasibleError(f"balance: no {k} contiguous regions within ±{balance:.0%} of the mean population "
                              f"exist (a proof, not a search result). {proof}")
    coords_area = _km(f["lon"].to_numpy(float), f["lat"].to_numpy(float))
    feats_area = f[["imd_score", "pct_65_plus"]].to_numpy(float)
    sd = feats_area.std(0)
    feats_area = (feats_area - feats_area.mean(0)) / np.where(sd > 0, sd, 1.0)  # a constant attribute stays 0
    w = np.maximum(upop, 1e-12)
    ucoords = np.vstack([np.bincount(unit_of, weights=pop * coords_area[:, d], minlength=m) / w for d in range(2)]).T
    # need: a unit of several areas contributes each area's standardised values; the unit carries their mean with
    # weight = its number of areas, which keeps the sum of squares exact up to the within-unit spread (a constant)
    ucount = np.bincount(unit_of, minlength=m).astype(float)
    ufeats = np.vstack([np.bincount(unit_of, weights=feats_area[:, d], minlength=m) / ucount for d in range(2)]).T
    uapart: dict[int, set[int]] = {}
    for a, b in apa:
        ua, ub = int(unit_of[at[a]]), int(unit_of[at[b]])
        uapart.setdefault(ua, set()).add(ub)
        uapart.setdefault(ub, set()).add(ua)

    groups = {"England": np.arange(m)}
    if respect == "nhs-region":
        ureg = {}
        for i in range(n):
            ureg.setdefault(int(unit_of[i]), set()).add(f["nhs_region"].iloc[i])
        for u, rs in ureg.items():
            if len(rs) > 1:
                who = [codes[i] for i in np.flatnonzero(unit_of == u)]
                raise InfeasibleError(f"respect nhs-region: keep together {','.join(who)} crosses NHS regions")
        ug = np.array([next(iter(ureg[u])) for u in range(m)], dtype=object)
        groups = {g: np.flatnonzero(ug == g) for g in sorted(set(ug))}
    ks = (
        {"England": k}
        if len(groups) == 1
        else _shares(
            {g: float(upop[idx].sum()) for g, idx in groups.items()}, k, lower, upper,
            {g: len(idx) for g, idx in groups.items()},
        )
    )
    labels = np.full(m, -1)
    next_label = 0
    budget = time_limit / max(1, len(groups))
    for g, idx in groups.items():
        local = {int(u): t for t, u in enumerate(idx)}
        lnb = [[local[v] for v in unb[u] if v in local] for u in idx.tolist()]
        lap = {local[u]: {local[v] for v in vs if v in local} for u, vs in uapart.items() if u in local}
        if not is_connected(set(range(len(idx))), lnb):
            raise InfeasibleError(f"respect nhs-region: the areas of {g} are not contiguous with each other")
        if ks[g] == 1:
            lab = np.zeros(len(idx), dtype=int)
        else:
            try:
                ucoef = ucount[idx] if objective == "need" else None
                lab, _ = partition(
                    lnb, upop[idx], ks[g], balance, ucoords[idx],
                    features=ufeats[idx] * (np.sqrt(ucoef)[:, None] if ucoef is not None else 1.0),
                    objective=objective, apart=lap, seed=seed, restarts=restarts, time_limit=budget, mean=mean,
                )
            except InfeasibleError as e:
                if len(groups) > 1:
                    raise InfeasibleError(f"{e} (in {g}, which has {ks[g]} of the regions)") from None
                raise
        labels[idx] = lab + next_label
        next_label += ks[g]
    area_labels = labels[unit_of]

    # check what the search promised, at area level
    plan_regions = []
    for r in range(k):
        mem = np.flatnonzero(area_labels == r)
        if not is_connected(set(mem.tolist()), nb_area):
            raise InfeasibleError(
                "keep together: a pair of areas that do not touch could not be joined in one contiguous region"
            )
        plan_regions.append(mem)
    for a, b in apa:
        if area_labels[at[a]] == area_labels[at[b]]:
            raise InfeasibleError(f"keep apart {a},{b}: no balanced contiguous grouping keeping them apart was found")
    return _report(areas, plan_regions, k, balance, objective, respect, tog, apa, mean, lower, upper,
                   coords_area, feats_area, time.perf_counter() - t0)


def _report(areas, plan_regions, k, balance, objective, respect, tog, apa, mean, lower, upper, coords, feats,
            seconds) -> RegionPlan:
    f = areas.frame
    codes = list(f.index)
    pop = f["population"].to_numpy(float)
    regions = []
    label = np.empty(len(codes), dtype=int)
    for r, mem in enumerate(plan_regions):
        label[mem] = r
    for r, mem in enumerate(plan_regions):
        p = pop[mem]
        P = float(p.sum())
        wts = p / P if P > 0 else np.full(len(mem), 1 / len(mem))
        c = (coords[mem] * wts[:, None]).sum(0)
        d = np.sqrt(((coords[mem] - c) ** 2).sum(1))
        if objective == "need":
            x = feats[mem]
            val = float(((x - x.mean(0)) ** 2).sum())
        elif objective == "compact":
            val = float((p * d**2).sum())
        else:
            val = float((p * d).sum())
        comp = None
        if areas.geoms is not None:
            comp = _polsby_popper([areas.geoms[i] for i in mem])
        lon = float((f["lon"].to_numpy()[mem] * wts).sum())
        lat = float((f["lat"].to_numpy()[mem] * wts).sum())
        regions.append(
            Region(
                number=r + 1,
                members=[codes[i] for i in mem],
                population=P,
                imd_score=round(float((f["imd_score"].to_numpy()[mem] * wts).sum()), 2),
                pct_65_plus=round(float((f["pct_65_plus"].to_numpy()[mem] * wts).sum()), 2),
                compactness=None if comp is None else round(comp, 3),
                mean_km_to_centre=round(float((wts * d).sum()), 1),
                objective=val,
                centre_lon=lon,
                centre_lat=lat,
                nhs_regions=sorted({str(x) for x in f["nhs_region"].to_numpy()[mem]}),
            )
        )
    # report regions largest population first, numbered in that order
    regions.sort(key=lambda g: -g.population)
    for i, g in enumerate(regions, 1):
        g.number = i
    used = [x for x in areas.contiguity.crossings if label[codes.index(x.a)] == label[codes.index(x.b)]]
    notes = [
        f"{x.a} joins {x.b} across {x.km} km of water (no shared land boundary): the shortest crossing"
        for x in used
    ]
    pops = np.array([g.population for g in regions])
    return RegionPlan(
        areas=areas.kind,
        k=k,
        balance=balance,
        objective=objective,
        objective_value=float(sum(g.objective for g in regions)),
        mean_population=float(mean),
        lower=float(lower),
        upper=float(upper),
        largest_over_mean=float(pops.max() / mean),
        smallest_over_mean=float(pops.min() / mean),
        regions=regions,
        crossings=used,
        respect=respect,
        together=tog,
        apart=apa,
        seconds=round(seconds, 3),
        notes=notes,
    )


def _polsby_popper(geoms) -> float:
    """4πA/P² of the union (Polsby & Popper 1991, Yale Law & Policy Review 9(2)), lon scaled by cos 53° first."""
    from shapely import affinity
    from shapely.ops import unary_union

    u = affinity.scale(unary_union(geoms), xfact=math.cos(math.radians(53.0)), yfact=1.0, origin=(0, 0))
    return float(4 * math.pi * u.area / u.length**2) if u.length > 0 else 0.0
