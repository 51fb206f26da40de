"""Shared-service networks (issue #12 section 2): which sites host a service, given demand, candidate sites and
travel times — with the travel, coverage, workforce and equity consequences.

:func:`design_network` is the one entry point the CLI, API and web pages call.  The solvers and their sources are in
:mod:`partnering.design.facility` (p-median: Hakimi 1964, ReVelle & Swain 1970, Lagrangian bound of Beasley 1993;
maximal coverage: Church & ReVelle 1974; p-centre: Hakimi 1964, Minieka 1970).  Method write-up:
``docs/methods/design-network.md``.

Travel: a supplied demand x site matrix (minutes) when given; otherwise the fitted road model of
:mod:`partnering.match.travel` on straight-line distances, whose stated error (RMSE about 21 minutes over
4-585 km) is carried in the result's ``travel`` entry.

Workforce: a 24/7 consultant-delivered rota needs a minimum number of consultants.  The default minimum,
:data:`DEFAULT_MIN_CONSULTANTS`, is 6, from the Royal College of Physicians' journal *Clinical Medicine*: its table
of recommended staffing levels for acute and hyperacute stroke units gives, for a hyperacute stroke unit's
consultant physicians, 24/7 cover on a rota of at least six (the table as stored:
https://www.rcpjournals.org/highwire/markup/6797/expansion; the article it belongs to could not be confirmed from
the stored copy).  It is a professional recommendation for stroke, not a national standard for every 24/7 service
(no rota size for emergency surgery was found); the user may change it (``min_consultants``).  Consultant numbers per
site are not published with the stroke-unit file: they must be supplied (a ``consultants`` column) for the
workforce constraint to apply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.config import shared_data
from partnering.design import facility
from partnering.errors import NotFoundError, ValidationError

#: a hyperacute stroke unit's consultant physicians: 24/7 on a rota of at least 6 (Royal College of Physicians,
#: Clinical Medicine, table of recommended staffing levels for acute and hyperacute stroke units; module notes)
DEFAULT_MIN_CONSULTANTS = 6
#: the NHS England stroke target of arriving at a hyperacute unit within 30 minutes is not a national standard;
#: 30 minutes is the threshold stroke-maps and the National Stroke Service Model use for reporting — a user choice
DEFAULT_WITHIN_MINUTES = 30.0
MODELS = ("p-median", "coverage", "p-centre")


@dataclass
class NetworkResult:
    """A designed network: the solver's proof (objective, bound, gap), hubs, catchments and the consequences."""

    model: str
    p: int
    objective: float
    bound: float
    gap: float
    method: str
    status: str
    seconds: float
    within_minutes: float
    hubs: pd.DataFrame
    catchments: pd.DataFrame
    summary: dict
    equity: pd.DataFrame
    travel: dict
    notes: list[str] = field(default_factory=list)

    def to_dict(self, catchments: bool = False) -> dict:
        out = {
            "model": self.model, "p": self.p, "objective": self.objective, "bound": self.bound,
            "gap": self.gap, "method": self.method, "status": self.status, "seconds": round(self.seconds, 3),
            "within_minutes": self.within_minutes, "summary": self.summary, "travel": self.travel,
            "hubs": _records(self.hubs), "equity": _records(self.equity), "notes": self.notes,
        }
        if catchments:
            out["catchments"] = _records(self.catchments)
        return out


def _records(df: pd.DataFrame) -> list[dict]:
    clean = df.astype(object).where(df.notna(), None)
    rows = clean.to_dict("records")
    for r in rows:
        for k, v in r.items():
            if isinstance(v, (np.integer,)):
                r[k] = int(v)
            elif isinstance(v, (np.floating,)):
                r[k] = float(v)
            elif isinstance(v, (np.bool_,)):
                r[k] = bool(v)
    return rows


# ------------------------------------------------------------------------------------------------ inputs


