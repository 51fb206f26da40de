"""Benchmark: synthetic control with placebo-in-space inference against pysyncon, on the same panels in one run.

    .venv/bin/python bench/evaluate.py                  # trusts (120 donors x 72 months) and GP practices
    .venv/bin/python bench/evaluate.py --skip-practices # only the trust panel
    .venv/bin/python bench/evaluate.py --pysyncon-subset 300

Panels: seeded linear factor models (3 factors, unit effects, noise), one treated unit with an effect of -3 from
the start; trusts 121 units x 72 months (start at month 49: 48 pre, 24 post), GP practices 6,001 units x 60 months
(36 pre, 24 post).  Predictors: the outcome in every pre-period (what an NHS monthly indicator gives), so the
problem is ``min ||Y1_pre - Y0_pre w||`` on the simplex with ``V = I`` for both tools (pysyncon's ``custom_V`` of
ones, so it solves the same problem, no V search: the fair comparison).

Timed: :func:`partnering.evaluate.synthetic.synthetic_control` with ``placebo=True`` (every donor refitted as if
treated; the p-value; the interval), leave-one-out and placebo-in-time off; pysyncon: ``Synth.fit`` for the treated
unit and for every donor as a placebo (pysyncon's ``PlaceboTest`` does the same refits; called directly here to
give both the same donor pools).  Pre-period fit: RMSPE of the treated unit, both tools.  pysyncon on 6,000 donors
(SLSQP over 6,000 weights) does not finish in reasonable time: it is timed for one fit on a random subset of
``--pysyncon-subset`` donors and its placebo loop extrapolated linearly from that, and the output says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import numpy as np
import pandas as pd

from partnering.evaluate.panel import Panel
from partnering.evaluate.synthetic import synthetic_control


def factor_panel(units: int, periods: int, pre: int, seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(units, 3))
    factors = np.cumsum(rng.normal(scale=0.4, size=(periods, 3)), axis=0)
    y = 60 + rng.normal(scale=5, size=(units, 1)) + loadings @ factors.T + rng.normal(scale=1.0, size=(units, periods))
    y[0, pre:] -= 3.0
    names = tuple(["treated"] + [f"d{i:05d}" for i in range(1, units)])
    return Panel(y, names, tuple(range(periods)), {"treated": pre})


def pysyncon_fit(y_pre_treated: np.ndarray, y_pre_donors: np.ndarray) -> tuple[np.ndarray, float]:
    from pysyncon import Synth

    cols = [f"c{j}" for j in range(y_pre_donors.shape[1])]
    X0 = pd.DataFrame(y_pre_donors, columns=cols)
    X1 = pd.Series(y_pre_treated, name="treated")
    s = Synth()
    s.fit(X0=X0, X1=X1, Z0=X0, Z1=X1, custom_V=np.ones(len(y_pre_treated)))
    w = np.asarray(s.W, dtype=float)
    r = y_pre_treated - y_pre_donors @ w
    return w, float(np.sqrt(np.mean(r ** 2)))


def bench(name: str, units: int, periods: int, pre: int, subset: int | None, seed: int) -> dict:
    panel = factor_panel(units, periods, pre, seed)
    t = time.perf_counter()
    c = time.process_time()
    r = synthetic_control(panel, placebo=True, leave_one_out=False, placebo_in_time=False)
    ours_wall, ours_cpu = time.perf_counter() - t, time.process_time() - c
    out = {"panel": name, "units": units, "periods": periods, "ours_wall": ours_wall, "ours_cpu": ours_cpu,
           "ours_rmspe": r.rmspe_pre, "att": r.att, "p": r.p_value, "ci": (r.ci_low, r.ci_high)}
    try:
        import pysyncon  # noqa: F401
    except ImportError:
        out["pysyncon"] = "missing: pip install -e .[bench]"
        return out
    y = panel.y
    donors = np.arange(1, units)
    if subset and subset < len(donors):
        donors = np.sort(np.random.default_rng(seed).choice(donors, subset, replace=False))
        out["pysyncon_subset"] = subset
    t = time.perf_counter()
    c = time.process_time()
    _, their_rmspe = pysyncon_fit(y[0, :pre], y[donors, :pre].T)
    one_wall, one_cpu = time.perf_counter() - t, time.process_time() - c
    if subset and subset < units - 1:
        # same subset for our one fit, for a like-for-like fit comparison
        sub = Panel(y[np.concatenate([[0], donors])], tuple(panel.units[i] for i in np.concatenate([[0], donors])),
                    panel.periods, panel.starts)
        out["ours_rmspe_subset"] = synthetic_control(sub, placebo=False, leave_one_out=False,
                                                     placebo_in_time=False).rmspe_pre
        # extrapolate the placebo loop: (1 + units - 1) fits each ~ one fit on subset donors (a lower bound: SLSQP
        # grows faster than linearly in donors)
        out["pysyncon_wall"] = one_wall * units
        out["pysyncon_cpu"] = one_cpu * units
        out["pysyncon_note"] = f"one fit on {subset} donors timed, x {units} fits extrapolated (lower bound)"
    else:
        t = time.perf_counter()
        c = time.process_time()
        for j in donors:
            others = donors[donors != j]
            pysyncon_fit(y[j, :pre], y[others, :pre].T)
        out["pysyncon_wall"] = one_wall + time.perf_counter() - t
        out["pysyncon_cpu"] = one_cpu + time.process_time() - c
    out["pysyncon_rmspe"] = their_rmspe
    out["speedup_wall"] = out["pysyncon_wall"] / ours_wall
    out["speedup_cpu"] = out["pysyncon_cpu"] / ours_cpu
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-practices", action="store_true")
    ap.add_argument("--pysyncon-subset", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    try:
        import pysyncon
        their = f"pysyncon {pysyncon.__version__ if hasattr(pysyncon, '__version__') else '(version unknown)'}"
    except ImportError:
        their = "pysyncon MISSING (install the bench extra: pip install -e .[bench]); our figures only"
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M}  {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}  numpy {np.__version__}  {their}")
    runs = [("trust: 120 donors x 72 months", 121, 72, 48, None)]
    if not a.skip_practices:
        runs.append(("GP practices: 6,000 donors x 60 months", 6001, 60, 36, a.pysyncon_subset))
    for name, units, periods, pre, subset in runs:
        o = bench(name, units, periods, pre, subset, a.seed)
        print(f"\n{name}")
        print(f"  ours     : {o['ours_wall']:.2f} s wall / {o['ours_cpu']:.2f} s CPU (fit + {units - 1} placebos + "
              f"interval); pre-RMSPE {o['ours_rmspe']:.4f}; att {o['att']:.3f} (true -3), p {o['p']:.4f}, "
              f"CI {o['ci'][0]:.3f} .. {o['ci'][1]:.3f}")
        if "pysyncon_wall" in o:
            note = f" [{o['pysyncon_note']}]" if "pysyncon_note" in o else ""
            print(f"  pysyncon : {o['pysyncon_wall']:.2f} s wall / {o['pysyncon_cpu']:.2f} s CPU{note}; "
                  f"pre-RMSPE {o['pysyncon_rmspe']:.4f}"
                  + (f" (ours on the same {o['pysyncon_subset']} donors: {o['ours_rmspe_subset']:.4f})"
                     if "pysyncon_subset" in o else ""))
            print(f"  speed-up : {o['speedup_wall']:.1f}x wall, {o['speedup_cpu']:.1f}x CPU (goal >= 10x)")
        else:
            print(f"  pysyncon : {o.get('pysyncon')}")


if __name__ == "__main__":
    main()
