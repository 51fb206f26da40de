"""Consolidation savings: what one board, one executive team, one audit, a shared back office and pooled procurement
save for a proposed grouping of trusts, against the one-off cost of getting there (issue #12 s.3).

The model (method and sources: ``docs/methods/design-consolidation.md``):

* **Fixed governance costs** — a board, an executive team, an external audit — are paid once per organisation.
  A merger keeps one of each (the merged executive team costs more than any one of the old ones: an uplift); a
  group under common control keeps the statutory boards and audits and shares part of the executive team.
* **Back office** (finance, HR, IT, estates administration) follows an economies-of-scale cost curve
  ``cost = a * turnover ** b`` with ``b < 1`` (the classic power-law cost function; Panzar & Willig 1977 define
  economies of scale as falling average cost, which ``b < 1`` gives).  ``a`` is set so that a trust of the
  reference turnover spends the Carter review's corporate-cost share on corporate services; the saving of a
  grouping is ``a * (sum(T_i ** b) - (sum T_i) ** b)``.
* **Procurement**: pooled purchasing lowers prices on the non-pay spend of the smaller members.
* **Transition**: one-off costs by component (legal and advisory, staff transfer, IT integration, competition
  review) from the appraisal's merger defaults (``partnering.appraise.defaults``), per trust brought in; savings
  start after completion and a benefit delay and ramp up (Fulop et al. 2002; King's Fund 2015).

Every parameter carries its value, a range, its ``basis`` (``evidence``: the figure is in the source;
``judgement``: a stated judgement anchored on it; ``user``: supplied by the caller) and its source.  Turnover per
trust is **user-supplied**: no official table of trust operating income is in ``../shared``; without one the
appraisal's placeholder (GBP 450m) is used and the result says so.

The result feeds the appraisal as an option (:func:`to_option`, :func:`add_to_case`) so that a merger and a group
model are compared with the other options on the same footing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from partnering.appraise.prefill import MAX_TURNOVER_GBP  # the plausible ceiling, with its source
from partnering.errors import ValidationError

FORMS = ("merger", "group")
Form = Literal["merger", "group"]

#: sources cited by the parameters (keys as in ``partnering/appraise/defaults.toml`` where they are shared)
SOURCES = {
    "carter_2016": "Lord Carter of Coles (2016). Operational productivity and performance in English NHS acute "
                   "hospitals: unwarranted variations. Department of Health (corporate and administrative costs "
                   "of 6-11% of turnover across trusts).",
    "monitor_mergers": "Monitor. Benefits from mergers: lessons from recent NHS transactions (savings in corporate "
                       "overheads and clinical support of about 1-3% of the merged trust's turnover).",
    "fulop_2002": "Fulop N, Protopsaltis G, Hutchings A, et al. (2002). Process and impact of mergers of NHS "
                  "trusts: multicentre case study and management cost analysis. BMJ 325: 246 (service "
                  "developments delayed at least 18 months; a GBP 0.5m/yr management-cost saving unmet two years "
                  "after merger).",
    "gaynor_2012": "Gaynor M, Laudicella M, Propper C (2012). Can governments do it better? Merger mania and "
                   "hospital outcomes in the English NHS. Journal of Health Economics 31(3): 528-543.",
    "kings_fund_2015": "Collins B (2015). Foundation trust and NHS trust mergers 2010 to 2015. The King's Fund.",
    "dalton_2014": "Dalton D (2014). Examining new options and opportunities for providers of NHS care: the "
                   "Dalton review. Department of Health (groups, chains, mergers).",
    "panzar_willig_1977": "Panzar JC, Willig RD (1977). Economies of scale in multi-output production. Quarterly "
                          "Journal of Economics 91(3): 481-493.",
    "appraise_defaults": "partnering.appraise.defaults (defaults.toml, [kinds.merge]): the appraisal's cited "
                         "merger defaults, used here so that both tools cost a merger alike.",
    "user": "Supplied by the user.",
}


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its range, basis and source."""

    name: str
    value: float
    low: float
    high: float
    basis: str
    source: str
    note: str = ""


def _p(name, value, low, high, basis, source, note=""):
    return Parameter(name, float(value), float(low), float(high), basis, source, note)


