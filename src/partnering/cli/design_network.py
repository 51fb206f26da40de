"""`partnering design`: the network tool's commands (issue #12)."""

from __future__ import annotations

from pathlib import Path

import typer

from partnering.cli.common import console, err


def register(design: typer.Typer) -> None:
    """Add this tool's commands to the `design` group."""

    @design.command("network")
    def network(
        p: int = typer.Option(..., "--p", help="How many hubs to open."),
        model: str = typer.Option("p-median", help="p-median | coverage | p-centre"),
        within: float = typer.Option(30.0, help="Minutes for 'within T' (coverage and the access share)."),
        icb: str = typer.Option(None, help="Only this ICB's LSOAs (E54... or Q...)."),
        lock: list[str] = typer.Option(None, "--lock", help="Stroke-unit postcode kept open (repeatable)."),
        demand: Path = typer.Option(None, help="Demand CSV (code, weight, lat, lon[, imd_decile]); default: LSOAs."),
        sites: Path = typer.Option(None, help="Sites CSV (site, name, lat, lon[, locked, capacity, consultants]); "
                                             "default: the 2022 stroke units."),
        matrix: Path = typer.Option(None, help="Travel minutes CSV: demand code rows x site columns."),
        capacitated: bool = typer.Option(False, help="Apply the sites' capacities."),
        min_consultants: float = typer.Option(None, help="Minimum consultants pooled per hub (e.g. 6)."),
        consultants_per_site: float = typer.Option(None, help="Consultants at each site when sites lack them."),
        time_limit: float = typer.Option(30.0, help="Seconds."),
        gap: float = typer.Option(0.001, help="Target relative optimality gap."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        catchments: bool = typer.Option(False, help="Include every demand point's hub in the JSON."),
    ) -> None:
        """Choose which sites host a shared service: hubs, catchments, travel, workforce and equity."""
        import json

        import pandas as pd

        from partnering.design import network as nw
        from partnering.errors import PartneringError

        try:
            dem = pd.read_csv(demand) if demand else nw.load_lsoa_demand(icb=icb)
            sit = pd.read_csv(sites) if sites else nw.load_stroke_units()
            if icb and not sites:
                sit = nw.nearby_sites(dem, sit)
            if "site" in sit.columns:
                sit["site"] = sit["site"].astype(str).str.replace(" ", "").str.upper()
            if lock:
                want = {s.replace(" ", "").upper() for s in lock}
                unknown = want - set(sit["site"])
                if unknown:
                    raise nw.NotFoundError(f"no site {', '.join(sorted(unknown))}")
                sit["locked"] = sit["site"].isin(want)
            if consultants_per_site is not None:
                sit["consultants"] = consultants_per_site
            minutes, travel = None, None
            if matrix:
                minutes, travel = nw.travel_minutes(dem, sit, nw.read_minutes_matrix(matrix))
            res = nw.design_network(dem, sit, p, model=model, minutes=minutes, travel=travel, within_minutes=within,
                                    capacitated=capacitated, min_consultants=min_consultants,
                                    time_limit=time_limit, gap_target=gap)
        except PartneringError as exc:
            err.print(f"[red]{exc.user_message() if hasattr(exc, 'user_message') else exc}[/red]")
            raise typer.Exit(2) from None
        if as_json:
            print(json.dumps(res.to_dict(catchments=catchments), default=str))
            return
        from partnering.cli.common import print_frame

        s = res.summary
        console.print(f"[bold]{res.model}[/bold], {res.p} hubs: objective {res.objective:,.1f}, proven bound "
                      f"{res.bound:,.1f}, gap {res.gap:.3%} ({res.method}, {res.status}, {res.seconds:.1f} s)")
        console.print(f"Within {res.within_minutes:g} min: {s['share_within_minutes']:.1%} (today "
                      f"{s['share_within_minutes_today']:.1%}); mean {s['mean_minutes']:.1f} min (today "
                      f"{s['mean_minutes_today']:.1f}, added {s['mean_minutes_added']:+.1f})")
        if res.travel.get("estimated"):
            console.print(f"Travel estimated: {res.travel.get('formula')} (RMSE {res.travel.get('rmse_minutes')} min)")
        print_frame(res.hubs[["site", "name", "population", "mean_minutes", "max_minutes", "consultants",
                              "member_sites"]], title="Hubs")
        if not res.equity.empty:
            print_frame(res.equity, title="Access by IMD 2025 decile (1 = most deprived)")
        for note in res.notes:
            console.print(f"Note: {note}")
