"""Benchmark the web app on the real data: latency and throughput of the organisation page and the main API calls.

1. Build a store from ../shared/data (ODS folder, every A&E monthly CSV, every RTT incomplete-pathways CSV, the
   catchment context) — or reuse one with ``--store FILE``.
2. Cold baseline: serve the app with its cache warm-up switched off and time the *first* request to each endpoint
   (what a visitor would wait for with no cache).
3. Serve it the way ``partnering serve`` does (uvicorn, one process, the app warms its cache in a thread at start-up)
   and wait until the warm-up has finished (the server process goes idle).
4. Warm baseline: one client hits the same endpoints one after another for a quarter of ``--seconds``.
5. Load: ``--clients`` concurrent clients (asyncio + httpx, loopback only) loop over the endpoints for
   ``--seconds``, each request for a random assessed organisation.

Prints p50 / p95 / p99 latency per endpoint and overall, requests per second and errors for each phase; the goal is
p95 < 200 ms with zero errors under load.  ``--write`` puts the figures in BENCHMARKS.md (section "Web").

Run: ``.venv/bin/python bench/web.py [--seconds 60] [--clients 20] [--store FILE] [--write]``.
The load generator runs on the same machine as the server, so client CPU is part of the measured latency.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PARTNERING_SHARED", ROOT.parent / "shared")) / "data"
PASSWORD = "bench-password-123"
EMAIL = "bench@partnering.local"
GOAL_P95_MS = 200.0

#: name -> path template ({org} is an assessed organisation, {ind} an indicator it has)
ENDPOINTS = {
    "org page": "/org/{org}",
    "organisations": "/api/v1/organisations?kind=acute_trust&limit=200",
    "assessment": "/api/v1/assessment?limit=500",
    "observations": "/api/v1/observations?org={org}&limit=2000",
    "spc": "/api/v1/spc?org={org}&indicator={ind}",
    "peers": "/api/v1/organisations/{org}/peers",
    "partners": "/api/v1/organisations/{org}/partners",
}


# ------------------------------------------------------------------------------------------------ store


def build_store(path: Path) -> float:
    from partnering.ingest import load
    from partnering.ingest.ods import load_ods_folder
    from partnering.store.db import get_engine

    t0 = time.perf_counter()
    eng = get_engine(f"sqlite:///{path}")
    nhs = DATA / "nhs"
    load_ods_folder(nhs / "ods", eng)
    for f in sorted((nhs / "ae-monthly").glob("*.csv")):
        load("ae-monthly", f, eng)
    for f in sorted((nhs / "rtt-incomplete-provider").glob("*.csv")):
        load("rtt", f, eng)
    load("context", DATA, eng)
    return time.perf_counter() - t0


def ensure_user(db_url: str) -> str:
    """An admin account and an API token for it (what `partnering users create/token` do)."""
    from partnering.errors import ValidationError
    from partnering.store.db import get_engine
    from partnering.web.auth import create_token, create_user

    eng = get_engine(db_url)
    try:
        create_user(eng, EMAIL, "admin", password=PASSWORD, actor="bench")
    except ValidationError:
        pass  # reused store: the user exists
    return create_token(eng, EMAIL, "bench/web.py", actor="bench")


# ------------------------------------------------------------------------------------------------ server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE = """
import sys
from partnering.web.serve import serve
serve(host="127.0.0.1", port=int(sys.argv[1]), db=sys.argv[2], secure_cookies=False, log_level="warning")
"""
SERVE_COLD = """
import sys, uvicorn
from partnering.web.app import create_app
uvicorn.run(create_app(sys.argv[2], secure_cookies=False, warm_cache=False), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning")
"""


class Server:
    def __init__(self, db_url: str, home: Path, cold: bool):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PARTNERING_HOME": str(home)}
        self.proc = subprocess.Popen([sys.executable, "-c", SERVE_COLD if cold else SERVE, str(self.port), db_url],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/signin", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("server did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout: float, window: float = 3.0, busy: float = 0.05) -> float:
        """Wait until the process uses < ``busy`` of a core over ``window`` seconds (its warm-up is over)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            c0 = self.cpu_seconds()
            time.sleep(window)
            if (self.cpu_seconds() - c0) / window < busy:
                return time.monotonic() - t0
        print(f"  warning: the server was still busy after {timeout:.0f} s", flush=True)
        return time.monotonic() - t0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ------------------------------------------------------------------------------------------------ clients


def sign_in(url: str) -> httpx.Cookies:
    with httpx.Client(base_url=url, timeout=60) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text).group(1)
        r = c.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303, f"sign-in failed: {r.status_code}"
        return c.cookies


