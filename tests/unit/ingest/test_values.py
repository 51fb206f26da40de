"""Cell parsing: the strings real NHS files contain."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from partnering.ingest.values import CellError, month_from_text, parse_number, parse_numbers

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text,expected",
    [("1,105", 1105.0), ("53.80%", 53.8), ("-", 0.0), (" 7 ", 7.0), ("0", 0.0), ("1,234,567", 1234567.0),
     ("16.3", 16.3), ("2.80%", 2.8), ("\u00a012", 12.0)],
)
def test_parse_number_real_spellings(text, expected):
    assert parse_number(text) == pytest.approx(expected)


def test_parse_number_empty_is_missing_and_junk_is_an_error():
    assert math.isnan(parse_number(""))
    assert math.isnan(parse_number("-", dash_is_zero=False))
    with pytest.raises(CellError, match="'abc' is not a number"):
        parse_number("abc")


@given(st.integers(min_value=0, max_value=10**9))
def test_thousands_separators_round_trip(n):
    assert parse_number(f"{n:,}") == n
    assert parse_number(f'{n:,}  ') == n


@given(st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 2)))
def test_percent_strings_round_trip(x):
    assert parse_number(f"{x:.2f}%") == pytest.approx(x)


@given(st.lists(st.one_of(st.integers(0, 10**6).map(lambda n: f"{n:,}"), st.just("-"), st.just(""),
                          st.text(alphabet="xyz!", min_size=1, max_size=3)), max_size=50))
def test_vectorised_equals_scalar(cells):
    vals, bad = parse_numbers(pd.Series(cells, dtype=object))
    for c, v, b in zip(cells, vals, bad):
        try:
            expected = parse_number(c)
            assert not b
            assert (np.isnan(v) and np.isnan(expected)) or v == expected
        except CellError:
            assert b and np.isnan(v)


@pytest.mark.parametrize(
    "text,month",
    [("MSitAE-MARCH-2026", "2026-03"), ("Monthly-AE-April-2024-revised.csv", "2024-04"),
     ("Incomplete-Provider-Mar25-XLSX-9M-38145.csv", "2025-03"), ("2025-11", "2025-11"),
     ("September 2023", "2023-09"), ("no month here", None), ("report-2025-13.csv", None),
     ("Smarch 2026", None), ("summary-jan-2025.csv", "2025-01")],
)
def test_month_from_text(text, month):
    assert month_from_text(text) == month


@given(st.integers(2000, 2099), st.integers(1, 12))
def test_iso_month_always_found(y, m):
    assert month_from_text(f"file-{y}-{m:02d}.csv") == f"{y}-{m:02d}"
