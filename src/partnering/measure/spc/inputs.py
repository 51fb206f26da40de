"""Check SPC input tables as read from a user's file, naming the file, line, column and reason.

:func:`partnering.measure.spc.run_spc` validates the values it is given and names the series and
option at fault; a user who handed over a *file* also wants the line to fix. These checks run on
the table as read (CSV read as text, or Parquet with its own types), column-wise with numpy (no
per-row Python loop: a points file has hundreds of thousands of rows), and raise
:class:`partnering.errors.IngestError` for the first bad row. For the options file the rule itself is
the library's pydantic model :class:`partnering.measure.spc.options.SeriesOption` (NHSRplotthedots
0.2.2 ``ptd_spc_options``): a vectorised pre-check finds the rows that may break it, and the model
judges them and words the reason (:meth:`IngestError.from_validation`), so the file and the Python
API refuse the same values with the same words.

Line numbers: ``first_line`` is the line of the first data row (2 for a CSV file with a header on
line 1) and ``header_line`` the line of the header (``None`` for Parquet, which has none: a row
number there is the 1-based row of the table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.measure.spc.options import (
    DIRECTIONS,
    MIN_FIX_AFTER_N_POINTS,
    OPTION_COLUMNS,
    SeriesOption,
    parse_x,
)

POINT_COLUMNS = ("series", "x", "y")
#: Text accepted for screen_outliers, as partnering.measure.spc.options accepts it (R's TRUE/FALSE and friends).
SCREEN_TRUE = ("true", "t", "yes", "y", "1")
SCREEN_FALSE = ("false", "f", "no", "n", "0")


class _Where:
    """Turns a 0-based row position into the line (or row) a user sees in the file."""

    def __init__(self, source: str, first_line: int, header_line: int | None):
        self.source, self.first_line, self.header_line = source, first_line, header_line

    def header(self, reason: str, column: str | None = None) -> IngestError:
        return IngestError(self.source, reason, row=self.header_line, column=column)

    def row(self, mask, reason, column: str) -> IngestError:
        """Error for the first row where ``mask`` is true; ``reason`` may be a function of that row."""
        i = int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])
        return IngestError(self.source, reason(i) if callable(reason) else reason, row=self.first_line + i,
                           column=column)


def _text(col: pd.Series) -> pd.Series:
    """The column as stripped text, missing as ''."""
    if not (pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype)):
        col = col.astype("string")
    return col.fillna("").str.strip()


def _shown(col: pd.Series, i: int) -> str:
    value = col.iloc[i]
    return repr(value.strip() if isinstance(value, str) else value)


def check_points(frame: pd.DataFrame, source: str, *, first_line: int = 2, header_line: int | None = 1
                 ) -> pd.DataFrame:
    """Check a ``series, x, y`` table and return it clean: series (text), x (dates or whole numbers), y (float).

    Rules: every row names a series; y is a number or empty (empty = missing); x is an ISO date
    (YYYY-MM-DD) or a whole number; a series has at most one row for each x.
    """
    where = _Where(source, first_line, header_line)
    frame = frame.rename(columns=lambda c: str(c).strip())
    for column in POINT_COLUMNS:
        if column not in frame.columns:
            raise where.header(f"missing column '{column}' (need series, x, y)")
    series = _text(frame["series"])
    empty = (series == "").to_numpy(dtype=bool)
    if empty.any():
        raise where.row(empty, "series is empty", "series")

    raw_y = frame["y"]
    if pd.api.types.is_numeric_dtype(raw_y.dtype) and not pd.api.types.is_bool_dtype(raw_y.dtype):
        y = raw_y.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(y)
    else:
        y_text = _text(raw_y)
        y = pd.to_numeric(y_text.where(y_text != ""), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = (np.isnan(y) & (y_text != "").to_numpy(dtype=bool)) | np.isinf(y)
    if bad.any():
        raise where.row(bad, lambda i: f"y must be a number or empty (got {_shown(raw_y, i)})", "y")

    try:
        x, _ = parse_x(frame["x"])
    except ValueError as exc:
        i = exc.args[1]
        raise IngestError(
            source, f"x must be an ISO date (YYYY-MM-DD) or a whole number (got {_shown(frame['x'], i)})",
            row=first_line + i, column="x",
        ) from None

    data = pd.DataFrame({"series": series.reset_index(drop=True), "x": x, "y": y})
    # one integer key per (series, x): hashing 600,000 int64 keys is ~10x faster than a two-column duplicated()
    series_code, _ = pd.factorize(series.array)
    x_code, x_values = pd.factorize(x.view(np.int64))
    dup = pd.Series(series_code.astype(np.int64) * len(x_values) + x_code).duplicated().to_numpy()
    if dup.any():
        raise where.row(
            dup, lambda i: f"series {series.iloc[i]!r} already has a row for x = {_x_text(frame['x'], i)}", "x"
        )
    return data


def _x_text(col: pd.Series, i: int) -> str:
    value = col.iloc[i]
    if isinstance(value, pd.Timestamp | np.datetime64):
        return str(pd.Timestamp(value).date())
    return str(value).strip()


def _refuse_rows(where: _Where, suspect: np.ndarray, column: str, values: np.ndarray) -> None:
    """Let the library's option model judge the suspect rows; the first it refuses becomes the error."""
    import pydantic

    for i in np.flatnonzero(suspect):
        try:
            SeriesOption.model_validate({column: values[i]})
        except pydantic.ValidationError as exc:
            raise IngestError.from_validation(exc, where.source, row=where.first_line + int(i)) from None


