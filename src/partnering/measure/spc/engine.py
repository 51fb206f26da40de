"""The SPC pipeline for many series at once: validate -> limits -> rules -> point types -> icons.

Data for every series is held in one flat array sorted by (series, x). Rebase dates cut each
series into groups; every calculation is segment-wise numpy (``bincount``, cumulative maxima),
never a Python loop over series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from partnering.errors import ValidationError
from partnering.measure.spc import attribute, explain, icons, limits, point_types, rules
from partnering.measure.spc.options import (
    SeriesOptions,
    SpcSettings,
    parse_x,
    resolve_series_options,
    validate_settings,
)
from partnering.measure.spc.segments import Segments

#: Groups with fewer points than this carry a short-group warning (NHSRplotthedots
#: ``ptd_add_short_group_warnings``, option ``ptd_spc.warning_threshold`` default 13).
SHORT_GROUP_THRESHOLD = 13


@dataclass
class SpcResult:
    """Per-point results and per-series icons.

    ``points`` columns: series, x, y, rebase_group, mean, lpl, upl, lower_2sigma, upper_2sigma,
    outside_limits, relative_to_mean, close_to_limits (nullable: missing where y is missing),
    special_cause_type, special_cause_flag, point_type, short_group_warning, target, explanation.
    For P/U charts also numerator and denominator. ``icons`` columns: series, variation_icon,
    assurance_type (missing when there is none). Label spellings are the reference's.
    """

    points: pd.DataFrame
    icons: pd.DataFrame
    settings: SpcSettings = field(default_factory=SpcSettings)


@dataclass
class _Prepared:
    labels: pd.Index
    code: np.ndarray  # series code per row (sorted)
    x: np.ndarray  # datetime64[ns] or int64, sorted
    x_kind: str
    y: np.ndarray
    numerator: np.ndarray | None
    denominator: np.ndarray | None
    series_start: np.ndarray  # bool per row
    series_values: Any  # the series column in sorted order (as given)

    @property
    def series_sizes(self) -> np.ndarray:
        starts = np.flatnonzero(self.series_start)
        return np.diff(np.append(starts, len(self.code)))

    def per_row(self, per_series: np.ndarray) -> np.ndarray:
        """A value per series code -> the value on every row of that series."""
        return np.repeat(per_series[self.code[self.series_start]], self.series_sizes)


def _row_error(data: pd.DataFrame, i: int, column: str, reason: str) -> ValidationError:
    series = data["series"].iloc[i] if "series" in data.columns else None
    return ValidationError(f"data row {i + 1} (series {series!r}), column {column!r}: {reason}")


def _numeric(data: pd.DataFrame, column: str) -> np.ndarray:
    col = data[column]
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=float, na_value=np.nan)
    num = pd.to_numeric(col, errors="coerce")
    text = col.astype("string").str.strip()
    bad = (num.isna() & text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _row_error(data, i, column, f"must be a number (got {col.iloc[i]!r})")
    return num.to_numpy(dtype=float, na_value=np.nan)


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    try:
        code, labels = pd.factorize(values, sort=True)
    except TypeError:  # labels of mixed types cannot be sorted
        code, labels = pd.factorize(values, sort=False)
    return code.astype(np.int64), pd.Index(labels)


def _series_codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per row and the sorted labels.

    Data usually arrives with each series in one block of rows; then only the first row of each
    block is hashed (comparing neighbours is much cheaper than hashing every row).
    """
    n = len(series)
    if n < 2:
        return _factorize(series)
    arr = series.array
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        chunked = pa.chunked_array([pa.array(arr)]) if not isinstance(pa.array(arr), pa.ChunkedArray) else pa.array(arr)
        change = pc.not_equal(chunked.slice(1), chunked.slice(0, n - 1)).to_numpy()
    elif isinstance(series.dtype, pd.CategoricalDtype):
        codes = arr.codes
        change = codes[1:] != codes[:-1]
    elif pd.api.types.is_numeric_dtype(series.dtype) or series.dtype == object:
        values = series.to_numpy()
        change = values[1:] != values[:-1]
    else:
        return _factorize(series)
    heads = np.flatnonzero(np.concatenate(([True], np.asarray(change, dtype=bool))))
    head_codes, labels = _factorize(series.iloc[heads])
    if len(labels) != len(heads):  # some series is split over several blocks
        return _factorize(series)
    return np.repeat(head_codes, np.diff(np.append(heads, n))), labels


