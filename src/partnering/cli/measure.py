"""Measure commands: assess (icon table, segments, persistent difficulty, track record) and report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from partnering.cli.common import console, engine, print_frame
from partnering.errors import ValidationError


def _config(kind: list[str] | None, window: int, min_months: int, track_window: int, track_min: int):
    from partnering.measure.assess import AssessConfig

    return AssessConfig(kinds=tuple(kind or ["acute_trust"]), difficulty_window=window,
                        difficulty_min_months=min_months, track_window=track_window, track_min_months=track_min)


def register(app: typer.Typer) -> None:
    @app.command()
    def assess(
        org: Optional[str] = typer.Option(None, "--org", help="Show one organisation's icon table and flags."),
        kind: Optional[list[str]] = typer.Option(None, "--kind", help="Organisation kinds (default acute_trust)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the assessment: .xlsx (all sheets) or .csv."),
        window: int = typer.Option(12, help="Months over which difficulty must persist."),
        min_months: int = typer.Option(9, help="Months in segment 4 within the window to count as persistent."),
        track_window: int = typer.Option(24, help="Months over which a track record is judged."),
        track_min: int = typer.Option(18, help="Months in segment 1 within the track window."),
    ) -> None:
        """Latest SPC status and icons per organisation and indicator, Oversight-style segments, persistent
        difficulty, track record of high performance and good practice to protect — each flag explained."""
        from partnering.measure.assess import assess as run

        a = run(engine(), _config(kind, window, min_months, track_window, track_min))
        if out is not None:
            _write(a, out)
            console.print(f"Wrote the assessment of {len(a.flags)} organisations to {out}")
        if org:
            o = a.org(org.upper())
            f = o["flags"]
            console.print(f"[bold]{f['org_code']} {f['org_name']}[/]")
            console.print(f["summary"])
            console.print(f"Persistent difficulty: {'YES' if f['persistent_difficulty'] else 'no'}. "
                          f"{f['difficulty_reason']}")
            console.print(f"Track record: {'YES' if f['track_record'] else 'no'}. {f['track_record_reason']}")
            if f.get("good_practice"):
                console.print(f"Good practice to protect: {f['good_practice']}")
            icons = o["icons"][["indicator_name", "latest_period", "latest_value", "mean", "lpl", "upl", "target",
                                "variation_icon", "assurance_type"]]
            print_frame(icons, "Summary icon table", 100)
            return
        f = a.flags
        console.print(f"{len(f)} organisations assessed; {int(f['persistent_difficulty'].sum())} in persistent "
                      f"difficulty; {int(f['track_record'].sum())} with a track record of high performance.")
        show = f[f["persistent_difficulty"] | f["track_record"]][
            ["org_code", "org_name", "segment", "avg_score", "persistent_difficulty", "track_record"]]
        print_frame(show, "Flagged organisations", 100)

    @app.command()
    def report(
        org: str = typer.Argument(..., help="ODS code of the organisation."),
        out: Path = typer.Option(..., "--out", help="report.html or report.pdf"),
        kind: Optional[list[str]] = typer.Option(None, "--kind", help="Organisation kinds (default acute_trust)."),
    ) -> None:
        """Integrated performance report for one organisation (HTML or PDF): icon table, flags, SPC charts."""
        from partnering.measure.assess import assess as run
        from partnering.report.performance import write_report

        if out.suffix.lower() not in (".html", ".pdf"):
            raise ValidationError("--out must end in .html or .pdf")
        a = run(engine(), _config(kind, 12, 9, 24, 18))
        write_report(a, org.upper(), out)
        console.print(f"Wrote {out}")


def _write(a, out: Path) -> None:
    from partnering.report.export import write_table

    suffix = out.suffix.lower()
    if suffix == ".csv":
        table = a.icons.merge(a.flags[["org_code", "segment", "persistent_difficulty", "track_record",
                                       "difficulty_reason", "track_record_reason"]], on="org_code", how="left")
        write_table(table, out, "csv")
    elif suffix == ".xlsx":
        import pandas as pd

        tmp = out.with_name(out.name + ".partial")
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            a.flags.to_excel(xl, sheet_name="flags", index=False)
            a.icons.to_excel(xl, sheet_name="icon table", index=False)
            a.segments.to_excel(xl, sheet_name="segments by month", index=False)
            a.standing.to_excel(xl, sheet_name="standing", index=False)
            a.good_practice.to_excel(xl, sheet_name="good practice", index=False)
            pd.DataFrame({"notes": [
                "Partnering assessment. Method: docs/methods/assessment.md.",
                "Contains public sector information licensed under the Open Government Licence v3.0.",
                "Synthetic demo organisations, where present, are not real NHS organisations.",
            ]}).to_excel(xl, sheet_name="notes", index=False)
        tmp.replace(out)
    else:
        raise ValidationError("--out must end in .csv or .xlsx")
