"""``partnering spc``: Making Data Count SPC over a CSV or Parquet file of many series.

A thin face: read the files (:mod:`partnering.report.tables`, through Arrow), check them
(:mod:`partnering.measure.spc.inputs`: errors name file, line, column and reason), call
:func:`partnering.measure.spc.run_spc`, write the points (and icons) as CSV or Parquet, chosen by
each file's extension. pandas, pyarrow and the engine are imported only when the command runs, so
``partnering --help`` starts without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnering.errors import ValidationError


def _lines(path: Path) -> dict:
    """Where rows are in ``path``: a CSV has its header on line 1; a Parquet table has no lines, only rows."""
    from partnering.report.tables import PARQUET_SUFFIXES

    if path.suffix.lower() in PARQUET_SUFFIXES:
        return {"first_line": 1, "header_line": None}
    return {"first_line": 2, "header_line": 1}


def read_points(path: Path):
    """Read and check ``series, x, y`` (y empty when missing) from a CSV or Parquet file."""
    from partnering.measure.spc.inputs import check_points
    from partnering.report.tables import read_table

    return check_points(read_table(path, text_columns=("series",)), str(path), **_lines(path))


def read_options(path: Path, known_series):
    """Read and check the per-series options file (line and column named on error)."""
    from partnering.measure.spc.inputs import check_options
    from partnering.report.tables import read_table

    return check_options(read_table(path, all_text=True), known_series, str(path), **_lines(path))


def register(app: typer.Typer) -> None:
    @app.command("spc")
    def spc(
        input_file: Annotated[
            Path,
            typer.Argument(
                metavar="INPUT", help="CSV or Parquet file with columns series, x, y (y empty when missing)."
            ),
        ],
        out: Annotated[
            Path, typer.Option("--out", help="Where to write the per-point results (.csv, or .parquet for Parquet).")
        ],
        icons: Annotated[
            Path | None, typer.Option("--icons", help="Where to write the per-series icons (.csv or .parquet).")
        ] = None,
        options: Annotated[
            Path | None,
            typer.Option(
                "--options",
                help="CSV or Parquet, one row per series: series, improvement_direction, target, rebase (dates "
                "separated by ';'), fix_after_n_points, screen_outliers (TRUE/FALSE).",
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
        """Making Data Count SPC (XmR, NHSRplotthedots 0.2.2 rules) for every series in INPUT (.csv or .parquet)."""
        from partnering.measure.spc import run_spc
        from partnering.report.tables import format_of, write_table

        for path in (out, icons):
            if path is not None:
                format_of(path, ("csv", "parquet"))
        data = read_points(input_file)
        opts = read_options(options, data["series"].unique()) if options else None
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
            raise ValidationError(f"{options or input_file}: {exc}") from None
        write_table(result.points, out)
        if icons:
            write_table(result.icons, icons)
        flagged = int(result.points["special_cause_flag"].sum())
        typer.echo(
            f"{len(result.icons):,} series, {len(result.points):,} points, {flagged:,} special-cause points "
            f"-> {out}" + (f", icons -> {icons}" if icons else "")
        )
