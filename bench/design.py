"""Benchmark partnering.design against PySAL ``spopt`` on the same inputs, in the same run (issue #12, section 6).

One section per tool, chosen with ``--tool regions|network|allocation|all``:

- ``regions``: England's 296 local authorities (2024 boundaries, Census 2021 populations) into 7-42 regions, and a
  1,000-area synthetic lattice into 42; ``partnering.design.regions.design_regions`` against spopt's MaxP, AZP and
  SKATER on the same objective (within-region sum of squared deviations of the need attributes), reporting the largest
  region against the mean population, contiguity, the objective and seconds.
- ``regions-proof``: ``design_regions`` with and without the forced-companion balance proof in the same run (what it
  costs where a grouping exists, what it saves on Sub-ICB k = 20 where none does); no spopt.
- ``network`` and ``allocation``: added by their tools (``bench_network``, ``bench_allocation``).

``spopt`` is a benchmark-only dependency (the ``bench`` extra in pyproject.toml). Each section returns Markdown lines;
with ``--write`` they replace that tool's subsection under "Design" in BENCHMARKS.md.

Run: ``.venv/bin/python bench/design.py --tool regions [--quick] [--write]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

DATA = Path(os.environ.get("PARTNERING_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------ common harness


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall-clock seconds of ``repeat`` runs of ``fn`` and its last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def machine_line() -> str:
    """The machine and load the figures were measured on (the machine is shared: the load is part of the result)."""
    load = os.getloadavg()[0]
    return (
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} at the end of the section (the machine is shared)."
    )


def package_version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def write_section(path: Path, title: str, lines: list[str]) -> None:
    """Replace (or append) ``### {title}`` under ``## Design`` in BENCHMARKS.md, leaving every other section alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if "\n## Design\n" not in text:
        text = text.rstrip("\n") + "\n\n## Design\n"
    body = f"### {title}\n\n" + "\n".join(lines).rstrip("\n") + "\n"
    pat = re.compile(rf"^### {re.escape(title)}\n.*?(?=^### |^## |\Z)", re.S | re.M)
    if pat.search(text):
        text = pat.sub(lambda _m: body + "\n", text, count=1)
    else:
        head, _, rest = text.partition("\n## Design\n")
        nxt = re.search(r"^## ", rest, re.M)
        cut = nxt.start() if nxt else len(rest)
        text = head + "\n## Design\n" + rest[:cut].rstrip("\n") + "\n\n" + body + "\n" + rest[cut:]
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------ regions


