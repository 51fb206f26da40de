"""The integrated performance report renders, in HTML and PDF, with the icon table and every chart."""

from __future__ import annotations

import re

import pytest

from partnering.errors import NotFoundError, ValidationError
from partnering.measure.assess import assess_frames
from partnering.report.performance import write_report

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def demo_assessment():
    from partnering.demo import generate

    system = generate(seed=7)
    return assess_frames(system.observations, system.organisations), system


def test_html_report_has_flags_icon_table_charts_and_data_tables(demo_assessment, tmp_path):
    a, system = demo_assessment
    org = a.flags[a.flags.persistent_difficulty].org_code.iloc[0]
    out = write_report(a, org, tmp_path / "r.html")
    html = out.read_text()
    n_ind = len(a.icons[a.icons.org_code == org])
    assert "Persistent difficulty" in html
    assert html.count("<figure") == n_ind  # one SPC chart per indicator
    assert html.count("<details>") == n_ind  # and the data behind each
    assert "Summary icon table" in html and "Open Government Licence" in html
    assert not re.search(r"(src|href)=['\"]https?://", html)  # self-contained: nothing loaded from the internet


def test_pdf_report_has_a_summary_page_and_a_page_per_chart(demo_assessment, tmp_path):
    a, _ = demo_assessment
    org = a.flags.org_code.iloc[-1]
    out = write_report(a, org, tmp_path / "r.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    n_ind = len(a.icons[a.icons.org_code == org])
    summary_pages = len(re.findall(rb"/Type\s*/Page[^s]", data)) - n_ind  # then one chart a page
    assert 1 <= summary_pages <= 3  # the summary and the icon table, rows as tall as their text


def test_report_refuses_unknown_org_and_format(demo_assessment, tmp_path):
    a, _ = demo_assessment
    with pytest.raises(NotFoundError):
        write_report(a, "NOPE", tmp_path / "x.html")
    with pytest.raises(ValidationError):
        write_report(a, a.flags.org_code.iloc[0], tmp_path / "x.docx")
    assert not list(tmp_path.iterdir())