def load_lsoa_demand(path: Path | None = None, imd_path: Path | None = None, icb: str | None = None) -> pd.DataFrame:
    """LSOA 2021 population-weighted centroids and Census 2021 populations, with the IMD 2025 decile.

    Columns: ``code``, ``name``, ``lat``, ``lon``, ``weight`` (population), ``imd_decile``, ``icb``.  ``icb`` keeps
    one ICB (2024 code E54... or the NHS code Q...).
    """
    path = path or shared_data("geo", "areas", "lsoa21-centroid-population.csv")
    imd_path = imd_path or shared_data("nhs", "imd", "imd2025_england_lsoa21.csv")
    if not Path(path).is_file():
        raise NotFoundError(f"no LSOA centroid file at {path}")
    raw = pd.read_csv(path, usecols=["lsoa21_code", "lsoa21_name", "lat", "lon", "pop_census2021", "icb24_code",
                                     "icb24_code_nhs"])
    if icb:
        raw = raw[(raw["icb24_code"] == icb) | (raw["icb24_code_nhs"] == icb)]
        if raw.empty:
            raise NotFoundError(f"no LSOAs in ICB {icb}")
    df = raw.rename(columns={"lsoa21_code": "code", "lsoa21_name": "name", "pop_census2021": "weight",
                             "icb24_code": "icb"}).drop(columns=["icb24_code_nhs"])
    if Path(imd_path).is_file():
        imd = pd.read_csv(imd_path, usecols=["lsoa21_code", "IMD_decile"]).rename(
            columns={"lsoa21_code": "code", "IMD_decile": "imd_decile"})
        df = df.merge(imd, on="code", how="left")
    else:
        df["imd_decile"] = np.nan
    return df.reset_index(drop=True)


def load_stroke_units(path: Path | None = None, country: str | None = None) -> pd.DataFrame:
    """The stroke-unit hospitals of stroke-modelling/stroke-maps (2022) as candidate sites.

    Columns: ``site`` (postcode), ``name``, ``trust``, ``lat``, ``lon``, ``admissions`` (2021/22), ``locked``
    (False), ``open_today`` (True: every unit listed ran in 2021/22), ``capacity`` (NaN), ``consultants`` (NaN:
    not published with this file).  ``country="England"`` keeps English units only.
    """
    path = path or shared_data("geo", "travel", "stroke-units-2022.csv")
    if not Path(path).is_file():
        raise NotFoundError(f"no stroke-unit file at {path}")
    raw = pd.read_csv(path)
    if country:
        raw = raw[raw["Country"] == country]
    return pd.DataFrame({
        "site": raw["Postcode"].astype(str).str.replace(" ", "").str.upper(),
        "name": raw["Stroke Team"].fillna(raw["Hospital_name"]).astype(str),
        "trust": raw["Health Board / Trust"].astype(str),
        "lat": raw["lat"].astype(float), "lon": raw["long"].astype(float),
        "admissions": pd.to_numeric(raw["Admissions 21/22"], errors="coerce"),
        "locked": False, "open_today": True, "capacity": np.nan, "consultants": np.nan,
    }).reset_index(drop=True)


def read_minutes_matrix(path: Path) -> pd.DataFrame:
    """A supplied travel matrix: first column the origin key, one column per destination key, minutes."""
    df = pd.read_csv(path)
    df = df.set_index(df.columns[0])
    df.index = df.index.astype(str).str.replace(" ", "").str.upper()
    df.columns = [str(c).replace(" ", "").upper() for c in df.columns]
    return df.apply(pd.to_numeric, errors="coerce")


