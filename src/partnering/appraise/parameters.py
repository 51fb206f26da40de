"""The versioned parameter registry of the economic case: every value with its vintage and source.

The defaults live in ``parameters.toml`` next to this module (Green Book 2022 and 2026 side by side, the DHSC QALY
value, the Mott MacDonald optimism-bias table and the business-case mitigation ladder). A user file of the same
shape overrides any subset of keys (a deep merge), and the result is validated with pydantic before any
calculation, so an impossible rate or an unsorted band is refused with its path named.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from partnering.errors import ConfigError

DEFAULT_FILE = Path(__file__).with_name("parameters.toml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    """A declining discount schedule: ``rates[i]`` applies to years from ``band_starts[i]``."""

    band_starts: list[int]
    rates: list[float]
    vintage: str
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Schedule:
        if len(self.band_starts) != len(self.rates) or not self.rates:
            raise ValueError("band_starts and rates must have the same, non-zero length")
        if self.band_starts[0] != 0 or any(b <= a for a, b in zip(self.band_starts, self.band_starts[1:])):
            raise ValueError("band_starts must start at 0 and increase")
        if any(not -0.5 < r < 1.0 for r in self.rates):
            raise ValueError("every rate must be a fraction between -0.5 and 1 (0.035 = 3.5%)")
        return self


class Vintage(_Strict):
    title: str
    bcr_is_gate: bool = False
    long_horizon_after_years: int = Field(ge=0)
    standard: Schedule
    health: Schedule
    long_horizon: Schedule | None = None

    @model_validator(mode="after")
    def _check(self) -> Vintage:
        if self.long_horizon_after_years and self.long_horizon is None:
            raise ValueError("long_horizon_after_years is set but there is no long_horizon schedule")
        return self


class QalyValue(_Strict):
    value: float = Field(gt=0)
    unit: str
    price_base: str
    vintage: str
    source: str = Field(min_length=1)


class Deflator(_Strict):
    """A GDP deflator series (index by price year, e.g. ``"2020-21"`` or ``"2020"``) to rebase money parameters.

    The shipped registry holds none (no deflator series is held in the registry or ../shared, and none is made up):
    a user adds HM Treasury's GDP deflators at market prices, with their source, in a parameters override.
    """

    index: dict[str, float]
    vintage: str
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Deflator:
        if not self.index or any(not v > 0 for v in self.index.values()):
            raise ValueError("the deflator index needs at least one year and positive values")
        return self


class ProjectType(_Strict):
    """Upper and lower optimism-bias bounds (fractions) of one Mott MacDonald project type."""

    works_duration: tuple[float, float] | None = None
    capex: tuple[float, float] | None = None
    opex: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _check(self) -> ProjectType:
        for name in ("works_duration", "capex", "opex"):
            bounds = getattr(self, name)
            if bounds is not None and not 0.0 <= bounds[1] <= bounds[0]:
                raise ValueError(f"{name}: need 0 <= lower <= upper, got upper {bounds[0]}, lower {bounds[1]}")
        return self


class StageMitigation(_Strict):
    SOC: float = Field(ge=0, le=1)
    OBC: float = Field(ge=0, le=1)
    FBC: float = Field(ge=0, le=1)
    vintage: str
    source: str = Field(min_length=1)


class OptimismBiasTable(_Strict):
    source: str = Field(min_length=1)
    vintage: str
    applies_to: dict[str, Literal["capex", "opex", "none"]]
    floor_at_lower_bound: bool = True
    works_duration_delays_benefits: bool = True
    types: dict[str, ProjectType]
    stage_mitigation: StageMitigation


class Parameters(_Strict):
    """The whole registry, validated."""

    registry_version: str
    qaly_value: QalyValue
    vintages: dict[str, Vintage]
    optimism_bias: OptimismBiasTable
    gdp_deflator: Deflator | None = None

    def vintage(self, name: str | int) -> Vintage:
        key = str(name)
        if key not in self.vintages:
            raise ConfigError(f"unknown Green Book vintage {key!r}: choose one of {', '.join(sorted(self.vintages))}")
        return self.vintages[key]

    def schedule(self, name: str, vintage: str | int) -> Schedule:
        v = self.vintage(vintage)
        if name == "standard":
            return v.standard
        if name == "health":
            return v.health
        if name == "long_horizon" and v.long_horizon is not None:
            return v.long_horizon
        raise ConfigError(f"vintage {vintage} has no {name!r} discount schedule (standard, health, long_horizon)")


def price_year_label(year: int, like: str) -> str:
    """The case's price base ``year`` written as ``like`` writes its year: ``"2026-27"`` for a financial year
    label such as ``"2020-21"``, else ``"2026"``."""
    return f"{year}-{(year + 1) % 100:02d}" if "-" in like else str(year)


def qaly_value_at(params: Parameters, price_base_year: int | None) -> tuple[float, str | None]:
    """The QALY value in the case's prices, and a warning when it could not be rebased.

    Rebased with the registry's GDP deflator when it has one with both years (value x index[case year] /
    index[QALY price base]: HM Treasury Green Book 2022, 5.7 and A6, real prices by the GDP deflator). Without one
    the DHSC figure is used as it stands and the warning says so plainly: no deflator figure is invented.
    """
    q = params.qaly_value
    if price_base_year is None:
        return q.value, None
    label = price_year_label(price_base_year, q.price_base)
    if label == q.price_base:
        return q.value, None
    d = params.gdp_deflator
    if d is not None and label in d.index and q.price_base in d.index:
        return q.value * d.index[label] / d.index[q.price_base], None
    return q.value, (
        f"The QALY value (GBP {q.value:,.0f}) is in {q.price_base} prices but the case is in {price_base_year} "
        "prices: it is NOT rebased, because the parameter registry holds no GDP deflator series for both years. "
        "Add HM Treasury's GDP deflators as [gdp_deflator] index = {...} (with its source) in a parameters "
        "override, or set [qaly_value] value and price_base yourself.")


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"parameter file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"parameter file {path} is not valid TOML: {exc}") from exc


def parameters_from_dict(data: dict[str, Any], where: str = "parameters") -> Parameters:
    """Validate a registry given as a dict; errors name the key path."""
    try:
        return Parameters.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {path}: {first['msg']}") from exc


@lru_cache(maxsize=1)
def default_parameters() -> Parameters:
    """The shipped registry (cached: it is immutable)."""
    return parameters_from_dict(_read(DEFAULT_FILE), str(DEFAULT_FILE))


def load_parameters(override: str | Path | dict[str, Any] | None = None, base: Parameters | None = None) -> Parameters:
    """The registry with ``override`` (a TOML file or a dict of the same shape) merged over the defaults."""
    if override is None and base is None:
        return default_parameters()
    data = (base or default_parameters()).model_dump()
    where = "parameters"
    if isinstance(override, (str, Path)):
        where = str(override)
        override = _read(Path(override))
    if override:
        data = _deep_merge(data, override)
    return parameters_from_dict(data, where)


def resolve(parameters: Parameters | str | Path | dict | None) -> Parameters:
    """Whatever a case carries as ``parameters`` (None, a registry, a file or a dict of overrides) as a registry."""
    if isinstance(parameters, Parameters):
        return parameters
    return load_parameters(parameters)
