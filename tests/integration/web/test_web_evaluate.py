"""Impact evaluation on the web and the API (issue #11 s.3): the evaluation page of a partnership recorded between
two organisations of the demo world (72 months of A&E data), who may see it, the API's JSON (the CLI's), realised
effects against the business case's forecast, scoping of unpublished data, and the panel API (JSON and CSV) with
its 400s for bad input."""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.integration.web.conftest import PASSWORD, USERS, csrf_of, make_app, sign_in

pytestmark = pytest.mark.integration

RECIPIENT, SUPPORTER = "ZF4", "ZA1"  # two acute trusts of the demo NHS (the e2e world's ORG_A and ORG_B)
INDICATOR = "ae_4h_pct_all"
CASE_TOML = """
[case]
title = "Buddying for Ulborough"
org_code = "ZF4"
price_base_year = 2024
years = 5
draws = 100

[[problem.gaps]]
indicator = "ae_4h_pct_all"
unit = "percent"
direction = "increase"
value = 70.0
standard = 78.0
period = "2024-03"

[[options]]
key = "bau"
name = "Business as usual"
kind = "bau"
role = "bau"

[[options]]
key = "buddy"
name = "Buddying with Halfield"
kind = "partner"
form = "buddying"
role = "preferred"

[options.flows]
revenue_cost = [100000.0, 100000.0, 100000.0, 100000.0, 100000.0]
non_cash_releasing_benefit = [1000000.0, 1000000.0, 1000000.0, 1000000.0, 1000000.0]

[options.ramp]
delay_years = 1.0
ramp_years = 0.0
"""


def _demo_world(tmp_path_factory, name: str):
    from partnering.appraise.saved import save_case
    from partnering.ingest.demo import load_demo
    from partnering.register import add_partnership, validate_entry
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    home = tmp_path_factory.mktemp(name)
    url = f"sqlite:///{home / 'demo.db'}"
    eng = get_engine(url)
    load_demo(eng)
    for email, (role, org) in USERS.items():
        create_user(eng, email, role, org, password=PASSWORD)
    case_id = save_case(eng, CASE_TOML, "analyst.a@test.nhs.uk")
    entry = validate_entry({"recipient_code": RECIPIENT, "supporter_code": SUPPORTER, "form": "buddying",
                            "start_period": "2024-04", "title": "Ulborough and Halfield buddying",
                            "appraisal_case_id": case_id,
                            "targets": [{"indicator_code": INDICATOR, "baseline": 70, "target": 78}]})
    rec = add_partnership(eng, entry, "admin@test.nhs.uk")
    nostart = add_partnership(eng, validate_entry({"recipient_code": RECIPIENT, "supporter_code": "ZA2",
                                                   "form": "alliance", "status": "proposed"}), "admin@test.nhs.uk")
    return make_app(url, home), eng, rec.id, nostart.id, case_id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return _demo_world(tmp_path_factory, "web-evaluate")


@pytest.fixture
def web(world):
    with TestClient(world[0]) as c:
        yield c


def _as(client, email):
    client.cookies.clear()
    assert sign_in(client, email).status_code == 303
    return client


