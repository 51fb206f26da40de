"""Issue #9 on the command line: --published, --create-organisations, the batches listing with publication date
and basis, `batches undo` (what it removed and restored; one clear line and a non-zero exit on refusal), `audit`,
the one name of the travel limit, `indicators` that does not write, and `assess --org --out` for one organisation.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration


def run(*args, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PARTNERING_HOME": str(home), "COLUMNS": "240"}
    env.pop("PARTNERING_DATABASE_URL", None)
    p = subprocess.run([sys.executable, "-m", "partnering", *map(str, args)], capture_output=True, text=True,
                       env=env, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def _kpi(path: Path, rows: list[str]) -> Path:
    path.write_text("org_code,indicator,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _current(home: Path, code: str = "own_falls") -> dict:
    with sqlite3.connect(home / "partnering.db") as db:
        rows = db.execute("SELECT org_code, period, value FROM observations WHERE indicator_code = ? AND "
                          "superseded_by IS NULL", (code,)).fetchall()
    return {(o, p): v for o, p, v in rows}


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    # two known organisations, from a KPI load that may create them
    run("ingest", "kpi", _kpi(tmp_path / "seed.csv", ["RAA,own_beds,2026-01,10", "RBB,own_beds,2026-01,12"]),
        "--create-organisations", "acute_trust", "--published", "2026-02-01", home=h)
    return h


def test_published_is_recorded_and_listed_with_its_basis(home, tmp_path):
    run("ingest", "kpi", _kpi(tmp_path / "a.csv", ["RAA,own_falls,2026-01,4"]), "--published", "2026-02-10",
        home=home)
    run("ingest", "kpi", _kpi(tmp_path / "b.csv", ["RAA,own_falls,2026-02,5"]), home=home)
    out = run("batches", home=home).stdout
    assert "published_on" in out and "basis" in out
    line_a = next(ln for ln in out.splitlines() if " a.csv " in ln)
    line_b = next(ln for ln in out.splitlines() if " b.csv " in ln)
    assert "2026-02-10" in line_a and "given" in line_a
    assert "inferred: load time" in line_b


@pytest.mark.parametrize("bad", ["2026-13-01", "10/02/2026", "2026-02"])
def test_a_bad_published_date_is_one_clear_line(home, tmp_path, bad):
    p = run("ingest", "kpi", _kpi(tmp_path / "a.csv", ["RAA,own_falls,2026-01,4"]), "--published", bad,
            home=home, check=False)
    assert p.returncode == 2
    assert "--published" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert _current(home) == {}  # nothing written


def test_create_organisations_lists_them_and_without_it_the_rows_are_rejected(home, tmp_path):
    f = _kpi(tmp_path / "new.csv", ["RAA,own_falls,2026-01,4", "ZZZ,own_falls,2026-01,5"])
    plain = run("ingest", "kpi", f, home=home).stdout
    assert "1 rejected" in plain and "new organisations" not in plain
    created = run("ingest", "kpi", f, "--create-organisations", "other_provider", home=home).stdout
    assert "new organisations: ZZZ" in created
    p = run("ingest", "ae-monthly", f, "--create-organisations", "other_provider", home=home, check=False)
    assert p.returncode == 2 and "only to kpi" in p.stderr


def test_undo_restores_what_it_superseded_and_is_refused_while_a_later_batch_builds_on_it(home, tmp_path):
    run("ingest", "kpi", _kpi(tmp_path / "first.csv", ["RAA,own_falls,2026-01,4"]), home=home)
    before = _current(home)
    run("ingest", "kpi", _kpi(tmp_path / "second.csv", ["RAA,own_falls,2026-01,6", "RBB,own_falls,2026-01,1"]),
        home=home)
    assert _current(home) == {("RAA", "2026-01"): 6.0, ("RBB", "2026-01"): 1.0}
    ids = {Path(r["file"]).name: r["batch"] for r in _load_events(home)}
    refused = run("batches", "undo", ids["first.csv"], home=home, check=False)
    assert refused.returncode != 0
    msg = refused.stderr.strip().splitlines()
    assert len(msg) == 1 and "cannot be undone" in msg[0] and f"{ids['second.csv']}" in msg[0]
    assert "Traceback" not in refused.stderr
    done = run("batches", "undo", ids["second.csv"], home=home).stdout
    assert "removed 2 values" in done and "restored 1 values" in done
    assert _current(home) == before == {("RAA", "2026-01"): 4.0}
    missing = run("batches", "undo", "999", home=home, check=False)
    assert missing.returncode != 0 and "999" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


def _load_events(home: Path) -> list[dict]:
    events = json.loads(run("audit", "--action", "data.load", "--json", "--limit", "100", home=home).stdout)
    return [{"batch": int(e["target"].split()[1]), "file": e["after"]["file"]} for e in events]


def test_undo_removes_the_organisations_its_load_created(home, tmp_path):
    run("ingest", "kpi", _kpi(tmp_path / "new.csv", ["ZZZ,own_falls,2026-01,5"]), "--create-organisations",
        "other_provider", home=home)
    bid = _load_events(home)[0]["batch"]
    out = run("batches", "undo", bid, home=home).stdout
    assert "removed the organisations it created: ZZZ" in out
    assert "ZZZ" not in run("orgs", "--limit", "100", home=home).stdout


def test_audit_is_latest_first_and_filters_by_action(home, tmp_path):
    run("ingest", "kpi", _kpi(tmp_path / "x.csv", ["RAA,own_falls,2026-01,4"]), home=home)
    bid = _load_events(home)[0]["batch"]
    run("batches", "undo", bid, home=home)
    events = json.loads(run("audit", "--json", home=home).stdout)
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert events[0]["action"] == "data.undo" and events[0]["target"] == f"batch {bid}"
    assert events[0]["after"]["values_removed"] == 1
    loads = json.loads(run("audit", "--json", "--action", "data.load", "--limit", "1", home=home).stdout)
    assert len(loads) == 1 and loads[0]["action"] == "data.load"
    table = run("audit", "--limit", "2", home=home).stdout
    assert "data.undo" in table and "latest first" in table
    assert run("audit", "--limit", "0", home=home, check=False).returncode == 2


def test_indicators_does_not_write_the_store(home):
    """The store's bytes are the same after listing (opening the store brings the catalogue up to date, once)."""
    db = home / "partnering.db"
    run("indicators", home=home)
    before = db.read_bytes()
    out = run("indicators", home=home).stdout
    assert "ae_4h_pct_all" in out
    assert db.read_bytes() == before


