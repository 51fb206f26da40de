"""The methods page lists every NHS Oversight Framework 2025/26 metric and whether Partnering has it (issue #13)."""

from __future__ import annotations

import html
import re

import pytest

from partnering.measure.nof import nof_metrics

pytestmark = pytest.mark.integration


def test_methods_page_lists_the_frameworks_metrics_in_and_missing(admin):
    page = admin.get("/methods")
    assert page.status_code == 200
    text = page.text
    assert "Oversight Framework metrics: in Partnering or missing" in text
    rows = re.findall(r'<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header">(.*?)</tr>', text,
                      re.S)
    by_name = {r.split("</th>", 1)[0]: r for r in rows}
    for m in nof_metrics():
        assert html.escape(m.name) in by_name, m.key
    # OF0023 (technical metric specification) is in, from the RTT loader; sickness absence has no open source here
    rtt = by_name[html.escape(nof_metrics()[0].name)]
    assert "OF0023" in rtt and "<strong>in</strong>" in rtt and "partnering ingest rtt" in rtt
    sick = next(r for n, r in by_name.items() if n.startswith("Staff sickness absence"))
    assert "<strong>missing</strong>" in sick
    # the plan-based metric is not scored by Partnering, and the deficit cap is said not to be applied
    assert "not scored by Partnering" in text and "not applied" in text
