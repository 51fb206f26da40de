"""The SPC options as pydantic models: names, defaults and rules of NHSRplotthedots ptd_spc_options."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pydantic
import pytest

from partnering.errors import IngestError, ValidationError
from partnering.measure.spc import run_spc
from partnering.measure.spc.options import SeriesOption, SpcSettings, series_option, validate_settings

pytestmark = pytest.mark.unit


def test_defaults_are_the_reference_ones():
    s = SpcSettings()
    assert (s.chart, s.two_in_three_counts_outside, s.trend_points, s.explain) == ("xmr", False, 7, True)
    o = SeriesOption()
    assert o.improvement_direction == "increase" and o.direction == 1
    assert math.isnan(o.target) and o.fix_after_n_points == math.inf and o.screen_outliers is True
    assert o.rebase == []


def test_settings_are_frozen_and_closed():
    s = SpcSettings()
    with pytest.raises(pydantic.ValidationError):
        s.chart = "p"
    with pytest.raises(pydantic.ValidationError):
        SpcSettings(colour="red")


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"trend_points": np.int64(6)}, 6),
    ({"two_in_three_counts_outside": np.bool_(True)}, True),
    ({"chart": "u"}, "u"),
])
def test_settings_accept_numpy_scalars(kwargs, expected):
    given = {"chart": "xmr", "two_in_three_counts_outside": False, "trend_points": 7, "explain": True, **kwargs}
    s = validate_settings(**given)
    assert getattr(s, next(iter(kwargs))) == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("chart", "xbar", "chart must be one of xmr, p, u, c (got 'xbar')"),
    ("trend_points", 6.0, "trend_points must be 6 or 7 (got 6.0)"),
    ("trend_points", True, "trend_points must be 6 or 7 (got True)"),
    ("trend_points", 8, "trend_points must be 6 or 7 (got 8)"),
    ("explain", 1, "explain must be True or False"),
    ("two_in_three_counts_outside", "yes", "two_in_three_counts_outside must be True or False"),
])
def test_settings_errors_say_which_and_why(name, value, message):
    given = {"chart": "xmr", "two_in_three_counts_outside": False, "trend_points": 7, "explain": True, name: value}
    with pytest.raises(ValidationError) as exc:
        validate_settings(**given)
    assert str(exc.value) == message


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("target", "3.5", 3.5),
    ("target", None, float("nan")),
    ("fix_after_n_points", "12", 12.0),
    ("fix_after_n_points", 12.0, 12.0),
    ("fix_after_n_points", float("nan"), math.inf),
    ("fix_after_n_points", None, math.inf),
    ("screen_outliers", " No ", False),
    ("screen_outliers", "T", True),
    ("screen_outliers", np.bool_(False), False),
    ("rebase", "2022-01-01; 2022-06-01,", ["2022-01-01", "2022-06-01"]),
    ("improvement_direction", "neutral", "neutral"),
])
def test_series_option_values(name, value, expected):
    got = getattr(series_option("A", **{name: value}), name)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("improvement_direction", "INCREASE", "series 'A': improvement_direction must be one of increase, decrease, "
                                          "neutral (got 'INCREASE')"),
    ("target", True, "series 'A': target must be a number (got True)"),
    ("target", float("inf"), "series 'A': target must be a number (got inf)"),
    ("target", "lots", "series 'A': target must be a number (got 'lots')"),
    ("fix_after_n_points", 11, "series 'A': fix_after_n_points must be a whole number >= 12 (got 11)"),
    ("fix_after_n_points", 12.5, "series 'A': fix_after_n_points must be a whole number >= 12 (got 12.5)"),
    ("fix_after_n_points", True, "series 'A': fix_after_n_points must be a whole number >= 12 (got True)"),
    ("screen_outliers", 1, "series 'A': screen_outliers must be TRUE or FALSE (got 1)"),
    ("screen_outliers", "maybe", "series 'A': screen_outliers must be TRUE or FALSE (got 'maybe')"),
])
def test_series_option_errors_name_series_option_and_value(name, value, message):
    with pytest.raises(ValidationError) as exc:
        series_option("A", **{name: value})
    assert str(exc.value) == message


def test_keyword_defaults_are_checked_for_all_series():
    data = pd.DataFrame({"series": ["A"] * 12, "x": range(12), "y": np.arange(12.0)})
    with pytest.raises(ValidationError, match=r"^all series: screen_outliers must be TRUE or FALSE \(got 0\)$"):
        run_spc(data, screen_outliers=0)


def test_pydantic_row_errors_become_file_row_column_reason():
    rows = [{"target": 1}, {"target": 2, "fix_after_n_points": 5}]
    with pytest.raises(pydantic.ValidationError) as exc:
        pydantic.TypeAdapter(list[SeriesOption]).validate_python(rows)
    err = IngestError.from_validation(exc.value, "options.csv", first_line=2)
    assert (err.file, err.row, err.column) == ("options.csv", 3, "fix_after_n_points")
    assert err.reason == "must be a whole number >= 12 (got 5)"
    assert str(err) == "options.csv, line 3, column 'fix_after_n_points': must be a whole number >= 12 (got 5)"


def test_other_errors_keep_their_text():
    err = IngestError.from_validation(ValueError("bad header"), "in.csv", row=1)
    assert (err.row, err.column, err.reason) == (1, None, "bad header")
