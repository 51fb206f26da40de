"""``partnering compute``: record-level data — generate a synthetic record set, compute monthly indicators on
DuckDB or Spark, load them into the store.  A thin face over :mod:`partnering.compute`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from partnering.cli.common import console, engine, err, print_frame
from partnering.errors import ValidationError


def _period(text: str) -> int:
    from partnering.ingest.values import valid_period

    if not valid_period(text):
        raise ValidationError(f"--first-period {text!r} is not an ISO month (YYYY-MM)")
    return int(text[:4]) * 100 + int(text[5:7])


def _trusts(ods: Path | None) -> list[str]:
    from partnering.compute.generate import trust_codes_from_ods
    from partnering.compute.load import acute_trusts, known_organisations

    if ods is not None:
        return trust_codes_from_ods(ods)
    codes = acute_trusts(engine()) or [c for c in known_organisations(engine()) if len(c) == 3]
    if not codes:
        raise ValidationError("the store has no trusts: load the ODS file (partnering ingest ods FOLDER) or pass "
                              "--ods etr.csv")
    return codes


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Record-level data: synthetic records, indicators on DuckDB or Spark, --load.",
                        no_args_is_help=True)
    app.add_typer(group, name="compute")

    @group.command("generate")
    def generate(
        records: Annotated[int, typer.Option("--records", help="How many records (4/5 attendances, 1/5 RTT "
                                                              "pathways).")],
        out: Annotated[Path, typer.Option("--out", help="Folder to write (attendances/, pathways/, manifest).")],
        seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")] = 2026,
        first_period: Annotated[str, typer.Option("--first-period", help="First month, YYYY-MM.")] = "2024-04",
        months: Annotated[int, typer.Option("--months", help="How many months.")] = 24,
        ods: Annotated[Optional[Path], typer.Option(
            "--ods", help="ODS etr.csv to take trust codes from (default: the store's acute trusts).")] = None,
    ) -> None:
        """Write a seeded synthetic ECDS-like and RTT-like record set as Parquet, in chunks (bounded memory)."""
        from partnering.compute.generate import generate as make

        orgs = _trusts(ods)
        with _bar() as bar:
            task = bar.add_task("generating records", total=records)
            manifest = make(out, records, seed, orgs, _period(first_period), months,
                            progress=lambda done, total: bar.update(task, completed=done))
        console.print(f"{out}: {manifest['attendances']:,} attendances and {manifest['pathways']:,} pathways for "
                      f"{manifest['organisations']} trusts, {first_period} for {months} months (seed {seed})")

    @group.command("indicators")
    def indicators(
        record_set: Annotated[Path, typer.Argument(metavar="DIR", help="A record set folder (compute generate).")],
        engine_name: Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark.")] = "duckdb",
        out: Annotated[Optional[Path], typer.Option(
            "--out", help="Write the monthly indicators: .csv or .parquet (org_code, indicator, period, numerator, "
                          "denominator, value).")] = None,
        rejects: Annotated[Optional[Path], typer.Option(
            "--rejects", help="Write the rejected-record counts by reason (.csv or .parquet).")] = None,
        load: Annotated[bool, typer.Option(
            "--load", help="Load the catalogue's indicators into the store (derived from record-level data).")] = False,
        ods: Annotated[Optional[Path], typer.Option(
            "--ods", help="Check organisation codes against this ODS etr.csv (default: the store's).")] = None,
        master: Annotated[str, typer.Option("--master", help="Spark master (local[*], spark://host:7077).")
                          ] = "local[*]",
    ) -> None:
        """Validate a record set and compute its monthly indicators on DuckDB or Spark; reports rejects by reason."""
        from partnering.compute import engines
        from partnering.compute.generate import trust_codes_from_ods
        from partnering.compute.load import known_organisations, load_indicators
        from partnering.compute.run import compute_indicators
        from partnering.report.tables import format_of, write_table

        if engine_name not in engines.ENGINES:
            raise ValidationError(f"--engine {engine_name!r}: choose duckdb or spark")
        for path in (out, rejects):
            if path is not None:
                format_of(path, allowed=("csv", "parquet"), default=None)
        known = trust_codes_from_ods(ods) if ods is not None else known_organisations(engine())
        session = engines.spark_session(master) if engine_name == "spark" else None
        with _bar() as bar:
            task = bar.add_task(f"computing on {engine_name}", total=None)
            result = compute_indicators(record_set, engine_name, known, session=session,
                                        progress=lambda stage: bar.update(task, description=stage))
            bar.update(task, total=1, completed=1, description="computed")
        if out is not None:
            write_table(result.indicators, out)
        if rejects is not None:
            write_table(result.rejected, rejects)
        loaded = load_indicators(result, str(record_set), engine()) if load else []  # before printing anything
        read = sum(result.records.values())
        console.print(f"{read:,} records read ({', '.join(f'{v:,} {k}' for k, v in result.records.items())}); "
                      f"{result.rejected_total:,} rejected; {len(result.indicators):,} monthly values "
                      f"({result.indicators['org_code'].nunique()} organisations, "
                      f"{result.indicators['period'].nunique()} months) on {engine_name}")
        if not result.rejected.empty:
            print_frame(result.rejected, title="Rejected records by reason")
        for path in (out, rejects):
            if path is not None:
                console.print(f"wrote {path}")
        for report in loaded:
            console.print(f"{report.kind} batch {report.batch_id}: {report.line()}", markup=False)

    @group.command("spc")
    def spc(
        indicators_file: Annotated[Path, typer.Argument(metavar="FILE", help="Monthly indicators (.csv or .parquet) "
                                                         "from 'compute indicators --out'.")],
        out: Annotated[Path, typer.Option("--out", help="Where to write the SPC points (.csv or .parquet).")],
        engine_name: Annotated[str, typer.Option("--engine", help="local (pandas) or spark (applyInPandas).")
                               ] = "local",
        master: Annotated[str, typer.Option("--master", help="Spark master.")] = "local[*]",
    ) -> None:
        """SPC for every organisation x indicator series, locally or on Spark (the same engine either way)."""
        from partnering.compute import engines
        from partnering.compute.spc_spark import series_points, spc_on_spark
        from partnering.report.tables import format_of, read_table, write_table

        format_of(out, allowed=("csv", "parquet"), default=None)
        if engine_name not in ("local", "spark"):
            raise ValidationError(f"--engine {engine_name!r}: choose local or spark")
        points = series_points(read_table(indicators_file, text_columns=("org_code", "indicator", "period")))
        if engine_name == "spark":
            result = spc_on_spark(engines.spark_session(master), points, spc_for_frame)
        else:
            result = spc_for_frame(points)
        write_table(result, out)
        flagged = int(result["special_cause_flag"].sum())
        console.print(f"{points['series'].nunique():,} series, {len(result):,} points ({flagged:,} special cause) "
                      f"on {engine_name}: wrote {out}")


def spc_for_frame(frame):
    """Making Data Count SPC (:func:`partnering.measure.spc.run_spc`) for the series in ``frame`` (``series,
    indicator, x, y``), each with its indicator's improvement direction from the catalogue; points in
    :func:`partnering.compute.spc_spark.tidy_points` form.  The one function local runs and Spark groups share."""
    import pandas as pd

    from partnering.compute.spc_spark import tidy_points
    from partnering.indicators.catalogue import indicator, load_catalogue
    from partnering.measure.spc import run_spc

    cat = load_catalogue()
    series = frame.drop_duplicates("series")
    options = pd.DataFrame({"series": series["series"], "improvement_direction": [
        (indicator(code, cat).improvement_direction if indicator(code, cat) else "neutral")
        for code in series["indicator"]]})
    return tidy_points(run_spc(frame[["series", "x", "y"]], options, explain=False).points)


def _bar():
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,}"),
                    TimeElapsedColumn(), console=err, transient=False)
