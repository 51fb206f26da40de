"""Optimal buddying plan: which supporter leads the support of each organisation in difficulty.

Model (docs/methods/buddying-plan.md has the full write-up)
-----------------------------------------------------------
Recipients r (organisations in difficulty) and supporters s; an allowed pair (r, s) has suitability
``score > 0``. Choose x_rs in {0, 1}:

    each recipient has at most one lead partner      sum_s x_rs <= 1
    each supporter leads for at most k recipients    sum_r x_rs <= k_s
    required pairs are fixed to 1; forbidden pairs, pairs over the travel limit, pairs scoring below the
    minimum suitability and supporters that are themselves in difficulty are removed; existing partnerships
    are held fixed: their recipient is covered (no new lead) and they use their supporter's capacity.

Objective, lexicographic: first the number of recipients with a lead partner, then the total score.

Exact method: a b-matching with capacities is an assignment problem once every supporter is replicated into
k_s "slots" (the classic reduction, e.g. Burkard, Dell'Amico & Martello, *Assignment Problems*, 2009, ch. 5).
Each recipient also gets one private dummy column, so a full matching (every recipient assigned to exactly one
column) always exists; a recipient on its dummy is unmatched. Costs are ``K - score`` for a real slot
(``K = max score + 1`` keeps every cost >= 1, since the solver treats a stored 0 as an edge weight of 0 only if
explicitly stored) and ``D = K + U + 1`` for a dummy, where ``U = sum over recipients of their best score``.
The cost of a full matching is ``n D - m (D - K) - S`` for m matched recipients of total score S; since
``0 <= S <= U < D - K``, one more matched recipient always lowers the cost more than any change in score can
raise it, so minimum cost == lexicographic maximum (m, S). That is solved exactly by
``scipy.sparse.csgraph.min_weight_full_bipartite_matching`` (LAPJVsp: Jonker & Volgenant 1987, "A shortest
augmenting path algorithm for dense and sparse linear assignment problems", Computing 38, 325-340; Kuhn 1955).

``plan_mip_highs`` solves the same model as a MIP with HiGHS (Huangfu & Hall 2018) in two stages (max m, then
max S with m fixed) as an independent cross-check and benchmark baseline.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from partnering.errors import InfeasibleError, ValidationError

__all__ = ["BuddyingPlan", "buddying_plan", "plan_mip_highs"]

Pair = tuple[str, str]


@dataclass
class BuddyingPlan:
    """The result of :func:`buddying_plan` or :func:`plan_mip_highs`.

    ``pairs``: recipient, supporter, score, role ('lead' | 'second'), required (bool) and any pass-through columns
    of the suitability table. ``unmatched``: recipient, role, reason (the binding constraint, in words).
    """

    pairs: pd.DataFrame
    total_score: float
    unmatched: pd.DataFrame
    n_lead: int
    lead_score: float
    solver: str
    proven_optimal: bool = True
    solve_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    existing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["recipient", "supporter", "score"]))
    """Existing partnerships held fixed (recipient, supporter, score where listed): not part of ``pairs``."""


# ----------------------------------------------------------------------------------------------------------------
# Preparation: validate, filter in a fixed order (the order the reasons are reported in), fix required pairs.


@dataclass
class _Problem:
    role: str
    table: pd.DataFrame  # the suitability rows, original order
    rec_codes: pd.Index  # all recipients considered
    sup_codes: pd.Index
    r: np.ndarray  # per row of table: recipient position
    s: np.ndarray  # per row: supporter position
    score: np.ndarray
    free: np.ndarray  # row may be chosen by the optimiser
    fixed_rows: np.ndarray  # rows fixed by required pairs
    cap: np.ndarray  # capacity per supporter (before required pairs)
    cap_left: np.ndarray  # capacity after required pairs
    order: np.ndarray  # rows sorted by (recipient, supporter)
    alive_pre_cap: np.ndarray  # row passes travel, difficulty, forbidden and minimum-score filters
    best_unsuitable: np.ndarray  # per recipient: best score among rows that pass the filters before the minimum
    min_score: float | None
    covered: np.ndarray  # per recipient: held by an existing partnership
    existing: pd.DataFrame
    reason_stage: np.ndarray  # per recipient: first stage that left no candidate (-1 = has free candidates)
    fixed_rec: np.ndarray  # per recipient: fixed by a required pair
    k_label: str
    max_travel: float | None
    required_by_sup: dict[int, list[str]]


def _order_by(r: np.ndarray, s: np.ndarray, n_rec: int, n_sup: int) -> np.ndarray:
    """Stable order by (r, s); small integer dtypes make numpy use an O(n) radix sort."""

    def small(x: np.ndarray, n: int) -> np.ndarray:
        return x.astype(np.int16 if n < 2**15 else np.int32 if n < 2**31 else np.int64)

    o1 = np.argsort(small(s, n_sup), kind="stable")
    return o1[np.argsort(small(r, n_rec)[o1], kind="stable")]


def _pairs_key(pairs: Iterable[Pair], rec_codes: pd.Index, sup_codes: pd.Index, n_sup: int) -> np.ndarray:
    pairs = list(pairs)
    if not pairs:
        return np.empty(0, dtype=np.int64)
    arr = np.asarray(pairs, dtype=object).reshape(-1, 2)
    ri = rec_codes.get_indexer(arr[:, 0])
    si = sup_codes.get_indexer(arr[:, 1])
    ok = (ri >= 0) & (si >= 0)
    return ri[ok].astype(np.int64) * n_sup + si[ok]


def _capacity_array(capacity: int | Mapping[str, int], sup_codes: pd.Index) -> tuple[np.ndarray, str]:
    if isinstance(capacity, Mapping):
        cap = np.ones(len(sup_codes), dtype=np.int64)
        if capacity:
            keys = [s for s in capacity if s in sup_codes]
            vals = np.array([capacity[s] for s in keys], dtype=float)
            if np.any(vals < 0) or np.any(vals != np.round(vals)):
                raise ValidationError("capacities must be non-negative whole numbers")
            cap[sup_codes.get_indexer(keys)] = vals.astype(np.int64)
        # capacities of supporters with no suitability row are irrelevant and ignored
        return cap, "k as set per supporter"
    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 0:
        raise ValidationError(f"capacity must be a non-negative integer or a mapping, got {capacity!r}")
    return np.full(len(sup_codes), int(capacity), dtype=np.int64), f"k={int(capacity)}"


def _prepare(
    suitability: pd.DataFrame,
    *,
    role: str,
    capacity: int | Mapping[str, int],
    required: Iterable[Pair],
    forbidden: Iterable[Pair],
    supporters_in_difficulty: Iterable[str],
    max_travel_minutes: float | None,
    recipients: Iterable[str] | None,
    exclude: pd.DataFrame | None = None,
    existing: Iterable[Pair] = (),
    min_score: float | None = None,
) -> _Problem:
    if not isinstance(suitability, pd.DataFrame):
        raise ValidationError("suitability must be a DataFrame with columns recipient, supporter, score")
    missing = {"recipient", "supporter", "score"} - set(suitability.columns)
    if missing:
        raise ValidationError(f"suitability lacks columns: {sorted(missing)}")
    table = suitability.reset_index(drop=True)
    score = pd.to_numeric(table["score"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(score)) or np.any(score <= 0):
        bad = table.loc[~(np.isfinite(score) & (score > 0)), ["recipient", "supporter"]].head(3)
        raise ValidationError(f"scores must be finite and > 0; e.g. {bad.to_records(index=False).tolist()}")
    if max_travel_minutes is not None and "travel_minutes" not in table.columns:
        raise ValidationError("max_travel_minutes given but suitability has no travel_minutes column")
    if min_score is not None and (
        isinstance(min_score, bool) or not isinstance(min_score, (int, float, np.number)) or not np.isfinite(min_score)
        or min_score < 0
    ):
        raise ValidationError(f"the minimum suitability must be a number >= 0, got {min_score!r}")

    r_codes, rec_uniques = pd.factorize(table["recipient"])
    s_codes, sup_uniques = pd.factorize(table["supporter"])
    existing = list(dict.fromkeys(tuple(p) for p in existing))
    ex_set = set(existing)
    required = [tuple(p) for p in required if tuple(p) not in ex_set]  # an existing pair is held anyway
    forbidden = [tuple(p) for p in forbidden]
    ex_rec = {p[0]: p[1] for p in existing}
    for rr, ss in required:
        if rr in ex_rec:
            raise ValidationError(
                f"required pair ({rr}, {ss}): {rr} already has a lead partner, {ex_rec[rr]} "
                "(a registered partnership, held fixed)"
            )
    for pair in forbidden:
        if pair in ex_set:
            raise ValidationError(
                f"forbidden pair {pair} is a registered partnership, which the plan holds fixed; end it in the "
                "register to plan without it"
            )
    extra_rec = [x for x in list(recipients or []) + [p[0] for p in required] if x not in rec_uniques]
    rec_codes = pd.Index(rec_uniques).append(pd.Index(pd.unique(pd.Series(extra_rec, dtype=object))))
    sup_codes = pd.Index(sup_uniques)
    n_rec, n_sup = len(rec_codes), len(sup_codes)
    r = r_codes.astype(np.int64)
    s = s_codes.astype(np.int64)
    key = r * n_sup + s
    order = _order_by(r, s, n_rec, n_sup)  # rows sorted by (recipient, supporter): two O(E) radix passes
    ro, so = r[order], s[order]
    same = (ro[1:] == ro[:-1]) & (so[1:] == so[:-1])
    if same.any():
        dup = table.iloc[order[1:][same][:3]][["recipient", "supporter"]]
        raise ValidationError(f"suitability lists a pair twice: {dup.to_records(index=False).tolist()}")

    cap, k_label = _capacity_array(capacity, sup_codes)
    covered = rec_codes.isin(list(ex_rec)) if ex_rec else np.zeros(n_rec, dtype=bool)
    if existing:  # existing partnerships use their supporter's capacity (never below 0: they exist)
        ex_sup = sup_codes.get_indexer([p[1] for p in existing])
        cap = np.maximum(cap - np.bincount(ex_sup[ex_sup >= 0], minlength=n_sup), 0)
    difficulty = set(supporters_in_difficulty or ())
    in_difficulty = sup_codes.isin(list(difficulty)) if difficulty else np.zeros(n_sup, dtype=bool)

    # Stage masks, in the order reasons are reported.
    sup_as_rec = rec_codes.get_indexer(sup_codes)  # an organisation cannot support itself
    not_self = sup_as_rec[s] != r
    if max_travel_minutes is not None:
        travel = pd.to_numeric(table["travel_minutes"], errors="coerce").to_numpy(dtype=float)
        within = np.nan_to_num(travel, nan=np.inf) <= max_travel_minutes
    else:
        travel = None
        within = np.ones(len(table), dtype=bool)
    ok_difficulty = ~in_difficulty[s]
    forb_key = _pairs_key(forbidden, rec_codes, sup_codes, n_sup)
    ok_forbidden = ~np.isin(key, forb_key) if len(forb_key) else np.ones(len(table), dtype=bool)
    ok_score = score >= min_score if min_score is not None else np.ones(len(table), dtype=bool)
    if exclude is not None and len(exclude):
        ex_key = _pairs_key(exclude[["recipient", "supporter"]].itertuples(index=False), rec_codes, sup_codes, n_sup)
        ok_forbidden &= ~np.isin(key, ex_key)

    # Required pairs.
    fixed_rows = np.empty(0, dtype=np.int64)
    required_by_sup: dict[int, list[str]] = {}
    if required:
        req = pd.DataFrame(required, columns=["recipient", "supporter"])
        twice = req[req["recipient"].duplicated(keep=False)]
        if len(twice):
            r0 = twice["recipient"].iloc[0]
            sups = twice.loc[twice["recipient"] == r0, "supporter"].tolist()
            raise ValidationError(f"recipient {r0} has more than one required lead partner: {sups}")
        forb_set = set(forbidden)
        for rr, ss in required:
            if (rr, ss) in forb_set:
                raise ValidationError(f"required pair ({rr}, {ss}) is also forbidden")
            if ss in difficulty:
                raise ValidationError(f"required pair ({rr}, {ss}): supporter {ss} is itself in difficulty")
        req_key = _pairs_key(required, rec_codes, sup_codes, n_sup)
        pos = pd.Index(key).get_indexer(req_key)
        if len(req_key) < len(required) or np.any(pos < 0):
            known = set(zip(table["recipient"], table["supporter"], strict=True))
            missing_pairs = [p for p in required if p not in known]
            raise ValidationError(
                f"required pair {missing_pairs[0]} is not among the allowed pairs (no suitability score given)"
            )
        fixed_rows = pos.astype(np.int64)
        if travel is not None:
            over = fixed_rows[~within[fixed_rows]]
            if len(over):
                row = table.iloc[over[0]]
                raise InfeasibleError(
                    f"required pair ({row['recipient']}, {row['supporter']}) is {row['travel_minutes']} minutes "
                    f"apart, over the limit of {max_travel_minutes:g} minutes"
                )
        if not np.all(not_self[fixed_rows]):
            raise ValidationError("a required pair names the same organisation as recipient and supporter")
        used = np.bincount(s[fixed_rows], minlength=n_sup)
        over_cap = np.nonzero(used > cap)[0]
        if len(over_cap):
            j = over_cap[0]
            whom = table["recipient"].to_numpy()[fixed_rows[s[fixed_rows] == j]].tolist()
            raise InfeasibleError(
                f"supporter {sup_codes[j]} is required for {len(whom)} recipients ({', '.join(map(str, whom))}) "
                f"but has capacity {cap[j]}"
            )
        for j in np.unique(s[fixed_rows]):
            required_by_sup[int(j)] = table["recipient"].to_numpy()[fixed_rows[s[fixed_rows] == j]].tolist()
    else:
        used = np.zeros(n_sup, dtype=np.int64)
    cap_left = cap - used

    fixed_rec = np.zeros(n_rec, dtype=bool)
    fixed_rec[r[fixed_rows]] = True
    stages = [
        np.ones(len(table), dtype=bool),
        not_self & within,
        ok_difficulty,
        ok_forbidden,
        ok_score,
        cap_left[s] > 0,
    ]
    alive = np.ones(len(table), dtype=bool)
    reason_stage = np.full(n_rec, -1, dtype=np.int64)
    alive_pre_cap = alive
    best_unsuitable = np.full(n_rec, np.nan)
    for i, m in enumerate(stages):
        if i == 4 and len(table):  # best score of each recipient's candidates before the minimum applies
            best_unsuitable = np.full(n_rec, -np.inf)
            np.maximum.at(best_unsuitable, r[alive], score[alive])
        alive = alive & m
        if i == 4:
            alive_pre_cap = alive
        count = np.bincount(r[alive], minlength=n_rec)
        newly = (count == 0) & (reason_stage < 0)
        reason_stage[newly] = i
    free = alive & ~fixed_rec[r] & ~covered[r]
    ex_frame = pd.DataFrame(existing, columns=["recipient", "supporter"]) if existing else pd.DataFrame(
        {"recipient": pd.Series(dtype=object), "supporter": pd.Series(dtype=object)})
    listed = pd.Series(score, index=pd.MultiIndex.from_arrays([table["recipient"], table["supporter"]]))
    ex_frame["score"] = listed.reindex(pd.MultiIndex.from_frame(ex_frame[["recipient", "supporter"]])).to_numpy(
        dtype=float) if len(ex_frame) else pd.Series(dtype=float)
    return _Problem(
        role=role,
        table=table,
        rec_codes=rec_codes,
        sup_codes=sup_codes,
        r=r,
        s=s,
        score=score,
        free=free,
        fixed_rows=fixed_rows,
        cap=cap,
        cap_left=cap_left,
        order=order,
        alive_pre_cap=alive_pre_cap,
        best_unsuitable=best_unsuitable,
        min_score=None if min_score is None else float(min_score),
        covered=covered,
        existing=ex_frame,
        reason_stage=reason_stage,
        fixed_rec=fixed_rec,
        k_label=k_label,
        max_travel=max_travel_minutes,
        required_by_sup=required_by_sup,
    )


# ----------------------------------------------------------------------------------------------------------------
# Exact kernels. Each takes the free rows and returns the chosen rows.


def _assignment_kernel(r: np.ndarray, s: np.ndarray, score: np.ndarray, cap_left: np.ndarray) -> np.ndarray:
    """Chosen positions (into r/s/score) of a lexicographically optimal b-matching, via LAPJVsp."""
    if len(r) == 0:
        return np.empty(0, dtype=np.int64)
    # r arrives sorted; compress recipient codes to 0..n-1 without a sort
    present = np.zeros(int(r.max()) + 1, dtype=bool)
    present[r] = True
    r_loc = (np.cumsum(present) - 1)[r]
    n = int(present.sum())
    deg = np.bincount(s, minlength=len(cap_left))
    slots = np.minimum(cap_left, deg)  # a supporter never needs more slots than recipients it can reach
    start = np.concatenate([[0], np.cumsum(slots)[:-1]])
    n_slots = int(slots.sum())
    rep = slots[s]
    edge = np.repeat(np.arange(len(r)), rep)  # each pair once per slot of its supporter; still sorted by row
    offset = np.arange(len(edge)) - np.repeat(np.cumsum(rep) - rep, rep)
    col = start[s[edge]] + offset
    k_big = float(score.max()) + 1.0
    best = np.zeros(n)
    np.maximum.at(best, r_loc, score)
    dummy_cost = k_big + float(best.sum()) + 1.0
    # CSR directly: row i holds its real entries then its private dummy column n_slots + i
    per_row = np.bincount(r_loc[edge], minlength=n) + 1
    indptr = np.concatenate([[0], np.cumsum(per_row)])
    nnz = int(indptr[-1])
    dummy_pos = indptr[1:] - 1
    real_pos = np.arange(len(edge)) + r_loc[edge]  # shifted by one dummy per earlier row
    cols_o = np.empty(nnz, dtype=np.int64)
    cost_o = np.empty(nnz)
    ent_o = np.empty(nnz, dtype=np.int64)
    cols_o[real_pos], cols_o[dummy_pos] = col, n_slots + np.arange(n)
    cost_o[real_pos], cost_o[dummy_pos] = k_big - score[edge], dummy_cost
    ent_o[real_pos], ent_o[dummy_pos] = edge, -1
    graph = csr_matrix((cost_o, cols_o, indptr), shape=(n, n_slots + n))
    try:
        row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    except ValueError as exc:  # cannot happen with private dummies; never hide it if it does
        raise InfeasibleError(f"assignment solver found no full matching: {exc}") from exc
    if len(row_ind) != n:
        raise InfeasibleError(f"assignment solver matched {len(row_ind)} of {n} recipients")
    chosen_col = np.empty(n, dtype=np.int64)
    chosen_col[row_ind] = col_ind
    hit = cols_o == np.repeat(chosen_col, np.diff(indptr))
    picked = ent_o[hit]
    picked = picked[picked >= 0]
    if len(np.unique(r_loc[picked])) != len(picked):
        raise InfeasibleError("assignment solver returned an invalid matching (a recipient matched twice)")
    return picked


def _mip_kernel(
    r: np.ndarray, s: np.ndarray, score: np.ndarray, cap_left: np.ndarray, time_limit: float
) -> tuple[np.ndarray, bool, list[str]]:
    """Same model as a HiGHS MIP, two stages; returns (chosen positions, proven optimal, notes)."""
    import highspy

    if len(r) == 0:
        return np.empty(0, dtype=np.int64), True, []
    rec_u, r_loc = np.unique(r, return_inverse=True)
    sup_u, s_loc = np.unique(s, return_inverse=True)
    n_r, n_s, n_e = len(rec_u), len(sup_u), len(r)
    # Column-wise matrix: column e has a 1 in its recipient row and in its supporter row.
    a_start = np.arange(0, 2 * n_e + 1, 2, dtype=np.int32)
    a_index = np.empty(2 * n_e, dtype=np.int32)
    a_index[0::2] = r_loc
    a_index[1::2] = n_r + s_loc
    a_value = np.ones(2 * n_e)
    row_lower = np.full(n_r + n_s, -highspy.kHighsInf)
    row_upper = np.concatenate([np.ones(n_r), cap_left[sup_u].astype(float)])
    notes: list[str] = []
    proven = True

    def solve(h: highspy.Highs, stage: str) -> np.ndarray:
        nonlocal proven
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        gap = info.mip_gap
        bound_gap = abs(info.mip_dual_bound - info.objective_function_value)
        if status != highspy.HighsModelStatus.kOptimal or not (gap <= 1e-9 or bound_gap <= 1e-6):
            proven = False
            notes.append(f"HiGHS {stage}: status {h.modelStatusToString(status)}, MIP gap {gap:.3g}")
        if info.primal_solution_status != highspy.kSolutionStatusFeasible:
            raise InfeasibleError(f"HiGHS found no feasible solution at {stage} ({h.modelStatusToString(status)})")
        return np.asarray(h.getSolution().col_value)

    def model(cost: np.ndarray) -> highspy.Highs:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-7)
        h.setOptionValue("time_limit", float(time_limit))
        h.passModel(
            n_e,
            n_r + n_s,
            2 * n_e,
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMaximize),
            0.0,
            cost,
            np.zeros(n_e),
            np.ones(n_e),
            row_lower,
            row_upper,
            a_start,
            a_index,
            a_value,
            np.ones(n_e, dtype=np.int32),
        )
        return h

    h1 = model(np.ones(n_e))
    x1 = solve(h1, "stage 1 (most recipients matched)")
    m_best = int(np.rint(x1.sum()))
    h2 = model(score.astype(float))
    h2.addRows(
        1,
        np.array([m_best - 0.5]),
        np.array([highspy.kHighsInf]),
        n_e,
        np.array([0], dtype=np.int32),
        np.arange(n_e, dtype=np.int32),
        np.ones(n_e),
    )
    x2 = solve(h2, "stage 2 (best total score)")
    return np.nonzero(x2 > 0.5)[0], proven, notes


# ----------------------------------------------------------------------------------------------------------------
# Assembly: pairs and reasons.

_STAGE_REASON = {
    0: "no candidate supporter listed",
    2: "all candidates within reach are themselves in difficulty",
    3: "forbidden pairs exclude every candidate",
}


def _group(keys: np.ndarray, values: np.ndarray) -> dict[int, list[int]]:
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    cut = np.flatnonzero(np.diff(keys)) + 1
    return {
        int(kv[0]): vv.tolist() for kv, vv in zip(np.split(keys, cut), np.split(values, cut), strict=True) if len(kv)
    }


def _reasons(p: _Problem, chosen_rows: np.ndarray) -> pd.DataFrame:
    matched = np.zeros(len(p.rec_codes), dtype=bool)
    matched[p.r[chosen_rows]] = True
    matched |= p.fixed_rec | p.covered
    idx = np.nonzero(~matched)[0]
    reasons = []
    # candidates of the unmatched recipients, grouped once (never a scan of all pairs per recipient)
    is_unmatched = np.zeros(len(p.rec_codes), dtype=bool)
    is_unmatched[idx] = True
    in_idx = is_unmatched[p.r]
    cand_free = _group(p.r[in_idx & p.free], p.s[in_idx & p.free])
    cand_cap = _group(p.r[in_idx & p.alive_pre_cap], p.s[in_idx & p.alive_pre_cap])
    sup_load: dict[int, list[str]] = {}
    rows = np.concatenate([chosen_rows, p.fixed_rows])
    if len(idx):
        rec_names = p.table["recipient"].to_numpy()
        for j, rr in zip(p.s[rows], rec_names[rows], strict=True):
            sup_load.setdefault(int(j), []).append(str(rr))
        if len(p.existing):  # existing partnerships use capacity too: name them
            js = p.sup_codes.get_indexer(p.existing["supporter"])
            for j, rr in zip(js, p.existing["recipient"], strict=True):
                if j >= 0:
                    sup_load.setdefault(int(j), []).append(f"{rr} (existing)")
    for i in idx:  # one step per *unmatched* recipient, to word its reason (not on the solving path)
        st = int(p.reason_stage[i])
        if st == 1:
            why = (
                f"no supporter within {p.max_travel:g} minutes"
                if p.max_travel is not None
                else "no candidate supporter listed"
            )
        elif st == 4:
            why = (
                f"no suitable partner: every candidate within reach scores below the minimum suitability of "
                f"{p.min_score:g} (best {p.best_unsuitable[i]:.1f})"
            )
        elif st == 5:
            cands = cand_cap.get(int(i), [])
            bits = [
                f"{p.sup_codes[j]} (required for {', '.join(map(str, p.required_by_sup[j]))})"
                for j in cands
                if j in p.required_by_sup
            ][:3]
            held = [f"{p.sup_codes[j]} supports {', '.join(sup_load[j])}" for j in cands if j in sup_load][:3]
            why = (
                ("required pairs use all the capacity of every candidate: " + "; ".join(bits))
                if bits
                else ("existing partnerships use all the capacity of every candidate: " + "; ".join(held))
                if held
                else "every candidate has capacity 0"
            )
        elif st in _STAGE_REASON:
            why = _STAGE_REASON[st]
        else:
            cands = cand_free.get(int(i), [])
            bits = [f"{p.sup_codes[j]} supports {', '.join(sup_load.get(j, []))}" for j in cands[:3]]
            more = f" (+{len(cands) - 3} more)" if len(cands) > 3 else ""
            why = (
                f"every candidate within reach is at capacity supporting others ({p.k_label}): "
                + "; ".join(bits)
                + more
            )
        reasons.append(why)
    return pd.DataFrame(
        {
            "recipient": pd.Series(p.rec_codes[idx].to_numpy(), dtype=object),
            "role": pd.Series([p.role] * len(idx), dtype=object),
            "reason": pd.Series(reasons, dtype=object),
        }
    )


def _pairs(p: _Problem, chosen_rows: np.ndarray) -> pd.DataFrame:
    rows = np.sort(np.concatenate([chosen_rows, p.fixed_rows]))
    out = p.table.iloc[rows].copy()
    out["score"] = p.score[rows]
    out.insert(3, "role", p.role)
    out["required"] = np.isin(rows, p.fixed_rows)
    lead = ["recipient", "supporter", "score", "role", "required"]
    return out[lead + [c for c in out.columns if c not in lead]].reset_index(drop=True)


def _run(p: _Problem, kernel: str, time_limit: float) -> tuple[np.ndarray, bool, list[str]]:
    free_rows = p.order[p.free[p.order]]  # sorted by recipient
    if kernel == "assignment":
        pick = _assignment_kernel(p.r[free_rows], p.s[free_rows], p.score[free_rows], p.cap_left)
        return free_rows[pick], True, []
    pick, proven, notes = _mip_kernel(p.r[free_rows], p.s[free_rows], p.score[free_rows], p.cap_left, time_limit)
    return free_rows[pick], proven, notes


def _plan(
    suitability: pd.DataFrame,
    capacity: int | Mapping[str, int],
    required: Iterable[Pair] | None,
    forbidden: Iterable[Pair] | None,
    supporters_in_difficulty: Iterable[str] | None,
    max_travel_minutes: float | None,
    recipients: Iterable[str] | None,
    second_kind_suitability: pd.DataFrame | None,
    second_capacity: int | Mapping[str, int],
    kernel: str,
    time_limit: float = 600.0,
    require_proof: bool = True,
    existing: Iterable[Pair] | None = None,
    min_score: float | None = None,
) -> BuddyingPlan:
    t0 = time.perf_counter()
    forbidden = list(forbidden or [])
    difficulty = set(supporters_in_difficulty or ())
    lead = _prepare(
        suitability,
        role="lead",
        capacity=capacity,
        required=required or [],
        forbidden=forbidden,
        supporters_in_difficulty=difficulty,
        max_travel_minutes=max_travel_minutes,
        recipients=recipients,
        existing=existing or (),
        min_score=min_score,
    )
    rows, proven, notes = _run(lead, kernel, time_limit)
    pairs = [_pairs(lead, rows)]
    unmatched = [_reasons(lead, rows)]
    lead_score = float(pairs[0]["score"].sum())
    n_lead = len(pairs[0])
    if second_kind_suitability is not None:
        second = _prepare(
            second_kind_suitability,
            role="second",
            capacity=second_capacity,
            required=[],
            forbidden=forbidden,
            supporters_in_difficulty=difficulty,
            max_travel_minutes=max_travel_minutes,
            recipients=recipients,
            # the second partner is not the lead again, new or existing
            exclude=pd.concat([pairs[0][["recipient", "supporter"]], lead.existing[["recipient", "supporter"]]]),
            min_score=min_score,
        )
        rows2, proven2, notes2 = _run(second, kernel, time_limit)
        proven, notes = proven and proven2, notes + notes2
        pairs.append(_pairs(second, rows2))
        unmatched.append(_reasons(second, rows2))
    if kernel == "mip" and not proven and require_proof:
        raise InfeasibleError("HiGHS did not prove the plan optimal: " + "; ".join(notes))
    all_pairs = pd.concat(pairs, ignore_index=True) if len(pairs) > 1 else pairs[0]
    all_unmatched = pd.concat(unmatched, ignore_index=True) if len(unmatched) > 1 else unmatched[0]
    return BuddyingPlan(
        pairs=all_pairs,
        total_score=float(all_pairs["score"].sum()),
        unmatched=all_unmatched,
        n_lead=n_lead,
        lead_score=lead_score,
        solver="scipy LAPJVsp (min_weight_full_bipartite_matching)" if kernel == "assignment" else "HiGHS MIP",
        proven_optimal=proven,
        solve_seconds=time.perf_counter() - t0,
        notes=notes,
        existing=lead.existing,
    )


def buddying_plan(
    suitability: pd.DataFrame,
    capacity: int | Mapping[str, int] = 1,
    required: Iterable[Pair] | None = None,
    forbidden: Iterable[Pair] | None = None,
    supporters_in_difficulty: Iterable[str] | None = None,
    *,
    max_travel_minutes: float | None = None,
    recipients: Iterable[str] | None = None,
    second_kind_suitability: pd.DataFrame | None = None,
    second_capacity: int | Mapping[str, int] = 1,
    existing: Iterable[Pair] | None = None,
    min_score: float | None = None,
) -> BuddyingPlan:
    """Exact optimal assignment of lead partners (and optionally a second partner of another kind).

    Parameters
    ----------
    suitability
        One row per allowed pair: ``recipient, supporter, score`` (score > 0), optionally ``travel_minutes`` and
        any other columns (e.g. reasons), which are passed through to ``pairs``.
    capacity
        Most recipients a supporter may lead for: one number, or ``{supporter: k}`` (unnamed supporters: 1).
    required, forbidden
        Lists of ``(recipient, supporter)`` pairs that must / must not be used.
    supporters_in_difficulty
        Organisations never allowed to support.
    max_travel_minutes
        Drop pairs whose ``travel_minutes`` is over this (or missing).
    recipients
        All organisations in difficulty, so that those with no listed candidate are reported as unmatched.
    second_kind_suitability, second_capacity
        A second partner of another kind (e.g. technology), solved as its own exact assignment after the lead one,
        never repeating a recipient's lead supporter.
    existing
        ``(recipient, supporter)`` partnerships already in place, held fixed: the recipient is covered (it gets no
        new lead and is not reported unmatched) and the pair uses one unit of the supporter's capacity. They are
        not filtered (they exist) and are returned in ``existing``, not in ``pairs``.
    min_score
        The minimum suitability of a chosen pair (required pairs excepted): a recipient whose candidates all score
        below it is unmatched with the reason "no suitable partner". ``None``: any listed pair will do.

    Raises ``ValidationError`` for inconsistent inputs (a required pair also forbidden, a required supporter in
    difficulty, two required leads for one recipient) and ``InfeasibleError`` when required pairs cannot all hold.
    """
    return _plan(
        suitability,
        capacity,
        required,
        forbidden,
        supporters_in_difficulty,
        max_travel_minutes,
        recipients,
        second_kind_suitability,
        second_capacity,
        kernel="assignment",
        existing=existing,
        min_score=min_score,
    )


def plan_mip_highs(
    suitability: pd.DataFrame,
    capacity: int | Mapping[str, int] = 1,
    required: Iterable[Pair] | None = None,
    forbidden: Iterable[Pair] | None = None,
    supporters_in_difficulty: Iterable[str] | None = None,
    *,
    max_travel_minutes: float | None = None,
    recipients: Iterable[str] | None = None,
    second_kind_suitability: pd.DataFrame | None = None,
    second_capacity: int | Mapping[str, int] = 1,
    time_limit: float = 600.0,
    require_proof: bool = True,
    existing: Iterable[Pair] | None = None,
    min_score: float | None = None,
) -> BuddyingPlan:
    """:func:`buddying_plan` solved as a HiGHS MIP (two lexicographic stages), built from numpy arrays.

    The status and MIP gap are checked: unless HiGHS proves optimality (status Optimal, zero gap), this raises
    ``InfeasibleError`` (or, with ``require_proof=False``, returns the plan with ``proven_optimal=False``).
    """
    return _plan(
        suitability,
        capacity,
        required,
        forbidden,
        supporters_in_difficulty,
        max_travel_minutes,
        recipients,
        second_kind_suitability,
        second_capacity,
        kernel="mip",
        time_limit=time_limit,
        require_proof=require_proof,
        existing=existing,
        min_score=min_score,
    )
