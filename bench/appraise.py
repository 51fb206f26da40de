"""Benchmark: the vectorised Monte Carlo appraisal against a per-draw Python loop, in the same run.

    .venv/bin/python bench/appraise.py                       # 100,000 draws x 8 options x 30 years
    .venv/bin/python bench/appraise.py --draws 20000 --baseline-draws 500
    .venv/bin/python bench/appraise.py --fixed-delays                # the case as measured before 2026-11-30

The case: 8 options (BAU, do minimum, make, two buy, two partner, merge) x 30 years, every option with all seven
categories (capital, revenue and transaction costs; cash-releasing, non-cash-releasing and societal benefits;
QALYs) and optimism bias; 50 uncertain inputs: one per option x money category (triangular or PERT multipliers),
a shared QALY multiplier (lognormal, on every option: common random numbers) and a shared transaction-cost
multiplier (PERT); 17 correlations (capital with revenue cost in each option, 0.5; each option's cash-releasing
benefit with the shared QALY input, 0.3; the shared inputs, -0.2), through the Gaussian copula. Unless
``--fixed-delays``: the two partner options and the merger carry their benefits as full yearly values with a
benefit timing (delay = their start year, a 4-year ramp, works-duration optimism bias applied) and an uncertain
delay each (triangular, start - 1 / start / start + 3 years; the merger's correlated -0.3 with its cash-releasing
benefit): 53 inputs, 18 correlations. With ``--fixed-delays`` the case is exactly the one measured before delays
were uncertain.

Timed: :func:`partnering.appraise.montecarlo.simulate` end to end (parameters, discounting, optimism bias, the
correlated draws, NPSV per draw and option, percentiles, p_best, EVPI), best of ``--repeats``, on one thread
(threadpoolctl). The baseline is what a spreadsheet-minded loop does: for each draw, correlate that draw's scores
(Cholesky), turn each into its multiplier with scalar inverse CDFs, scale the option x category x year flows and
sum them discounted (numpy on the 8 x 7 x 30 array, per draw), re-timing the benefits of each option with an
uncertain delay at that draw's delay. It starts from the same uncorrelated normal scores, so both must agree on every
draw (to 1.2e-7 x an option's total |PV|: simulate reads PERT quantiles from a table; 2e-5 for an option with an
uncertain delay, which simulate reads from a table of present values every 1/40 year); it is timed on
``--baseline-draws`` draws and scaled linearly to the full count (its cost is per draw): the output says so. The
baseline skips the summary statistics, which favours it. Memory: tracemalloc's peak during one simulate (a
separate, untimed run) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
from scipy import special
from threadpoolctl import threadpool_limits

from partnering.appraise.economics import SIGN, prepare, ramp_profile
from partnering.appraise.model import (
    BENEFIT_CATEGORIES,
    CATEGORIES,
    BenefitTiming,
    EconomicCase,
    OptimismBias,
    Option,
    Uncertainty,
)
from partnering.appraise.montecarlo import PERT_SHAPE, _targets, correlation_matrix, delay_targets, simulate

YEARS = 30
KINDS = [
    ("bau", "bau"),
    ("do_minimum", "do_minimum"),
    ("make", "make"),
    ("buy_tender", "buy"),
    ("buy_is", "buy"),
    ("partner_buddy", "partner"),
    ("partner_jv", "partner"),
    ("merge", "merge"),
]
MIXES = [
    {"standard_buildings": 1.0},
    {"outsourcing": 1.0},
    {"non_standard_buildings": 0.3, "standard_buildings": 0.7},
    {"equipment_development": 1.0},
]


TIMED = ("partner_buddy", "partner_jv", "merge")  # options whose benefit delay is uncertain (unless --fixed-delays)


def make_case(draws: int, seed: int = 2026, delays: bool = True) -> EconomicCase:
    rng = np.random.default_rng(seed)
    years = np.arange(YEARS)
    options = []
    starts = {}
    for i, (key, kind) in enumerate(KINDS):
        start = int(rng.integers(1, 5))
        timed = delays and key in TIMED
        ramp4 = np.ones(YEARS) if timed else np.clip((years - start + 1) / 4, 0, 1)
        flows = {
            "capital_cost": np.where(years < 3, rng.uniform(1e6, 5e6), 0.0),
            "revenue_cost": np.full(YEARS, rng.uniform(2e6, 8e6)),
            "transaction_cost": np.where(years < 2, rng.uniform(2e5, 2e6), 0.0),
            "cash_releasing_benefit": ramp4 * rng.uniform(1e6, 6e6),
            "non_cash_releasing_benefit": ramp4 * rng.uniform(5e5, 3e6),
            "societal_benefit": (np.ones(YEARS) if timed else np.clip((years - start) / 6, 0, 1))
            * rng.uniform(1e5, 1e6),
            "qalys": (np.ones(YEARS) if timed else np.clip((years - start) / 5, 0, 1)) * rng.uniform(5, 40),
        }
        bias = OptimismBias(MIXES[i % len(MIXES)], stage=("SOC", "OBC", "FBC")[i % 3])
        timing = BenefitTiming(float(start), 4.0, BENEFIT_CATEGORIES + ("qalys",)) if timed else None
        starts[key] = start
        options.append(Option(key, key.replace("_", " ").title(), kind, flows, optimism_bias=bias, timing=timing))
    uncertainties, correlations = [], []
    for key, _ in KINDS:
        for j, category in enumerate(CATEGORIES[:-1]):
            name = f"{key}.{category}"
            if j % 2:
                u = Uncertainty(name, (name,), "pert", {"low": 0.8, "mode": 1.0, "high": 1.5})
            else:
                u = Uncertainty(name, (name,), "triangular", {"low": 0.7, "mode": 1.0, "high": 1.3})
            uncertainties.append(u)
        correlations.append((f"{key}.capital_cost", f"{key}.revenue_cost", 0.5))
        correlations.append((f"{key}.cash_releasing_benefit", "qaly_effect", 0.3))
    uncertainties.append(Uncertainty("qaly_effect", ("*.qalys",), "lognormal", {"median": 1.0, "sigma": 0.25}))
    uncertainties.append(
        Uncertainty("transaction_overrun", ("*.transaction_cost",), "pert", {"low": 0.9, "mode": 1.1, "high": 2.0})
    )
    correlations.append(("qaly_effect", "transaction_overrun", -0.2))
    if delays:
        for key in TIMED:
            s = float(starts[key])
            uncertainties.append(Uncertainty(f"{key}.delay", (f"{key}.benefit_delay",), "triangular",
                                             {"low": s - 1.0, "mode": s, "high": s + 3.0}))
        correlations.append(("merge.delay", "merge.cash_releasing_benefit", -0.3))
    return EconomicCase(options, 2026, uncertainties=uncertainties, correlations=correlations, draws=draws, seed=seed)


def _scalar_multiplier(u: Uncertainty, z: float) -> float:
    """One draw's multiplier by scalar maths (the loop baseline's inverse CDFs)."""
    p = u.params
    if u.distribution == "lognormal":
        return p["median"] * math.exp(p["sigma"] * z)
    q = 0.5 * math.erfc(-z / math.sqrt(2.0))
    low, mode, high = p["low"], p["mode"], p["high"]
    width = high - low
    if u.distribution == "triangular":
        cut = (mode - low) / width
        if q < cut:
            return low + math.sqrt(q * width * (mode - low))
        return high - math.sqrt((1.0 - q) * width * (high - mode))
    a = 1.0 + PERT_SHAPE * (mode - low) / width
    b = 1.0 + PERT_SHAPE * (high - mode) / width
    return low + width * float(special.betaincinv(a, b, q))


def loop_baseline(case: EconomicCase, raw_scores: np.ndarray) -> np.ndarray:
    """Per-draw Python loop over draws (numpy only inside a draw)."""
    prep = prepare(case)
    adjusted = prep.adjusted  # options x categories x years
    weights = prep.factors * prep.unit_value[:, None] * SIGN[:, None]  # categories x years
    chol = np.linalg.cholesky(correlation_matrix(case))
    targets = _targets(case)
    delayed = delay_targets(case)
    full = None if prep.full is None else prep.full * (1.0 + prep.uplift)[:, :, None]
    out = np.empty((raw_scores.shape[0], len(prep.keys)))
    for d in range(raw_scores.shape[0]):
        z = chol @ raw_scores[d]
        m = [_scalar_multiplier(u, float(z[k])) for k, u in enumerate(case.uncertainties)]
        if delayed:  # re-time the benefits of each option at this draw's delay
            adjusted = prep.adjusted
            for o, k in delayed.items():
                t = prep.timing[o]
                share = ramp_profile(prep.n_years, max(m[k], 0.0) * prep.delay_factor[o], t.ramp_years)
                cats = [CATEGORIES.index(c) for c in t.categories]
                adjusted[o, cats] = full[o, cats] * share
        scale = np.ones(adjusted.shape[:2])
        for o, c, ks in targets:
            for k in ks:
                scale[o, c] *= m[k]
        out[d] = ((adjusted * scale[:, :, None]) * weights[None, :, :]).sum(axis=(1, 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--baseline-draws", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fixed-delays", action="store_true",
                        help="the case without uncertain benefit delays (as measured before 2026-11-30)")
    args = parser.parse_args()

    case = make_case(args.draws, delays=not args.fixed_delays)
    print(
        f"# bench/appraise.py  {dt.date.today()}  Python {platform.python_version()}  numpy {np.__version__}  "
        f"cores {os.cpu_count()}  threads 1 (threadpoolctl)"
    )
    print(
        f"case: {len(case.options)} options x {case.n_years} years x {len(CATEGORIES)} categories, "
        f"{len(case.uncertainties)} uncertain inputs ({len(delay_targets(case))} of them benefit delays), "
        f"{len(case.correlations)} correlations, {args.draws:,} draws"
    )
    with threadpool_limits(limits=1):
        simulate(case)  # warm-up (imports, caches)
        walls, cpus = [], []
        for _ in range(args.repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            result = simulate(case)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        wall, cpu = min(walls), min(cpus)

        # The baseline from the same uncorrelated scores as simulate's first draws (same generator, same seed).
        n_base = min(args.baseline_draws, args.draws)
        raw = np.random.default_rng(case.seed).standard_normal((len(case.uncertainties), args.draws)).T[:n_base]
        w0, c0 = time.perf_counter(), time.process_time()
        base_npsv = loop_baseline(case, raw)
        base_wall = (time.perf_counter() - w0) * args.draws / n_base
        base_cpu = (time.process_time() - c0) * args.draws / n_base
    # The loop uses the exact beta quantile; simulate reads PERT quantiles from a table (error < 1e-7 of each
    # input's range, every range here <= 1.2), so the draws agree to 1.2e-7 x the option's total |PV| at most.
    prep = prepare(case)
    bound = 1.2e-7 * np.abs(prep.pv).sum(axis=1)
    for o in delay_targets(case):
        bound[o] = 2e-5 * np.abs(prep.pv[o]).sum()
    gap = np.abs(base_npsv - result.npsv[:n_base])
    assert np.all(gap <= bound), f"baseline and simulate disagree by up to {gap.max():.3f}"

    tracemalloc.start()
    simulate(case)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"vectorised simulate: {wall:.3f} s wall, {cpu:.3f} s CPU (best of {args.repeats}; all: "
        + ", ".join(f"{w:.3f}" for w in walls)
        + ")"
    )
    print(
        f"per-draw loop baseline: timed on {n_base:,} draws, scaled x{args.draws / n_base:g} to {args.draws:,}: "
        f"{base_wall:.1f} s wall, {base_cpu:.1f} s CPU"
    )
    print(
        f"speed-up: {base_wall / wall:.0f}x wall, {base_cpu / cpu:.0f}x CPU; results agree on the {n_base:,} "
        f"shared draws (largest gap {gap.max():.2f} GBP on NPSVs of order {np.abs(result.npsv).mean():,.0f})"
    )
    print(f"memory: tracemalloc peak {peak / 2**20:.1f} MiB during simulate; process peak RSS {rss_mb:.0f} MiB")
    print(
        f"goal < 0.5 s: {'met' if wall < 0.5 else 'NOT met'} (wall), {'met' if cpu < 0.5 else 'NOT met'} (CPU);  "
        "goal >= 100x: "
        f"{'met' if base_wall / wall >= 100 else 'NOT met'}"
    )
    print(
        result.summary.round(
            {"mean": 0, "sd": 0, "p10": 0, "p50": 0, "p90": 0, "p_best": 3, "p_positive": 3, "deterministic": 0}
        ).to_string()
    )
    print(f"EVPI: {result.evpi:,.0f}")


if __name__ == "__main__":
    sys.exit(main())
