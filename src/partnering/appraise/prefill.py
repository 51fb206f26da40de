"""A pre-filled decision case for a real organisation: the gaps to close from ``measure`` and the partner and merger
options from ``match``, with every other number a default from evidence (:mod:`partnering.appraise.defaults`).

What is filled and from where:

* the problem: the assessment's flags (persistent difficulty and its reason) and, per key metric, the latest value
  in its own unit against the national standard, the median and the top quartile of organisations of its kind;
* the long list: one or more choices on each dimension of the options framework (Green Book 2022, A1 Box 17);
* the shortlist: business as usual, do minimum, make, buy (independent-sector capacity), partner (buddying by the
  best candidate from ``match``: who, how far, their track record) and merge (with the nearest strong candidate);
  the buddying option is marked as the *provisional* preferred way (Keogh's buddying evidence is the strongest of
  the forms), to be confirmed by the appraisal;
* flows: running costs and cash-releasing savings as shares of turnover, the value of closing the gap to the top
  quartile, transaction costs by component, delays and ramps — all from ``defaults.toml`` with their sources;
* uncertainties: the reference-class ranges of ``defaults.toml`` as triangular multipliers, and the benefit delays
  of the merge option (completion time, King's Fund; post-completion delay, Fulop et al.) and the buy option
  (procurement time, a judgement) as triangular distributions in years;
* turnover: the trust's operating income when given (``turnover_gbp``, ``partnering appraise new --turnover``); no
  table of trust income is held in ../shared/data, so otherwise a named placeholder with a warning;
* MCDA scores: placeholders by option kind for a panel to replace (HM Treasury MCDA guidance 2024: scores and weights
  come from the people who hold the knowledge), said so in the case's warnings.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from partnering.appraise.case import (
    FORM_LABELS,
    Correlation,
    Criterion,
    DecisionCase,
    Gap,
    LongListEntry,
    McdaIn,
    OptimismBiasIn,
    OptionIn,
    Partner,
    Problem,
    Ramp,
    RouteIn,
    TransactionCost,
    UncertaintyIn,
)
from partnering.appraise.defaults import Defaults, load_defaults
from partnering.appraise.mcda import CRITERIA
from partnering.errors import NotFoundError

#: the largest operating income a case accepts for one NHS organisation (GBP a year): GBP 10bn.  The largest NHS
#: trusts' operating income is about GBP 2-3bn a year (trust annual accounts 2023/24, e.g. Manchester University NHS
#: Foundation Trust and Barts Health NHS Trust; NHS Providers' sector summaries); a figure above GBP 10bn is almost
#: certainly pounds typed where millions were meant (212,000,000 "million" is GBP 212 trillion), so it is refused.
MAX_TURNOVER_GBP = 10e9


def check_turnover(turnover_gbp: float | None) -> None:
    """Refuse an operating income (GBP a year) that is not positive or not plausible for one NHS organisation
    (:data:`MAX_TURNOVER_GBP`)."""
    from partnering.errors import ValidationError

    if turnover_gbp is None:
        return
    if not turnover_gbp > 0:
        raise ValidationError(f"turnover must be a positive amount of GBP, got {turnover_gbp!r}")
    if turnover_gbp > MAX_TURNOVER_GBP:
        raise ValidationError(
            f"turnover GBP {turnover_gbp:,.0f} a year is more than GBP 10bn: the largest NHS trusts' income is about "
            "GBP 2-3bn. Give it in GBP a year, like 450000000 for GBP 450m.")


#: placeholder MCDA scores (0-100) by option kind, for a panel to replace; ordered as mcda.CRITERIA. The pattern
#: follows the evidence in defaults.toml: mergers deliver late (Fulop), carry the heaviest governance load and are
#: the CMA's concern for access and choice; buddying starts fast (Keogh).
PLACEHOLDER_SCORES = {
    "bau": (0, 60, 10, 100, 100, 100, 0, 20),
    "do_minimum": (20, 60, 20, 80, 90, 90, 30, 30),
    "make": (50, 60, 40, 50, 50, 70, 50, 50),
    "buy": (60, 70, 50, 60, 60, 50, 60, 40),
    "partner": (75, 60, 70, 70, 70, 60, 70, 60),
    "merge": (70, 20, 90, 10, 30, 0, 60, 50),
}


def _gaps(assessment, code: str) -> list[Gap]:
    from partnering.indicators.catalogue import indicator, load_catalogue

    cat = load_catalogue()
    icons = assessment.icons[assessment.icons["org_code"] == code].set_index("indicator")
    standing = assessment.standing
    out = []
    for m in assessment.metrics:
        if m not in icons.index:
            continue
        row = icons.loc[m]
        d = indicator(m, cat)
        direction = getattr(d, "improvement_direction", None) or row.get("improvement_direction") or "increase"
        peers = standing[standing["indicator"] == m]["latest_value"].dropna()
        median = float(peers.median()) if len(peers) else None
        q = 0.75 if direction == "increase" else 0.25
        top = float(peers.quantile(q)) if len(peers) else None
        std = getattr(d, "national_standard", None)
        value = None if pd.isna(row.get("latest_value")) else float(row["latest_value"])
        out.append(Gap(indicator=m, name=getattr(d, "name", m) or m, unit=getattr(d, "unit", "") or "",
                       direction=direction if direction in ("increase", "decrease", "neutral") else "increase",
                       value=value, period=str(row.get("latest_period") or "") or None,
                       standard=None if std is None or pd.isna(std) else float(std),
                       median=median, top_quartile=top,
                       variation_icon=None if pd.isna(row.get("variation_icon")) else str(row["variation_icon"]),
                       assurance=None if pd.isna(row.get("assurance_type")) else str(row["assurance_type"]),
                       note="median and top quartile of the latest values of the organisations assessed"))
    return out


def gap_points(gaps: list[Gap]) -> float:
    """Percentage points to close to reach the top quartile of organisations of its kind on the key metrics measured
    in percent (0 where already there): the aspiration a partnership with a top-quartile supporter is judged by."""
    total = 0.0
    for g in gaps:
        if g.unit != "percent" or g.value is None or g.top_quartile is None:
            continue
        short = (g.top_quartile - g.value) if g.direction == "increase" else (g.value - g.top_quartile)
        total += max(short, 0.0)
    return total


def _partners(engine, code: str, assessment, k: int) -> pd.DataFrame:
    from partnering.match.service import partner_candidates

    try:
        return partner_candidates(engine, code, k=k, assessment=assessment)
    except NotFoundError:
        return pd.DataFrame()


def _partner(row) -> Partner:
    minutes = row.get("travel_minutes")
    return Partner(org_code=str(row["supporter"]), name=str(row.get("supporter_name") or ""),
                   suitability=round(float(row["score"]), 1),
                   travel_minutes=None if pd.isna(minutes) else round(float(minutes), 1),
                   track_record=bool(row.get("track_record", 0) >= 1.0), reason=str(row.get("reason") or ""))


def _tri(d: Defaults, path: str) -> dict:
    return d.get(path).triangular()


def _option(kind: str, key: str, name: str, n: int, d: Defaults, turnover: float, value_per_year: float,
            stage: str, role: str, form: str | None = None, partner: Partner | None = None) -> OptionIn:
    k = f"kinds.{kind}"
    flows: dict[str, list[float]] = {}
    running = d.value(f"{k}.running_cost_share") or d.value(f"{k}.contract_premium_share") or 0.0
    if running:
        flows["revenue_cost"] = [round(running * turnover, 0)] * n
    improvement = d.value(f"{k}.improvement_share", 0.0) or 0.0
    if kind == "partner":
        improvement *= d.value(f"{k}.success_probability", 1.0)
    if improvement:
        flows["non_cash_releasing_benefit"] = [round(improvement * value_per_year, 0)] * n
    saving = d.value(f"{k}.efficiency_share") or d.value(f"{k}.realised_savings_share") or 0.0
    if saving:
        flows["cash_releasing_benefit"] = [round(saving * turnover, 0)] * n
    delay = float(d.value(f"{k}.benefit_delay_years", 0.0) or 0.0)
    if kind == "merge":
        delay += float(d.value(f"{k}.completion_years", 0.0) or 0.0)
    if kind == "buy":
        delay += float(d.value(f"{k}.procurement_years", 0.0) or 0.0)
    ramp_years = float(d.value(f"{k}.benefit_ramp_years", 0.0) or 0.0)
    if form and kind == "partner":
        ramp_years = float(d.table(f"{k}.forms").get(form, {}).get("ramp_years", ramp_years))
    # a merger's delay distribution is a reference class of outturns: no generic works-duration uplift on top of it
    # (Green Book 2022, 5.45: own evidence before the generic optimism-bias values)
    reference_class = kind == "merge" and d.get(f"{k}.completion_years").has_range
    tx_year = int(round(d.value(f"{k}.completion_years", 0) or 0)) if kind == "merge" else 0
    txs = [TransactionCost(component=comp, amount=float(spec["value"]),
                           year=min(tx_year if comp == "it_integration" else 0, n - 1),
                           source=d.cite(spec["source"]))
           for comp, spec in d.table(f"{k}.transaction_costs").items() if spec.get("value")]
    ob_type = d.value(f"{k}.optimism_bias_type")
    ob = OptimismBiasIn(mix={ob_type: 1.0}, stage=stage) if ob_type and (running or txs) else None
    scores = dict(zip([c for c, _, _ in CRITERIA], map(float, PLACEHOLDER_SCORES[kind])))
    spread = delay_distribution(d, kind) if kind in ("merge", "buy") else None
    delay_source = spread["source"] if spread else _basis(d, f"{k}.benefit_delay_years")
    return OptionIn(key=key, name=name, kind=kind, form=form, role=role, partner=partner, flows=flows,
                    transaction_costs=txs,
                    ramp=Ramp(delay_years=delay, ramp_years=ramp_years, source=delay_source,
                              works_duration_uplift=not reference_class) if kind != "bau" else None,
                    optimism_bias=ob, scores=scores,
                    unmonetisable=["staff morale and retention", "organisational reputation"] if kind in (
                        "partner", "merge") else [],
                    notes=d.table(k).get("label", ""))


def delay_distribution(d: Defaults, kind: str) -> dict | None:
    """Triangular low/mode/high (years) of an option kind's planned benefit delay, from the defaults' ranges: a
    merger's completion time (King's Fund reference class) plus its post-completion delay (Fulop et al.); a
    purchase's procurement time (a judgement range) plus its delay. None for kinds without a range."""
    part = {"merge": "completion_years", "buy": "procurement_years"}.get(kind)
    if part is None:
        return None
    spread = d.get(f"kinds.{kind}.{part}")
    if not spread.has_range:
        return None
    after_path = f"kinds.{kind}.benefit_delay_years"
    after = float(d.value(after_path, 0.0) or 0.0)
    first, then = _basis(d, f"kinds.{kind}.{part}"), _basis(d, after_path)
    stage = {"completion_years": "Completion", "procurement_years": "Procurement"}[part]
    source = (f"{stage} {float(spread.low):g} to {float(spread.high):g} years (most likely {float(spread.value):g}): "
              f"{first}; then {_years(after)} before benefits start" + (", on the same basis" if then == first
                                                                        else f": {then}"))
    return {"low": float(spread.low) + after, "mode": float(spread.value) + after, "high": float(spread.high) + after,
            "source": source}