def targets(url: str, token: str) -> list[tuple[str, str]]:
    """(organisation, indicator) pairs to request: every assessed organisation with one of its indicators."""
    h = {"Authorization": f"Bearer {token}"}
    flags = httpx.get(f"{url}/api/v1/assessment?limit=10000", headers=h, timeout=600).json()["items"]
    out = []
    for f in flags:
        icons = httpx.get(f"{url}/api/v1/assessment/{f['org_code']}", headers=h, timeout=600).json()["icons"]
        if icons:
            out.append((f["org_code"], icons[0]["indicator"]))
    return out


def fill(template: str, org: str, ind: str) -> str:
    return template.format(org=org, ind=ind)


async def one(client: httpx.AsyncClient, name: str, path: str, lat: dict, errors: dict) -> None:
    t0 = time.perf_counter()
    try:
        r = await client.get(path)
        ok = r.status_code == 200
    except httpx.HTTPError:
        ok = False
    lat[name].append((time.perf_counter() - t0) * 1000)
    if not ok:
        errors[name] = errors.get(name, 0) + 1


async def drive(url: str, token: str, cookies, pairs, clients: int, seconds: float, seed: int = 1) -> tuple:
    lat = {n: [] for n in ENDPOINTS}
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(i: int, client: httpx.AsyncClient):
        rng = random.Random(seed + i)
        names = list(ENDPOINTS)
        k = i
        while time.perf_counter() < deadline:  # bounded by the deadline
            name = names[k % len(names)]
            k += 1
            org, ind = rng.choice(pairs)
            await one(client, name, fill(ENDPOINTS[name], org, ind), lat, errors)

    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, cookies=cookies,
                                 timeout=60, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
        wall = time.perf_counter() - t0
    return lat, errors, wall


def cold_first_requests(url: str, token: str, cookies, pair) -> dict[str, float]:
    out = {}
    org, ind = pair
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, cookies=cookies,
                      timeout=900) as c:
        for name, tpl in ENDPOINTS.items():
            t0 = time.perf_counter()
            r = c.get(fill(tpl, org, ind))
            out[name] = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                print(f"  cold {name}: HTTP {r.status_code}", flush=True)
    return out


# ------------------------------------------------------------------------------------------------ report


def summarise(lat: dict, errors: dict, wall: float) -> list[dict]:
    rows = []
    allv = []
    for name, v in lat.items():
        if not v:
            continue
        a = np.array(v)
        allv.extend(v)
        rows.append({"endpoint": name, "n": len(a), "p50": np.percentile(a, 50), "p95": np.percentile(a, 95),
                     "p99": np.percentile(a, 99), "errors": errors.get(name, 0)})
    a = np.array(allv)
    rows.append({"endpoint": "overall", "n": len(a), "p50": np.percentile(a, 50), "p95": np.percentile(a, 95),
                 "p99": np.percentile(a, 99), "errors": sum(errors.values()), "rps": len(a) / wall})
    return rows


