"""Least squares on the probability simplex, solved exactly: the inner problem of synthetic control.

``simplex_least_squares(A, b)`` returns ``w >= 0`` with ``sum(w) == 1`` minimising ``||A w - b||^2``.  For synthetic
control ``A`` holds the donors' (V-weighted) predictors as columns and ``b`` the treated unit's, so the answer is the
point of the donors' convex hull nearest the treated unit (Abadie, Diamond & Hainmueller 2010, eq. 4 with a diagonal
V folded into ``A`` and ``b``).

Method: a primal active-set method in the manner of Lawson & Hanson's NNLS (Lawson & Hanson 1974, *Solving Least
Squares Problems*, ch. 23), with the sum-to-one constraint kept exactly by solving each sub-problem on the affine
hull of the current support (reduced to an unconstrained least squares in the differences ``A_j - A_p0``).  Pricing
uses the Lagrangian ``g_j - mu`` with ``g = A'(A w - b)`` and ``mu = w'g`` (the KKT conditions of the simplex: ``g_j
>= mu`` for every donor, equality on the support), so each step costs one ``A' r`` product over all donors plus a
small linear solve of the size of the support (at most ``rows + 1`` donors carry weight, by Caratheodory's
theorem): the KKT system ``[G_PP 1; 1' 0] [z; mu] = [c_P; 1]`` with ``G = A'A``, ``c = A'b``.  For up to
``GRAM_MAX`` donors ``G`` is formed once; above that only ``G_PP`` is.  It ends at a KKT point of a convex problem,
i.e. the exact optimum up to floating point, with no step size or penalty to tune.  A previous solution can be
passed as ``start`` (warm start: the outer V search moves V a little at a time, so the support rarely changes).
"""

from __future__ import annotations

import numpy as np

GRAM_MAX = 600  # donors up to which the full Gram matrix (n x n) is cheaper than products with A per step


def simplex_least_squares(A: np.ndarray, b: np.ndarray, *, start: np.ndarray | None = None, tol: float = 1e-12,
                          max_iter: int | None = None) -> np.ndarray:
    """``argmin ||A w - b||^2`` subject to ``w >= 0``, ``sum(w) == 1`` (exact active set; see the module notes)."""
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    n = A.shape[1]
    if n <= GRAM_MAX:
        return simplex_quadratic(A.T @ A, A.T @ b, start=start, tol=tol, max_iter=max_iter)
    AT = np.ascontiguousarray(A.T)
    c = AT @ b
    diag = np.einsum("ij,ij->i", AT, AT)

    def gradient(P, wP):
        return AT @ (A[:, P] @ wP) - c

    def block(P):
        AP = AT[P]
        return AP @ AP.T

    return _active_set(gradient, block, c, diag, start, tol, max_iter)


def simplex_quadratic(G: np.ndarray, c: np.ndarray, *, start: np.ndarray | None = None, tol: float = 1e-12,
                      max_iter: int | None = None) -> np.ndarray:
    """``argmin w'Gw - 2c'w`` on the simplex, for a positive semi-definite ``G`` (``G = A'A``, ``c = A'b``)."""
    G = np.asarray(G, dtype=float)
    c = np.asarray(c, dtype=float)

    def gradient(P, wP):
        return G[:, P] @ wP - c

    def block(P):
        return G[np.ix_(P, P)]

    return _active_set(gradient, block, c, np.diag(G).copy(), start, tol, max_iter)


def _active_set(gradient, block, c, diag, start, tol, max_iter) -> np.ndarray:
    n = len(c)
    w = np.zeros(n)
    if n == 0:
        return w
    if n == 1:
        w[0] = 1.0
        return w
    nearest = int(np.argmin(diag - 2.0 * c))  # the single donor nearest the treated unit
    if start is not None and len(start) == n and np.all(np.isfinite(start)) and np.any(start > 0):
        w = np.where(start > 0, start, 0.0)
        w /= w.sum()
        support = [int(j) for j in np.flatnonzero(w)]
        pending = True
    else:
        w[nearest] = 1.0
        support = [nearest]
        pending = False
    threshold = tol * max(1.0, float(np.max(diag)))
    max_iter = max_iter or 10 * n + 50
    for _ in range(max_iter):
        if pending:
            support = _inner(block, c, w, support)
            if support is None:  # a singular support (only from a poor warm start): start afresh
                w[:] = 0.0
                w[nearest] = 1.0
                support = [nearest]
        P = np.array(support)
        g = gradient(P, w[P])
        mu = float(w[P] @ g[P])
        lam = g - mu
        lam[P] = np.inf
        j = int(np.argmin(lam))
        if lam[j] >= -threshold:
            break
        support.append(j)
        pending = True
    return _clean(w)


def _inner(block, c, w, support):
    """Lawson-Hanson inner loop: move toward the optimum on the support's affine hull, dropping donors that hit 0."""
    entering = support[-1]
    while True:
        P = np.array(support)
        m = len(P)
        if m == 1:
            w[P] = 1.0
            return support
        K = np.empty((m + 1, m + 1))
        K[:m, :m] = block(P)
        K[:m, m] = 1.0
        K[m, :m] = 1.0
        K[m, m] = 0.0
        rhs = np.empty(m + 1)
        rhs[:m] = c[P]
        rhs[m] = 1.0
        try:
            z = np.linalg.solve(K, rhs)[:m]
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(z)):
            return None
        if np.all(z > 0):
            w[P] = z
            return support
        current = w[P]
        neg = np.flatnonzero(z <= 0)
        if len(neg) == 1 and P[neg[0]] == entering and current[neg[0]] == 0.0:
            support.pop()  # the entering donor cannot move in floating point: optimal to working precision
            return support
        ratios = current[neg] / (current[neg] - z[neg])
        hit = neg[int(np.argmin(ratios))]
        w[P] = current + float(np.min(ratios)) * (z - current)
        w[P[hit]] = 0.0
        keep = w[P] > 0
        w[P[~keep]] = 0.0
        support = [int(p) for p in P[keep]]
        if not support:
            return None


def _clean(w: np.ndarray) -> np.ndarray:
    w = np.where(w > 0, w, 0.0)
    s = w.sum()
    return w / s if s > 0 else w
