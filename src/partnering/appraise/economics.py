"""The economic case by the book: present values per category, NPSV, BCR and NPSV per £ of public spend.

Method (HM Treasury Green Book 2022, 5.54-5.56 and Annex A6; 2026, chapters 5-6; DHSC Comprehensive Investment
Appraisal model): yearly flows in real prices, year 0 first; costs uplifted for optimism bias by project type and
mitigation (:mod:`partnering.appraise.optimism`); money discounted by the standard STPR schedule and QALYs valued
at the registry's QALY value and discounted at the health rate; NPSV = PV(benefits) - PV(costs); BCR =
PV(benefits) / PV(costs), reported, never a pass/fail gate (Green Book 2026); NPSV per £ of public spend = NPSV /
PV(public-spend categories). Benefits are split as the CIA model splits them: cash-releasing, non-cash-releasing,
societal, and unmonetisable (listed, not valued). Under a vintage with a long-horizon threshold (2026: 50 years),
a longer appraisal also reports ``npsv_long_horizon`` under the long-horizon schedule.

Benefit timing: an option's :class:`~partnering.appraise.model.BenefitTiming` shapes the flows of its categories
(:func:`ramp_profile`: nothing before the delay, then a straight line to the full value over the ramp). The delay
is the planned delay lengthened by the option's works-duration optimism bias, ``delay x (1 + works-duration
uplift)`` (HM Treasury Supplementary Green Book Guidance: Optimism Bias, s.4: the uplift applies to the works
duration, and benefits that wait for the works start that much later; registry switch
``optimism_bias.works_duration_delays_benefits``; a timing can opt out where its delay is already a reference class
of outturns). The QALY value is taken in the case's prices (:func:`partnering.appraise.parameters.qaly_value_at`).

Everything is computed for all options at once on an options x categories x years array; the Monte Carlo and the
switching values reuse :func:`prepare` so that the deterministic and simulated figures come from the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from partnering.appraise.discount import discount_factors
from partnering.appraise.model import BENEFIT_CATEGORIES, CATEGORIES, COST_CATEGORIES, QALY_CATEGORY, EconomicCase
from partnering.appraise.optimism import Uplift, uplift
from partnering.appraise.parameters import Parameters, qaly_value_at, resolve
from partnering.errors import ValidationError

#: +1 for benefits (QALYs included), -1 for costs, in CATEGORIES order.
SIGN = np.array([-1.0 if c in COST_CATEGORIES else 1.0 for c in CATEGORIES])
QALY_INDEX = CATEGORIES.index(QALY_CATEGORY)


@dataclass(frozen=True)
class Prepared:
    """A case turned into arrays: what every calculation of the appraisal starts from."""

    keys: list[str]
    n_years: int
    real: np.ndarray  # options x categories x years, real prices (QALYs in QALYs), timed, before optimism bias
    uplift: np.ndarray  # options x categories, optimism-bias uplift fraction
    factors: np.ndarray  # categories x years, discount factors (health schedule for QALYs)
    unit_value: np.ndarray  # categories, £ per unit (1 for money, the QALY value for QALYs)
    public: np.ndarray  # options x categories, True where the category is public spend
    uplifts: tuple[Uplift, ...]
    parameters: Parameters
    full: np.ndarray | None = None  # options x categories x years before benefit timing (None: no option is timed)
    timing: tuple = ()  # per option: its BenefitTiming or None
    delay_factor: np.ndarray | None = None  # per option: 1 + works-duration uplift where it lengthens the delay
    warnings: tuple[str, ...] = ()

    @property
    def adjusted(self) -> np.ndarray:
        """Real flows after optimism bias (options x categories x years)."""
        return self.real * (1.0 + self.uplift)[:, :, None]

    @property
    def pv(self) -> np.ndarray:
        """Present values in £ (options x categories), positive for costs and benefits alike."""
        return np.einsum("oct,ct->oc", self.adjusted, self.factors) * self.unit_value

    def npsv(self, pv: np.ndarray | None = None) -> np.ndarray:
        return (self.pv if pv is None else pv) @ SIGN


def ramp_profile(n_years: int, delay, ramp: float) -> np.ndarray:
    """Yearly share (0..1) of the full benefit: nothing before ``delay`` years, then a straight line to 1 over
    ``ramp`` years, each year's share the exact average of that line over the year (so a half-year delay gives half
    a year's benefit in year 0).

    ``delay`` may be an array (any shape): the answer then has that shape plus a last axis of years. The average
    over [t, t+1] is F(t+1) - F(t) with F the integral of the share: ``max(x - delay, 0)`` with no ramp, else
    ``ramp x G((x - delay) / ramp)``, G(u) = 0 (u <= 0), u^2/2 (0 < u < 1), u - 1/2 (u >= 1).
    """
    d = np.asarray(delay, dtype=float)[..., None]
    edges = np.arange(n_years + 1, dtype=float)
    x = edges - d
    if ramp <= 0:
        integral = np.maximum(x, 0.0)
    else:
        u = np.maximum(x / ramp, 0.0)
        integral = ramp * np.where(u < 1.0, 0.5 * u * u, u - 0.5)
    return np.diff(integral, axis=-1)


def _delay_factors(case: EconomicCase, uplifts: tuple[Uplift, ...], params: Parameters) -> np.ndarray:
    """Per option, what its planned delay is multiplied by: 1 + its works-duration uplift where that applies."""
    on = params.optimism_bias.works_duration_delays_benefits
    return np.array([1.0 + u.works_duration if on and o.timing is not None and o.timing.works_duration_uplift
                     else 1.0 for o, u in zip(case.options, uplifts)])


def prepare(
    case: EconomicCase,
    *,
    schedule: str = "standard",
    shift: float = 0.0,
    qaly_value: float | None = None,
    delays: dict[int, float] | None = None,
) -> Prepared:
    """Arrays of ``case``; ``schedule``/``shift``/``qaly_value`` vary the discounting and QALY value, ``delays``
    (option index -> planned delay in years) the benefit delays (sensitivity)."""
    params = resolve(case.parameters)
    n_years = case.n_years
    if n_years == 0:
        raise ValidationError("the case has no years of flows")
    full = np.stack([np.stack([o.flow(c, n_years) for c in CATEGORIES]) for o in case.options])
    applies = params.optimism_bias.applies_to
    uplifts = tuple(uplift(o.optimism_bias, params) for o in case.options)
    up = np.array(
        [[u.for_measure(applies.get(c, "none")) if c in COST_CATEGORIES else 0.0 for c in CATEGORIES] for u in uplifts]
    )
    timing = tuple(o.timing for o in case.options)
    delay_factor = _delay_factors(case, uplifts, params)
    real = full
    if any(t is not None for t in timing):
        real = full.copy()
        for o, t in enumerate(timing):
            if t is None:
                continue
            planned = t.delay_years if delays is None or o not in delays else max(float(delays[o]), 0.0)
            share = ramp_profile(n_years, planned * delay_factor[o], t.ramp_years)
            for c in t.categories:
                real[o, CATEGORIES.index(c)] *= share
    money = discount_factors(n_years, schedule, case.vintage, params, shift)
    health_schedule = "health" if schedule == "standard" else schedule
    health = discount_factors(n_years, health_schedule, case.vintage, params, shift)
    factors = np.stack([health if c == QALY_CATEGORY else money for c in CATEGORIES])
    unit_value = np.ones(len(CATEGORIES))
    rebased, warning = qaly_value_at(params, case.price_base_year)
    unit_value[QALY_INDEX] = rebased if qaly_value is None else qaly_value
    public = np.array([[c in o.public_spend_categories for c in CATEGORIES] for o in case.options])
    warnings = (warning,) if warning and real[:, QALY_INDEX].any() else ()
    return Prepared(case.option_keys, n_years, real, up, factors, unit_value, public, uplifts, params,
                    full=full if real is not full else None, timing=timing, delay_factor=delay_factor,
                    warnings=warnings)


def timed_pv(prep: Prepared, option: int, delays) -> np.ndarray:
    """Present values (len(delays) x categories, £, positive) of one option for planned benefit delays ``delays``
    (years, before the works-duration uplift), everything else as prepared: what the Monte Carlo tabulates and the
    switching values search. Categories the option's timing does not shape keep their prepared values."""
    d = np.maximum(np.atleast_1d(np.asarray(delays, dtype=float)), 0.0)
    pv = np.broadcast_to(prep.pv[option], (d.shape[0], len(CATEGORIES))).copy()
    t = prep.timing[option] if prep.timing else None
    if t is None or prep.full is None:
        return pv
    cats = [CATEGORIES.index(c) for c in t.categories]
    weights = prep.full[option, cats] * (1.0 + prep.uplift[option, cats])[:, None] * prep.factors[cats] * \
        prep.unit_value[cats][:, None]  # categories x years
    shares = ramp_profile(prep.n_years, d * prep.delay_factor[option], t.ramp_years)  # delays x years
    pv[:, cats] = shares @ weights.T
    return pv


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def evaluate(case: EconomicCase) -> pd.DataFrame:
    """One row per option (index ``option``): NPSV, present values per category, BCR, NPSV per public £."""
    prep = prepare(case)
    pv = prep.pv
    cost_idx = [CATEGORIES.index(c) for c in COST_CATEGORIES]
    benefit_idx = [CATEGORIES.index(c) for c in BENEFIT_CATEGORIES + (QALY_CATEGORY,)]
    pv_costs = pv[:, cost_idx].sum(axis=1)
    pv_benefits = pv[:, benefit_idx].sum(axis=1)
    npsv = pv_benefits - pv_costs
    pv_public = (pv * prep.public).sum(axis=1)
    frame = pd.DataFrame(
        {
            "name": [o.name for o in case.options],
            "kind": [o.kind for o in case.options],
            "npsv": npsv,
            "pv_costs": pv_costs,
            "pv_benefits": pv_benefits,
            "bcr": _ratio(pv_benefits, pv_costs),
            "pv_public_spend": pv_public,
            "npsv_per_public_pound": _ratio(npsv, pv_public),
        },
        index=pd.Index(prep.keys, name="option"),
    )
    for j, category in enumerate(CATEGORIES):
        frame[f"pv_{category}"] = pv[:, j]
    frame["qalys"] = prep.real[:, QALY_INDEX, :].sum(axis=1)
    frame["qalys_discounted"] = prep.real[:, QALY_INDEX, :] @ prep.factors[QALY_INDEX]
    frame["optimism_bias_capex"] = [u.capex for u in prep.uplifts]
    frame["optimism_bias_opex"] = [u.opex for u in prep.uplifts]
    frame["optimism_bias_works_duration"] = [u.works_duration for u in prep.uplifts]
    frame["unmonetisable"] = ["; ".join(o.unmonetisable) for o in case.options]
    bau = [i for i, o in enumerate(case.options) if o.kind == "bau"]
    if bau:
        frame["npsv_vs_bau"] = npsv - npsv[bau[0]]
    if long_horizon_applies(case, prep.parameters):
        frame["npsv_long_horizon"] = prepare(case, schedule="long_horizon").npsv()
    return frame


