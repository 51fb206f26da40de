"""The decision case: a TOML file that holds the problem, the long list, the shortlist and every option's flows.

A case is what a business case's strategic and economic dimensions need (HM Treasury Green Book 2022, chapter 4 and
5): the problem (an organisation in persistent difficulty, or a service one site cannot staff), the long list built
with the options framework (scope, solution, delivery, implementation, funding: Green Book 2022 A1, Box 17), a
shortlist that holds at least business as usual, a do-minimum option, the preferred way forward and one other
viable alternative (Green Book 2022, 5.53; :func:`shortlist_problems` says when it does not), and per option its
yearly flows in real prices by the CIA model's categories, benefit delays and ramps, transaction costs by
component, the optimism-bias project type and mitigation, uncertainties with correlations, and MCDA scores.

:func:`load_case` / :func:`parse_case` read and validate a file (errors name the file, a line and the field:
:class:`partnering.errors.IngestError`); :func:`dump_case` writes one; :func:`to_economic_case` turns it into the
numeric core's :class:`~partnering.appraise.model.EconomicCase`. The format is documented in
``docs/appraisal-case.md``.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from partnering.appraise.economics import ramp_profile
from partnering.appraise.model import BENEFIT_CATEGORIES, CATEGORIES, TIMING_TARGETS
from partnering.errors import IngestError, ValidationError

PROBLEM_KINDS = ("persistent_difficulty", "unstaffable_service", "other")
FRAMEWORK_DIMENSIONS = ("scope", "solution", "delivery", "implementation", "funding")  # Green Book 2022 A1 Box 17
SHORTLIST_ROLES = ("bau", "do_minimum", "preferred", "alternative")
#: sub-kinds ("forms") of buy and partner options (Dalton review 2014; Provider Selection Regime 2023)
FORMS = {
    "buy": ("tender", "outsourcing", "independent_sector"),
    "partner": ("buddying", "network", "joint_venture", "management_contract", "public_private"),
    "merge": ("acquisition", "merger"),
}
FORM_LABELS = {
    "tender": "competitive tender (Provider Selection Regime)", "outsourcing": "outsourcing",
    "independent_sector": "independent-sector capacity", "buddying": "buddying by a high performer",
    "network": "clinical network or alliance", "joint_venture": "joint venture shared across sites",
    "management_contract": "long-term management contract",
    "public_private": "public-private improvement partnership", "acquisition": "acquisition",
    "merger": "merger",
}
KIND_LABELS = {"bau": "Business as usual", "do_minimum": "Do minimum", "make": "Make (internal improvement)",
               "buy": "Buy (tender, outsourcing, independent sector)", "partner": "Partner", "merge": "Merge"}
TRANSACTION_COMPONENTS = ("legal_and_advisory", "procurement", "competition_review", "staff_transfer",
                          "it_integration", "other")
MAX_YEARS = 200


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Gap(_Model):
    """A gap to close, from ``measure``: a key metric in its own unit against the standard and the peers."""

    indicator: str
    name: str = ""
    unit: str = ""
    direction: Literal["increase", "decrease", "neutral"] = "increase"
    value: float | None = None
    period: str | None = None
    standard: float | None = None
    median: float | None = None
    top_quartile: float | None = None
    variation_icon: str | None = None
    assurance: str | None = None
    note: str = ""


class Problem(_Model):
    kind: Literal["persistent_difficulty", "unstaffable_service", "other"] = "persistent_difficulty"
    summary: str = ""
    service: str = ""
    evidence: str = ""
    gaps: list[Gap] = Field(default_factory=list)


class LongListEntry(_Model):
    """One choice on one dimension of the options framework, and what became of it."""

    dimension: Literal["scope", "solution", "delivery", "implementation", "funding"]
    choice: str
    status: Literal["carried_forward", "preferred", "discounted"] = "carried_forward"
    reason: str = ""


class Partner(_Model):
    """The other party of a partner or merge option, from ``match``: who, how far, their track record."""

    org_code: str
    name: str = ""
    suitability: float | None = None
    travel_minutes: float | None = None
    track_record: bool | None = None
    reason: str = ""


class OptimismBiasIn(_Model):
    mix: dict[str, float]
    stage: Literal["SOC", "OBC", "FBC"] | None = None
    mitigation: float | None = Field(None, ge=0.0, le=1.0)


class TransactionCost(_Model):
    component: Literal["legal_and_advisory", "procurement", "competition_review", "staff_transfer",
                       "it_integration", "other"]
    amount: float = Field(ge=0.0)
    year: int = Field(0, ge=0, le=MAX_YEARS)
    source: str = ""


class Ramp(_Model):
    """Benefits start after ``delay_years`` and grow linearly to the full yearly value over ``ramp_years``.

    ``delay_years`` is the planned delay (the point value; an uncertainty targeting ``option.benefit_delay`` makes
    it uncertain in the Monte Carlo). The option's works-duration optimism bias lengthens it (``delay x (1 +
    uplift)``) unless ``works_duration_uplift = false``, for a delay already taken from a reference class of
    outturns (Green Book 2022, 5.45: own evidence before the generic uplifts).
    """

    categories: list[str] = Field(default_factory=lambda: list(BENEFIT_CATEGORIES) + ["qalys"])
    delay_years: float = Field(0.0, ge=0.0, le=MAX_YEARS)
    ramp_years: float = Field(0.0, ge=0.0, le=MAX_YEARS)
    works_duration_uplift: bool = True
    source: str = ""

    @field_validator("categories")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in CATEGORIES]
        if bad:
            raise ValueError(f"unknown categories {', '.join(bad)}; use {', '.join(CATEGORIES)}")
        return v


class OptionIn(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name: str
    kind: Literal["bau", "do_minimum", "make", "buy", "partner", "merge"]
    form: str | None = None
    role: Literal["bau", "do_minimum", "preferred", "alternative"] | None = None
    description: str = ""
    partner: Partner | None = None
    flows: dict[str, list[float]] = Field(default_factory=dict)
    transaction_costs: list[TransactionCost] = Field(default_factory=list)
    ramp: Ramp | None = None
    optimism_bias: OptimismBiasIn | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    unmonetisable: list[str] = Field(default_factory=list)
    notes: str = ""

    @field_validator("flows")
    @classmethod
    def _flows(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for cat, values in v.items():
            if cat not in CATEGORIES:
                raise ValueError(f"unknown flow category {cat!r}; use {', '.join(CATEGORIES)}")
            if len(values) > MAX_YEARS:
                raise ValueError(f"{cat} has {len(values)} years; at most {MAX_YEARS}")
            if any(not math.isfinite(x) for x in values):
                raise ValueError(f"{cat} has a value that is not a finite number")
        return v

    @field_validator("scores")
    @classmethod
    def _scores(cls, v: dict[str, float]) -> dict[str, float]:
        for k, s in v.items():
            if not 0.0 <= s <= 100.0:
                raise ValueError(f"score {k} = {s:g} is not between 0 and 100")
        return v

    @model_validator(mode="after")
    def _form(self) -> OptionIn:
        allowed = FORMS.get(self.kind)
        if self.form is not None and (allowed is None or self.form not in allowed):
            raise ValueError(f"form {self.form!r} does not fit kind {self.kind!r}"
                             + (f"; use one of {', '.join(allowed)}" if allowed else ""))
        return self


class UncertaintyIn(_Model):
    """A multiplier on the flows it targets (1.0 = the point value): ``option.category`` or ``*.category``; or, for
    ``option.benefit_delay`` targets, the option's planned benefit delay in years (the option needs a ramp)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    targets: list[str] = Field(min_length=1)
    distribution: Literal["triangular", "pert", "normal", "lognormal", "uniform", "fixed"]
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sigma: float | None = None
    value: float | None = None
    source: str = ""

    @model_validator(mode="after")
    def _params(self) -> UncertaintyIn:
        need = {"triangular": ("low", "mode", "high"), "pert": ("low", "mode", "high"), "normal": ("mean", "sd"),
                "lognormal": ("median", "sigma"), "uniform": ("low", "high"), "fixed": ("value",)}[self.distribution]
        missing = [p for p in need if getattr(self, p) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {', '.join(need)} (missing "
                             f"{', '.join(missing)})")
        if self.distribution in ("triangular", "pert") and not self.low <= self.mode <= self.high:
            raise ValueError("needs low <= mode <= high")
        if self.distribution == "uniform" and not self.low <= self.high:
            raise ValueError("needs low <= high")
        return self

    def params(self) -> dict[str, float]:
        need = {"triangular": ("low", "mode", "high"), "pert": ("low", "mode", "high"), "normal": ("mean", "sd"),
                "lognormal": ("median", "sigma"), "uniform": ("low", "high"), "fixed": ("value",)}[self.distribution]
        return {p: float(getattr(self, p)) for p in need}


class Correlation(_Model):
    a: str
    b: str
    rho: float = Field(gt=-1.0, lt=1.0)


class Criterion(_Model):
    """An MCDA criterion with its swing weight (HM Treasury MCDA guidance 2024): the worth, out of 100, of moving
    from the worst to the best option on this criterion, against the most valued swing."""

    key: str
    name: str = ""
    swing: float = Field(100.0, ge=0.0, le=100.0)
    source: str = ""


class McdaIn(_Model):
    criteria: list[Criterion] = Field(default_factory=list)
    p_best_threshold: float | None = Field(None, gt=0.0, lt=1.0)


class CaseMeta(_Model):
    title: str
    org_code: str | None = None
    org_name: str = ""
    price_base_year: int = Field(ge=1990, le=2100)
    vintage: Literal["2022", "2026"] = "2026"
    stage: Literal["SOC", "OBC", "FBC"] = "SOC"
    years: int | None = Field(None, ge=1, le=MAX_YEARS)
    draws: int = Field(10_000, ge=100, le=1_000_000)
    seed: int = 2026
    synthetic: bool = False
    prepared_by: str = ""
    notes: str = ""


class RouteIn(_Model):
    """What the approvals route needs to know beyond the flows; thresholds override :mod:`~partnering.appraise.route`
    defaults."""

    trust_delegated_limit_gbp: float | None = Field(None, ge=0.0)
    in_financial_distress: bool | None = None
    independent_provider_party: bool = False
    turnover_gbp: float | None = Field(None, ge=0.0)


class DecisionCase(_Model):
    """A whole decision case as read from its TOML file."""

    case: CaseMeta
    problem: Problem = Field(default_factory=Problem)
    long_list: list[LongListEntry] = Field(default_factory=list)
    options: list[OptionIn] = Field(min_length=1)
    uncertainties: list[UncertaintyIn] = Field(default_factory=list)
    correlations: list[Correlation] = Field(default_factory=list)
    mcda: McdaIn = Field(default_factory=McdaIn)
    route: RouteIn = Field(default_factory=RouteIn)
    defaults: dict = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DecisionCase:
        keys = [o.key for o in self.options]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"option keys are not unique: {', '.join(dup)}")
        names = [u.name for u in self.uncertainties]
        if len(set(names)) != len(names):
            raise ValueError("uncertainty names are not unique")
        ramped = {o.key for o in self.options if o.ramp is not None}
        for u in self.uncertainties:
            for t in u.targets:
                key, _, cat = t.partition(".")
                if cat in TIMING_TARGETS:
                    if key not in ramped:
                        raise ValueError(f"uncertainty {u.name}: target {t!r} needs an option of this case with a "
                                         "[options.ramp] (its delay_years is the point value)")
                    continue
                if cat not in CATEGORIES or (key != "*" and key not in keys):
                    raise ValueError(f"uncertainty {u.name}: target {t!r} is not 'option.category', "
                                     "'*.category' or 'option.benefit_delay' for an option of this case")
            if len({t.partition(".")[2] in TIMING_TARGETS for t in u.targets}) > 1:
                raise ValueError(f"uncertainty {u.name}: mixes benefit delays (years) with flow multipliers")
        for c in self.correlations:
            if c.a not in names or c.b not in names:
                raise ValueError(f"correlation {c.a}-{c.b}: both must name uncertainties of this case")
        return self

    # ------------------------------------------------------------------------------------------------ views
    @property
    def n_years(self) -> int:
        if self.case.years:
            return self.case.years
        longest = max((len(v) for o in self.options for v in o.flows.values()), default=0)
        tx = max((t.year + 1 for o in self.options for t in o.transaction_costs), default=0)
        return max(longest, tx, 1)

    def option(self, key: str) -> OptionIn:
        for o in self.options:
            if o.key == key:
                return o
        raise ValidationError(f"no option {key!r} in this case")


