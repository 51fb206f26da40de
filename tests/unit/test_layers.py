"""Imports only point down the layers, with no cycles: ``../shared/tools/layers.py`` run on ``src/partnering``.

The checker (and its layer order) is the one DESIGN.md names; it reads imports with ``ast`` and runs nothing. Its
last line counts imports against the layer order and import cycles; both must be 0 (issue #8, section 1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.shared]

REPO = Path(__file__).resolve().parents[2]


def test_layers_py_finds_no_upward_import_and_no_cycle(shared):
    checker = shared / "tools" / "layers.py"
    if not checker.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the layer checker is required on CI: {checker}")
        pytest.skip(f"needs the layer checker at {checker}")
    run = subprocess.run(
        [sys.executable, str(checker), str(REPO / "src" / "partnering")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert re.fullmatch(r"0 imports against the layer order, 0 import cycles, \d+ modules", last), report
    assert run.returncode == 0, report
