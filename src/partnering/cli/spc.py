"""``partnering spc``: Making Data Count SPC over a CSV of many series.

A thin face: read and check the files (errors name file, line, column and reason), call
:func:`partnering.measure.spc.run_spc`, write the points (and icons) as CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from partnering.errors import IngestError, ValidationError

_OPTION_COLUMNS = ("series", "improvement_direction", "target", "rebase", "fix_after_n_points", "screen_outliers")


def _line(i: int) -> int:
    """Physical line of 0-based data row ``i`` (the header is line 1)."""
    return int(i) + 2


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise IngestError(str(path), "file not found")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise IngestError(str(path), f"not a readable CSV file ({str(exc).splitlines()[0]})") from None


def read_points_csv(path: Path) -> pd.DataFrame:
    """Read ``series,x,y`` (y empty when missing), checking every row."""
    from partnering.measure.spc.options import parse_x

    raw = _read_csv(path)
    raw.columns = [c.strip() for c in raw.columns]
    for column in ("series", "x", "y"):
        if column not in raw.columns:
            raise IngestError(str(path), f"missing column '{column}' (need series, x, y)", row=1)
    series = raw["series"].str.strip()
    if (series == "").any():
        i = int(np.flatnonzero(series == "")[0])
        raise IngestError(str(path), "series is empty", row=_line(i), column="series")
    y_text = raw["y"].str.strip()
    y = pd.to_numeric(y_text.where(y_text != ""), errors="coerce")
    bad = (y.isna() & (y_text != "")) | np.isinf(y.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(
            str(path), f"y must be a number or empty (got {raw['y'].iloc[i]!r})", row=_line(i), column="y"
        )
    try:
        x, _ = parse_x(raw["x"])
    except ValueError as exc:
        i = exc.args[1]
        raise IngestError(
            str(path),
            f"x must be an ISO date (YYYY-MM-DD) or a whole number (got {raw['x'].iloc[i]!r})",
            row=_line(i),
            column="x",
        ) from None
    data = pd.DataFrame({"series": series, "x": x, "y": y.to_numpy(dtype=float, na_value=np.nan)})
    dup = data.duplicated(["series", "x"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise IngestError(
            str(path),
            f"series {series.iloc[i]!r} already has a row for x = {raw['x'].iloc[i]}",
            row=_line(i),
            column="x",
        )
    return data


def read_options_csv(path: Path, known_series: pd.Index) -> pd.DataFrame:
    """Read the per-series options file and check each row (line and column named on error)."""
    from partnering.measure.spc.options import check_direction, check_fix_after, check_screen, check_target

    raw = _read_csv(path)
    raw.columns = [c.strip() for c in raw.columns]
    if "series" not in raw.columns:
        raise IngestError(str(path), "missing column 'series'", row=1)
    unknown = [c for c in raw.columns if c not in _OPTION_COLUMNS]
    if unknown:
        raise IngestError(
            str(path), f"unknown column (expected {', '.join(_OPTION_COLUMNS)})", row=1, column=unknown[0]
        )
    raw = raw.apply(lambda col: col.str.strip())
    missing = ~raw["series"].isin(known_series)
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise IngestError(
            str(path), f"series {raw['series'].iloc[i]!r} is not in the input", row=_line(i), column="series"
        )
    dup = raw["series"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise IngestError(
            str(path), f"series {raw['series'].iloc[i]!r} appears more than once", row=_line(i), column="series"
        )
    checks = {
        "improvement_direction": lambda v: check_direction(v.lower()),
        "target": check_target,
        "fix_after_n_points": check_fix_after,
        "screen_outliers": check_screen,
    }
    for column, check in checks.items():
        if column not in raw.columns:
            continue
        given = raw[column] != ""
        for i in np.flatnonzero(given.to_numpy()):  # options are one row per series: not a hot path
            try:
                check(raw[column].iloc[i])
            except ValidationError as exc:
                raise IngestError(str(path), str(exc).split(": ", 1)[-1], row=_line(i), column=column) from None
    out = raw.replace("", np.nan)
    if "improvement_direction" in out.columns:
        out["improvement_direction"] = out["improvement_direction"].str.lower()
    return out


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.copy()
    if pd.api.types.is_datetime64_any_dtype(frame["x"]):
        frame["x"] = frame["x"].dt.strftime("%Y-%m-%d")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def register(app: typer.Typer) -> None:
    @app.command("spc")
    def spc(
        input_csv: Annotated[
            Path, typer.Argument(metavar="INPUT.csv", help="CSV with columns series, x, y (y empty when missing).")
        ],
        out: Annotated[Path, typer.Option("--out", help="Where to write the per-point results (CSV).")],
        icons: Annotated[
            Path | None, typer.Option("--icons", help="Where to write the per-series icons (CSV).")
        ] = None,
        options: Annotated[
            Path | None,
            typer.Option(
                "--options",
                help="CSV, one row per series: series, improvement_direction, target, rebase (dates separated by "
                "';'), fix_after_n_points, screen_outliers (TRUE/FALSE).",
            ),
        ] = None,
        improvement_direction: Annotated[
            str, typer.Option("--improvement-direction", help="increase, decrease or neutral.")
        ] = "increase",
        target: Annotated[float | None, typer.Option("--target", help="Target for every series (assurance).")] = None,
        rebase: Annotated[str | None, typer.Option("--rebase", help="Rebase dates, comma-separated.")] = None,
        fix_after_n_points: Annotated[
            int | None, typer.Option("--fix-after-n-points", help="Fix limits after N points (>= 12).")
        ] = None,
        no_screen_outliers: Annotated[
            bool, typer.Option("--no-screen-outliers", help="Do not screen large moving ranges.")
        ] = False,
    ) -> None:
        """Making Data Count SPC (XmR, NHSRplotthedots 0.2.2 rules) for every series in INPUT.csv."""
        from rich.console import Console

        from partnering.measure.spc import run_spc

        data = read_points_csv(input_csv)
        opts = read_options_csv(options, pd.Index(data["series"].unique())) if options else None
        rebase_dates = [d.strip() for d in rebase.split(",") if d.strip()] if rebase else None
        try:
            result = run_spc(
                data,
                opts,
                improvement_direction=improvement_direction,
                target=target,
                rebase=rebase_dates,
                fix_after_n_points=fix_after_n_points,
                screen_outliers=not no_screen_outliers,
            )
        except ValidationError as exc:
            raise ValidationError(f"{options or input_csv}: {exc}") from None
        _write(result.points, out)
        if icons:
            icons.parent.mkdir(parents=True, exist_ok=True)
            result.icons.to_csv(icons, index=False)
        flagged = int(result.points["special_cause_flag"].sum())
        Console(soft_wrap=True).print(
            f"{len(result.icons):,} series, {len(result.points):,} points, {flagged:,} special-cause points "
            f"-> {out}" + (f", icons -> {icons}" if icons else "")
        )