# ------------------------------------------------------------------------------------------------ reading

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")


def _line_of(text: str, loc: tuple) -> int | None:
    """The line (1-based) of a validation error's location in the TOML text, as near as the text allows.

    Walks the location: a table name (``case``), an array-of-tables index (``options``, 2 -> the third
    ``[[options]]`` header), then the last field name after that line.  Line-ish: good enough to point a reader.
    """
    lines = text.splitlines()
    start, path = 0, []
    i = 0
    parts = list(loc)
    line = None
    while i < len(parts):
        part = parts[i]
        if isinstance(part, str):
            path.append(part)
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            header = ".".join(path)
            if isinstance(nxt, int):  # array of tables
                hits = [n for n, ln in enumerate(lines) if (m := _HEADER.match(ln)) and m.group(1) == header
                        and ln.strip().startswith("[[")]
                if nxt < len(hits):
                    start = line_idx = hits[nxt]
                    line = line_idx + 1
                    i += 2
                    continue
            hits = [n for n, ln in enumerate(lines[start:], start) if (m := _HEADER.match(ln))
                    and m.group(1) == header]
            if hits:
                start = hits[0]
                line = start + 1
            else:
                pat = re.compile(rf"^\s*\"?{re.escape(part)}\"?\s*=")
                found = next((n for n, ln in enumerate(lines[start:], start) if pat.match(ln)), None)
                if found is not None:
                    return found + 1
        i += 1
    return line


