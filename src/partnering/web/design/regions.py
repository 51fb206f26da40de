"""Design stage: the regions tool's pages and API (issue #12 s.1): group areas into k balanced contiguous regions.

Thin faces over :func:`partnering.design.regions.design_regions`: parse, call, render. The page draws the regions
on the SVG map of England (the frame of :mod:`partnering.web.map`, areas from the boundary files, no tiles): each
region's outline is a dark line and its number sits at its population-weighted centre, so the grouping reads without
colour; the fills only repeat it. The same regions are listed in a table beside the map."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from partnering.web.deps import api_user, page_user
from partnering.web.render import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"])

AreaKind = Literal["ltla24", "icb22", "sicbl22"]
Objective = Literal["need", "compact", "travel"]
FILLS = ("#e8edee", "#cfe3f5", "#fff2cc", "#d6ecd2", "#f3d9e6", "#e2dcf0")  # pale, repeating: a help, not the key


class RegionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    k: int = Field(ge=1, le=300, description="Exactly this many regions", examples=[7])
    areas: AreaKind = "ltla24"
    balance: float = Field(0.05, gt=0, lt=1, description="Every region within ±this of the mean population")
    objective: Objective = "need"
    respect: Literal["nhs-region"] | None = None
    together: list[str] = Field(default_factory=list, description="Pairs 'A,B' kept in one region")
    apart: list[str] = Field(default_factory=list, description="Pairs 'A,B' kept in different regions")
    seed: int = 0


@api.post("/design/regions")
def api_regions(body: RegionsIn, user=Depends(api_user)) -> dict:
    """Exactly k contiguous regions within ±balance of the mean population, with each region's members, population,
    need (IMD 2025, share aged 65+), compactness and objective; island links used are named in ``notes``. An
    impossible request answers 4xx naming the binding constraint (balance, keep together/apart, respect)."""
    from partnering.design.regions import design_regions, load_areas

    plan = design_regions(load_areas(body.areas), body.k, balance=body.balance, objective=body.objective,
                          respect=body.respect, together=body.together, apart=body.apart, seed=body.seed)
    return plan.to_dict()


def _path(geom, fr) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            pts = [fr.xy(x, y) for x, y in ring.coords]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def regions_map(areas, plan, title: str) -> Markup:
    """Areas filled by region, each region outlined and numbered at its population-weighted centre."""
    from shapely.ops import unary_union

    from partnering.web.map import ENGLAND, WIDTH, Frame

    fr = Frame(*ENGLAND)
    h = fr.height
    at = {c: i for i, c in enumerate(areas.codes)}
    out = ['<figure class="app-map-figure">',
           f'<figcaption id="regions-map-caption" class="app-map-caption">{escape(title)}</figcaption>',
           f'<svg class="app-map" viewBox="0 0 {WIDTH} {h}" width="100%" role="img" '
           'aria-labelledby="regions-map-caption" aria-describedby="regions-map-desc" '
           'xmlns="http://www.w3.org/2000/svg">',
           '<desc id="regions-map-desc">Each region is outlined with a dark line and carries its number from the '
           'regions table at its population-weighted centre; the table on this page lists the same regions with '
           'their areas.</desc>',
           f'<rect width="{WIDTH}" height="{h}" fill="#f0f4f5"/>']
    for r in plan.regions:
        geoms = [areas.geoms[at[m]] for m in r.members]
        fill = FILLS[(r.number - 1) % len(FILLS)]
        out.append(f'<path d="{"".join(_path(g, fr) for g in geoms)}" fill="{fill}" stroke="#ffffff" '
                   'stroke-width="0.4"/>')
    for r in plan.regions:
        outline = unary_union([areas.geoms[at[m]] for m in r.members])
        out.append(f'<path d="{_path(outline, fr)}" fill="none" stroke="#212b32" stroke-width="1.3"/>')
    for r in plan.regions:
        x, y = fr.xy(r.centre_lon, r.centre_lat)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#005eb8" stroke="#ffffff" stroke-width="1"/>'
                   f'<text x="{x:.1f}" y="{y + 3:.1f}" text-anchor="middle" font-size="8" font-weight="bold" '
                   f'font-family="Arial, sans-serif" fill="#ffffff">{r.number}</text>')
    out.append("</svg></figure>")
    return Markup("".join(out))


@pages.get("/design/regions")
def regions_page(request: Request, user=Depends(page_user), k: int | None = Query(None, ge=1, le=300),
                 areas: AreaKind = "ltla24", balance: float = Query(0.05, gt=0, lt=1), objective: Objective = "need",
                 respect: str | None = None, together: str | None = None, apart: str | None = None):
    """The form; with ``k`` the regions: map and table."""
    from partnering.design.regions import design_regions, load_areas
    from partnering.errors import PartneringError

    ctx: dict = {"form": {"k": k or "", "areas": areas, "balance": balance, "objective": objective,
                          "respect": respect or "", "together": together or "", "apart": apart or ""}, "errors": []}
    if k is not None:
        try:
            a = load_areas(areas)
            pairs = [p.strip() for p in (together or "").split(";") if p.strip()]
            apart_pairs = [p.strip() for p in (apart or "").split(";") if p.strip()]
            plan = design_regions(a, k, balance=balance, objective=objective, respect=respect or None,
                                  together=pairs, apart=apart_pairs)
            names = a.frame["name"].to_dict()
            rows = [{**r.__dict__, "member_names": ", ".join(names.get(m, m) for m in r.members)}
                    for r in plan.regions]
            ctx.update(plan=plan, rows=rows,
                       map=regions_map(a, plan, f"{plan.k} regions of {len(a.frame)} areas, each within "
                                                f"±{plan.balance:.0%} of the mean population"))
        except PartneringError as exc:
            ctx["errors"] = [str(exc)]
    return render(request, "design/regions/regions.html", title="Regional groups", **ctx)
