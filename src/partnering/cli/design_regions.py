"""`partnering design`: the regions tool's commands (issue #12)."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(design: typer.Typer) -> None:
    """Add this tool's commands to the `design` group."""

    @design.command("regions")
    def regions(
        areas: Annotated[str, typer.Option("--areas", help="ltla24 (296 local authorities), icb22 or sicbl22.")] = (
            "ltla24"
        ),
        k: Annotated[int, typer.Option("--k", help="Exactly this many regions.")] = 7,
        balance: Annotated[float, typer.Option("--balance", help="Every region within ±this of the mean population "
                                                                 "(0.05 = ±5%).")] = 0.05,
        objective: Annotated[str, typer.Option("--objective", help="need (homogeneous IMD 2025 and age), compact, "
                                                                   "or travel (to the region's centre).")] = "need",
        respect: Annotated[str | None, typer.Option("--respect", help="Existing boundaries no region may cross: "
                                                                      "nhs-region.")] = None,
        together: Annotated[list[str] | None, typer.Option("--together", help="Keep two areas in one region: A,B "
                                                                              "(repeat for more pairs).")] = None,
        apart: Annotated[list[str] | None, typer.Option("--apart", help="Keep two areas in different regions: A,B "
                                                                        "(repeat for more pairs).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same answer).")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    ) -> None:
        """Group areas into exactly k contiguous regions of balanced population (issue #12 §1)."""
        from partnering.design.regions import design_regions, load_areas

        plan = design_regions(load_areas(areas), k, balance=balance, objective=objective, respect=respect,
                              together=together or (), apart=apart or (), seed=seed)
        if as_json:
            typer.echo(json.dumps(plan.to_dict(), default=str))
            return
        import pandas as pd

        from partnering.cli.common import console, print_frame

        console.print(
            f"{plan.k} regions of {plan.areas} areas, each within ±{plan.balance:.0%} of the mean "
            f"{plan.mean_population:,.0f} (largest {plan.largest_over_mean:.3f}x, smallest "
            f"{plan.smallest_over_mean:.3f}x the mean); objective {plan.objective} = {plan.objective_value:,.4g}"
        )
        rows = pd.DataFrame(
            [{"region": r.number, "areas": len(r.members), "population": f"{r.population:,.0f}",
              "IMD 2025 score": r.imd_score, "% aged 65+": r.pct_65_plus, "compactness": r.compactness,
              "mean km to centre": r.mean_km_to_centre, "NHS regions": ", ".join(r.nhs_regions),
              "members": " ".join(r.members)} for r in plan.regions]
        )
        print_frame(rows, max_rows=len(rows))
        for note in plan.notes:
            console.print(f"Note: {note}")
