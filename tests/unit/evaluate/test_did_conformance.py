"""Proposition 99: the two-way fixed-effects DiD on all 38 control states, 1970-2000, is -27.349111
(../shared/conformance/evaluation/README.md), equal to the 2x2 difference in means."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnering.evaluate.did import callaway_santanna, event_study, twfe_did
from partnering.evaluate.panel import panel_from_long

pytestmark = [pytest.mark.unit, pytest.mark.shared]

DATA = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "evaluation" / "prop99-smoking.csv"


@pytest.fixture(scope="module")
def prop99():
    df = pd.read_csv(DATA)
    return df, panel_from_long(df, "name", "year", "cigsale", "California", 1989)


def test_twfe_did_reproduces_prop99(prop99):
    df, panel = prop99
    r = twfe_did(panel)
    assert round(r.att, 6) == -27.349111
    assert len(r.details["comparators"]) == 38
    # the 2x2 difference in means, computed here from the raw table independently of the method
    ca = df["name"] == "California"
    post = df["year"] >= 1989
    m = df.groupby([ca, post])["cigsale"].mean()
    assert r.att == pytest.approx((m[True, True] - m[True, False]) - (m[False, True] - m[False, False]), abs=1e-9)


def test_one_treated_state_uses_placebo_inference(prop99):
    _, panel = prop99
    r = twfe_did(panel)
    assert r.details["inference"] == "placebo"
    assert len(r.details["placebo"]) == 38
    assert r.ci_low < r.att < r.ci_high
    # cluster-robust errors with one treated cluster are far smaller than the placebo spread (Conley & Taber 2011)
    assert r.details["se_cluster"] * 1.96 * 2 < (r.ci_high - r.ci_low)


def test_event_study_reference_period_and_leads(prop99):
    _, panel = prop99
    es = event_study(panel)
    assert -1 not in set(es["table"]["event_time"])
    # 1988 is the reference: the 1989 coefficient is the treated-minus-controls change from 1988 to 1989
    y = panel.frame()
    ctrl = [c for c in y.columns if c != "California"]
    want = (y.loc[1989, "California"] - y.loc[1988, "California"]) - (y.loc[1989, ctrl] - y.loc[1988, ctrl]).mean()
    got = es["table"].set_index("event_time").loc[0, "coef"]
    assert got == pytest.approx(want, abs=1e-9)
    assert 0 < es["pre_trend_p"] <= 1


def test_callaway_santanna_one_group_equals_its_2x2(prop99):
    _, panel = prop99
    r = callaway_santanna(panel, control="never", n_boot=49)
    y = panel.frame()
    ctrl = [c for c in y.columns if c != "California"]
    d_t = y.loc[1989:, "California"] - y.loc[1988, "California"]
    d_c = (y.loc[1989:, ctrl] - y.loc[1988, ctrl]).mean(axis=1)
    assert r.att == pytest.approx(float(np.mean(d_t - d_c)), abs=1e-9)