def _nan_to_none(v):
    if isinstance(v, dict):
        return {k: _nan_to_none(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_nan_to_none(x) for x in v]
    return None if isinstance(v, float) and not math.isfinite(v) else v


# ------------------------------------------------------------------------------------------------ access


def test_signed_out_users_are_sent_to_sign_in_and_the_api_wants_a_token(web, world):
    pid = world[2]
    web.cookies.clear()
    r = web.get(f"/partnerships/{pid}/evaluation", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert web.get(f"/api/v1/partnerships/{pid}/evaluation").status_code == 401
    assert web.get(f"/partnerships/{pid}/evaluation/download/results?format=csv",
                   follow_redirects=False).status_code == 303
    r = web.post("/api/v1/evaluate/panel", json={"rows": []})
    assert r.status_code == 401


# ------------------------------------------------------------------------------------------------ the page


def test_a_viewer_reads_the_evaluation_page(web, world):
    pid = world[2]
    _as(web, "viewer@test.nhs.uk")
    detail = web.get(f"/partnerships/{pid}").text
    assert f'href="/partnerships/{pid}/evaluation"' in detail
    r = web.get(f"/partnerships/{pid}/evaluation")
    assert r.status_code == 200, r.text
    page = r.text
    # the verdict in words, the methods with their intervals and p-values
    verdict = page.split('id="ind0-verdict"')[1].split("</div>")[0]
    assert re.search(r"(All|None of the|The methods disagree)", verdict)
    methods = page.split('id="ind0-methods"')[1].split("</table>")[0]
    for name in ("Interrupted time series", "Difference-in-differences", "Synthetic control",
                 "Against trusts as bad before (regression to the mean)"):
        assert name in methods
    assert re.search(r"-?\d+\.\d\d to -?\d+\.\d\d \(95%\)", methods)
    # the regression-to-the-mean check, the supporter kept out for spillover, warnings, effects by year
    assert "Change at organisations that were as bad before" in page
    assert f"({SUPPORTER}): the supporter of {RECIPIENT}" in page and "spillover" in page
    assert "comparators: its 30 nearest peers" in page
    years = page.split('id="ind0-years"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row" class="nhsuk-table__header">(\d{4})</th>', years) == ["2024", "2025", "2026"]
    # three charts, each a figure with a caption, its JSON and a data table
    for chart in ("ind0-cf", "ind0-spc", "ind0-es"):
        assert f'<figcaption class="nhsuk-body-s" id="{chart}-caption">' in page
        fig = json.loads(page.split(f'id="{chart}-data">')[1].split("</script>")[0])
        assert fig["data"], chart
        assert f'id="{chart}-table"' in page
    cf = json.loads(page.split('id="ind0-cf-data">')[1].split("</script>")[0])
    assert [t["name"] for t in cf["data"]][:3] == ["Observed", "Interrupted time series: expected without it",
                                                   "Synthetic control"]
    # downloads and how long it took
    for href in ("evaluation/download/report.html", "evaluation/download/report.pdf",
                 "evaluation/download/results?format=csv", "evaluation/download/results?format=xlsx"):
        assert f"/partnerships/{pid}/{href}" in page
    assert re.search(r"Evaluated in \d+\.\d seconds", page)


def test_the_page_sets_realised_effects_against_the_case_forecast(web, world):
    pid, case_id = world[2], world[4]
    _as(web, "viewer@test.nhs.uk")
    page = web.get(f"/partnerships/{pid}/evaluation").text
    summary = page.split('id="ind0-benefits">')[1].split("</p>")[0]
    assert f"business case {case_id}" in summary and "Buddying for Ulborough" in summary
    assert "up to GBP 1,000,000 a year (real, 2024 prices), starting in 2025" in summary
    assert "not divided one by the other" in summary
    assert "What cannot" in page and "money against the indicator" in page
    table = page.split('id="ind0-forecast"')[1].split("</table>")[0]
    rows = re.findall(r'<th scope="row" class="nhsuk-table__header">(\d{4})</th>(.*?)</tr>', table, re.S)
    by_year = {y: re.findall(r'numeric">([^<]*)</td>', cells) for y, cells in rows}
    assert list(by_year) == ["2024", "2025", "2026", "2027", "2028"]
    # the case's ramp: nothing in the first year, the full GBP 1m a year from the second (hand figures)
    assert by_year["2024"][1:3] == ["0", "0%"] and by_year["2025"][1:3] == ["1,000,000", "100%"]
    assert by_year["2027"][0] == "–"  # no realised effect yet in 2027
    api = web.get(f"/api/v1/partnerships/{pid}/evaluation").json()[INDICATOR]["benefits"]
    assert api["gap"]["to_close"] == pytest.approx(8.0)  # standard 78 minus the case's 70
    for row in api["table"]:
        if row["realised_effect"] is not None:
            assert row["share_of_gap_closed"] == pytest.approx(row["realised_effect"] / 8.0)


def test_a_partnership_without_a_start_says_why_it_cannot_be_evaluated(web, world):
    _as(web, "viewer@test.nhs.uk")
    r = web.get(f"/partnerships/{world[3]}/evaluation")
    assert r.status_code == 200
    assert "cannot be evaluated yet" in r.text and "has no start month" in r.text
    assert web.get(f"/api/v1/partnerships/{world[3]}/evaluation").status_code == 400
    assert web.get("/partnerships/99999/evaluation").status_code == 404
    assert web.get("/api/v1/partnerships/99999/evaluation").status_code == 404


def test_downloads_of_the_report_and_the_results(web, world):
    pid = world[2]
    _as(web, "viewer@test.nhs.uk")
    html = web.get(f"/partnerships/{pid}/evaluation/download/report.html")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert "Realised against the business case&#x27;s forecast" in html.text or \
        "Realised against the business case's forecast" in html.text
    pdf = web.get(f"/partnerships/{pid}/evaluation/download/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    csv = web.get(f"/partnerships/{pid}/evaluation/download/results?format=csv")
    assert csv.status_code == 200
    df = pd.read_csv(io.StringIO(csv.text))
    api = web.get(f"/api/v1/partnerships/{pid}/evaluation").json()[INDICATOR]
    did = df[(df["table"] == "effect") & (df["method"] == "did")].iloc[0]
    assert did["estimate"] == pytest.approx(api["methods"]["did"]["att"])
    assert did["ci_low"] == pytest.approx(api["methods"]["did"]["ci_low"])
    assert set(df["table"]) == {"effect", "gap_by_period", "effect_by_year", "realised_vs_forecast"}
    assert "value" not in df.columns  # estimates only, never an organisation's own figures
    xlsx = web.get(f"/partnerships/{pid}/evaluation/download/results?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert web.get(f"/partnerships/{pid}/evaluation/download/report.docx").status_code == 400


# ------------------------------------------------------------------------------------------------ the API


def test_the_api_answers_what_the_cli_prints(web, world):
    from partnering.evaluate.run import evaluate_partnership

    eng, pid = world[1], world[2]
    _as(web, "viewer@test.nhs.uk")
    r = web.get(f"/api/v1/partnerships/{pid}/evaluation", params={"method": "did"})
    assert r.status_code == 200, r.text
    got = r.json()
    cli = {k: v.to_dict() for k, v in evaluate_partnership(eng, pid, methods=("did",)).items()}
    want = _nan_to_none(json.loads(json.dumps(cli, default=str)))
    assert got == want
    m = got[INDICATOR]["methods"]["did"]
    assert {"att", "ci_low", "ci_high", "p_value", "gaps", "weights", "rmspe"} <= set(m)
    assert got[INDICATOR]["excluded"] == {SUPPORTER: f"the supporter of {RECIPIENT}: it shares staff and practice "
                                                     "with it (spillover)"}
    assert web.get(f"/api/v1/partnerships/{pid}/evaluation", params={"method": "magic"}).status_code == 400
    assert web.get(f"/api/v1/partnerships/{pid}/evaluation", params={"start": "April"}).status_code == 400


def test_unpublished_uploads_reach_only_their_organisation(tmp_path_factory):
    """An unpublished A&E upload by ZA2 that lowers the recipient's series after the start changes ZA2's evaluation
    and nobody else's (the library's scoped reads)."""
    from partnering.ingest.base import Parsed, commit_parsed
    from partnering.store import repository as repo

    app, eng, pid, _, _ = _demo_world(tmp_path_factory, "web-evaluate-scope")
    obs = repo.observations_frame(eng, indicators=[INDICATOR], orgs=[RECIPIENT])
    after = obs[obs["period"] >= "2024-04"].copy()
    after["value"] = after["value"] - 20.0  # 20 points worse from the start, seen only by ZA2
    after = after[["org_code", "indicator", "period", "numerator", "denominator", "value"]]
    after[["numerator", "denominator"]] = None
    orgs = pd.DataFrame(columns=["org_code", "name", "kind"])
    report = commit_parsed(Parsed(kind="ae-monthly", file="ae.csv", organisations=orgs, observations=after), "ae",
                           eng, owner_org="ZA2", published=False, uploaded_by="analyst.b@test.nhs.uk")
    assert report.observations_new == len(after) > 0
    with TestClient(app) as c:
        url = f"/api/v1/partnerships/{pid}/evaluation"
        params = {"method": "did", "indicator": INDICATOR}
        seen_by_b = _as(c, "analyst.b@test.nhs.uk").get(url, params=params).json()[INDICATOR]["methods"]["did"]
        seen_by_a = _as(c, "analyst.a@test.nhs.uk").get(url, params=params).json()[INDICATOR]["methods"]["did"]
    # 20 points lower after the start for ZA2's view only: its DiD effect is 20 points lower (the comparators
    # are unchanged, so TWFE moves by exactly the shift)
    assert seen_by_b["att"] == pytest.approx(seen_by_a["att"] - 20.0, abs=1e-6)


# ------------------------------------------------------------------------------------------------ panel API


def _panel(effect: float = 5.0) -> pd.DataFrame:
    """Ten units over 24 years: unit and year effects plus ``effect`` for unit U0 from year 12 (no noise)."""
    rng = np.random.default_rng(11)
    unit_fe, year_fe = rng.normal(0, 3, 10), rng.normal(0, 1, 24)
    rows = [{"state": f"U{i}", "year": 1990 + t, "y": 50 + unit_fe[i] + year_fe[t] + (effect if i == 0 and t >= 12
                                                                                      else 0.0)}
            for i in range(10) for t in range(24)]
    return pd.DataFrame(rows)


OPTIONS = {"unit": "state", "time": "year", "outcome": "y", "treated": "U0", "start": 2002}


def _token_headers(web):
    return {"x-csrf-token": csrf_of(web.get("/account").text)}


def test_the_panel_api_takes_a_json_long_table(web):
    _as(web, "viewer@test.nhs.uk")
    body = {"rows": _panel().to_dict("records"), **OPTIONS, "method": "did"}
    r = web.post("/api/v1/evaluate/panel", json=body, headers=_token_headers(web))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["methods"]["did"]["att"] == pytest.approx(5.0, abs=1e-9)  # two-way fixed effects recover it exactly
    assert out["treated"] == ["U0"] and out["start"] == 2002
    assert set(out) >= {"verdict", "regression_to_mean", "spc", "per_year", "warnings"}


def test_the_panel_api_takes_a_csv_upload_like_the_cli(web, tmp_path):
    from typer.testing import CliRunner

    from partnering.cli.main import app as cli

    _as(web, "viewer@test.nhs.uk")
    csv = _panel().to_csv(index=False).encode()
    form = {**{k: str(v) for k, v in OPTIONS.items()}, "method": "its"}
    r = web.post("/api/v1/evaluate/panel", data=form, files={"file": ("panel.csv", csv, "text/csv")},
                 headers=_token_headers(web))
    assert r.status_code == 200, r.text
    path = tmp_path / "panel.csv"
    path.write_bytes(csv)
    res = CliRunner().invoke(cli, ["evaluate", "panel", str(path), "--unit", "state", "--time", "year", "--outcome",
                                   "y", "--treated", "U0", "--start", "2002", "--method", "its", "--json"])
    assert res.exit_code == 0, res.output
    assert r.json() == _nan_to_none(json.loads(res.output))


@pytest.mark.parametrize("change, reason", [
    ({"outcome": "deaths"}, "no column 'deaths'"),
    ({"treated": "Atlantis"}, "not in the panel"),
    ({"start": 1850}, "not a period of the panel"),
    ({"method": "magic"}, "choose its, did, sc, cs or all"),
    ({"level": 1.5}, "level must be"),
    ({"unit": None}, "unit: Field required"),
])
def test_bad_panel_input_is_a_400_with_the_reason(web, change, reason):
    _as(web, "viewer@test.nhs.uk")
    body = {"rows": _panel().to_dict("records"), **OPTIONS, "method": "did", **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = web.post("/api/v1/evaluate/panel", json=body, headers=_token_headers(web))
    assert r.status_code == 400, r.text
    assert reason in r.json()["error"]


def test_bad_panel_bodies_are_refused_with_the_reason(web, world):
    _as(web, "viewer@test.nhs.uk")
    h = _token_headers(web)
    r = web.post("/api/v1/evaluate/panel", content=b"not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 400 and "not a panel request" in r.json()["error"]
    r = web.post("/api/v1/evaluate/panel", data={k: str(v) for k, v in OPTIONS.items()},
                 files={"file": ("empty.csv", b"", "text/csv")}, headers=h)
    assert r.status_code == 400 and r.json()["error"] == "the file is empty"
    r = web.post("/api/v1/evaluate/panel", data={k: str(v) for k, v in OPTIONS.items()},
                 files={"file": ("p.csv", b"state,year,y\nU0,abc,1\n", "text/csv")}, headers=h)
    assert r.status_code == 400 and "not a period of the panel" in r.json()["error"]
    r = web.post("/api/v1/evaluate/panel", content=b"a,b", headers={**h, "content-type": "text/csv"})
    assert r.status_code == 415
    # a cookie-signed-in POST without the CSRF header is refused
    r = web.post("/api/v1/evaluate/panel", json={"rows": []})
    assert r.status_code == 403
    app = world[0]
    limit = app.state.max_upload_bytes
    app.state.max_upload_bytes = 1000
    try:
        r = web.post("/api/v1/evaluate/panel", data={k: str(v) for k, v in OPTIONS.items()},
                     files={"file": ("big.csv", _panel().to_csv(index=False).encode(), "text/csv")}, headers=h)
        assert r.status_code == 413
    finally:
        app.state.max_upload_bytes = limit


def test_the_panel_api_checks_a_protocol_as_the_cli_does(web, tmp_path):
    # `partnering evaluate panel ... --protocol FILE` refuses a protocol changed after it was fingerprinted; the API
    # takes the saved file's content in `protocol` (JSON body) or a `protocol` file (CSV upload) and does the same.
    from partnering.evaluate.protocol import Protocol, save_protocol

    _as(web, "viewer@test.nhs.uk")
    proto = Protocol(partnership="U0", outcomes=["y"], start="2002", methods=["did"])
    save_protocol(proto, tmp_path / "p.json")
    save_protocol(proto, tmp_path / "p.toml")
    saved = json.loads((tmp_path / "p.json").read_text())
    body = {"rows": _panel().to_dict("records"), **OPTIONS, "method": "did"}
    plain = web.post("/api/v1/evaluate/panel", json=body, headers=_token_headers(web))
    r = web.post("/api/v1/evaluate/panel", json={**body, "protocol": saved}, headers=_token_headers(web))
    assert r.status_code == 200, r.text
    assert r.json() == plain.json()  # a protocol that checks out changes nothing
    tampered = {**saved, "protocol": {**saved["protocol"], "outcomes": ["y", "deaths"]}}
    r = web.post("/api/v1/evaluate/panel", json={**body, "protocol": tampered}, headers=_token_headers(web))
    assert r.status_code == 400 and "changed after it was fingerprinted" in r.json()["error"]
    r = web.post("/api/v1/evaluate/panel", json={**body, "protocol": {"nonsense": 1}}, headers=_token_headers(web))
    assert r.status_code == 400 and "not a readable analysis protocol" in r.json()["error"]
    form = {**{k: str(v) for k, v in OPTIONS.items()}, "method": "did"}
    files = {"file": ("panel.csv", _panel().to_csv(index=False).encode(), "text/csv"),
             "protocol": ("p.toml", (tmp_path / "p.toml").read_bytes(), "application/toml")}
    r = web.post("/api/v1/evaluate/panel", data=form, files=files, headers=_token_headers(web))
    assert r.status_code == 200, r.text
    (tmp_path / "p.toml").write_text((tmp_path / "p.toml").read_text().replace('"did"', '"its"'))
    files["protocol"] = ("p.toml", (tmp_path / "p.toml").read_bytes(), "application/toml")
    r = web.post("/api/v1/evaluate/panel", data=form, files=files, headers=_token_headers(web))
    assert r.status_code == 400 and "changed after it was fingerprinted" in r.json()["error"]
