"""Measure commands: assess (icon table, segments, persistent difficulty, track record) and report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from partnering.cli.common import console, engine, print_frame, standard_shown
from partnering.errors import ValidationError

#: What ``assess --out`` writes, by the file's extension.
OUT_FORMATS = ("csv", "parquet", "xlsx")


def _config(window: int, min_months: int, track_window: int, track_min: int):
    from partnering.measure.assess import AssessConfig

    return AssessConfig(difficulty_window=window, difficulty_min_months=min_months, track_window=track_window,
                        track_min_months=track_min)


def register(app: typer.Typer) -> None:
    @app.command()
    def assess(
        org: Optional[str] = typer.Option(None, "--org", help="Show one organisation's icon table and flags."),
        kind: Optional[list[str]] = typer.Option(
            None, "--kind",
            help="Organisation kinds (default: the organisation's own kind with --org, else acute_trust)."),
        out: Optional[Path] = typer.Option(
            None, "--out", help="Write the assessment: .xlsx (all sheets), .csv or .parquet (icon table with flags)."),
        window: int = typer.Option(12, help="Months over which difficulty must persist."),
        min_months: int = typer.Option(9, help="Months in segment 4 within the window to count as persistent."),
        track_window: int = typer.Option(24, help="Months over which a track record is judged."),
        track_min: int = typer.Option(18, help="Months in segment 1 within the track window."),
    ) -> None:
        """Latest SPC status and icons per organisation and indicator, Oversight-style segments, persistent
        difficulty, track record of high performance and good practice to protect — each flag explained."""
        from partnering.measure.own_kind import assess_own_kind
        from partnering.report.tables import format_of

        if out is not None:
            format_of(out, OUT_FORMATS, default=None)  # refuse a bad file name before the work, not after
        code = org.strip().upper() if org else None
        eng = engine()
        # one organisation among its own kind unless --kind names others (partnering.measure.own_kind); else the table
        a = assess_own_kind(eng, code, kind, _config(window, min_months, track_window, track_min))
        if code:
            o = a.org(code)  # an unknown organisation is refused before anything is written
        if out is not None:
            _write(a, out, code)
            console.print(f"Wrote the assessment of {code or f'{len(a.flags)} organisations'} to {out}")
        print_freshness(a.freshness)
        if code:
            f = o["flags"]
            console.print(f"[bold]{f['org_code']} {f['org_name']}[/]")
            console.print(f["summary"])
            console.print(f"Persistent difficulty: {'YES' if f['persistent_difficulty'] else 'no'}. "
                          f"{f['difficulty_reason']}")
            console.print(f"Track record: {'YES' if f['track_record'] else 'no'}. {f['track_record_reason']}")
            if f.get("good_practice"):
                console.print(f"Good practice to protect: {f['good_practice']}")
            icons, notes = _limits_shown(o["icons"])
            # the target assurance is judged against, with the constitutional standard beside it (alone, "for
            # reference", where the indicator has no standard of its own: A&E types 2 and 3-4)
            from partnering.indicators.catalogue import load_catalogue

            cat = load_catalogue()
            icons = icons.assign(standard=[
                standard_shown(t, getattr(cat.get(c), "constitutional_standard", None))
                for c, t in zip(icons["indicator"], icons["target"])])
            print_frame(icons[["indicator_name", "latest_period", "latest_value", "mean", "lpl", "upl", "standard",
                               "variation_icon", "assurance_type"]], "Summary icon table", 100)
            for note in notes:
                console.print(note, highlight=False)
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
        kind: Optional[list[str]] = typer.Option(
            None, "--kind", help="Organisation kinds (default: the organisation's own kind)."),
    ) -> None:
        """Integrated performance report (board pack) for one organisation (HTML or PDF): flags, icon table, SPC
        charts with annotations and rebases, peers and candidate partners."""
        from partnering.measure.own_kind import assess_own_kind
        from partnering.report.performance import pack_extras, write_report

        if out.suffix.lower() not in (".html", ".pdf"):
            raise ValidationError("--out must end in .html or .pdf")
        eng = engine()
        a = assess_own_kind(eng, org.upper(), kind, _config(12, 9, 24, 18))  # among its own kind
        a.org(org.upper())  # an organisation not assessed is refused before peers and partners are looked for
        write_report(a, org.upper(), out, pack_extras(eng, a, org.upper()))
        console.print(f"Wrote {out}")

    @app.command()
    def league(
        as_at: str = typer.Argument(..., help="The quarter's last month, YYYY-MM (2025-06 is Q1 2025/26)."),
        kind: Optional[list[str]] = typer.Option(
            None, "--kind", help="Organisation kinds (default acute_trust; ambulance_trust for the ambulance table)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the table: .csv, .parquet or .xlsx."),
        compare: Optional[Path] = typer.Option(
            None, "--compare", help="Published figures to measure agreement with: a CSV with org_code and "
            "published_segment and/or published_rank (docs/data/nof-published-acute-2025-26.csv)."),
        quarter: Optional[str] = typer.Option(
            None, "--quarter", help="With --compare: only the rows whose quarter is this, e.g. 'Q1 2025/26'."),
    ) -> None:
        """The Oversight Framework 2025/26 league table as at a month: each metric's latest value in the quarter
        scored 1-4 by rank, averaged, quartiled into segments, ranked by segment then average score (no deficit
        cap: no finance data is loaded); with --compare, its agreement with published segments and ranks."""
        from partnering.measure.nof import agreement, read_published
        from partnering.measure.segment import store_league_table
        from partnering.report.tables import format_of, write_table

        if out is not None:
            format_of(out, OUT_FORMATS, default=None)
        pub = read_published(compare, quarter) if compare is not None else None
        lt = store_league_table(engine(), as_at, tuple(kind or ["acute_trust"]))
        if lt.empty:
            raise ValidationError(f"no organisation could be scored in the quarter to {as_at}: no Framework metric "
                                  f"has data in those three months")
        if out is not None:
            write_table(lt, out)
            console.print(f"Wrote the league table of {len(lt)} organisations to {out}")
        print_frame(lt[["rank", "org_code", "org_name", "segment", "avg_score", "metrics_scored"]],
                    f"League table as at {as_at} ({len(lt)} organisations; metrics: "
                    f"{', '.join(sorted(set(', '.join(lt['scored_metrics']).split(', '))))})", 200)
        if pub is not None:
            a = agreement(lt, pub)

            def rho(v):  # Spearman needs three pairs
                return f"{v:.2f}" if v == v else "n/a (fewer than 3)"

            console.print(
                f"Agreement with {compare.name}: {a['matched']} of {a['published']} published organisations "
                f"found; same segment {a['same_segment']} of {a['segments_compared']}; rank correlation "
                f"(Spearman) {rho(a['rank_correlation'])} over {a['ranks_compared']} published ranks"
                + "".join(f"; {rho(r)} over the {n} ranks of {scope}"
                          for scope, (n, r) in a["rank_correlation_by_scope"].items()) + ".",
                highlight=False)


def _limits_shown(icons):
    """The icon table with process limits a quantity can reach (a count's lower limit below 0 shown as 0, a
    percentage's upper limit above 100 as 100), as the charts and the report show them, and one sentence per
    indicator whose limit was moved (report.chart_spec.shown_limits)."""
    import pandas as pd

    from partnering.report.chart_spec import shown_limits

    if icons.empty or "unit" not in icons:
        return icons, []
    parts, notes = [], []
    for i, r in icons.iterrows():  # one row at a time, so each note names its indicator
        shown, moved = shown_limits(icons.loc[[i]], r["unit"])
        parts.append(shown.assign(lpl=shown["lpl_shown"], upl=shown["upl_shown"]))
        notes += [f"{r['indicator_name']}: {m}" for m in moved]
    return pd.concat(parts), notes


def print_freshness(freshness) -> None:
    """Per family of data, the latest month loaded; a stale family says so in words (measure.freshness)."""
    if freshness is None or freshness.empty:
        return
    import pandas as pd

    from partnering.measure.freshness import stale_note

    newest = freshness["latest_period"].max()
    table = pd.DataFrame({
        "family": freshness["family_name"],
        "latest month": freshness["latest_period"],
        "status": [f"STALE: {int(m)} months behind {newest}" if s else "current"
                   for s, m in zip(freshness["stale"], freshness["months_behind"])],
        "indicators": freshness["indicators"],
    })
    print_frame(table, "Data freshness (latest month loaded per family)", 50)
    note = stale_note(freshness)
    if note:
        console.print(note, highlight=False)


def _only(df, code: str | None):
    return df if code is None or "org_code" not in df else df[df["org_code"] == code]


def _write(a, out: Path, code: str | None = None) -> None:
    """The assessment as one table (.csv or .parquet: the icon table with each organisation's flags) or as a
    workbook (.xlsx: every sheet); only organisation ``code`` when given."""
    from partnering.report.tables import format_of, write_table, write_xlsx

    fmt = format_of(out, OUT_FORMATS, default=None)
    if fmt == "xlsx":
        tmp = out.with_name(out.name + ".partial")
        try:
            sheets = {"flags": a.flags, "icon table": a.icons, "segments by month": a.segments,
                      "standing": a.standing, "good practice": a.good_practice}
            sheets = {k: _only(v, code) for k, v in sheets.items()}
            sheets["data freshness"] = a.freshness
            write_xlsx(sheets, tmp,
                       attribution="Partnering assessment. Method: docs/methods/assessment.md.\n"
                                   "Contains public sector information licensed under the Open Government Licence "
                                   "v3.0.\nSynthetic demo organisations, where present, are not real NHS "
                                   "organisations.")
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        return
    flag_cols = ["org_code", "segment", "persistent_difficulty", "track_record", "difficulty_reason",
                 "track_record_reason"] + (["data_note"] if "data_note" in a.flags else [])
    table = _only(a.icons, code).merge(_only(a.flags, code)[flag_cols], on="org_code", how="left")
    write_table(table, out, fmt)