def parse_case(text: str, file: str = "<case>") -> DecisionCase:
    """A :class:`DecisionCase` from TOML text; :class:`~partnering.errors.IngestError` naming file, line and field."""
    from pydantic import ValidationError as PydanticError

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise IngestError(file, f"not valid TOML: {exc}", row=int(m.group(1)) if m else None) from None
    try:
        return DecisionCase.model_validate(data)
    except PydanticError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err.get("loc", ()))
        field = ".".join(str(p) for p in loc) or None
        reason = str(err.get("msg", exc)).removeprefix("Value error, ")
        value = err.get("input")
        if value is None or isinstance(value, str | int | float):
            if err.get("type") != "missing":
                reason = f"{reason} (got {value!r})"
        raise IngestError(file, reason, row=_line_of(text, loc), column=field) from None


def load_case(path: str | Path) -> DecisionCase:
    """Read and validate a case file."""
    p = Path(path)
    if not p.is_file():
        raise IngestError(str(path), "no such case file")
    return parse_case(p.read_text(encoding="utf-8-sig"), file=str(path))


# ------------------------------------------------------------------------------------------------ checks


def shortlist_problems(case: DecisionCase) -> list[str]:
    """What the shortlist lacks against Green Book 2022, 5.53: business as usual, a do-minimum option, the preferred
    way forward and at least one other viable alternative. Empty when it holds them all."""
    kinds = [o.kind for o in case.options]
    roles = [o.role for o in case.options]
    out = []
    if "bau" not in kinds and "bau" not in roles:
        out.append("The shortlist has no business-as-usual option (Green Book 2022, 5.53): add one as the benchmark.")
    if "do_minimum" not in kinds and "do_minimum" not in roles:
        out.append("The shortlist has no do-minimum option (Green Book 2022, 5.53).")
    if roles.count("preferred") == 0:
        out.append("No option is marked as the preferred way forward (role = \"preferred\"; Green Book 2022, 5.53).")
    elif roles.count("preferred") > 1:
        out.append("More than one option is marked as the preferred way forward.")
    others = [o for o in case.options if o.kind not in ("bau", "do_minimum") and o.role != "preferred"]
    if not others:
        out.append("The shortlist needs at least one viable alternative besides the preferred way "
                   "(Green Book 2022, 5.53).")
    dims = {e.dimension for e in case.long_list}
    missing = [d for d in FRAMEWORK_DIMENSIONS if d not in dims]
    if case.long_list and missing:
        out.append("The long list does not cover the options framework's "
                   f"{', '.join(missing)} dimension(s) (Green Book 2022, A1 Box 17).")
    if not case.long_list:
        out.append("There is no long list: build one with the options framework (scope, solution, delivery, "
                   "implementation, funding; Green Book 2022, A1 Box 17).")
    return out


