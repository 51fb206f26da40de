"""The verdict names the panel's units (issue #11, left open: it said "trusts" for any panel): "practices" for a
panel of practices, "units" when nobody said, "trusts" for a partnership of NHS trusts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.evaluate.panel import panel_from_long
from partnering.evaluate.result import MethodResult
from partnering.evaluate.run import evaluate_panel, unit_noun_of
from partnering.evaluate.triangulate import method_name, triangulate

pytestmark = pytest.mark.unit


def _r(att, lo, hi, warnings=()):
    return MethodResult("x", att, lo, hi, warnings=list(warnings))


def test_the_verdict_and_its_warnings_use_the_noun_given():
    results = {"its": _r(-2, -3, -1), "rtm": _r(-1.5, -2.5, -0.5, ["short pre-period"])}
    v = triangulate(results, "increase", "the outcome", unit_noun="practices")
    assert "comparison with practices that were as bad before" in v.verdict and "trusts" not in v.verdict
    assert "comparison with practices that were as bad before: short pre-period" in v.warnings
    assert "comparison with units that were as bad before" in triangulate(results).verdict
    assert method_name("rtm", "trusts") == "comparison with trusts that were as bad before"
    assert method_name("its", "trusts") == "interrupted time series"


def _practices(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"practice": f"P{u:02d}", "month": f"{2020 + m // 12}-{m % 12 + 1:02d}",
             "y": 50 + u + rng.normal(0, 1)} for u in range(25) for m in range(36)]
    return pd.DataFrame(rows)


def test_a_generic_panel_never_says_trusts():
    df = _practices()
    named = panel_from_long(df, "practice", "month", "y", "P00", "2022-01", unit_noun="practices")
    ev = evaluate_panel(named, ("its", "did"))
    assert "rtm" in [m["method"] for m in ev.verdict.methods]  # the check is among the methods named
    assert "comparison with practices that were as bad before" in ev.verdict.verdict
    assert not any("trusts" in t for t in [ev.verdict.verdict, *ev.verdict.warnings])
    plain = evaluate_panel(panel_from_long(df, "practice", "month", "y", "P00", "2022-01"), ("its", "did"))
    assert "comparison with units that were as bad before" in plain.verdict.verdict
    # the noun survives the panel's own copies (placebo runs, leave-one-out)
    assert named.without(["P01"]).unit_noun == "practices" and named.treat_instead("P02").unit_noun == "practices"


def test_organisation_kinds_give_their_noun():
    assert [unit_noun_of(k) for k in ("acute_trust", "mental_health_trust", "ambulance_trust", "gp_practice",
                                      "icb", "region", None)] == [
        "trusts", "trusts", "trusts", "practices", "ICBs", "organisations", "organisations"]


def test_the_evaluation_page_labels_the_check_with_the_noun():
    from partnering.web.evaluate import _indicator_view

    ev = evaluate_panel(panel_from_long(_practices(), "practice", "month", "y", "P00", "2022-01",
                                        unit_noun="practices"), ("its",))
    assert ev.unit_noun == "practices" and ev.to_dict()["unit_noun"] == "practices"
    names = [m["name"] for m in _indicator_view(ev, "y", 0, None, {})["methods"]]
    assert names == ["Interrupted time series", "Against practices as bad before (regression to the mean)"]
