"""Simulation study: seeded panels with a known effect and with none.

For each method (ITS, TWFE DiD, Callaway-Sant'Anna) the interval's coverage of the true effect and the
false-positive rate (interval excluding zero when there is no effect) are measured over seeded replications, and a
panel whose treated unit was chosen *because* of a bad pre-period (regression to the mean) shows that a plain
before-and-after comparison finds an "improvement" that is not there, while the matched check does not.
The tolerances allow for Monte Carlo error: with R replications the standard error of a rate near 0.05 is
sqrt(0.05 x 0.95 / R) (0.022 at R = 100), so a bound 3-4 standard errors above nominal is used.
"""

import numpy as np
import pytest

from partnering.evaluate.did import callaway_santanna, twfe_did
from partnering.evaluate.its import interrupted_time_series
from partnering.evaluate.panel import Panel
from partnering.evaluate.rtm import regression_to_mean_check

pytestmark = pytest.mark.unit

R = 100
N, T, START = 30, 48, 36
MONTHS = tuple(f"{2020 + m // 12}-{m % 12 + 1:02d}" for m in range(T))


def _panel(rng, effect, n=N, treated=(0,), starts=None, rho=0.3, sd=1.0, fe_sd=5.0):
    """Unit effects + a common trend and month-of-year pattern + AR(1) noise; ``effect`` added from each start."""
    t = np.arange(T)
    season = 2.0 * np.sin(2 * np.pi * (t % 12) / 12)
    u = np.zeros((n, T))
    e = rng.normal(0, sd, (n, T))
    u[:, 0] = e[:, 0] / np.sqrt(1 - rho**2)
    for k in range(1, T):
        u[:, k] = rho * u[:, k - 1] + e[:, k]
    y = rng.normal(0, fe_sd, (n, 1)) + 0.05 * t + season + u
    units = tuple(f"u{i:02d}" for i in range(n))
    starts = starts or {units[i]: MONTHS[START] for i in treated}
    for unit, s in starts.items():
        y[units.index(unit), MONTHS.index(s):] += effect
    return Panel(y, units, MONTHS, starts)


def _rates(method, effect, seed, **kw):
    rng = np.random.default_rng(seed)
    cover = reject = 0
    for _ in range(R):
        r = method(_panel(rng, effect, **kw))
        cover += r.ci_low <= effect <= r.ci_high
        reject += (r.ci_low > 0) or (r.ci_high < 0)
    return cover / R, reject / R


@pytest.mark.parametrize("name,method", [("its", interrupted_time_series), ("did", twfe_did)])
def test_coverage_and_false_positive_rate_one_treated_unit(name, method):
    coverage, power = _rates(method, 3.0, seed=11)
    null_coverage, false_positive = _rates(method, 0.0, seed=12)
    print(f"{name}: coverage {coverage:.2f} (effect 3), power {power:.2f}, false-positive rate {false_positive:.2f}")
    assert coverage >= 0.85
    assert false_positive <= 0.12
    assert power >= 0.8  # a 3-sd effect over 12 months is found


def _cs(panel):
    return callaway_santanna(panel, control="notyet", n_boot=199)


def test_coverage_and_false_positive_rate_staggered_callaway_santanna():
    groups = {f"u{i:02d}": MONTHS[30 + 6 * (i // 10)] for i in range(20)}  # two groups of 10: 2022-07, 2023-01
    coverage, power = _rates(_cs, 2.0, seed=21, n=40, starts=groups)
    _, false_positive = _rates(_cs, 0.0, seed=22, n=40, starts=groups)
    print(f"cs: coverage {coverage:.2f}, power {power:.2f}, false-positive rate {false_positive:.2f}")
    assert coverage >= 0.85
    assert false_positive <= 0.12


def _chosen_for_bad_pre_period(rng, n=60):
    """No effect at all; the 'treated' unit is the one with the worst (highest) mean over the 12 months before the
    start: picked at a bad moment, as buddied trusts are."""
    p = _panel(rng, 0.0, n=n, treated=(0,), rho=0.6, sd=2.0, fe_sd=1.0)
    worst = int(np.argmax(p.y[:, START - 12:START].mean(axis=1)))
    return Panel(p.y, p.units, p.periods, {p.units[worst]: MONTHS[START]})


def test_regression_to_the_mean_panel():
    rng = np.random.default_rng(31)
    naive_drop = rtm_reject = naive_reject = 0
    for _ in range(R):
        p = _chosen_for_bad_pre_period(rng)
        r = regression_to_mean_check(p)
        naive = r.details["naive_change"]
        naive_drop += naive < 0
        # the plain before-and-after comparison: its change against the spread of all units' changes
        all_changes = p.y[:, START:].mean(1) - p.y[:, START - 12:START].mean(1)
        naive_reject += naive < np.quantile(all_changes, 0.025)
        rtm_reject += (r.ci_low > 0) or (r.ci_high < 0)
    print(f"rtm: naive before-after fell in {naive_drop / R:.2f} of panels, 'significant' in {naive_reject / R:.2f};"
          f" matched check false-positive rate {rtm_reject / R:.2f}")
    assert naive_drop / R >= 0.6  # units picked at their worst mostly fall back without any help
    assert naive_reject / R >= 0.15  # a plain comparison with all units "finds" it 6x as often as its nominal 2.5%
    assert rtm_reject / R <= 0.12
