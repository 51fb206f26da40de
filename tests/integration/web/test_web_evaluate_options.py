"""The evaluation page takes the options of ``partnering evaluate partnership`` (issue #11, left open: it used the
defaults only): indicators, methods, the start month, spillover comparators kept or not, and the interval level;
bad options are named in the NHS.UK error summary (400) and nothing is computed; the downloads follow the options."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.integration.web.conftest import csrf_of, sign_in
from tests.integration.web.test_web_evaluate import INDICATOR, RECIPIENT, SUPPORTER, _demo_world

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return _demo_world(tmp_path_factory, "web-evaluate-options")


@pytest.fixture
def web(world):
    with TestClient(world[0]) as c:
        c.cookies.clear()
        assert sign_in(c, "viewer@test.nhs.uk").status_code == 303
        yield c


def _methods(page: str) -> list[str]:
    table = page.split('id="ind0-methods"')[1].split("</table>")[0]
    return re.findall(r'<th scope="row" class="nhsuk-table__header">([^<]+)</th>', table)


def test_the_form_offers_the_clis_options_with_the_defaults_chosen(web, world):
    page = web.get(f"/partnerships/{world[2]}/evaluation").text
    form = page.split('id="options"')[1].split("</form>")[0]
    assert f'id="indicator-{INDICATOR}"' in form and "named by the partnership" in form
    assert re.search(r'id="method" name="method" type="radio" value="all" checked', form)
    for m in ("its", "did", "sc", "cs"):
        assert f'value="{m}"' in form
    assert 'id="start"' in form and 'id="include_spillover"' in form and '<option value="0.95" selected>' in form
    assert "every method; from 2024-04;" in form and "kept out of the comparators (spillover); 95% intervals" in form


def test_one_method_a_later_start_spillover_kept_and_a_90_percent_interval(web, world):
    pid = world[2]
    q = {"indicator": INDICATOR, "method": "its", "start": "2024-10", "include_spillover": "yes", "level": "0.9"}
    r = web.get(f"/partnerships/{pid}/evaluation", params=q)
    assert r.status_code == 200, r.text
    page = r.text
    assert 'open>' in page.split('id="options"')[1][:20]  # the options in use are shown open
    # interrupted time series only (and the regression-to-the-mean check, which always runs)
    assert _methods(page) == ["Interrupted time series", "Against trusts as bad before (regression to the mean)"]
    assert "(90%)" in page.split('id="ind0-methods"')[1].split("</table>")[0]
    assert "from 2024-10 (not the recorded start, 2024-04)" in page
    assert f"({SUPPORTER}): the supporter of {RECIPIENT}" not in page  # the supporter is a comparator now
    # the API gives the same with the same options
    api = web.get(f"/api/v1/partnerships/{pid}/evaluation", params=q, headers={"accept": "application/json"})
    ev = api.json()[INDICATOR]
    assert list(ev["methods"]) == ["its"] and ev["start"] == "2024-10" and ev["methods"]["its"]["level"] == 0.9
    assert SUPPORTER not in ev["excluded"]
    # the results download follows the page's options
    link = re.search(r'href="(/partnerships/\d+/evaluation/download/results\?[^"]*format=csv)"', page).group(1)
    csv = web.get(link.replace("&amp;", "&"))
    assert csv.status_code == 200
    effects = pd.read_csv(io.StringIO(csv.text)).query("table == 'effect'")
    assert sorted(effects["method"]) == ["its", "rtm"] and set(effects["level"]) == {0.9}


def test_bad_options_are_named_in_the_error_summary_and_nothing_is_computed(web, world):
    pid = world[2]
    r = web.get(f"/partnerships/{pid}/evaluation",
                params={"indicator": "no_such_indicator", "method": "magic", "start": "April", "level": "0.5"})
    assert r.status_code == 400
    summary = r.text.split("nhsuk-error-summary__list")[1].split("</ul>")[0]
    assert re.findall(r'href="(#[\w-]+)"', summary) == [f"#indicator-{INDICATOR}", "#method", "#start", "#level"]
    assert "no indicator no_such_indicator" in summary and "for example 2024-04" in summary
    assert 'id="start-error"' in r.text and 'id="method-error"' in r.text and 'id="indicator-error"' in r.text
    assert 'value="April"' in r.text  # what was typed is kept
    assert 'id="ind0-methods"' not in r.text and "Evaluated in" not in r.text
    assert web.get(f"/partnerships/{pid}/evaluation/download/results", params={"start": "April"}).status_code == 400
    r = web.get(f"/api/v1/partnerships/{pid}/evaluation", params={"level": "0.5"})
    assert r.status_code == 400 and "level must be" in r.json()["error"]


def test_the_verdict_names_the_panels_units(web, world):
    """A partnership of acute trusts says "trusts"; a generic panel sent to the panel API says what it is told
    (``unit_noun``), else "units" — never "trusts" for practices."""
    pid = world[2]
    ev = web.get(f"/api/v1/partnerships/{pid}/evaluation", params={"method": "its"}).json()[INDICATOR]
    assert "rtm" in [m["method"] for m in ev["verdict"]["methods"]]
    assert "comparison with trusts that were as bad before" in ev["verdict"]["verdict"]
    rng = np.random.default_rng(7)
    rows = [{"practice": f"P{u:02d}", "month": f"{2020 + m // 12}-{m % 12 + 1:02d}", "y": 50 + u + rng.normal()}
            for u in range(25) for m in range(36)]
    body = {"rows": rows, "unit": "practice", "time": "month", "outcome": "y", "treated": "P00",
            "start": "2022-01", "method": "its"}
    web.headers["x-csrf-token"] = csrf_of(web.get("/account").text)
    r = web.post("/api/v1/evaluate/panel", json={**body, "unit_noun": "practices"})
    assert r.status_code == 200, r.text
    assert "comparison with practices that were as bad before" in r.json()["verdict"]["verdict"]
    assert "trusts" not in r.json()["verdict"]["verdict"]
    plain = web.post("/api/v1/evaluate/panel", json=body).json()["verdict"]["verdict"]
    assert "comparison with units that were as bad before" in plain
    r = web.post("/api/v1/evaluate/panel", json={**body, "unit_noun": "<b>practices</b>"})
    assert r.status_code == 400 and "unit_noun" in r.json()["error"]
