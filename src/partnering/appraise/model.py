"""The appraisal's plain data: options, their yearly flows, optimism bias, uncertainties, the case.

No I/O and no calculation here: :mod:`partnering.appraise.economics` evaluates a case,
:mod:`partnering.appraise.montecarlo` simulates it, :mod:`partnering.appraise.sensitivity` finds switching values.
The categories follow the split of the DHSC Comprehensive Investment Appraisal (CIA) model: costs (capital,
revenue, and transaction costs as a first-class category, issue #10 s.2) and benefits (cash-releasing,
non-cash-releasing, societal), with QALYs counted in QALYs and valued at the registry's QALY value (DHSC, £70,000
in 2020-21 prices) discounted at the health rate (Green Book 2022 A6). Unmonetisable benefits are listed, not
valued (Green Book 2022, 5.61-5.63).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from partnering.errors import ValidationError

COST_CATEGORIES = ("capital_cost", "revenue_cost", "transaction_cost")
BENEFIT_CATEGORIES = ("cash_releasing_benefit", "non_cash_releasing_benefit", "societal_benefit")
QALY_CATEGORY = "qalys"
CATEGORIES = COST_CATEGORIES + BENEFIT_CATEGORIES + (QALY_CATEGORY,)

OPTION_KINDS = ("bau", "do_minimum", "make", "buy", "partner", "merge")
STAGES = ("SOC", "OBC", "FBC")
DISTRIBUTIONS = ("triangular", "pert", "normal", "lognormal", "uniform", "fixed")
#: targets of an uncertainty that are not flow categories: ``option.benefit_delay`` draws the option's planned benefit
#: delay in years (not a multiplier)
TIMING_TARGETS = ("benefit_delay",)


@dataclass(frozen=True)
class OptimismBias:
    """Optimism bias for one option: a project-type mix and how far it is mitigated.

    ``mix`` maps project types named as in the Mott MacDonald (2002) table (``parameters.toml``
    ``[optimism_bias.types]``, e.g. ``"standard_buildings"``) to shares summing to 1. ``stage`` ("SOC", "OBC",
    "FBC") picks the mitigation from the registry's ladder; ``mitigation`` (0..1) overrides it. With neither, the
    upper bound applies unmitigated (HM Treasury supplementary guidance: start from the upper bound).
    """

    mix: dict[str, float]
    stage: str | None = None
    mitigation: float | None = None

    def __post_init__(self) -> None:
        if not self.mix:
            raise ValidationError("optimism bias: the project-type mix is empty")
        if any(share < 0 for share in self.mix.values()):
            raise ValidationError("optimism bias: a project-type share is negative")
        total = sum(self.mix.values())
        if abs(total - 1.0) > 1e-6:
            raise ValidationError(f"optimism bias: project-type shares sum to {total:g}, not 1")
        if self.stage is not None and self.stage not in STAGES:
            raise ValidationError(f"optimism bias: stage {self.stage!r} is not one of {', '.join(STAGES)}")
        if self.mitigation is not None and not 0.0 <= self.mitigation <= 1.0:
            raise ValidationError(f"optimism bias: mitigation {self.mitigation:g} is not between 0 and 1")


@dataclass(frozen=True)
class BenefitTiming:
    """When an option's benefits arrive: nothing for ``delay_years`` (the planned delay), then a straight line to the
    full yearly value over ``ramp_years``.

    ``categories`` are the flows it shapes; the option's flows in them are the *full* yearly values, before the ramp
    (:func:`partnering.appraise.economics.prepare` applies it). ``works_duration_uplift`` says whether the option's
    works-duration optimism bias lengthens the delay (HM Treasury supplementary guidance on optimism bias: an
    uplift to the works duration; off where the delay already comes from a reference class of outturns, as
    Green Book 2022, 5.45 puts an organisation's own evidence before the generic uplifts).
    """

    delay_years: float = 0.0
    ramp_years: float = 0.0
    categories: tuple[str, ...] = BENEFIT_CATEGORIES + (QALY_CATEGORY,)
    works_duration_uplift: bool = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.delay_years) and np.isfinite(self.ramp_years)) or min(
                self.delay_years, self.ramp_years) < 0:
            raise ValidationError("benefit timing: delay_years and ramp_years must be numbers >= 0")
        object.__setattr__(self, "categories", tuple(self.categories))
        unknown = sorted(set(self.categories) - set(CATEGORIES))
        if unknown:
            raise ValidationError(f"benefit timing: unknown categories {', '.join(unknown)}")


@dataclass(frozen=True)
class Option:
    """One shortlisted option: yearly flows in real prices (year 0 first), per category.

    Missing categories are zero. Every array has the same length. Costs and benefits are positive numbers
    (a cost of 5 is ``capital_cost = 5``, not -5); ``qalys`` are QALYs gained against business as usual. With a
    ``timing``, the flows of its categories are the full yearly values and the timing's delay and ramp shape them.
    """

    key: str
    name: str
    kind: str
    flows: dict[str, np.ndarray]
    optimism_bias: OptimismBias | None = None
    public_spend_categories: tuple[str, ...] = COST_CATEGORIES
    notes: str = ""
    unmonetisable: tuple[str, ...] = ()
    timing: BenefitTiming | None = None

    def __post_init__(self) -> None:
        if self.kind not in OPTION_KINDS:
            raise ValidationError(f"option {self.key!r}: kind {self.kind!r} is not one of {', '.join(OPTION_KINDS)}")
        unknown = sorted(set(self.flows) - set(CATEGORIES))
        if unknown:
            raise ValidationError(f"option {self.key!r}: unknown flow categories {', '.join(unknown)}")
        bad_spend = sorted(set(self.public_spend_categories) - set(CATEGORIES))
        if bad_spend:
            raise ValidationError(f"option {self.key!r}: unknown public-spend categories {', '.join(bad_spend)}")
        arrays = {}
        for category, values in self.flows.items():
            array = np.asarray(values, dtype=float)
            if array.ndim != 1:
                raise ValidationError(f"option {self.key!r}: {category} is not a list of yearly values")
            if not np.all(np.isfinite(array)):
                raise ValidationError(f"option {self.key!r}: {category} has a missing or infinite value")
            arrays[category] = array
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise ValidationError(f"option {self.key!r}: flows have different numbers of years {sorted(lengths)}")
        object.__setattr__(self, "flows", arrays)

    @property
    def n_years(self) -> int:
        return next((len(a) for a in self.flows.values()), 0)

    def flow(self, category: str, n_years: int | None = None) -> np.ndarray:
        """The yearly values of ``category`` (zeros when absent), padded with zeros to ``n_years``."""
        n = self.n_years if n_years is None else n_years
        out = np.zeros(n)
        values = self.flows.get(category)
        if values is not None:
            out[: len(values)] = values
        return out


@dataclass(frozen=True)
class Uncertainty:
    """A multiplier (1.0 = the point value) on the flows it targets, or an option's benefit delay in years.

    ``targets`` are ``"option_key.category"`` or ``"*.category"`` (every option: the same draw, which is how
    common random numbers are shared across options), or ``"option_key.benefit_delay"``: the draw is then the
    option's planned benefit delay in years (the option needs a :class:`BenefitTiming`; its ``delay_years`` is the
    point value), and delay and flow targets cannot be mixed in one uncertainty. ``params`` by distribution:
    ``triangular``/``pert``: low, mode, high; ``normal``: mean, sd; ``lognormal``: median, sigma (of the log);
    ``uniform``: low, high; ``fixed``: value.
    """

    name: str
    targets: tuple[str, ...]
    distribution: str
    params: dict[str, float]
    source: str = ""

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValidationError(
                f"uncertainty {self.name!r}: distribution {self.distribution!r} is not one of "
                f"{', '.join(DISTRIBUTIONS)}"
            )
        object.__setattr__(self, "targets", tuple(self.targets))
        kinds = set()
        for target in self.targets:
            key, _, category = target.partition(".")
            if not key or category not in CATEGORIES + TIMING_TARGETS:
                raise ValidationError(f"uncertainty {self.name!r}: target {target!r} is not 'option.category' or "
                                      "'option.benefit_delay'")
            if category in TIMING_TARGETS and key == "*":
                raise ValidationError(f"uncertainty {self.name!r}: a benefit delay belongs to one option, not '*'")
            kinds.add(category in TIMING_TARGETS)
        if len(kinds) > 1:
            raise ValidationError(f"uncertainty {self.name!r}: mixes benefit delays (years) with flow multipliers")

    @property
    def is_delay(self) -> bool:
        """True when the draws are benefit delays in years rather than multipliers."""
        return any(t.partition(".")[2] in TIMING_TARGETS for t in self.targets)


@dataclass
class EconomicCase:
    """Options to compare, the price base year, the Green Book vintage, and what is uncertain."""

    options: list[Option]
    price_base_year: int
    vintage: str = "2026"
    uncertainties: list[Uncertainty] = field(default_factory=list)
    correlations: list[tuple[str, str, float]] = field(default_factory=list)
    draws: int = 10_000
    seed: int = 2026
    parameters: Any = None

    def __post_init__(self) -> None:
        if not self.options:
            raise ValidationError("the case has no options")
        keys = [o.key for o in self.options]
        if len(set(keys)) != len(keys):
            raise ValidationError("option keys are not unique")
        names = {u.name for u in self.uncertainties}
        if len(names) != len(self.uncertainties):
            raise ValidationError("uncertainty names are not unique")
        timed = {o.key: o.timing is not None for o in self.options}
        for u in self.uncertainties:
            if u.is_delay:
                for target in u.targets:
                    key = target.partition(".")[0]
                    if not timed.get(key, False):
                        raise ValidationError(f"uncertainty {u.name!r}: option {key!r} has no benefit timing (a "
                                              "delay and ramp) whose delay could vary")
        for a, b, rho in self.correlations:
            if a not in names or b not in names:
                raise ValidationError(f"correlation {a!r}-{b!r}: both must name uncertainties")
            if not -1.0 < rho < 1.0:
                raise ValidationError(f"correlation {a!r}-{b!r}: {rho:g} is not between -1 and 1")

    @property
    def n_years(self) -> int:
        return max(o.n_years for o in self.options)

    @property
    def option_keys(self) -> list[str]:
        return [o.key for o in self.options]
