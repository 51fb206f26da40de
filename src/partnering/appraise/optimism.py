"""Optimism bias: the uplift of a project-type mix, and its mitigation.

Method (Mott MacDonald 2002, Review of Large Public Procurement in the UK, Table 2; HM Treasury Supplementary Green
Book Guidance: Optimism Bias): the uplift of a project made of several types is the share-weighted sum of each
type's upper bound (30% non-standard building + 70% standard building: capex 0.3 x 51% + 0.7 x 24% = 32.1%, works
duration 0.3 x 39% + 0.7 x 4% = 14.5%). Mitigation removes a share of the upper bound as risks are managed
(92% of 51% leaves 4.08%: £100m becomes £104m, and with £7m of costed risk, £111m); the result never falls below
the mix's lower bound when the registry says so (``floor_at_lower_bound``). The stage ladder SOC -> OBC -> FBC is
the registry's ``stage_mitigation`` (a documented assumption, see parameters.toml).
"""

from __future__ import annotations

from dataclasses import dataclass

from partnering.appraise.model import OptimismBias
from partnering.appraise.parameters import Parameters, resolve
from partnering.errors import ValidationError

MEASURES = ("capex", "opex", "works_duration")


@dataclass(frozen=True)
class Uplift:
    """The optimism-bias uplifts (fractions) of one option, after mitigation."""

    capex: float
    opex: float
    works_duration: float
    mitigation: float
    capex_upper: float
    opex_upper: float
    works_duration_upper: float

    def for_measure(self, measure: str) -> float:
        if measure == "none":
            return 0.0
        return getattr(self, measure)


def mix_bounds(mix: dict[str, float], measure: str, parameters=None) -> tuple[float, float]:
    """Share-weighted (upper, lower) bounds of ``measure`` over a project-type mix.

    Types with no figure for ``measure`` (e.g. outsourcing has no capex row) contribute nothing to it.
    """
    params: Parameters = resolve(parameters)
    if measure not in MEASURES:
        raise ValidationError(f"optimism bias: unknown measure {measure!r} ({', '.join(MEASURES)})")
    table = params.optimism_bias.types
    upper = lower = 0.0
    for name, share in mix.items():
        if name not in table:
            raise ValidationError(
                f"optimism bias: unknown project type {name!r}; known types: {', '.join(sorted(table))}"
            )
        bounds = getattr(table[name], measure)
        if bounds is not None:
            upper += share * bounds[0]
            lower += share * bounds[1]
    return upper, lower


def mitigated(upper: float, lower: float, mitigation: float, floor_at_lower_bound: bool = True) -> float:
    """``upper x (1 - mitigation)``, not below ``lower`` when flooring."""
    if not 0.0 <= mitigation <= 1.0:
        raise ValidationError(f"optimism bias: mitigation {mitigation:g} is not between 0 and 1")
    value = upper * (1.0 - mitigation)
    return max(value, lower) if floor_at_lower_bound else value


def mitigation_share(bias: OptimismBias, parameters=None) -> float:
    """The share of the upper bound mitigated: explicit, else the stage's, else none (the upper bound)."""
    if bias.mitigation is not None:
        return bias.mitigation
    if bias.stage is not None:
        return float(getattr(resolve(parameters).optimism_bias.stage_mitigation, bias.stage))
    return 0.0


def uplift(bias: OptimismBias | None, parameters=None) -> Uplift:
    """The uplifts of an option's optimism bias (all zero when it has none)."""
    if bias is None:
        return Uplift(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    params = resolve(parameters)
    share = mitigation_share(bias, params)
    floor = params.optimism_bias.floor_at_lower_bound
    values, uppers = {}, {}
    for measure in MEASURES:
        up, low = mix_bounds(bias.mix, measure, params)
        uppers[measure] = up
        values[measure] = mitigated(up, low, share, floor) if up > 0 else 0.0
    return Uplift(
        capex=values["capex"],
        opex=values["opex"],
        works_duration=values["works_duration"],
        mitigation=share,
        capex_upper=uppers["capex"],
        opex_upper=uppers["opex"],
        works_duration_upper=uppers["works_duration"],
    )


def adjusted_cost(base_cost: float, uplift_fraction: float, costed_risk: float = 0.0) -> float:
    """A cost after optimism bias, plus any separately costed risk (Green Book: risk is added, then OB)."""
    return base_cost * (1.0 + uplift_fraction) + costed_risk