def long_horizon_applies(case: EconomicCase, parameters: Parameters | None = None) -> bool:
    """True when the vintage has a long-horizon threshold and the appraisal runs beyond it."""
    vintage = resolve(parameters if parameters is not None else case.parameters).vintage(case.vintage)
    return bool(vintage.long_horizon_after_years) and case.n_years - 1 > vintage.long_horizon_after_years


def cash_flows(case: EconomicCase) -> pd.DataFrame:
    """Every flow the appraisal uses, one row per option x year x category, for a finance team to check.

    Columns: option, year (0 = price base year), calendar_year, category, real_value (as entered, QALYs in QALYs),
    optimism_bias_uplift (fraction), adjusted_value, unit_value (£ per unit), discount_factor, present_value (£,
    positive for costs and benefits), sign (+1 benefit, -1 cost).
    """
    prep = prepare(case)
    n_o, n_c, n_t = prep.real.shape
    o_idx, c_idx, t_idx = np.meshgrid(np.arange(n_o), np.arange(n_c), np.arange(n_t), indexing="ij")
    adjusted = prep.adjusted
    frame = pd.DataFrame(
        {
            "option": np.asarray(prep.keys, dtype=object)[o_idx.ravel()],
            "year": t_idx.ravel(),
            "calendar_year": case.price_base_year + t_idx.ravel(),
            "category": np.asarray(CATEGORIES, dtype=object)[c_idx.ravel()],
            "real_value": prep.real.ravel(),
            "optimism_bias_uplift": prep.uplift[o_idx, c_idx].ravel(),
            "adjusted_value": adjusted.ravel(),
            "unit_value": prep.unit_value[c_idx].ravel(),
            "discount_factor": prep.factors[c_idx, t_idx].ravel(),
            "sign": SIGN[c_idx].ravel(),
        }
    )
    frame["present_value"] = frame["adjusted_value"] * frame["unit_value"] * frame["discount_factor"]
    return frame


def ramp(total: float, start_year: int, years_to_full: int, n_years: int) -> np.ndarray:
    """A yearly benefit that starts in ``start_year`` and rises in equal steps to ``total`` a year.

    ``years_to_full`` is the number of years until the full value is reached (1 = full in the first year). Used
    for benefits that come late and build up (merger savings: Fulop et al., BMJ 2002; Monitor, "Benefits from
    mergers"; integration effects taking up to 5-6 years: Health Foundation Improvement Analytics Unit).
    """
    if start_year < 0 or years_to_full < 1 or n_years < 0:
        raise ValidationError("ramp: start_year >= 0, years_to_full >= 1 and n_years >= 0 are required")
    years = np.arange(n_years)
    share = np.clip((years - start_year + 1) / years_to_full, 0.0, 1.0)
    return total * share


def delay(flows, years: int) -> np.ndarray:
    """``flows`` moved ``years`` later, the horizon kept (what falls off the end is lost, as in a fixed appraisal)."""
    values = np.asarray(flows, dtype=float)
    if years < 0:
        raise ValidationError("delay: years cannot be negative")
    out = np.zeros_like(values)
    if years < len(values):
        out[years:] = values[: len(values) - years]
    return out
