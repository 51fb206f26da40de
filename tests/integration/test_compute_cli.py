"""``partnering compute`` as a user runs it: generate records for the store's trusts, compute on DuckDB, write
the table, load it into the store (batches with the 'derived from record-level data' basis) and assess."""

from __future__ import annotations

import pandas as pd
import pytest
from test_cli import run  # the partnering command in a subprocess, with its own PARTNERING_HOME

pytestmark = pytest.mark.integration


def test_generate_compute_load_assess(tmp_path):
    home, records, out = tmp_path / "home", tmp_path / "records", tmp_path / "monthly.parquet"
    run("demo", home=home)  # a store with acute trusts (the synthetic demo system)
    run("compute", "generate", "--records", "30000", "--seed", "5", "--out", str(records), "--first-period",
        "2025-01", "--months", "15", home=home)
    p = run("compute", "indicators", str(records), "--out", str(out), "--rejects", str(tmp_path / "rej.csv"),
            "--load", home=home)
    assert "30,000 records read" in p.stdout and "ae-monthly batch" in p.stdout and "rtt batch" in p.stdout
    assert "ae-record-level batch" in p.stdout  # the indicators only records give, in their own batch
    table = pd.read_parquet(out)
    assert list(table.columns) == ["org_code", "indicator", "period", "numerator", "denominator", "value"]
    rejected = pd.read_csv(tmp_path / "rej.csv")
    assert set(rejected.columns) == {"record_type", "reason", "records"} and rejected["records"].min() > 0
    batches = run("batches", home=home).stdout
    # one ae-monthly, one ae-record-level and one rtt batch
    assert batches.count("derived from record-level data") == 3
    # the store now holds the derived figures: the one the table says for one trust and month
    one = table[table["indicator"] == "ae_4h_pct_all"].iloc[0]
    exported = tmp_path / "obs.csv"
    run("export", "observations", "--format", "csv", "--out", str(exported), "--indicator", "ae_4h_pct_all",
        home=home)
    obs = pd.read_csv(exported, dtype={"period": str})
    match = obs[(obs["org_code"] == one["org_code"]) & (obs["period"].str[:7] == one["period"])]
    assert match["value"].iloc[0] == pytest.approx(one["value"])
    assert "organisations assessed" in run("assess", home=home).stdout
    # the same figures again change nothing
    again = run("compute", "indicators", str(records), "--load", home=home).stdout
    assert again.count("unchanged") == 3


def test_bad_input_is_one_clear_line(tmp_path):
    p = run("compute", "indicators", str(tmp_path / "nowhere"), "--ods", str(tmp_path / "etr.csv"), home=tmp_path,
            check=False)
    assert p.returncode == 2 and "Error" in p.stderr and "Traceback" not in p.stderr
    p = run("compute", "indicators", str(tmp_path), "--engine", "polars", home=tmp_path, check=False)
    assert p.returncode == 2 and "choose duckdb or spark" in p.stderr
    p = run("compute", "generate", "--records", "10", "--out", str(tmp_path / "r"), home=tmp_path, check=False)
    assert p.returncode == 2 and "the store has no trusts" in p.stderr
