"""The evaluation report's method table names the panel's units as the evaluation page does (not always "trusts")."""

from types import SimpleNamespace

import pytest

from partnering.evaluate.triangulate import method_label
from partnering.report.evaluation import methods_table

pytestmark = pytest.mark.unit


def _result(att):
    return SimpleNamespace(att=att, ci_low=att - 1, ci_high=att + 1, level=0.95, p_value=0.04, rmspe_pre=0.5)


@pytest.mark.parametrize("noun", ["practices", "trusts", "units"])
def test_report_method_table_uses_the_panels_noun(noun):
    ev = SimpleNamespace(results={"its": _result(2.0)}, rtm=_result(1.5), unit_noun=noun)
    table = methods_table(ev)
    assert table["method"].tolist() == ["Interrupted time series",
                                        f"Against {noun} as bad before (regression to the mean)"]
    assert table["method"].iloc[1] == method_label("rtm", noun)