def table(rows: list[dict], title: str) -> str:
    lines = [f"**{title}**", "", "| endpoint | requests | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['endpoint']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                     f"{r['errors']} |")
    rps = rows[-1].get("rps")
    if rps:
        lines += ["", f"Throughput {rps:.1f} requests/s; errors {rows[-1]['errors']}."]
    return "\n".join(lines)


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    body = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    head = "## Web (bench/web.py)"
    section = f"{head}\n\n{text.strip()}\n"
    if head in body:
        start = body.index(head)
        nxt = body.find("\n## ", start + len(head))
        body = body[:start] + section + (body[nxt:] if nxt != -1 else "")
    else:
        body = body.rstrip() + "\n\n" + section
    path.write_text(body, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the concurrent load phase")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients")
    ap.add_argument("--store", type=Path, help="reuse (or build once into) this SQLite file")
    ap.add_argument("--warm-timeout", type=float, default=900.0, help="longest wait for the cache warm-up")
    ap.add_argument("--skip-cold", action="store_true", help="skip the uncached first-request baseline")
    ap.add_argument("--exclude", action="append", default=[], choices=list(ENDPOINTS),
                    help="leave an endpoint out of the mix (repeatable), e.g. to see the others without it")
    ap.add_argument("--cold-only", action="store_true", help="only the uncached first-request baseline")
    ap.add_argument("--write", action="store_true", help="write the figures into BENCHMARKS.md")
    args = ap.parse_args()
    for name in args.exclude:
        ENDPOINTS.pop(name, None)

    work = Path(tempfile.mkdtemp(prefix="partnering-bench-web-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    home = work / "home"
    home.mkdir()
    os.environ["PARTNERING_HOME"] = str(home)
    store = args.store or work / "real.db"
    if store.exists():
        print(f"Reusing the store {store}", flush=True)
        build_s = None
    else:
        print(f"Building the store from {DATA} ...", flush=True)
        build_s = build_store(store)
        print(f"  built in {build_s:.0f} s", flush=True)
    db_url = f"sqlite:///{store}"
    token = ensure_user(db_url)

    cold = {}
    if not args.skip_cold:
        print("Cold baseline: first request to each endpoint, no cache warm-up ...", flush=True)
        srv = Server(db_url, home, cold=True)
        try:
            srv.wait_ready()
            cookies = sign_in(srv.url)
            t0 = time.perf_counter()
            org = httpx.get(f"{srv.url}/api/v1/assessment?limit=1", headers={"Authorization": f"Bearer {token}"},
                            timeout=900).json()["items"][0]["org_code"]
            first_assessment_ms = (time.perf_counter() - t0) * 1000
            ind = httpx.get(f"{srv.url}/api/v1/assessment/{org}", headers={"Authorization": f"Bearer {token}"},
                            timeout=900).json()["icons"][0]["indicator"]
            cold = {"assessment (first computation)": first_assessment_ms,
                    **cold_first_requests(srv.url, token, cookies, (org, ind))}
        finally:
            srv.stop()

    if args.cold_only:
        print("\n".join(f"{k}: {v:.0f} ms" for k, v in cold.items()))
        return
    print("Serving as `partnering serve` does and waiting for its cache warm-up ...", flush=True)
    srv = Server(db_url, home, cold=False)
    try:
        t0 = time.monotonic()
        srv.wait_ready()
        warm_s = srv.wait_idle(args.warm_timeout)
        print(f"  ready and idle after {time.monotonic() - t0:.0f} s", flush=True)
        cookies = sign_in(srv.url)
        pairs = targets(srv.url, token)
        print(f"  {len(pairs)} assessed organisations to request", flush=True)
        # touch every organisation once, sequentially (what a crawl after warm-up would see) — not measured
        seq_s = max(5.0, args.seconds / 4)
        print(f"Warm baseline: 1 client, sequential, {seq_s:.0f} s ...", flush=True)
        lat1, err1, wall1 = asyncio.run(drive(srv.url, token, cookies, pairs, 1, seq_s))
        print(f"Load: {args.clients} clients for {args.seconds:.0f} s ...", flush=True)
        latn, errn, walln = asyncio.run(drive(srv.url, token, cookies, pairs, args.clients, args.seconds, seed=99))
    finally:
        srv.stop()

    seq, load = summarise(lat1, err1, wall1), summarise(latn, errn, walln)
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    today = subprocess.run(["date"], capture_output=True, text=True).stdout.strip() or str(date.today())
    parts = [f"Run {today} on {machine}; SQLite store from ../shared/data "
             f"({'built in %.0f s' % build_s if build_s else 'reused'}); {len(pairs)} assessed organisations, "
             f"one picked at random per request; server: one uvicorn process (`partnering serve`), "
             f"warm-up finished {warm_s:.0f} s after start; clients on the same machine (loopback)."
             + (f" Left out of the mix: {', '.join(args.exclude)}." if args.exclude else "")]
    if cold:
        parts.append("**Uncached first requests (cache warm-up off; the first assessment request computes the "
                     "assessment, the others then reuse it), ms**\n\n| endpoint | first request ms |\n"
                     "|---|---:|\n" + "\n".join(f"| {k} | {v:.0f} |" for k, v in cold.items()))
    parts.append(table(seq, "Baseline: 1 client, sequential, warm cache"))
    parts.append(table(load, f"Load: {args.clients} concurrent clients for {args.seconds:.0f} s, warm cache"))
    p95 = load[-1]["p95"]
    verdict = "met" if p95 < GOAL_P95_MS and load[-1]["errors"] == 0 else "NOT met"
    parts.append(f"Goal (p95 < {GOAL_P95_MS:.0f} ms overall under load, zero errors): **{verdict}** "
                 f"(p95 {p95:.0f} ms, {load[-1]['errors']} errors).")
    text = "\n\n".join(parts)
    print("\n" + text)
    if args.write:
        write_section(text)
        print("\nWritten to BENCHMARKS.md")


if __name__ == "__main__":
    main()