def _years(x: float) -> str:
    return f"{x:g} year" + ("" if x == 1 else "s")


def _basis(d: Defaults, path: str) -> str:
    """Where a default comes from, honestly: its reference where the figure is in the source (basis ``evidence``);
    "a judgement, informed by ..." where the source only informs a judgement (basis ``judgement``)."""
    leaf = d.get(path)
    ref = d.cite(leaf.source).rstrip(". ")
    if leaf.basis == "judgement":
        return "a judgement" + (f", informed by {ref}" if ref else "")
    return ref or leaf.basis


def prefill_case(engine, org_code: str, *, assessment=None, price_base_year: int | None = None, k: int = 5,
                 stage: str = "SOC", overrides: dict | None = None, turnover_gbp: float | None = None) -> DecisionCase:
    """A decision case for ``org_code`` pre-filled from the store's assessment and partner candidates.

    ``turnover_gbp``: the organisation's operating income (GBP a year, from its annual accounts); without it the
    defaults' placeholder is used and the case's warnings say so."""
    from partnering.measure.assess import assess
    from partnering.store import repository as repo

    code = org_code.strip().upper()
    d = load_defaults(overrides)
    if assessment is None:
        assessment = assess(engine)
    info = assessment.org(code)  # NotFoundError naming why
    flags = info["flags"]
    gaps = _gaps(assessment, code)
    cands = _partners(engine, code, assessment, k)
    attrs = repo.attributes_frame(engine)
    population = None
    if code in attrs.index and "catchment_population" in attrs.columns:
        v = attrs.loc[code, "catchment_population"]
        population = None if pd.isna(v) else float(v)
    check_turnover(turnover_gbp)
    turnover = float(turnover_gbp) if turnover_gbp is not None else float(d.value("organisation.turnover_gbp"))
    per_point = float(d.value("value_of_improvement.per_point_per_100k"))
    points = gap_points(gaps)
    value_per_year = points * per_point * ((population or 100_000.0) / 100_000.0)
    n = int(d.value("appraisal.years"))
    year = price_base_year or date.today().year
    turnover_note = (
        "Turnover GBP {:,.0f} as given (the trust's operating income); running costs and savings are shares of it."
        .format(turnover) if turnover_gbp is not None else
        "Turnover is a PLACEHOLDER (GBP {:,.0f}; no table of trust income is held): give the trust's operating income "
        "from its annual accounts (partnering appraise new --turnover, GBP million) and pre-fill again; running "
        "costs and savings are shares of it.".format(turnover))
    warnings = [
        turnover_note,
        "MCDA scores are placeholders by option kind: a panel should score each option (HM Treasury MCDA guidance "
        "2024).",
        "The preferred way (buddying) is provisional: confirm or change it after the appraisal.",
    ]
    money_year = int(d.data.get("meta", {}).get("price_year", year))
    if money_year != year:
        warnings.append(f"The defaults' money values are judgements in {money_year} prices and the case is in {year} "
                        "prices: they are not rebased (no GDP deflator series is held); rebase them by hand.")
    if population is None:
        warnings.append("No catchment population in the store: the value of closing the gap assumes 100,000.")
    if not bool(flags.get("persistent_difficulty")):
        warnings.append(f"{code} is not in persistent difficulty in the current assessment.")
    name = str(flags.get("org_name") or code)
    problem = Problem(
        kind="persistent_difficulty" if bool(flags.get("persistent_difficulty")) else "other",
        summary=str(flags.get("summary") or ""), evidence=str(flags.get("difficulty_reason") or ""), gaps=gaps)

    options = [
        _option("bau", "bau", "Business as usual", n, d, turnover, value_per_year, stage, "bau"),
        _option("do_minimum", "do_minimum", "Do minimum: recovery plan within current resources", n, d, turnover,
                value_per_year, stage, "do_minimum"),
        _option("make", "make", "Make: internal improvement programme", n, d, turnover, value_per_year, stage,
                "alternative"),
        _option("buy", "buy_independent_sector", "Buy: independent-sector capacity under the Provider Selection "
                "Regime", n, d, turnover, value_per_year, stage, "alternative", form="independent_sector"),
    ]
    long_list = [
        LongListEntry(dimension="scope", choice="Whole organisation", status="carried_forward"),
        LongListEntry(dimension="scope", choice="Key metrics in concern only: " + ", ".join(
            g.name for g in gaps if g.variation_icon and "concern" in g.variation_icon) or "Key services",
                      status="carried_forward"),
        LongListEntry(dimension="solution", choice="Internal improvement programme (make)", status="carried_forward"),
        LongListEntry(dimension="solution", choice="Buy capacity or services (tender, outsourcing)",
                      status="carried_forward"),
        LongListEntry(dimension="solution", choice="Partner with a high performer", status="preferred"),
        LongListEntry(dimension="solution", choice="Merge with or be acquired by another trust",
                      status="carried_forward"),
        LongListEntry(dimension="delivery", choice="In house", status="carried_forward"),
        LongListEntry(dimension="delivery", choice="Independent-sector provider (Provider Selection Regime)",
                      status="carried_forward"),
        LongListEntry(dimension="implementation", choice="Phased, key metrics first", status="preferred"),
        LongListEntry(dimension="implementation", choice="All at once", status="discounted",
                      reason="The evidence says integration benefits take years (Health Foundation IAU)."),
        LongListEntry(dimension="funding", choice="Within the trust's revenue", status="carried_forward"),
        LongListEntry(dimension="funding", choice="ICB or national recovery support", status="carried_forward"),
    ]
    if not cands.empty:
        best = _partner(cands.iloc[0])
        options.append(_option("partner", "partner_buddying", f"Partner: buddying by {best.name or best.org_code}",
                               n, d, turnover, value_per_year, stage, "preferred", form="buddying", partner=best))
        long_list.append(LongListEntry(dimension="delivery", choice=f"Buddying by {best.name} ({best.org_code}): "
                                       f"{best.reason}", status="preferred"))
        near = cands[cands["travel_minutes"].fillna(np.inf) <= 60.0] if "travel_minutes" in cands else cands.iloc[0:0]
        target = _partner((near if not near.empty else cands).iloc[0])
        options.append(_option("merge", "merge", f"Merge: acquisition by {target.name or target.org_code}", n, d,
                               turnover, value_per_year, stage, "alternative", form="acquisition", partner=target))
        for _, row in cands.iloc[1:].iterrows():
            p = _partner(row)
            long_list.append(LongListEntry(dimension="delivery", choice=f"Partner {p.name} ({p.org_code}), "
                                           f"suitability {p.suitability}", status="carried_forward"))
    else:
        warnings.append("match found no candidate partners: partner and merge options are left out; add them "
                        "by hand.")
        options[2] = options[2].model_copy(update={"role": "preferred"})

    keys = {o.key for o in options}
    uncertainties = [
        UncertaintyIn(name="value_of_improvement", targets=["*.non_cash_releasing_benefit"], distribution="triangular",
                      **_tri(d, "value_of_improvement.per_point_per_100k"),
                      source=d.cite("value_of_improvement.per_point_per_100k")),
        UncertaintyIn(name="turnover_shares", targets=["*.revenue_cost"], distribution="triangular",
                      low=0.8, mode=1.0, high=1.5, source=d.cite("carter_2016") + " (judgement: running costs "
                      "overrun more often than they underrun)"),
    ]
    for _kind, key, path in (("make", "make", "kinds.make.improvement_share"),
                            ("buy", "buy_independent_sector", "kinds.buy.improvement_share"),
                            ("partner", "partner_buddying", "kinds.partner.improvement_share"),
                            ("merge", "merge", "kinds.merge.improvement_share")):
        if key in keys:
            uncertainties.append(UncertaintyIn(name=f"{key}_improvement", targets=[f"{key}.non_cash_releasing_benefit"],
                                               distribution="triangular", **_tri(d, path), source=d.cite(path)))
    if "merge" in keys:
        uncertainties.append(UncertaintyIn(name="merge_savings", targets=["merge.cash_releasing_benefit"],
                                           distribution="triangular", **_tri(d, "kinds.merge.realised_savings_share"),
                                           source=d.cite("kinds.merge.realised_savings_share")))
        uncertainties.append(UncertaintyIn(name="merge_transaction_costs", targets=["merge.transaction_cost"],
                                           distribution="triangular",
                                           **_tri(d, "kinds.merge.transaction_costs.legal_and_advisory"),
                                           source=d.cite("kinds.merge.transaction_costs.legal_and_advisory")))
    for kind, key in (("merge", "merge"), ("buy", "buy_independent_sector")):
        spread = delay_distribution(d, kind) if key in keys else None
        if spread is not None:
            source = spread.pop("source")
            uncertainties.append(UncertaintyIn(name=f"{key}_delay", targets=[f"{key}.benefit_delay"],
                                               distribution="triangular", **spread, source=source))
    names = {u.name for u in uncertainties}
    correlations = []
    if {"make_improvement", "partner_buddying_improvement"} <= names:
        correlations.append(Correlation(a="make_improvement", b="partner_buddying_improvement", rho=0.5))
    if {"merge_improvement", "merge_savings"} <= names:
        correlations.append(Correlation(a="merge_improvement", b="merge_savings", rho=0.3))
    if {"merge_delay", "merge_savings"} <= names:
        # late and small together (Fulop et al. 2002: savings targets unmet two years on, as services integrated
        # late): a judgement on the sign, -0.3 a moderate strength
        correlations.append(Correlation(a="merge_delay", b="merge_savings", rho=-0.3))

    return DecisionCase.model_validate({
        "case": {"title": f"Options for {name}", "org_code": code, "org_name": name, "price_base_year": year,
                 "vintage": "2026", "stage": stage, "years": n, "draws": 10_000, "seed": 2026,
                 "synthetic": "(synthetic)" in name,
                 "notes": f"Pre-filled by partnering appraise new on {date.today().isoformat()} from the store's "
                          "assessment (measure) and partner candidates (match); defaults from evidence "
                          "(partnering/appraise/defaults.toml). Money in GBP, real terms, "
                          f"{year} prices."},
        "problem": problem.model_dump(),
        "long_list": [e.model_dump() for e in long_list],
        "options": [o.model_dump() for o in options],
        "uncertainties": [u.model_dump(exclude_none=True) for u in uncertainties],
        "correlations": [c.model_dump() for c in correlations],
        "mcda": McdaIn(criteria=[Criterion(key=c, name=label, swing=100.0,
                                           source="HM Treasury MCDA guidance 2024: equal swings until a panel "
                                                  "sets them")
                                 for c, label, _ in CRITERIA],
                       p_best_threshold=float(d.value("appraisal.p_best_threshold"))).model_dump(),
        "route": RouteIn(turnover_gbp=turnover).model_dump(),
        "warnings": warnings,
    })


__all__ = ["prefill_case", "gap_points", "PLACEHOLDER_SCORES", "FORM_LABELS"]
