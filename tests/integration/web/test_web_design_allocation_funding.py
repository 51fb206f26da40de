"""The allocation page with the user's own funding (issue #12 s.4-5): a CSV of code,funding uploaded or pasted on
/design/money/allocation (a CSRF-checked POST, read in memory, never stored) gives actual against target, the
pace-of-change step and the concentration index over the units in the file, mapped, with the same figures as the
library; a bad file is refused line by line (line, column, reason); the download carries the funding.

No real funding per practice or area is held in ../shared (nhs/MANIFEST.md, geo/MANIFEST.md list none), so the
file is a fixture: ``data/allocation-funding-north-east.csv``, the 12 North East local authorities (May 2024 codes)
at GBP 1,500 per Census 2021 resident, except Hartlepool (E06000001) at GBP 1,800 — amounts written as "£166,226,400"
as spreadsheets export them. Populations and deprivation are the real public files."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from pathlib import Path

import pytest
from tests.integration.web.conftest import csrf_of, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.shared]

FILE = Path(__file__).parent / "data" / "allocation-funding-north-east.csv"
FORM = {"units": "areas", "budget": "4120", "compare": "funding", "current": "", "floor": "1", "cap": "6"}


@pytest.fixture
def viewer(client):
    assert sign_in(client, "viewer@test.nhs.uk").status_code == 303
    return client


def _text(page: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _post(c, data: dict, file: tuple | None = None, path: str = "/design/money/allocation"):
    token = csrf_of(c.get("/design/money/allocation").text)
    files = {"funding_file": file} if file else None
    return c.post(path, data={**data, "csrf_token": token}, files=files)


def _summary(html: str) -> str:
    return re.search(r'class="nhsuk-error-summary".*?</ul>', html, re.S).group(0)


def test_uploaded_funding_gives_distance_pace_and_fairness_as_the_library(viewer, shared):
    from partnering.design.allocation import allocate, read_funding, with_funding
    from partnering.web.design.money import allocation_units

    r = _post(viewer, FORM, ("north-east.csv", FILE.read_bytes(), "text/csv"))
    assert r.status_code == 200, _text(_summary(r.text)) if "error-summary" in r.text else r.text[:300]
    html, text = r.text, _text(r.text)
    # the library on the same file and units: the page must show its figures
    units = allocation_units("areas")
    funding = read_funding(FILE.read_bytes(), FILE.name, units["code"])
    assert len(funding) == 12 and funding["E06000001"] == 166_226_400  # "£166,226,400" read as pounds
    lib = allocate(with_funding(units, funding), 4120e6, floor_growth=0.01, max_growth=0.06)
    assert "for the 12 areas in north-east.csv (of 296: the budget is allocated over yours)" in text
    assert f"concentration index {lib.concentration_index:+.3f}" in text
    lo, hi = lib.concentration_interval
    assert f"95% interval {lo:+.3f} to {hi:+.3f}" in text
    hart = lib.units.set_index("code").loc["E06000001"]
    # Hartlepool is funded 20% above its neighbours per head: the furthest over target
    over = re.search(r'<table class="nhsuk-table" id="over-table">.*?</table>', html, re.S).group(0)
    first = re.search(r'<tbody class="nhsuk-table__body">\s*<tr[^>]*>(.*?)</tr>', over, re.S).group(1)
    assert "Hartlepool (E06000001)" in first
    assert f"{hart['distance_from_target'] * 100:+.1f}%" in first
    assert hart["distance_from_target"] == pytest.approx(lib.units["distance_from_target"].max())
    # the pace-of-change step, as the library computes it
    before, after = lib.pace["mean_abs_distance_before"], lib.pace["mean_abs_distance_after"]
    assert f"falls from {before * 100:.1f}% to {after * 100:.1f}% in one year" in text
    assert 'id="pace-table"' in html
    # mapped: the 12 areas shaded (hatched where off target), the rest of England not in the file
    fig = re.search(r'<figure class="app-map-figure">.*?</figure>', html, re.S).group(0)
    assert fig.count('class="app-map__area"') == 12
    legend = re.findall(r"target: (\d+) areas?</li>", html)
    assert sum(int(n) for n in legend) == 12
    assert "Current funding</th>" in html  # real funding, not "compared with"
    assert "north-east.csv" in text and "comparison, not anyone's real funding" not in text


def test_pasted_lines_work_as_the_file_and_download_carries_the_funding(viewer, shared):
    lines = FILE.read_text(encoding="utf-8")
    r = _post(viewer, {**FORM, "funding_text": lines})
    assert r.status_code == 200, _text(_summary(r.text)) if "error-summary" in r.text else r.text[:300]
    assert "for the 12 areas in the pasted lines" in _text(r.text)
    form = re.search(r'<form method="post" action="/design/money/allocation/download".*?</form>', r.text, re.S)
    assert form, "no download form for an allocation against the user's funding"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    data = {k: html_lib.unescape(v) for k, v in fields.items()}
    d = viewer.post("/design/money/allocation/download", data={**data, "format": "csv"})
    assert d.status_code == 200 and d.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(d.text)))
    assert len(rows) == 12
    hart = next(row for row in rows if row["code"] == "E06000001")
    assert float(hart["actual"]) == pytest.approx(166_226_400)
    assert hart["actual_is"] == "current funding as you supplied it"
    assert float(hart["next_year_gbp"]) >= 166_226_400 * 1.01 - 1  # the 1% floor for everyone


def test_a_bad_file_is_refused_with_line_column_and_reason(viewer, shared):
    bad = ("code,funding\n"
           "E06000001,£100\n"
           "E06000002,lots\n"        # line 3: not an amount
           ",5\n"                    # line 4: no code
           "E06000001,7\n"           # line 5: repeated
           "X99,10\n"                # line 6: not an area
           "E06000003,-4\n")         # line 7: negative
    r = _post(viewer, FORM, ("bad.csv", bad.encode(), "text/csv"))
    assert r.status_code == 400
    summary = _text(_summary(r.text))
    for expected in ("bad.csv, line 3, column 'funding': 'lots' is not an amount of money",
                     "bad.csv, line 4, column 'code': no code",
                     "bad.csv, line 5, column 'code': E06000001 is given again (first on line 2)",
                     "bad.csv, line 6, column 'code': X99 is not one of the local authorities",
                     "bad.csv, line 7, column 'funding': '-4': funding must be a finite amount of 0 or more"):
        assert expected in summary, summary
    assert 'href="#funding_file"' in _summary(r.text)
    assert 'id="funding_file-error"' in r.text
    header = _post(viewer, FORM, ("x.csv", b"practice;amount_in_pounds\nA81001;5\n", "text/csv"))
    assert header.status_code == 400
    assert "x.csv, line 1: the first line must name a code column and a funding column" in _text(header.text)
    none = _post(viewer, FORM)
    assert none.status_code == 400
    assert "Choose a CSV file of code,funding, or paste the lines" in _text(none.text)


def test_funding_cannot_come_by_link_and_needs_the_csrf_token(viewer):
    r = viewer.get("/design/money/allocation?units=areas&budget=1000&compare=funding")
    assert r.status_code == 400
    assert "a link cannot carry it" in _text(_summary(r.text))
    nope = viewer.post("/design/money/allocation", data=FORM, files={"funding_file": ("f.csv", b"code,funding\n")})
    assert nope.status_code == 403


def test_the_command_line_and_the_api_give_the_page_s_figures(client, demo_app, shared):
    """The same file through `partnering design allocation --actual` and the same funding through the API: the
    same units, concentration index and Hartlepool's distance from target as the library (and so the page)."""
    import json

    from typer.testing import CliRunner

    from partnering.cli.main import app
    from partnering.design.allocation import allocate, read_funding, with_funding
    from partnering.web.auth import create_token
    from partnering.web.design.money import allocation_units

    funding = read_funding(FILE.read_bytes(), FILE.name)
    lib = allocate(with_funding(allocation_units("areas"), funding), 4120e6, draws=20, floor_growth=0.01)
    out = CliRunner().invoke(app, ["design", "allocation", "--units", "areas", "--budget", "4120e6", "--actual",
                                   str(FILE), "--draws", "20", "--floor-growth", "0.01", "--rows", "12", "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    assert cli["summary"]["units"] == 12
    assert cli["concentration_index"] == pytest.approx(lib.concentration_index)
    hart = next(u for u in cli["units"] if u["code"] == "E06000001")
    assert hart["distance_from_target"] == pytest.approx(
        lib.units.set_index("code").loc["E06000001", "distance_from_target"])
    token = create_token(demo_app.state.engine, "admin@test.nhs.uk", "allocation funding test")
    r = client.post("/api/v1/design/money/allocation", headers={"Authorization": f"Bearer {token}"},
                    json={"units": "areas", "budget_gbp": 4120e6, "draws": 20, "floor_growth": 0.01,
                          "actual_gbp": funding.to_dict()})
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["units"] == 12
    assert r.json()["concentration_index"] == pytest.approx(lib.concentration_index)
    bad = client.post("/api/v1/design/money/allocation", headers={"Authorization": f"Bearer {token}"},
                      json={"units": "areas", "budget_gbp": 1e9, "actual_gbp": {"X99": 5.0}})
    assert bad.status_code == 400 and "X99" in bad.text


def test_the_command_line_refuses_a_bad_file_naming_line_and_column(tmp_path, shared):
    from typer.testing import CliRunner

    from partnering.cli.main import app
    from partnering.errors import IngestError

    f = tmp_path / "funding.csv"
    f.write_text("code,actual\nE06000001,100\nE06000002,lots\nE06000003,-1\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["design", "allocation", "--units", "areas", "--budget", "1e9", "--actual", str(f)])
    assert isinstance(out.exception, IngestError)
    # every problem, one a line with its line, column and reason (the page lists them all too; the command line
    # used to give the first and "(and 1 more problem)")
    assert str(out.exception).splitlines() == [
        f"{f}: 2 problems in the funding file:",
        "  line 3, column 'actual': 'lots' is not an amount of money (write 125000 or £125,000)",
        "  line 4, column 'actual': '-1': funding must be a finite amount of 0 or more"]


def _rows(table: str) -> list[list[str]]:
    body = re.search(r'<tbody class="nhsuk-table__body">(.*?)</tbody>', table, re.S).group(1)
    return [[_text(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_pace_table_puts_each_distance_beside_its_target_and_tables_hold_only_over_or_under(viewer, shared):
    """The browser tester's findings: the pace table's "Target" was the share of the new budget while the distance
    beside it was measured against the share of today's total; the "furthest over" table listed units under
    target when there were 12 or fewer; the reading said "higher in more deprived areas ... no clear gradient"."""
    from partnering.design.allocation import allocate, concentration_words, read_funding, with_funding
    from partnering.web.design.money import allocation_units

    r = _post(viewer, FORM, ("north-east.csv", FILE.read_bytes(), "text/csv"))
    assert r.status_code == 200
    html = r.text
    lib = allocate(with_funding(allocation_units("areas"), read_funding(FILE.read_bytes(), FILE.name)), 4120e6,
                   floor_growth=0.01, max_growth=0.06)
    u = lib.units.set_index("code")
    pace = re.search(r'<table class="nhsuk-table" id="pace-table">.*?</table>', html, re.S).group(0)
    heads = [_text(h).strip() for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', pace, re.S)]
    spent = abs(u["next_year_gbp"].sum() - 4120e6) <= 0.5
    assert heads == ["Area", "Current funding", "Target at today's total (its share of the same total)",
                     "Distance from target now", "Next year", "Growth",
                     "Target at the new budget" if spent else
                     "Target at next year's total (the budget less what is unspent)",
                     "Distance from target next year"]
    rows = _rows(pace)
    assert rows
    for row in rows:
        code = re.search(r"\((E0\d{7})\)", row[0]).group(1)
        x = u.loc[code]
        growth = x["next_year_gbp"] / x["actual"] - 1
        assert row[2] == f"£{x['target_at_actual_gbp'] / 1e6:,.2f}m"  # the target the distance is measured against
        assert row[3] == f"{x['distance_from_target'] * 100:+.1f}%"
        assert row[3] == f"{(x['actual'] / x['target_at_actual_gbp'] - 1) * 100:+.1f}%"
        assert row[5] == f"{growth * 100:+.1f}%" and 0.01 - 1e-9 <= growth <= 0.06 + 1e-9  # floor and cap by eye
        target_next = x["target_share"] * u["next_year_gbp"].sum()
        assert row[6] == f"£{target_next / 1e6:,.2f}m"
        assert row[7] == f"{(x['next_year_gbp'] / target_next - 1) * 100:+.1f}%"
    # only units over target in the "over" table, only units under in the "under" table
    over = _rows(re.search(r'<table class="nhsuk-table" id="over-table">.*?</table>', html, re.S).group(0))
    under = _rows(re.search(r'<table class="nhsuk-table" id="under-table">.*?</table>', html, re.S).group(0))
    d = u["distance_from_target"]
    assert len(over) == min(10, int((d > 0).sum())) and len(under) == min(10, int((d < 0).sum()))
    assert all(row[-1].startswith("+") for row in over) and all(row[-1].startswith("-") for row in under)
    assert "Target at today's total (its share of the same total)" in html
    # the reading gives a direction only when the interval excludes 0
    reading = _text(re.search(r'<p id="concentration-reading">(.*?)</p>', html, re.S).group(1)).strip()
    assert reading == concentration_words(lib.concentration_index, lib.concentration_interval, "areas")
    lo, hi = lib.concentration_interval
    if lo <= 0 <= hi:
        assert reading.startswith("No clear gradient") and "is higher in" not in reading
    else:
        assert "No clear gradient" not in reading and ("is higher in" in reading or "is lower in" in reading)
    assert "GBP" not in _text(html)
