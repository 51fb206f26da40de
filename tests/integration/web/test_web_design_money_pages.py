"""Pages of the design stage's money tool (issue #12 s.3-5): /design, /design/money/consolidation and
/design/money/allocation — signed-in views, anonymous redirects, form error summaries, the allocation map's figure
and data table, downloads under the publication rule, and adding a consolidation to an appraisal case (analysts of
the case's organisation; refused for a viewer, for another organisation's analyst and without the CSRF token)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from tests.integration.web.conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration

AREAS = "/design/money/allocation?units=areas&budget=1000&compare=per-head"
#: weights that make weighted capitation plain capitation: every age-sex band 1, no deprivation elasticity
FLAT = "".join(f"&w_{b}=1" for b in ("younger_females", "working_age_females", "older_females", "younger_males",
                                      "working_age_males", "older_males")) + "&w_deprivation_elasticity=0"


@pytest.fixture
def analyst(client):
    assert sign_in(client, "analyst.a@test.nhs.uk").status_code == 303
    return client


@pytest.fixture
def viewer(client):
    assert sign_in(client, "viewer@test.nhs.uk").status_code == 303
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ------------------------------------------------------------------------------------------------ landing, access


def test_design_landing_lists_the_four_tools_and_the_nav_links_it(viewer):
    r = viewer.get("/design")
    assert r.status_code == 200
    for href in ("/design/regions", "/design/network", "/design/money/consolidation", "/design/money/allocation"):
        assert f'href="{href}"' in r.text
    nav = r'class="nhsuk-header__navigation-link" href="/design"[^>]*>\s*(?:<strong[^>]*>)?Design<'
    assert re.search(nav, r.text), "no Design link in the navigation"


@pytest.mark.parametrize("path", ["/design", "/design/money/consolidation", "/design/money/allocation",
                                  "/design/money/allocation/download?units=areas&budget=1"])
def test_anonymous_users_are_sent_to_sign_in(demo_app, path):
    with TestClient(demo_app) as c:
        r = c.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/signin")


# ------------------------------------------------------------------------------------------------ consolidation


def test_consolidation_form_lists_trusts_from_the_store_by_code_with_names(viewer):
    r = viewer.get("/design/money/consolidation")
    assert r.status_code == 200
    # the demo store's first acute trust, by name and code
    assert re.search(r'<option value="ZA1">[^<]*\(ZA1\)</option>', r.text)
    assert 'value="ZA1">Verby' not in r.text  # each code carries its own name


def test_consolidation_result_shows_components_sources_and_checks(viewer):
    r = viewer.get("/design/money/consolidation?trust=ZA1&turnover=450&trust=ZA2&turnover=450&form=merger")
    assert r.status_code == 200, r.text[:500]
    text = _text(r.text)
    # two GBP 450m trusts: GBP 16,280,278 a year (tests/unit/design: worked by hand), GBP 6.25m one-off
    assert "£16.28m a year" in text
    assert "One-off transition costs: £6.25m" in text
    assert "within Monitor" in text and "within that range" in text
    for label in ("One board", "One executive team", "One external audit", "Shared back office", "Pooled procurement",
                  "IT integration"):
        assert label in text
    assert "Judgement: a stated judgement" in text and "Carter" in text
    assert "PLACEHOLDER turnover" not in text  # both turnovers supplied


def test_consolidation_warns_of_placeholder_turnover(viewer):
    r = viewer.get("/design/money/consolidation?trust=ZA1&turnover=&trust=ZA2&turnover=600&form=group")
    assert r.status_code == 200
    assert re.search(r"PLACEHOLDER turnover of GBP 450m for ZA1\b", _text(r.text))


def test_consolidation_form_errors_are_summarised_and_linked(viewer):
    r = viewer.get("/design/money/consolidation?trust=ZA1&turnover=lots&trust=&turnover=")
    assert r.status_code == 400
    summary = re.search(r'class="nhsuk-error-summary".*?</ul>', r.text, re.S).group(0)
    assert 'href="#turnover-1"' in summary
    assert 'href="#trust-2"' in summary  # one trust is not a grouping
    assert 'id="turnover-1-error"' in r.text


def test_consolidation_form_refuses_a_turnover_no_nhs_trust_has(viewer):
    # pounds typed where £ million are asked: 212,000,000 "million" is £212 trillion (largest trusts: ~£2-3bn)
    r = viewer.get("/design/money/consolidation?trust=ZA1&turnover=212000000&trust=ZA2&turnover=450&form=merger")
    assert r.status_code == 400
    summary = re.search(r'class="nhsuk-error-summary".*?</ul>', r.text, re.S).group(0)
    assert 'href="#turnover-1"' in summary and "at most 10,000" in summary


def test_viewer_sees_no_add_to_case_form(viewer):
    r = viewer.get("/design/money/consolidation?trust=ZA1&trust=ZA2")
    assert r.status_code == 200
    assert 'action="/design/money/consolidation/add"' not in r.text
    assert "Analysts can add this grouping" in r.text


# ------------------------------------------------------------------------------------------------ add to a case


@pytest.fixture
def stored_case(fresh_app):
    """A blank case for ZA1 in a store of its own (the write tests must not change the shared demo store)."""
    from partnering.appraise.case import dump_case
    from partnering.appraise.saved import save_case
    from partnering.web.appraise import blank_case

    return save_case(fresh_app.state.engine, dump_case(blank_case("ZA1", "Options for ZA1")), actor="test")


def _add(c: TestClient, case_id: int, token: str | None):
    data = {"trust": ["ZA1", "ZA2"], "turnover": ["450", "450"], "form": "merger", "case_id": str(case_id),
            "key": ""}
    if token is not None:
        data["csrf_token"] = token
    return c.post("/design/money/consolidation/add", data=data, follow_redirects=False)


def test_analyst_adds_the_consolidation_to_a_case_audited(fresh_app, stored_case):
    from partnering.appraise.case import parse_case
    from partnering.appraise.saved import get_case
    from partnering.store.audit import audit_frame

    eng = fresh_app.state.engine
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.a@test.nhs.uk").status_code == 303
        page = c.get("/design/money/consolidation?trust=ZA1&turnover=450&trust=ZA2&turnover=450")
        assert f'<option value="{stored_case}">' in page.text  # the analyst's case is offered
        r = _add(c, stored_case, csrf_of(page.text))
    assert r.status_code == 303, r.text[:500]
    assert r.headers["location"] == f"/appraise/cases/{stored_case}/edit/options"
    case = parse_case(get_case(eng, stored_case)["toml"])
    option = case.option("consolidation_merger")
    assert option.kind == "merge"
    assert option.flows["cash_releasing_benefit"][0] == pytest.approx(16_280_278, abs=5)
    assert sum(t.amount for t in option.transaction_costs) == pytest.approx(6_250_000)
    events = audit_frame(eng, action="appraise.case.update")
    assert (events["actor"] == "analyst.a@test.nhs.uk").any()


@pytest.mark.parametrize("email", ["viewer@test.nhs.uk", "analyst.b@test.nhs.uk"])
def test_adding_to_a_case_is_refused_without_the_right(fresh_app, stored_case, email):
    from partnering.appraise.saved import get_case

    eng = fresh_app.state.engine
    before = get_case(eng, stored_case)["toml"]
    with TestClient(fresh_app) as c:
        assert sign_in(c, email).status_code == 303
        token = csrf_of(c.get("/account").text)  # the session's token, from a page with a form
        r = _add(c, stored_case, token)
    assert r.status_code == 403
    assert get_case(eng, stored_case)["toml"] == before


def test_adding_to_a_case_needs_the_csrf_token(fresh_app, stored_case):
    from partnering.appraise.saved import get_case

    eng = fresh_app.state.engine
    before = get_case(eng, stored_case)["toml"]
    with TestClient(fresh_app) as c:
        assert sign_in(c, "analyst.a@test.nhs.uk").status_code == 303
        r = _add(c, stored_case, None)
    assert r.status_code == 403
    assert get_case(eng, stored_case)["toml"] == before


# ------------------------------------------------------------------------------------------------ allocation


def test_allocation_form_shows_default_weights_as_placeholders(viewer):
    r = viewer.get("/design/money/allocation")
    assert r.status_code == 200
    assert "The default weights are placeholders" in r.text
    assert re.search(r'id="w_older_females"[^>]*value="2.1"', r.text)
    assert "Placeholder: no official table held" in r.text


def test_allocation_form_errors_are_summarised_and_linked(viewer):
    r = viewer.get("/design/money/allocation?units=areas&budget=lots&compare=none&floor=1&w_older_males=-1")
    assert r.status_code == 400
    summary = re.search(r'class="nhsuk-error-summary".*?</ul>', r.text, re.S).group(0)
    for href in ("#budget", "#floor", "#w_older_males"):
        assert f'href="{href}"' in summary


@pytest.mark.shared
def test_allocation_map_has_a_figure_legend_and_table_for_every_area(viewer, shared):
    r = viewer.get(AREAS)
    assert r.status_code == 200, r.text[:500]
    html = r.text
    fig = re.search(r'<figure class="app-map-figure">.*?</figure>', html, re.S).group(0)
    assert 'role="img"' in fig and 'aria-labelledby="allocation-map-caption"' in fig
    assert fig.count('class="app-map__area"') == 296  # England's local authorities, May 2024
    assert 'fill="url(#hatch-' in fig  # a pattern, not colour alone
    legend = re.findall(r"target: (\d+) areas?</li>", html)
    assert len(legend) == 5 and sum(int(n) for n in legend) == 296
    table = re.search(r'<table class="nhsuk-table" id="map-table">.*?</table>', html, re.S).group(0)
    assert table.count('<tr class="nhsuk-table__row">') == 296 + 1  # a header row and one per area
    assert re.search(r"Hartlepool \(E06000001\)", table)
    # a flat amount per head gives less per weighted head where need (deprivation) is higher
    assert "is lower in more deprived areas" in _text(html)
    assert 'id="over-table"' in html and 'id="under-table"' in html


@pytest.mark.shared
def test_plain_capitation_is_on_target_everywhere(viewer, shared):
    """With every age-sex weight 1 and no deprivation elasticity, the target is the per-head share: every area is
    within 5% of target and funding per weighted head does not follow deprivation."""
    r = viewer.get(AREAS + FLAT)
    assert r.status_code == 200
    assert "Within 5% of target: 296 areas" in r.text
    assert "Funding per weighted head is the same in more and less deprived areas" in _text(r.text)


@pytest.mark.shared
def test_allocation_pace_of_change_and_short_budget(viewer, shared):
    ok = viewer.get(AREAS + "&current=970&floor=1&cap=6")
    assert ok.status_code == 200
    assert re.search(r"mean distance from target falls from [\d.]+% to [\d.]+%", ok.text)
    short = viewer.get(AREAS + "&current=1000&floor=2")  # 2% growth on GBP 1,000m does not fit in GBP 1,000m
    assert short.status_code == 400
    assert 'href="#floor"' in re.search(r'class="nhsuk-error-summary".*?</ul>', short.text, re.S).group(0)


@pytest.mark.shared
def test_allocation_download_follows_the_publication_rule(viewer, shared):
    r = viewer.get(AREAS.replace("/allocation?", "/allocation/download?") + "&format=csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 296
    assert {row["publication_rule"] for row in rows} == {"small-number suppression"}
    assert all(int(row["population"]) % 5 == 0 for row in rows)  # sub-national counts rounded to 5
    assert "comparison, not real funding" in rows[0]["actual_is"]
    x = viewer.get(AREAS.replace("/allocation?", "/allocation/download?") + "&format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
