"""``partnering evaluate``: impact evaluation from the command line.

``evaluate panel FILE ...`` runs the methods on any long table (CSV, Parquet or Excel by extension);
``evaluate partnership ID|RECIPIENT:SUPPORTER`` on a registered partnership in the store;
``evaluate protocol ...`` saves an analysis protocol and its fingerprint before the post-period is looked at.
A thin face over :mod:`partnering.evaluate.run`; pandas and the library are imported inside the commands so
``partnering --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from partnering.errors import ValidationError

evaluate_app = typer.Typer(help="Evaluate a partnership's impact: interrupted time series, difference-in-differences, "
                                "synthetic control, with the regression-to-the-mean check and one verdict.",
                           no_args_is_help=True)

_METHODS = {"its": ("its",), "did": ("did",), "sc": ("sc",), "cs": ("cs",), "all": ("all",)}


def _read_table(path: Path):
    import pandas as pd

    if not path.exists():
        raise ValidationError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path)
    return pd.read_csv(path)


def _start(value: str, column):
    """The start typed on the command line in the type of the time column (years as integers)."""
    import pandas as pd

    if pd.api.types.is_integer_dtype(column):
        try:
            return int(value)
        except ValueError as exc:
            raise ValidationError(f"--start {value!r}: the time column holds whole numbers") from exc
    return value


def _print_evaluation(ev, console) -> None:
    from rich.table import Table

    t = Table(title=f"{ev.outcome}: {', '.join(ev.treated)} from {ev.start}")
    for c in ("method", "effect", "interval", "p-value", "pre-fit"):
        t.add_column(c)
    rows = dict(ev.results)
    if ev.rtm is not None:
        rows["rtm"] = ev.rtm
    for name, r in rows.items():
        t.add_row(name, f"{r.att:.4g}", f"{r.ci_low:.4g} to {r.ci_high:.4g} ({r.level:.0%})",
                  "" if r.p_value is None else f"{r.p_value:.3g}",
                  "" if r.rmspe_pre is None else f"{r.rmspe_pre:.3g}")
    console.print(t)
    console.print(ev.verdict.verdict)
    if ev.rtm is not None:
        console.print(ev.rtm.details["summary"])
    if ev.spc is not None:
        console.print("SPC: " + ev.spc.details["summary"])
    for m, e in ev.errors.items():
        console.print(f"[yellow]{m} not run:[/] {e}")
    for w in ev.warnings:
        console.print(f"[yellow]warning:[/] {w}")


@evaluate_app.command("panel")
def panel_cmd(
    file: Annotated[Path, typer.Argument(help="A long table: one row per unit and period (CSV, Parquet, XLSX).")],
    unit: Annotated[str, typer.Option("--unit", help="Column naming the unit (trust, practice, state).")],
    time: Annotated[str, typer.Option("--time", help="Column naming the period (ISO month or year).")],
    outcome: Annotated[str, typer.Option("--outcome", help="Column of the outcome.")],
    treated: Annotated[str, typer.Option("--treated", help="The treated unit (comma-separated for several).")],
    start: Annotated[str, typer.Option("--start", help="First treated period.")],
    end: Annotated[str | None, typer.Option("--end", help="Last treated period, if the treatment ended.")] = None,
    method: Annotated[str, typer.Option("--method", help="its, did, sc, cs or all.")] = "all",
    covariates: Annotated[str | None, typer.Option("--covariates", help="Covariate columns: COL,COL.")] = None,
    exclude: Annotated[str | None, typer.Option("--exclude", help="Units never used as comparators: A,B.")] = None,
    protocol: Annotated[Path | None, typer.Option("--protocol", help="A saved analysis protocol to check.")] = None,
    level: Annotated[float, typer.Option("--level", help="Interval level.")] = 0.95,
    unit_noun: Annotated[str | None, typer.Option("--unit-noun", help="What the units are called in the verdict, "
                                                  "plural (e.g. practices; default: units).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Evaluate a treatment on any panel: every method side by side and one verdict."""
    from partnering.cli.common import console
    from partnering.evaluate.panel import panel_from_long
    from partnering.evaluate.run import evaluate_panel

    if method not in _METHODS:
        raise ValidationError(f"--method {method!r}: choose its, did, sc, cs or all")
    notes = []
    if protocol is not None:
        from partnering.evaluate.protocol import check_protocol

        _, notes = check_protocol(protocol)
    df = _read_table(file)
    if time not in df.columns:
        raise ValidationError(f"{file}: no column {time!r}")
    names = [t.strip() for t in treated.split(",") if t.strip()]
    covs = [c.strip() for c in covariates.split(",")] if covariates else None
    excl = {u.strip(): "excluded on the command line" for u in exclude.split(",")} if exclude else None
    panel = panel_from_long(df, unit, time, outcome, names if len(names) > 1 else names[0],
                            _start(start, df[time]), end=None if end is None else _start(end, df[time]),
                            covariates=covs, excluded=excl, unit_noun=unit_noun)
    ev = evaluate_panel(panel, _METHODS[method], level=level, covariates=covs)
    ev.warnings[:0] = notes
    if as_json:
        typer.echo(json.dumps(ev.to_dict(), default=str))
    else:
        _print_evaluation(ev, console)


