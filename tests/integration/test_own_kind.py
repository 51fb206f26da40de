"""``partnering.measure.own_kind``: one organisation assessed among its own kind, on real data — an acute trust
among acute trusts (the same assessment as the default, so the acute snapshots cannot move) and an ambulance trust
among ambulance trusts with the ambulance league table's key metrics."""

from __future__ import annotations

import pytest

from partnering.errors import NotFoundError
from partnering.measure.assess import AssessConfig
from partnering.measure.own_kind import assess_own_kind, own_kind_config, own_kinds

pytestmark = [pytest.mark.integration, pytest.mark.shared]


@pytest.fixture(scope="module")
def ambulance_store(tmp_path_factory, nhs):
    """A store with only the real AmbSYS time series (the ambulance trusts and their response times)."""
    from partnering.ingest import load
    from partnering.store.db import get_engine

    eng = get_engine(f"sqlite:///{tmp_path_factory.mktemp('amb') / 'amb.db'}")
    for f in sorted((nhs / "ambulance-ambsys").glob("*.xlsx")):
        load("ambulance-ambsys", f, eng)
    return eng


def test_an_acute_trust_is_assessed_among_acute_trusts_as_by_default(real_store):
    # the own kind of an acute trust is the default's, with the caller's windows kept: the very assessment the
    # acute snapshots and the summary pages use
    cfg = AssessConfig(difficulty_window=6, difficulty_min_months=4)
    assert own_kind_config(real_store, "rj1", config=cfg) == cfg
    assert own_kinds(real_store, "RBS") == ("specialist_trust",)  # Alder Hey: among specialist trusts
    assert own_kinds(real_store, None) == own_kinds(real_store, "NOSUCH") == ("acute_trust",)
    a = assess_own_kind(real_store, "RJ1")
    assert a.config == AssessConfig() and "ae_4h_pct_all" in a.metrics
    icons = a.org("RJ1")["icons"].set_index("indicator")
    # A&E monthly CSV, March 2026, RJ1 (Guy's and St Thomas'): 17,742 attendances of all types, 4,544 over 4 hours
    assert icons.loc["ae_4h_pct_all", "latest_period"] == "2026-03"
    assert icons.loc["ae_4h_pct_all", "latest_value"] == pytest.approx(100 * (17742 - 4544) / 17742, abs=0.01)
    with pytest.raises(NotFoundError, match="acute_trust"):
        a.org("NOSUCH")  # an unknown code falls back to the default kinds and is refused naming them


def test_an_ambulance_trust_is_assessed_among_ambulance_trusts(ambulance_store):
    a = assess_own_kind(ambulance_store, "rx9")
    assert a.config.kinds == ("ambulance_trust",) and a.config.segment.trust_type == "ambulance"
    assert "amb_c2_mean_min" in a.metrics and "ae_4h_pct_all" not in a.metrics
    o = a.org("RX9")
    assert o["flags"]["org_name"] == "East Midlands Ambulance Service NHS Trust"
    icons = o["icons"].set_index("indicator")
    # AmbSYS "Raw" sheet, RX9 August 2025: C1 mean 534 seconds = 8.90 minutes
    assert icons.loc["amb_c1_mean_min", "latest_period"] == "2025-08"
    assert icons.loc["amb_c1_mean_min", "latest_value"] == pytest.approx(534 / 60)
    # England's 10 ambulance trusts, and not the other AmbSYS rows: England itself (a region) and the Isle of
    # Wight NHS Trust (a trust that also runs the island's ambulance service)
    assert set(a.flags["org_code"]) == {"RRU", "RX6", "RX7", "RX8", "RX9", "RYA", "RYC", "RYD", "RYE", "RYF"}
    # kinds the caller names win: among acute trusts this store has nothing to assess, and says so
    with pytest.raises(NotFoundError, match="no observations for the organisations to assess"):
        assess_own_kind(ambulance_store, "RX9", ["acute_trust"])


def test_the_board_pack_of_an_ambulance_trust_without_context_lists_its_partners(ambulance_store, tmp_path):
    # what `partnering report RX9` does with no catchment context loaded: it failed ("context has no numeric
    # variables"), then said there could be no partners; since partner matching treats similarity as unknown
    # without context (58667cf), the pack lists the same candidates as `partnering partners RX9`
    from partnering.match.service import partner_candidates
    from partnering.report.performance import pack_extras, write_report

    a = assess_own_kind(ambulance_store, "RX9")
    extras = pack_extras(ambulance_store, a, "RX9")
    expected = partner_candidates(ambulance_store, "RX9")
    assert extras.partners is not None and not extras.partners.empty
    assert list(extras.partners["supporter"])[:3] == list(expected["supporter"])[:3]
    html = write_report(a, "RX9", tmp_path / "rx9.html", extras).read_text()
    assert "East Midlands Ambulance Service NHS Trust" in html
    assert "Ambulance Category 2 (emergency) mean response time" in html