def travel_minutes(demand: pd.DataFrame, sites: pd.DataFrame, matrix: pd.DataFrame | None = None
                   ) -> tuple[np.ndarray, dict]:
    """Demand x site minutes: the supplied matrix where it holds every pair, else the fitted road model.

    Returns the matrix and a ``travel`` description (source, and for the model its formula and error).
    """
    from partnering.match.travel import DEFAULT_DRIVE_MODEL, distance_matrix_km

    if matrix is not None:
        keys = demand["code"].astype(str).str.replace(" ", "").str.upper()
        sk = sites["site"].astype(str)
        missing_rows = set(keys) - set(matrix.index)
        missing_cols = set(sk) - set(matrix.columns)
        if not missing_rows and not missing_cols:
            mins = matrix.loc[keys, sk].to_numpy(dtype=float)
            if np.all(np.isfinite(mins)):
                return mins, {"source": "supplied matrix", "estimated": False}
        raise ValidationError(f"the supplied travel matrix lacks {len(missing_rows)} demand points and "
                              f"{len(missing_cols)} sites (or has blanks)")
    km = distance_matrix_km(demand["lat"], demand["lon"], sites["lat"], sites["lon"])
    mins = DEFAULT_DRIVE_MODEL.minutes(km)
    return mins, {"source": "fitted road model on straight-line distance", "estimated": True,
                  **DEFAULT_DRIVE_MODEL.summary()}


def nearby_sites(demand: pd.DataFrame, sites: pd.DataFrame, within: float = 60.0) -> pd.DataFrame:
    """Sites within ``within`` estimated road minutes of at least one demand point (for a regional study)."""
    from partnering.match.travel import DEFAULT_DRIVE_MODEL, distance_matrix_km

    mins = DEFAULT_DRIVE_MODEL.minutes(distance_matrix_km(demand["lat"], demand["lon"], sites["lat"], sites["lon"]))
    return sites[(mins <= within).any(axis=0)].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ design


def design_network(demand: pd.DataFrame, sites: pd.DataFrame, p: int, *, model: str = "p-median",
                   minutes: np.ndarray | None = None, travel: dict | None = None,
                   within_minutes: float = DEFAULT_WITHIN_MINUTES, capacitated: bool = False,
                   min_consultants: float | None = None, gap_target: float = 1e-3, time_limit: float = 30.0,
                   nearest: int | None = None) -> NetworkResult:
    """Choose ``p`` hubs among ``sites`` for ``demand`` and report the consequences.

    ``demand``: ``code``, ``weight`` (population or activity), ``lat``, ``lon``; optional ``imd_decile``, ``name``.
    ``sites``: ``site``, ``name``, ``lat``, ``lon``; optional ``locked`` (must stay open), ``open_today``,
    ``capacity`` (same unit as ``weight``; NaN = unlimited), ``consultants`` (at the site today).
    ``model``: ``p-median`` (least total weighted minutes), ``coverage`` (most weight within ``within_minutes``),
    ``p-centre`` (shortest longest trip).  ``capacitated`` applies the capacities; ``min_consultants`` requires
    each hub to pool at least that many consultants from the sites whose staff join it (p-median only).
    """
    t0 = time.perf_counter()
    if model not in MODELS:
        raise ValidationError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    for col in ("code", "weight", "lat", "lon"):
        if col not in demand.columns:
            raise ValidationError(f"demand lacks the column {col!r}")
    for col in ("site", "lat", "lon"):
        if col not in sites.columns:
            raise ValidationError(f"sites lack the column {col!r}")
    demand = demand.reset_index(drop=True)
    sites = sites.reset_index(drop=True).copy()
    for col, default in (("locked", False), ("open_today", True), ("capacity", np.nan), ("consultants", np.nan),
                         ("name", None)):
        if col not in sites.columns:
            sites[col] = default if col != "name" else sites["site"]
    if minutes is None:
        minutes, travel = travel_minutes(demand, sites)
    travel = travel or {"source": "supplied matrix", "estimated": False}
    minutes = np.asarray(minutes, dtype=float)
    w = demand["weight"].to_numpy(dtype=float)
    locked = sites["locked"].fillna(False).to_numpy(dtype=bool)
    notes: list[str] = []
    if model == "p-median" and (capacitated or min_consultants):
        staff = None
        if min_consultants:
            if sites["consultants"].isna().all():
                raise ValidationError("a workforce minimum needs each site's consultants (a 'consultants' column)")
            staff = sites["consultants"].fillna(0).to_numpy(dtype=float)
        lag = facility.p_median_lagrangian(minutes, w, p, locked, gap_target=gap_target,
                                           time_limit=min(10.0, time_limit / 3))
        from partnering.match.travel import DEFAULT_DRIVE_MODEL, distance_matrix_km

        site_minutes = DEFAULT_DRIVE_MODEL.minutes(distance_matrix_km(sites["lat"], sites["lon"], sites["lat"],
                                                                      sites["lon"]))
        if nearest is None and minutes.size > 200_000:
            nearest = 10  # keeps the MIP solvable; the reported bound stays valid for the full problem
        sol = facility.p_median_mip(minutes, w, p, locked,
                                    capacity=sites["capacity"].to_numpy(dtype=float) if capacitated else None,
                                    staff=staff, min_staff=float(min_consultants or 0), staff_minutes=site_minutes,
                                    nearest=nearest, time_limit=max(1.0, time_limit - (time.perf_counter() - t0)),
                                    mip_gap=gap_target, lower_bound=lag.bound)
    elif model == "p-median":
        sol = facility.p_median(minutes, w, p, locked, gap_target=gap_target, time_limit=time_limit)
    elif model == "coverage":
        sol = facility.max_coverage(minutes, w, p, within_minutes, locked, time_limit=time_limit)
    else:
        sol = facility.p_centre(minutes, p, locked, time_limit=time_limit)
    notes.extend(sol.notes)
    return _report(demand, sites, minutes, sol, p, model, within_minutes, travel, notes, t0)


