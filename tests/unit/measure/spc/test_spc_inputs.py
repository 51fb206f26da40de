"""partnering.measure.spc.inputs: SPC input tables checked in the library, errors naming file, line, column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import IngestError
from partnering.measure.spc.inputs import check_options, check_points

pytestmark = pytest.mark.unit


def _text_frame(rows: list[list[str]], columns=("series", "x", "y")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns), dtype=str)


def _error(call) -> IngestError:
    with pytest.raises(IngestError) as info:
        call()
    return info.value


def test_clean_text_points_are_parsed():
    data = check_points(_text_frame([[" A ", "2021-01-01", " 1.5"], ["A", "2021-02-01", ""], ["B", "2021-01-01", "3"]]),
                        "in.csv")
    assert data["series"].tolist() == ["A", "A", "B"]
    assert data["x"].dtype == "datetime64[ns]" and str(data["x"].iloc[1].date()) == "2021-02-01"
    assert data["y"].iloc[0] == 1.5 and np.isnan(data["y"].iloc[1])


def test_typed_points_as_parquet_gives_them():
    typed = pd.DataFrame({"series": ["A", "A"], "x": pd.to_datetime(["2021-01-01", "2021-02-01"]).astype("M8[ms]"),
                          "y": [1.0, np.nan]})
    data = check_points(typed, "in.parquet", first_line=1, header_line=None)
    assert data["x"].dtype == "datetime64[ns]" and np.isnan(data["y"].iloc[1])
    whole = check_points(pd.DataFrame({"series": [1, 2], "x": [1, 1], "y": [0.5, 2]}), "in.parquet")
    assert whole["series"].tolist() == ["1", "2"] and whole["x"].dtype == np.int64


@pytest.mark.parametrize(
    ("rows", "line", "column", "reason"),
    [
        ([["A", "2021-01-01", "1"], ["", "2021-01-02", "2"]], 3, "series", "series is empty"),
        ([["A", "2021-01-01", "1"], ["A", "2021-01-02", "lots"]], 3, "y", "y must be a number or empty (got 'lots')"),
        ([["A", "2021-01-01", "nan"]], 2, "y", "y must be a number or empty (got 'nan')"),
        ([["A", "2021-01-01", "1"], ["A", "2021-01-02", "inf"]], 3, "y", "y must be a number or empty"),
        ([["A", "2021-01-01", "1"], ["A", "01/02/2021", "2"]], 3, "x", "x must be an ISO date (YYYY-MM-DD)"),
        ([["A", "2021-01-01", "1"], ["B", "2021-01-01", "1"], ["A", "2021-01-01", "2"]], 4, "x",
         "series 'A' already has a row for x = 2021-01-01"),
    ],
)
def test_bad_point_rows_name_line_and_column(rows, line, column, reason):
    err = _error(lambda: check_points(_text_frame(rows), "in.csv"))
    assert (err.file, err.row, err.column) == ("in.csv", line, column)
    assert reason in err.reason


def test_missing_column_names_the_header_line():
    err = _error(lambda: check_points(_text_frame([["A", "2021-01-01"]], ("series", "x")), "in.csv"))
    assert (err.row, err.column) == (1, None) and "missing column 'y'" in err.reason
    err = _error(lambda: check_points(_text_frame([["A", "2021-01-01"]], ("series", "x")), "in.parquet",
                                      first_line=1, header_line=None))
    assert err.row is None and err.user_message() == "in.parquet: missing column 'y' (need series, x, y)"


def test_parquet_rows_are_counted_from_one():
    typed = pd.DataFrame({"series": ["A", "A", "A"], "x": [1, 2, 2], "y": [1.0, 2.0, np.inf]})
    err = _error(lambda: check_points(typed, "in.parquet", first_line=1, header_line=None))
    assert (err.row, err.column) == (3, "y")
    typed["y"] = 1.0
    err = _error(lambda: check_points(typed, "in.parquet", first_line=1, header_line=None))
    assert (err.row, err.column) == (3, "x") and "already has a row for x = 2" in err.reason


@pytest.mark.parametrize(
    ("columns", "row", "line", "column", "reason"),
    [
        (("series", "target"), ["Z", "3"], 3, "series", "series 'Z' is not in the input"),
        (("series", "improvement_direction"), ["A", "up"], 3, "improvement_direction", "(got 'up')"),
        (("series", "fix_after_n_points"), ["A", "3"], 3, "fix_after_n_points", "whole number >= 12"),
        (("series", "fix_after_n_points"), ["A", "12.5"], 3, "fix_after_n_points", "whole number >= 12"),
        (("series", "target"), ["A", "high"], 3, "target", "must be a number (got 'high')"),
        (("series", "screen_outliers"), ["A", "perhaps"], 3, "screen_outliers", "TRUE or FALSE"),
        (("series", "colour"), ["A", "red"], 1, "colour", "unknown column"),
    ],
)
def test_bad_option_rows_name_line_and_column(columns, row, line, column, reason):
    frame = _text_frame([["B"] + [""] * (len(columns) - 1), row], columns)  # the bad row is on line 3
    err = _error(lambda: check_options(frame, ["A", "B"], "opt.csv"))
    assert (err.file, err.row, err.column) == ("opt.csv", line, column)
    assert reason in err.reason


def test_duplicate_option_series():
    frame = _text_frame([["A", "1"], ["A", "2"]], ("series", "target"))
    err = _error(lambda: check_options(frame, ["A"], "opt.csv"))
    assert (err.row, err.column) == (3, "series") and "appears more than once" in err.reason


def test_good_options_are_ready_for_the_engine():
    frame = _text_frame([["A", "Decrease", "90", "2021-01-11; 2021-06-01", "", "FALSE"], ["B", "", "", "", "12", ""]],
                        ("series", "improvement_direction", "target", "rebase", "fix_after_n_points",
                         "screen_outliers"))
    out = check_options(frame, ["A", "B"], "opt.csv")
    assert out["improvement_direction"].tolist()[0] == "decrease" and pd.isna(out["improvement_direction"].iloc[1])
    assert out["target"].iloc[0] == 90.0 and np.isnan(out["target"].iloc[1])
    assert np.isnan(out["fix_after_n_points"].iloc[0]) and out["fix_after_n_points"].iloc[1] == 12
    assert out["screen_outliers"].iloc[0] == "false" and pd.isna(out["screen_outliers"].iloc[1])
    assert out["rebase"].iloc[0] == "2021-01-11; 2021-06-01" and pd.isna(out["rebase"].iloc[1])
