"""Core commands: up, demo, ingest, orgs, indicators, export, batches (and batches undo), audit."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from partnering.cli.common import console, engine, err, print_frame, progress, standard_shown, state
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

        if serve:  # say so before loading anything
            from partnering.cli.web import ensure_port_free

            ensure_port_free(host, port)
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
        kind: str = typer.Argument(..., help="ae-monthly | rtt | cancer-waiting-times | diagnostics-dm01 | "
                                   "ambulance-ambsys | beds-overnight | cancelled-operations | staff-survey | kpi | "
                                   "ods | imd | geo | context"),
        paths: list[Path] = typer.Argument(..., help="Files (or folders, for ods/imd/geo) to load."),
        period: Optional[str] = typer.Option(None, help="Month YYYY-MM when the file does not say (RTT)."),
        owner_org: Optional[str] = typer.Option(None, help="Uploading organisation (scopes unpublished data)."),
        unpublished: bool = typer.Option(False, help="Keep the data visible only to --owner-org and admins."),
        published: Optional[str] = typer.Option(
            None, "--published", metavar="YYYY-MM-DD",
            help="When the source published the file, where the file does not say (a date the file carries wins). "
                 "The latest publication of a month is current, whatever the order of loading."),
        create_organisations: Optional[str] = typer.Option(
            None, "--create-organisations", metavar="KIND",
            help="kpi only: create organisations the store does not know, as this kind (e.g. other_provider); "
                 "without it their rows are rejected."),
        by_treatment_function: Optional[Path] = typer.Option(
            None, "--by-treatment-function", metavar="OUT",
            help="rtt only: also write every figure per provider x treatment function of the Full CSV data file(s) "
                 "to OUT (.csv, .parquet or .xlsx; C_999 rows are the provider totals). Not stored."),
    ) -> None:
        """Load official NHS files or a generic KPI file. One transaction per file: a bad file writes nothing.

        A KPI file cannot write an official indicator; values impossible for their unit and rows for unknown
        organisations are rejected rows with the reason (partnering batches --rejected N)."""
        from partnering.ingest import LOADERS, load

        if kind not in LOADERS:
            raise ValidationError(f"unknown kind {kind!r}: choose one of {', '.join(LOADERS)}")
        eng = engine()
        failures = 0
        opts: dict = {"owner_org": owner_org, "published": not unpublished}
        if published is not None:
            opts["published_on"] = _iso_date(published, "--published")
        if create_organisations is not None:
            if kind != "kpi":
                raise ValidationError("--create-organisations applies only to kpi files")
            opts["create_organisations"] = create_organisations
        if kind in ("ods", "imd", "geo", "context"):
            if published is not None:
                raise ValidationError(f"--published applies to performance files, not {kind} reference data")
            opts = {}
        frames: list = []
        if by_treatment_function is not None:
            if kind != "rtt":
                raise ValidationError("--by-treatment-function applies only to rtt files")
            opts["frames"] = frames
        with progress() as bar:
            task = bar.add_task(f"Loading {kind}", total=len(paths))
            for p in paths:
                try:
                    report = load(kind, p, eng, period=period, **opts)
                    for r in report if isinstance(report, list) else [report]:
                        console.print(r.line(), highlight=False)
                        if r.status != "unchanged" and r.message:
                            console.print(f"  Note: {r.message}", highlight=False)
                except PartneringError as exc:
                    failures += 1
                    err.print(f"[bold red]Refused:[/] {exc.user_message()}", highlight=False, soft_wrap=True)
                bar.advance(task)
        if by_treatment_function is not None:
            if frames:
                import pandas as pd

                from partnering.report.tables import write_table

                table = pd.concat(frames, ignore_index=True)
                write_table(table, by_treatment_function)
                console.print(f"Wrote {len(table):,} provider x treatment function rows to {by_treatment_function}")
            elif not failures:
                err.print("No treatment-function table written: none of the files is an RTT Full CSV data file "
                          "(an Incomplete-Provider sheet's treatment functions are stored as indicator breakdowns).")
                raise typer.Exit(2)
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
        from partnering.indicators.catalogue import load_catalogue
        from partnering.store import repository as repo

        df = repo.indicators_frame(engine())  # a read: opening the store syncs the catalogue (store.db)
        # the store holds the national standard; the catalogue adds the constitutional one (a reference line where
        # an indicator has no standard of its own, e.g. A&E types 2 and 3-4)
        cat = load_catalogue()
        df = df.assign(standard=[standard_shown(n, getattr(cat.get(c), "constitutional_standard", None))
                                 for c, n in zip(df["code"], df["national_standard"])])
        print_frame(df[["code", "name", "unit", "improvement_direction", "standard", "source"]],
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

    batches_app = typer.Typer(
        help="Import history: publication date and basis, rejected rows; undo a batch.",
        invoke_without_command=True, no_args_is_help=False)
    app.add_typer(batches_app, name="batches")

    @batches_app.callback()
    def batches(
        ctx: typer.Context,
        rejected: Optional[int] = typer.Option(None, "--rejected", help="Show the rejected rows of this batch."),
        limit: int = typer.Option(30),
    ) -> None:
        """Import history (newest first, with when the source published each file and how that is known), and the
        rejected rows of a batch with line, column and reason. `partnering batches undo N` undoes batch N."""
        if ctx.invoked_subcommand is not None:
            return
        from partnering.store import repository as repo

        eng = engine()
        if rejected is not None:
            df = repo.rejected_frame(eng, rejected)
            print_frame(df[["batch_id", "file_name", "line", "column", "reason"]], f"Rejected rows of batch {rejected}",
                        limit)
            return
        df = repo.batches_frame(eng, limit)
        df["file"] = df["file_name"].map(lambda s: Path(s).name)
        df["published_on"] = df["published_on"].map(lambda d: "" if d is None or d != d else str(d)[:10])
        df = df.rename(columns={"publication_basis": "basis"})
        print_frame(df[["id", "kind", "file", "period", "published_on", "basis", "rows_read", "rows_loaded",
                        "rows_rejected", "observations_new", "observations_superseded", "seconds", "status"]],
                    "Import batches", limit)

    @batches_app.command("undo")
    def undo(batch_id: int = typer.Argument(..., metavar="N", help="The batch to undo (see partnering batches).")
             ) -> None:
        """Undo batch N exactly: remove its values and restore what they superseded (and any organisations or
        indicators its load created). Refused, with the reason, where a later batch builds on it. Audited."""
        from partnering.store.audit import audit_frame, default_actor
        from partnering.store.undo import undo_batch

        eng = engine()
        load = audit_frame(eng, limit=None, action="data.load")
        load = load[load["target"] == f"batch {batch_id}"]
        created = (_json_or_none(load["after"].iloc[0]) or {}).get("undo", {}).get("organisations_created", []) \
            if len(load) else []
        with eng.begin() as conn:
            done = undo_batch(conn, batch_id, default_actor())
        kept = done.get("organisations_kept") or []
        gone = [c for c in created if c not in kept]
        console.print(
            f"Undid batch {batch_id} ({Path(str(done.get('file') or '')).name}, {done.get('kind')}"
            + (f", {done['period']}" if done.get("period") else "") + f"): removed {done['values_removed']:,} values, "
            f"restored {done['values_restored']:,} values it had superseded"
            + (f"; removed the organisations it created: {', '.join(gone[:20])}{' ...' if len(gone) > 20 else ''}"
               if gone else "")
            + (f"; organisations kept because other data use them: {', '.join(kept)}" if kept else "") + ".",
            highlight=False)

    @app.command()
    def audit(
        action: Optional[str] = typer.Option(
            None, "--action", help="Only events whose action starts with this, e.g. data. or data.undo"),
        limit: int = typer.Option(50, "--limit", help="How many events (latest first)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """The store's audit log, latest first: who loaded, published or undid what, when, with before and after."""
        import json

        from partnering.store.audit import audit_frame

        if limit < 1:
            raise ValidationError("--limit must be at least 1")
        df = audit_frame(engine(), limit=limit, action=action)
        if as_json:
            recs = []
            for r in df.itertuples(index=False):
                recs.append({"id": int(r.id), "at": str(r.at), "actor": r.actor, "action": r.action,
                             "target": r.target, "before": _json_or_none(r.before), "after": _json_or_none(r.after)})
            typer.echo(json.dumps(recs, indent=2, ensure_ascii=False, default=str))
            return
        df = df.assign(at=df["at"].map(lambda t: str(t)[:19]),
                       after=df["after"].map(lambda v: "" if v is None else (v if len(v) <= 120 else v[:117] + "...")))
        print_frame(df[["id", "at", "actor", "action", "target", "after"]],
                    f"Audit log ({len(df)} events, latest first{f', action {action}*' if action else ''})", limit)


def _json_or_none(v):
    import json

    if v is None:
        return None
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return v


def _iso_date(text: str, option: str):
    """A calendar date written YYYY-MM-DD, or one clear error naming the option."""
    import re
    from datetime import date

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise ValidationError(f"{option} must be a date written YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{option} {text!r} is not a calendar date") from None


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
