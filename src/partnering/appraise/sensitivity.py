"""Switching values and tornado data.

Switching value (HM Treasury Green Book 2022, 5.83-5.85 and A5; 2026, chapter 5): the change in one input that
makes an option's NPSV zero, or that changes which option is preferred. Each is found by root-finding (Brent's
method, ``scipy.optimize.brentq``; Brent 1973, Algorithms for Minimization without Derivatives, ch. 4) on the
same NPSV code as the deterministic case (:func:`partnering.appraise.economics.prepare`). The inputs are:

- every category of every option, as a multiplier on its flows (1 = the estimate);
- the QALY value (£ per QALY; the registry's DHSC value is the base);
- a shift of every discount rate (fractions: 0.01 = one percentage point; money and health schedules together);
- each timed option's planned benefit delay (years; its works-duration optimism bias still applies on top), on the
  same code (:func:`partnering.appraise.economics.timed_pv`).

The nearest root on each side of the base value is searched: a grid walks away from the base until the function
changes sign, then ``brentq`` pins the root inside that step. Search ranges: multipliers 0 .. 1000, QALY value
0 .. 100 x base, discount shift -3 .. +20 percentage points, benefit delay 0 .. the appraisal period; no root
inside the range reads as NaN ("does not switch within the range").

The tornado (HM Treasury, Green Book 2022 A5 sensitivity analysis) moves one input at a time between a low and a
high value and records the option's NPSV: each case uncertainty between its 10th and 90th percentile (applied to
every flow it targets); each category no uncertainty covers by +/-20% of its value (a documented default, the
kind of range the Green Book's sensitivity tests use when there is no evidence for one); the discount rates by
+/-1 percentage point; each benefit delay between its uncertainty's 10th and 90th percentile, or, with none, by
+/-1 year (not below zero). The +/-1 year is a judgement, not a published figure: the case's flows are
yearly (as in the DHSC CIA model), so a year is the step they resolve, and the reference classes held (King's
Fund merger completion 1-5 years, Fulop et al.'s two years before savings) show slips of a year or more are
common; give the delay a distribution to replace it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from partnering.appraise.economics import SIGN, prepare, timed_pv
from partnering.appraise.model import CATEGORIES, EconomicCase
from partnering.appraise.montecarlo import _targets, delay_targets, multipliers_from_scores

MULTIPLIER_RANGE = (0.0, 1000.0)
QALY_VALUE_RANGE = (0.0, 100.0)  # times the base value
SHIFT_RANGE = (-0.03, 0.20)
GRID_STEPS = 96
DEFAULT_SWING = 0.20  # +/-20% where no uncertainty gives a range (documented default, see module docstring)
DEFAULT_SHIFT = 0.01  # +/-1 percentage point on the discount rates
DEFAULT_DELAY_SWING = 1.0  # +/-1 year on a benefit delay no uncertainty covers: a judgement (module docstring)
Z90 = 1.2815515655446004  # the standard normal's 90th percentile


def _nearest_root(f: Callable[[float], float], base: float, low: float, high: float, geometric: bool) -> float:
    """The root of ``f`` nearest ``base`` on either side within [low, high], by grid bracketing then brentq."""
    f0 = f(base)
    if f0 == 0.0:
        return base
    found = []
    sides = []
    if low < base:
        sides.append(np.linspace(base, low, GRID_STEPS + 1)[1:])
    if high > base:
        if geometric and base > 0:
            sides.append(base * np.geomspace(1.0, high / base, GRID_STEPS + 1)[1:])
        else:
            sides.append(np.linspace(base, high, GRID_STEPS + 1)[1:])
    for grid in sides:
        prev_x, prev_f = base, f0
        for x in grid:
            fx = f(x)
            if fx == 0.0:
                found.append(x)
                break
            if np.sign(fx) != np.sign(prev_f):
                found.append(brentq(f, min(prev_x, x), max(prev_x, x), xtol=1e-12, rtol=1e-12))
                break
            prev_x, prev_f = x, fx
    if not found:
        return float("nan")
    return float(min(found, key=lambda r: abs(r - base)))


def _preferred_gap(npsv_of: Callable[[float], np.ndarray], preferred: int) -> Callable[[float], float]:
    """NPSV of the preferred option minus the best of the others, as a function of the input."""

    def gap(x: float) -> float:
        values = npsv_of(x)
        others = np.delete(values, preferred)
        return float(values[preferred] - others.max())

    return gap


def switching_values(case: EconomicCase) -> pd.DataFrame:
    """One row per input x option: the input value making that option's NPSV zero and the value changing the
    preferred option.

    Columns: input, option, kind (multiplier, qaly_value, discount_shift), base, npsv, npsv_zero_at,
    npsv_zero_change (relative to base for multipliers and the QALY value, absolute for the shift),
    preferred, preferred_changes_at, preferred_after.
    """
    prep = prepare(case)
    pv = prep.pv
    base_npsv = prep.npsv(pv)
    keys = prep.keys
    preferred = int(np.argmax(base_npsv))
    rows: list[dict] = []

    def after(npsv_of: Callable[[float], np.ndarray], at: float, base: float, step: float) -> str | None:
        if np.isnan(at) or len(keys) < 2:
            return None
        beyond = at + step if at >= base else at - step
        return keys[int(np.argmax(npsv_of(beyond)))]

    # Multipliers on each category of each option: only that option's NPSV moves (linearly).
    for o, key in enumerate(keys):
        for c, category in enumerate(CATEGORIES):
            if pv[o, c] == 0.0:
                continue
            effect = SIGN[c] * pv[o, c]

            def npsv_of(m: float, o=o, effect=effect) -> np.ndarray:
                values = base_npsv.copy()
                values[o] += (m - 1.0) * effect
                return values

            zero = _nearest_root(lambda m, f=npsv_of, o=o: f(m)[o], 1.0, *MULTIPLIER_RANGE, geometric=True)
            switch = (
                _nearest_root(_preferred_gap(npsv_of, preferred), 1.0, *MULTIPLIER_RANGE, geometric=True)
                if len(keys) > 1
                else float("nan")
            )
            rows.append(
                dict(
                    input=f"{key}.{category}",
                    option=key,
                    kind="multiplier",
                    base=1.0,
                    npsv=base_npsv[o],
                    npsv_zero_at=zero,
                    npsv_zero_change=zero - 1.0,
                    preferred=keys[preferred],
                    preferred_changes_at=switch,
                    preferred_after=after(npsv_of, switch, 1.0, 1e-6 * max(1.0, abs(switch))),
                )
            )

    # The QALY value moves every option with QALYs (linearly).
    q = CATEGORIES.index("qalys")
    qaly_base = float(prep.unit_value[q])
    if np.any(pv[:, q] != 0.0):
        per_pound = pv[:, q] / qaly_base
        rest = base_npsv - pv[:, q]

        def npsv_of_value(v: float) -> np.ndarray:
            return rest + v * per_pound

        low, high = QALY_VALUE_RANGE[0] * qaly_base, QALY_VALUE_RANGE[1] * qaly_base
        switch = (
            _nearest_root(_preferred_gap(npsv_of_value, preferred), qaly_base, low, high, geometric=True)
            if len(keys) > 1
            else float("nan")
        )
        for o, key in enumerate(keys):
            if pv[o, q] == 0.0:
                continue
            zero = _nearest_root(lambda v, o=o: npsv_of_value(v)[o], qaly_base, low, high, geometric=True)
            rows.append(
                dict(
                    input="qaly_value",
                    option=key,
                    kind="qaly_value",
                    base=qaly_base,
                    npsv=base_npsv[o],
                    npsv_zero_at=zero,
                    npsv_zero_change=zero / qaly_base - 1.0,
                    preferred=keys[preferred],
                    preferred_changes_at=switch,
                    preferred_after=after(npsv_of_value, switch, qaly_base, 1e-6 * qaly_base),
                )
            )

    # The planned benefit delay of each timed option moves that option only (non-linearly).
    for o, key in enumerate(keys):
        timing = prep.timing[o] if prep.timing else None
        if timing is None:
            continue
        point = float(timing.delay_years)
        if np.allclose(timed_pv(prep, o, [0.0, float(prep.n_years)]), pv[o]):
            continue  # nothing timed to move

        def npsv_of_delay(d: float, o=o) -> np.ndarray:
            values = base_npsv.copy()
            values[o] += float((timed_pv(prep, o, [d])[0] - pv[o]) @ SIGN)
            return values

        zero = _nearest_root(lambda d, f=npsv_of_delay, o=o: f(d)[o], point, 0.0, float(prep.n_years),
                             geometric=False)
        switch = (_nearest_root(_preferred_gap(npsv_of_delay, preferred), point, 0.0, float(prep.n_years),
                                geometric=False) if len(keys) > 1 else float("nan"))
        rows.append(
            dict(
                input=f"{key}.benefit_delay",
                option=key,
                kind="benefit_delay",
                base=point,
                npsv=base_npsv[o],
                npsv_zero_at=zero,
                npsv_zero_change=zero - point,
                preferred=keys[preferred],
                preferred_changes_at=switch,
                preferred_after=after(npsv_of_delay, switch, point, 1e-6),
            )
        )

    # A shift of every discount rate moves every option (non-linearly).
    cache: dict[float, np.ndarray] = {}

    def npsv_of_shift(s: float) -> np.ndarray:
        if s not in cache:
            cache[s] = prepare(case, shift=s).npsv()
        return cache[s]

    switch = (
        _nearest_root(_preferred_gap(npsv_of_shift, preferred), 0.0, *SHIFT_RANGE, geometric=False)
        if len(keys) > 1
        else float("nan")
    )
    for o, key in enumerate(keys):
        zero = _nearest_root(lambda s, o=o: npsv_of_shift(s)[o], 0.0, *SHIFT_RANGE, geometric=False)
        rows.append(
            dict(
                input="discount_shift",
                option=key,
                kind="discount_shift",
                base=0.0,
                npsv=base_npsv[o],
                npsv_zero_at=zero,
                npsv_zero_change=zero,
                preferred=keys[preferred],
                preferred_changes_at=switch,
                preferred_after=after(npsv_of_shift, switch, 0.0, 1e-7),
            )
        )
    return pd.DataFrame(rows)


def tornado(case: EconomicCase, option: str) -> pd.DataFrame:
    """Low/high NPSV of ``option`` as each input moves alone, largest swing first.

    Columns: input, low_value, high_value, npsv_low, npsv_high, swing, source (the uncertainty's source, or
    'default +/-20%' / 'default +/-1 point').
    """
    prep = prepare(case)
    pv = prep.pv
    keys = prep.keys
    if option not in keys:
        from partnering.errors import NotFoundError

        raise NotFoundError(f"no option {option!r} in the case ({', '.join(keys)})")
    o = keys.index(option)
    base = float(prep.npsv(pv)[o])
    rows = []
    covered: set[int] = set()
    z = np.array([-Z90, Z90])
    for k, u in enumerate(case.uncertainties):
        mine = [(oo, c, ks) for oo, c, ks in _targets(case) if oo == o and k in ks]
        if not mine:
            continue
        low, high = multipliers_from_scores(u, z)
        npsv_lh = []
        for m in (low, high):
            npsv_lh.append(base + sum((m - 1.0) * SIGN[c] * pv[o, c] for _, c, _ in mine))
            covered.update(c for _, c, _ in mine)
        rows.append(
            dict(
                input=u.name,
                low_value=low,
                high_value=high,
                npsv_low=npsv_lh[0],
                npsv_high=npsv_lh[1],
                source=u.source or f"{u.distribution} P10-P90",
            )
        )
    timing = prep.timing[o] if prep.timing else None
    if timing is not None:
        k = delay_targets(case).get(o)
        point = float(timing.delay_years)
        if k is not None:
            u = case.uncertainties[k]
            low, high = (max(float(x), 0.0) for x in multipliers_from_scores(u, z))
            source = u.source or f"{u.distribution} P10-P90"
            name = u.name
        else:
            low, high = max(point - DEFAULT_DELAY_SWING, 0.0), point + DEFAULT_DELAY_SWING
            source, name = "default +/-1 year", f"{option}.benefit_delay"
        lh = timed_pv(prep, o, [low, high]) @ SIGN
        if not np.allclose(lh, base) or k is not None:
            rows.append(dict(input=name, low_value=low, high_value=high, npsv_low=base + float(lh[0]) - float(
                pv[o] @ SIGN), npsv_high=base + float(lh[1]) - float(pv[o] @ SIGN), source=source))
    for c, category in enumerate(CATEGORIES):
        if c in covered or pv[o, c] == 0.0:
            continue
        low, high = 1.0 - DEFAULT_SWING, 1.0 + DEFAULT_SWING
        rows.append(
            dict(
                input=f"{option}.{category}",
                low_value=low,
                high_value=high,
                npsv_low=base + (low - 1.0) * SIGN[c] * pv[o, c],
                npsv_high=base + (high - 1.0) * SIGN[c] * pv[o, c],
                source="default +/-20%",
            )
        )
    rows.append(
        dict(
            input="discount_shift",
            low_value=-DEFAULT_SHIFT,
            high_value=DEFAULT_SHIFT,
            npsv_low=float(prepare(case, shift=-DEFAULT_SHIFT).npsv()[o]),
            npsv_high=float(prepare(case, shift=DEFAULT_SHIFT).npsv()[o]),
            source="default +/-1 point",
        )
    )
    frame = pd.DataFrame(rows)
    frame["swing"] = (frame["npsv_high"] - frame["npsv_low"]).abs()
    frame.attrs["base_npsv"] = base
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
