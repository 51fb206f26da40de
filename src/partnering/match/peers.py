"""Peer finder: the most similar organisations to each organisation ("Similar 10").

Method
------
Follows the nearest-neighbour approach used for NHS and local-government benchmarking:

* NHS RightCare "Similar 10": each system is compared with the 10 most similar systems on 12 demographic
  variables covering deprivation, population age distribution, population density and ethnic minority
  representation (NHS England, *RightCare methodology*,
  https://www.england.nhs.uk/rightcare/rightcare-methodology/; the full variable list is published on the
  National RightCare FutureNHS workspace). The same comparators are used in the Model Health System.
* CIPFA Nearest Neighbours Model: variables are standardised to mean 0 and standard deviation 1 and the
  (weighted) Euclidean distance between every pair of authorities is computed; distances are "rebased" so the
  farthest pair has distance 1 (CIPFA, *Nearest Neighbours Model (England)*, as described e.g. by Hartlepool
  JSNA "Statistical Neighbours").
* ONS, *Clustering similar local authorities and statistical nearest neighbours in the UK, methodology* (2025):
  ordered lists of the most similar areas from standardised indicators, with correlated indicators pruned so a
  theme is not counted twice.

So: each numeric variable is standardised to a z-score over all organisations given; a missing value is
replaced by the variable's median *before* standardising (and reported in ``imputed_vars``); the distance
between organisations *i* and *j* is

    d(i, j)^2 = sum_v w_v (z_iv - z_jv)^2

and each peer row carries ``contrib_<v> = w_v (z_iv - z_jv)^2`` so the contributions add up to the squared
distance. ``similarity = 1 - d / d_max`` where ``d_max`` is the largest distance among the pairs compared
(CIPFA's rebasing), so the farthest pair scores 0 and identical organisations score 1.

The hot path is block-wise: for a block of organisations the squared distances to every candidate come from one
matrix product (``|a|^2 + |b|^2 - 2 a.b``), the k nearest are picked with ``argpartition``; the exact distances
and contributions of the chosen pairs are then recomputed directly from the z-scores (no cancellation error in
what is reported).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from partnering.errors import ValidationError

__all__ = ["DEFAULT_WEIGHT_SOURCES", "VARIABLE_WORDS", "default_weights", "explain_peer", "find_peers",
           "variable_words"]

# Default weights. Rationale: RightCare Similar 10 uses four demographic themes (deprivation, age structure,
# population density/rurality, ethnicity); we add organisation size because a buddy or benchmark of very
# different scale is rarely comparable (the Model Health System peer finder also offers size-based peers).
# Each *theme* gets a total weight of 1, split equally between the variables that measure it, so a theme
# measured by three correlated variables (age) does not count three times (the ONS 2025 method prunes
# correlated indicators for the same reason). A variable not listed here gets weight 1 (a theme of its own).
_DEFAULTS: dict[str, tuple[float, str]] = {
    "imd_score": (1.0, "deprivation theme (RightCare Similar 10): IMD score, whole theme weight 1"),
    "pct_aged_under_18": (1 / 3, "age-structure theme (RightCare Similar 10): 1 of 3 age variables, weight 1/3"),
    "pct_aged_65_plus": (1 / 3, "age-structure theme (RightCare Similar 10): 1 of 3 age variables, weight 1/3"),
    "pct_aged_85_plus": (1 / 3, "age-structure theme (RightCare Similar 10): 1 of 3 age variables, weight 1/3"),
    "population_density": (0.5, "density/rurality theme (RightCare Similar 10): 1 of 2 variables, weight 1/2"),
    "pct_rural": (0.5, "density/rurality theme (RightCare Similar 10): 1 of 2 variables, weight 1/2"),
    "pct_ethnic_minority": (1.0, "ethnicity theme (RightCare Similar 10): whole theme weight 1"),
    "log_list_size": (1.0, "size theme (our addition; Model Health System size peers): log scale, weight 1"),
}

DEFAULT_WEIGHT_SOURCES: dict[str, str] = {k: v[1] for k, v in _DEFAULTS.items()}
"""Where each default weight comes from (see module docstring and docs/methods/peers.md)."""

_BLOCK = 128  # rows of the screening matrix held at once: 128 x 6,400 float32 = 3 MB, stays in cache


def default_weights() -> dict[str, float]:
    """Default weight of each named contextual variable; the rationale of each is in ``DEFAULT_WEIGHT_SOURCES``.

    Variables present in a context table but not named here get weight 1.
    """
    return {k: v[0] for k, v in _DEFAULTS.items()}


def _validate(context: pd.DataFrame, k: int, weights: Mapping[str, float] | None) -> tuple[list[str], np.ndarray]:
    if not isinstance(context, pd.DataFrame):
        raise ValidationError("context must be a DataFrame indexed by org_code")
    if context.index.has_duplicates:
        dups = context.index[context.index.duplicated()].unique()[:5].tolist()
        raise ValidationError(f"context has duplicated org_code values: {dups}")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValidationError(f"k must be a positive integer, got {k!r}")
    variables = [c for c in context.columns if c != "kind"]
    bad = [
        c for c in variables if not pd.api.types.is_numeric_dtype(context[c]) or pd.api.types.is_bool_dtype(context[c])
    ]
    if bad:
        raise ValidationError(f"context variables must be numeric (kind is the only label column): {bad}")
    if not variables:
        raise ValidationError("context has no numeric variables to compare on")
    if weights is None:
        dflt = default_weights()
        w = np.array([dflt.get(v, 1.0) for v in variables], dtype=float)
    else:
        unknown = [v for v in weights if v not in variables]
        if unknown:
            raise ValidationError(f"weights name variables not in context: {unknown}")
        w = np.array([float(weights.get(v, 1.0)) for v in variables], dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValidationError("weights must be finite and non-negative")
    if not np.any(w > 0):
        raise ValidationError("at least one weight must be positive")
    return variables, w


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median-impute missing values, then z-score each column (population SD). Returns (z, missing mask)."""
    missing = ~np.isfinite(x)
    if missing.any():
        x = x.copy()
        med = np.nanmedian(np.where(missing, np.nan, x), axis=0)
        med = np.where(np.isfinite(med), med, 0.0)  # an all-missing column carries no information
        rows, cols = np.nonzero(missing)
        x[rows, cols] = med[cols]
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant column gives z = 0 everywhere
    return (x - mean) / sd, missing


