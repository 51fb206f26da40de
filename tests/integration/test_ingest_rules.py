"""Official figures are owned (issue #9): a KPI file cannot overwrite them, impossible values are refused, and
unknown organisations are not invented — each refused row named with its line, column and reason."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.errors import ValidationError
from partnering.ingest.ae import load_ae
from partnering.ingest.base import Parsed, commit_parsed
from partnering.ingest.kpi import load_kpi
from partnering.store import repository as repo

pytestmark = pytest.mark.integration

MARCH_2026 = "ae-monthly/March-2026-CSV-G49lw.csv"


def _hull_4h(engine) -> float:
    obs = repo.observations_frame(engine, ["ae_4h_pct_all"], ["RWA"])
    return float(obs.loc[obs.period == "2026-03", "value"].iloc[0])


def _orgs(engine) -> set[str]:
    return set(repo.organisations_frame(engine)["org_code"])


@pytest.mark.shared
def test_the_attack_changes_nothing_official_and_names_each_refused_row(nhs, tmp_path, engine, snapshot):
    load_ae(nhs / MARCH_2026, engine)
    # Hull (RWA), March 2026, from the published file: 5,221 of 14,511 attendances over 4 hours -> 64.0%
    official = _hull_4h(engine)
    assert official == pytest.approx(100 * (1 - 5221 / 14511), abs=0.05)
    orgs_before = _orgs(engine)
    f = tmp_path / "attack.csv"
    f.write_text("org_code,indicator,period,value,unit\n"
                 "RWA,ae_4h_pct_all,2026-03,250,\n"        # an official indicator (and an impossible value)
                 "RWA,falls_per_1000,2026-03,-5,rate\n"     # impossible for its unit
                 "RWA,staff_in_post,2026-03,12.5,count\n"   # a count that is not a whole number
                 "ZZZ,falls_per_1000,2026-03,4,rate\n"      # an organisation the store does not know
                 "RWA,falls_per_1000,2026-02,4.2,rate\n")   # the one good row
    rep = load_kpi(f, engine)
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected, rep.observations_new) == (5, 1, 4, 1)
    rej = repo.rejected_frame(engine, rep.batch_id)
    by_line = {int(r.line): (r.column, r.reason) for r in rej.itertuples()}
    assert by_line[2][0] == "indicator" and "official figure owned by the ae-monthly loader" in by_line[2][1]
    assert by_line[3] == ("value", "value -5 rate: cannot be negative")
    assert by_line[4] == ("value", "value 12.5 count: a count must be a whole number")
    assert by_line[5][0] == "org_code" and "'ZZZ' is not in the store" in by_line[5][1]
    assert _hull_4h(engine) == official
    assert _orgs(engine) == orgs_before
    # the official file again: still "unchanged", and still the official value
    assert load_ae(nhs / MARCH_2026, engine).status == "unchanged" and _hull_4h(engine) == official


def test_new_organisations_only_when_the_load_says_so_and_of_which_kind(tmp_path, engine):
    f = tmp_path / "partners.csv"
    f.write_text("org_code,indicator,period,value\nNQ1,theatre_sessions,2026-01,40\n")
    rep = load_kpi(f, engine)
    assert rep.rows_loaded == 0 and rep.organisations_created == [] and "NQ1" not in _orgs(engine)
    with pytest.raises(ValidationError, match="cannot create organisations of kind 'hospital'"):
        load_kpi(f, engine, create_organisations="hospital")
    rep = load_kpi(f, engine, create_organisations="independent_provider")
    assert rep.status == "loaded" and rep.rows_loaded == 1 and rep.organisations_created == ["NQ1"]
    assert "new organisations: NQ1" in rep.line()
    kinds = repo.organisations_frame(engine).set_index("org_code")["kind"]
    assert kinds["NQ1"] == "independent_provider"


def test_a_kpi_indicator_keeps_its_declared_unit_and_percentages_stay_within_0_to_100(tmp_path, engine):
    with engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame({"org_code": ["RAA"], "name": ["A"], "kind": ["acute_trust"]}))
    f = tmp_path / "own.csv"
    f.write_text("org_code,indicator,period,value,unit\nRAA,own_pct,2026-01,40,percent\n")
    load_kpi(f, engine)
    units = repo.indicators_frame(engine).set_index("code")
    assert units.loc["own_pct", "unit"] == "percent" and units.loc["own_pct", "owner"] == "kpi"
    g = tmp_path / "own2.csv"
    g.write_text("org_code,indicator,period,value\nRAA,own_pct,2026-02,140\n")  # no unit: the stored one applies
    rep = load_kpi(g, engine)
    assert rep.rows_loaded == 0
    assert repo.rejected_frame(engine, rep.batch_id)["reason"].tolist() == [
        "value 140 percent: a percentage must lie within 0–100"]


def test_an_official_loader_cannot_write_another_sources_indicator_nor_an_organisations_kpi(engine):
    orgs = pd.DataFrame({"org_code": ["RAA"], "name": ["A"], "kind": ["acute_trust"]})
    kpi = pd.DataFrame({"org_code": ["RAA"], "indicator": ["own_measure"], "period": ["2026-01"],
                        "numerator": [None], "denominator": [None], "value": [3.0]})
    commit_parsed(Parsed(kind="kpi", file="own.csv", organisations=orgs, observations=kpi), "k1", engine)
    rows = pd.DataFrame({"org_code": ["RAA", "RAA", "RAA"],
                         "indicator": ["rtt_within_18w_pct", "own_measure", "ae_attendances_total"],
                         "period": ["2026-01"] * 3, "numerator": [None] * 3, "denominator": [None] * 3,
                         "value": [60.0, 5.0, 1000.0]})
    rep = commit_parsed(Parsed(kind="ae-monthly", file="ae.csv", observations=rows), "a1", engine)
    assert rep.observations_new == 1
    rej = repo.rejected_frame(engine, rep.batch_id)["reason"].tolist()
    assert len(rej) == 2
    assert any("'rtt_within_18w_pct' is an official figure owned by the rtt loader" in r for r in rej)
    assert any("'own_measure' is an organisation's own KPI" in r for r in rej)
