"""Option validation: one place, messages naming the series and the option."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.measure.spc import run_spc

pytestmark = pytest.mark.unit


@pytest.fixture
def data() -> pd.DataFrame:
    dates = pd.date_range("2022-01-01", periods=15, freq="MS")
    return pd.DataFrame({"series": np.repeat(["A", "B"], 15), "x": np.tile(dates, 2), "y": np.arange(30.0) % 7})


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"improvement_direction": "up"}, r"series 'A'.*improvement_direction"),
        ({"target": "lots"}, r"series 'A'.*target"),
        ({"fix_after_n_points": 5}, r"series 'A'.*fix_after_n_points.*>= 12"),
        ({"fix_after_n_points": 12.5}, r"series 'A'.*fix_after_n_points"),
        ({"screen_outliers": "maybe"}, r"series 'A'.*screen_outliers"),
        ({"rebase": "2022-13-45"}, r"series 'A'.*rebase"),
    ],
)
def test_bad_option_rows_name_series_and_option(data, row, match):
    with pytest.raises(ValidationError, match=match):
        run_spc(data, pd.DataFrame([{"series": "A", **row}]))


def test_unknown_series_and_duplicates_in_options(data):
    with pytest.raises(ValidationError, match="series 'Z' is not in the data"):
        run_spc(data, pd.DataFrame({"series": ["Z"], "target": [1]}))
    with pytest.raises(ValidationError, match="'A' appears more than once"):
        run_spc(data, pd.DataFrame({"series": ["A", "A"], "target": [1, 2]}))
    with pytest.raises(ValidationError, match="unknown column"):
        run_spc(data, pd.DataFrame({"series": ["A"], "colour": ["red"]}))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"improvement_direction": "sideways"}, "improvement_direction"),
        ({"fix_after_n_points": 11}, "fix_after_n_points"),
        ({"chart": "xbar"}, "chart"),
        ({"trend_points": 5}, "trend_points"),
        ({"two_in_three_counts_outside": "yes"}, "two_in_three_counts_outside"),
        ({"rebase": [3]}, "rebase"),
    ],
)
def test_bad_keywords(data, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        run_spc(data, **kwargs)


def test_options_override_keyword_defaults_per_series(data):
    options = pd.DataFrame(
        {
            "series": ["B"],
            "improvement_direction": ["decrease"],
            "target": [3.0],
            "rebase": ["2022-06-01;2022-09-01"],
            "fix_after_n_points": [""],
            "screen_outliers": ["FALSE"],
        }
    )
    points = run_spc(data, options, target=1.0, rebase="2022-03-01").points
    a, b = points[points["series"] == "A"], points[points["series"] == "B"]
    assert (a["target"] == 1.0).all() and (b["target"] == 3.0).all()
    assert a["rebase_group"].max() == 1 and b["rebase_group"].max() == 2
    assert a.loc[a["x"] == "2022-03-01", "rebase_group"].item() == 1


def test_missing_columns_and_bad_values(data):
    with pytest.raises(ValidationError, match="missing column"):
        run_spc(data.drop(columns="y"))
    with pytest.raises(ValidationError, match=r"row 3 \(series 'A'\), column 'y'"):
        run_spc(data.assign(y=data["y"].astype(object).where(data.index != 2, "n/a")))
    with pytest.raises(ValidationError, match="column 'x'"):
        run_spc(data.assign(x=data["x"].astype(str).where(data.index != 4, "2022-02-30")))