def test_the_travel_limit_has_one_name_and_the_old_one_is_a_hidden_alias(tmp_path):
    for cmd in ("partners", "plan"):
        helptext = run(cmd, "--help", home=tmp_path).stdout
        assert "--max-travel-minutes" in helptext and "--max-minutes" not in helptext
    p = run("plan", "--max-travel-minutes", "-5", home=tmp_path, check=False)
    assert p.returncode == 2 and "--max-travel-minutes" in p.stderr
    old = run("plan", "--max-minutes", "-5", home=tmp_path, check=False)
    assert old.returncode == 2 and "deprecated" in old.stderr
    both = run("plan", "--max-minutes", "60", "--max-travel-minutes", "90", home=tmp_path, check=False)
    assert both.returncode == 2 and "once" in both.stderr


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("demo")
    run("demo", home=home)
    return home


def test_assess_org_out_writes_only_that_organisation_and_shows_freshness(demo_home, tmp_path):
    every = tmp_path / "all.csv"
    run("assess", "--out", every, home=demo_home)
    codes = pd.read_csv(every, dtype=str)["org_code"]
    code = codes.iloc[0]
    assert codes.nunique() > 1
    one = tmp_path / "one.csv"
    out = run("assess", "--org", code, "--out", one, home=demo_home).stdout
    df = pd.read_csv(one, dtype=str)
    assert set(df["org_code"]) == {code} and len(df) == int((codes == code).sum())
    assert "Data freshness" in out and "latest month" in out
    book = tmp_path / "one.xlsx"
    run("assess", "--org", code, "--out", book, home=demo_home)
    sheets = pd.read_excel(book, sheet_name=None, dtype=str)
    assert set(sheets["flags"]["org_code"]) == {code} and set(sheets["icon table"]["org_code"]) == {code}
    assert "data freshness" in sheets
    bad = run("assess", "--org", "NOPE1", "--out", tmp_path / "nope.csv", home=demo_home, check=False)
    assert bad.returncode == 2 and not (tmp_path / "nope.csv").exists()