#: the default parameters; money in GBP a year at the case's price base year, shares as fractions
DEFAULT_PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    _p("corporate_cost_share", 0.085, 0.06, 0.11, "evidence", "carter_2016",
       "The range 6-11% of turnover is Carter's (evidence); the point value, its middle, is a judgement."),
    _p("scale_elasticity", 0.70, 0.60, 0.90, "judgement", "monitor_mergers",
       "b in cost = a*T**b (Panzar & Willig 1977: b < 1 is economies of scale). Chosen so that a merger of two "
       "trusts of GBP 450m saves about 2% of the merged turnover in all, the middle of Monitor's 1-3%."),
    _p("reference_turnover_gbp", 450e6, 450e6, 450e6, "judgement", "appraise_defaults",
       "The turnover at which a trust spends corporate_cost_share on corporate services: the appraisal's "
       "placeholder trust."),
    _p("board_cost_gbp", 400_000, 250_000, 600_000, "judgement", "fulop_2002",
       "Chair, non-executive directors and board secretariat a year. No national table: replace with the "
       "remuneration report in each trust's annual accounts."),
    _p("executive_team_cost_gbp", 1_800_000, 1_200_000, 2_500_000, "judgement", "fulop_2002",
       "Executive directors' pay and on-costs a year; Fulop et al. found a GBP 0.5m/yr management-cost target "
       "unmet, so this is a ceiling on what goes, not a forecast."),
    _p("executive_uplift", 0.25, 0.10, 0.50, "judgement", "fulop_2002",
       "The merged executive team costs this much more than one of the old teams (bigger remit)."),
    _p("audit_fee_gbp", 150_000, 80_000, 250_000, "judgement", "carter_2016",
       "External audit fee a year; each trust's accounts state it."),
    _p("non_pay_share", 0.20, 0.15, 0.30, "judgement", "carter_2016",
       "Share of turnover spent on purchased goods and services; Carter's procurement chapter targets it."),
    _p("procurement_price_saving", 0.01, 0.0, 0.02, "judgement", "carter_2016",
       "Price reduction on the smaller members' non-pay spend from pooled purchasing."),
    _p("group_executive_share", 0.5, 0.25, 0.75, "judgement", "dalton_2014",
       "A group keeps its members' boards and audits and shares part of the executive team (Dalton's group model)."),
    _p("group_back_office_share", 0.75, 0.5, 1.0, "judgement", "dalton_2014",
       "A group's shared back office realises this share of a merger's scale saving."),
    _p("completion_years", 2, 1, 5, "evidence", "kings_fund_2015",
       "Dalton expects completion within a year; the King's Fund found some took 4-5 years (range: evidence)."),
    _p("benefit_delay_years", 2, 1.5, 3, "evidence", "fulop_2002",
       "Service developments delayed at least 18 months; savings targets unmet two years after merger."),
    _p("benefit_ramp_years", 3, 1, 5, "judgement", "gaynor_2012",
       "Savings then grow in a straight line to the full yearly value."),
    _p("years", 10, 10, 10, "judgement", "appraise_defaults", "The appraisal period."),
)}

#: one-off transition costs per trust brought in (GBP), from the appraisal's merger defaults (same sources)
TRANSITION_COMPONENTS = ("legal_and_advisory", "competition_review", "staff_transfer", "it_integration")
#: share of a merger's transition cost that a group incurs, by component (judgement, Dalton 2014: a group keeps
#: its members as legal entities, so less legal and staff-transfer work; back-office systems still converge)
GROUP_TRANSITION_SHARE = {"legal_and_advisory": 0.5, "competition_review": 1.0, "staff_transfer": 0.5,
                          "it_integration": 1.0}

Turnover = dict[str, float]


@dataclass(frozen=True)
class Saving:
    """One component of the recurring saving at full effect (GBP a year) with how it was reached."""

    component: str
    gbp_per_year: float
    low: float
    high: float
    basis: str
    source: str
    working: str


@dataclass(frozen=True)
class TransitionCost:
    component: str
    gbp: float
    low: float
    high: float
    basis: str
    source: str


