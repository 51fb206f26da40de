"""``partnering evaluate panel ... --unit-noun practices``: the verdict names the panel's units (issue #11, left
open: it said "trusts" for any panel)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.integration.test_register_cli import home, run  # noqa: F401  (the fixture and the runner)

pytestmark = pytest.mark.integration


def test_the_cli_verdict_says_practices(home):  # noqa: F811
    rng = np.random.default_rng(7)
    pd.DataFrame([{"practice": f"P{u:02d}", "month": f"{2020 + m // 12}-{m % 12 + 1:02d}",
                   "y": 50 + u + rng.normal()} for u in range(25) for m in range(36)]).to_csv(home / "p.csv",
                                                                                              index=False)
    args = ["evaluate", "panel", str(home / "p.csv"), "--unit", "practice", "--time", "month", "--outcome", "y",
            "--treated", "P00", "--start", "2022-01", "--method", "its", "--json"]
    out = json.loads(run(home, *args, "--unit-noun", "practices").stdout)
    assert "comparison with practices that were as bad before" in out["verdict"]["verdict"]
    assert "trusts" not in json.dumps(out["verdict"])
