"""Record-level indicators at scale: DuckDB, Spark local and a pandas baseline on the same records, same run.

    .venv/bin/python bench/compute.py --records 10000000 [--records 100000000] [--engines duckdb,spark,pandas]

For each size: generate a seeded record set (``partnering.compute.generate``, Parquet, chunked) in a temporary
folder, then run each engine in its own process and measure wall time and the peak resident memory of that
process and its children (Spark's JVM included; sampled from /proc every 0.1 s).  Two workloads:

* ``4-hour``: the 4-hour indicators (all types, type 1, 2, other) per trust and month from attendances, with the
  full validation (every reject reason, duplicates by a window over attendance ids) — the issue's goal is DuckDB
  at 20 million records/s or more on 2 cores, and Spark local within 5x of DuckDB;
* ``all``: every indicator from attendances and pathways (``compute_indicators``), records/s over all records.

The pandas baseline does the 4-hour workload the way an analyst would (read the Parquet files into one
DataFrame, the same rules, ``drop_duplicates``, ``groupby``); it is skipped above ``--pandas-max`` records, where
it does not fit in memory.  The generated data are deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")




def trusts() -> list[str]:
    from partnering.compute.generate import trust_codes_from_ods

    ods = Path(__file__).resolve().parents[2] / "shared" / "data" / "nhs" / "ods" / "etr.csv"
    if ods.is_file():
        return trust_codes_from_ods(ods)
    return [f"R{a}{b}" for a in "ABCDEFGH" for b in "0123456789"][:120]


# ------------------------------------------------------------------------------------------------ workers


def _four_hour_measures():
    from partnering.definitions.measures import ATTENDANCE_MEASURES

    return tuple(m for m in ATTENDANCE_MEASURES if m.code.startswith("ae_4h_pct"))


def work_engine(engine: str, workload: str, folder: Path, memory: str) -> dict:
    from partnering.compute import engines
    from partnering.compute.run import compute_indicators
    from partnering.compute.validate import check_attendances
    from partnering.definitions.monthly import attendance_monthly

    orgs = trusts()
    if engine == "duckdb":
        con = engines.duckdb_connection(memory_limit=memory)
    else:
        con = engines.connect("spark", engines.spark_session("local[2]", shuffle_partitions=8, memory=memory))
    t0, c0 = time.perf_counter(), time.process_time()
    if workload == "4-hour":
        t = engines.read_parquet(con, folder / "attendances", "attendances")
        sums = con.execute(attendance_monthly(check_attendances(t, orgs, con), _four_hour_measures()))
        records = int(sums["records"].sum())
        values = int((sums["reason"].isna()).sum())
    else:
        result = compute_indicators(folder, engine, orgs, con=con)
        records, values = sum(result.records.values()), len(result.indicators)
    cpu = time.process_time() - c0 if engine == "duckdb" else None  # Spark's work is in its JVM, not counted here
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": cpu, "counted": records, "values": values}


def work_pandas(folder: Path) -> dict:
    """The baseline: one DataFrame, the same validation rules and 4-hour sums, written the plain pandas way."""
    import numpy as np
    import pandas as pd

    from partnering.compute.schema import ADMITTED, DEPARTMENT_TYPES, DISPOSALS

    orgs = set(trusts())
    t0, c0 = time.perf_counter(), time.process_time()
    a = pd.read_parquet(folder / "attendances")
    n = len(a)
    a = a.sort_values(["attendance_id", "arrival_time", "departure_time"], kind="stable")
    dup = a.duplicated("attendance_id", keep="first")
    los = a["departure_time"] - a["arrival_time"]
    bad = (dup | ~a["org_code"].isin(orgs) | ~a["department_type"].isin(DEPARTMENT_TYPES)
           | ~a["disposal"].isin(DISPOSALS) | a["arrival_time"].isna() | a["departure_time"].isna() | (los < 0)
           | ((a["disposal"] == ADMITTED) & a["decision_to_admit_time"].isna())
           | (a["decision_to_admit_time"] < a["arrival_time"]) | (a["decision_to_admit_time"] > a["departure_time"]))
    ok = a[~bad.to_numpy()]
    when = pd.to_datetime(ok["arrival_time"], unit="s", utc=True)
    period = when.dt.year * 100 + when.dt.month
    within = (ok["departure_time"] - ok["arrival_time"]) <= 4 * 3600
    frame = pd.DataFrame({"org_code": ok["org_code"], "period": period, "type": ok["department_type"],
                          "within": within.astype(np.int64)})
    sums = frame.groupby(["org_code", "period", "type"], observed=True)["within"].agg(["sum", "count"])
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "counted": n,
            "values": len(sums)}


# ------------------------------------------------------------------------------------------------ measuring


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(args: list[str]) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--worker", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}"}
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = peak[0] / 1024
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, action="append", help="record-set size (repeatable)")
    ap.add_argument("--engines", default="duckdb,spark,pandas")
    ap.add_argument("--workloads", default="4-hour,all")
    ap.add_argument("--pandas-max", type=int, default=20_000_000)
    ap.add_argument("--memory", default="3g", help="memory limit given to DuckDB and the Spark driver")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--dir", type=Path, default=None, help="where to generate (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        engine, *rest = args.worker
        result = work_pandas(Path(rest[0])) if engine == "pandas" else work_engine(engine, rest[0], Path(rest[1]),
                                                                                  rest[2])
        print(json.dumps(result))
        return
    from partnering.compute.generate import generate

    rows = []
    for size in args.records or [10_000_000]:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-compute-{size}-", dir=args.dir))
        t0 = time.perf_counter()
        manifest = generate(folder, size, args.seed, trusts())
        gen_s = time.perf_counter() - t0
        print(f"{size:,} records generated in {gen_s:.1f} s ({size / gen_s / 1e6:.2f} M/s), "
              f"{sum(f.stat().st_size for f in folder.rglob('*.parquet')) / 1e9:.2f} GB", flush=True)
        for workload in args.workloads.split(","):
            for engine in args.engines.split(","):
                if engine == "pandas" and (workload != "4-hour" or size > args.pandas_max):
                    continue
                worker = [engine, str(folder)] if engine == "pandas" else [engine, workload, str(folder),
                                                                            args.memory.upper() + "B"
                                                                            if engine == "duckdb" else args.memory]
                r = measure(worker)
                n = manifest["attendances"] if workload == "4-hour" else size
                row = {"records": size, "workload": workload, "engine": engine, **r}
                if "seconds" in r:
                    row["records_per_s_M"] = n / r["seconds"] / 1e6
                rows.append(row)
                print(json.dumps(row), flush=True)
        if not args.keep:
            shutil.rmtree(folder)
    print("\n| records | workload | engine | records counted | seconds | M records/s | CPU seconds | peak MB |\n"
          "|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "seconds" in r:
            cpu = f"{r['cpu_seconds']:.1f}" if r.get("cpu_seconds") is not None else "(JVM)"
            print(f"| {r['records']:,} | {r['workload']} | {r['engine']} | {r['counted']:,} | {r['seconds']:.1f} | "
                  f"{r['records_per_s_M']:.2f} | {cpu} | {r['peak_mb']:,.0f} |")
        else:
            print(f"| {r['records']:,} | {r['workload']} | {r['engine']} | {r['error']} | | | | |")


if __name__ == "__main__":
    main()
