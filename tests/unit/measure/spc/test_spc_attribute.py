"""P, U and C charts against Montgomery's formulas computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.measure.spc import run_spc

pytestmark = pytest.mark.unit


def _frame(num, den=None):
    n = len(num)
    cols = {"series": "a", "x": pd.date_range("2023-01-01", periods=n, freq="MS")}
    if den is None:
        cols["y"] = num
    else:
        cols["numerator"], cols["denominator"] = num, den
    return pd.DataFrame(cols)


def test_p_chart_limits_vary_with_denominator():
    num = [10, 12, 8, 30, 9, 11]
    den = [100, 120, 80, 100, 90, 200]
    p = run_spc(_frame(num, den), chart="p").points
    p_bar = sum(num) / sum(den)
    for i, n in enumerate(den):
        sigma = math.sqrt(p_bar * (1 - p_bar) / n)
        assert p["y"][i] == pytest.approx(num[i] / n)
        assert p["upl"][i] == pytest.approx(min(1.0, p_bar + 3 * sigma))
        assert p["lpl"][i] == pytest.approx(max(0.0, p_bar - 3 * sigma))
        assert p["upper_2sigma"][i] == pytest.approx(p_bar + 2 * sigma)
    assert p["special_cause_type"][3] == "Above UCL"


def test_u_chart():
    num, den = [4, 6, 5, 20], [2.0, 3.0, 2.5, 2.0]
    u = run_spc(_frame(num, den), chart="u").points
    u_bar = sum(num) / sum(den)
    assert u["mean"][0] == pytest.approx(u_bar)
    assert u["upl"][1] == pytest.approx(u_bar + 3 * math.sqrt(u_bar / 3.0))


def test_c_chart_clamps_at_zero():
    c = run_spc(_frame([1.0, 0, 2, 1, 0, 1]), chart="c").points
    c_bar = 5 / 6
    assert c["upl"][0] == pytest.approx(c_bar + 3 * math.sqrt(c_bar))
    assert c["lpl"][0] == 0.0


def test_p_chart_needs_numerator_at_most_denominator():
    with pytest.raises(ValidationError, match="numerator"):
        run_spc(_frame([5, 12], [10, 10]), chart="p")
    with pytest.raises(ValidationError, match="missing column"):
        run_spc(_frame([5.0, 6.0]), chart="p")


def test_zero_denominator_is_a_missing_point():
    p = run_spc(_frame([1, 0, 2], [10, 0, 10]), chart="p").points
    assert np.isnan(p["y"][1]) and p["outside_limits"].isna()[1]