@evaluate_app.command("partnership")
def partnership_cmd(
    ref: Annotated[str, typer.Argument(help="The partnership's id, or RECIPIENT:SUPPORTER.")],
    indicator: Annotated[str | None, typer.Option("--indicator", help="Indicators: CODE,CODE (default: those "
                                                  "the partnership names, else the key metrics).")] = None,
    method: Annotated[str, typer.Option("--method", help="its, did, sc, cs or all.")] = "all",
    start: Annotated[str | None, typer.Option("--start", help="Override the start month (YYYY-MM).")] = None,
    include_spillover: Annotated[bool, typer.Option("--include-spillover", help="Keep the supporter and same-ICB "
                                                    "trusts as comparators.")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write the evaluation report (.html or .pdf).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Evaluate a registered partnership on the store's data."""
    from partnering.cli.common import console, engine
    from partnering.evaluate.run import evaluate_partnership

    if method not in _METHODS:
        raise ValidationError(f"--method {method!r}: choose its, did, sc, cs or all")
    inds = [c.strip() for c in indicator.split(",")] if indicator else None
    evs = evaluate_partnership(engine(), ref, indicators=inds, methods=_METHODS[method], start=start,
                               exclude_spillover=not include_spillover)
    if report is not None:
        from partnering.report.evaluation import write_report

        write_report(evs, report, title=f"Partnership {ref}")
    if as_json:
        typer.echo(json.dumps({k: v.to_dict() for k, v in evs.items()}, default=str))
        return
    for ev in evs.values():
        _print_evaluation(ev, console)
    if report is not None:
        console.print(f"report written to {report}")


@evaluate_app.command("protocol")
def protocol_cmd(
    out: Annotated[Path, typer.Argument(help="Where to save the protocol (.json or .toml).")],
    partnership: Annotated[str, typer.Option("--partnership", help="The partnership (id or RECIPIENT:SUPPORTER).")],
    outcomes: Annotated[str, typer.Option("--outcomes", help="Outcome indicators: CODE,CODE.")],
    start: Annotated[str, typer.Option("--start", help="First treated period.")],
    methods: Annotated[str, typer.Option("--methods", help="Methods: its,did,sc,rtm ...")] = "its,did,sc,rtm",
    comparators: Annotated[str, typer.Option("--comparators", help="peers, all, or CODE,CODE.")] = "peers",
) -> None:
    """Save an analysis protocol and print its SHA-256 fingerprint (do this before looking at post-period data)."""
    from partnering.evaluate.protocol import Protocol, save_protocol

    proto = Protocol(partnership=partnership, outcomes=[o.strip() for o in outcomes.split(",")], start=start,
                     methods=[m.strip() for m in methods.split(",")], comparators=comparators)
    typer.echo(save_protocol(proto, out))


def register(app: typer.Typer) -> None:
    app.add_typer(evaluate_app, name="evaluate")
