"""The appraisal stage's pages and API (issue #10 s.6): the wizard, the case page, the comparison, downloads, and
/api/v1/appraise/... — for authorised and unauthorised users, on a demo store of its own (the tests write cases)."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, USERS, csrf_of, make_app, sign_in

pytestmark = pytest.mark.integration

ORG_A = "ZA1"  # analyst.a's organisation
SMALL_CASE = f"""
[case]
title = "Emergency surgery at ZA1"
org_code = "{ORG_A}"
price_base_year = 2026
years = 5
draws = 500

[[options]]
key = "bau"
name = "Business as usual"
kind = "bau"
role = "bau"

[[options]]
key = "network"
name = "Partner: clinical network"
kind = "partner"
form = "network"
role = "preferred"

[options.flows]
revenue_cost = [100000.0, 100000.0, 100000.0, 100000.0, 100000.0]
cash_releasing_benefit = [0.0, 150000.0, 150000.0, 150000.0, 150000.0]
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from partnering.ingest.demo import load_demo
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    home = tmp_path_factory.mktemp("web-appraise")
    url = f"sqlite:///{home / 'demo.db'}"
    eng = get_engine(url)
    load_demo(eng)
    for email, (role, org) in USERS.items():
        create_user(eng, email, role, org, password=PASSWORD)
    return make_app(url, home)


def _client(app, email: str | None) -> TestClient:
    c = TestClient(app)
    if email:
        assert sign_in(c, email).status_code == 303
    return c


@pytest.fixture(scope="module")
def analyst(app):
    return _client(app, "analyst.a@test.nhs.uk")


@pytest.fixture(scope="module")
def viewer(app):
    return _client(app, "viewer@test.nhs.uk")


def _token(app, email: str) -> dict:
    from partnering.web.auth import create_token

    return {"Authorization": f"Bearer {create_token(app.state.engine, email, 'appraise tests')}"}


@pytest.fixture(scope="module")
def prefilled_id(app, analyst):
    token = csrf_of(analyst.get("/appraise/new").text)
    r = analyst.post("/appraise/new", data={"csrf_token": token, "start": "prefill", "org_code": ORG_A,
                                            "stage": "SOC"}, follow_redirects=False)
    assert r.status_code == 303, r.text[-500:]
    m = re.fullmatch(r"/appraise/cases/(\d+)/edit/problem", r.headers["location"])
    assert m, r.headers["location"]
    return int(m.group(1))


