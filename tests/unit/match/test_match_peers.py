"""Peer finder: a case worked by hand, contributions, pinned peers, vectorised == naive, missing values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.match.peers import DEFAULT_WEIGHT_SOURCES, default_weights, explain_peer, find_peers

pytestmark = pytest.mark.unit


def _square() -> pd.DataFrame:
    # x = 0, 0, 2, 2 -> mean 1, population SD 1 -> z = -1, -1, 1, 1
    # y = 0, 2, 0, 2 -> mean 1, population SD 1 -> z = -1, 1, -1, 1
    return pd.DataFrame({"x": [0.0, 0.0, 2.0, 2.0], "y": [0.0, 2.0, 0.0, 2.0]}, index=["A", "B", "C", "D"])


def test_small_case_worked_by_hand():
    # weights x:1, y:4. From A(-1,-1): to B(-1,1): 4*(2^2)=16 -> d=4; to C(1,-1): 1*(2^2)=4 -> d=2;
    # to D(1,1): 4 + 16 = 20 -> d=sqrt(20). The farthest pair compared is sqrt(20) (A-D and B-C), so
    # similarity(A, C) = 1 - 2/sqrt(20) = 0.55279..., similarity(A, B) = 1 - 4/sqrt(20) = 0.10557...
    out = find_peers(_square(), k=2, weights={"x": 1.0, "y": 4.0})
    a = out[out.org_code == "A"].reset_index(drop=True)
    assert a.peer_code.tolist() == ["C", "B"]
    assert a["rank"].tolist() == [1, 2]
    assert a.distance.tolist() == pytest.approx([2.0, 4.0])
    assert a.similarity.tolist() == pytest.approx([1 - 2 / math.sqrt(20), 1 - 4 / math.sqrt(20)])
    assert a.contrib_x.tolist() == pytest.approx([4.0, 0.0])
    assert a.contrib_y.tolist() == pytest.approx([0.0, 16.0])
    # with k=3 the farthest neighbour D is included with similarity 0
    d = find_peers(_square(), k=3, weights={"x": 1.0, "y": 4.0}).query("org_code == 'A' and peer_code == 'D'")
    assert d.distance.item() == pytest.approx(math.sqrt(20))
    assert d.similarity.item() == pytest.approx(0.0)


def test_contributions_sum_to_squared_distance_and_explanations():
    rng = np.random.default_rng(3)
    ctx = pd.DataFrame(rng.normal(size=(60, 5)), columns=list("abcde"), index=[f"O{i}" for i in range(60)])
    out = find_peers(ctx, k=5, weights={"a": 2.0, "b": 0.5})
    contrib = out[[f"contrib_{v}" for v in "abcde"]].sum(axis=1)
    np.testing.assert_allclose(contrib, out.distance**2, rtol=1e-12)
    assert (out.groupby("org_code").size() == 5).all()
    assert (out.org_code != out.peer_code).all()
    assert out.similarity.between(0, 1).all()
    row = out.iloc[0]
    text = explain_peer(row)
    cols = {v: row[f"contrib_{v}"] for v in "abcde"}
    worst = max(cols, key=cols.get)
    best = min(cols, key=cols.get)
    assert text.startswith(f"closest on {best}")
    assert f"differs most on {worst}" in text


def test_pinned_peers_are_returned_as_given_with_distances():
    ctx = _square()
    out = find_peers(ctx, k=2, weights={"x": 1.0, "y": 4.0}, pinned={"A": ["D", "B"]})
    a = out[out.org_code == "A"]
    assert a.peer_code.tolist() == ["D", "B"]
    assert a["rank"].tolist() == [1, 2]
    assert a.distance.tolist() == pytest.approx([math.sqrt(20), 4.0])
    assert a.pinned.all()
    assert not out[out.org_code != "A"].pinned.any()
    with pytest.raises(ValidationError, match="not in context"):
        find_peers(ctx, pinned={"A": ["ZZZ"]})


def _naive(ctx: pd.DataFrame, k: int, w: dict[str, float], among=None, same_kind=True):
    """Independent per-organisation loop: median impute, z-score, weighted distance to each candidate."""
    variables = [c for c in ctx.columns if c != "kind"]
    x = ctx[variables].copy()
    x = x.fillna(x.median())
    z = (x - x.mean()) / x.std(ddof=0)
    wv = np.array([w.get(v, 1.0) for v in variables])
    result = {}
    for org in ctx.index:
        dists = []
        for other in ctx.index:
            if other == org or (among is not None and other not in among):
                continue
            if same_kind and "kind" in ctx and ctx.at[org, "kind"] != ctx.at[other, "kind"]:
                continue
            diff = z.loc[org].to_numpy() - z.loc[other].to_numpy()
            dists.append((math.sqrt(float((wv * diff**2).sum())), other))
        dists.sort()
        result[org] = dists[:k]
    return result


def test_vectorised_equals_naive_loop_with_kinds_and_among():
    rng = np.random.default_rng(11)
    n = 150
    ctx = pd.DataFrame(rng.normal(size=(n, 4)) * [1, 10, 100, 0.1], columns=["a", "b", "c", "d"])
    ctx.index = [f"P{i:03d}" for i in range(n)]
    ctx["kind"] = rng.choice(["acute", "mental", "community"], n)
    among = set(rng.choice(ctx.index, 110, replace=False))
    w = {"a": 1.0, "b": 2.0, "c": 0.5}
    out = find_peers(ctx, k=7, weights=w, among=pd.Series(sorted(among)))
    naive = _naive(ctx, 7, w, among=among)
    for org, grp in out.groupby("org_code"):
        exp = naive[org]
        assert grp.peer_code.tolist() == [p for _, p in exp]
        np.testing.assert_allclose(grp.distance, [d for d, _ in exp], rtol=1e-12)
        assert ctx.loc[grp.peer_code, "kind"].eq(ctx.at[org, "kind"]).all()
    assert set(out.org_code) == set(ctx.index)


def test_screened_path_equals_full_sort_on_larger_data():
    # large enough that the sampled screening (not the full row) is used: 3,000 candidates, k = 10
    rng = np.random.default_rng(5)
    n, p, k = 3000, 8, 10
    x = rng.normal(size=(n, p))
    x[100] = x[7]  # an exact duplicate: distance 0 must be found
    ctx = pd.DataFrame(x, columns=[f"v{j}" for j in range(p)], index=[f"G{i:04d}" for i in range(n)])
    out = find_peers(ctx, k=k, weights=dict.fromkeys(ctx.columns, 1.0))
    z = (x - x.mean(0)) / x.std(0)
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    exp_d = np.sqrt(np.sort(d2, axis=1)[:, :k])
    got_d = out.distance.to_numpy().reshape(n, k)
    np.testing.assert_allclose(got_d, exp_d, rtol=1e-10, atol=1e-12)
    exp_idx = np.argsort(d2, axis=1, kind="stable")[:, :k]
    got_idx = out.peer_code.str[1:].astype(int).to_numpy().reshape(n, k)
    assert (got_idx == exp_idx).mean() > 0.999  # only exact ties may order differently
    assert out.query("org_code == 'G0007'").peer_code.iloc[0] == "G0100"


def test_missing_values_are_median_imputed_and_reported():
    ctx = pd.DataFrame(
        {"a": [1.0, 2.0, np.nan, 4.0, 10.0], "b": [5.0, 3.0, 2.0, np.nan, 1.0]},
        index=["A", "B", "C", "D", "E"],
    )
    out = find_peers(ctx, k=2, weights={"a": 1, "b": 1})
    filled = ctx.fillna({"a": 3.0, "b": 2.5})  # medians of the observed values
    ref = find_peers(filled, k=2, weights={"a": 1, "b": 1})
    np.testing.assert_allclose(out.distance, ref.distance)
    assert out.peer_code.tolist() == ref.peer_code.tolist()
    flags = dict(zip(zip(out.org_code, out.peer_code, strict=True), out.imputed_vars, strict=True))
    for (org, peer), label in flags.items():
        expect = [v for v in ("a", "b") if ctx[v].isna()[org] or ctx[v].isna()[peer]]
        assert label == ", ".join(expect)
    row = out[out.imputed_vars != ""].iloc[0]
    assert "imputed:" in explain_peer(row)


def test_defaults_documented_and_inputs_validated():
    w = default_weights()
    assert set(w) == set(DEFAULT_WEIGHT_SOURCES)
    assert all(DEFAULT_WEIGHT_SOURCES[v] for v in w)
    age = [v for v in w if v.startswith("pct_aged")]
    assert sum(w[v] for v in age) == pytest.approx(1.0)  # one theme, total weight 1
    ctx = _square()
    with pytest.raises(ValidationError, match="not in context"):
        find_peers(ctx, weights={"nope": 1.0})
    with pytest.raises(ValidationError, match="non-negative"):
        find_peers(ctx, weights={"x": -1.0})
    with pytest.raises(ValidationError, match="positive integer"):
        find_peers(ctx, k=0)
    with pytest.raises(ValidationError, match="numeric"):
        find_peers(ctx.assign(name="a"))
    # defaults apply by name: imd_score weighs 1, pct_rural 1/2 -> d(A, D)^2 = 1 * 2^2 + 0.5 * 2^2 = 6
    named = pd.DataFrame({"imd_score": [0.0, 0.0, 2.0, 2.0], "pct_rural": [0.0, 2.0, 0.0, 2.0]}, index=list("ABCD"))
    out = find_peers(named, k=3)
    assert out.query("org_code == 'A' and peer_code == 'D'").distance.item() == pytest.approx(math.sqrt(6))


def test_k_larger_than_candidates_and_same_kind_off():
    ctx = _square().assign(kind=["a", "a", "b", "b"])
    out = find_peers(ctx, k=10)
    assert out.groupby("org_code").size().tolist() == [1, 1, 1, 1]
    out_all = find_peers(ctx, k=10, same_kind=False)
    assert out_all.groupby("org_code").size().tolist() == [3, 3, 3, 3]