def _report(demand, sites, minutes, sol, p, model, within, travel, notes, t0) -> NetworkResult:
    n = len(demand)
    w = demand["weight"].to_numpy(dtype=float)
    rows = np.arange(n)
    open_idx = sol.open
    if sol.flows is not None:  # capacitated: demand may be split; minutes are the flow-weighted average
        flows = sol.flows.tocsr()
        after = np.asarray(flows.multiply(minutes).sum(axis=1)).ravel()
        load = np.asarray(flows.T @ w).ravel()
    else:
        after = minutes[rows, sol.assign]
        load = np.bincount(sol.assign, weights=w, minlength=len(sites))
    today_open = np.flatnonzero(sites["open_today"].fillna(True).to_numpy(dtype=bool))
    today = minutes[:, today_open].min(axis=1) if len(today_open) else np.full(n, np.nan)
    total = w.sum()
    share_after = float(w[after <= within].sum() / total) if total else float("nan")
    share_today = float(w[today <= within].sum() / total) if total else float("nan")
    mean_after = float(np.average(after, weights=w)) if total else float("nan")
    mean_today = float(np.average(today, weights=w)) if total else float("nan")
    catch = pd.DataFrame({"code": demand["code"].to_numpy(), "hub": sites["site"].to_numpy()[sol.assign],
                          "weight": w, "minutes_today": today.round(1), "minutes": after.round(1)})
    if "imd_decile" in demand.columns:
        catch["imd_decile"] = demand["imd_decile"].to_numpy()
    staff = sites["consultants"].to_numpy(dtype=float)
    if sol.staff_hub is not None:
        staff_hub = sol.staff_hub
    else:  # consultants of a closed site join the nearest open hub (by the demand matrix's site rows if any)
        from partnering.match.travel import distance_matrix_km

        km = distance_matrix_km(sites["lat"], sites["lon"], sites["lat"].iloc[open_idx], sites["lon"].iloc[open_idx])
        staff_hub = open_idx[km.argmin(axis=1)]
    hubs = []
    for j in open_idx:
        mask = sol.assign == j
        members = np.flatnonzero(staff_hub == j)
        wj = w[mask]
        hubs.append({
            "site": sites.at[j, "site"], "name": sites.at[j, "name"], "locked": bool(sites.at[j, "locked"]),
            "lat": float(sites.at[j, "lat"]), "lon": float(sites.at[j, "lon"]),
            "population": float(load[j]), "demand_points": int(mask.sum()),
            "mean_minutes": float(np.average(after[mask], weights=wj)) if wj.sum() > 0 else None,
            "max_minutes": float(after[mask].max()) if mask.any() else None,
            "capacity": None if pd.isna(sites.at[j, "capacity"]) else float(sites.at[j, "capacity"]),
            "consultants": float(np.nansum(staff[members])) if not np.all(np.isnan(staff)) else None,
            "member_sites": ", ".join(sites["site"].iloc[members]),
        })
    hubs_df = pd.DataFrame(hubs).sort_values("population", ascending=False).reset_index(drop=True)
    equity = _equity(catch, within)
    summary = {
        "hubs": int(len(open_idx)), "sites": int(len(sites)), "sites_closed": int(len(sites) - len(open_idx)),
        "population": float(total),
        "share_within_minutes": round(share_after, 4), "share_within_minutes_today": round(share_today, 4),
        "mean_minutes": round(mean_after, 2), "mean_minutes_today": round(mean_today, 2),
        "mean_minutes_added": round(mean_after - mean_today, 2),
        "max_minutes": round(float(after.max()), 1),
        "population_travel_up_over_10_minutes": float(w[after - today > 10].sum()),
    }
    if sol.gap > 0.01:
        notes.append(f"the optimality gap is {sol.gap:.2%}: the network is good, not proven best")
    return NetworkResult(model, p, float(sol.objective), float(sol.bound), float(sol.gap), sol.method, sol.status,
                         time.perf_counter() - t0, within, hubs_df, catch, summary, equity, travel, notes)