def _prepare(data: pd.DataFrame, settings: SpcSettings) -> _Prepared:
    if not isinstance(data, pd.DataFrame):
        raise ValidationError("data must be a pandas DataFrame with columns series, x, y")
    needed = ["series", "x"]
    if settings.chart in ("p", "u"):
        needed += ["numerator", "denominator"]
    else:
        needed += ["y"]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValidationError(f"data: missing column(s) {', '.join(missing)} (chart {settings.chart!r})")
    if data["series"].isna().any():
        raise _row_error(data, int(np.flatnonzero(data["series"].isna().to_numpy())[0]), "series", "is missing")
    try:
        x, x_kind = parse_x(data["x"])
    except ValueError as exc:
        raise _row_error(data, exc.args[1], "x", exc.args[0].removeprefix("x ")) from None
    numerator = denominator = None
    if settings.chart in ("p", "u"):
        numerator = _numeric(data, "numerator")
        denominator = _numeric(data, "denominator")
        bad = (denominator < 0) | (numerator < 0)
        if settings.chart == "p":
            bad |= numerator > denominator
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            reason = "numerator and denominator must be >= 0" + (
                " with numerator <= denominator" if settings.chart == "p" else ""
            )
            raise _row_error(data, i, "numerator", reason)
        y = attribute.proportion_values(numerator, denominator)
    else:
        y = _numeric(data, "y")
        if np.isinf(y).any():
            raise _row_error(data, int(np.flatnonzero(np.isinf(y))[0]), "y", "must be finite")
        if settings.chart == "c" and (np.nan_to_num(y) < 0).any():
            raise _row_error(data, int(np.flatnonzero(np.nan_to_num(y) < 0)[0]), "y", "counts must be >= 0")
    code, labels = _series_codes(data["series"])
    n = len(code)
    xi = x.view(np.int64)
    if n > 1:
        same = code[1:] == code[:-1]
        ordered = bool(np.all((code[1:] > code[:-1]) | (same & (xi[1:] > xi[:-1]))))
    else:
        ordered = True
    series_values = data["series"].array
    if not ordered:
        order = np.lexsort((xi, code))
        code, x, y = code[order], x[order], y[order]
        series_values = series_values.take(order)
        if numerator is not None:
            numerator, denominator = numerator[order], denominator[order]
        xi = x.view(np.int64)
    if n > 1:
        dup = (code[1:] == code[:-1]) & (xi[1:] == xi[:-1])
        if dup.any():
            j = int(np.flatnonzero(dup)[0]) + 1
            shown = pd.Timestamp(x[j]).date().isoformat() if x_kind == "date" else int(x[j])
            raise ValidationError(f"data: series {labels[code[j]]!r} has more than one row for x = {shown}")
    series_start = np.ones(n, dtype=bool)
    if n > 1:
        series_start[1:] = code[1:] != code[:-1]
    return _Prepared(labels, code, x, x_kind, y, numerator, denominator, series_start, series_values)


