"""design.regions on synthetic grids: exactly k contiguous regions within the balance, constraints kept, and an
InfeasibleError that names the binding constraint (issue #12 s.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.design.contiguity import Contiguity, is_connected
from partnering.design.regions import Areas, design_regions, partition
from partnering.errors import InfeasibleError

pytestmark = pytest.mark.unit


def grid(rows: int, cols: int):
    nb = [[] for _ in range(rows * cols)]
    edges = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for j in ([i + 1] if c + 1 < cols else []) + ([i + cols] if r + 1 < rows else []):
                nb[i].append(j)
                nb[j].append(i)
                edges.append((i, j))
    return nb, edges


def grid_areas(rows, cols, pop=None, imd=None, region=None) -> Areas:
    n = rows * cols
    codes = [f"A{i:03d}" for i in range(n)]
    _, edges = grid(rows, cols)
    frame = pd.DataFrame(
        {
            "name": codes,
            "population": np.full(n, 1000.0) if pop is None else np.asarray(pop, float),
            "lon": np.tile(np.arange(cols), rows) * 0.1,
            "lat": 52 + np.repeat(np.arange(rows), cols) * 0.1,
            "imd_score": np.zeros(n) if imd is None else np.asarray(imd, float),
            "pct_65_plus": np.full(n, 18.0),
            "nhs_region": ["R1"] * n if region is None else region,
        },
        index=pd.Index(codes, name="code"),
    )
    cont = Contiguity(codes=codes, edges=[(codes[a], codes[b], 1.0) for a, b in edges])
    return Areas(kind="grid", frame=frame, contiguity=cont)


@pytest.mark.parametrize("k", [2, 5, 12])
def test_partition_gives_k_contiguous_balanced_regions(k):
    rng = np.random.default_rng(3)
    nb, _ = grid(12, 10)
    pop = rng.uniform(500, 1500, 120)
    coords = np.c_[np.repeat(np.arange(12), 10), np.tile(np.arange(10), 12)] * 5.0
    labels, _ = partition(nb, pop, k, 0.05, coords, rng.normal(size=(120, 2)), "need", seed=1, time_limit=2.0)
    assert sorted(set(labels.tolist())) == list(range(k))
    mean = pop.sum() / k
    for r in range(k):
        members = np.flatnonzero(labels == r)
        assert is_connected(set(members.tolist()), nb)
        assert 0.95 * mean <= pop[members].sum() <= 1.05 * mean


def test_need_objective_finds_the_homogeneous_split():
    # left half deprived (IMD 40), right half not (IMD 10), equal populations: two regions, one per half, have
    # zero within-region spread; any other balanced split mixes them
    imd = np.tile([40.0] * 4 + [10.0] * 4, 6)
    plan = design_regions(grid_areas(6, 8, imd=imd), 2, balance=0.05, objective="need", seed=0)
    assert plan.objective_value == pytest.approx(0.0, abs=1e-9)
    assert sorted(r.imd_score for r in plan.regions) == [10.0, 40.0]


def test_report_counts_each_area_once_with_its_population():
    pop = np.arange(1, 37) * 100.0
    plan = design_regions(grid_areas(6, 6, pop=pop), 3, balance=0.1)
    members = [m for r in plan.regions for m in r.members]
    assert sorted(members) == [f"A{i:03d}" for i in range(36)]
    for r in plan.regions:
        assert r.population == pytest.approx(sum(pop[int(m[1:])] for m in r.members))
    assert plan.largest_over_mean <= 1.1 + 1e-9 and plan.smallest_over_mean >= 0.9 - 1e-9


def test_keep_together_and_apart_are_kept():
    areas = grid_areas(6, 6)
    plan = design_regions(areas, 4, balance=0.1, together=["A000,A001", "A014,A015"], apart=["A000,A005"])
    lab = plan.labels()
    assert lab["A000"] == lab["A001"] and lab["A014"] == lab["A015"]
    assert lab["A000"] != lab["A005"]


def test_respect_keeps_each_region_inside_one_existing_region():
    region = ["North" if i < 24 else "South" for i in range(48)]  # top 4 rows of 8 x 6
    plan = design_regions(grid_areas(8, 6, region=region), 4, balance=0.1, respect="nhs-region")
    assert all(len(r.nhs_regions) == 1 for r in plan.regions)


def test_an_area_too_big_for_the_balance_is_named():
    pop = np.full(36, 1000.0)
    pop[7] = 20000.0  # mean with k=6 is 9,167: A007 alone is above +5%
    with pytest.raises(InfeasibleError, match=r"balance: area A007 alone has 20,000 people"):
        design_regions(grid_areas(6, 6, pop=pop), 6, balance=0.05)


def test_too_many_regions_and_contradictions_are_named():
    areas = grid_areas(3, 3)
    with pytest.raises(InfeasibleError, match=r"^k: 10 regions from 9 areas"):
        design_regions(areas, 10)
    with pytest.raises(InfeasibleError, match="keep apart A000,A002 contradicts keep together"):
        design_regions(areas, 3, together=["A000,A001", "A001,A002"], apart=["A000,A002"])


def test_respect_that_cannot_balance_names_the_region():
    # 4 regions of 10,000 +-5%: 'Small' (9,000 people) is too small for one region and too big for none, while
    # 'Big' (31,000) could hold three
    region = ["Small" if i < 6 else "Big" for i in range(36)]
    areas = grid_areas(6, 6, region=region, pop=[1500.0] * 6 + [31000.0 / 30] * 30)
    with pytest.raises(InfeasibleError, match=r"respect nhs-region: Small \(population 9,000\) cannot be split"):
        design_regions(areas, 4, balance=0.05, respect="nhs-region")
    assert design_regions(areas, 4, balance=0.05).k == 4  # without the boundary the same request is feasible


def test_a_keep_apart_entry_that_is_not_a_pair_is_refused_with_the_reason():
    from partnering.design.regions import _pairs
    from partnering.errors import ValidationError

    with pytest.raises(ValidationError, match="'vintage' is not a pair of area codes"):
        _pairs(["vintage"], {"A", "B"}, "keep apart")
    assert _pairs(["A, B"], {"A", "B"}, "keep apart") == [("A", "B")]


# ------------------------------------------------------------------------------------------------ balance proof


def test_forced_companions_prove_a_balance_impossible():
    """A path A-C-B-D-E (5, 3, 5, 6, 1 people) into 2 regions within ±5% (9.5 to 10.5): A must join C (its only
    neighbour), and A+C (8) cannot take B (13): no split exists (prefix sums 5, 8, 13, 19), and the error says
    it is a proof, with the chain of reasons."""
    areas = grid_areas(1, 5, pop=[5, 3, 5, 6, 1])
    with pytest.raises(InfeasibleError, match=r"exist \(a proof, not a search result\)\. A000 \(A000\) \(5 people\) "
                                              r"can reach the lower bound 10 only with A001 \(A001\) \(3\)\. Then "
                                              r"A002 \(A002\) \(5 people\) is below the lower bound 10, and joining "
                                              r"any neighbour would take it above the upper bound 10: A003 \(A003\) "
                                              r"\(6\); A000 \(A000\) \+ A001 \(A001\) \(8\)\."):
        design_regions(areas, 2, balance=0.05)


def test_balance_proof_finds_nothing_where_a_grouping_exists():
    from partnering.design.regions import balance_proof

    nb, _ = grid(6, 6)
    assert balance_proof(nb, np.full(36, 1000.0), 5700.0, 6300.0, str) is None  # 6 regions of 6 areas exist


@pytest.mark.parametrize("shape,k", [((2, 4), 2), ((2, 4), 3), ((1, 8), 2), ((1, 8), 3)])
def test_balance_proof_is_never_wrong_against_brute_force(shape, k):
    """On 150 random 8-area maps (a 2 x 4 grid or a path; populations 1-29, balance 2-25%), every instance the
    proof calls impossible has no k contiguous regions within the bounds, by enumerating every labelling."""
    import itertools

    from partnering.design.regions import balance_proof

    nb, _ = grid(*shape)
    labels = np.array(list(itertools.product(range(k), repeat=8)))
    labels = labels[np.all([np.any(labels == r, axis=1) for r in range(k)], axis=0)]  # exactly k regions
    rng = np.random.default_rng(7)
    proofs = 0
    for _ in range(150):
        pop = rng.integers(1, 30, size=8).astype(float)
        b = rng.uniform(0.02, 0.25)
        mean = pop.sum() / k
        lo, hi = (1 - b) * mean, (1 + b) * mean
        sums = np.stack([(labels == r) @ pop for r in range(k)], axis=1)
        ok = labels[np.all((sums >= lo) & (sums <= hi), axis=1)]
        feasible = any(all(is_connected(set(np.flatnonzero(row == r).tolist()), nb) for r in range(k)) for row in ok)
        if balance_proof(nb, pop, lo, hi, str) is not None:
            proofs += 1
            assert not feasible, (pop, b)
    assert proofs >= 1  # the test exercises the proof, not only its silence (1 to 103 proofs per case)
