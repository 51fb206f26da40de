"""Benchmark: the vectorised SPC engine against a per-series pandas loop, in the same run.

    .venv/bin/python bench/spc.py                    # 10,000 and 100,000 series x 60 points
    .venv/bin/python bench/spc.py --sizes 1000 --baseline-series 200 --process-series 1000

Three parts, one run: (1) the engine in process, per size; (2) the whole ``partnering spc`` command as a
subprocess (start-up, reading the files, checks, engine, writing) on ``--process-series`` series, CSV in and
out and Parquet in and out, against the same per-series baseline; (3) the CLI's start-up
(``partnering --help``, ``partnering spc --help``), repeated like hyperfine, with the modules it imported.

Data: monthly series of 60 points with level shifts, trends, outliers, ~2% missing values,
a rebase date for half of the series, a target for every series and mixed improvement
directions (via the per-series options table). The baseline (bench/_spc_baseline.py) is timed
on ``--baseline-series`` series and extrapolated linearly to the full size (its cost is per
series); the output says so. Both implementations are run on that subsample and must agree
exactly (labels, flags, icons; values to 1e-9). The whole-process outputs are checked against the
in-process engine (CSV and Parquet give the same values). The baseline is timed without any file I/O, which
favours it: the ratios of the whole process are conservative.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(argv: list[str], repeat: int) -> dict:
    """Best wall time and the CPU time (user + system) of that best run, of ``repeat`` runs of a command."""
    best = best_cpu = np.inf
    walls = []
    for _ in range(repeat):
        cpu0, start = _children_cpu(), time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
        walls.append(wall)
        if wall < best:
            best, best_cpu = wall, cpu
    return {"wall": best, "cpu": best_cpu, "mean": float(np.mean(walls)), "sd": float(np.std(walls))}


def write_inputs(folder: Path, data: pd.DataFrame, options: pd.DataFrame) -> dict[str, Path]:
    """The benchmark data as a user would hand it over: CSV (ISO dates) and Parquet (typed). Not timed."""
    paths = {fmt: (folder / f"points.{fmt}", folder / f"options.{fmt}") for fmt in ("csv", "parquet")}
    data.assign(x=data["x"].dt.strftime("%Y-%m-%d")).to_csv(paths["csv"][0], index=False)
    options.to_csv(paths["csv"][1], index=False)
    data.to_parquet(paths["parquet"][0], index=False)
    options.to_parquet(paths["parquet"][1], index=False)
    return paths


def check_process_output(result, folder: Path) -> None:
    """The command's CSV and Parquet outputs hold the engine's values (labels equal, numbers to 1e-12)."""
    expected = result.points
    for fmt in ("csv", "parquet"):
        path = folder / f"out_points.{fmt}"
        got = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, dtype={"series": str})
        assert len(got) == len(expected), f"{fmt}: {len(got)} rows"
        assert (got["series"].astype(str).to_numpy() == expected["series"].astype(str).to_numpy()).all()
        assert (pd.to_datetime(got["x"]).to_numpy() == expected["x"].to_numpy()).all(), f"{fmt}: x differs"
        for col in ("y", "mean", "lpl", "upl", "target"):
            np.testing.assert_allclose(got[col].to_numpy(float), expected[col].to_numpy(float), rtol=1e-12,
                                       err_msg=f"{fmt}: {col}")
        for col in ("point_type", "special_cause_type", "rebase_group"):
            assert (got[col].astype(str).to_numpy() == expected[col].astype(str).to_numpy()).all(), f"{fmt}: {col}"
        assert (got["special_cause_flag"].astype(bool).to_numpy() == expected["special_cause_flag"].to_numpy()).all()
        icons = pd.read_parquet(folder / f"out_icons.{fmt}") if fmt == "parquet" else pd.read_csv(
            folder / f"out_icons.{fmt}", dtype={"series": str})
        assert (icons["variation_icon"].astype(str).to_numpy()
                == result.icons["variation_icon"].astype(str).to_numpy()).all(), f"{fmt}: icons differ"


def whole_process(n_series: int, repeat: int, baseline: dict) -> list[dict]:
    """Time ``partnering spc`` as a subprocess, CSV in/out and Parquet in/out, on ``n_series`` x 60 points."""
    data, options = make_data(n_series)
    result = run_spc(data, options)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_spc_") as tmp:
        folder = Path(tmp)
        paths = write_inputs(folder, data, options)
        for fmt in ("csv", "parquet"):
            points, opts = paths[fmt]
            argv = [sys.executable, "-m", "partnering", "spc", str(points), "--options", str(opts),
                    "--out", str(folder / f"out_points.{fmt}"), "--icons", str(folder / f"out_icons.{fmt}")]
            timing = time_command(argv, repeat)
            sizes = {"in_mb": points.stat().st_size / 1e6,
                     "out_mb": (folder / f"out_points.{fmt}").stat().st_size / 1e6}
            rows.append({"format": fmt, "series": n_series, "points": len(data), **timing, **sizes,
                         "speed_up": baseline["wall"] / timing["wall"],
                         "speed_up_cpu": baseline["cpu"] / timing["cpu"]})
        check_process_output(result, folder)
    return rows


HEAVY_MODULES = ("pandas", "numpy", "pyarrow", "scipy", "sqlalchemy", "plotly", "matplotlib", "fastapi")


def startup(repeat: int) -> list[dict]:
    """``partnering --help`` and ``partnering spc --help``: wall time over ``repeat`` runs, and heavy imports."""
    rows = []
    for argv in (["--help"], ["spc", "--help"]):
        cmd = [sys.executable, "-m", "partnering", *argv]
        subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache, as hyperfine's warm-up
        timing = time_command(cmd, repeat)
        probe = (f"import sys; sys.argv = ['partnering', *{argv!r}]\nfrom partnering.cli.main import run\n"
                 "try:\n    run()\nexcept SystemExit:\n    pass\n"
                 f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules), file=sys.stderr)")
        heavy = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
        rows.append({"command": "partnering " + " ".join(argv), **timing, "heavy": heavy.stderr.strip()})
    return rows


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="numbers of series")
    parser.add_argument("--baseline-series", type=int, default=1_000, help="series the baseline is timed on")
    parser.add_argument("--repeat", type=int, default=5, help="engine timings per size (best is reported)")
    parser.add_argument("--process-series", type=int, default=10_000,
                        help="series for the whole-process timing of `partnering spc` (0: skip)")
    parser.add_argument("--process-repeat", type=int, default=3, help="whole-process runs per format (best reported)")
    parser.add_argument("--startup-repeat", type=int, default=20, help="runs of each `--help` start-up timing")
    parser.add_argument("--engine-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_only:
        print(json.dumps(time_engine(args.engine_only, args.repeat)))
        return

    print(
        f"SPC benchmark, {POINTS} points per series; {dt.date.today().isoformat()}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible; "
        f"numpy {np.__version__}, pandas {pd.__version__}; load average {_load()} at start"
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

    if args.process_series:
        print_whole_process(args, rows)
    if args.startup_repeat:
        print()
        print(f"CLI start-up, {args.startup_repeat} runs each after one warm-up (goal < 0.5 s); load average {_load()}")
        print("| command | wall mean ± sd (s) | best (s) | CPU of best (s) | heavy modules imported |")
        print("|---|---:|---:|---:|---|")
        for r in startup(args.startup_repeat):
            print(f"| `{r['command']}` | {r['mean']:.3f} ± {r['sd']:.3f} | {r['wall']:.3f} | {r['cpu']:.3f} "
                  f"| {r['heavy'] or 'none'} |")


def print_whole_process(args, rows: list[dict]) -> None:
    n = args.process_series
    match = [r for r in rows if r["series"] == n]
    if match:  # the baseline of part (1) at the same size
        base = {"wall": match[0]["baseline_s"], "cpu": match[0]["baseline_cpu_s"],
                "timed_on": match[0]["baseline_timed_on"]}
    else:
        data, options = make_data(n)
        sub_n = min(args.baseline_series, n)
        sub_series = options["series"].iloc[:sub_n]
        start, start_cpu = time.perf_counter(), time.process_time()
        baseline_spc(data[data["series"].isin(sub_series)], options.iloc[:sub_n])
        base = {"wall": (time.perf_counter() - start) * n / sub_n,
                "cpu": (time.process_time() - start_cpu) * n / sub_n, "timed_on": sub_n}
    process = whole_process(n, args.process_repeat, base)
    how = f"timed on {base['timed_on']:,} series, extrapolated" if base["timed_on"] < n else "measured"
    print()
    print(
        f"Whole process: `partnering spc INPUT --options OPTIONS --out POINTS --icons ICONS` as a subprocess, "
        f"{n:,} series x {POINTS} = {n * POINTS:,} points, best of {args.process_repeat}; baseline "
        f"{base['wall']:.1f} s wall / {base['cpu']:.1f} s CPU (per-series pandas, {how}, no file I/O); outputs "
        f"checked against the engine (CSV and Parquet alike); load average {_load()}"
    )
    print("| input -> output | input MB | points file MB | wall best (s) | wall mean ± sd (s) | CPU of best (s) "
          "| vs baseline (wall) | vs baseline (CPU) | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in process:
        goal = 20 if r["format"] == "csv" else 100
        label = "CSV -> CSV" if r["format"] == "csv" else "Parquet -> Parquet"
        print(f"| {label} | {r['in_mb']:.1f} | {r['out_mb']:.1f} | {r['wall']:.2f} "
              f"| {r['mean']:.2f} ± {r['sd']:.2f} | {r['cpu']:.2f} | {r['speed_up']:.0f}x | {r['speed_up_cpu']:.0f}x "
              f"| >= {goal}x {'met' if r['speed_up'] >= goal else 'NOT met'} |")

if __name__ == "__main__":
    main()