@dataclass
class ConsolidationResult:
    """The savings case for one grouping: components, transition costs, the yearly profile, checks and warnings."""

    name: str
    form: str
    trusts: list[str]
    turnover: dict[str, float]
    turnover_supplied: dict[str, bool]
    savings: list[Saving]
    transition: list[TransitionCost]
    completion_years: float
    benefit_delay_years: float
    benefit_ramp_years: float
    years: int
    price_base_year: int
    parameters: dict[str, Parameter]
    warnings: list[str] = field(default_factory=list)

    @property
    def combined_turnover(self) -> float:
        return float(sum(self.turnover.values()))

    @property
    def recurring_saving(self) -> float:
        return float(sum(s.gbp_per_year for s in self.savings))

    @property
    def recurring_saving_range(self) -> tuple[float, float]:
        return float(sum(s.low for s in self.savings)), float(sum(s.high for s in self.savings))

    @property
    def saving_share(self) -> float:
        return self.recurring_saving / self.combined_turnover if self.combined_turnover else 0.0

    @property
    def transition_cost(self) -> float:
        return float(sum(t.gbp for t in self.transition))

    def ramp_share(self) -> np.ndarray:
        """Yearly share (0..1) of the full saving: none until completion plus the delay, then a straight ramp."""
        from partnering.appraise.case import ramp_profile

        return ramp_profile(self.years, self.completion_years + self.benefit_delay_years, self.benefit_ramp_years)

    def transition_profile(self) -> np.ndarray:
        """One-off costs spread evenly over the years to completion (at least year 0)."""
        out = np.zeros(self.years)
        span = max(1, int(np.ceil(self.completion_years)))
        span = min(span, self.years)
        out[:span] = self.transition_cost / span
        return out

    def savings_profile(self) -> np.ndarray:
        return self.recurring_saving * self.ramp_share()

    @property
    def payback_year(self) -> int | None:
        """The first year (0-based) in which cumulative savings cover cumulative transition costs, undiscounted."""
        net = np.cumsum(self.savings_profile() - self.transition_profile())
        hits = np.nonzero(net >= 0)[0]
        hits = hits[np.cumsum(self.savings_profile())[hits] > 0]
        return int(hits[0]) if hits.size else None

    def monitor_check(self) -> str:
        """How the modelled saving compares with Monitor's 1-3% of turnover realised by mergers."""
        share = self.saving_share * 100
        if share < 1.0:
            return f"{share:.2f}% of combined turnover: below Monitor's 1-3% realised by mergers."
        if share > 3.0:
            return (f"{share:.2f}% of combined turnover: above Monitor's 1-3% realised by mergers; "
                    "Gaynor et al. (2012) and Fulop et al. (2002) found little or none; treat as optimistic.")
        return f"{share:.2f}% of combined turnover: within Monitor's 1-3% realised by mergers."

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "form": self.form, "trusts": self.trusts, "turnover_gbp": self.turnover,
            "turnover_supplied": self.turnover_supplied, "combined_turnover_gbp": self.combined_turnover,
            "recurring_saving_gbp": self.recurring_saving,
            "recurring_saving_range_gbp": list(self.recurring_saving_range),
            "saving_share_of_turnover": self.saving_share, "monitor_check": self.monitor_check(),
            "savings": [asdict(s) for s in self.savings],
            "transition_cost_gbp": self.transition_cost, "transition": [asdict(t) for t in self.transition],
            "completion_years": self.completion_years, "benefit_delay_years": self.benefit_delay_years,
            "benefit_ramp_years": self.benefit_ramp_years, "years": self.years,
            "price_base_year": self.price_base_year,
            "profile": {"savings_gbp": self.savings_profile().round(2).tolist(),
                        "transition_gbp": self.transition_profile().round(2).tolist()},
            "payback_year": self.payback_year,
            "parameters": {k: asdict(v) for k, v in self.parameters.items()},
            "sources": {k: SOURCES[k] for k in sorted({p.source for p in self.parameters.values()}
                                                        | {s.source for s in self.savings}
                                                        | {t.source for t in self.transition}) if k in SOURCES},
            "warnings": self.warnings,
        }


# ------------------------------------------------------------------------------------------------ parameters


def parameters_with(overrides: dict[str, float] | None = None) -> dict[str, Parameter]:
    """The default parameters with user overrides (a bare number replaces value, low and high; basis ``user``)."""
    params = dict(DEFAULT_PARAMETERS)
    for name, value in (overrides or {}).items():
        if name not in params:
            raise ValidationError(f"consolidation: no parameter {name!r}; use one of {', '.join(sorted(params))}")
        v = float(value)
        if not np.isfinite(v) or v < 0:
            raise ValidationError(f"consolidation: parameter {name} = {value!r} is not a non-negative number")
        params[name] = replace(params[name], value=v, low=v, high=v, basis="user", source="user")
    if not 0 < params["scale_elasticity"].value <= 1:
        raise ValidationError("consolidation: scale_elasticity must be in (0, 1]")
    return params


