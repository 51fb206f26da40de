"""The partnering command as a user runs it: exit codes, one clear line on bad input, exports."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.integration


def run(*args, home, check=True):
    env = {**os.environ, "PARTNERING_HOME": str(home), "COLUMNS": "200"}
    env.pop("PARTNERING_DATABASE_URL", None)
    p = subprocess.run([sys.executable, "-m", "partnering", *args], capture_output=True, text=True, env=env,
                       timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def test_help_everywhere(tmp_path):
    for cmd in ([], ["up"], ["demo"], ["ingest"], ["orgs"], ["indicators"], ["export"], ["batches"], ["assess"],
                ["report"], ["spc"]):
        p = run(*cmd, "--help", home=tmp_path)
        assert "Usage" in p.stdout, cmd


def test_up_without_serving_loads_the_demo_once_and_summarises(tmp_path):
    p = run("up", "--no-serve", home=tmp_path)
    assert "SYNTHETIC" in p.stdout and "acute_trust" in p.stdout
    assert (tmp_path / "partnering.db").exists()
    again = run("up", "--no-serve", home=tmp_path)
    assert "Loaded the demo system" not in again.stdout  # a store with data is left as it is
    out = tmp_path / "obs.csv"
    run("export", "observations", "--format", "csv", "--out", str(out), "--indicator", "ae_4h_pct_all",
        home=tmp_path)
    df = pd.read_csv(out, dtype={"period": str})
    assert list(df.columns) == ["org_code", "indicator", "period", "numerator", "denominator", "value"]
    assert set(df.indicator) == {"ae_4h_pct_all"} and df.period.str.fullmatch(r"\d{4}-\d{2}").all()
    for fmt in ("xlsx", "parquet"):
        f = tmp_path / f"obs.{fmt}"
        run("export", "observations", "--format", fmt, "--out", str(f), "--indicator", "ae_4h_pct_all",
            home=tmp_path)
        back = pd.read_excel(f) if fmt == "xlsx" else pd.read_parquet(f)
        assert len(back) == len(df)
    sup = tmp_path / "sup.csv"
    run("export", "observations", "--format", "csv", "--out", str(sup), "--indicator", "ae_dta_over_12h",
        "--suppress", home=tmp_path)
    # publication rules (issue #9.5): official NHS England statistics are written as published, each row says so
    published = pd.read_csv(sup, dtype={"period": str})
    raw_file = tmp_path / "raw.csv"
    run("export", "observations", "--format", "csv", "--out", str(raw_file), "--indicator", "ae_dta_over_12h",
        home=tmp_path)
    raw = pd.read_csv(raw_file, dtype={"period": str})
    assert set(published["publication_rule"]) == {"as published"}
    assert published["value"].tolist() == raw["value"].tolist()
    assert (published["value"] % 5 != 0).any()  # not rounded: the old blanket rule made every count a multiple of 5


def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path):
    bad = tmp_path / "March-2025.csv"
    bad.write_text("Period,Org Code\nx,y\n")
    p = run("ingest", "ae-monthly", str(bad), home=tmp_path, check=False)
    assert p.returncode == 2
    assert "Refused:" in p.stderr and "March-2025.csv" in p.stderr and "Traceback" not in p.stderr
    p = run("ingest", "nonsense", str(bad), home=tmp_path, check=False)
    assert p.returncode == 2 and "unknown kind 'nonsense'" in p.stderr and "Traceback" not in p.stderr
    p = run("--db", "nosuchdb://x", "export", "observations", "--format", "csv", "--out", str(tmp_path / "x.csv"),
            home=tmp_path, check=False)
    assert p.returncode == 2 and "Error:" in p.stderr and "Traceback" not in p.stderr
    p = run("report", "NOPE", "--out", str(tmp_path / "r.docx"), home=tmp_path, check=False)
    assert p.returncode == 2 and ".html or .pdf" in p.stderr
    p = run("export", "observations", "--no-such-option", home=tmp_path, check=False)
    assert p.returncode == 2 and "No such option" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.shared
def test_ingest_real_files_and_read_the_history(nhs, tmp_path):
    files = sorted((nhs / "ae-monthly").glob("Monthly-AE-*2025*.csv"))
    p = run("ingest", "ae-monthly", *map(str, files), home=tmp_path)
    assert p.stdout.count("rows loaded") == len(files)
    again = run("ingest", "ae-monthly", *map(str, files), home=tmp_path)
    assert again.stdout.count("unchanged") == len(files)
    hist = run("batches", home=tmp_path)
    assert "Monthly-AE-March-2025.csv" in hist.stdout
    orgs = run("orgs", "--kind", "acute_trust", "--search", "bedfordshire", home=tmp_path)
    assert "RC9" in orgs.stdout