def _rebase_flags(prep: _Prepared, opts: SeriesOptions) -> np.ndarray:
    """True on rows whose x equals one of the series' rebase dates (that row starts a group)."""
    n = len(prep.code)
    flag = np.zeros(n, dtype=bool)
    if not len(opts.rebase_series) or not n:
        return flag
    xi = prep.x.view(np.int64)
    rx = opts.rebase_x.to_numpy().view(np.int64) if prep.x_kind == "date" else opts.rebase_x.to_numpy(np.int64)
    # rows are sorted by (series, x): binary-search every rebase date inside its own series'
    # rows, all dates at once (about log2(longest series) vectorised steps)
    series_rows = np.flatnonzero(prep.series_start)
    series_end = np.append(series_rows[1:], n)
    series_of_code = np.full(len(prep.labels), -1, dtype=np.int64)
    series_of_code[prep.code[series_rows]] = np.arange(len(series_rows))
    which = series_of_code[opts.rebase_series]
    lo, hi = series_rows[which], series_end[which]
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        go_right = active & (xi[np.minimum(mid, n - 1)] < rx)
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    pos = np.minimum(lo, n - 1)
    hit = (lo < series_end[which]) & (xi[pos] == rx)
    flag[pos[hit]] = True
    return flag


def _segments(prep: _Prepared, rebase_flag: np.ndarray) -> tuple[Segments, np.ndarray]:
    if not rebase_flag.any():
        return Segments(prep.series_start), np.zeros(len(rebase_flag), dtype=np.int64)
    segments = Segments(prep.series_start | rebase_flag)
    cs = np.cumsum(rebase_flag, dtype=np.int64)
    starts = np.flatnonzero(prep.series_start)
    base = cs[starts] - rebase_flag[starts]
    return segments, cs - np.repeat(base, prep.series_sizes)


def _limits(prep: _Prepared, segments: Segments, opts: SeriesOptions, settings: SpcSettings) -> limits.Limits:
    fix_rows = prep.per_row(opts.fix_after_n_points)
    if settings.chart == "xmr":
        return limits.xmr_limits(prep.y, segments, fix_rows, prep.per_row(opts.screen_outliers))
    if settings.chart == "p":
        return attribute.p_chart_limits(prep.numerator, prep.denominator, segments, fix_rows)
    if settings.chart == "u":
        return attribute.u_chart_limits(prep.numerator, prep.denominator, segments, fix_rows)
    return attribute.c_chart_limits(prep.y, segments, fix_rows)


def run_spc(
    data: pd.DataFrame,
    options: pd.DataFrame | None = None,
    *,
    improvement_direction: str = "increase",
    target: Any = None,
    rebase: Any = None,
    fix_after_n_points: Any = None,
    screen_outliers: Any = True,
    chart: str = "xmr",
    two_in_three_counts_outside: bool = False,
    trend_points: int = 7,
    explain: bool = True,
) -> SpcResult:
    """Making Data Count SPC for every series in ``data`` (NHSRplotthedots 0.2.2 semantics).

    ``data`` has columns ``series, x, y`` (``x`` ISO dates or integers; ``y`` NaN when missing),
    plus ``numerator, denominator`` for P/U charts. ``options`` has one row per series with any of
    ``series, improvement_direction, target, rebase (list or ';'-separated), fix_after_n_points,
    screen_outliers``, overriding the keyword defaults for that series.

    Beyond the reference (defaults reproduce it): ``chart`` ``"p"``/``"u"``/``"c"``;
    ``two_in_three_counts_outside`` (Making Data Count 2023: points beyond the limits count in
    two-in-three); ``trend_points=6``; ``explain`` writes a plain-English reason per flagged point.

    Raises :class:`partnering.errors.ValidationError` naming the series and option at fault.
    """
    settings = validate_settings(chart, two_in_three_counts_outside, trend_points, explain)
    prep = _prepare(data, settings)
    opts = resolve_series_options(
        prep.labels,
        prep.x_kind,
        options,
        improvement_direction=improvement_direction,
        target=target,
        rebase=rebase,
        fix_after_n_points=fix_after_n_points,
        screen_outliers=screen_outliers,
    )
    rebase_flag = _rebase_flags(prep, opts)
    segments, rebase_group = _segments(prep, rebase_flag)
    lim = _limits(prep, segments, opts, settings)
    pos = limits.position_flags(prep.y, lim)
    code, ptype = _classify(prep.y, pos, segments, prep.per_row(opts.direction), settings)
    return SpcResult(
        points=_points_frame(prep, opts, segments, rebase_group, lim, pos, code, ptype, settings),
        icons=_icons_frame(prep, opts, lim, ptype),
        settings=settings,
    )