def _lattice(rows: int, cols: int, seed: int = 2026):
    """A synthetic map: a rows x cols grid of areas (rook neighbours), log-normal populations (median ~60,000, like
    English local authorities' spread), two standardised need attributes with a smooth spatial trend plus noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = rows * cols
    nb: list[list[int]] = [[] for _ in range(n)]
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for j in ([i + 1] if c + 1 < cols else []) + ([i + cols] if r + 1 < rows else []):
                nb[i].append(j)
                nb[j].append(i)
    yy, xx = np.repeat(np.arange(rows), cols), np.tile(np.arange(cols), rows)
    pop = rng.lognormal(np.log(60_000), 0.6, n)
    coords = np.c_[xx, yy] * 10.0
    feats = np.c_[np.sin(xx / cols * 3) + 0.3 * rng.normal(size=n), yy / rows + 0.3 * rng.normal(size=n)]
    feats = (feats - feats.mean(0)) / feats.std(0)
    return nb, pop, coords, feats


def _ssd(labels, feats) -> float:
    """Within-region sum of squared deviations of the (standardised) need attributes: the one yardstick for all."""
    import numpy as np

    total = 0.0
    for r in np.unique(labels):
        x = feats[labels == r]
        total += float(((x - x.mean(0)) ** 2).sum())
    return total


def _check(labels, nb, pop) -> tuple[int, float, float, bool]:
    import numpy as np

    from partnering.design.contiguity import is_connected

    regs = np.unique(labels)
    P = np.array([pop[labels == r].sum() for r in regs])
    ok = all(is_connected(set(np.flatnonzero(labels == r).tolist()), nb) for r in regs)
    return len(regs), float(P.max() / P.mean()), float(P.min() / P.mean()), ok


def _spopt_runs(nb, pop, feats, k, balance, skip_skater: bool):
    """spopt's MaxP (floor = the lower population bound), AZP and SKATER (k regions) on the same graph and
    attributes; each one run, with its wall-clock seconds."""
    import warnings

    import numpy as np
    import pandas as pd
    from libpysal.weights import W
    from spopt.region import AZP, MaxPHeuristic, Skater

    n = len(pop)
    df = pd.DataFrame({"a0": feats[:, 0], "a1": feats[:, 1], "pop": pop})
    w = W({i: list(nb[i]) for i in range(n)}, silence_warnings=True)
    mean = pop.sum() / k
    runs = {
        "spopt MaxP (each region >= the lower bound)": lambda: MaxPHeuristic(
            df, w, ["a0", "a1"], "pop", (1 - balance) * mean, top_n=2),
        "spopt AZP (k regions)": lambda: AZP(df, w, ["a0", "a1"], n_clusters=k, random_state=0),
    }
    if not skip_skater:
        runs["spopt SKATER (k regions)"] = lambda: Skater(df, w, ["a0", "a1"], n_clusters=k)
    out = {}
    for name, make in runs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            model = make()
            model.solve()
            secs = time.perf_counter() - t
        labels = np.asarray(model.labels_)
        out[name] = (secs, labels)
    return out


def bench_regions(quick: bool = False) -> list[str]:
    """England's 296 local authorities into 7-42 regions and synthetic grids of 200 and 1,000 areas, ours vs spopt."""
    import numpy as np

    from partnering.design.regions import design_regions, load_areas, partition

    rows = [
        "Objective: the within-region sum of squared deviations (SSD) of the standardised need attributes (IMD 2025 "
        "average score and share aged 65+ for England; two synthetic attributes on the grids), lower is better; "
        "spopt optimises its own criterion (AZP: pairwise dissimilarity; SKATER: SSD over a spanning tree; MaxP: "
        "the most regions above a floor), and every labelling is scored here with the same SSD. Balance: largest "
        "and smallest region population over the mean. `partnering` runs with ±5%, restarts 4, seed 0; spopt "
        f"{package_version('spopt')} with defaults (AZP random_state 0). One run each (spopt is too slow to repeat).",
        "",
        "| instance | k | method | seconds | regions | largest / mean | smallest / mean | contiguous | SSD |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary = []

    def row(inst, k, name, secs, labels, nb, pop, feats):
        nreg, big, small, ok = _check(labels, nb, pop)
        ssd = _ssd(labels, feats)
        rows.append(f"| {inst} | {k} | {name} | {secs:.2f} | {nreg} | {big:.3f} | {small:.3f} | {ok} | {ssd:.1f} |")
        print(rows[-1], flush=True)
        return ssd, big, ok

    # England
    areas = load_areas("ltla24")
    f = areas.frame
    nb = areas.contiguity.neighbours()
    pop = f["population"].to_numpy(float)
    feats = f[["imd_score", "pct_65_plus"]].to_numpy(float)
    feats = (feats - feats.mean(0)) / feats.std(0)
    for k in (7, 14, 42) if not quick else (7, 42):
        secs, plan = timed(lambda k=k: design_regions(areas, k, balance=0.05, objective="need", seed=0))
        lab = plan.labels()
        labels = np.array([lab[c] for c in f.index])
        ours = row("England, 296 local authorities", k, "**partnering design_regions**", secs, labels, nb, pop,
                   feats)
        for name, (s2, l2) in _spopt_runs(nb, pop, feats, k, 0.05, skip_skater=False).items():
            theirs = row("England, 296 local authorities", k, name, s2, l2, nb, pop, feats)
            summary.append((f"England k={k}", name, ours, theirs))
    # synthetic grids
    for (r_, c_, k) in ((10, 20, 20), (25, 40, 42)) if not quick else ((10, 20, 20),):
        gnb, gpop, gxy, gfeats = _lattice(r_, c_)
        n = r_ * c_
        secs, (labels, _) = timed(lambda a=(gnb, gpop, k, 0.05, gxy, gfeats): partition(*a, "need", seed=0))
        ours = row(f"synthetic grid, {n:,} areas", k, "**partnering partition**", secs, labels, gnb, gpop, gfeats)
        for name, (s2, l2) in _spopt_runs(gnb, gpop, gfeats, k, 0.05, skip_skater=quick or n > 500).items():
            theirs = row(f"synthetic grid, {n:,} areas", k, name, s2, l2, gnb, gpop, gfeats)
            summary.append((f"grid {n} k={k}", name, ours, theirs))
    rows += ["", "Against each spopt method on the same instance (SSD ours vs theirs; theirs with its balance):", ""]
    for inst, name, (s_o, b_o, _), (s_t, b_t, _) in summary:
        verdict = "better or equal" if s_o <= s_t + 1e-9 else "worse"
        rows.append(f"- {inst}, {name}: ours {s_o:.1f} ({verdict}) vs {s_t:.1f}; largest/mean {b_o:.3f} vs "
                    f"{b_t:.3f}")
    return rows


def bench_regions_proof(quick: bool = False) -> list[str]:
    """The forced-companion balance proof: what it costs where a grouping exists (England's 296 local authorities,
    design_regions with and without the proof in the same run, best of 3, wall and CPU) and what it saves where
    none does (Sub-ICB locations into 20 regions at ±5% and ±10%: proof against the search giving up)."""
    from partnering.design import regions as R
    from partnering.errors import InfeasibleError

    proof = R.balance_proof

    def run(areas, k, balance, with_proof):
        R.balance_proof = proof if with_proof else (lambda *a, **kw: None)
        wall, cpu, said = [], [], ""
        for _ in range(1 if quick else 3):
            t, c = time.perf_counter(), time.process_time()
            try:
                R.design_regions(areas, k, balance=balance, objective="need", seed=0)
                said = "found"
            except InfeasibleError as exc:
                said = "proven impossible" if "(a proof, not a search result)" in str(exc) else "search gave up"
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        R.balance_proof = proof
        return min(wall), min(cpu), said

    rows = ["`design_regions` with the forced-companion proof (after) and with it switched off (before), in the same "
            f"run, best of {1 if quick else 3}; seed 0, default time limit 5 s.", "",
            "| instance | k | balance | before: answer | before: wall s | before: CPU s | after: answer | "
            "after: wall s | after: CPU s |", "|---|---|---|---|---|---|---|---|---|"]
    ltla, sicb = R.load_areas("ltla24"), R.load_areas("sicbl22")
    cases = [("England, 296 local authorities", ltla, k, 0.05) for k in ((7, 42) if quick else (7, 14, 42))]
    cases += [("England, 106 Sub-ICB locations", sicb, 20, b) for b in (0.05, 0.10)]
    for name, areas, k, b in cases:
        before, after = run(areas, k, b, False), run(areas, k, b, True)
        rows.append(f"| {name} | {k} | ±{b:.0%} | {before[2]} | {before[0]:.3f} | {before[1]:.3f} | {after[2]} | "
                    f"{after[0]:.3f} | {after[1]:.3f} |")
        print(rows[-1], flush=True)
    pop = ltla.frame["population"].to_numpy(float)
    nb = ltla.contiguity.neighbours()
    alone = []
    for k in (7, 14, 42):
        mean = pop.sum() / k
        t = time.perf_counter()
        for _ in range(100):
            proof(nb, pop, 0.95 * mean, 1.05 * mean, str)
        alone.append(f"k = {k}: {(time.perf_counter() - t) * 10:.2f} ms")
    rows += ["", "The proof alone on the 296 local authorities at ±5% (mean of 100 runs; it finds nothing there, as a "
             "grouping exists): " + ", ".join(alone) + ". The search is limited by wall-clock time, so on a loaded "
             "machine its CPU time varies from run to run by more than the proof costs."]
    return rows


# ------------------------------------------------------------------------------------------------ allocation


def _allocation_loop(units, weights, budget):
    """Baseline: the spreadsheet way, one practice at a time in Python (weighted population, target, distance)."""
    from partnering.design.allocation import AGE_SEX_BANDS

    rows = units.to_dict(orient="records")
    total_pop = sum(r["population"] for r in rows)
    mean = sum(r["deprivation"] * r["population"] for r in rows) / total_pop
    need = []
    for r in rows:
        age = sum(weights[b].value * r[b] for b in AGE_SEX_BANDS)
        need.append(r["population"] * age * (r["deprivation"] / mean) ** weights["deprivation_elasticity"].value)
    total = sum(need)
    return [(r["actual"] - budget * x / total) / (budget * x / total) for r, x in zip(rows, need, strict=True)]


def bench_allocation(quick: bool = False) -> list[str]:
    """6,378 real GP practices (July 2023 lists, IMD 2025, Census 2021 age-sex by authority), an actual funding
    column (GBP 150 a head x a random factor 0.85-1.15, fixed seed); ``allocate`` with 200 Monte Carlo draws over
    the weight ranges, a 500-draw bootstrap interval for the concentration index and a pace-of-change step, against
    a per-practice Python loop that computes only the target and distance (no uncertainty, no index)."""
    import numpy as np

    from partnering.design.allocation import DEFAULT_WEIGHTS, allocate, practice_units

    t_load, units = timed(lambda: practice_units(DATA))
    rng = np.random.default_rng(12)
    units["actual"] = units["population"] * 150 * rng.uniform(0.85, 1.15, len(units))
    budget = float(units["actual"].sum() * 1.03)
    repeat = 1 if quick else 3
    t_full, res = timed(lambda: allocate(units, budget, floor_growth=0.01), repeat)
    t_core, _ = timed(lambda: allocate(units, budget, draws=0, bootstrap=0), repeat)
    t_loop, dist = timed(lambda: _allocation_loop(units, DEFAULT_WEIGHTS, budget), repeat)
    same = np.allclose(dist, res.units["distance_from_target"].to_numpy(), rtol=1e-9, atol=1e-12)
    lo, hi = res.concentration_interval
    return [
        "| what | units | seconds |",
        "|---|---:|---:|",
        f"| load practices from ../shared (nearest LSOA 2021 for IMD 2025) | {len(units):,} | {t_load:.3f} |",
        f"| `allocate`: target, distance, 200 Monte Carlo draws, 500 bootstrap draws, pace of change | {len(units):,} "
        f"| {t_full:.3f} |",
        f"| `allocate`: target and distance only | {len(units):,} | {t_core:.4f} |",
        f"| baseline: per-practice Python loop, target and distance only | {len(units):,} | {t_loop:.4f} |",
        "",
        f"Target: 6,400 practices in under 1 s: {'met' if t_full < 1.0 else 'NOT met'} ({t_full:.2f} s with every "
        f"measure). Distances equal to the loop's: {same}. Concentration index of the synthetic actual funding "
        f"{res.concentration_index:+.4f} (95% bootstrap {lo:+.4f} to {hi:+.4f}). Best of {repeat}.",
    ]


# ------------------------------------------------------------------------------------------------ network


def _network_instance(n: int, m: int, seed: int = 1):
    import numpy as np

    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    return d, rng.integers(1, 100, n).astype(float)


def _spopt(kind: str, d, w, p: int, within: float = 0.0):
    """spopt's model on the same matrix, solved by PuLP's bundled CBC; (seconds, objective)."""
    import numpy as np
    import pulp
    from spopt.locate import MCLP, PCenter, PMedian

    solver = pulp.PULP_CBC_CMD(msg=False)
    t = time.perf_counter()
    if kind == "p-median":
        mdl = PMedian.from_cost_matrix(d, w, p_facilities=p).solve(solver)
        sites = [j for j, v in enumerate(mdl.fac_vars) if v.value() > 0.5]
        obj = float((d[:, sites].min(axis=1) * w).sum())
    elif kind == "coverage":
        mdl = MCLP.from_cost_matrix(d, w, service_radius=within, p_facilities=p).solve(solver)
        sites = [j for j, v in enumerate(mdl.fac_vars) if v.value() > 0.5]
        obj = float(w[(d[:, sites] <= within).any(axis=1)].sum())
    else:
        mdl = PCenter.from_cost_matrix(d, p_facilities=p).solve(solver)
        sites = [j for j, v in enumerate(mdl.fac_vars) if v.value() > 0.5]
        obj = float(np.max(d[:, sites].min(axis=1)))
    return time.perf_counter() - t, obj


def _coverage_rows(d, w, n: int, m: int, p: int, quick: bool) -> list[str]:
    """MCLP rows: ours best of 3 against spopt's MCLP (one run) on the same matrices, T = 8."""
    from partnering.design import facility

    mclp = [(d, w, n, m)]
    if not quick:
        mclp.append((*_network_instance(5000, 200, seed=3), 5000, 200))
    rows = []
    for dd, ww, nn, mm in mclp:
        ts, cov = timed(lambda dd=dd, ww=ww: facility.max_coverage(dd, ww, p, 8.0), repeat=3)
        sp_t, sp_obj = _spopt("coverage", dd, ww, p, 8.0)
        rows.append(f"| MCLP {nn:,} x {mm}, p = {p}, T = 8 | {cov.objective:,.0f} ({cov.bound:,.0f}, {cov.gap:.3%}; "
                    f"{cov.iterations} nodes) | {ts:.2f} | {sp_obj:,.0f} | {sp_t:.1f} | {sp_t / ts:.0f}x |")
    return rows


def bench_coverage(quick: bool = False) -> list[str]:
    """Only the MCLP rows of ``bench_network`` (ours against spopt in the same run)."""
    n, m, p = (300, 50, 10) if quick else (2000, 200, 40)
    d, w = _network_instance(n, m)
    return ["| instance | ours: objective (proven bound, gap; nodes) | ours s | spopt objective | spopt s | speed-up |",
            "|---|---|---|---|---|---|", *_coverage_rows(d, w, n, m, p, quick),
            "", f"spopt {package_version('spopt')}, PuLP {package_version('pulp')} (CBC), highspy "
            f"{package_version('highspy')}."]


def bench_network(quick: bool = False) -> list[str]:
    """partnering.design.facility against spopt (PMedian, MCLP, PCenter through PuLP/CBC) on the same matrices,
    and the real LSOAs x stroke units (no spopt: it does not finish usefully at that size).  Ours: best of 3 runs;
    spopt: one run (minutes each)."""
    import numpy as np

    from partnering.design import facility
    from partnering.design.network import load_lsoa_demand, load_stroke_units, travel_minutes

    big = (300, 50, 10) if quick else (2000, 200, 40)
    n, m, p = big
    d, w = _network_instance(n, m)
    lines = ["| instance | ours: objective (proven bound, gap) | ours s | spopt objective | spopt s | speed-up |",
             "|---|---|---|---|---|---|"]
    ts, sol = timed(lambda: facility.p_median(d, w, p, gap_target=1e-3, time_limit=30), repeat=3)
    sp_t, sp_obj = _spopt("p-median", d, w, p)
    lines.append(f"| p-median {n:,} x {m}, p = {p} | {sol.objective:,.1f} ({sol.bound:,.1f}, {sol.gap:.3%}) "
                 f"| {ts:.2f} | {sp_obj:,.1f} | {sp_t:.1f} | {sp_t / ts:.0f}x |")
    lines += _coverage_rows(d, w, n, m, p, quick)
    ds, ws = _network_instance(300, 50)  # spopt's PCenter takes minutes already here
    ts, pc = timed(lambda: facility.p_centre(ds, 10), repeat=3)
    sp_t, sp_obj = _spopt("p-centre", ds, ws, 10)
    lines.append(f"| p-centre 300 x 50, p = 10 | {pc.objective:.3f} ({pc.bound:.3f}, {pc.status}) | {ts:.2f} "
                 f"| {sp_obj:.3f} | {sp_t:.1f} | {sp_t / ts:.0f}x |")
    ts, pc = timed(lambda: facility.p_centre(d, p), repeat=3)
    lines.append(f"| p-centre {n:,} x {m}, p = {p} | {pc.objective:.3f} ({pc.bound:.3f}, {pc.status}) | {ts:.2f} "
                 "| not run | | |")
    if not quick:
        d5, w5 = _network_instance(5000, 200)
        ts, sol = timed(lambda: facility.p_median(d5, w5, 40, gap_target=2e-3, time_limit=10))
        lines.append(f"| p-median 5,000 x 200, p = 40 | {sol.objective:,.1f} ({sol.bound:,.1f}, {sol.gap:.3%}) "
                     f"| {ts:.2f} | not run | | |")
    cap = np.full(m, 1.3 * w.sum() / p)
    lag = facility.p_median_lagrangian(d, w, p, time_limit=5)
    from partnering.errors import ValidationError

    try:
        ts, csol = timed(lambda: facility.p_median_mip(d, w, p, capacity=cap, nearest=10, time_limit=50,
                                                       mip_gap=1e-3, lower_bound=lag.bound))
        found = f"{csol.objective:,.1f} ({csol.bound:,.1f}, {csol.gap:.3%}) | {ts + lag.seconds:.1f}"
    except ValidationError as exc:  # under heavy load HiGHS may find no feasible network within the 50 s
        found = f"none found: {exc} | > 50"
    lines.append(f"| capacitated p-median {n:,} x {m}, p = {p}, capacity 1.3 x mean load, 10 nearest | {found} "
                 "| no capacitated p-median in spopt | | |")
    dem, sites = load_lsoa_demand(), load_stroke_units()
    mins, _ = travel_minutes(dem, sites)
    wl = dem["weight"].to_numpy(dtype=float)
    for pp in (40, 60):
        ts, sol = timed(lambda pp=pp: facility.p_median(mins, wl, pp, gap_target=1e-2, time_limit=10), repeat=3)
        lines.append(f"| p-median {len(dem):,} LSOAs x {len(sites)} stroke units, p = {pp}, gap target 1% | "
                     f"{sol.objective:,.0f} ({sol.bound:,.0f}, {sol.gap:.3%}) | {ts:.2f} | not run | | |")
    lines += ["", "Targets (issue #12): p-median 2,000 x 200 at the optimum or within 0.1% with the bound, >= 100x "
              "spopt; 5,000 x 200 within 0.2% in <= 10 s; LSOAs x stroke units within 1% in < 10 s; MCLP and "
              "p-centre equal to spopt's optimum and >= 20x faster; a capacitated p-median with a gap within 60 s.",
              "", f"spopt {package_version('spopt')}, PuLP {package_version('pulp')} (CBC), highspy "
              f"{package_version('highspy')}."]
    return lines


# ------------------------------------------------------------------------------------------------ main

TOOLS: dict[str, tuple[str, str]] = {
    # tool -> (function name in this module, subsection title in BENCHMARKS.md)
    "regions": ("bench_regions", "Regional grouping (design regions)"),
    "regions-proof": ("bench_regions_proof", "Regional grouping: the balance proof (design regions)"),
    "network": ("bench_network", "Shared-service network (design network)"),
    "coverage": ("bench_coverage", "Maximal coverage against spopt (design network, MCLP only)"),
    "allocation": ("bench_allocation", "Funding by weighted need (design allocation)"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", choices=[*TOOLS, "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="smaller instances, for a smoke run")
    ap.add_argument("--write", action="store_true", help="write the section(s) into BENCHMARKS.md")
    args = ap.parse_args()
    chosen = [t for t in TOOLS if t != "coverage"] if args.tool == "all" else [args.tool]
    for tool in chosen:
        fname, title = TOOLS[tool]
        fn = globals().get(fname)
        if fn is None:
            print(f"{tool}: no benchmark yet ({fname} not defined)")
            continue
        lines = fn(quick=args.quick) + ["", machine_line()]
        print(f"\n### {title}\n\n" + "\n".join(lines))
        if args.write:
            write_section(ROOT / "BENCHMARKS.md", title, lines)


if __name__ == "__main__":
    main()
