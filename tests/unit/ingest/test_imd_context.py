"""IoD 2025 loader and trust catchment context (deprivation, population, age)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from partnering.errors import IngestError
from partnering.ingest.context import catchment_populations, load_trust_context, trust_context
from partnering.ingest.imd import load_imd, recognise_imd
from partnering.store import repository as repo

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def context(nhs, geo):
    return trust_context(nhs, geo)


@pytest.mark.shared
def test_trust_context_has_three_attributes_for_138_trusts(context):
    assert context["org_code"].nunique() == 138
    assert sorted(context["attribute"].unique()) == ["catchment_population", "imd_score", "pct_over_65"]
    assert context["value"].notna().all()
    wide = context.pivot(index="org_code", columns="attribute", values="value")
    assert wide["imd_score"].between(5, 50).all() and wide["pct_over_65"].between(5, 35).all()


@pytest.mark.shared
def test_imd_score_is_the_share_weighted_ltla_score(context, nhs):
    """Recompute one trust by hand with plain pandas (Cambridge: all its areas keep their codes in 2024)."""
    c = pd.read_csv(nhs / "ods" / "trust-ltla21-catchment.csv")
    imd = pd.read_csv(nhs / "imd" / "imd2025_england_ltla24.csv").set_index("ltla24_code")["imd_average_score"]
    rgt = c[c.nhs_trust22_code == "RGT"]
    assert rgt.ltla21_code.isin(imd.index).all()
    expected = (rgt.proportion_trust_came_from_ltla * rgt.ltla21_code.map(imd)).sum() / rgt.proportion_trust_came_from_ltla.sum()
    got = context.query("org_code == 'RGT' and attribute == 'imd_score'")["value"].iloc[0]
    assert got == pytest.approx(expected, rel=1e-9)


@pytest.mark.shared
def test_abolished_2021_districts_are_rebuilt_from_lsoas(context, nhs):
    """North Cumbria Integrated Care (RNN) draws on the abolished Cumbrian districts (2021 codes)."""
    c = pd.read_csv(nhs / "ods" / "trust-ltla21-catchment.csv")
    imd = pd.read_csv(nhs / "imd" / "imd2025_england_ltla24.csv")
    missing = set(c.ltla21_code) - set(imd.ltla24_code)
    assert len(missing) == 17
    assert set(c[c.nhs_trust22_code == "RNN"].ltla21_code) & missing
    rnn = context.query("org_code == 'RNN' and attribute == 'imd_score'")["value"].iloc[0]
    # Cumberland's official 2024 score brackets the rebuilt Allerdale/Carlisle/Copeland mix
    assert 15 < rnn < 35


@pytest.mark.shared
def test_catchment_populations_add_up_to_england(context, geo, nhs):
    pop = pd.read_csv(geo / "areas" / "population-mid2020-ltla21-single-year-of-age.csv")
    c = pd.read_csv(nhs / "ods" / "trust-ltla21-catchment.csv")
    total = pop[pop.ltla21_code.isin(c.ltla21_code)].total_population.sum()
    got = context.query("attribute == 'catchment_population'")["value"]
    assert got.sum() == pytest.approx(total, rel=1e-6)
    p = dict(zip(context.query("attribute == 'catchment_population'").org_code, got))
    assert p["R0A"] > 1_000_000  # Manchester University: the largest catchment


@pytest.mark.shared
def test_load_trust_context_is_one_batch_and_idempotent(sqlite_engine, nhs, geo, snapshot):
    r1 = load_trust_context(sqlite_engine, nhs, geo)
    assert r1.status == "loaded" and r1.rows_loaded == 414
    before = snapshot(sqlite_engine)
    assert load_trust_context(sqlite_engine, nhs, geo).status == "unchanged"
    assert snapshot(sqlite_engine) == before
    attrs = repo.attributes_frame(sqlite_engine)
    assert attrs.loc["RGT", "imd_score"] > 0


@pytest.mark.shared
def test_context_with_a_missing_input_writes_nothing(tmp_path, sqlite_engine, nhs, geo, snapshot):
    fake_geo = tmp_path / "geo"
    shutil.copytree(geo / "areas", fake_geo / "areas")
    (fake_geo / "areas" / "population-mid2020-ltla21-single-year-of-age.csv").write_text("a,b\n1,2\n")
    before = snapshot(sqlite_engine)
    with pytest.raises(IngestError, match="lacks the column"):
        load_trust_context(sqlite_engine, nhs, fake_geo)
    assert snapshot(sqlite_engine) == before


@pytest.mark.shared
def test_load_imd_writes_icb_scores_keyed_by_ods_code(sqlite_engine, nhs, snapshot):
    files = sorted((nhs / "imd").glob("*.csv"))
    reports = load_imd(files, sqlite_engine)
    assert [r.status for r in reports] == ["loaded"] * 3
    assert [r.rows_loaded for r in reports] == [33755, 296, 42]
    attrs = repo.attributes_frame(sqlite_engine)
    icb = pd.read_csv(nhs / "imd" / "imd2025_england_icb24.csv")
    nel = icb[icb.icb24_name.str.contains("North East London")].iloc[0]
    assert attrs.loc["QMF", "imd_score"] == pytest.approx(nel.imd_average_score)
    assert attrs.loc["QMF", "imd_rank"] == nel.imd_rank_of_average_score
    # the 2026 West and North London ICB rebuilt from LSOAs lies between its two 2024 parts
    lo, hi = sorted([attrs.loc["QMJ", "imd_score"], attrs.loc["QRV", "imd_score"]])
    assert lo <= attrs.loc["Z9B2Z", "imd_score"] <= hi
    assert attrs["imd_score"].notna().sum() == 46
    orgs = repo.organisations_frame(sqlite_engine, ["icb"])
    assert len(orgs) == 42  # 2024 ICBs created (minimal rows) where the store had none
    before = snapshot(sqlite_engine)
    assert {r.status for r in load_imd(files, sqlite_engine)} == {"unchanged"}
    assert snapshot(sqlite_engine) == before


def test_imd_bad_cells_are_rejected_with_line_and_column(tmp_path, sqlite_engine):
    p = tmp_path / "ltla.csv"
    p.write_bytes(b"\xef\xbb\xbfltla24_code,ltla24_name,imd_average_score\r\nE06000001,A, 30.1 \r\nE06000002,B,n/a\r\n"
                  b"E06000003,C,150\r\n")
    [r] = load_imd([p], sqlite_engine)
    assert r.rows_loaded == 1 and r.rows_rejected == 2
    rej = repo.rejected_frame(sqlite_engine)
    assert sorted(zip(rej.line, rej.column)) == [(3, "imd_average_score"), (4, "imd_average_score")]


def test_wrong_file_for_imd_is_refused(tmp_path, sqlite_engine, snapshot):
    p = tmp_path / "x.csv"
    p.write_text("code,score\nA,1\n")
    before = snapshot(sqlite_engine)
    with pytest.raises(IngestError, match="is not an IoD 2025 file"):
        load_imd([p], sqlite_engine)
    assert snapshot(sqlite_engine) == before
    with pytest.raises(IngestError):
        recognise_imd(b"\x00\x00binary", "b.csv")


# ------------------------------------------------------------------------------------ the EM fixed point

def test_catchment_populations_hand_cases():
    # two trusts with disjoint areas get exactly their areas' populations
    s = np.array([[0.25, 0.75, 0.0], [0.0, 0.0, 1.0]])
    p = np.array([100.0, 300.0, 50.0])
    assert catchment_populations(s, p) == pytest.approx([400.0, 50.0])
    # two identical trusts share the area; one trust alone takes everyone
    assert catchment_populations(np.array([[1.0]]), np.array([7.0])) == pytest.approx([7.0])


@settings(max_examples=40, deadline=None)
@given(arrays(float, (4, 6), elements=st.floats(0.01, 1.0)), arrays(float, 6, elements=st.floats(1.0, 1e6)))
def test_catchment_populations_conserve_population_and_are_a_fixed_point(shares, pop):
    s = shares / shares.sum(axis=1, keepdims=True)
    # EM converges sublinearly when the solution sits on the boundary (a trust with ~no catchment of its own):
    # give these tiny 4 x 6 cases a generous iteration budget so the fixed point is reached, not approached
    P = catchment_populations(s, pop, iterations=200_000)
    assert P.sum() == pytest.approx(pop.sum(), rel=1e-9)
    assert (P >= 0).all()
    D = P @ s
    received = P * (s @ (pop / D))
    assert received == pytest.approx(P, rel=1e-4, abs=1e-5 * pop.sum())  # EM is slow only near P_t = 0