def _classify(
    y: np.ndarray,
    pos: limits.Position,
    segments: Segments,
    direction_rows: np.ndarray,
    settings: SpcSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the rules and combine them: special-cause code and point-type code per row."""
    is_start = segments.is_start
    rising, falling = rules.steps(y, is_start)
    up_end, down_end = rules.trend_end_flags(rising, falling, settings.trend_points)
    trend = rules.part_of_run_flags(up_end | down_end, settings.trend_points)
    close = pos.beyond_2sigma if settings.two_in_three_counts_outside else pos.close_to_limits
    two3 = rules.two_in_three_flags(close, pos.relative_to_mean, is_start) & close
    shift = rules.part_of_run_flags(rules.shift_end_flags(pos.relative_to_mean, is_start))
    code = point_types.special_cause_code_flags(
        pos.relative_to_mean,
        pos.outside_limits,
        trend,
        point_types.trend_rising(trend, rising, is_start),
        two3,
        shift,
    )
    return code, point_types.point_type_code(code, direction_rows)


def _points_frame(
    prep: _Prepared,
    opts: SeriesOptions,
    segments: Segments,
    rebase_group: np.ndarray,
    lim: limits.Limits,
    pos: limits.Position,
    code: np.ndarray,
    ptype: np.ndarray,
    settings: SpcSettings,
) -> pd.DataFrame:
    short = segments.broadcast(segments.sizes < SHORT_GROUP_THRESHOLD)
    cols: dict[str, Any] = {
        "series": prep.series_values,
        "x": prep.x,
        "y": prep.y,
    }
    if prep.numerator is not None:
        cols["numerator"] = prep.numerator
        cols["denominator"] = prep.denominator
    cols.update(
        {
            "rebase_group": rebase_group,
            "mean": lim.mean,
            "lpl": lim.lpl,
            "upl": lim.upl,
            "lower_2sigma": lim.lower_2sigma,
            "upper_2sigma": lim.upper_2sigma,
            "outside_limits": pd.arrays.BooleanArray(pos.outside_limits, ~pos.limits_known),
            "relative_to_mean": pd.arrays.IntegerArray(pos.relative_to_mean, ~pos.mean_known),
            "close_to_limits": pd.arrays.BooleanArray(pos.close_to_limits, ~pos.limits_known),
            "special_cause_type": point_types.special_cause_type(code, settings.trend_points),
            "special_cause_flag": code != point_types.COMMON_CAUSE,
            "point_type": point_types.point_type(ptype),
            "short_group_warning": short,
            "target": prep.per_row(opts.target),
        }
    )
    if settings.explain:
        cols["explanation"] = explain.explanations(
            code, ptype, settings.trend_points, settings.two_in_three_counts_outside
        )
    return pd.DataFrame(cols, copy=False)


def _icons_frame(prep: _Prepared, opts: SeriesOptions, lim: limits.Limits, ptype: np.ndarray) -> pd.DataFrame:
    last = np.append(np.flatnonzero(prep.series_start)[1:], len(prep.code)) - 1
    series_code = prep.code[last]
    direction = opts.direction[series_code]
    variation = icons.variation_icon_code(ptype[last], direction)
    return pd.DataFrame(
        {
            "series": prep.labels.take(series_code),
            "variation_icon": pd.Categorical.from_codes(variation, categories=list(icons.VARIATION_ICONS)),
            "assurance_type": icons.assurance_type(opts.target[series_code], lim.lpl[last], lim.upl[last], direction),
        }
    )
