"""``partnering appraise``: the economic case from the command line.

A thin face over :mod:`partnering.appraise`. ``discount`` is the quick calculator: the present value of any yearly
flow (year 0 first) by the same code the appraisal uses. numpy and the library are imported inside the commands so
``partnering --help`` stays fast.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from partnering.errors import ValidationError

appraise_app = typer.Typer(help="Appraise make, buy, partner or merge the Green Book way.", no_args_is_help=True)


def parse_flows(text: str) -> list[float]:
    """``"1000,1000,-500"`` as numbers (year 0 first); spaces allowed, nothing else."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise ValidationError(f"--flows {text!r}: give comma-separated yearly values, year 0 first, e.g. 1000,1000,-500")
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


def register(app: typer.Typer) -> None:
    app.add_typer(appraise_app, name="appraise")
