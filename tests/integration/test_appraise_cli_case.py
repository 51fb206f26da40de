"""The worked case end to end on the demo store: partnering appraise new, then the case from file and CLI (JSON,
report, workbook)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def run(*args, home, check=True):
    env = {**os.environ, "PARTNERING_HOME": str(home), "COLUMNS": "200"}
    env.pop("PARTNERING_DATABASE_URL", None)
    p = subprocess.run([sys.executable, "-m", "partnering", *args], capture_output=True, text=True, env=env,
                       timeout=300, cwd=home)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def test_new_case_then_run_it_from_file_and_cli(tmp_path):
    from partnering.appraise.case import load_case
    from partnering.appraise.run import run_case

    run("demo", home=tmp_path)
    run("appraise", "new", "--org", "ZN4", "--out", "case.toml", home=tmp_path)
    case = load_case(tmp_path / "case.toml")
    assert case.case.org_code == "ZN4" and len(case.options) == 6
    again = run("appraise", "new", "--org", "ZN4", "--out", "case.toml", home=tmp_path, check=False)
    assert again.returncode == 2 and "exists" in again.stderr
    assert "PLACEHOLDER" in case.warnings[0]
    run("appraise", "new", "--org", "ZN4", "--out", "given.toml", "--turnover", "300", home=tmp_path)
    given = load_case(tmp_path / "given.toml")
    assert given.route.turnover_gbp == 300e6 and "as given" in given.warnings[0]

    p = run("appraise", "case.toml", "--json", "--draws", "2000", "--report", "case.html", "--xlsx", "case.xlsx",
            home=tmp_path)
    out = json.loads(p.stdout)
    by = {o["option"]: o for o in out["options"]}
    assert set(by) == {o.key for o in case.options}
    for o in by.values():
        for f in ("npsv", "pv_costs", "pv_benefits", "bcr", "p10", "p50", "p90", "p_best"):
            assert f in o
    assert sum(o["p_best"] for o in by.values()) == pytest.approx(1.0)
    # the same figures as the library gives for the same file
    lib = run_case(case, draws=2000)
    assert by["merge"]["npsv"] == pytest.approx(float(lib.results.loc["merge", "npsv"]))
    assert by["make"]["p50"] == pytest.approx(float(lib.summary.loc["make", "p50"]))
    assert by["bau"]["npsv"] == 0.0
    html = (tmp_path / "case.html").read_text()
    assert "Strategic case" in html and "Economic case" in html and html.index("Strategic") < html.index("Commercial")
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "case.xlsx")
    assert {"Cash flows", "Discount factors", "Results", "Monte Carlo"} <= set(wb.sheetnames)
    assert not any(str(c.value).startswith("=") for ws in wb for row in ws.iter_rows() for c in row)

    # the subcommand form gives the same JSON
    p2 = run("appraise", "run", "case.toml", "--json", "--draws", "2000", home=tmp_path)
    assert json.loads(p2.stdout)["options"] == out["options"]


def test_a_broken_case_is_one_line_naming_file_and_line(tmp_path):
    (tmp_path / "bad.toml").write_text("[case]\ntitle = \"x\"\nprice_base_year = 2026\n\n[[options]]\nkey = \"a\"\n"
                                       "name = \"A\"\nkind = \"franchise\"\n")
    p = run("appraise", "bad.toml", "--json", home=tmp_path, check=False)
    assert p.returncode == 2
    assert "bad.toml, line 8, column 'options.0.kind'" in p.stderr and "Traceback" not in p.stderr