def check_options(frame: pd.DataFrame, known_series, source: str, *, first_line: int = 2,
                  header_line: int | None = 1) -> pd.DataFrame:
    """Check a per-series options table (one row per series) and return it ready for ``run_spc``.

    Columns: series (required), improvement_direction (increase, decrease, neutral), target (a
    number), rebase (dates separated by ';'), fix_after_n_points (a whole number >= 12,
    NHSRplotthedots' minimum), screen_outliers (TRUE/FALSE). Empty cells take the run-wide value.
    Rebase dates are checked by the engine (they must match the kind of x).
    """
    where = _Where(source, first_line, header_line)
    frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    if "series" not in frame.columns:
        raise where.header("missing column 'series'")
    unknown = [c for c in frame.columns if c not in OPTION_COLUMNS]
    if unknown:
        raise where.header(f"unknown column (expected {', '.join(OPTION_COLUMNS)})", unknown[0])
    series = _text(frame["series"])
    missing = pd.Index(known_series).get_indexer(series.to_numpy(dtype=object)) < 0
    if missing.any():
        raise where.row(missing, lambda i: f"series {series.iloc[i]!r} is not in the input", "series")
    dup = series.duplicated().to_numpy()
    if dup.any():
        raise where.row(dup, lambda i: f"series {series.iloc[i]!r} appears more than once", "series")
    out = pd.DataFrame({"series": series.to_numpy(dtype=object)})

    if "improvement_direction" in frame.columns:
        text = _text(frame["improvement_direction"]).str.lower()
        values = text.to_numpy(dtype=object)
        _refuse_rows(where, (values != "") & ~np.isin(values, list(DIRECTIONS)), "improvement_direction", values)
        out["improvement_direction"] = text.where(text != "").to_numpy(dtype=object)
    for column in ("target", "fix_after_n_points"):
        if column not in frame.columns:
            continue
        col = frame[column]
        if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            num = col.to_numpy(dtype=float, na_value=np.nan)
            given, values = ~np.isnan(num), num
        else:
            text = _text(col)
            values = text.to_numpy(dtype=object)
            given = values != ""
            num = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if pd.api.types.is_bool_dtype(col.dtype):
                values, num = col.to_numpy(dtype=object), np.full(len(col), np.nan)
        with np.errstate(invalid="ignore"):
            suspect = given & ~np.isfinite(num)
            if column == "fix_after_n_points":
                suspect |= given & ((num != np.round(num)) | (num < MIN_FIX_AFTER_N_POINTS))
        _refuse_rows(where, suspect, column, values)
        out[column] = np.where(given, num, np.nan)
    if "screen_outliers" in frame.columns:
        col = frame["screen_outliers"]
        if pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
            out["screen_outliers"] = col.to_numpy(dtype=bool)
        else:
            text = _text(col).str.lower()
            values = text.to_numpy(dtype=object)
            _refuse_rows(where, (values != "") & ~np.isin(values, SCREEN_TRUE + SCREEN_FALSE), "screen_outliers",
                         values)
            out["screen_outliers"] = text.where(text != "").to_numpy(dtype=object)
    if "rebase" in frame.columns:
        text = _text(frame["rebase"])
        out["rebase"] = text.where(text != "").to_numpy(dtype=object)
    return out