_EPS32 = float(np.finfo(np.float32).eps)
_WORKERS = max(1, min(os.cpu_count() or 1, 8))


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread while the blocks run (threadpoolctl, if installed; otherwise a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn and scipy's test extras
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _pad(rows: np.ndarray, values: np.ndarray, b: int, fill: float) -> tuple[np.ndarray, np.ndarray]:
    """Scatter row-sorted (rows, values) into a (b, width) matrix; returns (matrix, slot of each value)."""
    counts = np.bincount(rows, minlength=b)
    width = max(int(counts.max()) if len(rows) else 0, 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(rows)) - starts[rows]
    out = np.full((b, width), fill, dtype=values.dtype)
    out[rows, slot] = values
    return out, slot


def _knn_block(
    q64: np.ndarray,
    q32: np.ndarray,
    c64: np.ndarray,
    c32: np.ndarray,
    c_sq32: np.ndarray,
    self_pos: np.ndarray,
    k: int,
    sample: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Exact k nearest candidates (rows of ``c``) to each row of ``q``, self excluded.

    1. Screening in float32: ``t = |c|^2 - 2 q.c`` (= d^2 - |q|^2, so the same order within a row) from one
       matrix product. ``E`` bounds the rounding error of ``t``.
    2. A row's k-th smallest ``t`` over a fixed sample of columns is at least its k-th smallest over all columns,
       so every column with ``t <= that + 2E`` is kept: about ``k * m / len(sample)`` per row instead of ``m``.
    3. Among those, keep ``t <= (k-th smallest t) + 2E`` (usually exactly k), which provably contains the exact
       k nearest; recompute their d^2 in float64 from differences and rank by it (ties by position).

    Returns (indices into c, -1 where fewer than k exist, shape (b, k); block max d^2).
    """
    b, m = q32.shape[0], c32.shape[0]
    p = q32.shape[1]
    q_sq = np.einsum("ij,ij->i", q64, q64)
    t = q32 @ c32.T  # c32 holds -2 c, so this is -2 q.c
    t += c_sq32
    dmax = float(np.max(t.max(axis=1) + q_sq)) if t.size else 0.0
    has_self = self_pos >= 0
    t[np.nonzero(has_self)[0], self_pos[has_self]] = np.nan  # nan never passes a <= test
    margin = (4.0 * (p + 8) * _EPS32 * (q_sq + float(c_sq32.max()) + 1.0)).astype(np.float32)
    if len(sample) >= k + 1:
        thr = np.partition(t[:, sample], k - 1, axis=1)[:, k - 1] + margin
    else:
        thr = np.full(b, np.inf, dtype=np.float32)
    flat = np.flatnonzero(t <= thr[:, None])
    rows, cols = np.divmod(flat, m)
    tv = t.ravel()[flat]
    out_idx = np.full((b, k), -1, dtype=np.intp)
    if len(rows) == 0:
        return out_idx, dmax
    pad_t, _ = _pad(rows, tv, b, np.inf)
    kk = min(k, pad_t.shape[1])
    kth = np.partition(pad_t, kk - 1, axis=1)[:, kk - 1] if kk < pad_t.shape[1] else pad_t.max(axis=1)
    keep = tv <= (kth + margin)[rows]
    rows, cols = rows[keep], cols[keep]
    diff = q64[rows] - c64[cols]
    d2 = np.einsum("ij,ij->i", diff, diff)
    pad_d, slot = _pad(rows, d2, b, np.inf)
    pad_c = np.full(pad_d.shape, np.iinfo(np.intp).max, dtype=np.intp)
    pad_c[rows, slot] = cols
    order = np.lexsort((pad_c, pad_d), axis=1)[:, :k]
    top_d = np.take_along_axis(pad_d, order, axis=1)
    top_c = np.take_along_axis(pad_c, order, axis=1)
    w = top_c.shape[1]
    out_idx[:, :w] = np.where(np.isfinite(top_d), top_c, -1)
    return out_idx, dmax


def find_peers(
    context: pd.DataFrame,
    k: int = 10,
    weights: Mapping[str, float] | None = None,
    among: pd.Series | None = None,
    same_kind: bool = True,
    pinned: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """The ``k`` most similar organisations to every organisation in ``context``.

    Parameters
    ----------
    context
        One row per organisation, indexed by ``org_code``; numeric contextual variables plus an optional ``kind``
        column (e.g. ``acute``, ``gp``). Missing values are median-imputed and reported.
    k
        Peers per organisation (RightCare uses 10).
    weights
        Weight per variable; variables not named get 1 (0 drops a variable). ``None`` uses ``default_weights()``.
    among
        Which organisations may be peers: a boolean Series indexed by org_code, or a Series of org codes.
        Every organisation in ``context`` still gets peers; standardisation always uses all of ``context``.
    same_kind
        If true and ``kind`` is present, peers are drawn only from the same kind.
    pinned
        ``{org_code: [peer_code, ...]}``: a user's bespoke peer list, returned instead of the computed one, ranked
        as given, with distances and contributions computed the same way.

    Returns
    -------
    Long DataFrame: ``org_code, peer_code, rank, distance, similarity, contrib_<var>..., imputed_vars, pinned``.
    ``imputed_vars`` names the variables imputed for the organisation or the peer (empty if none).
    """
    variables, w = _validate(context, k, weights)
    codes = context.index.to_numpy()
    n = len(codes)
    x = context[variables].to_numpy(dtype=float)
    z, missing = _standardise(x)
    zw = np.ascontiguousarray(z * np.sqrt(w))  # weighted space: plain Euclidean distance = weighted distance

    zw32 = zw.astype(np.float32)
    cand_mask = np.ones(n, dtype=bool)
    if among is not None:
        if pd.api.types.is_bool_dtype(among):
            allowed = among[among].index
        else:
            allowed = pd.Index(among.to_numpy())
        unknown = allowed.difference(context.index)
        if len(unknown):
            raise ValidationError(f"among names organisations not in context: {unknown[:5].tolist()}")
        cand_mask = context.index.isin(allowed)

    if same_kind and "kind" in context.columns:
        kind_codes, _ = pd.factorize(context["kind"], use_na_sentinel=False)
    else:
        kind_codes = np.zeros(n, dtype=np.intp)

    tasks = []
    for g in np.unique(kind_codes):  # a handful of kinds, never one loop step per organisation
        q_idx = np.nonzero(kind_codes == g)[0]
        c_idx = np.nonzero((kind_codes == g) & cand_mask)[0]
        if len(c_idx) == 0:
            continue
        c64 = zw[c_idx]
        c32 = (-2.0 * c64).astype(np.float32)  # exact scaling by a power of two
        c_sq32 = np.einsum("ij,ij->i", c64, c64).astype(np.float32)
        cpos = np.full(n, -1, dtype=np.intp)
        cpos[c_idx] = np.arange(len(c_idx))
        n_sample = min(len(c_idx), max(32 * (k + 1), len(c_idx) // 16))
        sample = np.unique(np.linspace(0, len(c_idx) - 1, n_sample).astype(np.intp))
        for start in range(0, len(q_idx), _BLOCK):
            qb = q_idx[start : start + _BLOCK]
            tasks.append((qb, c_idx, (zw[qb], zw32[qb], c64, c32, c_sq32, cpos[qb], k, sample)))

    def run(task):
        qb, c_idx, args = task
        idx, bmax = _knn_block(*args)
        rows, ranks = np.nonzero(idx >= 0)
        return qb[rows], c_idx[idx[rows, ranks]], ranks + 1, bmax

    # Small matrix products are fastest on one BLAS thread each; blocks run on a thread per core instead
    # (numpy releases the GIL), which also avoids BLAS threads spinning when another process holds a core.
    with _one_blas_thread():
        if len(tasks) >= 4 and _WORKERS > 1:
            with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
                results = list(pool.map(run, tasks))
        else:
            results = [run(t) for t in tasks]
    pos_q = [r[0] for r in results]
    pos_p = [r[1] for r in results]
    rank_l = [r[2] for r in results]
    d2max = max((r[3] for r in results), default=0.0)

    qi = np.concatenate(pos_q) if pos_q else np.empty(0, dtype=np.intp)
    pi = np.concatenate(pos_p) if pos_p else np.empty(0, dtype=np.intp)
    rk = np.concatenate(rank_l) if rank_l else np.empty(0, dtype=np.intp)
    is_pinned = np.zeros(len(qi), dtype=bool)

    if pinned:
        code_pos = pd.Series(np.arange(n), index=context.index)
        pin_orgs = list(pinned)
        bad_orgs = [o for o in pin_orgs if o not in code_pos.index]
        pin_q = np.concatenate([np.full(len(pinned[o]), o, dtype=object) for o in pin_orgs]) if pin_orgs else []
        pin_p = np.concatenate([np.asarray(list(pinned[o]), dtype=object) for o in pin_orgs]) if pin_orgs else []
        bad_peers = sorted({p for p in pin_p if p not in code_pos.index})
        if bad_orgs or bad_peers:
            raise ValidationError(f"pinned peers name organisations not in context: {bad_orgs + bad_peers}")
        for o in pin_orgs:
            if len(set(pinned[o])) != len(pinned[o]) or o in set(pinned[o]):
                raise ValidationError(f"pinned peer list for {o} repeats a peer or names the organisation itself")
        pin_rank = np.concatenate([np.arange(1, len(pinned[o]) + 1) for o in pin_orgs])
        keep = ~np.isin(qi, code_pos[pin_orgs].to_numpy())
        qi = np.concatenate([qi[keep], code_pos[pin_q].to_numpy()])
        pi = np.concatenate([pi[keep], code_pos[pin_p].to_numpy()])
        rk = np.concatenate([rk[keep], pin_rank])
        is_pinned = np.concatenate([is_pinned[keep], np.ones(len(pin_rank), dtype=bool)])

    order = np.lexsort((rk, qi))  # organisations in context order, then by rank
    qi, pi, rk, is_pinned = qi[order], pi[order], rk[order], is_pinned[order]
    contrib = (zw[qi] - zw[pi]) ** 2
    d2 = contrib.sum(axis=1)
    dist = np.sqrt(d2)
    dmax = max(np.sqrt(d2max), float(dist.max()) if len(dist) else 0.0)
    similarity = 1.0 - dist / dmax if dmax > 0 else np.ones_like(dist)

    cols: dict[str, object] = {
        "org_code": pd.Series(context.index.take(qi), copy=False),
        "peer_code": pd.Series(context.index.take(pi), copy=False),
        "rank": rk.astype(np.int64),
        "distance": dist,
        "similarity": np.clip(similarity, 0.0, 1.0),
    }
    for j, v in enumerate(variables):
        cols[f"contrib_{v}"] = contrib[:, j]
    cols["imputed_vars"] = _imputed_labels(missing, variables, qi, pi)
    cols["pinned"] = is_pinned
    return pd.DataFrame(cols)


def _imputed_labels(missing: np.ndarray, variables: list[str], qi: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Comma-separated names of variables imputed for either side of each pair ('' if none)."""
    if not missing.any():
        return np.full(len(qi), "", dtype=object)
    p = missing.shape[1]
    if p <= 62:  # one integer bit-mask per organisation: unique over ints, not over rows of a bool matrix
        bits = missing.astype(np.int64) @ (np.int64(1) << np.arange(p, dtype=np.int64))
        pair_bits = bits[qi] | bits[pi]
        out = np.full(len(qi), "", dtype=object)
        some = np.nonzero(pair_bits)[0]
        keys, inverse = np.unique(pair_bits[some], return_inverse=True)
        rows = ((keys[:, None] >> np.arange(p)) & 1).astype(bool)
        labels = np.array([", ".join(v for v, m in zip(variables, r, strict=True) if m) for r in rows], dtype=object)
        out[some] = labels[np.asarray(inverse).ravel()]
        return out
    rows, inverse = np.unique(missing[qi] | missing[pi], axis=0, return_inverse=True)
    labels = np.array([", ".join(v for v, m in zip(variables, r, strict=True) if m) for r in rows], dtype=object)
    return labels[np.asarray(inverse).ravel()]


#: what each contextual variable measures, in words for the reasons users read (not the variable names of
#: :mod:`partnering.match.context`); a variable not listed is named by its own name with spaces
VARIABLE_WORDS: dict[str, str] = {
    "imd_score": "deprivation (IMD score)",
    "pct_over_65": "share of people aged 65 and over",
    "pct_aged_under_18": "share of people aged under 18",
    "pct_aged_65_plus": "share of people aged 65 and over",
    "pct_aged_85_plus": "share of people aged 85 and over",
    "rurality": "rurality",
    "pct_rural": "share living in rural areas",
    "population_density": "population density",
    "pct_ethnic_minority": "share from ethnic minorities",
    "log_catchment_population": "catchment population",
    "log_list_size": "registered list size",
    "log_beds": "number of beds",
    "log_ae_attendances": "A&E attendances",
    "log_emergency_admissions": "emergency admissions",
    "log_rtt_pathways": "elective waiting list size",
    "case_mix_index": "case mix",
    "type1_share": "share of A&E attendances at major (type 1) departments",
    "admissions_per_attendance": "emergency admissions per A&E attendance",
}


def variable_words(var: str) -> str:
    """A contextual variable (or a ``contrib_`` column) in words, e.g. ``log_rtt_pathways`` -> "elective waiting
    list size"."""
    name = str(var).removeprefix("contrib_")
    return VARIABLE_WORDS.get(name, name.replace("_", " "))


_label = variable_words


def explain_peer(row: pd.Series | Mapping[str, object]) -> str:
    """One sentence on why a peer is close, from a row of ``find_peers``.

    e.g. ``"closest on deprivation (IMD score) and registered list size; differs most on share of people aged 65
    and over (62% of the difference between them)"`` ("difference" is the weighted distance of the method: each
    variable's share of its square, which adds up to 100%).
    """
    row = pd.Series(row)
    contrib = row[[c for c in row.index if str(c).startswith("contrib_")]].astype(float)
    if contrib.empty:
        raise ValidationError("row has no contrib_<variable> columns; pass a row of find_peers()")
    total = float(contrib.sum())
    if total <= 0:
        return "identical on every variable compared"
    order = contrib.sort_values(kind="stable")
    close = [_label(c) for c in order.index[: min(2, len(order) - 1 if len(order) > 1 else 1)]]
    worst = order.index[-1]
    share = float(order.iloc[-1]) / total
    text = f"closest on {' and '.join(close)}; differs most on {_label(worst)} ({share:.0%} of the difference " \
           "between them)"
    imputed = [v.strip() for v in str(row.get("imputed_vars", "") or "").split(",") if v.strip()]
    if imputed:
        text += f"; not known for one of the two, so the median was used (imputed: {', '.join(map(_label, imputed))})"
    return text
