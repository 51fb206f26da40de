"""The system page with a kind other than acute trusts shows that kind assessed among its own kind (as its
organisations' pages do, ``partnering.measure.own_kind``), in the map's table, the summary icon table and its
download; and the synthetic-data banner shows on an organisation page only when the page shows demo data."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, make_app, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.shared]

BANNER = "SYNTHETIC DEMONSTRATION DATA"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, nhs):
    """The demo next to the real AmbSYS time series (real ambulance trusts, invented acute trusts)."""
    from partnering.ingest import load
    from partnering.ingest.demo import load_demo
    from partnering.store.db import get_engine
    from partnering.web.auth import create_user

    home = tmp_path_factory.mktemp("web-mixed")
    url = f"sqlite:///{home / 'mixed.db'}"
    eng = get_engine(url)
    load_demo(eng)
    load("ambulance-ambsys", nhs / "ambulance-ambsys" / "AmbSYS-Time-Series-until-20250831.xlsx", eng)
    create_user(eng, "admin@test.nhs.uk", "admin", None, password=PASSWORD)
    app = make_app(url, home)
    with TestClient(app) as c:
        assert sign_in(c, "admin@test.nhs.uk").status_code == 303
        yield c


def _segment(c, code):
    from partnering.web.auth import create_token

    token = create_token(c.app.state.engine, "admin@test.nhs.uk", "system own kind")
    body = c.get(f"/api/v1/assessment/{code}", headers={"Authorization": f"Bearer {token}"}).json()
    return body["flags"]["segment"]


def test_ambulance_kind_shows_ambulance_segments_in_map_table_icon_table_and_download(mixed):
    seg = _segment(mixed, "RX9")
    assert seg in (1, 2, 3, 4)
    html = mixed.get("/?kind=ambulance_trust&per=all").text
    # the map's table: RX9 with its own page's segment, not "Not segmented"
    row = html.split('<a href="/org/RX9">', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="nhsuk-table__cell">{seg}</td>' in row and "Not segmented" not in row
    # the summary icon table lists ambulance trusts (among their own kind), not the demo's acute trusts
    icon = html.split('id="icon-table"', 1)[1].split("</table>", 1)[0]
    assert "Ambulance trusts, assessed among their own kind" in icon
    assert 'href="/org/RX9"' in icon
    acute = mixed.get("/?per=all").text.split('id="icon-table"', 1)[1].split("</table>", 1)[0]
    assert 'href="/org/RX9"' not in acute and "assessed among their own kind" not in acute
    # the download link carries the kind, and the file lists ambulance trusts with the same segment
    assert re.search(r'href="/download/summary\?region=&amp;icb=&amp;[^"]*&amp;kind=ambulance_trust&amp;format=csv"',
                     html)
    rows = list(csv.DictReader(io.StringIO(mixed.get("/download/summary?kind=ambulance_trust").text)))
    assert {r["kind"] for r in rows} == {"ambulance_trust"}
    assert int(float(next(r for r in rows if r["org_code"] == "RX9")["segment"])) == seg
    default = list(csv.DictReader(io.StringIO(mixed.get("/download/summary").text)))
    assert default and {r["kind"] for r in default} == {"acute_trust"}


def test_banner_only_on_pages_showing_demo_data(mixed):
    from partnering.store import repository as repo

    orgs = repo.organisations_frame(mixed.app.state.engine, ["acute_trust"])
    demo = orgs[orgs["synthetic"].fillna(False).astype(bool)]["org_code"].iloc[0]
    rx9 = mixed.get("/org/RX9").text
    assert BANNER not in rx9  # real AmbSYS figures, ranked among real ambulance trusts only
    assert "Segment 4" in rx9
    # a demo organisation listed as a peer or candidate partner is marked in its row instead
    everyone = repo.organisations_frame(mixed.app.state.engine)
    fake = set(everyone.loc[everyone["synthetic"].fillna(False).astype(bool), "org_code"])
    listed = {c for c in fake if f'<a href="/org/{c}">' in rx9}
    assert rx9.count("Invented demonstration organisation") == len(listed)
    assert BANNER in mixed.get(f"/org/{demo}").text
    assert BANNER in mixed.get("/").text  # the overview shows the demo's acute trusts