def _transition_defaults() -> dict[str, tuple[float, float, float, str, str]]:
    """(value, low, high, basis, source) per transition component, from the appraisal's merger defaults."""
    from partnering.appraise.defaults import load_defaults

    d = load_defaults()
    out = {}
    for comp in TRANSITION_COMPONENTS:
        leaf = d.get(f"kinds.merge.transaction_costs.{comp}")
        out[comp] = (float(leaf.value), float(leaf.low if leaf.low is not None else leaf.value),
                     float(leaf.high if leaf.high is not None else leaf.value), leaf.basis, leaf.source)
    return out


# ------------------------------------------------------------------------------------------------ the model


def _back_office(turnovers: np.ndarray, share: float, b: float, t_ref: float, fixed_ref: float) -> float:
    """Scale saving of one back office: a * (sum T_i^b - (sum T)^b), a fitted at the reference trust.

    The corporate share at the reference turnover covers the fixed governance costs too; they are taken out first so
    that nothing is counted twice."""
    back_office_ref = max(share * t_ref - fixed_ref, 0.0)
    a = back_office_ref / t_ref ** b
    return float(a * (np.sum(turnovers ** b) - np.sum(turnovers) ** b))


def _components(t: np.ndarray, form: str, pv: dict[str, float]) -> dict[str, tuple[float, str]]:
    """The yearly saving of each component for turnovers ``t`` and parameter values ``pv``: (GBP, working)."""
    n = len(t)
    board, execs, audit = pv["board_cost_gbp"], pv["executive_team_cost_gbp"], pv["audit_fee_gbp"]
    fixed_ref = board + execs + audit
    bo = _back_office(t, pv["corporate_cost_share"], pv["scale_elasticity"], pv["reference_turnover_gbp"],
                      fixed_ref)
    # pooled purchasing: every member but the largest buys at the largest one's price
    proc = pv["non_pay_share"] * pv["procurement_price_saving"] * float(np.sum(t) - np.max(t))
    if form == "merger":
        exec_saving = n * execs - execs * (1 + pv["executive_uplift"])
        return {
            "board": ((n - 1) * board, f"{n} boards become one: ({n} - 1) x GBP {board:,.0f}"),
            "executive_team": (exec_saving, f"{n} executive teams become one costing {1 + pv['executive_uplift']:.2f}"
                                            f" x GBP {execs:,.0f}"),
            "audit": ((n - 1) * audit, f"one external audit instead of {n}: ({n} - 1) x GBP {audit:,.0f}"),
            "back_office": (bo, f"a*(sum T^b - (sum T)^b), b = {pv['scale_elasticity']:.2f}, corporate share "
                                f"{pv['corporate_cost_share']:.1%} at GBP {pv['reference_turnover_gbp'] / 1e6:,.0f}m"),
            "procurement": (proc, f"{pv['procurement_price_saving']:.1%} on {pv['non_pay_share']:.0%} non-pay spend "
                                  "of all but the largest member"),
        }
    share_exec, share_bo = pv["group_executive_share"], pv["group_back_office_share"]
    return {
        "board": (0.0, "a group keeps its members' statutory boards (committees in common)"),
        "executive_team": (share_exec * (n - 1) * execs,
                           f"a shared executive team: {share_exec:.0%} of ({n} - 1) x GBP {execs:,.0f}"),
        "audit": (0.0, "each member keeps its statutory audit"),
        "back_office": (share_bo * bo, f"{share_bo:.0%} of a merger's scale saving, b = {pv['scale_elasticity']:.2f}"),
        "procurement": (proc, f"{pv['procurement_price_saving']:.1%} on {pv['non_pay_share']:.0%} non-pay spend "
                              "of all but the largest member"),
    }


def _bound(t: np.ndarray, form: str, params: dict[str, Parameter], which: str) -> dict[str, float]:
    """Each component at the end of its parameters' ranges that makes it smallest (``low``) or largest (``high``).

    Savings rise with every cost parameter and fall with the elasticity and the executive uplift."""
    falling = {"scale_elasticity", "executive_uplift"}
    pv = {}
    for name, p in params.items():
        lo_end = p.high if name in falling else p.low
        hi_end = p.low if name in falling else p.high
        pv[name] = lo_end if which == "low" else hi_end
    pv["reference_turnover_gbp"] = params["reference_turnover_gbp"].value
    return {k: v for k, (v, _) in _components(t, form, pv).items()}


