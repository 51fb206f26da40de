"""``partnering partnerships`` and ``partnering improve`` end to end on a small store (issue #11 s.1-2): record,
update, renew, export, import with row-level errors and a non-zero exit, and an improvement project with a PDSA
cycle."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import insert

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path):
    from partnering.store.db import dispose_all, get_engine
    from partnering.store.models import Organisation

    eng = get_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with eng.begin() as conn:
        conn.execute(insert(Organisation), [{"org_code": c, "name": f"Trust {c}", "kind": "acute_trust"}
                                            for c in ("RA1", "RB2")])
    dispose_all()
    return tmp_path


def run(home, *args, check=True):
    env = {**os.environ, "PARTNERING_HOME": str(home), "PARTNERING_DATABASE_URL": f"sqlite:///{home / 'cli.db'}",
           "COLUMNS": "200"}
    p = subprocess.run([sys.executable, "-m", "partnering", *args], capture_output=True, text=True, env=env,
                       timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def test_record_update_renew_export_and_import(home):
    out = json.loads(run(home, "partnerships", "add", "--recipient", "RA1", "--supporter", "RB2", "--form",
                         "buddying", "--start", "2024-04", "--target", "ae_4h_pct_all:70:78:2025-03",
                         "--party", "university:University of Ulstead", "--json").stdout)
    pid = out["id"]
    assert [t["target"] for t in out["targets"]] == [78.0]
    assert "version 2" in run(home, "partnerships", "update", str(pid), "--set", "lessons=Agree measures first",
                              "--version", "1").stdout
    assert json.loads(run(home, "partnerships", "renew", str(pid), "--start", "2025-04", "--json").stdout)[
        "renews_id"] == pid
    shown = json.loads(run(home, "partnerships", "show", str(pid), "--json").stdout)
    assert [h["action"] for h in shown["history"]] == ["end", "update", "create"]
    run(home, "partnerships", "export", str(home / "reg.xlsx"))
    bad = home / "bad.csv"
    bad.write_text("recipient_code,supporter_code,form,start_period\nRA1,RB2,buddying,2024-4\n"
                   "RA1,RB2,merger,2024-04\nRA1,ZZ9,alliance,2024-04\n")
    p = run(home, "partnerships", "import", str(bad), check=False)
    assert p.returncode == 2
    assert "bad.csv, line 2, column 'start_period'" in p.stderr
    assert "bad.csv, line 4, column 'supporter_code': no organisation ZZ9" in p.stderr
    assert "nothing was imported" in p.stderr
    assert len(json.loads(run(home, "partnerships", "list", "--json").stdout)) == 2
    p = run(home, "partnerships", "import", str(home / "reg.xlsx"))
    assert "0 added, 0 updated, 2 unchanged" in p.stdout


def test_improvement_project_with_a_cycle(home):
    assert "Project 1 created" in run(home, "improve", "projects", "create", "--org", "RA1", "--title", "Flow",
                                      "--aim", "95% in 4 hours").stdout
    run(home, "improve", "projects", "driver", "1", "--kind", "primary", "--text", "Streaming")
    run(home, "improve", "cycles", "add", "1", "--title", "GP streaming", "--start", "2024-06", "--measure",
        "ae_4h_pct_all")
    run(home, "improve", "projects", "progress", "1", "--score", "2.5", "--period", "2024-07")
    shown = json.loads(run(home, "improve", "projects", "show", "1", "--json").stdout)
    assert shown["cycles"][0]["measures"] == [{"indicator_code": "ae_4h_pct_all", "org_code": "RA1"}]
    assert shown["progress"][0]["label"] == "Changes tested, but no improvement"
    p = run(home, "improve", "projects", "progress", "1", "--score", "6", "--period", "2024-08", check=False)
    assert p.returncode == 2 and "not on the IHI assessment scale" in p.stderr
