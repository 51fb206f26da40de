"""The system page's summary icon table: short headings with full names, filters, paging, sorting kept."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration


def _table(html: str) -> str:
    return html[html.index('id="icon-table"'):html.index("</table>", html.index('id="icon-table"'))]


def _row_codes(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="nhsuk-table__header"><a href="/org/(\w+)">', _table(html))


def test_short_headings_carry_the_full_name(admin):
    from partnering.indicators.catalogue import load_catalogue

    table = _table(admin.get("/").text)
    for d in (d for d in load_catalogue().values() if d.key):
        # the full name is read out (visually hidden) and shown on hover (title); the short one is aria-hidden
        assert f'data-metric="{d.code}"' in table
        assert f'<span class="nhsuk-u-visually-hidden">{d.name.replace("&", "&amp;")}</span>' in table
        assert f'title="{d.name.replace("&", "&amp;")}"' in table


def test_filters_and_paging(admin):
    every = _row_codes(admin.get("/?per=all").text)
    assert len(every) > 25, "the demo has more acute trusts than one page"
    first = admin.get("/").text
    assert len(_row_codes(first)) == 25
    assert f"Showing 1 to 25 of {len(every)} organisations" in first
    assert 'aria-current="page"' in first and "page=2" in first
    second = _row_codes(admin.get("/?page=2").text)
    assert second and not set(second) & set(_row_codes(first))
    seg = admin.get("/?segment=4&per=all").text
    assert all(re.search(r"<td class=\"nhsuk-table__cell\">4</td>", row) for row in
               _table(seg).split('<tr class="nhsuk-table__row">')[2:])
    diff = admin.get("/?flag=difficulty&per=all").text
    assert "Yes" in _table(diff) and len(_row_codes(diff)) < len(every)
    code = every[0]
    assert _row_codes(admin.get(f"/?q={code.lower()}").text) == [code]
    assert "No organisations match these filters" in admin.get("/?q=zzzz-nothing").text


def test_sort_links_keep_the_filters(admin):
    html = admin.get("/?flag=neither&per=50&sort=name&dir=asc").text
    link = re.search(r'<a class="app-sort" href="\?([^"]+)#summary">', _table(html)).group(1)
    assert "flag=neither" in link and "per=50" in link
    names = re.findall(r'<th scope="row" class="nhsuk-table__header"><a href="/org/\w+">([^<]+)</a>', _table(html))
    assert names == sorted(names)


def test_download_follows_the_filters(admin):
    import io

    import pandas as pd

    every = pd.read_csv(io.StringIO(admin.get("/download/summary?format=csv").text), comment="#")
    diff = pd.read_csv(io.StringIO(admin.get("/download/summary?format=csv&flag=difficulty").text), comment="#")
    assert 0 < len(diff) < len(every)
    assert diff["persistent_difficulty"].astype(str).str.lower().isin(["true", "1"]).all()
    page = admin.get("/?flag=difficulty").text
    assert "/download/summary?region=&amp;icb=&amp;segment=&amp;flag=difficulty&amp;q=" in page


def _download_link(html: str, fmt: str = "csv") -> str:
    import html as h

    return h.unescape(re.search(r'<a href="(/download/summary\?[^"]*format=' + fmt + ')">', html).group(1))


@pytest.mark.parametrize("query", ["sort=name&dir=desc", "sort=score&dir=desc&flag=neither", "sort=code&dir=asc"])
def test_download_follows_the_sort(admin, query):
    """The page's download link carries its sort: the file's rows come in the order the page shows them."""
    import io

    import pandas as pd

    html = admin.get(f"/?{query}&per=all").text
    shown = _row_codes(html)
    link = _download_link(html)
    for part in query.split("&"):
        assert part in link
    csv = pd.read_csv(io.StringIO(admin.get(link).text), comment="#", dtype={"org_code": str})
    assert len(shown) > 10 and csv["org_code"].tolist() == shown
    default = _row_codes(admin.get("/?per=all" + ("&flag=neither" if "flag" in query else "")).text)
    assert shown != default, "the sort chosen is not the default one"
    # the first page of the sorted table is the start of the file (the download has every page)
    assert csv["org_code"].tolist()[:25] == _row_codes(admin.get(f"/?{query}").text)