# ------------------------------------------------------------------------------------------------ to the core


def option_flows(option: OptionIn, n_years: int, ramped: bool = True) -> dict:
    """The option's yearly flows, with its transaction-cost components added to ``transaction_cost`` (components
    listed in the case are first-class inputs, issue #10 s.2), after its ramp at the planned delay when ``ramped``
    (the appraisal itself applies the ramp later, after the works-duration optimism bias: :func:`to_economic_case`)."""
    import numpy as np

    flows = {}
    for cat in CATEGORIES:
        arr = np.zeros(n_years)
        values = option.flows.get(cat, [])
        arr[: min(len(values), n_years)] = values[:n_years]
        flows[cat] = arr
    for tc in option.transaction_costs:
        if tc.year < n_years:
            flows["transaction_cost"][tc.year] += tc.amount
    if ramped and option.ramp is not None:
        share = ramp_profile(n_years, option.ramp.delay_years, option.ramp.ramp_years)
        for cat in option.ramp.categories:
            flows[cat] = flows[cat] * share
    return flows


def to_economic_case(case: DecisionCase, *, draws: int | None = None, parameters=None):
    """The numeric core's :class:`~partnering.appraise.model.EconomicCase` for this decision case."""
    from partnering.appraise.model import BenefitTiming, EconomicCase, OptimismBias, Option, Uncertainty

    n = case.n_years
    options = []
    for o in case.options:
        ob = None
        if o.optimism_bias is not None:
            ob = OptimismBias(mix=dict(o.optimism_bias.mix), stage=o.optimism_bias.stage,
                              mitigation=o.optimism_bias.mitigation)
        notes = o.notes or o.description
        timing = None
        if o.ramp is not None:
            timing = BenefitTiming(delay_years=o.ramp.delay_years, ramp_years=o.ramp.ramp_years,
                                   categories=tuple(o.ramp.categories),
                                   works_duration_uplift=o.ramp.works_duration_uplift)
        options.append(Option(key=o.key, name=o.name, kind=o.kind, flows=option_flows(o, n, ramped=False),
                              optimism_bias=ob, notes=notes, unmonetisable=tuple(o.unmonetisable), timing=timing))
    uncertainties = [Uncertainty(name=u.name, targets=tuple(u.targets), distribution=u.distribution,
                                 params=u.params(), source=u.source) for u in case.uncertainties]
    return EconomicCase(options=options, price_base_year=case.case.price_base_year, vintage=case.case.vintage,
                        uncertainties=uncertainties,
                        correlations=[(c.a, c.b, c.rho) for c in case.correlations],
                        draws=draws or case.case.draws, seed=case.case.seed, parameters=parameters)


