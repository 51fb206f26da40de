"""Benchmark: load all 36 A&E months + 12 RTT months into SQLite and PostgreSQL, then reload (nothing new);
and read the RTT Full CSV data file of January 2026 (85 MB CSV, 183,417 rows).

Goal (issue #2): the 48 files into SQLite in under 10 s on 2 cores; the no-change rerun under 3 s.
Baseline in the same run: the same parsed rows written with ``pandas.DataFrame.to_sql`` into a bare
table (no checks, no supersede logic, no batch records) — the cost of plain bulk insertion.

Goal (issue #13): the RTT Full CSV data file (the 85 MB CSV, and the zip it comes in) read, checked and derived per
provider x treatment function in under 5 s, memory bounded (read in blocks).  Baseline in the same run: plain pandas
— ``pd.read_csv`` of the whole file, the same C_999 check and sums with ``groupby``, then the same derivation
(:func:`partnering.ingest.rtt_extract.measures`); the two outputs must be equal.  Each method runs in its own
process, so its peak resident memory (``resource.getrusage``) is its own; the process's memory before the run
(Python + libraries) is shown too, and its CPU time (user + system, all threads), which other jobs on the machine
disturb less than the wall time.

Run:  .venv/bin/python bench/ingest.py [--no-postgres] [--only files|rtt-extract]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine

from partnering.config import Settings
from partnering.ingest import load
from partnering.ingest.ae import parse_ae
from partnering.ingest.rtt import parse_rtt
from partnering.store import repository as repo
from partnering.store.db import dispose_all, get_engine

PG = os.environ.get("PARTNERING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def files(nhs: Path) -> list[tuple[str, Path]]:
    ae = sorted((nhs / "ae-monthly").glob("*.csv"))
    rtt = sorted((nhs / "rtt-incomplete-provider").glob("*.csv"))
    return [("ae-monthly", f) for f in ae] + [("rtt", f) for f in rtt]


def run_store(url: str, todo) -> dict:
    eng = get_engine(url)
    t0 = time.perf_counter()
    rows = 0
    for kind, f in todo:
        r = load(kind, f, eng)
        rows += r.observations_new
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    unchanged = sum(load(kind, f, eng).status == "unchanged" for kind, f in todo)
    second = time.perf_counter() - t1
    c = repo.counts(eng)
    return {"first_s": first, "values": rows, "values_per_s": rows / first, "rerun_s": second,
            "rerun_unchanged": unchanged, "current_values": c["observations"]}


def baseline_to_sql(url: str, todo) -> dict:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    t0 = time.perf_counter()
    rows = 0
    table = f"bench_{uuid.uuid4().hex[:8]}"
    for kind, f in todo:
        data = f.read_bytes()
        p = parse_ae(data, str(f)) if kind == "ae-monthly" else parse_rtt(data, str(f))
        p.observations.to_sql(table, eng, if_exists="append", index=False, method="multi" if "postgres" in url
                              else None, chunksize=5000)
        rows += len(p.observations)
    secs = time.perf_counter() - t0
    with eng.begin() as c:
        c.exec_driver_sql(f"DROP TABLE {table}")
    eng.dispose()
    return {"first_s": secs, "values": rows, "values_per_s": rows / secs}


def rtt_extract_pandas(path: Path):
    """The baseline: the whole file into one DataFrame, then the same check and sums with groupby."""
    from partnering.ingest import rtt_extract as rx

    df = pd.read_csv(path, dtype={rx.PROVIDER: str, rx.COMMISSIONER: str, rx.TF: str})
    counts = df[rx.COUNT_COLUMNS].fillna(0).astype("int64")
    sign = np.where(df[rx.TF] == rx.TOTAL_TF, 1, -1)
    residual = counts.mul(sign, axis=0).groupby([df[rx.PROVIDER], df[rx.COMMISSIONER].fillna(""), df[rx.PART]]).sum()
    if (residual != 0).any().any():
        raise SystemExit("baseline: treatment functions do not add up to C_999")
    sums = counts.groupby([df[rx.PROVIDER], df[rx.PART], df[rx.TF]]).sum().reset_index()
    names = df.drop_duplicates(rx.PROVIDER).set_index(rx.PROVIDER)[rx.PROVIDER_NAME].str.strip().to_dict()
    tf_names = df.drop_duplicates(rx.TF).set_index(rx.TF)[rx.TF_NAME].str.strip().to_dict()
    ext = rx.Extract(str(path), rx.period_of(df[rx.PERIOD].iloc[0], str(path)), len(df), sums, names, tf_names)
    return rx.measures(ext)


def child(method: str, path: Path, out: Path) -> None:
    """One measurement in this (fresh) process: prints JSON with the seconds and the peak memory."""
    from partnering.ingest import rtt_extract as rx

    usage = resource.getrusage(resource.RUSAGE_SELF)
    before, cpu0 = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    if method == "partnering":
        frame = rx.measures(rx.read_extract(path))
    elif method == "pandas":
        frame = rtt_extract_pandas(path)
    else:  # partnering ingest into a fresh SQLite store, one transaction
        eng = get_engine(f"sqlite:///{out.with_suffix('.db')}")
        from partnering.ingest.rtt import load_rtt

        load_rtt(path, eng)
        frame = None
    secs = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime - cpu0
    if frame is not None:
        frame.sort_values(["provider_code", "treatment_function_code"]).reset_index(drop=True).to_parquet(out)
    print(json.dumps({"seconds": secs, "cpu_seconds": cpu, "peak_mb": peak, "before_mb": before}))


def bench_rtt_extract(nhs: Path) -> None:
    src = next((nhs / "rtt-full-extract").glob("*.zip"))
    load = os.getloadavg()
    print(f"RTT Full CSV data file: {src.name} ({src.stat().st_size / 1e6:.1f} MB zip); machine: {os.cpu_count()} "
          f"cores; load average {load[0]:.1f} at the start")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(src) as z:
            member = z.namelist()[0]
            z.extract(member, tmp)
        csv = Path(tmp) / member
        for label, path in (("CSV (85 MB)", csv), ("zip (3.6 MB)", src)):
            outs = {}
            for method in ("partnering", "pandas", "partnering ingest"):
                out = Path(tmp) / f"{method.replace(' ', '_')}-{path.suffix[1:]}.parquet"
                p = subprocess.run([sys.executable, __file__, "--child", method, str(path), str(out)],
                                   capture_output=True, text=True, check=True)
                r = json.loads(p.stdout.strip().splitlines()[-1])
                outs[method] = out
                rows.append({"file": label, "method": {"partnering": "partnering (pyarrow blocks)",
                                                       "pandas": "baseline pd.read_csv + groupby",
                                                       "partnering ingest": "partnering ingest into SQLite"}[method],
                             "seconds": round(r["seconds"], 2), "CPU s": round(r["cpu_seconds"], 2),
                             "peak RSS MB": round(r["peak_mb"]),
                             "RSS before MB": round(r["before_mb"])})
            same = pd.read_parquet(outs["partnering"]).equals(pd.read_parquet(outs["pandas"]))
            rows[-3]["same output"] = rows[-2]["same output"] = same
    print(pd.DataFrame(rows).to_string(index=False))
    fast = [r for r in rows if r["method"].startswith("partnering (")]
    print("goal: the 85 MB CSV read, checked and derived in < 5 s -> "
          + ", ".join(f"{r['file']}: {r['seconds']:.2f} s" for r in fast)
          + (" (met)" if all(r["seconds"] < 5 for r in fast) else " (NOT met)")
          + f"; load average {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--only", choices=["files", "rtt-extract"], default=None)
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    nhs = Settings.from_env().shared / "data" / "nhs"
    if args.only in (None, "rtt-extract"):
        bench_rtt_extract(nhs)
        if args.only:
            return
    todo = files(nhs)
    if len(todo) != 48:
        sys.exit(f"expected 48 files under {nhs}, found {len(todo)}")
    print(f"{len(todo)} files ({sum(f.stat().st_size for _, f in todo) / 1e6:.1f} MB); machine: {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        results.append(("SQLite", "partnering ingest", run_store(sqlite_url, todo)))
        results.append(("SQLite", "baseline to_sql", baseline_to_sql(f"sqlite:///{tmp}/base.db", todo)))
        if not args.no_postgres:
            import psycopg

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG, autocommit=True) as c:
                c.execute(f"CREATE SCHEMA {schema}")
            try:
                results.append(("PostgreSQL", "partnering ingest",
                                run_store(f"{PG}?options=-csearch_path%3D{schema}", todo)))
                results.append(("PostgreSQL", "baseline to_sql",
                                baseline_to_sql(f"{PG}?options=-csearch_path%3D{schema}", todo)))
            finally:
                dispose_all()
                with psycopg.connect(PG, autocommit=True) as c:
                    c.execute(f"DROP SCHEMA {schema} CASCADE")
    rows = []
    for store, what, r in results:
        rows.append({"store": store, "method": what, "first load s": round(r["first_s"], 2),
                     "values": r["values"], "values/s": round(r["values_per_s"]),
                     "rerun s": round(r["rerun_s"], 2) if "rerun_s" in r else None,
                     "rerun unchanged": r.get("rerun_unchanged")})
    print(pd.DataFrame(rows).to_string(index=False))
    s = results[0][2]
    print(f"goal: 48 files into SQLite < 10 s -> {s['first_s']:.2f} s "
          f"({'met' if s['first_s'] < 10 else 'NOT met'}); rerun < 3 s -> {s['rerun_s']:.2f} s "
          f"({'met' if s['rerun_s'] < 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
