"""Synthetic control with several treated units and staggered starts (issue #11 s.3).

The method (src/partnering/evaluate/synthetic.py; Cavallo, Galiani, Noy & Pantano 2013, section III.B): each treated
unit is fitted on its own against the never-treated donors; the estimate is the mean of the units' effects; the test
statistic is the mean of their post/pre RMSPE ratios, compared with means of as many placebo ratios drawn from the
donors. Checked here against the same method done by hand (one single-unit fit per treated unit), on seeded
factor-model panels (Abadie, Diamond & Hainmueller 2010, section 2.2) with a known effect and with none.
"""

import numpy as np
import pytest

from partnering.evaluate.panel import Panel
from partnering.evaluate.synthetic import synthetic_control

pytestmark = pytest.mark.unit

N, T = 33, 32
STARTS = {"u00": 20, "u01": 22, "u02": 24}  # staggered starts


def staggered_panel(rng, effect: float) -> Panel:
    f = rng.normal(size=(N, 2))
    lam = np.cumsum(rng.normal(scale=0.5, size=(T, 2)), axis=0)
    y = 10 + rng.normal(size=(N, 1)) + f @ lam.T + rng.normal(scale=0.5, size=(N, T))
    units = tuple(f"u{i:02d}" for i in range(N))
    for u, s in STARTS.items():
        y[units.index(u), s:] += effect
    return Panel(y, units, tuple(range(T)), dict(STARTS))


def test_pooled_estimate_is_the_mean_of_the_units_fitted_one_at_a_time():
    panel = staggered_panel(np.random.default_rng(4), effect=3.0)
    r = synthetic_control(panel, leave_one_out=False, placebo_in_time=False)
    singles = {}
    for u, s in STARTS.items():
        # the same fit by hand: u alone treated, the other treated units kept out of its donors
        alone = Panel(panel.y, panel.units, panel.periods, {u: s},
                      excluded={o: "treated" for o in STARTS if o != u})
        singles[u] = synthetic_control(alone, placebo=False, leave_one_out=False, placebo_in_time=False)
    assert r.att == pytest.approx(np.mean([x.att for x in singles.values()]), abs=1e-9)
    assert r.att == pytest.approx(3.0, abs=0.5)  # the effect put in
    # weights: one set per treated unit, each on the never-treated donors, summing to one, equal to the single fits
    assert set(r.weights["treated"]) == set(STARTS)
    assert not set(STARTS) & set(r.weights["unit"])
    for u, x in singles.items():
        mine = r.weights[r.weights["treated"] == u].set_index("unit")["weight"]
        assert mine.sum() == pytest.approx(1.0)
        theirs = x.weights.set_index("unit")["weight"]
        np.testing.assert_allclose(mine.reindex(theirs.index).to_numpy(), theirs.to_numpy(), atol=1e-9)
    # pooled gaps by event time: event 0 is each unit's own start; the mean of the units' gaps there
    pooled = r.gaps.set_index("period")
    for e in (-3, 0, 5):
        by_hand = np.mean([x.gaps.set_index("period").loc[STARTS[u] + e, "gap"] for u, x in singles.items()])
        assert pooled.loc[e, "gap"] == pytest.approx(by_hand, abs=1e-9)
    assert pooled.loc[0, "post"] and not pooled.loc[-1, "post"]
    # the pre-period RMSPE reported is the root mean of the units' squared RMSPEs
    assert r.rmspe_pre == pytest.approx(np.sqrt(np.mean([x.rmspe_pre ** 2 for x in singles.values()])))
    # inference: an effect of 3 (six times the noise) is found, and the interval holds it
    assert r.p_value <= 0.05
    assert r.ci_low <= 3.0 <= r.ci_high
    assert "Cavallo" in r.details["p_value_method"]


def test_false_positive_rate_with_several_treated_units():
    # no effect: the placebo test on the mean ratio rejects at 5% about 5% of the time (60 seeded panels; the
    # binomial sd is 2.8 points, so 0.15 is a generous ceiling) and its p-values are spread out, not piled at 1
    # (as they would be if the treated mean were compared with sums of placebo ratios) nor near 0
    rng = np.random.default_rng(21)
    p = np.array([synthetic_control(staggered_panel(rng, effect=0.0), leave_one_out=False,
                                    placebo_in_time=False).p_value for _ in range(60)])
    assert np.mean(p <= 0.05) <= 0.15
    assert 0.3 <= np.mean(p) <= 0.7  # roughly uniform under the null
