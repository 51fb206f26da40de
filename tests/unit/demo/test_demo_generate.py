"""The synthetic NHS: determinism, shape, geography, internal consistency and the designed profiles.

Profile tests recompute the designed behaviour from the generated observations; the truth table only says which
trusts to look at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.demo import (
    INDICATORS,
    KINDS,
    LABEL,
    REGIONS,
    generate,
    load_icb_centres,
    load_partner_catalogue_example,
    partner_catalogue_example,
)
from partnering.errors import ConfigError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module", params=[2026, 99], ids=["seed2026", "seed99"])
def demo(request):
    """The default demo and one other seed: the designed behaviour must not depend on a lucky seed."""
    return generate(seed=request.param)


@pytest.fixture(scope="module")
def wide(demo):
    """value by (org_code, period) × indicator."""
    return demo.observations.pivot_table(index=["org_code", "period"], columns="indicator", values="value")


@pytest.fixture(scope="module")
def obs_wide(demo):
    """numerator/denominator/value by (org_code, period) × indicator."""
    return demo.observations.set_index(["org_code", "period", "indicator"]).unstack("indicator")


def _by_month(wide: pd.DataFrame, indicator: str) -> pd.DataFrame:
    return wide[indicator].unstack("org_code").sort_index()


# --- determinism, speed, validation -------------------------------------------------------------------------------
def test_same_seed_gives_identical_tables_and_other_seed_differs(demo):
    again = generate(seed=demo.seed)
    for name, frame in demo.tables().items():
        pd.testing.assert_frame_equal(frame, again.tables()[name], obj=name)
    other = generate(seed=demo.seed + 1)
    assert not other.observations["value"].equals(demo.observations["value"])
    assert not other.organisations["name"].equals(demo.organisations["name"])


@pytest.mark.parametrize(
    "kwargs", [{"months": 12}, {"end_period": "2026-13"}, {"end_period": "March 2026"}, {"seed": -1}]
)
def test_bad_parameters_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        generate(**kwargs)


def test_months_and_end_period_are_respected():
    d = generate(seed=3, months=60, end_period="2025-12")
    periods = sorted(d.observations["period"].unique())
    assert len(periods) == 60 and periods[0] == "2021-01" and periods[-1] == "2025-12"


# --- counts and labels --------------------------------------------------------------------------------------------
def test_counts(demo):
    kinds = demo.organisations["kind"].value_counts()
    assert set(kinds.index) == set(KINDS)
    assert kinds["region"] == 7
    assert 40 <= kinds["icb"] <= 44
    open_acute = demo.organisations[(demo.organisations.kind == "acute_trust") & demo.organisations.close_date.isna()]
    assert 115 <= len(open_acute) <= 125
    assert 550 <= kinds["gp_practice"] <= 650
    assert 12 <= kinds["independent_provider"] <= 18
    others = ["university", "technology_partner", "consultancy", "improvement_partner"]
    assert 10 <= kinds[others].sum() <= 14
    assert all(kinds[k] >= 3 for k in ("mental_health_trust", "community_trust", "ambulance_trust"))
    assert demo.observations["period"].nunique() >= 60
    assert set(demo.observations["indicator"]) == set(INDICATORS)
    assert demo.organisations["org_code"].is_unique and demo.sites["site_code"].is_unique


def test_everything_is_labelled_synthetic(demo):
    org = demo.organisations
    assert demo.label == LABEL and "SYNTHETIC" in demo.label
    assert org["synthetic"].dtype == bool and org["synthetic"].all()
    assert demo.gp_practices["synthetic"].all()
    named = org["name"].str.contains("(synthetic)", regex=False) | org["name"].str.startswith("Synthetic ")
    assert named.all(), org.loc[~named, "name"].tolist()
    assert demo.sites["name"].str.endswith("(synthetic)").all()
    assert demo.partner_catalogue["name"].str.endswith("(synthetic)").all()
    assert (demo.context["source"] == "synthetic demo").all()


def test_codes_cannot_be_mistaken_for_real_ones(demo):
    org = demo.organisations.set_index("kind")
    assert sorted(org.loc["region", "org_code"]) == sorted(REGIONS)
    assert org.loc["icb", "org_code"].str.fullmatch(r"QX\d\d").all()
    trusts = org.loc[["acute_trust", "mental_health_trust", "community_trust", "ambulance_trust"], "org_code"]
    assert trusts.str.fullmatch(r"[ZX][A-Z0-9]{2}").all()
    partners = org.loc[["independent_provider", "university", "technology_partner", "consultancy"], "org_code"]
    assert partners.str.fullmatch(r"[ZX][A-Z0-9]{2}").all()
    assert org.loc["gp_practice", "org_code"].str.fullmatch(r"Z\d{5}").all()
    postcodes = demo.organisations["postcode"].dropna()
    assert len(postcodes) > 700 and postcodes.str.startswith("ZZ").all()


def test_every_acute_trust_and_icb_belongs_somewhere(demo):
    org = demo.organisations
    icbs = set(org.loc[org.kind == "icb", "org_code"])
    for kind in ("acute_trust", "gp_practice", "mental_health_trust", "community_trust"):
        assert set(org.loc[org.kind == kind, "icb_code"]) <= icbs
    assert set(org["region_code"]) == set(REGIONS)
    assert set(demo.sites["org_code"]) <= set(org["org_code"])
    acute = org.loc[org.kind == "acute_trust", "org_code"]
    n_sites = demo.sites.groupby("org_code").size().reindex(acute)
    assert n_sites.between(1, 8).all()  # 1-4 each; a merged trust holds its predecessors' sites
    independent = org.loc[org.kind == "independent_provider", "org_code"]
    assert (demo.sites.set_index("org_code").loc[independent, "sector"] == "Independent").all()


def test_mergers_have_successors_and_joinable_series(demo):
    org = demo.organisations.set_index("org_code")
    closed = org[org.close_date.notna()]
    assert 2 <= len(closed) <= 4 and (closed.kind == "acute_trust").all()
    assert closed["successor_code"].isin(org.index).all()
    for code, row in closed.iterrows():
        successor = org.loc[row.successor_code]
        assert successor.open_date == row.close_date + pd.Timedelta(days=1)
        periods = demo.observations.loc[demo.observations.org_code == code, "period"]
        after = demo.observations.loc[demo.observations.org_code == row.successor_code, "period"]
        assert periods.max() < after.min()
        assert after.min() == successor.open_date.strftime("%Y-%m")


def test_partner_catalogue_and_packaged_example(demo):
    cat = demo.partner_catalogue
    assert list(cat.columns) == ["org_code", "name", "kind", "offers", "capacity", "contact"]
    assert set(cat["org_code"]) <= set(demo.organisations["org_code"])
    assert (cat["capacity"] >= 1).all() and cat["offers"].str.len().gt(0).all()
    assert cat["contact"].str.endswith(".example.org").all()
    ip = cat[cat.kind == "independent_provider"]
    assert ip["offers"].str.contains("elective capacity").all()
    packaged = load_partner_catalogue_example()
    assert len(packaged) <= 12
    pd.testing.assert_frame_equal(packaged, partner_catalogue_example(generate(seed=2026)), check_dtype=False)


# --- context ------------------------------------------------------------------------------------------------------
def test_context_attributes_and_ranges(demo):
    ctx = demo.context.pivot_table(index="org_code", columns="attribute", values="value")
    org = demo.organisations.set_index("org_code")
    acute = ctx.loc[org.index[org.kind == "acute_trust"]]
    need = ["catchment_population", "imd_score", "pct_over_65", "rurality", "beds", "case_mix_index"]
    assert acute[need].notna().all().all()
    assert acute["imd_score"].between(8, 45).all()
    assert acute["rurality"].between(0, 1).all()
    assert acute["case_mix_index"].between(0.7, 1.35).all() and abs(acute["case_mix_index"].median() - 1) < 0.05
    assert acute["catchment_population"].between(100_000, 1_500_000).all()
    gp = ctx.loc[org.index[org.kind == "gp_practice"], ["list_size", "imd_score", "pct_over_65", "rurality"]]
    assert gp.notna().all().all()
    assert gp["list_size"].between(1500, 60000).all()
    assert 7_500 <= gp["list_size"].median() <= 10_500
    assert gp["list_size"].max() > 25_000 and gp["list_size"].min() < 3_500


# --- geography ----------------------------------------------------------------------------------------------------
def _located(demo) -> pd.DataFrame:
    org = demo.organisations[["latitude", "longitude"]]
    return pd.concat([org, demo.sites[["latitude", "longitude"]]], ignore_index=True)


def test_coordinates_inside_england_bounding_box(demo):
    pts = _located(demo)
    assert pts.notna().all().all()
    assert pts["latitude"].between(49.9, 55.9).all()
    assert pts["longitude"].between(-6.4, 1.8).all()


def test_packaged_icb_centres():
    centres = load_icb_centres()
    assert len(centres) == 42 and set(centres.region_code) == set(REGIONS)
    assert (centres.safe_radius_km > 0).all() and centres.population.sum() > 50_000_000


@pytest.mark.shared
def test_coordinates_inside_real_icb_polygons(demo, geo):
    """Most organisations and sites fall inside the union of the real ICB polygons (i.e. on English land)."""
    from partnering.demo.geometry import area_of_points, load_polygons

    areas = [geom for _, geom in load_polygons(geo / "boundaries" / "icb22-with-region.geojson")]
    org = demo.organisations
    trusts = org[org.kind.isin(["acute_trust", "mental_health_trust", "community_trust"])]
    inside = area_of_points(trusts.longitude.to_numpy(), trusts.latitude.to_numpy(), areas) >= 0
    assert inside.mean() >= 0.95, trusts.loc[~inside, ["org_code", "latitude", "longitude"]]
    everything = _located(demo)
    inside_all = area_of_points(everything.longitude.to_numpy(), everything.latitude.to_numpy(), areas) >= 0
    assert inside_all.mean() >= 0.95


def test_point_in_polygon_with_a_hole():
    import shapely

    from partnering.demo.geometry import points_in_area

    square = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
    hole = [(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)]
    got = points_in_area(np.array([0.5, 2.0, 5.0, 3.5]), np.array([0.5, 2.0, 2.0, 3.5]),
                         shapely.Polygon(square, [hole]))
    assert got.tolist() == [True, False, False, True]


# --- internal consistency -----------------------------------------------------------------------------------------
def test_every_row_is_internally_consistent(demo, obs_wide):
    o = demo.observations
    ratio = o.indicator.isin(["ae_4h_pct_all", "ae_4h_pct_type1", "rtt_within_18w_pct"])
    assert o.loc[~ratio, ["numerator", "denominator"]].isna().all().all()
    r = o[ratio]
    assert (r.numerator >= 0).all() and (r.numerator <= r.denominator).all() and (r.denominator > 0).all()
    assert np.allclose(r.value, 100 * r.numerator / r.denominator)
    assert o.value.notna().all() and (o.value >= 0).all()
    v = obs_wide["value"]
    assert not v.isna().any().any()  # every trust has every indicator in every month it is open
    assert v.ae_attendances_total.between(6_000, 25_000).all()
    assert (v.ae_attendances_type1 <= v.ae_attendances_total).all()
    num, den = obs_wide["numerator"], obs_wide["denominator"]
    assert (den.ae_4h_pct_all == v.ae_attendances_total).all()
    assert (den.ae_4h_pct_type1 == v.ae_attendances_type1).all()
    assert (num.ae_4h_pct_type1 <= num.ae_4h_pct_all).all()
    assert (v.ae_over_4h_total == v.ae_attendances_total - num.ae_4h_pct_all).all()
    assert (v.ae_dta_over_12h <= v.ae_dta_over_4h).all() and (v.ae_dta_over_4h <= v.ae_emergency_admissions).all()
    assert (v.ae_emergency_admissions <= v.ae_attendances_type1).all()
    assert (den.rtt_within_18w_pct == v.rtt_incomplete_pathways).all()
    assert (v.rtt_over_78w <= v.rtt_over_65w).all() and (v.rtt_over_65w <= v.rtt_over_52w).all()
    assert (v.rtt_over_52w <= v.rtt_incomplete_pathways - num.rtt_within_18w_pct).all()
    assert (v.rtt_median_wait_weeks < v.rtt_p92_wait_weeks).all()
    # median below 18 weeks exactly when more than half wait under 18 weeks
    assert ((v.rtt_median_wait_weeks < 18) == (v.rtt_within_18w_pct > 50)).mean() > 0.99


def test_england_levels_are_realistic(demo):
    o = demo.observations
    recent = o[o.period >= "2025-04"]
    nat = recent.groupby("indicator")[["numerator", "denominator"]].sum()
    pct = 100 * nat.numerator / nat.denominator
    assert 70 <= pct["ae_4h_pct_all"] <= 78
    assert 55 <= pct["ae_4h_pct_type1"] <= 65
    assert 55 <= pct["rtt_within_18w_pct"] <= 63
    median = recent[recent.indicator == "rtt_median_wait_weeks"].value.median()
    assert 12 <= median <= 16


# --- designed profiles, recomputed from the data ------------------------------------------------------------------
def _profile(demo, name):
    return demo.truth.loc[demo.truth.designed_profile == name, "org_code"].tolist()


def test_profile_shares(demo):
    counts = demo.truth.designed_profile.value_counts()
    n = len(demo.truth)
    assert 0.08 <= counts["persistent_difficulty"] / n <= 0.12
    assert 0.08 <= counts["track_record"] / n <= 0.12
    assert 2 <= counts["mixed"] <= 6
    assert set(demo.truth.org_code) == set(demo.organisations.loc[demo.organisations.kind == "acute_trust", "org_code"])


@pytest.mark.parametrize("indicator", ["ae_4h_pct_all", "ae_4h_pct_type1", "rtt_within_18w_pct"])
def test_persistent_difficulty_is_worse_than_median_with_special_cause(demo, wide, indicator):
    table = _by_month(wide, indicator)
    last12 = table.iloc[-12:].mean()
    trusts = _profile(demo, "persistent_difficulty")
    assert (last12[trusts] < last12.median()).all()
    # special cause: an XmR baseline on the first 36 months, then a run of >= 7 consecutive months below the centre
    # line (NHS Making Data Count shift rule) within the last 24 months
    for code in trusts:
        series = table[code]
        centre = series.iloc[:36].mean()
        below = (series.iloc[-24:] < centre).astype(int).to_numpy()
        longest = max(len(run) for run in "".join(map(str, below)).split("0"))
        assert longest >= 7, (code, indicator)


@pytest.mark.parametrize("indicator", ["ae_4h_pct_all", "ae_4h_pct_type1", "rtt_within_18w_pct"])
def test_track_record_is_top_quartile_for_24_months_and_not_declining(demo, wide, indicator):
    table = _by_month(wide, indicator).iloc[-24:]
    q3 = table.quantile(0.75, axis=1)
    trusts = _profile(demo, "track_record")
    top = table[trusts].ge(q3, axis=0)
    assert top.all().all(), top.sum()
    full = _by_month(wide, indicator)
    slope = np.polyfit(np.arange(24), full[trusts].iloc[-24:].to_numpy(), 1)[0]
    assert (slope > -0.1).all()  # stable or improving: no more than 1.2 points a year of drift down


def test_mixed_trusts_are_best_in_class_on_one_indicator_and_poor_on_the_other(demo, wide):
    ae = _by_month(wide, "ae_4h_pct_type1").iloc[-12:].mean()
    rtt = _by_month(wide, "rtt_within_18w_pct").iloc[-12:].mean()
    truth = demo.truth.set_index("org_code")
    for code in _profile(demo, "mixed"):
        best, poor = (rtt, ae) if "RTT" in truth.loc[code, "notes"] else (ae, rtt)
        assert best[code] >= best.quantile(0.95), code
        assert poor[code] < poor.median(), code


def test_winter_pressure_visible_in_national_aggregate(demo):
    o = demo.observations[demo.observations.indicator == "ae_4h_pct_all"]
    nat = o.groupby("period")[["numerator", "denominator"]].sum()
    pct = 100 * nat.numerator / nat.denominator
    month = pd.PeriodIndex(pct.index, freq="M").month
    winter = pct[np.isin(month, [12, 1, 2])].mean()
    summer = pct[np.isin(month, [6, 7, 8])].mean()
    assert summer - winter >= 2.0
    # and every winter is worse than the summer before it
    years = pd.PeriodIndex(pct.index, freq="M").year
    for y in sorted(set(years))[:-1]:
        jul, jan = f"{y}-07", f"{y + 1}-01"
        if jul in pct.index and jan in pct.index:
            assert pct[jan] < pct[jul]


def test_common_cause_variation_steps_and_trends_present(demo, wide):
    table = _by_month(wide, "ae_4h_pct_type1")
    typical = _profile(demo, "typical")
    month_to_month = table[typical].diff().abs().median()
    assert (month_to_month > 0.3).mean() > 0.9  # no flat lines
    stepped = demo.truth.notes.str.contains("4-hour step").sum()
    assert stepped >= 10
