"""Screenshots of the main pages, taken with Debian chromium, into docs/screenshots/*.png.

Serves the app over a fresh store seeded with the synthetic demo NHS (so the pictures carry the synthetic-data
banner and no real figures), signs in as an analyst, and captures: sign-in, system overview, an organisation,
the buddying plan with a result, the data page with an upload error, and the methods page.

Run: ``.venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--full-page]``.
Nothing is downloaded: chromium is ``/usr/bin/chromium`` (``PARTNERING_CHROMIUM`` overrides it).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from e2e_support import CHROMIUM, CHROMIUM_ARGS, ORG_B, LiveServer, build_world  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--full-page", action="store_true", help="capture whole pages, not the first screenful")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    home = Path(tempfile.mkdtemp(prefix="partnering-screens-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["PARTNERING_HOME"] = str(home)
    world = build_world(home, name="screens")
    from playwright.sync_api import sync_playwright

    from partnering.web.app import create_app

    server = LiveServer(create_app(world.db_url, secure_cookies=False, warm_cache=False)).start()
    analyst = world.accounts["analyst_a"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900},
                                      device_scale_factor=1, locale="en-GB")
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            page.set_default_navigation_timeout(180_000)

            def shot(name: str, full: bool | None = None) -> None:
                page.wait_for_load_state("networkidle")
                path = args.out / f"{name}.png"
                page.screenshot(path=str(path), full_page=args.full_page if full is None else full)
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

            page.goto("/signin")
            page.fill("#email", analyst.email)
            shot("sign-in")
            page.fill("#password", analyst.password)
            with page.expect_navigation():
                page.click("main form button[type=submit]")

            page.goto("/")
            shot("system")
            page.locator("#summary").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -20)")
            page.screenshot(path=str(args.out / "system-icon-table.png"))
            print("wrote system-icon-table.png")

            page.goto(f"/org/{ORG_B}")
            page.wait_for_selector("[data-spc-chart].app-chart--drawn")
            shot("organisation")
            page.locator("#charts").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -20)")
            page.screenshot(path=str(args.out / "organisation-charts.png"))
            print("wrote organisation-charts.png")

            page.goto("/plan")
            page.fill("#capacity", "2")
            page.fill("#max_travel", "120")
            page.get_by_role("button", name="Find the best plan").click()
            page.wait_for_selector("table caption:has-text('Pairs in the plan')")
            shot("plan")
            page.locator("table caption:has-text('Pairs in the plan')").scroll_into_view_if_needed()
            page.screenshot(path=str(args.out / "plan-pairs.png"))
            print("wrote plan-pairs.png")

            page.goto("/data")
            page.set_input_files("#file", files=[{"name": "our-kpis.csv", "mimeType": "text/csv",
                                                  "buffer": b"org_code,indicator,month,value\nZF4,x,2026-01,1\n"}])
            page.get_by_role("button", name="Upload and load").click()
            page.wait_for_selector(".nhsuk-error-summary")
            shot("data-upload-error")

            page.goto("/methods")
            shot("methods")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