_COMPONENT_SOURCE = {"board": ("judgement", "fulop_2002"), "executive_team": ("judgement", "fulop_2002"),
                     "audit": ("judgement", "carter_2016"), "back_office": ("judgement", "carter_2016"),
                     "procurement": ("judgement", "carter_2016")}


def consolidation_savings(trusts: list[str] | tuple[str, ...], turnover: Turnover | None = None, *,
                          form: Form = "merger", name: str = "", parameters: dict[str, float] | None = None,
                          price_base_year: int = 2025) -> ConsolidationResult:
    """The savings case for grouping ``trusts`` (ODS codes) as a ``merger`` or a ``group`` under common control.

    ``turnover`` maps trust codes to yearly operating income in GBP (user-supplied: from each trust's annual
    accounts); missing trusts take the placeholder ``reference_turnover_gbp`` and the result warns.
    ``parameters`` overrides any of :data:`DEFAULT_PARAMETERS` by name.
    """
    codes = [str(c).strip().upper() for c in trusts if str(c).strip()]
    if len(codes) < 2:
        raise ValidationError("consolidation: a grouping needs at least two trusts")
    if len(set(codes)) != len(codes):
        raise ValidationError("consolidation: a trust is listed twice")
    if form not in FORMS:
        raise ValidationError(f"consolidation: form {form!r} is not one of {', '.join(FORMS)}")
    params = parameters_with(parameters)
    given = {str(k).strip().upper(): float(v) for k, v in (turnover or {}).items()}
    unknown = sorted(set(given) - set(codes))
    if unknown:
        raise ValidationError(f"consolidation: turnover given for {', '.join(unknown)}, not in the grouping")
    for code, v in given.items():
        if not np.isfinite(v) or v <= 0:
            raise ValidationError(f"consolidation: turnover of {code} must be a positive number of GBP")
        if v > MAX_TURNOVER_GBP:
            raise ValidationError(f"consolidation: turnover of {code}, GBP {v:,.0f} a year, is more than GBP 10bn: "
                                  "the largest NHS trusts' income is about GBP 2-3bn; give GBP a year, like "
                                  "450000000 for GBP 450m")
    placeholder = params["reference_turnover_gbp"].value
    turn = {c: given.get(c, placeholder) for c in codes}
    supplied = {c: c in given for c in codes}
    warnings = []
    missing = [c for c in codes if not supplied[c]]
    if missing:
        warnings.append(f"PLACEHOLDER turnover of GBP {placeholder / 1e6:,.0f}m for {', '.join(missing)}: no "
                        "official table of trust turnover is held; enter each trust's operating income from its "
                        "annual accounts (--turnover CODE=GBP).")
    t = np.array([turn[c] for c in codes])
    pv = {k: p.value for k, p in params.items()}
    point = _components(t, form, pv)
    low, high = _bound(t, form, params, "low"), _bound(t, form, params, "high")
    savings = []
    for comp, (value, working) in point.items():
        basis, source = _COMPONENT_SOURCE[comp]
        savings.append(Saving(comp, float(value), float(min(low[comp], value)), float(max(high[comp], value)),
                              basis, source, working))
    defaults = _transition_defaults()
    transition = []
    for comp in TRANSITION_COMPONENTS:
        v, lo, hi, basis, source = defaults[comp]
        k = (len(codes) - 1) * (GROUP_TRANSITION_SHARE[comp] if form == "group" else 1.0)
        transition.append(TransitionCost(comp, v * k, lo * k, hi * k, basis, source))
    result = ConsolidationResult(
        name=name or f"{'Merger' if form == 'merger' else 'Group'} of {', '.join(codes)}", form=form, trusts=codes,
        turnover=turn, turnover_supplied=supplied, savings=savings, transition=transition,
        completion_years=pv["completion_years"], benefit_delay_years=pv["benefit_delay_years"],
        benefit_ramp_years=pv["benefit_ramp_years"], years=int(pv["years"]), price_base_year=price_base_year,
        parameters=params, warnings=warnings)
    if not 1.0 <= result.saving_share * 100 <= 3.0:
        warnings.append(result.monitor_check())
    return result


