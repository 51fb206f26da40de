"""Every page renders for a signed-in user on the demo store: banner, licence, headings, no external loads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from partnering.config import Settings

pytestmark = pytest.mark.integration

PAGES = [
    "/", "/?region=Y56&kind=acute_trust&sort=segment&dir=desc", "/?kind=gp_practice", "/?icb=QX01&sort=name",
    "/org/ZA1", "/org/QX01", "/org/Z10001", "/org?q=general", "/plan", "/plan?capacity=2&max_travel_minutes=60",
    "/data", "/data/batches/1", "/methods", "/methods/spc", "/account", "/admin/users",
]
AUTO_LOAD = re.compile(
    r"""<(?:script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?(?:src|href|data)\s*=\s*["']?(?:https?:)?//""",
    re.IGNORECASE)
CSS_REMOTE = re.compile(r"""(?:url\(\s*["']?|@import\s+["']?)(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", PAGES)
def test_page_renders(admin, path):
    r = admin.get(path)
    assert r.status_code == 200, r.text[:500]
    html = r.text
    assert len(re.findall(r"<h1[\s>]", html)) == 1, "one h1 per page"
    assert "SYNTHETIC DEMONSTRATION DATA" in html
    assert "Open Government Licence" in html
    assert 'href="#maincontent"' in html  # skip link
    assert not AUTO_LOAD.search(html), AUTO_LOAD.search(html).group(0)
    for m in re.finditer(r"<table\b.*?</table>", html, re.S):
        assert "<caption" in m.group(0) and 'scope="col"' in m.group(0)


def test_no_external_urls_in_served_css_js_or_html(admin):
    html = admin.get("/").text
    links = re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', html) + ["/js/plotly.min.js", "/static/charts.js"]
    assert "/static/vendor/nhsuk/nhsuk-frontend.min.css" in links
    for link in links:
        r = admin.get(link)
        assert r.status_code == 200, link
        if link.endswith(".css"):
            assert "@font-face" not in r.text, link
            assert not CSS_REMOTE.search(r.text), (link, CSS_REMOTE.search(r.text).group(0))
    # every http(s) URL in the page is a plain link the user chooses to follow (the OGL), never loaded
    for url in re.findall(r"https?://[^\s\"'<>)]+", html):
        assert url.startswith(("https://www.nationalarchives.gov.uk/", "http://www.w3.org/2000/svg")), url
    csp = admin.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "http" not in csp


def test_system_page_map_and_sorting(admin):
    html = admin.get("/?sort=name&dir=asc").text
    assert '<svg class="app-map"' in html and "<desc" in html
    for shape in ("Segment 1", "Segment 4", "Not segmented"):
        assert shape in html  # the legend explains shapes in words
    summary = html[html.index('id="summary"'):]
    names = re.findall(r'<th scope="row" class="nhsuk-table__header"><a href="/org/Z[A-Z]\d+">([^<]+)</a>', summary)
    assert names and names == sorted(names)
    desc = admin.get("/?sort=name&dir=desc").text
    assert 'aria-sort="descending"' in desc


def test_boundaries_drawn_when_available(admin):
    shared = Settings.from_env().shared / "data" / "geo" / "boundaries"
    if not (shared / "icb22.geojson").is_file():
        pytest.skip("needs ../shared boundaries")
    assert "app-map__icb" not in admin.get("/").text
    home = Path(Settings.from_env().home) / "boundaries"
    home.mkdir(parents=True)
    shutil.copy(shared / "icb22.geojson", home / "icb.geojson")
    shutil.copy(shared / "nhs-regions22.geojson", home / "region.geojson")
    html = admin.get("/").text
    assert 'class="app-map__icb"' in html and 'class="app-map__region"' in html


def test_org_page_has_icons_charts_tables_flags_and_partners(admin):
    html = admin.get("/org/ZA1").text
    assert "Integrated performance" in html and "<title>" in html and "app-icon" in html
    assert 'data-spc-chart="chart-0-data"' in html and '<script type="application/json" id="chart-0-data">' in html
    assert html.count('class="app-chart"') == html.count("by month</caption>")  # a table under every chart
    assert "Persistent difficulty:" in html and "Track record:" in html
    assert "Similar organisations (peers)" in html and "Who could help" in html
    fig = re.search(r'<script type="application/json" id="chart-0-data">(.*?)</script>', html, re.S).group(1)
    assert "</" not in fig
    assert admin.get("/org/NOPE").status_code == 404


def test_plan_page_errors_are_explained(admin):
    r = admin.get("/plan?capacity=lots")
    assert r.status_code == 400
    assert "nhsuk-error-summary" in r.text and "capacity must be a whole number" in r.text
    r = admin.get("/plan?forbid=ZA1")
    assert r.status_code == 400 and "not a pair of organisation codes" in r.text


def test_plan_save_is_audited(demo_app, client):
    from partnering.web.auth import audit_frame

    from .conftest import csrf_of, sign_in

    sign_in(client, "analyst.a@test.nhs.uk")
    page = client.get("/plan")
    r = client.post("/plan/save", data={"capacity": "1", "max_travel": "90", "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303
    log = audit_frame(demo_app.state.engine)
    assert (log["action"] == "plan.save").any()


def test_downloads_follow_the_publication_rules(admin, demo_app):
    """Official statistics NHS England publishes at organisation level are re-published as published (issue #9.5:
    the old blanket rounding made downloads disagree with the source); each row names its rule.  The
    small-number rule on own and unpublished figures: test_web_issue9_publication_rules.py."""
    r = admin.get("/org/ZA1/download/observations?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    import io

    import pandas as pd

    from partnering.store.repository import observations_frame

    df = pd.read_csv(io.StringIO(r.text), dtype={"period": str})
    assert set(df["publication_rule"]) == {"as published"}
    stored = observations_frame(demo_app.state.engine, orgs=["ZA1"])
    both = df.merge(stored, on=["org_code", "indicator", "period"], suffixes=("", "_stored"))
    assert len(both) == len(df) == len(stored)
    counts = both[both["indicator"].isin(["ae_attendances_total", "ae_dta_over_12h", "rtt_over_52w"])]
    assert len(counts) and (counts["value"] % 5 != 0).any()  # unrounded: some counts are not multiples of 5
    for col in ("value", "numerator", "denominator"):
        a, b = both[col].to_numpy(float), both[f"{col}_stored"].to_numpy(float)
        assert ((a == b) | (pd.isna(a) & pd.isna(b))).all(), col
    x = admin.get("/org/ZA1/download/spc?indicator=ae_attendances_total&format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    book = pd.read_excel(io.BytesIO(x.content), sheet_name=None)
    spc = book["data"]
    raw = stored[stored["indicator"] == "ae_attendances_total"].set_index("period")["value"]
    assert (spc.set_index("period")["y"].dropna() == raw.reindex(spc.set_index("period")["y"].dropna().index)).all()
    assert any("as published" in str(n) for n in book["notes"]["notes"])
    for path in ("/download/summary?format=csv", "/download/organisations?format=xlsx", "/plan/download?format=csv",
                 "/org/ZA1/download/icons?format=csv", "/org/ZA1/download/peers?format=csv"):
        assert admin.get(path).status_code == 200, path
    assert admin.get("/download/summary?format=pdf").status_code == 400


def test_markdown_is_escaped():
    from partnering.web.markdown import to_html

    md = "# T\n\n<script>alert(1)</script> [x](javascript:alert(1)) **b** `c`\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    html = str(to_html(md))
    assert "<script>" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "<strong>b</strong>" in html and "<code>c</code>" in html
    assert '<th scope="col"' in html
