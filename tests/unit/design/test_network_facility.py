"""design.facility: p-median, maximal coverage and p-centre against brute force on small instances; the proven bound
is never above the optimum (issue #12 s.2)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from partnering.design import facility
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit


def instance(seed: int, n: int = 40, m: int = 9):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    return d, rng.integers(1, 100, n).astype(float)


def brute(d, w, p, value, locked=()):
    best = None
    for combo in itertools.combinations(range(d.shape[1]), p):
        if not set(locked) <= set(combo):
            continue
        v = value(d[:, list(combo)])
        best = v if best is None else min(best, v)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_p_median_reaches_the_brute_force_optimum_and_the_bound_is_below_it(seed):
    d, w = instance(seed)
    opt = brute(d, w, 3, lambda s: float((s.min(axis=1) * w).sum()))
    sol = facility.p_median(d, w, 3, gap_target=1e-6)
    assert sol.objective == pytest.approx(opt, rel=1e-9)
    assert sol.bound <= opt * (1 + 1e-9)
    assert len(sol.open) == 3


def test_lagrangian_bound_is_valid_even_when_stopped_early():
    d, w = instance(7, n=60, m=12)
    opt = brute(d, w, 4, lambda s: float((s.min(axis=1) * w).sum()))
    sol = facility.p_median_lagrangian(d, w, 4, max_iter=3, local_search=False)
    assert sol.bound <= opt * (1 + 1e-9)
    assert sol.objective >= opt * (1 - 1e-9)
    assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective)


def test_locked_sites_stay_open():
    d, w = instance(4)
    opt = brute(d, w, 3, lambda s: float((s.min(axis=1) * w).sum()), locked=(0,))
    sol = facility.p_median(d, w, 3, np.eye(1, 9, 0, dtype=bool).ravel(), gap_target=1e-6)
    assert 0 in sol.open
    assert sol.objective == pytest.approx(opt, rel=1e-9)


def test_max_coverage_matches_brute_force():
    d, w = instance(5)
    best = -brute(d, w, 3, lambda s: -float(w[(s <= 25).any(axis=1)].sum()))
    sol = facility.max_coverage(d, w, 3, 25.0)
    assert sol.objective == pytest.approx(best)
    assert sol.gap == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", range(10, 22))
def test_max_coverage_branch_and_bound_matches_brute_force_with_locks_and_ties(seed):
    rng = np.random.default_rng(seed)
    d, w = instance(seed, n=int(rng.integers(20, 70)), m=int(rng.integers(6, 11)))
    if seed % 3 == 0:
        w = np.ones_like(w)  # many equal covers: ties everywhere
    p, within = int(rng.integers(1, 5)), float(rng.uniform(10, 40))
    locked = (int(rng.integers(0, d.shape[1])),) if seed % 2 else ()
    lock = np.isin(np.arange(d.shape[1]), locked)
    best = -brute(d, w, p, lambda s: -float(w[(s <= within).any(axis=1)].sum()), locked=locked)
    # max_nodes=0 sends every third instance straight on to HiGHS's MIP (the path hard instances take)
    sol = facility.max_coverage(d, w, p, within, lock, max_nodes=0 if seed % 3 == 1 else 300)
    assert sol.objective == pytest.approx(best)
    assert sol.status == "optimal" and sol.bound == pytest.approx(best)
    assert len(sol.open) == p and set(locked) <= set(sol.open.tolist())
    assert float(w[(d[:, sol.open] <= within).any(axis=1)].sum()) == pytest.approx(sol.objective)


def test_max_coverage_equals_the_highs_mip_on_a_larger_instance():
    # The branch and bound against HiGHS's MIP of the same Church-ReVelle model (y binary, z continuous).
    import scipy.sparse as sp

    d, w = instance(31, n=600, m=60)
    p, within = 12, 12.0
    sol = facility.max_coverage(d, w, p, within)
    cover = d <= within
    n, m = cover.shape
    r, cc = np.nonzero(cover)
    A = sp.csr_matrix((np.concatenate([np.ones(n), -np.ones(len(r)), np.ones(m)]),
                       (np.concatenate([np.arange(n), r, np.full(m, n)]),
                        np.concatenate([m + np.arange(n), cc, np.arange(m)]))), shape=(n + 1, m + n))
    integer = np.concatenate([np.ones(m, dtype=bool), np.zeros(n, dtype=bool)])
    _, obj, bound, status = facility._highs_solve(np.concatenate([np.zeros(m), w]), A,
                                                   np.concatenate([np.full(n, -np.inf), [p]]),
                                                   np.concatenate([np.zeros(n), [p]]), np.zeros(m + n),
                                                   np.ones(m + n), integer, sense="max", mip_gap=0.0)
    assert status == "Optimal"
    assert sol.objective == pytest.approx(obj) and sol.status == "optimal"


def test_max_coverage_when_nothing_can_be_reached():
    d, w = instance(3)
    sol = facility.max_coverage(d, w, 2, 0.5)
    assert sol.objective == 0.0 and len(sol.open) == 2


def test_p_centre_matches_brute_force():
    d, _ = instance(6)
    best = brute(d, None, 3, lambda s: float(s.min(axis=1).max()))
    sol = facility.p_centre(d, 3)
    assert sol.objective == pytest.approx(best)
    assert sol.status == "optimal"


def test_capacitated_mip_respects_capacity_and_workforce_minimum():
    d, w = instance(8, n=30, m=6)
    cap = np.full(6, w.sum() / 2.5)  # at least 3 hubs' worth of capacity needed
    staff = np.array([4, 2, 3, 1, 5, 2], dtype=float)
    sol = facility.p_median_mip(d, w, 3, capacity=cap, staff=staff, min_staff=5, time_limit=20)
    load = np.asarray(sol.flows.T @ w).ravel()
    assert np.all(load[sol.open] <= cap[sol.open] * (1 + 1e-6))
    pooled = np.bincount(sol.staff_hub, weights=staff, minlength=6)
    assert np.all(pooled[sol.open] >= 5 - 1e-6)
    assert set(sol.staff_hub) <= set(sol.open)
    uncap = brute(d, w, 3, lambda s: float((s.min(axis=1) * w).sum()))
    assert sol.objective >= uncap * (1 - 1e-9)  # constraints can only cost travel


def test_too_many_locked_sites_is_refused():
    d, w = instance(0)
    with pytest.raises(ValidationError):
        facility.p_median(d, w, 1, np.array([True, True] + [False] * 7))


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_truncated_nearest_lists_keep_the_bound_valid_and_reach_the_optimum(seed):
    # each row keeps only its 3 nearest of 10 sites: the bound must stay below the brute-force optimum and the
    # swap scoring (exact for rows whose two nearest open sites are listed, full rows otherwise) must still find it
    d, w = instance(seed, n=60, m=10)
    opt = brute(d, w, 3, lambda s: float((s.min(axis=1) * w).sum()))
    sol = facility.p_median_lagrangian(d, w, 3, gap_target=1e-9, nearest=3, search_every=2)
    assert sol.bound <= opt * (1 + 1e-9)
    assert sol.objective == pytest.approx(opt, rel=1e-9)


def test_swap_scores_equal_recomputed_totals():
    # the one-round improvement predicted by the sparse scoring equals the recomputed total after the swap
    d, w = instance(13, n=80, m=12)
    cost = d * w[:, None]
    start = np.array([0, 1, 2])
    near_idx = np.argsort(cost, axis=1)[:, :4]
    near_cost = np.take_along_axis(cost, near_idx, axis=1)
    cap = np.sort(cost, axis=1)[:, 4]
    opened, total, rounds = facility.vertex_substitution(cost, start, np.zeros(12, dtype=bool), max_rounds=1,
                                                         near=(near_idx, near_cost, cap))
    assert rounds == 1
    assert total == pytest.approx(float(cost[:, opened].min(axis=1).sum()))
    best_swap = min(float(cost[:, sorted(set(start) - {f} | {j})].min(axis=1).sum())
                    for f in start for j in range(12) if j not in start)
    assert total == pytest.approx(min(best_swap, float(cost[:, start].min(axis=1).sum())))


@pytest.mark.parametrize("listed", [12, 4, 2])
def test_every_swap_score_equals_the_recomputed_total(listed):
    # dense (12 of 12 sites listed) and truncated lists (4 or 2 nearest): each predicted change equals the change
    # recomputed from scratch, including rows whose two nearest open sites are not in their list
    d, w = instance(14, n=50, m=12)
    cost = d * w[:, None]
    start = np.array([0, 3, 7])
    near_idx = np.argsort(cost, axis=1)[:, :listed]
    near_cost = np.take_along_axis(cost, near_idx, axis=1)
    cap = np.sort(cost, axis=1)[:, listed] if listed < 12 else np.full(50, np.inf)
    delta = facility.swap_deltas(cost, start, near=(near_idx, near_cost, cap))
    before = float(cost[:, start].min(axis=1).sum())
    for a, f in enumerate(start):
        for j in range(12):
            if j in start:
                continue
            after = float(cost[:, sorted(set(start) - {f} | {j})].min(axis=1).sum())
            assert delta[a, j] == pytest.approx(after - before, rel=1e-9, abs=1e-6)
