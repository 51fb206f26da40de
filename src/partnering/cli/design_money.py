"""`partnering design consolidation|allocation`: the money tools' commands (issue #12 s.3-4).

Thin faces over :mod:`partnering.design.consolidation` and :mod:`partnering.design.allocation`; heavy imports stay
inside the commands so that the CLI starts fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _pairs(values: list[str] | None, what: str) -> dict[str, float]:
    from partnering.errors import ValidationError

    out: dict[str, float] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value.replace(",", "").replace("_", ""))
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise ValidationError(f"{what} {item!r} is not NAME=NUMBER")
    return out


#: how the allocation table prints each column (the CSV/JSON keep the raw numbers): heads and money whole,
#: distance from target and shares of the budget as percentages
_FORMATS = {
    "population": "{:,.0f}", "deprivation": "{:.1f}", "target_gbp": "{:,.0f}", "target_at_actual_gbp": "{:,.0f}",
    "actual": "{:,.0f}", "distance_from_target": "{:+.1%}", "share_p05": "{:.2%}", "share_p95": "{:.2%}",
}


def _shown(frame):
    """The allocation table as text for the terminal (blank where a value is missing)."""
    out = frame.copy()
    for col, fmt in _FORMATS.items():
        if col in out:
            out[col] = [fmt.format(v) if v == v and v is not None else "" for v in out[col]]
    return out


def register(design: typer.Typer) -> None:
    """Add this tool's commands to the `design` group."""

    @design.command("consolidation")
    def consolidation(
        trusts: Annotated[str, typer.Option("--trusts", help="Trust ODS codes, comma-separated (A,B,C).")],
        turnover: Annotated[list[str] | None, typer.Option(
            "--turnover", help="CODE=GBP operating income from the trust's accounts; repeat per trust. Missing "
                               "trusts take a stated placeholder (GBP 450m).")] = None,
        form: Annotated[str, typer.Option("--form", help="merger (one board, one audit) or group (common "
                                                         "control, shared back office).")] = "merger",
        parameter: Annotated[list[str] | None, typer.Option(
            "--parameter", help="NAME=VALUE overriding a model parameter (e.g. scale_elasticity=0.8).")] = None,
        into_case: Annotated[Path | None, typer.Option(
            "--into-case", help="Add the grouping as an option to this decision case (TOML, rewritten in place).")]
        = None,
        key: Annotated[str | None, typer.Option("--key", help="Option key in the case.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Recurring savings of one board, executive team, audit, back office and procurement, against one-off
        transition costs (Carter 2016; Monitor; Fulop et al. 2002)."""
        from partnering.design.consolidation import add_to_case, consolidation_savings

        result = consolidation_savings([t for t in trusts.split(",") if t.strip()], _pairs(turnover, "--turnover"),
                                       form=form, parameters=_pairs(parameter, "--parameter"))
        added = None
        if into_case is not None:
            from partnering.appraise.case import dump_case, load_case

            case = load_case(into_case)
            new = add_to_case(case, result, key=key)
            into_case.write_text(dump_case(new), encoding="utf-8")
            added = new.options[-1].key
        if as_json:
            out = result.to_dict()
            if added:
                out["added_to_case"] = {"file": str(into_case), "option": added}
            typer.echo(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False))
            return
        from partnering.cli.common import console

        console.print(f"[bold]{result.name}[/] ({result.form}), combined turnover GBP "
                      f"{result.combined_turnover / 1e6:,.0f}m")
        for s in result.savings:
            console.print(f"  {s.component:<15} GBP {s.gbp_per_year / 1e6:7.2f}m a year "
                          f"({s.low / 1e6:.2f}-{s.high / 1e6:.2f}m)  {s.working}")
        lo, hi = result.recurring_saving_range
        console.print(f"  recurring saving GBP {result.recurring_saving / 1e6:,.2f}m a year at full effect "
                      f"({lo / 1e6:,.2f}-{hi / 1e6:,.2f}m); {result.monitor_check()}")
        console.print(f"  one-off transition GBP {result.transition_cost / 1e6:,.2f}m; savings start after "
                      f"{result.completion_years + result.benefit_delay_years:g} years, full after a further "
                      f"{result.benefit_ramp_years:g}; payback year {result.payback_year}")
        for w in result.warnings:
            console.print(f"[yellow]Warning:[/] {w}")
        if added:
            console.print(f"Added option {added!r} to {into_case}")

    @design.command("allocation")
    def allocation(
        budget: Annotated[float, typer.Option("--budget", help="Budget to allocate, GBP.")],
        units: Annotated[str, typer.Option("--units", help="practices (GP practices, July 2023 lists) or areas "
                                                           "(local authorities 2024), or a CSV file of units.")]
        = "practices",
        actual: Annotated[Path | None, typer.Option(
            "--actual", help="CSV of code,funding (or code,actual): current funding per unit, GBP, for distance "
                             "from target; the budget is allocated over the units in the file.")]
        = None,
        weights: Annotated[Path | None, typer.Option(
            "--weights", help="TOML of weights (name = number, or name = {value, low, high, source}).")] = None,
        floor_growth: Annotated[float | None, typer.Option(
            "--floor-growth", help="Pace of change: minimum growth for every unit (0.01 = 1%).")] = None,
        max_growth: Annotated[float | None, typer.Option("--max-growth", help="Pace of change: growth cap.")]
        = None,
        draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws over the weight ranges.")] = 200,
        seed: Annotated[int, typer.Option("--seed")] = 2026,
        rows: Annotated[int, typer.Option("--rows", help="Units to list (largest distance from target first).")]
        = 20,
        output: Annotated[Path | None, typer.Option("--output", help="Write every unit's row to this CSV.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Allocate a budget by weighted capitation; distance from target, pace of change, the concentration index
        of funding per weighted head against deprivation, and the spread of each share over the weights' ranges."""
        import tomllib

        import pandas as pd

        from partnering.design.allocation import allocate, area_units, practice_units, read_funding, with_funding
        from partnering.errors import IngestError, ValidationError

        if units == "practices":
            frame = practice_units()
        elif units == "areas":
            frame = area_units()
        elif Path(units).is_file():
            frame = pd.read_csv(units)
        else:
            raise ValidationError(f"--units {units!r}: use practices, areas or a CSV file")
        if actual is not None:
            try:
                data = actual.read_bytes()
            except OSError as exc:
                raise IngestError(str(actual), f"cannot be read: {exc.strerror}") from None
            funding = read_funding(data, str(actual), frame["code"].astype(str), "units")
            before = len(frame)
            frame = with_funding(frame.drop(columns=["actual"], errors="ignore"), funding)
            if len(frame) < before and not as_json:
                from partnering.cli.common import console

                console.print(f"Allocating over the {len(frame):,} units in {actual.name} (of {before:,}).")
        overrides = None
        if weights is not None:
            try:
                overrides = tomllib.loads(weights.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise IngestError(str(weights), f"not a readable TOML file: {exc}") from None
        result = allocate(frame, budget, weights=overrides, draws=draws, seed=seed, floor_growth=floor_growth,
                          max_growth=max_growth)
        table = result.units
        if "distance_from_target" in table:
            table = table.reindex(table["distance_from_target"].abs().sort_values(ascending=False).index)
        if output is not None:
            result.units.to_csv(output, index=False)
        if as_json:
            out = result.to_dict(rows=0)
            out["units"] = result.records(table.head(rows))
            typer.echo(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False, default=float))
            return
        from partnering.cli.common import console, print_frame

        s = result.summary()
        console.print(f"[bold]{s['units']:,} units[/], budget GBP {result.budget / 1e6:,.1f}m, weighted population "
                      f"{s['weighted_population']:,.0f} of {s['population']:,.0f}")
        console.print(result.concentration_reading())
        if result.pace:
            before, after = (result.pace[k] for k in ("mean_abs_distance_before", "mean_abs_distance_after"))
            console.print("Pace of change: mean |distance from target| "
                          + " -> ".join("n/a" if v is None else f"{v:.1%}" for v in (before, after)))
        cols = [c for c in ("code", "population", "deprivation", "target_gbp", "target_at_actual_gbp", "actual",
                            "distance_from_target",
                            "share_p05", "share_p95") if c in table]
        print_frame(_shown(table[cols]), max_rows=rows,
                    more="use --rows to list more, or --output FILE.csv to write every unit's row")
        for w in result.warnings:
            console.print(f"[yellow]Warning:[/] {w}")
