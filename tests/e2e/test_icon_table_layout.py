"""At 1,280 px a signed-in analyst sees every key metric of the summary icon table (issue #14.1): each key-metric
column heading lies inside the viewport, the organisation column stays put when the table scrolls sideways, names
are not wrapped one word per line, and the filters and pages work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_every_key_metric_heading_is_within_the_viewport_at_1280(as_user):
    from partnering.indicators.catalogue import load_catalogue

    page = as_user("analyst_a", viewport={"width": 1280, "height": 900})
    page.goto("/")
    table = page.locator("#icon-table")
    expect(table).to_be_visible()
    width = page.viewport_size["width"]
    headers = page.locator("#icon-table thead th[data-metric]")
    codes = headers.evaluate_all("hs => hs.map(h => h.dataset.metric)")
    key = {d.code for d in load_catalogue().values() if d.key}
    assert key and key <= set(codes), (key, codes)
    for i in range(headers.count()):
        box = headers.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (codes[i], box, width)
    # no sideways scrolling of the page itself
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # organisation names are not one word per line: the name column is at least 15 em wide
    first = page.locator("#icon-table tbody th[scope=row]").first
    assert first.bounding_box()["width"] >= 200
    assert first.evaluate("el => getComputedStyle(el).position") == "sticky"


def test_filters_and_pages(as_user):
    page = as_user("analyst_a")
    page.goto("/")
    status = page.locator("#summary ~ p[role=status]")
    expect(status).to_contain_text("Showing 1 to 25 of")
    total = int(re.search(r"of (\d+) organisations", status.inner_text()).group(1))
    page.select_option("#flag", "difficulty")
    page.get_by_role("button", name="Filter the table").click()
    expect(page).to_have_url(re.compile(r"flag=difficulty"))
    rows = page.locator("#icon-table tbody tr")
    expect(rows.first).to_be_visible()
    filtered = int(re.search(r"of (\d+) organisations", status.inner_text()).group(1))
    assert 0 < filtered < total and rows.count() == min(filtered, 25)
    for i in range(rows.count()):
        expect(rows.nth(i).locator("td").nth(2)).to_have_text("Yes")
    page.goto("/?per=25")
    if total > 25:
        page.get_by_role("link", name="Page 2").click()
        expect(page.locator(".nhsuk-pagination__item--current")).to_have_text("2")
