"""Benchmark partnering.match against library baselines on the same data, in the same run.

1. Peers for every GP practice in England (6,378; July 2023 list sizes) on 15 contextual variables (9 deprivation
   scores, 3 age/sex shares, size, 2 derived density measures), top 10 each:
   ``find_peers`` (end to end: imputation, z-scores, output table) vs scikit-learn NearestNeighbors (brute and
   kd-tree) and scipy cKDTree on the already-standardised, already-weighted matrix (so the baselines do less).
2. A buddying plan for 7,000 organisations in difficulty x 7,000 supporters (random points in a 300 x 500 km box,
   60% of the organisations in difficulty clustered around 4 hot spots so that capacity binds, pairs within 50 km,
   travel limit 50 minutes, capacity 2, 5% of supporters in difficulty):
   ``buddying_plan`` (end to end from a DataFrame) vs a bare scipy sparse assignment on prebuilt arrays, and vs
   the same model as a HiGHS MIP (``plan_mip_highs``).

   The MIP cross-check runs on a 3,000 x 3,000 instance by default (about 3 minutes); ``--mip-full`` also runs it on
   the 7,000 x 7,000 one (tens of minutes).

Run: ``.venv/bin/python bench/match.py`` (``--quick`` for a smaller plan, ``--no-mip`` to skip the MIP).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

from partnering.match import buddying_plan, default_weights, find_peers, plan_mip_highs

DATA = Path(os.environ.get("PARTNERING_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
ROOT = Path(__file__).resolve().parents[1]


def best_of(fn, repeat: int = 5):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


# ------------------------------------------------------------------------------------------------ peers


def gp_context() -> pd.DataFrame:
    gp = pd.read_csv(DATA / "geo/gp/gp-practices-registered-2023-07.csv")
    mapping = pd.read_csv(DATA / "geo/gp/practice-boundary-mapping-2023-24.csv", encoding="utf-8-sig")
    imd = pd.read_csv(DATA / "nhs/imd/imd2025_england_lsoa21.csv")
    la_imd = pd.read_csv(DATA / "nhs/imd/imd2025_england_ltla24.csv")
    age = pd.read_csv(DATA / "geo/areas/census2021-age-sex-ltla21.csv")
    df = gp.merge(mapping[["Practice", "LSOA11", "LAD21"]], left_on="CODE", right_on="Practice", how="left")
    # LSOA 2011 codes are joined to IMD 2025 (LSOA 2021) where the code is unchanged (94%); others are imputed.
    df = df.merge(imd, left_on="LSOA11", right_on="lsoa21_code", how="left")
    df = df.merge(la_imd[["ltla24_code", "imd_average_score"]], left_on="LAD21", right_on="ltla24_code", how="left")
    df = df.merge(age, left_on="LAD21", right_on="ltla21_code", how="left")
    out = pd.DataFrame(index=pd.Index(df["CODE"], name="org_code"))
    out["log_list_size"] = np.log(df["NUMBER_OF_PATIENTS"].to_numpy())
    out["imd_score"] = df["IMD_score"].to_numpy()
    for dom in ["Income", "Employment", "Education", "Health", "Crime", "Housing_and_Services", "Environment"]:
        out[f"{dom.lower()}_score"] = df[f"{dom}_score"].to_numpy()
    out["la_imd_average_score"] = df["imd_average_score"].to_numpy()
    tot = df["total_population"].to_numpy()
    out["pct_aged_under_18"] = 100 * (df["younger_females"] + df["younger_males"]).to_numpy() / tot
    out["pct_aged_65_plus"] = 100 * (df["older_females"] + df["older_males"]).to_numpy() / tot
    out["pct_female"] = 100 * df["total_females"].to_numpy() / tot
    # derived density measures (proxies for RightCare's population density): registered patients and practices
    # within 10 km of the practice, from its coordinates (equirectangular km; missing coordinates imputed)
    lat, lon = df["Latitude"].to_numpy(), df["Longitude"].to_numpy()
    ok = np.isfinite(lat) & np.isfinite(lon)
    xy = np.c_[lon * 111.32 * np.cos(np.radians(53.0)), lat * 110.57]
    tree = cKDTree(xy[ok])
    near = tree.query_ball_point(xy[ok], r=10.0)
    pats = df["NUMBER_OF_PATIENTS"].to_numpy()[ok]
    dens = np.full(len(df), np.nan)
    cnt = np.full(len(df), np.nan)
    dens[ok] = [np.log(pats[i].sum()) for i in near]
    cnt[ok] = [np.log(len(i)) for i in near]
    out["population_density"] = dens
    out["log_practices_within_10km"] = cnt
    return out


def bench_peers(rows: list[str]) -> None:
    ctx = gp_context()
    variables = list(ctx.columns)
    n, p = ctx.shape
    dflt = default_weights()
    w = np.array([dflt.get(v, 1.0) for v in variables])
    find_peers(ctx, k=10)  # warm-up (imports, thread pool)
    t_ours, out = best_of(lambda: find_peers(ctx, k=10), repeat=7)
    # the baselines get the finished, imputed, standardised and weighted matrix
    x = ctx.to_numpy(dtype=float)
    x = np.where(np.isfinite(x), x, np.nanmedian(x, axis=0))
    zw = (x - x.mean(0)) / x.std(0) * np.sqrt(w)
    from sklearn.neighbors import NearestNeighbors

    def sk(algo):
        return NearestNeighbors(n_neighbors=11, algorithm=algo).fit(zw).kneighbors(zw)

    t_brute, (d_b, i_b) = best_of(lambda: sk("brute"))
    t_kd, (_d_k, _i_k) = best_of(lambda: sk("kd_tree"))
    t_ck, (d_c, i_c) = best_of(lambda: cKDTree(zw).query(zw, k=11))
    pos = pd.Index(ctx.index)
    ours_idx = pos.get_indexer(out["peer_code"]).reshape(n, 10)
    ours_d = out["distance"].to_numpy().reshape(n, 10)
    assert (pos.get_indexer(out["org_code"]).reshape(n, 10) == np.arange(n)[:, None]).all()

    def drop_self(i, d):
        keep = i != np.arange(n)[:, None]
        first10 = np.cumsum(keep, axis=1) <= 10
        m = keep & first10
        return i[m].reshape(n, 10), d[m].reshape(n, 10)

    i_b, d_b = drop_self(i_b, d_b)
    i_c, d_c = drop_self(i_c, d_c)
    same_sets = np.mean([set(a) == set(b) for a, b in zip(ours_idx, i_b, strict=True)])
    same_sets_ck = np.mean([set(a) == set(b) for a, b in zip(ours_idx, i_c, strict=True)])
    max_dd = max(np.abs(ours_d - d_b).max(), np.abs(ours_d - d_c).max())
    n_imp = int((out["imputed_vars"] != "").sum())
    print(f"\npeers: {n} GP practices x {p} variables, top 10 each")
    for name, t in [
        ("partnering find_peers (end to end)", t_ours),
        ("sklearn NearestNeighbors brute", t_brute),
        ("sklearn NearestNeighbors kd_tree", t_kd),
        ("scipy cKDTree", t_ck),
    ]:
        print(f"  {name:38s} {t:7.3f} s")
    print(
        f"  same neighbour sets as sklearn brute: {same_sets:.2%}, as cKDTree: {same_sets_ck:.2%}; "
        f"max |distance difference| {max_dd:.1e}; peer rows with an imputed variable: {n_imp}"
    )
    rows += [
        f"Peers: {n:,} GP practices (July 2023) x {p} variables ({', '.join(variables)}), top 10 each.",
        "",
        "| method | seconds (best of 7 for find_peers after a warm-up, best of 5 for the others) |",
        "|---|---|",
        f"| `find_peers` end to end (imputation, z-scores, contributions, output table) | {t_ours:.3f} |",
        f"| scikit-learn NearestNeighbors brute (on the prepared matrix) | {t_brute:.3f} |",
        f"| scikit-learn NearestNeighbors kd_tree (on the prepared matrix) | {t_kd:.3f} |",
        f"| scipy cKDTree (on the prepared matrix) | {t_ck:.3f} |",
        "",
        (
            f"Neighbour sets identical to scikit-learn brute for {same_sets:.2%} of practices and to cKDTree for "
            f"{same_sets_ck:.2%}; largest distance difference {max_dd:.1e}. {n_imp:,} peer rows carry an imputed "
            "variable (practices whose LSOA 2011 code has no IMD 2025 LSOA 2021 match, or no coordinates)."
        ),
        "",
    ]


# ------------------------------------------------------------------------------------------------ plan


def plan_instance(n: int, seed: int = 2026):
    rng = np.random.default_rng(seed)
    box = np.array([300.0, 500.0])  # km: roughly England's area (130,000 km2 vs 150,000 here)
    # organisations in difficulty cluster: 60% around 4 hot spots (SD 8 km), so capacity binds there
    n_hot = int(0.6 * n)
    centres = rng.uniform(0.15, 0.85, (4, 2)) * box
    hot = centres[rng.integers(0, 4, n_hot)] + rng.normal(0, 8.0, (n_hot, 2))
    rp = np.r_[hot, rng.uniform(0, 1, (n - n_hot, 2)) * box]
    sp = rng.uniform(0, 1, (n, 2)) * box
    capability = rng.uniform(0.5, 1.5, n)
    pairs = cKDTree(rp).sparse_distance_matrix(cKDTree(sp), 50.0, output_type="coo_matrix")
    i, j, km = pairs.row, pairs.col, pairs.data
    keep = km > 0
    i, j, km = i[keep], j[keep], km[keep]
    travel = km * 1.2  # minutes at 50 km/h
    score = capability[j] * (1.0 - km / 60.0) + 0.01
    suit = pd.DataFrame(
        {
            "recipient": pd.Index([f"R{x:05d}" for x in range(n)]).take(i),
            "supporter": pd.Index([f"S{x:05d}" for x in range(n)]).take(j),
            "score": score,
            "travel_minutes": travel,
        }
    )
    difficulty = {f"S{x:05d}" for x in rng.choice(n, n // 20, replace=False)}
    return suit, difficulty, (i, j, score, travel, np.isin(np.arange(n), [int(s[1:]) for s in difficulty]))


def bare_scipy(i, j, score, travel, sick, n, cap=2, limit=50.0):
    """Baseline: the textbook reduction straight onto scipy (no validation, no reasons, integer codes)."""
    keep = (travel <= limit) & ~sick[j]
    i, j, sc = i[keep], j[keep], score[keep]
    rep = np.repeat(np.arange(len(i)), cap)
    col = j[rep] * cap + np.tile(np.arange(cap), len(i))
    big = sc.max() + 1
    best = np.zeros(n)
    np.maximum.at(best, i, sc)
    dummy = big + best.sum() + 1
    g = csr_matrix(
        (np.r_[big - sc[rep], np.full(n, dummy)], (np.r_[i[rep], np.arange(n)], np.r_[col, n * cap + np.arange(n)])),
        shape=(n, n * cap + n),
    )
    r, c = min_weight_full_bipartite_matching(g)
    real = c < n * cap
    return int(real.sum()), float((big - np.asarray(g[r[real], c[real]]).ravel()).sum())


def bench_plan(rows: list[str], n: int, run_mip: bool) -> None:
    suit, difficulty, (i, j, score, travel, sick) = plan_instance(n)
    kw = {"capacity": 2, "supporters_in_difficulty": difficulty, "max_travel_minutes": 50.0}
    # interleaved, best of 5 each: the machine is shared, so both see the same background load
    t_ours = t_bare = np.inf
    for _ in range(5):
        t, plan = best_of(lambda: buddying_plan(suit, **kw), repeat=1)
        t_ours = min(t_ours, t)
        t, (m_bare, s_bare) = best_of(lambda: bare_scipy(i, j, score, travel, sick, n), repeat=1)
        t_bare = min(t_bare, t)
    print(f"\nplan: {n:,} recipients x {n:,} supporters, {len(suit):,} pairs within 50 km, capacity 2")
    print(
        f"  partnering buddying_plan (end to end)  {t_ours:7.3f} s   "
        f"matched {plan.n_lead:,}, score {plan.lead_score:.6f}"
    )
    print(f"  bare scipy sparse assignment           {t_bare:7.3f} s   matched {m_bare:,}, score {s_bare:.6f}")
    assert plan.n_lead == m_bare and abs(plan.lead_score - s_bare) <= 1e-7 * s_bare
    mip_row = "| HiGHS MIP of the same model (`plan_mip_highs`, two stages, gap 0) | not run at this size |"
    ratio = ""
    if run_mip:
        t0 = time.perf_counter()
        mip = plan_mip_highs(suit, **kw, time_limit=1800.0)
        t_mip = time.perf_counter() - t0
        print(
            f"  HiGHS MIP (plan_mip_highs)             {t_mip:7.3f} s   matched {mip.n_lead:,}, score "
            f"{mip.lead_score:.6f}, proven optimal {mip.proven_optimal}"
        )
        same = mip.n_lead == plan.n_lead and abs(mip.lead_score - plan.lead_score) <= 1e-6 * plan.lead_score
        print(f"  same optimum as the MIP: {same}; speed-up over MIP {t_mip / t_ours:.0f}x")
        assert same
        mip_row = f"| HiGHS MIP of the same model (`plan_mip_highs`, two stages, gap 0), one run | {t_mip:.2f} |"
        ratio = (
            f" Same optimum as the MIP (matched {mip.n_lead:,}, score {mip.lead_score:.4f}); "
            f"{t_mip / t_ours:.0f}x faster."
        )
    rows += [
        (
            f"Plan: {n:,} organisations in difficulty x {n:,} supporters, random points in a 300 x 500 km box "
            "(60% of those in difficulty around 4 hot spots), "
            f"{len(suit):,} pairs within 50 km, travel limit 50 minutes, capacity 2, {len(difficulty)} supporters in "
            "difficulty."
        ),
        "",
        "| method | seconds |",
        "|---|---|",
        f"| `buddying_plan` end to end from a DataFrame (validation, filters, reasons), best of 5 | {t_ours:.3f} |",
        "| bare scipy `min_weight_full_bipartite_matching` on integer arrays, replicated slots, best of 5 | "
        f"{t_bare:.3f} |",
        mip_row,
        "",
        (
            f"Matched {plan.n_lead:,} of {n:,} (score {plan.lead_score:.4f}), the same as the bare solver; "
            f"{t_ours / t_bare:.2f}x its time.{ratio}"
        ),
        "",
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-mip", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--mip-full", action="store_true", help="also solve the 7,000 x 7,000 MIP (slow)")
    args = ap.parse_args()
    rows = [
        "## Matching (bench/match.py)",
        "",
        (
            f"{date.today().isoformat()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {__import__('scipy').__version__}, "
            f"scikit-learn {__import__('sklearn').__version__}, "
            f"highspy {importlib.metadata.version('highspy')}."
        ),
        "",
    ]
    bench_peers(rows)
    if args.quick:
        bench_plan(rows, 1000, run_mip=not args.no_mip)
    else:
        # HiGHS had not finished the 7,000 x 7,000 MIP (2.3M binaries) after 14 minutes; by default the MIP
        # cross-check runs on a 3,000 x 3,000 instance of the same generator and --mip-full adds the big one.
        bench_plan(rows, 7000, run_mip=args.mip_full and not args.no_mip)
        bench_plan(rows, 3000, run_mip=not args.no_mip)
    load = os.getloadavg()[0]
    rows += [
        f"Notes: load average {load:.1f} on {os.cpu_count()} cores at the end of the run (the machine is shared), so "
        "absolute times vary by 2x between runs; each comparison is timed in the same run, interleaved. "
        "OR-Tools min-cost flow is not installed here (and cannot share a process with highspy), so the fastest "
        "exact baseline is scipy's sparse assignment. The 7,000 x 7,000 MIP (2.3M binaries) is skipped by default "
        "(one attempt had not finished after 14 minutes): "
        "on an earlier, unclustered version of this generator HiGHS took 70 s at 2,000 x 2,000 (187k pairs) and "
        "157-225 s at 3,000 x 3,000 (420k pairs).",
        "",
    ]
    if not args.no_write and not args.quick:
        write_section(ROOT / "BENCHMARKS.md", "\n".join(rows))


def write_section(path: Path, section: str) -> None:
    """Create BENCHMARKS.md or replace only our section (up to the next '## ' heading)."""
    head = "## Matching (bench/match.py)"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if head in text:
        start = text.index(head)
        nxt = text.find("\n## ", start + len(head))
        text = text[:start] + section.rstrip() + "\n" + (text[nxt:] if nxt >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    path.write_text(text)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
