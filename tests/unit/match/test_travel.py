"""Travel times: haversine, the fitted drive-time model and the matrix-with-fallback lookup."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnering.ingest.geo import parse_travel_matrix
from partnering.match.travel import (
    DEFAULT_DRIVE_MODEL,
    DriveTimeModel,
    distance_matrix_km,
    estimated_drive_minutes,
    fit_drive_time_model,
    haversine_km,
    travel_minutes,
)

pytestmark = pytest.mark.unit


def test_haversine_known_distances():
    # London (Charing Cross) to Manchester (Piccadilly): about 262 km great-circle
    assert haversine_km(51.5074, -0.1278, 53.4808, -2.2426) == pytest.approx(262.0, abs=2.0)
    # one degree of latitude is about 111.2 km
    assert haversine_km(52.0, -1.0, 53.0, -1.0) == pytest.approx(111.19, abs=0.05)
    assert haversine_km(52.0, -1.0, 52.0, -1.0) == 0.0


lat = st.floats(49.8, 61.0)
lon = st.floats(-8.7, 2.0)


@settings(max_examples=100, deadline=None)
@given(lat, lon, lat, lon, lat, lon)
def test_haversine_is_a_metric(a1, o1, a2, o2, a3, o3):
    d12, d21 = haversine_km(a1, o1, a2, o2), haversine_km(a2, o2, a1, o1)
    assert d12 >= 0 and d12 == pytest.approx(d21, abs=1e-9)
    assert d12 <= haversine_km(a1, o1, a3, o3) + haversine_km(a3, o3, a2, o2) + 1e-6
    m = distance_matrix_km([a1, a2], [o1, o2], [a3], [o3])
    assert m.shape == (2, 1) and m[0, 0] == pytest.approx(haversine_km(a1, o1, a3, o3))


def test_fit_recovers_a_known_line():
    rng = np.random.default_rng(1)
    keys = [f"P{i}" for i in range(12)]
    coords = pd.DataFrame({"lat": rng.uniform(51, 54, 12), "lon": rng.uniform(-3, 0, 12)}, index=keys)
    km = distance_matrix_km(coords.lat, coords.lon, coords.lat, coords.lon)
    minutes = pd.DataFrame(np.where(km > 0, 10 + 0.9 * km, 0), index=keys, columns=keys)
    f = fit_drive_time_model(minutes, coords)
    assert f.intercept == pytest.approx(10) and f.minutes_per_km == pytest.approx(0.9)
    assert f.r2 == pytest.approx(1.0) and f.rmse == pytest.approx(0, abs=1e-9) and f.n_pairs == 132


def test_estimate_is_zero_for_the_same_place_and_linear_otherwise():
    m = DriveTimeModel(10, 1.0, 1, 0, 1, "t")
    assert list(estimated_drive_minutes([0, 5, 20], m)) == [0, 15, 30]


def test_travel_minutes_uses_the_matrix_then_the_fallback():
    matrix = pd.DataFrame([[0, 30], [32, 0]], index=["AB12CD", "EF34GH"], columns=["AB12CD", "EF34GH"])
    coords = {"AB1 2CD": (52.0, -1.0), "EF3 4GH": (52.2, -1.0), "XY9 9ZZ": (52.0, -1.5)}
    t = travel_minutes(["ab1 2cd", "XY9 9ZZ"], ["EF3 4GH", "XY99ZZ", "NO1 1NO"], matrix=matrix, coords=coords)
    assert t.minutes.loc["AB12CD", "EF34GH"] == 30 and not t.estimated.loc["AB12CD", "EF34GH"]
    km = haversine_km(52.0, -1.0, 52.0, -1.5)
    assert t.minutes.loc["AB12CD", "XY99ZZ"] == pytest.approx(DEFAULT_DRIVE_MODEL.minutes(km))
    assert t.estimated.loc["AB12CD", "XY99ZZ"]
    assert t.minutes.loc["XY99ZZ", "XY99ZZ"] == 0 and not t.estimated.loc["XY99ZZ", "XY99ZZ"]
    assert np.isnan(t.minutes.loc["AB12CD", "NO11NO"])  # no matrix cell, no coordinates
    assert 0 < t.share_estimated < 1


@pytest.mark.shared
def test_default_model_is_the_fit_on_the_stroke_unit_matrix(geo):
    m = parse_travel_matrix((geo / "travel" / "stroke-units-travel-minutes.csv").read_bytes(), "m")
    u = pd.read_csv(geo / "travel" / "stroke-units-2022.csv").rename(columns={"long": "lon"})
    u.index = u.Postcode.str.replace(" ", "").str.upper()
    f = fit_drive_time_model(m, u)
    assert f.n_pairs == DEFAULT_DRIVE_MODEL.n_pairs == 15500
    assert f.intercept == pytest.approx(DEFAULT_DRIVE_MODEL.intercept, abs=0.01)
    assert f.minutes_per_km == pytest.approx(DEFAULT_DRIVE_MODEL.minutes_per_km, abs=1e-4)
    assert f.r2 == pytest.approx(DEFAULT_DRIVE_MODEL.r2, abs=1e-3)
    assert f.rmse == pytest.approx(DEFAULT_DRIVE_MODEL.rmse, abs=0.1)
    assert f.minutes_per_sqrt_km == pytest.approx(DEFAULT_DRIVE_MODEL.minutes_per_sqrt_km, abs=1e-3)
    assert f.min_fitted_km == pytest.approx(DEFAULT_DRIVE_MODEL.min_fitted_km, abs=0.01)
    assert f.max_fitted_km == pytest.approx(DEFAULT_DRIVE_MODEL.max_fitted_km, abs=0.1)