def _equity(catch: pd.DataFrame, within: float) -> pd.DataFrame:
    """Access by IMD 2025 decile (1 = most deprived): population, mean minutes today and after, share within T."""
    if "imd_decile" not in catch.columns or catch["imd_decile"].isna().all():
        return pd.DataFrame(columns=["imd_decile", "population", "mean_minutes_today", "mean_minutes",
                                     "share_within_today", "share_within"])
    c = catch.dropna(subset=["imd_decile"]).copy()
    c["wt"] = c["weight"] * c["minutes_today"]
    c["wa"] = c["weight"] * c["minutes"]
    c["in_t"] = c["weight"] * (c["minutes_today"] <= within)
    c["in_a"] = c["weight"] * (c["minutes"] <= within)
    g = c.groupby("imd_decile")[["weight", "wt", "wa", "in_t", "in_a"]].sum()
    out = pd.DataFrame({
        "imd_decile": g.index.astype(int), "population": g["weight"].to_numpy(),
        "mean_minutes_today": (g["wt"] / g["weight"]).round(2).to_numpy(),
        "mean_minutes": (g["wa"] / g["weight"]).round(2).to_numpy(),
        "share_within_today": (g["in_t"] / g["weight"]).round(4).to_numpy(),
        "share_within": (g["in_a"] / g["weight"]).round(4).to_numpy(),
    })
    return out.reset_index(drop=True)


def stroke_network(p: int, *, model: str = "p-median", icb: str | None = None, locked: list[str] | None = None,
                   within_minutes: float = DEFAULT_WITHIN_MINUTES, time_limit: float = 30.0,
                   gap_target: float = 1e-3, consultants_per_site: float | None = None,
                   min_consultants: float | None = None) -> NetworkResult:
    """England's LSOAs (Census 2021) to the 2022 stroke units: the real-data case of issue #12."""
    demand = load_lsoa_demand(icb=icb)
    sites = load_stroke_units()
    if icb:
        sites = nearby_sites(demand, sites)
    if locked:
        want = {s.replace(" ", "").upper() for s in locked}
        unknown = want - set(sites["site"])
        if unknown:
            raise NotFoundError(f"no stroke unit with postcode {', '.join(sorted(unknown))}")
        sites["locked"] = sites["site"].isin(want)
    if consultants_per_site is not None:
        sites["consultants"] = float(consultants_per_site)
    return design_network(demand, sites, p, model=model, within_minutes=within_minutes, time_limit=time_limit,
                          gap_target=gap_target, min_consultants=min_consultants)
