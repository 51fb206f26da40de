"""The drive-time model without a fixed 24 minutes for short trips, its fit shown, and loaded matrices winning."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from partnering.ingest.geo import parse_travel_matrix
from partnering.match.travel import (
    DEFAULT_DRIVE_MODEL,
    distance_matrix_km,
    fit_drive_time_model,
    loaded_travel_matrix,
    travel_minutes,
)

pytestmark = pytest.mark.unit


def test_short_trips_are_no_longer_at_least_24_minutes():
    # Before: minutes = 24.27 + 0.7242 km for every km > 0, so 1 km took 25 minutes and no pair was under 24.
    m = DEFAULT_DRIVE_MODEL
    assert m.minutes(0.0) == 0.0
    assert m.minutes(1.0) < 5 and m.minutes(2.0) < 10
    # the shortest pair the model was fitted on: 4.24 km, 16.5 and 18.7 road minutes in the matrix
    assert 14 < m.minutes(4.24) < 19
    km = np.linspace(0, 600, 6001)
    assert np.all(np.diff(m.minutes(km)) > 0)  # farther is always longer
    lo = m.min_fitted_km
    assert m.minutes(lo - 1e-9) == pytest.approx(m.minutes(lo), abs=1e-6)  # continuous at the fitted range
    assert m.minutes(lo / 2) == pytest.approx(m.minutes(lo) / 2)  # through the origin below it
    assert np.isnan(m.minutes(np.nan))


def test_fit_recovers_a_known_curve_and_its_range():
    rng = np.random.default_rng(3)
    keys = [f"P{i}" for i in range(15)]
    coords = pd.DataFrame({"lat": rng.uniform(51, 54, 15), "lon": rng.uniform(-3, 0, 15)}, index=keys)
    km = distance_matrix_km(coords.lat, coords.lon, coords.lat, coords.lon)
    minutes = pd.DataFrame(np.where(km > 0, 5 + 3 * np.sqrt(km) + 0.6 * km, 0), index=keys, columns=keys)
    f = fit_drive_time_model(minutes, coords, source="synthetic")
    assert (f.intercept, f.minutes_per_sqrt_km, f.minutes_per_km) == (
        pytest.approx(5), pytest.approx(3), pytest.approx(0.6))
    off = km[km > 0]
    assert f.min_fitted_km == pytest.approx(off.min()) and f.max_fitted_km == pytest.approx(off.max())
    assert f.r2 == pytest.approx(1.0) and f.n_pairs == 210
    lin = fit_drive_time_model(minutes, coords, form="linear")
    assert lin.minutes_per_sqrt_km == 0 and lin.min_fitted_km == 0 and lin.r2 < f.r2


def test_the_fit_is_described_with_the_answer():
    s = DEFAULT_DRIVE_MODEL.summary()
    assert (s["n_pairs"], s["r2"], s["rmse_minutes"]) == (15500, 0.93, 21.0)
    assert s["fitted_km_range"] == [4.24, 584.8] and "stroke-unit" in s["fitted_on"]
    text = DEFAULT_DRIVE_MODEL.describe()
    assert "n = 15,500 pairs" in text and "R² = 0.930" in text and "RMSE = 21.0 min" in text and "√km" in text


def _write(folder, name, frame, age_seconds):
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{name}.csv"
    frame.to_csv(p)
    t = 1_700_000_000 - age_seconds
    os.utime(p, (t, t))


def test_every_loaded_matrix_is_used_and_the_newest_wins_where_they_overlap(tmp_path):
    home = tmp_path / "home"
    assert loaded_travel_matrix(home) == (None, [])
    old = pd.DataFrame([[0, 30], [31, 0]], index=["AB1 2CD", "EF34GH"], columns=["AB12CD", "EF34GH"])
    new = pd.DataFrame([[0, 12], [13, 0]], index=["EF34GH", "XY99ZZ"], columns=["EF34GH", "XY99ZZ"])
    new.loc["AB12CD"] = [29, 99]  # overlaps the older matrix on AB12CD -> EF34GH: the newer one wins
    _write(home / "travel", "stroke-units-travel-minutes", old, age_seconds=1000)
    _write(home / "travel", "our-trusts", new, age_seconds=10)
    m, names = loaded_travel_matrix(home)
    assert names == ["our-trusts", "stroke-units-travel-minutes"]  # newest first
    assert m.loc["AB12CD", "EF34GH"] == 29 and m.loc["EF34GH", "AB12CD"] == 31  # newest wins; older fills
    assert m.loc["EF34GH", "XY99ZZ"] == 12 and np.isnan(m.loc["XY99ZZ", "AB12CD"])  # held by neither
    t = travel_minutes(["XY99ZZ", "EF34GH"], ["EF34GH", "AB12CD"], matrix=m,
                       coords={"AB12CD": (52.0, -1.0), "XY99ZZ": (52.1, -1.0)})
    assert t.minutes.loc["XY99ZZ", "EF34GH"] == 13 and bool(t.from_matrix.loc["XY99ZZ", "EF34GH"])
    assert bool(t.estimated.loc["XY99ZZ", "AB12CD"]) and not bool(t.from_matrix.loc["XY99ZZ", "AB12CD"])
    assert t.minutes.loc["EF34GH", "EF34GH"] == 0 and bool(t.from_matrix.loc["EF34GH", "EF34GH"])


@pytest.mark.shared
def test_on_the_real_matrix_short_pairs_are_no_longer_overstated(geo):
    # Before: the plain line overstated pairs under 25 km by 7.0 minutes on average (RMSE 10.5)
    m = parse_travel_matrix((geo / "travel" / "stroke-units-travel-minutes.csv").read_bytes(), "m")
    u = pd.read_csv(geo / "travel" / "stroke-units-2022.csv").rename(columns={"long": "lon"})
    u.index = u.Postcode.str.replace(" ", "").str.upper()
    km = distance_matrix_km(u.loc[m.index, "lat"], u.loc[m.index, "lon"], u.loc[m.columns, "lat"],
                            u.loc[m.columns, "lon"])
    mins = m.to_numpy(dtype=float)
    short = (km > 0) & (km < 25)
    resid = mins[short] - DEFAULT_DRIVE_MODEL.minutes(km[short])
    assert short.sum() == 244
    assert abs(resid.mean()) < 1.5 and np.sqrt((resid**2).mean()) < 8.0
    everywhere = mins[km > 0] - DEFAULT_DRIVE_MODEL.minutes(km[km > 0])
    assert np.sqrt((everywhere**2).mean()) <= 21.05  # no worse overall than the line (21.1)