# ------------------------------------------------------------------------------------------------ writing


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValidationError("a case cannot hold NaN or infinite values")
        return repr(v)  # the shortest text that reads back to the same float
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise ValidationError(f"cannot write {type(v).__name__} to a case file")


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(k)


def _table(name: str, data: dict, out: list[str], array: bool = False) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not (
        isinstance(v, list) and v and all(isinstance(x, dict) for x in v))}
    out.append(f"[[{name}]]" if array else f"[{name}]")
    for k, v in scalars.items():
        if v is None or (isinstance(v, list | str) and not v and k not in ("name", "title")):
            continue
        out.append(f"{_key(k)} = {_toml_value(v)}")
    for k, v in data.items():
        if isinstance(v, dict) and v:
            out.append("")
            _table(f"{name}.{k}", v, out)
    for k, v in data.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                out.append("")
                _table(f"{name}.{k}", item, out, array=True)


def dump_case(case: DecisionCase, header: str = "") -> str:
    """The case as TOML text that :func:`parse_case` reads back to an equal case."""
    data = case.model_dump(mode="json", exclude_none=True)
    out: list[str] = [f"# {ln}" if ln else "#" for ln in header.splitlines()]
    if out:
        out.append("")
    if data.get("warnings"):
        out += [f"warnings = {_toml_value(data['warnings'])}", ""]
    for section in ("case", "problem", "route", "mcda"):
        if section in data:
            _table(section, data[section], out)
            out.append("")
    for section in ("long_list", "options", "uncertainties", "correlations"):
        for item in data.get(section, []):
            _table(section, item, out, array=True)
            out.append("")
    if data.get("defaults"):
        _table("defaults", data["defaults"], out)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
