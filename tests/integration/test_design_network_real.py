"""design network on the real LSOAs (Census 2021), IMD 2025 and the 2022 stroke units (issue #12 s.2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from partnering.design.network import design_network, load_lsoa_demand, load_stroke_units, nearby_sites

pytestmark = [pytest.mark.integration, pytest.mark.shared]


@pytest.fixture(scope="module")
def north_east():
    demand = load_lsoa_demand(icb="QHM")
    return demand, nearby_sites(demand, load_stroke_units())


def test_lsoa_demand_is_england_with_deprivation():
    demand = load_lsoa_demand()
    assert len(demand) == 33755
    assert demand["weight"].sum() == pytest.approx(56_490_056)  # Census 2021 England, summed over LSOAs
    assert demand["imd_decile"].notna().all()


def test_more_hubs_never_lengthen_travel_and_the_bound_holds(north_east):
    demand, sites = north_east
    few = design_network(demand, sites, 3, time_limit=10)
    many = design_network(demand, sites, 6, time_limit=10)
    assert many.objective <= few.objective
    assert few.bound <= few.objective and few.gap <= 0.01
    assert many.summary["mean_minutes"] <= few.summary["mean_minutes"]
    assert many.hubs["population"].sum() == pytest.approx(demand["weight"].sum())
    # equity table covers every decile and the same people
    assert list(many.equity["imd_decile"]) == list(range(1, 11))
    assert many.equity["population"].sum() == pytest.approx(demand["weight"].sum())


def test_coverage_beats_p_median_on_its_own_objective(north_east):
    demand, sites = north_east
    cov = design_network(demand, sites, 3, model="coverage", within_minutes=25, time_limit=10)
    med = design_network(demand, sites, 3, within_minutes=25, time_limit=10)
    assert cov.summary["share_within_minutes"] >= med.summary["share_within_minutes"]
    assert cov.gap == pytest.approx(0.0, abs=1e-9)


def test_workforce_minimum_is_met_by_pooled_consultants(north_east):
    demand, sites = north_east
    demand = demand.iloc[::8]  # every eighth LSOA keeps the MIP (binary staff moves) quick
    sites = sites.copy()
    sites["consultants"] = np.where(np.arange(len(sites)) % 2 == 0, 4.0, 2.0)
    res = design_network(demand, sites, 3, min_consultants=6, time_limit=20)
    assert (res.hubs["consultants"] >= 6).all()
    assert res.hubs["consultants"].sum() == pytest.approx(sites["consultants"].sum())


def test_cli_network_json():
    from partnering.cli.main import app

    out = CliRunner().invoke(app, ["design", "network", "--p", "4", "--icb", "QHM", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert len(body["hubs"]) == 4
    assert body["bound"] <= body["objective"]
    assert 0 <= body["summary"]["share_within_minutes"] <= 1
    assert body["travel"]["estimated"] is True
