"""Benchmark: the vectorised SPC engine against a per-series pandas loop, in the same run.

    .venv/bin/python bench/spc.py                    # 10,000 and 100,000 series x 60 points
    .venv/bin/python bench/spc.py --sizes 1000 --baseline-series 200

Data: monthly series of 60 points with level shifts, trends, outliers, ~2% missing values,
a rebase date for half of the series, a target for every series and mixed improvement
directions (via the per-series options table). The baseline (bench/_spc_baseline.py) is timed
on ``--baseline-series`` series and extrapolated linearly to the full size (its cost is per
series); the output says so. Both implementations are run on that subsample and must agree
exactly (labels, flags, icons; values to 1e-9).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _spc_baseline import baseline_spc  # noqa: E402

from partnering.measure.spc import run_spc  # noqa: E402

POINTS = 60


def make_data(n_series: int, seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2019-04-01", periods=POINTS, freq="MS")
    level = rng.normal(100, 20, n_series)[:, None]
    noise = rng.normal(0, 5, (n_series, POINTS))
    shift_at = rng.integers(10, POINTS, n_series)[:, None]
    shift = np.where(np.arange(POINTS)[None, :] >= shift_at, rng.normal(0, 8, n_series)[:, None], 0.0)
    trend = np.where(rng.random(n_series) < 0.1, 1.5, 0.0)[:, None] * np.arange(POINTS)[None, :]
    y = level + noise + shift + trend
    y[rng.random(y.shape) < 0.005] += 40  # outliers
    y = np.round(y, 1)
    y[rng.random(y.shape) < 0.02] = np.nan
    series = np.array([f"S{i:06d}" for i in range(n_series)])
    data = pd.DataFrame({"series": np.repeat(series, POINTS), "x": np.tile(dates.to_numpy(), n_series), "y": y.ravel()})
    rebase = np.where(rng.random(n_series) < 0.5, str(dates[30].date()), "")
    options = pd.DataFrame(
        {
            "series": series,
            "improvement_direction": rng.choice(["increase", "decrease", "neutral"], n_series, p=[0.45, 0.45, 0.1]),
            "target": np.round(level[:, 0] + rng.normal(0, 15, n_series), 1),
            "rebase": rebase,
        }
    )
    return data, options


def compare(engine_points: pd.DataFrame, engine_icons: pd.DataFrame, base_points, base_icons) -> None:
    """Raise AssertionError unless the two implementations agree."""
    cols = ["series", "rebase_group", "special_cause_type", "point_type", "short_group_warning"]
    for col in cols:
        a = engine_points[col].astype(str).to_numpy()
        b = base_points[col].astype(str).to_numpy()
        assert (a == b).all(), f"{col} differs"
    for col in ("outside_limits", "close_to_limits", "relative_to_mean"):
        a = engine_points[col].astype(object).where(engine_points[col].notna(), None).to_numpy()
        b = base_points[col].astype(object).where(base_points[col].notna(), None).to_numpy()
        assert all((x is None and y is None) or (x == y) for x, y in zip(a, b, strict=True)), f"{col} differs"
    for col in ("mean", "lpl", "upl"):
        np.testing.assert_allclose(engine_points[col].to_numpy(float), base_points[col].to_numpy(float), rtol=1e-9)
    pd.testing.assert_frame_equal(
        engine_icons.astype(object).reset_index(drop=True), base_icons.astype(object), check_dtype=False
    )


#: glibc settings that keep freed memory for reuse instead of returning it to the OS; in this
#: sandbox a fresh page costs ~20 us of system time, so a service calling run_spc repeatedly
#: runs in this steady state. Reported separately; the headline figures use the default allocator.
TUNED_MALLOC = {
    "MALLOC_MMAP_THRESHOLD_": str(2**32),
    "MALLOC_TRIM_THRESHOLD_": str(2**36),
    "MALLOC_TOP_PAD_": str(2**30),
}


def time_engine(n_series: int, repeat: int) -> dict:
    data, options = make_data(n_series)
    best = best_cpu = np.inf
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run_spc(data, options)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return {"wall": best, "cpu": best_cpu}


def time_engine_tuned(n_series: int, repeat: int) -> dict:
    env = {**os.environ, **TUNED_MALLOC}
    out = subprocess.run(
        [sys.executable, __file__, "--engine-only", str(n_series), "--repeat", str(repeat)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="numbers of series")
    parser.add_argument("--baseline-series", type=int, default=1_000, help="series the baseline is timed on")
    parser.add_argument("--repeat", type=int, default=5, help="engine timings per size (best is reported)")
    parser.add_argument("--engine-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_only:
        print(json.dumps(time_engine(args.engine_only, args.repeat)))
        return

    print(
        f"SPC benchmark, {POINTS} points per series; {dt.date.today().isoformat()}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible; "
        f"numpy {np.__version__}, pandas {pd.__version__}"
    )
    rows = []
    for n_series in args.sizes:
        data, options = make_data(n_series)
        n_points = len(data)
        best = best_cpu = np.inf
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = run_spc(data, options)
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        sub_n = min(args.baseline_series, n_series)
        sub_series = options["series"].iloc[:sub_n]
        sub_data = data[data["series"].isin(sub_series)]
        sub_options = options.iloc[:sub_n]
        start, start_cpu = time.perf_counter(), time.process_time()
        base_points, base_icons = baseline_spc(sub_data, sub_options)
        base_time = (time.perf_counter() - start) * n_series / sub_n
        base_cpu = (time.process_time() - start_cpu) * n_series / sub_n
        # same answers: the baseline vs the engine on the subsample, and the subsample vs the full run
        sub_result = run_spc(sub_data, sub_options)
        compare(sub_result.points, sub_result.icons, base_points, base_icons)
        in_full = result.points["series"].isin(sub_series).to_numpy()
        compare(
            result.points[in_full].reset_index(drop=True),
            result.icons[result.icons["series"].isin(sub_series)],
            base_points,
            base_icons,
        )
        flagged = int(result.points["special_cause_flag"].sum())
        tuned = time_engine_tuned(n_series, args.repeat)
        rows.append(
            {
                "series": n_series,
                "points": n_points,
                "engine_s": best,
                "engine_cpu_s": best_cpu,
                "tuned_wall_s": tuned["wall"],
                "tuned_cpu_s": tuned["cpu"],
                "baseline_cpu_s": base_cpu,
                "engine_points_per_s": n_points / best,
                "baseline_s": base_time,
                "baseline_points_per_s": n_points / base_time,
                "speed_up": base_time / best,
                "baseline_timed_on": sub_n,
                "special_cause_points": flagged,
            }
        )
        print(
            f"{n_series:>8,} series x {POINTS} = {n_points:>10,} points: engine {best:6.3f} s wall, "
            f"{best_cpu:6.3f} s CPU ({n_points / best / 1e6:5.1f} M points/s wall, "
            f"{n_points / best_cpu / 1e6:5.1f} M points/s CPU); baseline {base_time:8.1f} s "
            f"({'extrapolated from ' + format(sub_n, ',') + ' series' if sub_n < n_series else 'measured'}; "
            f"{n_points / base_time / 1e3:5.1f} k points/s); speed-up {base_time / best:6.0f}x; "
            f"outputs identical on the {sub_n:,} compared series; {flagged:,} special-cause points"
        )
        print(
            f"{'':>8}  with glibc keeping freed memory (MALLOC_MMAP_THRESHOLD_ etc.): engine {tuned['wall']:6.3f} s "
            f"wall, {tuned['cpu']:6.3f} s CPU ({n_points / tuned['wall'] / 1e6:5.1f} M points/s wall, "
            f"{n_points / tuned['cpu'] / 1e6:5.1f} M points/s CPU)"
        )
    print()
    print(
        "| series | points | engine wall / CPU (s) | engine points/s (wall / CPU) "
        "| engine, malloc keeps memory: wall / CPU (s) | points/s (wall / CPU) "
        "| baseline wall / CPU (s) | speed-up (wall / CPU) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        note = (
            f" (timed on {r['baseline_timed_on']:,} series, extrapolated)"
            if r["baseline_timed_on"] < r["series"]
            else ""
        )
        pts = r["points"]
        print(
            f"| {r['series']:,} | {pts:,} | {r['engine_s']:.3f} / {r['engine_cpu_s']:.3f} | "
            f"{pts / r['engine_s'] / 1e6:.1f} M / {pts / r['engine_cpu_s'] / 1e6:.1f} M | "
            f"{r['tuned_wall_s']:.3f} / {r['tuned_cpu_s']:.3f} | "
            f"{pts / r['tuned_wall_s'] / 1e6:.1f} M / {pts / r['tuned_cpu_s'] / 1e6:.1f} M | "
            f"{r['baseline_s']:.1f} / {r['baseline_cpu_s']:.1f}{note} | "
            f"{r['baseline_s'] / r['engine_s']:.0f}x / {r['baseline_cpu_s'] / r['engine_cpu_s']:.0f}x |"
        )


if __name__ == "__main__":
    main()
