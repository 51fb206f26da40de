"""``partnering appraise``: the economic case from the command line.

A thin face over :mod:`partnering.appraise`. ``discount`` is the quick calculator: the present value of any yearly
flow (year 0 first) by the same code the appraisal uses. numpy and the library are imported inside the commands so
``partnering --help`` stays fast.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
import typer.core

from partnering.errors import ValidationError


class _CaseFirstGroup(typer.core.TyperGroup):
    """``partnering appraise CASE.toml ...`` runs the case: a first argument that is not a command means ``run``."""

    def parse_args(self, ctx, args):
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


appraise_app = typer.Typer(
    help="Appraise make, buy, partner or merge the Green Book way. "
    "'partnering appraise CASE.toml' runs a case (the same as 'appraise run CASE.toml').",
    no_args_is_help=True,
    cls=_CaseFirstGroup,
)


def parse_flows(text: str) -> list[float]:
    """``"1000,1000,-500"`` as numbers (year 0 first); spaces allowed, nothing else."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise ValidationError(
            f"--flows {text!r}: give comma-separated yearly values, year 0 first, e.g. 1000,1000,-500"
        )
    try:
        return [float(item.replace("_", "")) for item in items]
    except ValueError as exc:
        raise ValidationError(f"--flows {text!r}: {exc}") from exc


@appraise_app.command("discount")
def discount(
    flows: Annotated[str, typer.Option("--flows", help="Yearly values, year 0 first, comma-separated: 1000,1000,-500")],
    schedule: Annotated[
        str, typer.Option("--schedule", help="standard (STPR, 3.5% to year 30) or health (1.5%, for QALYs).")
    ] = "standard",
    vintage: Annotated[str, typer.Option("--vintage", help="Green Book vintage: 2022 or 2026.")] = "2026",
    as_json: Annotated[bool, typer.Option("--json", help='Print {"present_value": ...} only.')] = False,
) -> None:
    """The present value of a yearly flow under the Green Book's declining discount schedule."""
    from partnering.appraise.discount import present_value

    if schedule not in ("standard", "health"):
        raise ValidationError(f"--schedule {schedule!r}: choose standard or health")
    if vintage not in ("2022", "2026"):
        raise ValidationError(f"--vintage {vintage!r}: choose 2022 or 2026")
    values = parse_flows(flows)
    pv = present_value(values, schedule, vintage)
    if as_json:
        typer.echo(json.dumps({"present_value": pv}))
    else:
        typer.echo(f"Present value: {pv:,.3f} ({len(values)} years, {schedule} schedule, Green Book {vintage})")


