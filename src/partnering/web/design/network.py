"""Design stage: the network tool's pages and API (issue #12 s.2): where to host a shared service.

Thin faces over :func:`partnering.design.network.stroke_network` (England's LSOAs and the 2022 stroke units):
parse, call, render.  The page draws the hubs on the SVG map of England (:mod:`partnering.web.map`: boundaries from
files, no tiles) with shapes and numbers (hub = numbered square, closed site = cross), and the same hubs, the
access summary and the equity table as tables beside it."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from partnering.web.deps import api_user, page_user
from partnering.web.render import records, render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"])

Model = Literal["p-median", "coverage", "p-centre"]


class NetworkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p: int = Field(ge=1, le=500, description="How many hubs to open", examples=[8])
    model: Model = "p-median"
    within_minutes: float = Field(30.0, gt=0, le=600)
    icb: str | None = Field(None, description="Only this ICB's LSOAs (E54... or the NHS code Q...)",
                            examples=["QHM"])
    locked: list[str] = Field(default_factory=list, description="Stroke-unit postcodes kept open")
    consultants_per_site: float | None = Field(None, ge=0)
    min_consultants: float | None = Field(None, ge=0)
    time_limit: float = Field(20.0, gt=0, le=60)
    catchments: bool = False


@api.post("/design/network")
def api_network(body: NetworkIn, user=Depends(api_user)) -> dict:
    """Hubs, catchments, access within T minutes, travel added, workforce per hub and equity by IMD decile, with
    the solver's proven bound and gap (p-median: Hakimi 1964, Beasley 1993; coverage: Church & ReVelle 1974)."""
    from partnering.design.network import stroke_network

    res = stroke_network(body.p, model=body.model, icb=body.icb, locked=body.locked or None,
                         within_minutes=body.within_minutes, time_limit=body.time_limit,
                         consultants_per_site=body.consultants_per_site, min_consultants=body.min_consultants)
    return res.to_dict(catchments=body.catchments)


def network_map(hubs, sites, title: str) -> Markup:
    """Hubs as numbered squares, sites not chosen as crosses, on England's ICB and region boundaries."""
    import pandas as pd

    from partnering.web.map import WIDTH, _marker, boundary_paths, frame_for

    fr = frame_for(pd.DataFrame({"latitude": sites["lat"], "longitude": sites["lon"]}))
    h = fr.height
    out = ['<figure class="app-map-figure">',
           f'<figcaption id="network-map-caption" class="app-map-caption">{escape(title)}</figcaption>',
           f'<svg class="app-map" viewBox="0 0 {WIDTH} {h}" width="100%" role="img" '
           'aria-labelledby="network-map-caption" aria-describedby="network-map-desc" '
           'xmlns="http://www.w3.org/2000/svg">',
           '<desc id="network-map-desc">Each chosen hub is a square with its number from the hubs table; each site '
           'not chosen is a cross. The tables on this page list the same hubs.</desc>',
           f'<rect width="{WIDTH}" height="{h}" fill="#f0f4f5"/>']
    for level, width, colour in (("icb", 0.6, "#aeb7bd"), ("region", 1.4, "#4c6272")):
        d = boundary_paths(level, fr)
        if d:
            fill = "#ffffff" if level == "icb" else "none"
            out.append(f'<path d="{d}" fill="{fill}" stroke="{colour}" stroke-width="{width}"/>')
    chosen = set(hubs["site"]) if len(hubs) else set()
    out.append('<g stroke="#4c6272" stroke-width="1.4" fill="none">')
    for r in sites.itertuples():
        if r.site not in chosen:
            x, y = fr.xy(r.lon, r.lat)
            out.append(_marker("cross", x, y, 4.0))
    out.append('</g><g stroke="#212b32" stroke-width="1">')
    for i, r in enumerate(hubs.itertuples(), start=1):
        x, y = fr.xy(r.lon, r.lat)
        out.append(f'<g fill="#005eb8">{_marker("square", x, y, 7.0)}</g>'
                   f'<text x="{x:.1f}" y="{y + 3:.1f}" text-anchor="middle" font-size="8" font-weight="bold" '
                   f'font-family="Arial, sans-serif" fill="#ffffff" stroke="none">{i}</text>')
    out.append("</g></svg></figure>")
    return Markup("".join(out))


@pages.get("/design/network")
def network_page(request: Request, user=Depends(page_user), p: int | None = Query(None, ge=1, le=500),
                 model: Model = "p-median", within: float = Query(30.0, gt=0, le=600), icb: str | None = None):
    """The form; with ``p`` the designed network: map, hubs, access and equity tables."""
    from partnering.design.network import load_lsoa_demand, load_stroke_units, nearby_sites, stroke_network
    from partnering.errors import PartneringError

    ctx: dict = {"form": {"p": p or "", "model": model, "within": within, "icb": icb or ""}, "errors": []}
    if p is not None:
        try:
            res = stroke_network(p, model=model, icb=icb or None, within_minutes=within, time_limit=20.0)
            sites = load_stroke_units()
            if icb:
                sites = nearby_sites(load_lsoa_demand(icb=icb), sites)
            hubs = res.hubs.copy()
            hubs.insert(0, "number", range(1, len(hubs) + 1))
            ctx.update(result=res.to_dict(), hubs=records(hubs), equity=records(res.equity),
                       map=network_map(res.hubs, sites, f"{len(hubs)} hubs ({model}) among {len(sites)} stroke "
                                                        "units"))
        except PartneringError as exc:
            ctx["errors"] = [str(exc)]
    return render(request, "design/network/network.html", title="Shared-service network", **ctx)