class _Fields(HTMLParser):
    """The fields a browser would send from the form ``#step-form`` (text inputs, selects, textareas, checked boxes)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "step-form":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "on")
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str) -> dict[str, str]:
    p = _Fields()
    p.feed(html)
    return p.fields


def _stored(app, case_id):
    from partnering.appraise.saved import get_case

    return get_case(app.state.engine, case_id)


# ------------------------------------------------------------------------------------------------ the wizard


def test_prefilled_case_starts_from_the_organisations_assessment(app, prefilled_id):
    row = _stored(app, prefilled_id)
    assert row["org_code"] == ORG_A and row["created_by"] == "analyst.a@test.nhs.uk"
    from partnering.appraise.case import parse_case

    case = parse_case(row["toml"])
    assert {o.kind for o in case.options} >= {"bau", "do_minimum", "make", "buy"}
    assert case.problem.gaps, "the gaps to close come from measure"


@pytest.mark.parametrize("step", ["problem", "options", "flows", "uncertainty", "mcda"])
def test_each_step_submitted_as_shown_leaves_the_case_unchanged(app, analyst, prefilled_id, step):
    """Every value the form shows reads back to the same case (flows at full precision, not rounded)."""
    from partnering.appraise.case import parse_case

    before = parse_case(_stored(app, prefilled_id)["toml"]).model_dump()
    page = analyst.get(f"/appraise/cases/{prefilled_id}/edit/{step}")
    assert page.status_code == 200
    fields = form_fields(page.text)
    assert "csrf_token" in fields and len(fields) > 3
    r = analyst.post(f"/appraise/cases/{prefilled_id}/edit/{step}", data=fields, follow_redirects=False)
    assert r.status_code == 303, re.findall(r'nhsuk-error-message[^>]*>(.*?)</span>\s*</span>|<li><a[^>]*>(.*?)</a>',
                                            r.text)[:5]
    after = parse_case(_stored(app, prefilled_id)["toml"]).model_dump()
    assert after == before


def test_a_step_with_a_mistake_shows_the_error_summary_and_changes_nothing(app, analyst, prefilled_id):
    before = _stored(app, prefilled_id)["toml"]
    token = csrf_of(analyst.get(f"/appraise/cases/{prefilled_id}/edit/flows").text)
    r = analyst.post(f"/appraise/cases/{prefilled_id}/edit/flows",
                     data={"csrf_token": token, "flow-make-revenue_cost": "lots, 1000", "delay-make": "-2"})
    assert r.status_code == 400
    assert 'class="nhsuk-error-summary"' in r.text
    assert 'href="#flow-make-revenue_cost"' in r.text and "&#39;lots&#39; is not a number" in r.text
    assert 'href="#delay-make"' in r.text and "must be from 0 to 200" in r.text
    assert 'id="flow-make-revenue_cost-error"' in r.text  # the message at the field too
    assert 'value="lots, 1000"' in r.text  # what the user typed is kept
    assert _stored(app, prefilled_id)["toml"] == before


def test_flows_step_changes_the_yearly_values(app, analyst, prefilled_id):
    from partnering.appraise.case import parse_case

    token = csrf_of(analyst.get(f"/appraise/cases/{prefilled_id}/edit/flows").text)
    r = analyst.post(f"/appraise/cases/{prefilled_id}/edit/flows",
                     data={"csrf_token": token, "flow-make-capital_cost": "250000, 125000.5"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/edit/uncertainty")
    case = parse_case(_stored(app, prefilled_id)["toml"])
    assert case.option("make").flows["capital_cost"] == [250000.0, 125000.5]


def test_flows_step_sets_and_removes_a_benefit_delay_range(app, analyst, prefilled_id):
    from partnering.appraise.case import parse_case

    url = f"/appraise/cases/{prefilled_id}/edit/flows"
    page = analyst.get(url).text
    assert 'id="delaylow-merge"' in page and "Collins B (2015)" in page  # the merger's reference-class delay, sourced
    token = csrf_of(page)
    r = analyst.post(url, data={"csrf_token": token, "delaylow-make": "0.5", "delayhigh-make": "3"},
                     follow_redirects=False)
    assert r.status_code == 303
    case = parse_case(_stored(app, prefilled_id)["toml"])
    u = next(u for u in case.uncertainties if u.targets == ["make.benefit_delay"])
    assert (u.distribution, u.low, u.mode, u.high) == ("triangular", 0.5, case.option("make").ramp.delay_years, 3.0)
    r = analyst.post(url, data={"csrf_token": token, "delaylow-make": "2", "delayhigh-make": ""})
    assert r.status_code == 400 and "give both the shortest and the longest delay" in r.text
    r = analyst.post(url, data={"csrf_token": token, "delaylow-make": "", "delayhigh-make": ""},
                     follow_redirects=False)
    assert r.status_code == 303
    case = parse_case(_stored(app, prefilled_id)["toml"])
    assert not any(u.targets == ["make.benefit_delay"] for u in case.uncertainties)


def test_options_step_adds_and_removes_options_and_says_what_the_shortlist_lacks(app, analyst):
    token = csrf_of(analyst.get("/appraise/new").text)
    r = analyst.post("/appraise/new", data={"csrf_token": token, "start": "blank", "org_code": ORG_A,
                                            "title": "Blank start"}, follow_redirects=False)
    assert r.status_code == 303
    case_id = int(r.headers["location"].split("/")[3])
    page = analyst.get(f"/appraise/cases/{case_id}/edit/options").text
    assert "no do-minimum option" in page  # the Green Book 5.53 check, shown while editing
    r = analyst.post(f"/appraise/cases/{case_id}/edit/options",
                     data={"csrf_token": token, "new_key": "Bad Key", "new_name": "X"})
    assert r.status_code == 400 and 'href="#new_key"' in r.text
    r = analyst.post(f"/appraise/cases/{case_id}/edit/options", data={
        "csrf_token": token, "new_key": "network", "new_name": "Clinical network", "new_kind": "partner",
        "new_role": "preferred"}, follow_redirects=False)
    assert r.status_code == 303
    from partnering.appraise.case import parse_case

    case = parse_case(_stored(app, case_id)["toml"])
    assert [o.key for o in case.options] == ["bau", "network"] and case.option("network").role == "preferred"
    r = analyst.post(f"/appraise/cases/{case_id}/edit/options", data={"csrf_token": token, "remove-bau": "yes",
                                                                        "remove-network": "yes"})
    assert r.status_code == 400 and "at least one option" in r.text


def test_toml_page_refuses_a_broken_file_with_its_line(app, analyst, prefilled_id):
    before = _stored(app, prefilled_id)["toml"]
    token = csrf_of(analyst.get(f"/appraise/cases/{prefilled_id}/toml").text)
    broken = before.replace('kind = "make"', 'kind = "franchise"', 1)
    r = analyst.post(f"/appraise/cases/{prefilled_id}/toml", data={"csrf_token": token, "toml": broken})
    assert r.status_code == 400 and re.search(r"line \d+, field options\.\d\.kind", r.text)
    assert _stored(app, prefilled_id)["toml"] == before


# ------------------------------------------------------------------------------------------------ results


def test_case_page_shows_the_library_results_charts_and_downloads(app, viewer, prefilled_id):
    from partnering.appraise.case import parse_case
    from partnering.appraise.run import run_case

    row = _stored(app, prefilled_id)
    res = run_case(parse_case(row["toml"]))
    html = viewer.get(f"/appraise/cases/{prefilled_id}").text
    make = float(res.results.loc["make", "npsv"])
    shown = ("−" if make < 0 else "") + f"£{abs(make) / 1e6:,.2f}m"
    assert shown in html
    p_best = float(res.summary.loc["make", "p_best"])
    assert f"{p_best * 100:,.0f}%" in html
    assert res.recommendation.text.replace("'", "&#39;") in html
    assert "Expected value of perfect information" in html and "Approvals route" in html
    for chart in ("chart-npsv", "chart-tornado", "chart-cashflow"):  # figure + caption + data table
        assert f'aria-labelledby="{chart}-heading"' in html and f'id="{chart}-data"' in html
    assert html.count("<figcaption") >= 3 and html.count("Data for this chart") >= 3
    assert "Edit this case" not in html  # a viewer reads, does not edit

    pdf = viewer.get(f"/appraise/cases/{prefilled_id}/download/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    rep = viewer.get(f"/appraise/cases/{prefilled_id}/download/report.html").text
    assert rep.index("Strategic case") < rep.index("Economic case")
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(viewer.get(f"/appraise/cases/{prefilled_id}/download/workbook.xlsx")
                                           .content))
    assert {"Cash flows", "Discount factors", "Results"} <= set(wb.sheetnames)
    assert viewer.get(f"/appraise/cases/{prefilled_id}/download/case.toml").text == row["toml"]


def test_comparison_shows_the_chosen_options_side_by_side(app, viewer, prefilled_id):
    r = viewer.get(f"/appraise/cases/{prefilled_id}/compare?option=make&option=merge")
    assert r.status_code == 200
    head = re.search(r'<table class="nhsuk-table app-compact" id="comparison">.*?</thead>', r.text, re.S).group(0)
    assert head.count('<th scope="col">') == 3 and "Make" in head and "Merge" in head and "Business as usual" \
        not in head
    one = viewer.get(f"/appraise/cases/{prefilled_id}/compare?option=make")
    assert one.status_code == 400 and "at least two options" in one.text


def test_list_page_links_every_case(app, viewer, prefilled_id):
    html = viewer.get("/appraise").text
    assert f'href="/appraise/cases/{prefilled_id}"' in html and "Start a new case" not in html


# ------------------------------------------------------------------------------------------------ who may do what


def test_pages_need_sign_in(app):
    anon = TestClient(app)
    for path in ("/appraise", "/appraise/new", "/appraise/cases/1", "/appraise/cases/1/edit/problem"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin"), path


def test_viewers_and_other_organisations_cannot_edit(app, viewer, prefilled_id):
    new_page = viewer.get("/appraise/new").text
    assert "You need the analyst role" in new_page and "Start the case" not in new_page
    token = csrf_of(viewer.get("/account").text)
    assert viewer.get(f"/appraise/cases/{prefilled_id}/edit/problem").status_code == 403
    r = viewer.post("/appraise/new", data={"csrf_token": token, "start": "prefill", "org_code": ORG_A})
    assert r.status_code == 403
    other = _client(app, "analyst.b@test.nhs.uk")  # an analyst of ZA2
    assert other.get(f"/appraise/cases/{prefilled_id}/edit/flows").status_code == 403
    t = csrf_of(other.get("/appraise/new").text)
    r = other.post("/appraise/new", data={"csrf_token": t, "start": "prefill", "org_code": ORG_A})
    assert r.status_code == 400 and "only analysts of ZA1" in r.text
    r = other.post(f"/appraise/cases/{prefilled_id}/edit/problem", data={"csrf_token": t, "title": "Hijack"})
    assert r.status_code == 403 and "Hijack" not in _stored(app, prefilled_id)["toml"]


def test_forms_need_the_csrf_token(app, analyst, prefilled_id):
    r = analyst.post(f"/appraise/cases/{prefilled_id}/edit/problem", data={"title": "No token"})
    assert r.status_code == 403 and "No token" not in _stored(app, prefilled_id)["toml"]


def test_missing_case_and_step_are_404_with_the_reason(app, analyst):
    r = analyst.get("/appraise/cases/999999")
    assert r.status_code == 404 and "no appraisal case 999999" in r.text
    assert analyst.get("/appraise/cases/1/edit/nowhere").status_code == 404


# ------------------------------------------------------------------------------------------------ API


@pytest.fixture(scope="module")
def api_a(app):
    c = TestClient(app)
    c.headers.update(_token(app, "analyst.a@test.nhs.uk"))
    return c


def test_api_creates_reads_lists_updates_and_runs_a_case(app, api_a):
    from partnering.appraise.case import parse_case
    from partnering.appraise.run import run_case

    r = api_a.post("/api/v1/appraise/cases", content=SMALL_CASE, headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert r.json()["org_code"] == ORG_A and any("do-minimum" in p for p in r.json()["shortlist_problems"])
    got = api_a.get(f"/api/v1/appraise/cases/{case_id}").json()
    assert got["toml"] == SMALL_CASE and got["created_by"] == "analyst.a@test.nhs.uk"
    listed = api_a.get(f"/api/v1/appraise/cases?org={ORG_A}").json()
    assert case_id in [c["id"] for c in listed["items"]]

    out = api_a.post(f"/api/v1/appraise/cases/{case_id}/run").json()
    # the same JSON as `partnering appraise CASE.toml --json` prints (json.dumps of CaseResult.to_dict)
    cli = json.loads(json.dumps(run_case(parse_case(SMALL_CASE)).to_dict(), allow_nan=False))
    assert out == cli
    net = next(o for o in out["options"] if o["option"] == "network")
    assert net["npsv"] > 0 and 0.0 <= net["p_best"] <= 1.0

    changed = SMALL_CASE.replace("Emergency surgery at ZA1", "Emergency surgery at ZA1, revised")
    r = api_a.put(f"/api/v1/appraise/cases/{case_id}", json={"toml": changed})
    assert r.status_code == 200 and r.json()["title"] == "Emergency surgery at ZA1, revised"
    from sqlalchemy import text

    with app.state.engine.connect() as conn:
        actions = [a for (a,) in conn.execute(text("SELECT action FROM audit_log WHERE target = :t ORDER BY id"),
                                              {"t": f"appraisal_case:{case_id}"})]
    assert actions == ["appraise.case.create", "appraise.case.update"]


def test_api_takes_the_case_as_json_tables(app, api_a):
    import tomllib

    r = api_a.post("/api/v1/appraise/cases", json=tomllib.loads(SMALL_CASE))
    assert r.status_code == 201 and r.json()["title"] == "Emergency surgery at ZA1"


@pytest.mark.parametrize("body, ctype, needle", [
    ('[case]\ntitle = "x"\nprice_base_year = 2026\n\n[[options]]\nkey = "a"\nname = "A"\nkind = "franchise"\n',
     "text/plain", "line 8, column 'options.0.kind'"),
    ("[case", "text/plain", "not valid TOML"),
    ("[1, 2]", "application/json", "send the case as TOML"),
    ("{not json", "application/json", "not valid JSON"),
    ('{"case": {"title": "x"}, "options": []}', "application/json", "case.price_base_year"),
    ("", "text/plain", "case"),
])
def test_api_bad_case_is_a_400_naming_the_mistake(api_a, body, ctype, needle):
    r = api_a.post("/api/v1/appraise/cases", content=body.encode(), headers={"Content-Type": ctype})
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]


def test_api_access_rules(app, api_a):
    viewer = TestClient(app)
    viewer.headers.update(_token(app, "viewer@test.nhs.uk"))
    other = TestClient(app)
    other.headers.update(_token(app, "analyst.b@test.nhs.uk"))
    created = api_a.post("/api/v1/appraise/cases", content=SMALL_CASE).json()["id"]
    assert TestClient(app).get("/api/v1/appraise/cases").status_code == 401
    assert viewer.get(f"/api/v1/appraise/cases/{created}").status_code == 200
    assert viewer.post(f"/api/v1/appraise/cases/{created}/run").status_code == 200  # running changes nothing
    r = viewer.post("/api/v1/appraise/cases", content=SMALL_CASE)
    assert r.status_code == 403 and "analyst role" in r.json()["error"]
    r = other.put(f"/api/v1/appraise/cases/{created}", content=SMALL_CASE.replace("ZA1", "ZA2"))
    assert r.status_code == 403 and "only analysts of ZA1" in r.json()["error"]
    r = other.post("/api/v1/appraise/cases", content=SMALL_CASE)
    assert r.status_code == 403
    r = api_a.post("/api/v1/appraise/cases", content=SMALL_CASE.replace('org_code = "ZA1"', 'org_code = "ZA2"'))
    assert r.status_code == 403  # an analyst cannot file a case for another organisation
    admin = TestClient(app)
    admin.headers.update(_token(app, "admin@test.nhs.uk"))
    r = admin.post("/api/v1/appraise/cases", content=SMALL_CASE.replace('org_code = "ZA1"', 'org_code = "NOPE9"'))
    assert r.status_code == 404 and "NOPE9" in r.json()["error"]
    # cookie-authenticated writes need the CSRF header
    analyst_cookie = _client(app, "analyst.a@test.nhs.uk")
    assert analyst_cookie.post("/api/v1/appraise/cases", content=SMALL_CASE).status_code == 403


def test_api_missing_case_is_a_404_with_the_reason(api_a):
    for method, path in (("GET", "/api/v1/appraise/cases/999999"), ("POST", "/api/v1/appraise/cases/999999/run")):
        r = api_a.request(method, path)
        assert r.status_code == 404 and r.json() == {"error": "no appraisal case 999999"}
    r = api_a.put("/api/v1/appraise/cases/999999", content=SMALL_CASE)
    assert r.status_code == 404


def test_api_prefill(app, api_a):
    r = api_a.post("/api/v1/appraise/prefill", json={"org_code": ORG_A.lower()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] is None and body["org_code"] == ORG_A and "[[options]]" in body["toml"]
    saved = api_a.post("/api/v1/appraise/prefill", json={"org_code": ORG_A, "save": True}).json()
    assert saved["id"] and api_a.get(f"/api/v1/appraise/cases/{saved['id']}").status_code == 200
    r = api_a.post("/api/v1/appraise/prefill", json={"org_code": "NOPE9"})
    assert r.status_code == 404 and r.json() == {"error": "organisation 'NOPE9' is not in the store"}
    r = api_a.post("/api/v1/appraise/prefill", json={"org_code": "QX01"})  # an ICB: not assessed
    assert r.status_code == 404 and "QX01" in r.json()["error"]
    r = api_a.post("/api/v1/appraise/prefill", json={"org_code": "ZA2", "save": True})
    assert r.status_code == 403


def test_api_discount_calculator(api_a):
    r = api_a.post("/api/v1/appraise/discount", json={"flows": [0, 1000]})
    assert r.status_code == 200 and r.json()["present_value"] == pytest.approx(1000 / 1.035, rel=1e-12)
    r = api_a.post("/api/v1/appraise/discount", json={"flows": [0, 1000], "schedule": "health"})
    assert r.json()["present_value"] == pytest.approx(1000 / 1.015, rel=1e-12)
    assert api_a.post("/api/v1/appraise/discount", json={"flows": []}).status_code == 422
    assert api_a.post("/api/v1/appraise/discount", json={"flows": [1], "schedule": "x"}).status_code == 422


def test_openapi_declares_the_appraise_operations(app):
    spec = app.openapi()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/appraise/cases"])
    assert {"get", "put"} <= set(paths["/api/v1/appraise/cases/{case_id}"])
    assert "post" in paths["/api/v1/appraise/cases/{case_id}/run"]
    body = paths["/api/v1/appraise/cases"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/plain"} <= set(body)
    assert not any(p.startswith("/appraise") for p in paths)  # pages stay out of the API schema


def test_turnover_beyond_any_nhs_organisation_is_refused_on_the_form_and_the_api(app, analyst, api_a):
    # pounds typed where £ million are asked: 212,000,000 "million" is £212 trillion (the largest trusts: ~£2-3bn)
    token = csrf_of(analyst.get("/appraise/new").text)
    r = analyst.post("/appraise/new", data={"csrf_token": token, "start": "prefill", "org_code": ORG_A,
                                            "stage": "SOC", "turnover": "212000000"}, follow_redirects=False)
    assert r.status_code == 400 and 'href="#turnover"' in r.text and "at most 10,000" in r.text
    r = api_a.post("/api/v1/appraise/prefill", json={"org_code": ORG_A, "turnover_gbp": 212e12})
    assert r.status_code == 422, r.text
    r = api_a.post("/api/v1/appraise/prefill", json={"org_code": ORG_A, "turnover_gbp": 2.5e9})
    assert r.status_code == 200 and "as given" in r.json()["warnings"][0]