@appraise_app.command("new")
def new(
    org: Annotated[str, typer.Option("--org", help="ODS code of the organisation the case is for.")],
    out: Annotated[str, typer.Option("--out", help="Where to write the case (TOML).")],
    price_base_year: Annotated[int | None, typer.Option("--price-base-year", help="Default: this year.")] = None,
    stage: Annotated[str, typer.Option("--stage", help="Business case stage: SOC, OBC or FBC.")] = "SOC",
    turnover: Annotated[float | None, typer.Option(
        "--turnover", help="The organisation's operating income, GBP million a year, from its annual accounts "
                           "(no table of trust income is held; without it a GBP 450m placeholder is used and the "
                           "case says so). At most 10000 (GBP 10bn).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a pre-filled decision case for a real organisation: gaps from measure, partners from match, defaults
    from evidence."""
    from pathlib import Path

    from partnering.appraise.case import dump_case
    from partnering.appraise.prefill import prefill_case
    from partnering.cli.common import console, engine

    if stage not in ("SOC", "OBC", "FBC"):
        raise ValidationError(f"--stage {stage!r}: choose SOC, OBC or FBC")
    path = Path(out)
    if path.exists() and not force:
        raise ValidationError(f"{out} exists: choose another --out or add --force")
    if turnover is not None:
        from partnering.appraise.prefill import MAX_TURNOVER_GBP

        if not turnover > 0 or turnover * 1e6 > MAX_TURNOVER_GBP:
            raise ValidationError(
                f"--turnover {turnover:,.15g}: give the operating income in GBP million, like 450 for GBP 450m "
                f"(at most {MAX_TURNOVER_GBP / 1e6:,.0f}, GBP 10bn: the largest NHS trusts' income is about "
                "GBP 2-3bn)")
    case = prefill_case(engine(), org, price_base_year=price_base_year, stage=stage,
                        turnover_gbp=None if turnover is None else turnover * 1e6)
    header = (
        f"Decision case for {case.case.org_name} ({case.case.org_code}), pre-filled by partnering appraise new."
        "\nFormat: docs/appraisal-case.md. Money: GBP, real terms, the price base year's prices."
        "\nRun it: partnering appraise " + path.name + " [--json] [--report case.pdf] [--xlsx case.xlsx]"
    )
    path.write_text(dump_case(case, header), encoding="utf-8")
    opts = ", ".join(o.key for o in case.options)
    console.print(f"Wrote {out}: {len(case.options)} options ({opts}); {len(case.problem.gaps)} gaps to close.")
    for w in case.warnings:
        console.print(f"Note: {w}", markup=False)


@appraise_app.command("run")
def run(
    case_file: Annotated[str, typer.Argument(help="The decision case (TOML).", metavar="CASE.toml")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    report: Annotated[
        str | None, typer.Option("--report", help="Write the Five-Case report: out.pdf or out.html.")
    ] = None,
    xlsx: Annotated[
        str | None, typer.Option("--xlsx", help="Write every cash flow and result table: out.xlsx.")
    ] = None,
    draws: Annotated[int | None, typer.Option("--draws", help="Monte Carlo draws (default: the case's).")] = None,
) -> None:
    """Run a decision case: NPSV, BCR, Monte Carlo P10/P50/P90 and P(best), MCDA, recommendation and route."""
    from partnering.appraise.case import load_case
    from partnering.appraise.run import run_case

    if draws is not None and draws < 100:
        raise ValidationError("--draws must be at least 100")
    if report and not report.lower().endswith((".pdf", ".html", ".htm")):
        raise ValidationError(f"--report {report!r}: the file must end .pdf or .html")
    if xlsx and not xlsx.lower().endswith(".xlsx"):
        raise ValidationError(f"--xlsx {xlsx!r}: the file must end .xlsx")
    res = run_case(load_case(case_file), draws=draws)
    if report or xlsx:
        from partnering.report.appraisal import write_report, write_xlsx

        if report:
            write_report(res, report)
        if xlsx:
            write_xlsx(res, xlsx)
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
        return
    _print_result(res, report, xlsx)


def _print_result(res, report, xlsx) -> None:
    from partnering.cli.common import console, print_frame

    c = res.case.case
    console.print(
        f"{c.title} - GBP, real terms, {c.price_base_year} prices; Green Book {c.vintage}; {res.economic.draws:,} draws"
    )
    tab = res.table().reset_index()
    cols = ["option", "npsv", "pv_costs", "pv_benefits", "bcr", "p10", "p50", "p90", "p_best"]
    cols += [x for x in ("mcda_score", "mcda_rank") if x in tab.columns]
    print_frame(tab[cols], "Options")
    console.print(f"Expected value of perfect information: GBP {res.evpi:,.0f}")
    console.print(res.recommendation.text)
    for r in res.recommendation.reasons:
        console.print(f"  {r}")
    for p in res.problems:
        console.print(f"Shortlist: {p}", markup=False)
    for w in res.warnings:  # the case's own and the appraisal's (e.g. an un-rebased QALY value), as --json gives
        console.print(f"Note: {w}", markup=False)
    for out in (report, xlsx):
        if out:
            console.print(f"Wrote {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(appraise_app, name="appraise")
