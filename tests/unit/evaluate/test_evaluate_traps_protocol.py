"""Spillover exclusions, the regression-to-the-mean check, ITS on a known break, the protocol fingerprint,
triangulation wording, and the CLI's --json."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from partnering.evaluate.its import interrupted_time_series
from partnering.evaluate.panel import Panel
from partnering.evaluate.protocol import Protocol, ProtocolChanged, check_protocol, save_protocol
from partnering.evaluate.result import MethodResult
from partnering.evaluate.rtm import regression_to_mean_check, with_spillover_excluded
from partnering.evaluate.triangulate import per_year_effects, triangulate

pytestmark = pytest.mark.unit

MONTHS = tuple(f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(48))


def test_spillover_excludes_supporter_and_same_icb_with_reasons():
    y = np.zeros((5, 48))
    p = Panel(y, ("R1", "S1", "A", "B", "C"), MONTHS, {"R1": "2024-04"})
    icb = {"R1": "QWE", "S1": "QHL", "A": "QWE", "B": "QHL", "C": None}
    q = with_spillover_excluded(p, "S1", icb)
    assert set(q.excluded) == {"S1", "A"}
    assert "supporter" in q.excluded["S1"] and "same ICB (QWE)" in q.excluded["A"]
    assert q.donors() == ["B", "C"]


def test_its_recovers_a_known_level_and_slope_change():
    t = np.arange(48.0)
    s = 36
    rng = np.random.default_rng(1)
    y = 50 + 0.2 * t + np.where(t >= s, -4 + 0.5 * (t - s), 0) + rng.normal(0, 0.3, 48)
    r = interrupted_time_series(Panel(y[None, :], ("X",), MONTHS, {"X": MONTHS[s]}), seasonal=False)
    beta = r.details["units"]["X"]["beta"]
    assert beta["level_change"] == pytest.approx(-4, abs=0.6)
    assert beta["slope_change"] == pytest.approx(0.5, abs=0.15)
    assert r.att == pytest.approx(-4 + 0.5 * 5.5, abs=0.6)  # mean of t - s over 12 post months is 5.5
    assert r.ci_low < r.att < r.ci_high and r.p_value < 0.01


def test_its_truncates_post_period_at_the_end():
    y = np.r_[np.zeros(36), np.full(6, 5.0), np.full(6, 100.0)] + np.random.default_rng(2).normal(0, 0.1, 48)
    r = interrupted_time_series(Panel(y[None, :], ("X",), MONTHS, {"X": MONTHS[36]}, {"X": MONTHS[41]}),
                                seasonal=False)
    assert len(r.gaps) == 6 and r.att == pytest.approx(5, abs=1)


def test_regression_to_mean_check_nets_out_what_as_bad_units_do_anyway():
    rng = np.random.default_rng(3)
    n = 40
    y = rng.normal(0, 0.2, (n, 48))
    bad = np.arange(n) < 12  # a dozen units (and the treated one) were bad in the year before and recover
    y[bad, 24:36] += 10
    units = tuple(f"u{i}" for i in range(n))
    r = regression_to_mean_check(Panel(y, units, MONTHS, {"u0": MONTHS[36]}), k=10)
    assert r.details["naive_change"] == pytest.approx(-10, abs=0.5)  # looks like a big improvement
    assert r.details["matched_change"] == pytest.approx(-10, abs=0.5)  # as-bad units improved just the same
    assert abs(r.att) < 0.5 and r.ci_low < 0 < r.ci_high
    assert set(r.weights["unit"]) <= {f"u{i}" for i in range(1, 12)}
    assert "regression to the mean" in r.details["summary"]


def test_protocol_fingerprint_refuses_a_changed_protocol(tmp_path):
    proto = Protocol(partnership="RXX:RYY", outcomes=["ae_4h_pct_all"], start="2024-04")
    for name in ("p.json", "p.toml"):
        path = tmp_path / name
        fp = save_protocol(proto, path)
        assert len(fp) == 64
        loaded, warnings = check_protocol(path)
        assert loaded == proto and warnings == []
        path.write_text(path.read_text().replace("2024-04", "2024-06"))
        with pytest.raises(ProtocolChanged):
            check_protocol(path)
        _, warnings = check_protocol(path, allow_changed=True)
        assert warnings and warnings[0].startswith("WARNING")


def _r(att, lo, hi, name="x"):
    return MethodResult(name, att, lo, hi, gaps=pd.DataFrame({"period": ["2024-04", "2025-01"], "gap": [1.0, 3.0]}))


def test_triangulation_agreement_and_disagreement():
    v = triangulate({"its": _r(-2, -3, -1), "did": _r(-1.5, -2.5, -0.5)}, "increase", "4-hour performance")
    assert v.agree and v.direction == "deterioration" and "All 2 methods" in v.verdict
    v = triangulate({"its": _r(-2, -3, -1), "did": _r(0.5, -1, 2)}, "increase")
    assert not v.agree and "disagree" in v.verdict and any("disagree" in w for w in v.warnings)
    v = triangulate({"its": _r(0.2, -1, 1), "did": _r(-0.1, -1, 1)})
    assert v.direction == "none" and "not proof of no effect" in v.verdict
    y = per_year_effects(_r(0, -1, 1))
    assert y["year"].tolist() == [2024, 2025] and y["effect"].tolist() == [1.0, 3.0]


def test_cli_panel_json(tmp_path):
    from partnering.cli.main import app

    rng = np.random.default_rng(4)
    rows = [{"org": f"o{i}", "month": m, "v": 10 + rng.normal() + (5 if i == 0 and k >= 36 else 0)}
            for i in range(25) for k, m in enumerate(MONTHS)]
    f = tmp_path / "panel.csv"
    pd.DataFrame(rows).to_csv(f, index=False)
    res = CliRunner().invoke(app, ["evaluate", "panel", str(f), "--unit", "org", "--time", "month", "--outcome",
                                   "v", "--treated", "o0", "--start", "2024-01", "--method", "did", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    did = out["methods"]["did"]
    assert did["att"] == pytest.approx(5, abs=0.7)
    assert did["ci_low"] < did["att"] < did["ci_high"] and did["p_value"] < 0.1
    assert len(did["gaps"]) == 12 and {"period", "gap"} <= set(did["gaps"][0])
    assert out["regression_to_mean"]["summary"]