def groups_from_regions(regions: Any, trust_area: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Trust groupings from a regions result: ``{"regions": [{"id"|"name", "members": [...]}, ...]}`` (or an object
    with a ``regions`` attribute).  Members are trust codes, or area codes mapped to trusts by ``trust_area``
    (trust code -> area code): every trust whose area is in the region joins that region's group."""
    regs = regions.get("regions") if isinstance(regions, dict) else getattr(regions, "regions", regions)
    out: dict[str, list[str]] = {}
    for i, reg in enumerate(regs or []):
        reg = reg if isinstance(reg, dict) else asdict(reg)
        label = str(reg.get("id", reg.get("name", i + 1)))
        members = [str(m) for m in reg.get("members", [])]
        if trust_area is not None:
            inside = set(members)
            members = sorted(t for t, area in trust_area.items() if area in inside)
        out[label] = members
    return out


# ------------------------------------------------------------------------------------------------ to the appraisal


def _option_key(result: ConsolidationResult) -> str:
    return "consolidation_" + result.form


def to_option(result: ConsolidationResult, *, key: str | None = None, n_years: int | None = None):
    """The grouping as an :class:`partnering.appraise.model.Option`: transition costs as ``transaction_cost`` in
    the years to completion, the recurring saving as ``cash_releasing_benefit`` after the delay and ramp."""
    from partnering.appraise.model import Option

    n = n_years or result.years
    res = replace(result, years=n)
    flows = {"transaction_cost": res.transition_profile(), "cash_releasing_benefit": res.savings_profile()}
    kind = "merge" if result.form == "merger" else "partner"
    return Option(key=key or _option_key(result), name=result.name, kind=kind, flows=flows,
                  notes=f"From partnering design consolidation: {result.monitor_check()}")


def to_case_option(result: ConsolidationResult, *, key: str | None = None, role: str | None = None):
    """The grouping as a case file's option (:class:`partnering.appraise.case.OptionIn`): the full yearly saving
    with its ramp, and each transition component as a transaction cost spread over the years to completion."""
    from partnering.appraise.case import OptionIn, Ramp, TransactionCost

    n = result.years
    span = min(max(1, int(np.ceil(result.completion_years))), n)
    tcs = [TransactionCost(component=t.component, amount=t.gbp / span, year=y,
                           source=f"{SOURCES.get(t.source, t.source)} ({t.basis})")
           for t in result.transition if t.gbp > 0 for y in range(span)]
    kind = "merge" if result.form == "merger" else "partner"
    form = "merger" if result.form == "merger" else None
    return OptionIn(key=key or _option_key(result), name=result.name, kind=kind, form=form, role=role,
                    description=f"{result.name}: one-off GBP {result.transition_cost / 1e6:,.1f}m, then GBP "
                                f"{result.recurring_saving / 1e6:,.1f}m a year at full effect",
                    flows={"cash_releasing_benefit": [result.recurring_saving] * n},
                    transaction_costs=tcs,
                    ramp=Ramp(categories=["cash_releasing_benefit"],
                              delay_years=result.completion_years + result.benefit_delay_years,
                              ramp_years=result.benefit_ramp_years,
                              source=f"{SOURCES['kings_fund_2015']}; {SOURCES['fulop_2002']}"),
                    notes=result.monitor_check())


def add_to_case(case, result: ConsolidationResult, *, key: str | None = None, role: str | None = None,
                uncertainty: bool = True):
    """A copy of the decision case (:class:`partnering.appraise.case.DecisionCase`) with the grouping added as an
    option, and (by default) an uncertainty on its saving spanning the model's low-high range."""
    from partnering.appraise.case import DecisionCase, UncertaintyIn

    option = to_case_option(result, key=key, role=role)
    if any(o.key == option.key for o in case.options):
        raise ValidationError(f"the case already has an option {option.key!r}: pass another key")
    data = case.model_dump()
    data["options"].append(option.model_dump())
    if uncertainty and result.recurring_saving > 0:
        lo, hi = result.recurring_saving_range
        data["uncertainties"].append(UncertaintyIn(
            name=f"{option.key}_saving", targets=[f"{option.key}.cash_releasing_benefit"], distribution="triangular",
            low=lo / result.recurring_saving, mode=1.0, high=hi / result.recurring_saving,
            source="partnering design consolidation: parameter ranges (Carter 2016; Monitor; judgement)").model_dump())
    return DecisionCase.model_validate(data)
