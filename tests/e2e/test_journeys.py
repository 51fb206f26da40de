"""What people do with the service, in a real browser: sign in, find an organisation, read its charts, download
the data behind them, run a buddying plan, upload a file that is wrong, sign out — and read pages without
JavaScript.

The test that loads a file (and so changes the store every other test reads) runs last in this module.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from e2e_support import ORG_A, ORG_B, sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SUPPRESSED = "*"


def assert_suppressed_count(value, where: str) -> None:
    """A published count: ``*`` (1-7 hidden), zero, or a whole number rounded to the nearest 5."""
    if value is None or (isinstance(value, float) and value != value) or str(value).strip() == "":
        return
    s = str(value).strip()
    if s == SUPPRESSED:
        return
    n = float(s)
    assert not 1 <= n <= 7, f"{where}: unsuppressed small count {s}"
    assert n == int(n) and int(n) % 5 == 0, f"{where}: count {s} is not rounded to the nearest 5"


# ------------------------------------------------------------------------------------------------ sign in / out


def test_sign_in_wrong_password_then_right_then_sign_out(page, world):
    viewer = world.accounts["viewer_b"]
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin\?next=/$"))

    page.fill("#email", viewer.email)
    page.fill("#password", "not-the-password")
    page.click("form button[type=submit]")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter a correct email address and password")
    expect(page.locator("#email-error")).to_be_visible()

    page.fill("#password", viewer.password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_have_text("How organisations in England are performing")
    expect(page.locator("header")).to_contain_text(viewer.email)

    page.get_by_role("link", name="Sign out").first.click()
    expect(page.locator("h1")).to_have_text("Sign out")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto(f"/org/{ORG_B}")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    expect(page.locator("header")).not_to_contain_text(viewer.email)


def test_sign_in_returns_to_the_page_asked_for(page, world):
    sign_in(page, world.accounts["viewer_b"], next_path=f"/org/{ORG_A}")
    expect(page).to_have_url(re.compile(rf"/org/{ORG_A}$"))
    expect(page.locator("h1")).not_to_be_empty()


# ------------------------------------------------------------------------------------------------ find


def test_find_an_organisation_by_name_from_the_system_page(as_user):
    page = as_user("viewer_b")
    page.goto("/")
    page.get_by_role("link", name="Find an organisation by name or code").click()
    expect(page.locator("h1")).to_have_text("Find an organisation")
    page.fill("#q", "general hospital")
    page.locator("main form button[type=submit]").click()
    results = page.locator("main ul.nhsuk-list li a")
    expect(results.first).to_be_visible()
    name = results.first.inner_text()
    assert "general hospital" in name.lower()
    results.first.click()
    expect(page.locator("h1")).to_have_text(name)

    # an exact ODS code goes straight to the organisation
    page.goto(f"/org?q={ORG_B.lower()}")
    expect(page).to_have_url(re.compile(rf"/org/{ORG_B}$"))


def test_filter_the_system_page_and_follow_the_icon_table(as_user):
    page = as_user("viewer_b")
    page.goto("/")
    rows = page.locator("#summary ~ div table tbody tr")
    expect(rows.first).to_be_visible()
    all_rows = rows.count()
    region_label = page.locator("#region option").nth(1).inner_text()
    page.select_option("#region", index=1)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"region=\w+"))
    expect(page.locator("h1")).to_contain_text(region_label)
    rows = page.locator("#summary ~ div table tbody tr")
    expect(rows.first).to_be_visible()
    assert 0 < rows.count() < all_rows
    # sort by segment, then open the first organisation of the icon table
    page.locator("#summary ~ div table thead a", has_text="Segment").click()
    expect(page.locator("th[aria-sort]")).to_contain_text("Segment")
    link = page.locator("#summary ~ div table tbody tr th a").first
    name = link.inner_text()
    link.click()
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".nhsuk-breadcrumb")).to_contain_text("System overview")


# ------------------------------------------------------------------------------------------------ charts


def test_read_a_chart_its_table_and_its_hover_text(as_user):
    page = as_user("viewer_b")
    page.goto(f"/org/{ORG_B}")
    charts = page.locator("[data-spc-chart]")
    expect(charts.first).to_be_visible()
    n = charts.count()
    assert n > 0
    # plotly draws every chart as SVG
    expect(page.locator("[data-spc-chart].app-chart--drawn")).to_have_count(n)
    assert page.locator("[data-spc-chart] svg.main-svg").count() >= n
    # each chart has its data table (the alternative to the chart), with a row per month
    tables = page.locator("#charts ~ details table")
    assert tables.count() >= n

    # find a chart with a special-cause point and hover over it: the hover text names the rule that fired
    figures = page.evaluate("""() => Array.from(document.querySelectorAll('[data-spc-chart]')).map(el =>
        JSON.parse(document.getElementById(el.getAttribute('data-spc-chart')).textContent))""")
    target = None
    for ci, fig in enumerate(figures):
        for ti, trace in enumerate(fig["data"]):
            if str(trace.get("name", "")).startswith("Special cause") and trace.get("text"):
                target = (ci, ti, trace)
                break
        if target:
            break
    assert target, "no special-cause point in any chart of the demo organisation"
    ci, ti, trace = target
    chart = charts.nth(ci)
    chart.scroll_into_view_if_needed()
    point = chart.locator("g.scatterlayer g.trace").nth(ti).locator("path.point").first
    expect(point).to_be_attached()
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    hover = chart.locator("g.hoverlayer g.hovertext")
    expect(hover).to_be_visible()
    text = hover.text_content()  # SVG text: one <tspan> per line, joined without spaces
    assert trace["name"] in text, text
    rule = trace["text"][0].split("<br>")[-1]
    assert rule != trace["name"], f"the hover text names no rule: {trace['text'][0]!r}"
    assert rule in text, (rule, text)

    # the same rule is in the chart's data table
    details = page.locator("#charts ~ details").nth(ci)
    details.locator("summary").click()
    month = trace["x"][0][:7]
    row = details.locator("tbody tr", has=page.locator("th", has_text=month))
    expect(row).to_contain_text(rule)


# ------------------------------------------------------------------------------------------------ downloads


def _download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    dl = info.value
    path = dl.path()
    with open(path, "rb") as fh:
        return dl.suggested_filename, fh.read()


def test_download_the_data_behind_a_chart_with_suppression(as_user):
    """Each row under its publication rule (issue #9.5): official NHS England figures as published, own and
    unpublished figures with small-number suppression; the rule is named on every row and in the notes."""
    page = as_user("viewer_b")
    page.goto(f"/org/{ORG_B}")
    link = page.locator("a[href*='/download/spc?indicator=ae_dta_over_12h'][href*='format=csv']")
    name, data = _download(page, link)
    assert name == f"{ORG_B}-spc-ae_dta_over_12h.csv"
    df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    for col in ("org_code", "indicator", "period", "y", "mean", "lpl", "upl", "point_type", "publication_rule"):
        assert col in df.columns, f"{col} missing from {list(df.columns)}"
    assert set(df["org_code"]) == {ORG_B} and set(df["indicator"]) == {"ae_dta_over_12h"}
    assert len(df) >= 24 and df["period"].str.fullmatch(r"\d{4}-\d{2}").all()
    for i, (v, rule) in enumerate(zip(df["y"], df["publication_rule"])):
        if rule == "small-number suppression":
            assert_suppressed_count(v, f"row {i + 2} y")
        else:
            assert rule == "as published" and (v == "" or float(v) == float(v)), f"row {i + 2}: {rule} {v}"

    link = page.locator(f"a[href='/org/{ORG_B}/download/observations?format=xlsx']")
    name, data = _download(page, link)
    assert name == f"{ORG_B}-observations.xlsx"
    book = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=str, keep_default_na=False)
    obs = book["data"]
    for col in ("org_code", "indicator", "period", "numerator", "denominator", "value", "publication_rule"):
        assert col in obs.columns
    assert len(obs) > 100
    hidden = obs[obs["publication_rule"] == "small-number suppression"]
    for col in ("numerator", "denominator"):
        for i, v in enumerate(hidden[col]):
            assert_suppressed_count(v, f"{col} row {i + 2}")
    assert set(obs["publication_rule"]) <= {"as published", "small-number suppression"}
    notes = " ".join(book["notes"]["notes"]).lower()
    assert "publication rule" in notes


# ------------------------------------------------------------------------------------------------ plan


def test_run_a_buddying_plan_from_the_form(as_user):
    page = as_user("analyst_a")
    page.goto("/plan")
    page.fill("#capacity", "2")
    page.fill("#max_travel_minutes", "120")
    page.get_by_role("button", name="Find the best plan").click()
    expect(page).to_have_url(re.compile(r"capacity=2.*max_travel_minutes=120"))
    table = page.locator("table", has=page.locator("caption", has_text="Pairs in the plan"))
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    assert rows.count() > 0
    travel = [float(t.replace(",", "")) for t in rows.locator("td:nth-child(4)").all_inner_texts() if t != "–"]
    assert travel and max(travel) <= 120, f"a pair is over the 120-minute limit: {max(travel)}"
    expect(page.locator("main")).to_contain_text("matched with a lead partner")
    # analysts can save it to the audit log
    page.get_by_role("button", name="Save this plan to the audit log").click()
    expect(page.locator("[role=status]")).to_contain_text("saved")


def test_an_impossible_plan_is_explained(as_user, world, live_server):
    import httpx

    page = as_user("viewer_b")
    # nobody within 5 minutes: every organisation is left without a partner, each with the reason
    page.goto("/plan")
    page.fill("#max_travel_minutes", "5")
    page.get_by_role("button", name="Find the best plan").click()
    unmatched = page.locator("table", has=page.locator("caption", has_text="Why no partner could be found"))
    expect(unmatched).to_be_visible()
    assert unmatched.locator("tbody tr").count() > 0
    expect(unmatched.locator("tbody tr").first).to_contain_text("within 5 minutes")

    # requiring a pair that breaks the travel limit cannot be done: the error summary says why
    plan = httpx.get(f"{live_server.url}/api/v1/buddying-plan", headers=world.token_headers("admin"),
                     timeout=120).json()
    far = next(p for p in plan["pairs"] if (p["travel_minutes"] or 0) > 20)
    page.goto("/plan")
    page.fill("#max_travel_minutes", "10")
    page.fill("#require", f"{far['recipient']}-{far['supporter']}")
    page.get_by_role("button", name="Find the best plan").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(far["recipient"])
    expect(summary).to_contain_text("minutes")
    expect(page.locator("table", has=page.locator("caption", has_text="Pairs in the plan"))).to_have_count(0)


def test_a_form_mistake_is_shown_in_the_error_summary(as_user):
    page = as_user("viewer_b")
    page.goto("/plan?capacity=lots")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("capacity must be a whole number")
    summary.get_by_role("link").first.click()
    expect(page.locator("#capacity")).to_be_focused()


# ------------------------------------------------------------------------------------------------ no JavaScript


def test_pages_read_without_javascript(as_user):
    page = as_user("viewer_b", java_script_enabled=False)
    page.goto("/")
    table = page.locator("table", has=page.locator("caption", has_text="key metric"))
    expect(table).to_be_attached()
    assert table.locator("tbody tr").count() > 10
    assert table.locator("tbody tr th a").first.get_attribute("href").startswith("/org/")
    assert page.locator("svg").count() > 0  # the map is server-drawn SVG

    page.goto(f"/org/{ORG_B}")
    expect(page.locator("h1")).not_to_be_empty()
    assert page.locator("[data-spc-chart].app-chart--drawn").count() == 0
    # (chromium's script-disabled emulation still parses <noscript> as if scripting were on, so check the markup)
    assert "tables below each chart" in page.locator("noscript").first.text_content()
    data_tables = page.locator("#charts ~ details table")
    assert data_tables.count() > 0
    # details open without JavaScript (native <details>)
    page.locator("#charts ~ details summary").first.click()
    expect(data_tables.first.locator("tbody tr").first).to_be_visible()
    perf = page.locator("table", has=page.locator("caption", has_text="Making Data Count icons"))
    expect(perf).to_be_visible()
    assert perf.locator("tbody tr").count() > 3


# ------------------------------------------------------------------------------------------------ data (last)


def test_upload_a_bad_file_and_read_the_error(as_user, axe):
    page = as_user("analyst_a")
    page.goto("/data")
    expect(page.locator("h1")).to_contain_text("Data")
    page.select_option("#kind", "kpi")
    page.set_input_files("#file", files=[{"name": "our-kpis.csv", "mimeType": "text/csv",
                                          "buffer": b"org_code,indicator,month,value\nZF4,ae_4h_pct_all,2026-04,71\n"}])
    page.get_by_role("button", name="Upload and load").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("our-kpis.csv")
    expect(summary).to_contain_text("line 1")
    expect(summary).to_contain_text("has no 'period' column")
    expect(summary).to_contain_text("Nothing was loaded")
    expect(summary).to_be_focused()  # NHS.UK frontend moves focus to the summary
    expect(page.locator("#file-error")).to_contain_text("has no 'period' column")
    summary.get_by_role("link").first.click()
    expect(page.locator("#file")).to_be_focused()
    assert axe(page) == [], "the error state of the data page has accessibility violations"


def test_upload_rows_with_mistakes_and_read_them_by_line_and_column(as_user, axe):
    """Loads a file (unpublished, org A): keep this the last test of the module."""
    page = as_user("analyst_a")
    page.goto("/data")
    csv = (f"org_code,indicator,period,value\n"
           f"{ORG_A},local_falls_per_1000_bed_days,2026-01,4.1\n"
           f"{ORG_A},local_falls_per_1000_bed_days,2026-13,4.3\n"
           f"{ORG_A},local_falls_per_1000_bed_days,2026-03,lots\n").encode()
    page.set_input_files("#file", files=[{"name": "falls.csv", "mimeType": "text/csv", "buffer": csv}])
    page.get_by_role("button", name="Upload and load").click()
    status = page.locator("[role=status]").first
    expect(status).to_contain_text("Loaded")
    expect(status).to_contain_text("2 rejected")
    status.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("falls.csv")
    rejected = page.locator("table", has=page.locator("caption", has_text="Rows rejected"))
    rows = rejected.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("period")
    expect(rows.nth(0)).to_contain_text("'2026-13' is not a month")
    expect(rows.nth(1)).to_contain_text("4")
    expect(rows.nth(1)).to_contain_text("value")
    expect(rows.nth(1)).to_contain_text("'lots' is not a number")
    expect(page.locator("main")).to_contain_text(f"organisation {ORG_A}")
    assert axe(page) == [], "the batch page has accessibility violations"
