"""End-to-end harness: the web app served by uvicorn on 127.0.0.1, a store seeded with the synthetic demo NHS,
boundary files where the map looks for them, users of every role, and Debian chromium driven by Playwright.

Nothing is downloaded: Playwright launches ``/usr/bin/chromium`` (``PARTNERING_CHROMIUM`` overrides it) with the
options below, and the pages load only what the app serves.  When ``CI=true`` a missing chromium, axe-core or
boundary file is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_support import (
    AXE_JS,
    AXE_TAGS,
    CHROMIUM,
    CHROMIUM_ARGS,
    CI,
    ORG_A,
    ORG_B,
    LiveServer,
    World,
    boundary_sources,
    build_world,
    need,
)


@pytest.fixture(scope="session")
def e2e_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("e2e-home")
    old = os.environ.get("PARTNERING_HOME")
    os.environ["PARTNERING_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("PARTNERING_HOME", None)
    else:
        os.environ["PARTNERING_HOME"] = old


@pytest.fixture(autouse=True)
def _isolated_home(e2e_home, monkeypatch):
    """Overrides the suite-wide per-test home: the live server reads ``PARTNERING_HOME`` (boundaries) on every
    request, so every e2e test must see the session's home."""
    monkeypatch.setenv("PARTNERING_HOME", str(e2e_home))
    monkeypatch.delenv("PARTNERING_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def world(e2e_home) -> World:
    srcs = boundary_sources()
    missing = [str(p) for p in srcs.values() if not p.is_file()]
    if missing and CI:
        pytest.fail(f"boundary files are required on CI: {', '.join(missing)}")
    return build_world(e2e_home)


# ------------------------------------------------------------------------------------------------ live server
@pytest.fixture(scope="session")
def live_server(world) -> LiveServer:
    import httpx

    from partnering.web.app import create_app

    # The app's own warm-up computes every organisation's page (a minute on 2 cores) in a background thread that
    # would compete with the tests; instead warm what the tests open, over HTTP, before the first test.
    app = create_app(world.db_url, secure_cookies=False, warm_cache=False)
    server = LiveServer(app).start()
    with httpx.Client(base_url=server.url, headers=world.token_headers("admin"), timeout=300) as client:
        for path in ("/", f"/org/{ORG_B}", f"/org/{ORG_A}", "/plan"):
            r = client.get(path)
            assert r.status_code == 200, f"warm-up GET {path}: {r.status_code} {r.text[:300]}"
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


# ------------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def browser_type_launch_args():
    need(Path(CHROMIUM).is_file(), f"Debian chromium at {CHROMIUM}")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(base_url):
    return {"base_url": base_url, "accept_downloads": True, "viewport": {"width": 1280, "height": 900},
            "locale": "en-GB"}


@pytest.fixture(autouse=True)
def _page_timeouts(request):
    """Generous but bounded waits: the first view of an organisation computes its partner candidates."""
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.set_default_timeout(60_000)
        page.set_default_navigation_timeout(90_000)


@pytest.fixture(scope="session")
def storage_states(playwright, base_url, world, tmp_path_factory) -> dict[str, str]:
    """A signed-in browser state per account (signed in once over HTTP with the real form and CSRF token)."""
    import re

    out = {}
    folder = tmp_path_factory.mktemp("states")
    for who, acc in world.accounts.items():
        ctx = playwright.request.new_context(base_url=base_url)
        html = ctx.get("/signin").text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        resp = ctx.post("/signin", form={"email": acc.email, "password": acc.password, "next": "/",
                                         "csrf_token": token}, max_redirects=0)
        assert resp.status == 303 and resp.headers["location"] == "/", (who, resp.status, resp.text()[:300])
        path = folder / f"{who}.json"
        ctx.storage_state(path=str(path))
        ctx.dispose()
        out[who] = str(path)
    return out


@pytest.fixture
def as_user(browser, browser_context_args, storage_states):
    """``as_user("admin", **context_options)`` -> a page signed in as that account, or not signed in for
    ``"anonymous"`` (closed after the test)."""
    contexts = []

    def open_page(who: str, **opts):
        state = None if who == "anonymous" else storage_states[who]
        ctx = browser.new_context(**{**browser_context_args, **opts}, storage_state=state)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.set_default_navigation_timeout(90_000)
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    need(AXE_JS.is_file(), f"axe-core at {AXE_JS} (run `npm ci`)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def axe(axe_source):
    """``axe(page)`` -> the list of WCAG 2.2 AA violations on the page as it stands (axe-core from node_modules,
    evaluated through the DevTools protocol, so the page's Content-Security-Policy does not block it)."""

    def run(page, exclude: list[str] | None = None, include: list[str] | None = None) -> list[dict]:
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        context = {"exclude": [[s] for s in exclude or []]}
        if include:
            context["include"] = [[s] for s in include]
        return page.evaluate(
            "async ([context, tags]) => (await window.axe.run(context, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})).violations", [context, AXE_TAGS])

    return run
