"""Validate SPC options in one place, before any calculation.

Two kinds of option exist, each a pydantic model (https://docs.pydantic.dev/) that states the option
names, defaults and rules of NHSRplotthedots' ``ptd_spc_options()`` (0.2.2) in one declaration:

* run-wide settings (:class:`SpcSettings`): chart type, the 2023 two-in-three variant, the
  trend length and whether to write explanations;
* per-series options (:class:`SeriesOption`): improvement direction, target, rebase dates,
  ``fix_after_n_points`` and ``screen_outliers``. Keyword arguments give the default for every
  series; an options table (one row per series) overrides them.

The table is checked column-wise (no per-series Python loop: it may hold thousands of series); the
first bad row of a column is then validated through :class:`SeriesOption`, so one model decides
what is valid and words the reason. Every failure raises
:class:`partnering.errors.ValidationError` naming the series and the option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from partnering.errors import ValidationError

#: improvement direction -> sign used by the point-type logic (NHSRplotthedots: 1, 0, -1).
DIRECTIONS: dict[str, int] = {"increase": 1, "neutral": 0, "decrease": -1}
CHARTS: tuple[str, ...] = ("xmr", "p", "u", "c")
#: NHSRplotthedots refuses to fix limits on fewer than 12 points (ptd_spc_options).
MIN_FIX_AFTER_N_POINTS = 12
#: Allowed trend lengths. 7 is the reference and the MDC default; 6 is the shorter run some
#: NHS teams use (Making Data Count, "a run of six increasing or decreasing points").
TREND_POINTS_ALLOWED = (6, 7)
OPTION_COLUMNS = ("series", "improvement_direction", "target", "rebase", "fix_after_n_points", "screen_outliers")

#: spellings of TRUE/FALSE accepted for ``screen_outliers`` (R's ``as.logical`` and common CSV forms)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


# ------------------------------------------------------------------------------------------------ value rules


def _flag(value: Any) -> bool:
    """True or False only (numpy's too): no 1/0, no text."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ValueError("must be True or False")


def _trend_points(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError("must be 6 or 7")
    return int(value)


def _target(value: Any) -> float:
    """``None`` -> NaN (no target); otherwise a finite number (NaN also means no target)."""
    if value is None:
        return np.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None
    if isinstance(value, bool) or np.isinf(number):
        raise ValueError("must be a number")
    return number


def _fix_after(value: Any) -> float:
    """``None``/NaN -> inf (never fixed); otherwise a whole number >= 12 (NHSRplotthedots rule)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.inf
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = np.nan
    if isinstance(value, bool) or not np.isfinite(number) or number != int(number) or number < MIN_FIX_AFTER_N_POINTS:
        raise ValueError(f"must be a whole number >= {MIN_FIX_AFTER_N_POINTS}")
    return number


def _screen(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("must be TRUE or FALSE")


def _split_rebase(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]
    if isinstance(value, list | tuple | np.ndarray | pd.Series | pd.Index):
        return [v for v in value if not (isinstance(v, float) and np.isnan(v)) and v is not None and v != ""]
    return [value]


Flag = Annotated[bool, BeforeValidator(_flag)]


class SpcSettings(BaseModel):
    """Run-wide settings (same for every series)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chart: Literal["xmr", "p", "u", "c"] = "xmr"
    #: Making Data Count 2023: points beyond the limits count towards two-in-three (the reference: they don't)
    two_in_three_counts_outside: Flag = False
    trend_points: Annotated[Literal[6, 7], BeforeValidator(_trend_points)] = 7
    explain: Flag = True


class SeriesOption(BaseModel):
    """One series' options, or the defaults for every series (NHSRplotthedots ``ptd_spc_options`` defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    improvement_direction: Literal["increase", "neutral", "decrease"] = "increase"
    target: Annotated[float, BeforeValidator(_target)] = np.nan  # NaN: no target
    fix_after_n_points: Annotated[float, BeforeValidator(_fix_after)] = np.inf  # inf: limits never fixed
    screen_outliers: Annotated[bool, BeforeValidator(_screen)] = True
    #: dates or whole numbers; parsed against the kind of x once the data is known
    rebase: Annotated[list, BeforeValidator(_split_rebase)] = Field(default_factory=list)

    @property
    def direction(self) -> int:
        return DIRECTIONS[self.improvement_direction]


#: how each option's failure is worded (the model's field name -> text after "<option> ")
_REASONS = {
    "chart": lambda v: f"must be one of {', '.join(CHARTS)} (got {v!r})",
    "two_in_three_counts_outside": lambda v: "must be True or False",
    "trend_points": lambda v: f"must be 6 or 7 (got {v!r})",
    "explain": lambda v: "must be True or False",
    "improvement_direction": lambda v: f"must be one of increase, decrease, neutral (got {v!r})",
    "target": lambda v: f"must be a number (got {v!r})",
    "fix_after_n_points": lambda v: f"must be a whole number >= {MIN_FIX_AFTER_N_POINTS} (got {v!r})",
    "screen_outliers": lambda v: f"must be TRUE or FALSE (got {v!r})",
}


def _where(series_label: Any) -> str:
    return "all series" if series_label is None else f"series {series_label!r}"


def _first_problem(exc: pydantic.ValidationError, given: dict) -> str:
    err = exc.errors(include_url=False)[0]
    name = str(err["loc"][0])
    reason = _REASONS.get(name)
    return f"{name} {reason(given.get(name))}" if reason else f"{name}: {err['msg']}"


def validate_settings(chart: str, two_in_three_counts_outside: Any, trend_points: Any, explain: Any) -> SpcSettings:
    """Check the run-wide settings and return them frozen."""
    given = {"chart": chart, "two_in_three_counts_outside": two_in_three_counts_outside,
             "trend_points": trend_points, "explain": explain}
    try:
        return SpcSettings.model_validate(given)
    except pydantic.ValidationError as exc:
        raise ValidationError(_first_problem(exc, given)) from None


def series_option(series_label: Any = None, **given: Any) -> SeriesOption:
    """Validate one series' options (``series_label`` None: the defaults for all series)."""
    try:
        return SeriesOption.model_validate(given)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"{_where(series_label)}: {_first_problem(exc, given)}") from None


def check_direction(value: Any, series_label: Any = None) -> int:
    return series_option(series_label, improvement_direction=value).direction


def check_fix_after(value: Any, series_label: Any = None) -> float:
    """``None``/NaN means never fix; otherwise a whole number >= 12 (NHSRplotthedots rule)."""
    return series_option(series_label, fix_after_n_points=value).fix_after_n_points


def check_target(value: Any, series_label: Any = None) -> float:
    return series_option(series_label, target=value).target


def check_screen(value: Any, series_label: Any = None) -> bool:
    return series_option(series_label, screen_outliers=value).screen_outliers


@dataclass
class SeriesOptions:
    """Per-series options, aligned with the engine's series codes (0..n_series-1)."""

    direction: np.ndarray  # int8: 1 increase, 0 neutral, -1 decrease
    target: np.ndarray  # float64, NaN = no target
    fix_after_n_points: np.ndarray  # float64, inf = never fixed
    screen_outliers: np.ndarray  # bool
    rebase_series: np.ndarray  # int64 series code of each rebase date
    rebase_x: pd.Series  # the rebase dates / integers (same kind as x)


def parse_x(values: pd.Series | np.ndarray | list, *, what: str = "x") -> tuple[np.ndarray, str]:
    """Parse x values to ``datetime64[ns]`` (ISO dates) or ``int64`` (period numbers).

    Returns the parsed array and its kind, ``"date"`` or ``"integer"``. Raises ``ValueError``
    with the first bad value's position so callers can name the row.
    """
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if s.isna().any():
            raise ValueError(f"{what} is missing", int(np.flatnonzero(s.isna().to_numpy())[0]))
        return s.to_numpy(dtype="datetime64[ns]"), "date"
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        if s.isna().any():
            raise ValueError(f"{what} is missing", int(np.flatnonzero(s.isna().to_numpy())[0]))
        return s.to_numpy(dtype=np.int64), "integer"
    if pd.api.types.is_float_dtype(s.dtype):
        arr = s.to_numpy(dtype=float)
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(f"{what} must be an ISO date or a whole number", int(np.flatnonzero(bad)[0]))
        return arr.astype(np.int64), "integer"
    text = s.astype("string").str.strip()
    as_int = pd.to_numeric(text.where(text.str.fullmatch(r"-?\d+").fillna(False)), errors="coerce")
    if len(text) and as_int.notna().all():
        return as_int.to_numpy(dtype=np.int64), "integer"
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise ValueError(f"{what} must be an ISO date (YYYY-MM-DD) or a whole number", int(np.flatnonzero(bad)[0]))
    return parsed.to_numpy(dtype="datetime64[ns]"), "date"


def _text(col: pd.Series) -> pd.Series:
    """The column as stripped text (no copy for columns that already hold text)."""
    if not isinstance(col.dtype, pd.StringDtype):
        col = col.astype("string")
    return col.str.strip()


def _split_text(text: pd.Series) -> pd.Series:
    """Split ';'- or ','-separated dates: one value per date, indexed by the row it came from."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(text.array, type=pa.large_string()) if len(text) else pa.array([], pa.large_string())
    arr = pc.fill_null(arr, "")
    parts = pc.split_pattern(pc.replace_substring(arr, ",", ";"), ";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    parent = pc.list_parent_indices(parts).to_numpy()
    keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
    values = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=object)[keep]
    return pd.Series(values, index=text.index.to_numpy()[parent[keep]], dtype=object)


def _given(col: pd.Series) -> np.ndarray:
    """Rows where the option is given (not missing, not blank)."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return col.notna().to_numpy()
    return (_text(col).fillna("") != "").to_numpy(dtype=bool)


def resolve_series_options(
    labels: pd.Index,
    x_kind: str,
    options: pd.DataFrame | None,
    *,
    improvement_direction: str,
    target: Any,
    rebase: Any,
    fix_after_n_points: Any,
    screen_outliers: Any,
) -> SeriesOptions:
    """Combine keyword defaults with the per-series options table, validated column-wise.

    ``labels`` are the series labels in engine order. Unknown series in ``options`` are an error.
    """
    n = len(labels)
    defaults = series_option(None, improvement_direction=improvement_direction, target=target,
                             fix_after_n_points=fix_after_n_points, screen_outliers=screen_outliers, rebase=rebase)
    direction = np.full(n, defaults.direction, dtype=np.int8)
    target_arr = np.full(n, defaults.target, dtype=float)
    fix_arr = np.full(n, defaults.fix_after_n_points, dtype=float)
    screen_arr = np.full(n, defaults.screen_outliers, dtype=bool)
    default_rebase = defaults.rebase
    rb_series = [np.repeat(np.arange(n, dtype=np.int64), len(default_rebase))]
    rb_values: list = [pd.Series(list(default_rebase) * n, dtype=object)]

    if options is not None and len(options):
        if "series" not in options.columns:
            raise ValidationError("options: the column 'series' is required")
        unknown_cols = [c for c in options.columns if c not in OPTION_COLUMNS]
        if unknown_cols:
            raise ValidationError(f"options: unknown column(s) {', '.join(map(repr, unknown_cols))}")
        opt = options.reset_index(drop=True)
        dup = opt["series"].duplicated()
        if dup.any():
            raise ValidationError(f"options: series {opt['series'][dup].iloc[0]!r} appears more than once")
        codes = labels.get_indexer(opt["series"])
        if (codes < 0).any():
            missing = opt["series"][codes < 0].iloc[0]
            raise ValidationError(f"options: series {missing!r} is not in the data")
        series_of = opt["series"].to_numpy()

        def first_bad(mask: np.ndarray) -> int:
            return int(np.flatnonzero(mask)[0])

        if "improvement_direction" in opt:
            col = opt["improvement_direction"]
            given = _given(col)
            values = _text(col).str.lower()
            mapped = values.map(DIRECTIONS)
            bad = given & mapped.isna().to_numpy()
            if bad.any():
                i = first_bad(bad)
                check_direction(col.iloc[i], series_of[i])
            direction[codes[given]] = mapped[given].to_numpy(dtype=np.int8)
        if "target" in opt:
            col = opt["target"]
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            given = _given(col)
            bad = given & ~np.isfinite(num)
            if bad.any():
                i = first_bad(bad)
                raise ValidationError(f"{_where(series_of[i])}: target {_REASONS['target'](col.iloc[i])}")
            target_arr[codes[given]] = num[given]
        if "fix_after_n_points" in opt:
            col = opt["fix_after_n_points"]
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            given = _given(col)
            bad = given & (~np.isfinite(num) | (num != np.round(num)) | (num < MIN_FIX_AFTER_N_POINTS))
            if bad.any():
                i = first_bad(bad)
                check_fix_after(col.iloc[i], series_of[i])
            fix_arr[codes[given]] = num[given]
        if "screen_outliers" in opt:
            col = opt["screen_outliers"]
            if pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
                screen_arr[codes] = col.to_numpy(dtype=bool)
            else:
                text = _text(col).str.lower()
                given = _given(col)
                is_true = text.isin(_TRUE).to_numpy()
                is_false = text.isin(_FALSE).to_numpy()
                bad = given & ~(is_true | is_false)
                if bad.any():
                    i = first_bad(bad)
                    check_screen(col.iloc[i], series_of[i])
                screen_arr[codes[given]] = is_true[given]
        if "rebase" in opt:
            col = opt["rebase"]
            if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
                text = _split_text(_text(col))
            else:  # lists of dates in an object column
                text = col.map(_split_rebase).explode()
                text = text[text.notna() & (text.astype("string") != "")]
            rows = text.index.to_numpy(dtype=np.int64)
            # a series listed with rebase dates replaces the keyword default for that series
            override = np.zeros(n, dtype=bool)
            override[codes[rows]] = True
            keep = ~override[rb_series[0]]
            rb_series[0] = rb_series[0][keep]
            rb_values[0] = rb_values[0][keep].reset_index(drop=True)
            rb_series.append(codes[rows].astype(np.int64))
            rb_values.append(pd.Series(text.to_numpy(dtype=object), dtype=object))

    rebase_series = np.concatenate(rb_series) if rb_series else np.zeros(0, dtype=np.int64)
    rebase_values = pd.concat(rb_values, ignore_index=True) if rb_values else pd.Series([], dtype=object)
    if len(rebase_values):
        try:
            parsed, kind = parse_x(rebase_values, what="rebase")
        except ValueError as exc:
            i = exc.args[1]
            raise ValidationError(
                f"{_where(labels[rebase_series[i]])}: rebase {rebase_values.iloc[i]!r} "
                "is not an ISO date or a whole number"
            ) from None
        if kind != x_kind:
            i = 0
            raise ValidationError(
                f"{_where(labels[rebase_series[i]])}: rebase {rebase_values.iloc[i]!r} is a {kind} "
                f"but x holds {x_kind}s"
            )
        rebase_x = pd.Series(parsed)
    else:
        rebase_x = pd.Series(np.zeros(0, dtype="datetime64[ns]" if x_kind == "date" else np.int64))
    return SeriesOptions(direction, target_arr, fix_arr, screen_arr, rebase_series, rebase_x)
