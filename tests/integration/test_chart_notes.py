"""Chart annotations and rebases (issue #14.3) in the store, the audit log, ``assess``, the export and the CLI.

The real case: Hull University Teaching Hospitals (RWA) reports type 3 attendances from February 2024 (NHS England
A&E monthly CSV, ``February-2024-revised-130624-ef123ty.csv``, row RWA: 2,826 type 3 attendances; January's file
``January-2024-revised-130624-ddff.csv``: none), so its 4-hour percentage steps from 45.1% (6,189 of 11,274 over
4 hours) to 59.4% (5,213 of 12,849).  Without a rebase SPC calls the months before the step concern and those after
improvement; a rebase at 2024-02 with that reason restarts the limits there.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from partnering.errors import NotFoundError, ValidationError
from partnering.store import annotations as notes
from partnering.store.audit import audit_frame

pytestmark = pytest.mark.integration

REASON = "Type 3 attendances reported from February 2024 (2,826 that month, none in January)"


@pytest.fixture
def store(tmp_path):
    from partnering.ingest.base import Parsed, commit_parsed
    from partnering.store.db import get_engine

    eng = get_engine(f"sqlite:///{tmp_path / 's.db'}")
    orgs = pd.DataFrame({"org_code": ["ZA1", "ZA2"], "name": ["Trust ZA1", "Trust ZA2"], "kind": "acute_trust"})
    obs = pd.DataFrame([{"org_code": o, "indicator": "ae_attendances_total", "period": f"2024-{m:02d}",
                         "numerator": None, "denominator": None, "value": 1000 + m}
                        for o in ("ZA1", "ZA2") for m in range(1, 13)])
    commit_parsed(Parsed(kind="ae-monthly", file="seed.csv", organisations=orgs, observations=obs), "seed", eng)
    return eng


def test_add_change_delete_and_undo_are_stored_with_who_and_when_and_audited(store):
    n = notes.add_note(store, "za1", "ae_attendances_total", "2024-03", "annotation", " New front door ", "ana@x")
    assert (n.org_code, n.period, n.text, n.created_by) == ("ZA1", "2024-03", "New front door", "ana@x")
    r = notes.add_note(store, "ZA1", "ae_attendances_total", "2024-06-01", "rebase", "UTC opened", "ana@x")
    assert r.period == "2024-06"  # a date is taken as its month
    assert notes.rebases_by_series(store) == {("ZA1", "ae_attendances_total"): ["2024-06"]}
    changed = notes.change_note(store, n.id, text="New front door model", actor="bob@x")
    assert changed.text == "New front door model" and changed.updated_by == "bob@x" and changed.created_by == "ana@x"
    notes.delete_note(store, r.id, actor="bob@x")
    assert notes.rebases_by_series(store) == {}
    log = audit_frame(store, action="chart.")
    assert list(log["action"]) == ["chart.rebase.delete", "chart.annotation.change", "chart.rebase.add",
                                   "chart.annotation.add"]
    assert list(log["actor"]) == ["bob@x", "bob@x", "ana@x", "ana@x"]
    change = log.iloc[1]
    assert json.loads(change["before"])["text"] == "New front door"
    assert json.loads(change["after"])["text"] == "New front door model"
    # undo: the delete brings the rebase back with its id, who and when; the change is reverted; undo is audited
    back = notes.undo_change(store, int(log.iloc[0]["id"]))
    assert (back.id, back.kind, back.text, back.created_by) == (r.id, "rebase", "UTC opened", "ana@x")
    assert notes.undo_change(store, int(log.iloc[1]["id"])).text == "New front door"
    assert notes.undo_change(store, int(log.iloc[3]["id"])) is None  # undoing the add removes the annotation
    frame = notes.notes_frame(store)
    assert list(frame["id"]) == [r.id]
    assert list(audit_frame(store, action="chart.")["action"])[:3] == ["chart.annotation.undo"] * 2 + \
        ["chart.rebase.undo"]


def test_bad_notes_are_refused_with_the_reason(store):
    with pytest.raises(ValidationError, match="not an ISO month"):
        notes.add_note(store, "ZA1", "ae_attendances_total", "March 2024", "annotation", "x")
    with pytest.raises(ValidationError, match="needs its reason"):
        notes.add_note(store, "ZA1", "ae_attendances_total", "2024-03", "rebase", "  ")
    with pytest.raises(ValidationError, match="at most 500"):
        notes.add_note(store, "ZA1", "ae_attendances_total", "2024-03", "annotation", "x" * 501)
    with pytest.raises(ValidationError, match="kind must be one of"):
        notes.add_note(store, "ZA1", "ae_attendances_total", "2024-03", "comment", "x")
    with pytest.raises(NotFoundError, match="organisation 'ZZ9'"):
        notes.add_note(store, "ZZ9", "ae_attendances_total", "2024-03", "annotation", "x")
    with pytest.raises(NotFoundError, match="no indicator"):
        notes.add_note(store, "ZA1", "no_such_indicator", "2024-03", "annotation", "x")
    notes.add_note(store, "ZA1", "ae_attendances_total", "2024-03", "rebase", "first")
    with pytest.raises(ValidationError, match="already has a rebase at 2024-03"):
        notes.add_note(store, "ZA1", "ae_attendances_total", "2024-03", "rebase", "second")
    with pytest.raises(NotFoundError):
        notes.change_note(store, 999, text="x")
    assert len(notes.notes_frame(store)) == 1  # nothing refused was stored
    assert len(audit_frame(store, action="chart.")) == 1


def test_the_export_carries_the_notes_on_their_months(store, tmp_path):
    from partnering.report.export import export_observations

    plain = tmp_path / "plain.csv"
    export_observations(store, plain)
    assert "annotation" not in pd.read_csv(plain).columns  # no notes: the export is as before
    notes.add_note(store, "ZA1", "ae_attendances_total", "2024-03", "annotation", "New front door")
    notes.add_note(store, "ZA1", "ae_attendances_total", "2024-06", "rebase", "UTC opened")
    out = tmp_path / "obs.csv"
    export_observations(store, out)
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    marked = df[(df["annotation"] != "") | (df["rebase_reason"] != "")]
    assert marked[["org_code", "period", "annotation", "rebase_reason"]].values.tolist() == [
        ["ZA1", "2024-03", "New front door", ""], ["ZA1", "2024-06", "", "UTC opened"]]


@pytest.mark.shared
def test_assess_restarts_hulls_4_hour_limits_at_the_recorded_rebase(real_store):
    from partnering.measure.assess import assess
    from partnering.store import repository as repo

    def series(a):
        p = a.points[(a.points["org_code"] == "RWA") & (a.points["indicator"] == "ae_4h_pct_all")]
        return p.assign(period=pd.to_datetime(p["x"]).dt.strftime("%Y-%m")).set_index("period")

    before = series(assess(real_store))
    assert round(before.loc["2024-01", "y"], 1) == 45.1 and round(before.loc["2024-02", "y"], 1) == 59.4
    assert (before["rebase_group"] == 0).all()
    # one mean for the whole window: the months before the step are concern, the ten after it improvement
    assert set(before.loc["2023-06":"2024-01", "point_type"]) == {"special_cause_concern"}
    assert set(before.loc["2024-02":"2024-11", "point_type"]) == {"special_cause_improvement"}
    note = notes.add_note(real_store, "RWA", "ae_4h_pct_all", "2024-02", "rebase", REASON, actor="test")
    try:
        after = series(assess(real_store))
    finally:
        notes.delete_note(real_store, note.id, actor="test")
    assert (after.loc[:"2024-01", "rebase_group"] == 0).all() and (after.loc["2024-02":, "rebase_group"] == 1).all()
    # the new mean is the mean of the values from the rebase on, as read from the store
    obs = repo.observations_frame(real_store, ["ae_4h_pct_all"], ["RWA"])
    from_rebase = obs[(obs["period"] >= "2024-02") & (obs["period"] <= after.index[-1])]["value"]
    assert after.loc["2024-02", "mean"] == pytest.approx(from_rebase.mean())
    assert after.loc["2024-01", "mean"] == pytest.approx(
        obs[(obs["period"] >= after.index[0]) & (obs["period"] <= "2024-01")]["value"].mean())
    # the step is no longer read as a year of concern followed by improvement
    assert "special_cause_concern" not in set(after.loc["2023-06":"2024-01", "point_type"])
    assert set(after.loc["2024-02":"2024-11", "point_type"]) != {"special_cause_improvement"}
    assert notes.rebases_by_series(real_store) == {}  # the shared store is left as it was


def test_the_cli_annotates_rebases_lists_and_undoes(store, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from partnering.cli.main import app

    url = str(store.url)
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(app, ["--db", url, *args])
        return res

    ok = run("annotate", "ZA1", "ae_attendances_total", "2024-03", "New front door", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["text"] == "New front door"
    assert run("rebase", "ZA1", "ae_attendances_total", "2024-06", "--reason", "UTC opened").exit_code == 0
    refused = run("rebase", "ZA1", "ae_attendances_total", "2024-06", "--reason", "again")
    # the typed error (main() prints it in one line as "Error: ..."): nothing stored
    assert refused.exit_code != 0 and "already has a rebase at 2024-06" in str(refused.exception)
    listed = json.loads(run("notes", "list", "--org", "ZA1", "--json").output)
    assert [(n["kind"], n["period"]) for n in listed] == [("annotation", "2024-03"), ("rebase", "2024-06")]
    assert listed[0]["created_by"].startswith("cli:")
    rid = listed[1]["id"]
    assert run("notes", "delete", str(rid)).exit_code == 0
    event = int(audit_frame(store, action="chart.rebase.delete").iloc[0]["id"])
    assert run("notes", "undo", str(event)).exit_code == 0
    assert notes.rebases_by_series(store) == {("ZA1", "ae_attendances_total"): ["2024-06"]}
