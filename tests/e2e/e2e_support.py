"""Helpers shared by the end-to-end tests: the seeded store, the live server, sign-in and axe formatting.

Imported by ``conftest.py`` and by the tests (``from e2e_support import ...``); fixtures live in the conftest.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PARTNERING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "e2e-correct-horse-42"
#: two acute trusts of the demo system (seed 2026): A supports B in the demo's partner candidates, so A's
#: unpublished figures would show in B's "who could help" reasons if scoping leaked.
ORG_A = "ZF4"
ORG_B = "ZA1"


def need(condition: bool, why: str) -> None:
    """Skip locally, fail on CI."""
    if condition:
        return
    if CI:
        pytest.fail(f"required on CI: {why}")
    pytest.skip(why)


def boundary_sources() -> dict[str, Path]:
    from partnering.config import Settings

    geo = Settings.from_env().shared / "data" / "geo" / "boundaries"
    return {"icb": geo / "icb22.geojson", "region": geo / "nhs-regions22.geojson"}


# ------------------------------------------------------------------------------------------------ world


@dataclass
class Account:
    email: str
    role: str
    org_code: str | None
    password: str = PASSWORD
    token: str = ""


@dataclass
class World:
    home: Path
    db_url: str
    engine: object
    accounts: dict[str, Account] = field(default_factory=dict)
    demo_batch_id: int = 0

    def token_headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.accounts[who].token}"}


#: who -> (role, organisation)
ACCOUNTS = {
    "admin": ("admin", None),
    "analyst_a": ("analyst", ORG_A),
    "viewer_a": ("viewer", ORG_A),
    "analyst_b": ("analyst", ORG_B),
    "viewer_b": ("viewer", ORG_B),
}


def build_world(home: Path, name: str = "store") -> World:
    """A fresh SQLite store with the demo system, boundary files in ``home`` and one account per role/org."""
    from partnering.ingest.demo import load_demo
    from partnering.store.db import get_engine
    from partnering.web.auth import create_token, create_user

    home.mkdir(parents=True, exist_ok=True)
    bdir = home / "boundaries"
    bdir.mkdir(exist_ok=True)
    for level, src in boundary_sources().items():
        if src.is_file():
            shutil.copyfile(src, bdir / f"{level}.geojson")
    url = f"sqlite:///{home / (name + '.db')}"
    eng = get_engine(url)
    report = load_demo(eng)
    world = World(home=home, db_url=url, engine=eng, demo_batch_id=int(report.batch_id))
    for who, (role, org) in ACCOUNTS.items():
        email = f"{who.replace('_', '.')}@e2e.test"
        create_user(eng, email, role, org, PASSWORD, name=who.replace("_", " ").title(), actor="e2e")
        world.accounts[who] = Account(email, role, org, PASSWORD, create_token(eng, email, "e2e", actor="e2e"))
    return world




def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving ``app`` in a daemon thread on a free loopback port."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="e2e-uvicorn", daemon=True)

    def start(self, timeout: float = 30) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def sign_in(page, account: Account, next_path: str = "/") -> None:
    page.goto(f"/signin?next={next_path}")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    with page.expect_navigation():
        page.click("button.nhsuk-button[type=submit]")
    assert "/signin" not in page.url, f"sign-in as {account.email} failed: {page.url}"


# ------------------------------------------------------------------------------------------------ accessibility

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def format_violations(violations: list[dict]) -> str:
    """axe violations as readable lines: rule id, impact, the elements (CSS targets) and the help text."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v.get('impact')}]: {v.get('help')} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"    at {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(v.get("nodes", [])) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more element(s)")
    return "\n".join(lines)


def iter_endpoints(app) -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every HTTP endpoint of a FastAPI app, plus ``("MOUNT", path)`` for static mounts.

    FastAPI >= 0.16x keeps included routers as ``_IncludedRouter`` entries in ``app.routes`` (their routes are
    listed by ``effective_route_contexts()``); older versions flatten them.  Both are handled.
    """
    out: set[tuple[str, str]] = set()
    for r in app.routes:
        if hasattr(r, "effective_route_contexts"):
            for ctx in r.effective_route_contexts():
                out.update((m, ctx.path) for m in ctx.methods or ())
        elif getattr(r, "methods", None):
            out.update((m, r.path) for m in r.methods)
        elif type(r).__name__ == "Mount":
            out.add(("MOUNT", r.path))
    return sorted((m, p) for m, p in out if m != "HEAD")
