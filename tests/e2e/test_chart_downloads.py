"""The organisation page's chart downloads (issue #14.4), clicked as a user would: each chart's PNG and SVG links
give the chart the page shows, drawn on the server, with its title, data date and source line; the board-pack link
gives a PDF."""

from __future__ import annotations

import re

import pytest
from e2e_support import ORG_B
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    dl = info.value
    with open(dl.path(), "rb") as fh:
        return dl.suggested_filename, fh.read()


def test_png_and_svg_links_of_a_chart_and_the_board_pack(as_user):
    page = as_user("viewer_b")
    page.goto(f"/org/{ORG_B}")
    links = page.locator(".app-chart-links")
    expect(links.first).to_be_visible()
    # one pair of links per chart on the page
    assert links.count() == page.locator("[data-spc-chart]").count() > 0

    png = page.locator(f"a[href='/org/{ORG_B}/download/charts/ae_4h_pct_all.png']")
    name, data = _download(page, png)
    assert name == f"{ORG_B}-ae_4h_pct_all.png"
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

    svg = page.locator(f"a[href='/org/{ORG_B}/download/charts/ae_4h_pct_all.svg']")
    name, data = _download(page, svg)
    text = data.decode("utf-8")
    assert name == f"{ORG_B}-ae_4h_pct_all.svg" and "<svg" in text
    # the same chart: its title (indicator and organisation), the target line's label, the data date, the source
    heading = page.locator("h3", has_text="A&E attendances within 4 hours (all types)").first.inner_text()
    assert "A&amp;E attendances within 4 hours (all types)" in text, heading
    assert "(assurance)" in text  # the target assurance is computed against, labelled
    assert re.search(r"Data to \d{4}-\d{2}\.", text) and "Source: NHS England" in text

    name, data = _download(page, page.locator(f"a[href='/org/{ORG_B}/download-board-pack']"))
    assert name == f"{ORG_B}-board-pack.pdf" and data.startswith(b"%PDF")
