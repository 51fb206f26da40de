"""The latest publication wins whatever the order of loading, and any observation batch can be undone exactly
(issue #9 parts 2 and 3), on the real A&E files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pandas as pd
import pytest

from partnering.ingest.ae import load_ae, parse_ae_workbook
from partnering.ingest.kpi import load_kpi
from partnering.store import audit
from partnering.store import repository as repo
from partnering.store.publication import LOAD_TIME, REVISED, Publication, is_later
from partnering.store.undo import UndoRefused, undo_batch

pytestmark = pytest.mark.integration

REVISED_APRIL = "ae-monthly/April-2025-CSV-revised.csv"
OVER_4H_T1 = 10  # "Attendances over 4hrs Type 1"


def _first_release(nhs, tmp_path, delta=35):
    """The April 2025 file as first published: Hull's (RWA) type 1 over-4-hour count differs by ``delta`` (and so
    does the England total, which the loader checks), as a revision changes a few cells."""
    rows = list(csv.reader(io.StringIO((nhs / REVISED_APRIL).read_text(encoding="utf-8-sig"))))
    for r in rows:
        if r[1] in ("RWA", "TOTAL"):
            r[OVER_4H_T1] = str(int(r[OVER_4H_T1]) + delta)
    out = tmp_path / "April-2025-CSV-first.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return out


def _current(engine) -> pd.DataFrame:
    df = repo.observations_frame(engine, None, join_successors=False)
    return df.sort_values(["org_code", "indicator", "period"]).reset_index(drop=True)


def _hull_over_4h(engine) -> float:
    obs = repo.observations_frame(engine, ["ae_over_4h_type1"], ["RWA"])
    return float(obs.loc[obs.period == "2025-04", "value"].iloc[0])


def test_the_order_of_publication_not_of_loading_decides_what_is_current():
    first = Publication(1, date(2025, 5, 8), "given")
    revision = Publication(2, date(2025, 6, 12), "given")
    assert is_later(revision, first) and not is_later(first, revision)
    # loaded the other way round (the revision got the lower batch id): still the revision
    assert is_later(Publication(1, date(2025, 6, 12), "given"), Publication(2, date(2025, 5, 8), "given"))
    # nothing known: a file named as a revision ranks after a first release, even one loaded days later
    assert is_later(Publication(1, date(2026, 11, 1), REVISED), Publication(2, date(2026, 11, 30), LOAD_TIME))
    assert not is_later(Publication(2, date(2026, 11, 30), LOAD_TIME), Publication(1, date(2026, 11, 1), REVISED))


@pytest.mark.shared
def test_loading_publications_in_either_order_gives_the_same_current_values(nhs, tmp_path, sqlite_engine,
                                                                            pg_engine):
    first = _first_release(nhs, tmp_path)
    revised = nhs / REVISED_APRIL
    a, b = sqlite_engine, pg_engine
    load_ae(first, a)
    rep_a = load_ae(revised, a)
    assert rep_a.observations_superseded > 0
    rep_b1 = load_ae(revised, b)
    rep_b2 = load_ae(first, b)  # the older publication, loaded last
    assert rep_b2.observations_superseded == 0 and "older publication" in rep_b2.message
    assert _hull_over_4h(a) == _hull_over_4h(b) == 5265  # the revised figure, as published
    pd.testing.assert_frame_equal(_current(a), _current(b), check_dtype=False)
    # the older publication is in the history, not lost
    hist = repo.observations_frame(b, ["ae_over_4h_type1"], ["RWA"], history=True)
    assert sorted(hist.loc[hist.period == "2025-04", "value"]) == [5265, 5300]
    batches = repo.batches_frame(b).set_index("id")
    assert batches.loc[rep_b1.batch_id, "publication_basis"] == REVISED
    assert batches.loc[rep_b2.batch_id, "publication_basis"] == LOAD_TIME


@pytest.mark.shared
def test_a_given_publication_date_orders_publications(nhs, tmp_path, engine):
    first = _first_release(nhs, tmp_path, delta=-20)
    later = tmp_path / "April-2025-again.csv"  # not named "revised": only the dates tell
    later.write_bytes((nhs / REVISED_APRIL).read_bytes())
    load_ae(later, engine, published_on=date(2025, 6, 12))
    rep = load_ae(first, engine, published_on=date(2025, 5, 8))
    assert rep.observations_superseded == 0 and _hull_over_4h(engine) == 5265


@pytest.mark.shared
def test_the_workbook_says_when_it_was_published(nhs):
    f = nhs / "ae-workbook" / "March-2025-AE-by-provider.xls"
    assert parse_ae_workbook(f.read_bytes(), str(f)).published_on == date(2025, 4, 10)  # "Published: 10th April 2025"


@pytest.mark.shared
def test_undo_restores_exactly_the_store_before_and_is_audited(nhs, tmp_path, engine, snapshot):
    first = _first_release(nhs, tmp_path)
    load_ae(first, engine)
    before = snapshot(engine)
    rep = load_ae(nhs / REVISED_APRIL, engine)
    assert _hull_over_4h(engine) == 5265
    with engine.begin() as conn:
        summary = undo_batch(conn, rep.batch_id, actor="admin@nhs.net")
    assert summary["values_removed"] == rep.observations_new and summary["values_restored"] > 0
    assert snapshot(engine) == before and _hull_over_4h(engine) == 5300
    ev = audit.audit_frame(engine, action="data.undo").iloc[0]
    assert ev["actor"] == "admin@nhs.net" and ev["target"] == f"batch {rep.batch_id}"
    # undoing the first load too leaves an empty store of values, organisations and kinds as they were
    with engine.begin() as conn:
        undo_batch(conn, 1)
    assert repo.observations_frame(engine, None).empty
    assert repo.organisations_frame(engine).empty and repo.batches_frame(engine).empty


@pytest.mark.shared
def test_undo_of_an_older_publication_loaded_later_keeps_the_current_values(nhs, tmp_path, engine, snapshot):
    load_ae(nhs / REVISED_APRIL, engine)
    before = snapshot(engine)
    rep = load_ae(_first_release(nhs, tmp_path), engine)
    with engine.begin() as conn:
        undo_batch(conn, rep.batch_id)
    assert snapshot(engine) == before


def test_undo_is_refused_where_a_later_batch_builds_on_it_or_history_was_not_kept(tmp_path, engine, snapshot):
    with engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame({"org_code": ["RAA"], "name": ["A"], "kind": ["acute_trust"]}))
    f, g = tmp_path / "jan.csv", tmp_path / "jan-corrected.csv"
    f.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2026-01,3.1\n")
    g.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2026-01,2.9\n")
    one, two = load_kpi(f, engine), load_kpi(g, engine)
    state = snapshot(engine)
    with pytest.raises(UndoRefused, match=f"later batch {two.batch_id} superseded some of its values; undo it first"):
        with engine.begin() as conn:
            undo_batch(conn, one.batch_id)
    assert snapshot(engine) == state
    with engine.begin() as conn:
        undo_batch(conn, two.batch_id)
        undo_batch(conn, one.batch_id)
    assert repo.observations_frame(engine, ["falls_per_1000"]).empty
    assert "falls_per_1000" not in set(repo.indicators_frame(engine)["code"])  # the KPI it created is gone too
    after = json.loads(audit.audit_frame(engine, action="data.undo").iloc[0]["after"])
    assert after["values_removed"] == 1


def test_a_batch_id_is_never_reused_after_an_undo(tmp_path, engine):
    """The audit log names batches by id: after undoing the newest batch, the next load gets a new id."""
    with engine.begin() as conn:
        repo.upsert_organisations(conn, pd.DataFrame({"org_code": ["RAA"], "name": ["A"], "kind": ["acute_trust"]}))
    f, g = tmp_path / "a.csv", tmp_path / "b.csv"
    f.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2026-01,3.1\n")
    g.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2026-02,3.3\n")
    first = load_kpi(f, engine)
    with engine.begin() as conn:
        undo_batch(conn, first.batch_id)
    again = load_kpi(g, engine)
    assert again.batch_id > first.batch_id
