"""Benchmark: load all 36 A&E months + 12 RTT months into SQLite and PostgreSQL, then reload (nothing new).

Goal (issue #2): the 48 files into SQLite in under 10 s on 2 cores; the no-change rerun under 3 s.
Baseline in the same run: the same parsed rows written with ``pandas.DataFrame.to_sql`` into a bare
table (no checks, no supersede logic, no batch records) — the cost of plain bulk insertion.

Run:  .venv/bin/python bench/ingest.py [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    nhs = Settings.from_env().shared / "data" / "nhs"
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
