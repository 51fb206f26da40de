"""Tester's defects in the appraise CLI: the table output prints the appraisal's own warnings (the un-rebased QALY
value) as --json does; --turnover refuses a figure no NHS organisation has (pounds typed where millions are asked);
a table cut short names options that exist; `partnering indicators` and `assess` show a constitutional standard
given for reference (A&E types 2 and 3-4), as the catalogue's standard_name says."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from partnering.appraise.prefill import MAX_TURNOVER_GBP, check_turnover
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

QALY_NOTE = "The QALY value (GBP 70,000) is in 2024/25 prices but the case is in 2026 prices: it is NOT rebased"


def _result():
    table = pd.DataFrame({"option": ["bau"], "npsv": [0.0], "pv_costs": [0.0], "pv_benefits": [0.0], "bcr": [None],
                          "p10": [0.0], "p50": [0.0], "p90": [0.0], "p_best": [1.0]}).set_index("option")
    case = SimpleNamespace(case=SimpleNamespace(title="Case", price_base_year=2026, vintage="2026"),
                           warnings=["PLACEHOLDER turnover", QALY_NOTE])
    res = SimpleNamespace(case=case, economic=SimpleNamespace(draws=100), table=lambda: table, evpi=0.0,
                          recommendation=SimpleNamespace(text="Do it", reasons=[]), problems=[],
                          notes=[QALY_NOTE, "Another appraisal note"])
    # the real CaseResult.warnings: the case's, then the appraisal's not already there
    res.warnings = list(case.warnings) + [n for n in res.notes if n not in case.warnings]
    return res


def test_table_output_prints_the_appraisals_warnings_once(capsys):
    from partnering.cli import common
    from partnering.cli.appraise import _print_result

    with common.console.capture() as cap:
        _print_result(_result(), None, None)
    text = cap.get()
    assert "Note: Another appraisal note" in text
    assert text.count("NOT rebased") == 1 and "Note: PLACEHOLDER turnover" in text


def test_turnover_refused_beyond_any_nhs_organisation():
    check_turnover(3e9)  # the largest trusts' income: accepted
    check_turnover(None)
    with pytest.raises(ValidationError, match="10bn"):
        check_turnover(212_000_000 * 1e6)
    with pytest.raises(ValidationError, match="positive"):
        check_turnover(0.0)
    assert MAX_TURNOVER_GBP == 10e9


def test_cli_turnover_in_millions_is_checked_before_the_store(tmp_path):
    from partnering.cli.main import app

    res = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'none.db'}", "appraise", "new", "--org", "ZN4",
                                   "--out", str(tmp_path / "c.toml"), "--turnover", "212000000"])
    assert res.exit_code != 0 and isinstance(res.exception, ValidationError)
    assert "--turnover 212,000,000: give the operating income in GBP million" in str(res.exception)
    assert "10bn" in str(res.exception)
    assert not (tmp_path / "c.toml").exists() and not (tmp_path / "none.db").exists()


def test_cut_short_table_names_real_options():
    from partnering.cli import common

    df = pd.DataFrame({"a": range(5)})
    with common.console.capture() as cap:
        common.print_frame(df, max_rows=2)
    assert "3 more rows not shown" in cap.get() and "--limit" not in cap.get()
    with common.console.capture() as cap:
        common.print_frame(df, max_rows=2, more="use --rows to list more, or --output FILE.csv")
    assert "(use --rows to list more, or --output FILE.csv)" in cap.get()


def test_a_reference_only_standard_is_shown():
    from partnering.cli.common import standard_shown
    from partnering.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    for code in ("ae_4h_pct_type2", "ae_4h_pct_other"):
        d = cat[code]
        assert d.national_standard is None and d.constitutional_standard == 95.0
        assert "for reference" in d.standard_name
        assert standard_shown(d.national_standard, d.constitutional_standard) == "95 (constitutional, for reference)"
    assert standard_shown(78.0, 95.0) == "78 (constitutional 95)"
    assert standard_shown(96.0, 96.0) == "96" and standard_shown(None, None) == ""
    assert standard_shown(float("nan"), None) == ""


def test_indicators_command_shows_the_reference_standard(tmp_path):
    from partnering.cli.main import app

    res = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 's.db'}", "indicators"])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if "ae_4h_pct_type2" in line)
    assert "95 (constitutional, for reference)" in row
