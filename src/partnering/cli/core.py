"""Core commands: up, demo, ingest, orgs, indicators, export, batches."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from partnering.cli.common import console, engine, err, print_frame, progress, state
from partnering.errors import PartneringError, ValidationError


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


def register(app: typer.Typer) -> None:
    @app.callback()
    def main(
        db: Optional[str] = typer.Option(
            None, "--db", help="SQLAlchemy URL of the store (default: $PARTNERING_DATABASE_URL, else the embedded "
                               "SQLite file ~/.partnering/partnering.db)."),
    ) -> None:
        """Partnering: measure NHS performance, find partners, plan buddying, evidence the choice."""
        state.db = db

    @app.command()
    def up(
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the web app when the store is ready."),
        host: str = typer.Option("127.0.0.1", help="Address to serve on."),
        port: int = typer.Option(8000, help="Port to serve on."),
    ) -> None:
        """Create the store, load the synthetic demo system if the store is empty, print a summary, then serve."""
        from partnering.store import repository as repo

        eng = engine()
        if repo.counts(eng)["observations"] == 0:
            with progress() as bar:
                task = bar.add_task("Loading the synthetic demo system", total=1)
                from partnering.ingest.demo import load_demo

                report = load_demo(eng)
                bar.advance(task)
            console.print(f"Loaded the demo system: {report.observations_new:,} values "
                          f"(SYNTHETIC DEMONSTRATION DATA — not real NHS organisations or performance).")
        _summary(eng)
        if serve:
            _serve(host, port)

    @app.command()
    def demo(seed: int = typer.Option(2026, help="Random seed: the same seed gives the same system.")) -> None:
        """Load the seeded synthetic NHS demo system into the store (clearly labelled synthetic)."""
        from partnering.ingest.demo import load_demo

        report = load_demo(engine(), seed=seed)
        console.print(report.line())
        _summary(engine())

    @app.command()
    def ingest(
        kind: str = typer.Argument(..., help="ae-monthly | rtt | kpi | ods | imd | geo | context"),
        paths: list[Path] = typer.Argument(..., help="Files (or folders, for ods/imd/geo) to load."),
        period: Optional[str] = typer.Option(None, help="Month YYYY-MM when the file does not say (RTT)."),
        owner_org: Optional[str] = typer.Option(None, help="Uploading organisation (scopes unpublished data)."),
        unpublished: bool = typer.Option(False, help="Keep the data visible only to --owner-org and admins."),
    ) -> None:
        """Load official NHS files or a generic KPI file. One transaction per file: a bad file writes nothing."""
        from partnering.ingest import LOADERS, load

        if kind not in LOADERS:
            raise ValidationError(f"unknown kind {kind!r}: choose one of {', '.join(LOADERS)}")
        eng = engine()
        failures = 0
        opts = {"owner_org": owner_org, "published": not unpublished}
        if kind in ("ods", "imd", "geo", "context"):
            opts = {}
        with progress() as bar:
            task = bar.add_task(f"Loading {kind}", total=len(paths))
            for p in paths:
                try:
                    report = load(kind, p, eng, period=period, **opts)
                    for r in report if isinstance(report, list) else [report]:
                        console.print(r.line())
                except PartneringError as exc:
                    failures += 1
                    err.print(f"[bold red]Refused:[/] {exc.user_message()}", highlight=False, soft_wrap=True)
                bar.advance(task)
        if failures:
            err.print(f"{failures} of {len(paths)} files refused; nothing was written from them.")
            raise typer.Exit(2)

    @app.command()
    def orgs(
        kind: Optional[str] = typer.Option(None, help="Only this kind, e.g. acute_trust."),
        search: Optional[str] = typer.Option(None, help="Text in the name or code."),
        limit: int = typer.Option(50),
    ) -> None:
        """List organisations in the store."""
        from partnering.store import repository as repo

        df = repo.organisations_frame(engine(), [kind] if kind else None)
        if search:
            s = search.lower()
            df = df[df["name"].str.lower().str.contains(s, regex=False) | df["org_code"].str.lower().eq(s)]
        print_frame(df[["org_code", "name", "kind", "icb_code", "region_code", "latitude", "longitude"]],
                    f"{len(df):,} organisations", limit)

    @app.command()
    def indicators() -> None:
        """List the indicators with units, improvement direction, standard and source."""
        from partnering.store import repository as repo

        eng = engine()
        with eng.begin() as conn:
            repo.sync_catalogue(conn)
        df = repo.indicators_frame(eng)
        print_frame(df[["code", "name", "unit", "improvement_direction", "national_standard", "source"]],
                    f"{len(df)} indicators", 200)

    @app.command()
    def export(
        what: str = typer.Argument("observations", help="What to export: observations."),
        format: Optional[ExportFormat] = typer.Option(
            None, "--format", help="csv | xlsx | parquet (default: from the --out extension, else csv)"),
        out: Path = typer.Option(..., "--out", help="File to write (.csv, .xlsx or .parquet)."),
        indicator: Optional[list[str]] = typer.Option(None, "--indicator", help="Indicator code (repeatable)."),
        suppress: bool = typer.Option(False, help="Apply NHS small-number suppression (for publication)."),
    ) -> None:
        """Export current observations: org_code, indicator, period (YYYY-MM), numerator, denominator, value."""
        from partnering.report.export import export_observations

        if what != "observations":
            raise ValidationError(f"cannot export {what!r}: only 'observations'")
        n = export_observations(engine(), out, format.value if format else None, indicator or None,
                                suppress=suppress)
        console.print(f"Wrote {n:,} rows to {out}")

    @app.command()
    def batches(
        rejected: Optional[int] = typer.Option(None, "--rejected", help="Show the rejected rows of this batch."),
        limit: int = typer.Option(30),
    ) -> None:
        """Import history, and the rejected rows of a batch with line, column and reason."""
        from partnering.store import repository as repo

        eng = engine()
        if rejected is not None:
            df = repo.rejected_frame(eng, rejected)
            print_frame(df[["batch_id", "file_name", "line", "column", "reason"]], f"Rejected rows of batch {rejected}",
                        limit)
            return
        df = repo.batches_frame(eng, limit)
        df["file"] = df["file_name"].map(lambda s: Path(s).name)
        print_frame(df[["id", "kind", "file", "period", "rows_read", "rows_loaded", "rows_rejected",
                        "observations_new", "observations_superseded", "seconds", "status"]], "Import batches", limit)


def _summary(eng) -> None:
    from partnering.store import repository as repo

    c = repo.counts(eng)
    first, last = repo.periods_range(eng)
    orgs = repo.organisations_frame(eng)
    kinds = orgs["kind"].value_counts().to_dict() if not orgs.empty else {}
    synthetic = bool(orgs["synthetic"].any()) if not orgs.empty else False
    console.print(f"Store: {eng.url.render_as_string(hide_password=True)}")
    console.print(
        f"{c['organisations']:,} organisations ("
        + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:8])
        + f"); {c['sites']:,} sites; {c['indicators']} indicators; {c['observations']:,} current values"
        + (f" from {first} to {last}" if first else "")
        + f"; {c['observations_superseded']:,} superseded; {c['batches']} import batches."
    )
    if synthetic:
        console.print("[bold]Includes SYNTHETIC DEMONSTRATION DATA — not real NHS organisations or performance.[/]")


def _serve(host: str, port: int) -> None:
    try:
        from partnering.web.serve import serve
    except ImportError:
        err.print("The web app is not available in this build; the store is ready.")
        return
    serve(host=host, port=port, db=state.db)
