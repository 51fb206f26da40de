"""Facility-location solvers on a demand x site travel matrix: p-median, maximal coverage and p-centre.

Numeric cores only (numpy arrays in, arrays out); :mod:`partnering.design.network` wraps them with NHS data,
workforce, equity and reporting.  Every solver returns a :class:`Solution` carrying the objective, a *proven* lower
(or upper, when maximising) bound and the relative gap between them: a label such as "optimal" is never taken on
trust — the HiGHS status, objective and dual bound are read back and the gap is recomputed here.

Methods and their sources
- **p-median** (Hakimi 1964, "Optimum distribution of switching centers in a communication network and some
  related graph theoretic problems", Operations Research 12(3):450-459; integer formulation of ReVelle & Swain 1970,
  "Central facilities location", Geographical Analysis 2(1):30-42): minimise population-weighted travel with exactly
  p sites open.  Solved by :func:`p_median_lagrangian` — Lagrangian relaxation of the assignment constraints with
  subgradient optimisation (Beasley 1993, "Lagrangean heuristics for location problems", European Journal of
  Operational Research 65(3):383-399; step rule of Held, Wolfe & Crowder 1974, Mathematical Programming 6:62-88),
  whose every iterate gives a proven lower bound, and whose primal sites are improved by vertex substitution
  (Teitz & Bart 1968, "Heuristic methods for estimating the generalized vertex median of a weighted graph",
  Operations Research 16(5):955-961) evaluated for all swaps at once in the manner of Whitaker's fast interchange
  (Whitaker 1983, "A fast algorithm for the greedy interchange for large-scale clustering and median location
  problems", INFOR 21(2):95-108).  When the gap is above the target and the instance is small enough, the exact
  ReVelle-Swain MIP is solved by HiGHS (Huangfu & Hall 2018, Mathematical Programming Computation 10:119-142)
  from the heuristic's sites.
- **capacitated p-median with a minimum workforce per hub**: the ReVelle-Swain MIP with capacity rows
  ``sum_i w_i x_ij <= cap_j y_j`` and, for the workforce, each site's consultants assigned to one open hub with
  ``sum_k s_k u_kj >= W y_j``; demand may be split between hubs (a continuous x).  For large instances each demand
  point may use only its ``nearest`` sites (a restriction: the objective is then an upper bound of the full
  problem); the lower bound reported is the larger of HiGHS's dual bound (only when nothing was restricted) and the
  uncapacitated Lagrangian bound, both valid for the full problem, so the gap stays honest.
- **maximal coverage** (Church & ReVelle 1974, "The maximal covering location problem", Papers of the Regional
  Science Association 32:101-118): maximise the population within T minutes of an open site, p sites.
- **p-centre** (Hakimi 1964/1965; solved as a sequence of set-covering problems over the sorted distinct travel
  times, the approach of Minieka 1970, "The m-center problem", SIAM Review 12(1):138-139): minimise the longest
  trip of any demand point.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from partnering.errors import ValidationError


@dataclass
class Solution:
    """One solved instance.  ``open`` are site column indices; ``assign`` the site index serving each demand row.

    ``objective`` is the value of ``open``; ``bound`` is a proven bound on the optimum (lower when minimising,
    upper when maximising); ``gap = |objective - bound| / max(|objective|, tiny)``: 0 means proven optimal.
    """

    model: str
    open: np.ndarray
    assign: np.ndarray
    objective: float
    bound: float
    gap: float
    method: str
    status: str
    seconds: float
    iterations: int = 0
    notes: list[str] = field(default_factory=list)
    flows: sp.csr_matrix | None = None  # capacitated: share of each demand row served by each site (rows sum to 1)
    staff_hub: np.ndarray | None = None  # workforce: the open site each site's consultants join


def relative_gap(objective: float, bound: float) -> float:
    return abs(objective - bound) / max(abs(objective), 1e-12)


def _check(minutes: np.ndarray, p: int, locked: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    minutes = np.asarray(minutes, dtype=float)
    if minutes.ndim != 2 or minutes.shape[0] == 0 or minutes.shape[1] == 0:
        raise ValidationError("the travel matrix must be demand points x sites, both non-empty")
    if not np.all(np.isfinite(minutes)):
        raise ValidationError("the travel matrix has missing or infinite times")
    m = minutes.shape[1]
    lock = np.zeros(m, dtype=bool) if locked is None else np.asarray(locked, dtype=bool)
    if lock.shape != (m,):
        raise ValidationError("locked must have one entry per site")
    if not 1 <= p <= m:
        raise ValidationError(f"p must be between 1 and the number of sites ({m}), got {p}")
    if lock.sum() > p:
        raise ValidationError(f"{int(lock.sum())} sites are locked open but only p = {p} may open")
    return minutes, lock


# ------------------------------------------------------------------------------------------------ p-median


def _assign_cost(cost: np.ndarray, open_idx: np.ndarray) -> tuple[float, np.ndarray]:
    sub = cost[:, open_idx]
    k = sub.argmin(axis=1)
    return float(sub[np.arange(cost.shape[0]), k].sum()), open_idx[k]


def _two_nearest_open(cost, near_idx, near_cost, is_open):
    """Each row's nearest and second-nearest open site and costs, from its sorted nearest list where it holds
    them, else from the full row."""
    n = cost.shape[0]
    r = np.arange(n)
    hit = is_open[near_idx]
    c1 = hit.argmax(axis=1)
    ok1 = hit[r, c1]
    hit2 = hit.copy()
    hit2[r, c1] = False
    c2 = hit2.argmax(axis=1)
    ok2 = hit2[r, c2] & ok1
    a1, d1 = near_idx[r, c1].copy(), near_cost[r, c1].copy()
    d2 = near_cost[r, c2].copy()
    bad = np.flatnonzero(~ok2)
    if len(bad):
        open_idx = np.flatnonzero(is_open)
        sub = cost[np.ix_(bad, open_idx)]
        if len(open_idx) == 1:
            a1[bad], d1[bad], d2[bad] = open_idx[0], sub[:, 0], np.inf
        else:
            part = np.argpartition(sub, 1, axis=1)[:, :2]
            v = sub[np.arange(len(bad))[:, None], part]
            first = v.argmin(axis=1)
            a1[bad] = open_idx[part[np.arange(len(bad)), first]]
            d1[bad] = v[np.arange(len(bad)), first]
            d2[bad] = v[np.arange(len(bad)), 1 - first]
    return a1, d1, d2


def _deltas(cost, open_idx, a1, d1, d2, rows_k, flat_j, flat_c, cap) -> np.ndarray:
    """Change of the total for every (leaving open site, entering site) pair; see :func:`vertex_substitution`."""
    n, m = cost.shape
    pos = np.full(m, -1)
    pos[open_idx] = np.arange(len(open_idx))
    full = np.flatnonzero((d2 > cap) | ~np.isfinite(d2))  # second-nearest open site beyond the list (or none)
    part = np.ones(n, dtype=bool)
    part[full] = False
    if len(full):
        use = part[rows_k]
        i_k, j_k, c_k = rows_k[use], flat_j[use], flat_c[use]
    else:
        i_k, j_k, c_k = rows_k, flat_j, flat_c
    m1 = np.minimum(c_k, d1[i_k])
    gain_in = np.bincount(j_k, weights=m1 - d1[i_k], minlength=m)
    # closing a row's nearest site costs it d2 - d1 unless the entering site is nearer than d2
    loss_out = np.bincount(pos[a1[part]], weights=(d2 - d1)[part], minlength=len(open_idx))
    extra = np.minimum(c_k, d2[i_k]) - m1 - (d2 - d1)[i_k]
    delta = gain_in[None, :] + loss_out[:, None] + sp.coo_matrix(
        (extra, (pos[a1[i_k]], j_k)), shape=(len(open_idx), m)).toarray()
    if len(full):
        cf = cost[full]
        mf1 = np.minimum(cf, d1[full, None])
        delta += (mf1 - d1[full, None]).sum(axis=0)[None, :]
        group = sp.csr_matrix((np.ones(len(full)), (pos[a1[full]], np.arange(len(full)))),
                              shape=(len(open_idx), len(full)))
        delta += group @ (np.minimum(cf, d2[full, None]) - mf1)
    return delta


def swap_deltas(cost: np.ndarray, open_idx: np.ndarray, near: tuple | None = None) -> np.ndarray:
    """The (open x all sites) matrix of total changes for each swap, as :func:`vertex_substitution` scores them
    (for checking; open columns are meaningless)."""
    n, m = cost.shape
    open_idx = np.asarray(sorted(open_idx), dtype=int)
    if near is None:
        near_idx = np.argsort(cost, axis=1)
        near_cost = np.take_along_axis(cost, near_idx, axis=1)
        cap = np.full(n, np.inf)
    else:
        near_idx, near_cost, cap = near
    is_open = np.zeros(m, dtype=bool)
    is_open[open_idx] = True
    a1, d1, d2 = _two_nearest_open(cost, near_idx, near_cost, is_open)
    return _deltas(cost, open_idx, a1, d1, d2, np.repeat(np.arange(n), near_idx.shape[1]), near_idx.ravel(),
                   near_cost.ravel(), cap)


def vertex_substitution(cost: np.ndarray, open_idx: np.ndarray, locked: np.ndarray, max_rounds: int = 200,
                        deadline: float | None = None, near: tuple | None = None) -> tuple[np.ndarray, float, int]:
    """Best-improvement swaps (one site out, one in) until none improves (Teitz & Bart 1968).

    All (out, in) pairs are scored at once: with ``d1``/``d2`` each row's nearest and second-nearest open cost and
    ``a1`` its nearest site, swapping ``f`` out and ``j`` in changes the total by
    ``sum_i min(c_ij, d1_i) - d1_i + sum_{i: a1_i = f} [min(c_ij, d2_i) - min(c_ij, d1_i)]`` (Whitaker 1983).
    When ``c_ij >= d2_i`` the first term is 0 and the second is ``d2_i - d1_i`` whatever j is, so with
    ``near = (near_idx, near_cost, cap)`` (each row's sorted nearest sites and the next cost beyond them) only the
    listed entries are summed — exact for every row whose two
    nearest open sites are in its list; the other rows are scored on their full row.
    """
    n, m = cost.shape
    open_idx = np.array(sorted(set(int(j) for j in open_idx)), dtype=int)
    if near is None:
        k = m
        near_idx = np.argsort(cost, axis=1)
        near_cost = np.take_along_axis(cost, near_idx, axis=1)
        cap = np.full(n, np.inf)
    else:
        near_idx, near_cost, cap = near
        k = near_idx.shape[1]
    rows_k = np.repeat(np.arange(n), k)
    flat_j = near_idx.ravel()
    flat_c = near_cost.ravel()
    rounds = 0
    is_open = np.zeros(m, dtype=bool)
    is_open[open_idx] = True
    a1, d1, d2 = _two_nearest_open(cost, near_idx, near_cost, is_open)
    total = float(d1.sum())
    if len(open_idx) >= m:
        return open_idx, total, 0
    while rounds < max_rounds and (deadline is None or time.perf_counter() < deadline):
        rounds += 1
        delta = _deltas(cost, open_idx, a1, d1, d2, rows_k, flat_j, flat_c, cap)
        delta[:, open_idx] = np.inf
        delta[locked[open_idx], :] = np.inf  # locked sites never leave
        f, j = np.unravel_index(np.argmin(delta), delta.shape)
        if not delta[f, j] < -1e-9 * max(abs(total), 1.0):
            break
        is_open[open_idx[f]] = False
        is_open[j] = True
        open_idx = np.flatnonzero(is_open)
        a1, d1, d2 = _two_nearest_open(cost, near_idx, near_cost, is_open)
        total = float(d1.sum())
    return open_idx, total, rounds


def p_median_lagrangian(minutes: np.ndarray, weights: np.ndarray, p: int, locked: np.ndarray | None = None, *,
                        gap_target: float = 1e-3, max_iter: int = 1000, time_limit: float = 30.0,
                        local_search: bool = True, nearest: int = 30, search_every: int = 16) -> Solution:
    """p-median by Lagrangian relaxation with subgradient optimisation (Beasley 1993) and vertex substitution.

    Relaxing ``sum_j x_ij = 1`` with multipliers ``lam_i`` leaves, for each site, ``rho_j = sum_i min(0, w_i d_ij -
    lam_i)``; the relaxed optimum opens the locked sites and the ``p - |locked|`` others of smallest ``rho``, so
    ``L(lam) = sum_i lam_i + sum_open rho_j`` is a lower bound of the p-median for every ``lam`` (weak duality).
    Multipliers move along the subgradient ``1 - sum_j x_ij`` with Polyak's step ``mu (UB - L) / ||g||^2``, ``mu``
    halved after 25 iterations without a better bound (Held, Wolfe & Crowder 1974).

    Speed without losing validity: each row keeps only its ``nearest`` site costs, and ``lam_i`` is capped at the
    next cost beyond them, so every dropped term ``min(0, c_ij - lam_i)`` is exactly 0 and ``L(lam)`` is still a
    lower bound (any ``lam`` gives one).  Upper bounds: each iterate's sites, and every ``search_every`` iterations
    vertex substitution from the best new Lagrangian sites of that window (varied starts near the bound).  Stops at
    the gap target, the iteration cap or the time limit; the gap is always returned.
    """
    t0 = time.perf_counter()
    minutes, lock = _check(minutes, p, locked)
    w = np.asarray(weights, dtype=float)
    if w.shape != (minutes.shape[0],) or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValidationError("weights must be one finite non-negative number per demand point")
    cost = minutes * w[:, None]
    n, m = cost.shape
    deadline = t0 + time_limit
    free = ~lock
    n_free = p - int(lock.sum())
    k = min(nearest, m)
    near_idx = np.argpartition(cost, k - 1, axis=1)[:, :k] if k < m else np.broadcast_to(np.arange(m), (n, m))
    rows = np.arange(n)[:, None]
    near_cost = cost[rows, near_idx]
    order = np.argsort(near_cost, axis=1)
    near_idx, near_cost = near_idx[rows, order], near_cost[rows, order]
    cap = np.partition(cost, k, axis=1)[:, k] if k < m else np.full(n, np.inf)  # the (k+1)-th smallest cost
    flat_idx = near_idx.ravel()

    def pick(rho: np.ndarray) -> np.ndarray:
        chosen = np.flatnonzero(lock)
        if n_free > 0:
            cand = np.flatnonzero(free)
            best = cand[np.argpartition(rho[cand], n_free - 1)[:n_free]] if n_free < len(cand) else cand
            chosen = np.concatenate([chosen, best])
        return np.sort(chosen)

    def value(open_idx: np.ndarray) -> float:
        is_open = np.zeros(m, dtype=bool)
        is_open[open_idx] = True
        hit = is_open[near_idx]
        first = hit.argmax(axis=1)
        got = hit[np.arange(n), first]
        total = float(near_cost[np.arange(n), first][got].sum())
        if not got.all():
            total += float(cost[np.ix_(~got, open_idx)].min(axis=1).sum())
        return total

    lam = np.minimum(near_cost[:, min(1, k - 1)], cap)
    red = np.empty_like(near_cost)
    np.subtract(near_cost, lam[:, None], out=red)
    np.minimum(red, 0.0, out=red)
    best_open = pick(np.bincount(flat_idx, weights=red.ravel(), minlength=m))
    ub = value(best_open)
    if local_search:
        best_open, ub, _ = vertex_substitution(cost, best_open, lock, deadline=deadline,
                                               near=(near_idx, near_cost, cap))
    lb = -np.inf
    mu, stall, it = 2.0, 0, 0
    seen: set[tuple] = {tuple(best_open)}
    window_best, window_open = np.inf, None
    while it < max_iter and time.perf_counter() < deadline:
        it += 1
        np.subtract(near_cost, lam[:, None], out=red)
        neg = red < 0
        np.minimum(red, 0.0, out=red)
        rho = np.bincount(flat_idx, weights=red.ravel(), minlength=m)
        chosen = pick(rho)
        val = float(lam.sum() + rho[chosen].sum())
        if not np.isfinite(lb) or val > lb + 1e-9 * max(abs(lb), 1.0):
            lb, stall = val, 0
        else:
            stall += 1
            if stall >= 25:
                mu, stall = mu / 2, 0
        key = tuple(chosen)
        if key not in seen:
            seen.add(key)
            cand_ub = value(chosen)
            if cand_ub < ub:
                best_open, ub = chosen, cand_ub
            if cand_ub < window_best:
                window_best, window_open = cand_ub, chosen
        if local_search and window_open is not None and it % search_every == 0:
            cand_open, cand_ub, _ = vertex_substitution(cost, window_open, lock, deadline=deadline,
                                                          near=(near_idx, near_cost, cap))
            if cand_ub < ub:
                best_open, ub = cand_open, cand_ub
            window_best, window_open = np.inf, None
        if relative_gap(ub, lb) <= gap_target or mu < 1e-6:
            break
        is_open = np.zeros(m, dtype=bool)
        is_open[chosen] = True
        g = 1.0 - (neg & is_open[near_idx]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:  # the relaxed solution is feasible: it is optimal
            break
        lam = np.minimum(lam + mu * (ub - val) / norm * g, cap)
    lb = min(lb, ub)
    _, assign = _assign_cost(cost, best_open)
    gap = relative_gap(ub, lb)
    return Solution("p-median", best_open, assign, ub, lb, gap, "lagrangian", "optimal" if gap <= 1e-9 else
                    "gap", time.perf_counter() - t0, iterations=it)


# ------------------------------------------------------------------------------------------------ HiGHS


def _highs_solve(c, A: sp.csr_matrix, row_lo, row_hi, col_lo, col_hi, integer: np.ndarray, *, sense: str = "min",
                 time_limit: float = 60.0, mip_gap: float = 1e-4, start: np.ndarray | None = None,
                 options: dict | None = None):
    """Solve ``min/max c x  s.t. row_lo <= A x <= row_hi, col_lo <= x <= col_hi`` with HiGHS (matrices passed whole).

    Returns ``(x, objective, bound, status)``: ``bound`` is HiGHS's MIP dual bound (the LP optimum when nothing is
    integer); ``x`` is None when no feasible point was found.
    """
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("threads", 1)
    for key, val in (options or {}).items():
        h.setOptionValue(key, val)
    lp = highspy.HighsLp()
    nvar = len(c)
    lp.num_col_ = nvar
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(col_lo, dtype=float)
    lp.col_upper_ = np.asarray(col_hi, dtype=float)
    lp.row_lower_ = np.asarray(row_lo, dtype=float)
    lp.row_upper_ = np.asarray(row_hi, dtype=float)
    csc = sp.csc_matrix(A)
    csc.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.a_matrix_.num_col_ = nvar
    lp.a_matrix_.num_row_ = A.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
    if np.any(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in np.asarray(integer, dtype=bool)]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value) if has_x else None
    obj = float(info.objective_function_value) if has_x else float("nan")
    if np.any(integer):
        bound = float(info.mip_dual_bound)
    else:
        bound = obj if status == "Optimal" else float("nan")
    return x, obj, bound, status


def p_median_mip(minutes: np.ndarray, weights: np.ndarray, p: int, locked: np.ndarray | None = None, *,
                 capacity: np.ndarray | None = None, staff: np.ndarray | None = None, min_staff: float = 0.0,
                 staff_minutes: np.ndarray | None = None, nearest: int | None = None, time_limit: float = 60.0,
                 mip_gap: float = 1e-4, start_open: np.ndarray | None = None,
                 lower_bound: float = -np.inf) -> Solution:
    """The ReVelle-Swain p-median MIP solved by HiGHS, optionally with capacities and a minimum workforce per hub.

    Variables: ``y_j`` (binary, site open), ``x_ij`` in [0, 1] (share of demand i served by site j; integral at the
    optimum without capacities), and with a workforce minimum ``u_kj`` (binary: site k's consultants join hub j).  Rows:
    ``sum_j x_ij = 1``; ``x_ij <= y_j``; ``sum_j y_j = p``; ``sum_i w_i x_ij <= cap_j y_j``; ``sum_j u_kj = 1``,
    ``u_kj <= y_j``, ``sum_k s_k u_kj >= W y_j`` (and a tiny staff-travel term so consultants join a near hub).
    ``nearest`` keeps only each row's nearest sites (a restriction; see the module notes on the bound).
    """
    t0 = time.perf_counter()
    minutes, lock = _check(minutes, p, locked)
    w = np.asarray(weights, dtype=float)
    n, m = minutes.shape
    cost = minutes * w[:, None]
    if nearest is not None and nearest < m:
        cols = np.argpartition(minutes, nearest - 1, axis=1)[:, :nearest]
    else:
        cols = np.broadcast_to(np.arange(m), (n, m))
    k = cols.shape[1]
    restricted = k < m
    ri = np.repeat(np.arange(n), k)
    cj = cols.ravel()
    nx = len(cj)
    # column order: x (nx), y (m), u (m*m when workforce)
    use_staff = staff is not None and min_staff > 0
    nu = m * m if use_staff else 0
    nvar = nx + m + nu
    yoff, uoff = nx, nx + m
    c = np.concatenate([cost[ri, cj], np.zeros(m)])
    blocks_r, blocks_c, blocks_v, lo, hi = [], [], [], [], []
    row = 0

    def add(r, cc, v, low, high, nrows):
        nonlocal row
        blocks_r.append(np.asarray(r) + row)
        blocks_c.append(np.asarray(cc))
        blocks_v.append(np.asarray(v, dtype=float))
        lo.append(np.broadcast_to(np.asarray(low, dtype=float), (nrows,)))
        hi.append(np.broadcast_to(np.asarray(high, dtype=float), (nrows,)))
        row += nrows

    add(ri, np.arange(nx), np.ones(nx), 1.0, 1.0, n)  # every demand point served
    add(np.concatenate([np.arange(nx), np.arange(nx)]), np.concatenate([np.arange(nx), yoff + cj]),
        np.concatenate([np.ones(nx), -np.ones(nx)]), -np.inf, 0.0, nx)  # x_ij <= y_j
    add(np.zeros(m, dtype=int), yoff + np.arange(m), np.ones(m), p, p, 1)  # p sites
    if capacity is not None:
        cap = np.asarray(capacity, dtype=float)
        has = np.isfinite(cap)
        sel = has[cj]
        jj = np.flatnonzero(has)
        rowof = -np.ones(m, dtype=int)
        rowof[jj] = np.arange(len(jj))
        add(np.concatenate([rowof[cj[sel]], np.arange(len(jj))]),
            np.concatenate([np.arange(nx)[sel], yoff + jj]),
            np.concatenate([w[ri[sel]], -cap[jj]]), -np.inf, 0.0, len(jj))
    if use_staff:
        s = np.asarray(staff, dtype=float)
        kk = np.repeat(np.arange(m), m)
        hj = np.tile(np.arange(m), m)
        uidx = uoff + np.arange(nu)
        add(kk, uidx, np.ones(nu), 1.0, 1.0, m)  # each site's consultants join one hub
        add(np.concatenate([np.arange(nu), np.arange(nu)]), np.concatenate([uidx, yoff + hj]),
            np.concatenate([np.ones(nu), -np.ones(nu)]), -np.inf, 0.0, nu)  # only an open hub
        add(np.concatenate([hj, np.arange(m)]), np.concatenate([uidx, yoff + np.arange(m)]),
            np.concatenate([s[kk], -np.full(m, float(min_staff))]), 0.0, np.inf, m)  # the minimum rota
        sm = np.asarray(staff_minutes, dtype=float) if staff_minutes is not None else np.zeros((m, m))
        scale = 1e-6 * max(float(np.abs(c).max(initial=0.0)), 1.0) / max(float(sm.max(initial=0.0)), 1.0)
        c = np.concatenate([c, scale * sm.ravel()])
    A = sp.csr_matrix((np.concatenate(blocks_v), (np.concatenate(blocks_r), np.concatenate(blocks_c))),
                      shape=(row, nvar))
    col_lo = np.zeros(nvar)
    col_lo[yoff + np.flatnonzero(lock)] = 1.0
    col_hi = np.ones(nvar)
    integer = np.zeros(nvar, dtype=bool)
    integer[yoff:yoff + m] = True
    integer[uoff:] = True  # a site's consultants join one hub whole (an empty slice without a workforce minimum)
    start = None
    if start_open is not None and capacity is None and not use_staff:
        start = np.zeros(nvar)
        start[yoff + np.asarray(start_open, dtype=int)] = 1.0
        sub = np.full((n, m), np.inf)
        sub[ri, cj] = minutes[ri, cj]
        sub[:, np.setdiff1d(np.arange(m), start_open)] = np.inf
        best = sub.argmin(axis=1)
        pos = np.flatnonzero(cj == best[ri])
        start[pos] = 1.0
    x, obj, bound, status = _highs_solve(c, A, np.concatenate(lo), np.concatenate(hi), col_lo, col_hi, integer,
                                         time_limit=time_limit, mip_gap=mip_gap, start=start)
    notes = []
    if x is None:
        raise ValidationError(f"HiGHS found no feasible network ({status}): capacities or the workforce minimum "
                              "cannot all be met with these sites")
    y = x[yoff:yoff + m] > 0.5
    open_idx = np.flatnonzero(y)
    flows = sp.csr_matrix((x[:nx], (ri, cj)), shape=(n, m))
    flows.eliminate_zeros()
    assign = np.asarray(flows.argmax(axis=1)).ravel()
    true_obj = float((flows.multiply(cost)).sum())
    staff_hub = None
    if use_staff:
        u = x[uoff:].reshape(m, m)
        staff_hub = u.argmax(axis=1)
        true_obj_staff = true_obj  # the staff-travel tie-break is not part of the reported objective
        true_obj = true_obj_staff
    bounds = [lower_bound]
    if not restricted and np.isfinite(bound):
        bounds.append(bound)
    elif restricted:
        notes.append(f"each demand point could use only its {k} nearest sites: the objective is an upper bound; the "
                     "lower bound is the uncapacitated Lagrangian bound of the full problem")
    lb = min(max(bounds), true_obj)
    gap = relative_gap(true_obj, lb) if np.isfinite(lb) else float("inf")
    return Solution("p-median", open_idx, assign, true_obj, lb, gap, "highs-mip", status,
                    time.perf_counter() - t0, notes=notes, flows=flows, staff_hub=staff_hub)


def p_median(minutes: np.ndarray, weights: np.ndarray, p: int, locked: np.ndarray | None = None, *,
             gap_target: float = 1e-3, time_limit: float = 30.0, exact_cells: int = 60_000) -> Solution:
    """Uncapacitated p-median: the Lagrangian heuristic with its bound; the exact MIP when the gap is above target
    and ``n x m <= exact_cells`` (HiGHS from the heuristic's sites, within the time left)."""
    t0 = time.perf_counter()
    sol = p_median_lagrangian(minutes, weights, p, locked, gap_target=gap_target, time_limit=time_limit)
    left = time_limit - (time.perf_counter() - t0)
    if sol.gap > gap_target and minutes.size <= exact_cells and left > 1:
        mip = p_median_mip(minutes, weights, p, locked, time_limit=left, start_open=sol.open,
                           lower_bound=sol.bound)
        if mip.objective <= sol.objective + 1e-9 or mip.bound > sol.bound:
            best = mip if mip.objective <= sol.objective else sol
            lb = max(mip.bound, sol.bound)
            best = Solution("p-median", best.open, best.assign, best.objective, min(lb, best.objective),
                            relative_gap(best.objective, min(lb, best.objective)), "lagrangian+highs-mip",
                            mip.status, time.perf_counter() - t0, sol.iterations)
            return best
    sol.seconds = time.perf_counter() - t0
    return sol


# ------------------------------------------------------------------------------------------------ coverage, centre


def coverage_interchange(cover: np.ndarray, weights: np.ndarray, p: int, locked: np.ndarray,
                         max_rounds: int = 200, start: np.ndarray | None = None) -> np.ndarray:
    """A start for maximal coverage: greedy additions (Church & ReVelle 1974's greedy), or ``start`` (p sites
    holding every locked one), then best swaps.

    With ``k_i`` open sites covering row i, swapping ``f`` out and ``j`` in changes covered weight by
    ``sum_{i: k_i = 0, j covers i} w_i - sum_{i: k_i = 1, f covers i} w_i + sum_{i: k_i = 1, f and j cover i} w_i``,
    scored for all pairs at once with one sparse product.
    """
    n, m = cover.shape
    cov = sp.csr_matrix(cover.astype(float))
    open_idx = list(np.flatnonzero(locked)) if start is None else [int(j) for j in start]
    k = np.asarray(cov[:, open_idx].sum(axis=1)).ravel() if open_idx else np.zeros(n)
    while len(open_idx) < p:
        gain = cov.T @ (weights * (k == 0))
        gain[open_idx] = -1
        j = int(np.argmax(gain))
        open_idx.append(j)
        k += cover[:, j]
    open_idx = np.array(sorted(open_idx))
    covT = cov.T.tocsr()
    for _ in range(max_rounds):
        k = np.asarray(cov[:, open_idx].sum(axis=1)).ravel()
        gain = covT @ (weights * (k == 0))  # per entering site
        single = weights * (k == 1)
        loss = covT[open_idx] @ single  # per leaving site
        inter = (covT[open_idx].multiply(single)) @ cov  # (open, all): rows f, columns j, shared single cover
        delta = gain[None, :] - loss[:, None] + np.asarray(inter.todense())
        delta[:, open_idx] = -np.inf
        delta[locked[open_idx], :] = -np.inf
        f, j = np.unravel_index(np.argmax(delta), delta.shape)
        if not delta[f, j] > 1e-9:
            break
        open_idx = np.sort(np.append(np.delete(open_idx, f), j))
    return open_idx


class _CoverageLP:
    """The LP relaxation of maximal coverage held in one HiGHS instance, re-solved warm as site bounds change.

    Columns: ``y_j`` (sites, [0, 1]) then ``z_i`` (merged demand rows, [0, 1]); rows ``z_i - sum_j a_ij y_j <= 0``
    and ``sum_j y_j = p``; maximise ``sum_i w_i z_i``.  After a bound change HiGHS restarts dual simplex from the
    previous basis, so a node costs a few pivots rather than a solve from scratch.
    """

    def __init__(self, cu: np.ndarray, wu: np.ndarray, p: int, lock: np.ndarray):
        import highspy

        nu, m = cu.shape
        r, cc = np.nonzero(cu)
        A = sp.csc_matrix((np.concatenate([np.ones(nu), -np.ones(len(r)), np.ones(m)]),
                           (np.concatenate([np.arange(nu), r, np.full(m, nu)]),
                            np.concatenate([m + np.arange(nu), cc, np.arange(m)]))), shape=(nu + 1, m + nu))
        A.sort_indices()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = m + nu, nu + 1
        lp.col_cost_ = np.concatenate([np.zeros(m), wu])
        lp.col_lower_ = np.concatenate([lock.astype(float), np.zeros(nu)])
        lp.col_upper_ = np.ones(m + nu)
        lp.row_lower_ = np.concatenate([np.full(nu, -np.inf), [p]])
        lp.row_upper_ = np.concatenate([np.zeros(nu), [p]])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = m + nu, nu + 1
        lp.sense_ = highspy.ObjSense.kMaximize
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.passModel(lp)
        self.optimal = highspy.HighsModelStatus.kOptimal
        self.m, self.lock = m, lock
        self.cover = sp.csr_matrix(cu.astype(float))
        self.bounds = (lock.astype(float), np.ones(m))

    def mip(self, start_open: np.ndarray, time_limit: float) -> tuple[np.ndarray | None, float, float, str]:
        """The same model with integer sites, by HiGHS's MIP solver from ``start_open``: (open sites, objective,
        dual bound, status)."""
        import highspy

        m, nu = self.m, self.h.getNumCol() - self.m
        self.h.changeColsBounds(m, np.arange(m, dtype=np.int32), self.lock.astype(float), np.ones(m))
        self.bounds = (self.lock.astype(float), np.ones(m))
        self.h.changeColsIntegrality(m, np.arange(m, dtype=np.int32),
                                     np.full(m, highspy.HighsVarType.kInteger.value, dtype=np.uint8))
        self.h.setOptionValue("time_limit", float(max(time_limit, 0.1)))
        self.h.setOptionValue("mip_rel_gap", 1e-9)
        start = highspy.HighsSolution()
        y = np.isin(np.arange(m), start_open).astype(float)
        z = np.minimum(1.0, self.cover @ y) if nu else np.zeros(0)
        start.col_value = list(np.concatenate([y, z]))
        start.value_valid = True
        self.h.setSolution(start)
        self.h.run()
        info = self.h.getInfo()
        status = self.h.modelStatusToString(self.h.getModelStatus())
        if info.primal_solution_status != 2:
            return None, float("nan"), float(info.mip_dual_bound), status
        x = np.asarray(self.h.getSolution().col_value)
        return np.flatnonzero(x[:m] > 0.5), float(info.objective_function_value), float(info.mip_dual_bound), status

    def solve(self, lower: np.ndarray, upper: np.ndarray) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """LP optimum, site values and site reduced costs with site bounds ``[lower, upper]``; (-inf, None, None)
        when infeasible."""
        changed = np.flatnonzero((lower != self.bounds[0]) | (upper != self.bounds[1]))
        if len(changed):
            self.h.changeColsBounds(len(changed), changed.astype(np.int32), lower[changed], upper[changed])
            self.bounds = (lower.copy(), upper.copy())
        self.h.run()
        if self.h.getModelStatus() != self.optimal:
            return -np.inf, None, None
        solution = self.h.getSolution()
        return (float(self.h.getInfo().objective_function_value), np.asarray(solution.col_value)[: self.m],
                np.asarray(solution.col_dual)[: self.m])


def max_coverage(minutes: np.ndarray, weights: np.ndarray, p: int, within: float, locked: np.ndarray | None = None,
                 *, time_limit: float = 60.0, max_nodes: int = 300) -> Solution:
    """Maximal covering location (Church & ReVelle 1974), solved exactly by LP-based branch and bound.

    ``y_j`` binary, ``z_i`` in [0, 1]: ``z_i <= sum_{j: d_ij <= T} y_j``, ``sum y = p``; maximise ``sum w_i z_i``.
    Rows that no site can reach within T are left out (they can never be covered).  Demand points with the same
    set of covering sites are merged first (their weights added), which shrinks the model without changing it.

    The LP relaxation of this model is tight (Church & ReVelle 1974 found it often integral; 0.15% above the
    optimum on the 2,000 x 200 benchmark), so a plain depth-first branch and bound on it (Land & Doig 1960,
    "An automatic method of solving discrete programming problems", Econometrica 28(3):497-520) closes the gap
    in a few nodes: branch on the most fractional site, the rounding direction first; prune a node whose LP bound
    does not beat the best cover found; the incumbent comes from the LP's largest site values improved by best
    swaps (:func:`coverage_interchange`), at the root and every few nodes.  The LP is re-solved warm by HiGHS
    dual simplex, and reduced-cost fixing (a site whose reduced cost exceeds the node's bound minus the incumbent
    keeps its value in the subtree; Nemhauser & Wolsey 1988, Integer and Combinatorial Optimization, I.2.4) trims
    the tree.  When the tree is exhausted the answer is proven optimal.  A hard instance (more than ``max_nodes``
    nodes, or a fifth of ``time_limit``) goes on to HiGHS's MIP solver, whose cuts close gaps that plain branching
    does not, started from the best cover found and given the rest of the time; the bound reported is then the
    smaller of HiGHS's dual bound and the largest LP bound of the nodes left open (both valid).
    """
    t0 = time.perf_counter()
    minutes, lock = _check(minutes, p, locked)
    w = np.asarray(weights, dtype=float)
    cover = minutes <= within
    reach = cover.any(axis=1)
    cov = cover[reach]
    packed = np.packbits(cov, axis=1)
    uniq, inv = np.unique(packed, axis=0, return_inverse=True)
    wu = np.bincount(inv.ravel(), weights=w[reach], minlength=len(uniq))
    cu = np.unpackbits(uniq, axis=1, count=cov.shape[1]).astype(bool)
    m = cu.shape[1]
    lp = _CoverageLP(cu, wu, p, lock)
    covered_by = sp.csr_matrix(cu.astype(float))

    def value(open_idx: np.ndarray) -> float:
        return float(wu[np.asarray(covered_by[:, open_idx].sum(axis=1)).ravel() > 0].sum())

    def improve(y: np.ndarray) -> np.ndarray:
        order = np.argsort(-(y + lock), kind="stable")  # locked sites first, then by LP value
        return coverage_interchange(cu, wu, p, lock, start=np.sort(order[:p]))

    root, y, _ = lp.solve(lock.astype(float), np.ones(m))
    best_open = improve(y)
    best = value(best_open)
    # Depth-first: each entry is (site lower bounds, site upper bounds, the parent's LP bound).
    stack = [(lock.astype(float), np.ones(m), root)]
    nodes, proven = 0, True
    while stack:
        if nodes >= max_nodes or time.perf_counter() - t0 > time_limit / 5:
            proven = False
            break
        lower, upper, parent = stack.pop()
        if parent <= best + 1e-9:
            continue
        bound, y, reduced = lp.solve(lower, upper)
        nodes += 1
        if bound <= best + 1e-9:
            continue
        # Reduced-cost fixing: a site whose move off its bound would cost the LP more than bound - best stays.
        fix = (np.abs(reduced) >= bound - best - 1e-9) & (lower < upper)
        at_one, at_zero = fix & (y > 0.5), fix & (y <= 0.5)
        if at_one.any() or at_zero.any():
            lower, upper = lower.copy(), upper.copy()
            lower[at_one] = 1.0
            upper[at_zero] = 0.0
        fractional = np.flatnonzero((y > 1e-6) & (y < 1 - 1e-6))
        if len(fractional) == 0:
            open_idx = np.flatnonzero(y > 0.5)
            v = value(open_idx)
            if v > best:
                best, best_open = v, open_idx
            continue
        if nodes % 5 == 0:
            candidate = improve(y)
            v = value(candidate)
            if v > best:
                best, best_open = v, candidate
        j = fractional[np.argmin(np.abs(y[fractional] - 0.5))]
        first, second = (1.0, 0.0) if y[j] >= 0.5 else (0.0, 1.0)
        for side in (second, first):  # the rounding direction is pushed last, so explored first
            lo, hi = lower.copy(), upper.copy()
            lo[j] = hi[j] = side
            stack.append((lo, hi, bound))
    method, status = "lp-branch-and-bound", "optimal"
    upper_bound = best
    if not proven:
        upper_bound = max([best] + [entry[2] for entry in stack])
        found, _, dual, status = lp.mip(best_open, time_limit - (time.perf_counter() - t0))
        method = "lp-branch-and-bound, then highs-mip"
        if found is not None and value(found) > best:
            best, best_open = value(found), found
        if np.isfinite(dual):
            upper_bound = min(upper_bound, dual)
        status = "optimal" if status == "Optimal" or upper_bound <= best + 1e-9 else status
    open_idx = np.sort(best_open)
    covered = float(w[cover[:, open_idx].any(axis=1)].sum())
    bound = max(upper_bound, covered)
    assign = open_idx[minutes[:, open_idx].argmin(axis=1)]
    return Solution("coverage", open_idx, assign, covered, bound, relative_gap(covered, bound), method, status,
                    time.perf_counter() - t0, iterations=nodes)


def _set_cover_feasible(cover: np.ndarray, p: int, lock: np.ndarray, time_limit: float):
    """Can ``p`` sites (locked ones included) cover every row?  ``(open sites or None, proven)``."""
    n, m = cover.shape
    if not cover.any(axis=1).all():
        return None, True
    covered_by_locked = cover[:, lock].any(axis=1)
    rows = cover[~covered_by_locked]
    if rows.shape[0] == 0:
        return np.flatnonzero(lock), True
    packed = np.unique(np.packbits(rows, axis=1), axis=0)
    rows = np.unpackbits(packed, axis=1, count=m).astype(bool)
    r, cc = np.nonzero(rows)
    A = sp.csr_matrix((np.ones(len(r)), (r, cc)), shape=(rows.shape[0], m))
    x, obj, bound, status = _highs_solve(np.ones(m), A, np.ones(rows.shape[0]), np.full(rows.shape[0], np.inf),
                                         lock.astype(float), np.ones(m), np.ones(m, dtype=bool),
                                         time_limit=time_limit, mip_gap=0.0)
    if x is not None and obj <= p + 1e-6:
        open_idx = np.flatnonzero(x > 0.5)
        extra = np.setdiff1d(np.arange(m), open_idx)[: p - len(open_idx)]  # pad to exactly p (never worse)
        return np.sort(np.concatenate([open_idx, extra])), True
    if np.isfinite(bound) and bound > p + 1e-6:
        return None, True
    return None, status == "Optimal"


def p_centre(minutes: np.ndarray, p: int, locked: np.ndarray | None = None, *, time_limit: float = 60.0) -> Solution:
    """p-centre: the smallest radius r such that p sites reach every demand point within r (Minieka 1970).

    Binary search over the sorted distinct times between the largest nearest-site time (no radius can be smaller)
    and the longest trip of a p-median-like start; each step is one set-covering MIP.  Unweighted, as in Hakimi's
    vertex p-centre.
    """
    t0 = time.perf_counter()
    minutes, lock = _check(minutes, p, locked)
    deadline = t0 + time_limit
    lo_r = float(minutes.min(axis=1).max())
    # a start: greedy farthest-point choice of sites
    open_idx = list(np.flatnonzero(lock))
    if not open_idx:
        open_idx = [int(np.argmin(minutes.max(axis=0)))]
    while len(open_idx) < p:
        near = minutes[:, open_idx].min(axis=1)
        far = int(np.argmax(near))
        cand = [j for j in np.argsort(minutes[far]) if j not in open_idx]
        open_idx.append(int(cand[0]))
    best_open = np.sort(np.array(open_idx))
    best_r = float(minutes[:, best_open].min(axis=1).max())
    values = np.unique(minutes[(minutes >= lo_r) & (minutes <= best_r)])
    lo, hi = 0, len(values) - 1  # values[hi] is feasible
    proven = True
    steps = 0
    while lo < hi:
        if time.perf_counter() > deadline:
            proven = False
            break
        mid = (lo + hi) // 2
        steps += 1
        sites, sure = _set_cover_feasible(minutes <= values[mid], p, lock, deadline - time.perf_counter())
        if sites is not None:
            hi = mid
            best_open = sites
            best_r = float(minutes[:, best_open].min(axis=1).max())
            hi = min(hi, int(np.searchsorted(values, best_r)))
        else:
            if not sure:
                proven = False
                break
            lo = mid + 1
    bound = float(values[lo]) if proven else lo_r
    assign = best_open[minutes[:, best_open].argmin(axis=1)]
    return Solution("p-centre", best_open, assign, best_r, bound, relative_gap(best_r, bound), "set-cover-search",
                    "optimal" if proven else "time limit", time.perf_counter() - t0, iterations=steps)
