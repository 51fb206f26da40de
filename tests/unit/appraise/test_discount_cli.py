"""``partnering appraise discount``: the quick calculator prints the worked NPV (SCIM Annex A Table 2: 8,253.227)."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from partnering.cli.main import app
from partnering.errors import ValidationError

pytestmark = pytest.mark.unit

WORKED = "1000,1000,1000,1000,1000,1000,1000,1000,1000,1000,-500"


def test_json_present_value_of_the_worked_example():
    result = CliRunner().invoke(app, ["appraise", "discount", "--flows", WORKED, "--vintage", "2022", "--json"])
    assert result.exit_code == 0, result.output
    assert round(json.loads(result.stdout)["present_value"], 3) == 8253.227


def test_health_schedule_and_text_output():
    result = CliRunner().invoke(app, ["appraise", "discount", "--flows", "0, 101.5", "--schedule", "health"])
    assert result.exit_code == 0, result.output
    assert "Present value: 100.000" in result.stdout  # 101.5 / 1.015


def test_bad_input_is_one_line_and_exit_2():
    done = subprocess.run(
        [sys.executable, "-m", "partnering", "appraise", "discount", "--flows", "1,,2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--flows" in done.stderr and "Traceback" not in done.stderr
    bad = CliRunner().invoke(app, ["appraise", "discount", "--flows", "1", "--schedule", "weird"])
    assert isinstance(bad.exception, ValidationError) and "--schedule" in str(bad.exception)


def test_cli_module_imports_no_numpy():
    code = "import sys, partnering.cli.appraise; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"
