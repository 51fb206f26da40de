"""One verdict from several methods, effects by year, and realised against forecast benefits.

Triangulation (Lawlor, Tilling & Davey Smith 2016, "Triangulation in aetiological epidemiology", *Int J Epidemiol*
45:1866-1886): methods with different, unrelated sources of bias that agree give more confidence than any one
alone; where they disagree, that is said plainly rather than averaged away.  A method "finds an effect" when its
interval excludes zero; the verdict is that all methods with an interval agree in sign and in significance.  The
Improvement Analytics Unit's evaluations found effects taking years to appear (Health Foundation, *Improvement
Analytics Unit* reports 2017-2023), so per-year effects are kept with every evaluation.

Realised against forecast: where a partnership came from a business case (:mod:`partnering.appraise`), the case's
forecast benefits by year (HM Treasury Green Book 2022, real terms at the case's price base year, before
discounting) are set beside the realised effects by year.  The two are in different units — money against the
indicator's own units — so only what is comparable is compared: *when* the case expected benefits to arrive (its
ramp) against when an effect appears, and, where the case named this indicator's gap to close, the share of that gap
the realised effect closes (both in the indicator's units).  The Green Book asks for benefits realisation to be
tracked against the case (HM Treasury 2022, *The Green Book*, 4.4 and Annex A3 "Monitoring and evaluation";
HM Treasury 2020, *The Magenta Book*, ch. 1); nothing here turns an indicator into money.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.evaluate.result import MethodResult

__all__ = ["METHOD_LABELS", "METHOD_NAMES", "CaseForecast", "Verdict", "case_forecast", "method_label", "method_name",
           "per_year_effects",
           "realised_vs_forecast", "triangulate"]

#: the methods' names in a verdict; ``{units}`` is the panel's noun for its units (:attr:`Panel.unit_noun`:
#: "trusts" for a partnership of NHS trusts, "practices" or "units" for a generic panel)
METHOD_NAMES = {"its": "interrupted time series", "did": "difference-in-differences",
                "cs": "staggered difference-in-differences (Callaway-Sant'Anna)", "sc": "synthetic control",
                "rtm": "comparison with {units} that were as bad before", "spc": "SPC view"}


#: the methods' names as table headings (web page, report), same ``{units}`` rule
METHOD_LABELS = {"its": "Interrupted time series", "did": "Difference-in-differences",
                 "cs": "Staggered difference-in-differences (Callaway-Sant'Anna)", "sc": "Synthetic control",
                 "rtm": "Against {units} as bad before (regression to the mean)"}


def method_label(method: str, unit_noun: str = "units") -> str:
    """A method's name as a table heading, with the panel's noun for its units."""
    return METHOD_LABELS.get(method, method).replace("{units}", unit_noun or "units")


def method_name(method: str, unit_noun: str = "units") -> str:
    """A method's name in words, with the panel's noun for its units."""
    return METHOD_NAMES.get(method, method).replace("{units}", unit_noun or "units")


@dataclass
class Verdict:
    verdict: str
    agree: bool
    direction: str  # "improvement", "deterioration", "increase", "decrease", "none", "mixed"
    methods: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "agree": self.agree, "direction": self.direction, "methods": self.methods,
                "warnings": list(self.warnings)}


def _word(sign: float, improvement_direction: str | None) -> str:
    if improvement_direction in ("increase", "decrease"):
        good = (sign > 0) == (improvement_direction == "increase")
        return "improvement" if good else "deterioration"
    return "increase" if sign > 0 else "decrease"


def triangulate(results: Mapping[str, MethodResult], improvement_direction: str | None = None,
                outcome: str = "the outcome", unit_noun: str = "units") -> Verdict:
    """A plain-English verdict from the methods that have an interval (the SPC view has none); ``unit_noun`` is
    what the panel's units are called ("trusts", "practices"; :attr:`partnering.evaluate.panel.Panel.unit_noun`)."""
    def name(m: str) -> str:
        return method_name(m, unit_noun)

    rows, warnings = [], []
    for m, r in results.items():
        if r is None or not np.isfinite(r.att) or not (np.isfinite(r.ci_low) and np.isfinite(r.ci_high)):
            continue
        sig = bool(r.ci_low > 0 or r.ci_high < 0)
        rows.append({"method": m, "att": float(r.att), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high),
                     "significant": sig, "sign": int(np.sign(r.att))})
        warnings += [f"{name(m)}: {w}" for w in r.warnings]
    if not rows:
        return Verdict("No method could estimate an effect.", False, "none", [], warnings)
    sigs = [r for r in rows if r["significant"]]
    names = ", ".join(name(r["method"]) for r in rows)
    lo, hi = min(r["att"] for r in rows), max(r["att"] for r in rows)
    if len(sigs) == len(rows) and len({r["sign"] for r in rows}) == 1:
        d = _word(rows[0]["sign"], improvement_direction)
        text = (f"All {len(rows)} methods ({names}) find a {d} in {outcome}: about {lo:.3g} to {hi:.3g}, "
                "and each method's interval excludes no effect.")
        return Verdict(text, True, d, rows, warnings)
    if not sigs:
        text = (f"None of the {len(rows)} methods ({names}) finds an effect on {outcome} that is distinguishable "
                f"from chance (estimates {lo:.3g} to {hi:.3g}). This is not proof of no effect: the intervals "
                "include effects that would matter.")
        return Verdict(text, True, "none", rows, warnings)
    found = ", ".join(f"{name(r['method'])} ({_word(r['sign'], improvement_direction)} "
                      f"{r['att']:.3g})" for r in sigs)
    not_found = [name(r["method"]) for r in rows if not r["significant"]]
    text = f"The methods disagree on {outcome}: {found} find an effect"
    text += f", but {', '.join(not_found)} do not." if not_found else ", in opposite directions."
    warnings.append("the methods disagree: do not rely on any one estimate; look at the pre-period fit and the "
                    "assumptions of each")
    return Verdict(text, False, "mixed", rows, warnings)


def per_year_effects(result: MethodResult) -> pd.DataFrame:
    """Mean per-period gap by year of the post-period (ISO months or whole years): ``year, effect, periods``."""
    g = result.gaps
    if g is None or g.empty or "period" not in g:
        return pd.DataFrame(columns=["year", "effect", "periods"])
    year = g["period"].map(lambda p: int(str(p)[:4]) if p is not None else None)
    out = (g.assign(year=year).dropna(subset=["year"]).groupby("year")["gap"].agg(["mean", "count"])
           .reset_index().rename(columns={"mean": "effect", "count": "periods"}))
    out["year"] = out["year"].astype(int)
    return out


@dataclass
class CaseForecast:
    """A business case's forecast benefits by year, read for comparison with realised effects.

    ``benefits``: one row per year of the case (``year`` 0 = the price base year, ``calendar_year``), the benefit
    categories in GBP (real, ``price_base_year`` prices, undiscounted, after the option's ramp), ``qalys`` in QALYs
    and ``qalys_gbp`` at the case's value per QALY, ``total_gbp``, and ``share_of_full`` (that year's benefit as a
    share of the largest yearly benefit: the timing the case expected).  ``gaps``: the indicator gaps the case set
    out to close (:class:`partnering.appraise.case.Gap`), by indicator code.  ``problem`` says why the case could
    not be read (then ``benefits`` is empty)."""

    case_id: object
    title: str = ""
    option: str | None = None
    option_name: str = ""
    price_base_year: int | None = None
    benefits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["year", "calendar_year", "total_gbp", "share_of_full"]))
    gaps: dict[str, dict] = field(default_factory=dict)
    problem: str | None = None

    def to_dict(self) -> dict:
        rows = self.benefits.astype(object).where(self.benefits.notna(), None).to_dict("records")
        return {"case_id": self.case_id, "title": self.title, "option": self.option, "option_name": self.option_name,
                "price_base_year": self.price_base_year, "currency": "GBP",
                "prices": None if self.price_base_year is None else f"real, {self.price_base_year} prices, "
                                                                     "undiscounted",
                "benefits": rows, "gaps": self.gaps, "problem": self.problem}


#: option kinds that describe partnering, in the order one is chosen when the case marks none as preferred
_PARTNER_KINDS = ("partner", "merge")


def _forecast_option(case, form: str | None):
    """The option a partnership of ``form`` carries out: the one of that form, else the preferred, else the first
    partner or merger option."""
    opts = list(case.options)
    for pick in (lambda o: form is not None and o.form == form and o.kind in _PARTNER_KINDS,
                 lambda o: o.role == "preferred",
                 lambda o: o.kind in _PARTNER_KINDS):
        hit = next((o for o in opts if pick(o)), None)
        if hit is not None:
            return hit
    return None


def case_forecast(engine, case_id, form: str | None = None, option: str | None = None) -> CaseForecast:
    """Read business case ``case_id`` (:func:`partnering.appraise.saved.get_case`) and run it
    (:func:`partnering.appraise.run.run_case`) for the forecast benefits by year of the option the partnership
    carries out (``option``, else the one of the partnership's ``form``, else the preferred).  A case that cannot be
    read is returned with ``problem`` set rather than raised: the evaluation still stands without it."""
    from partnering.appraise.case import parse_case
    from partnering.appraise.model import BENEFIT_CATEGORIES, QALY_CATEGORY
    from partnering.appraise.run import run_case
    from partnering.appraise.saved import get_case
    from partnering.errors import PartneringError

    try:
        row = get_case(engine, int(case_id))
        case = parse_case(row["toml"], f"case {case_id}")
    except (PartneringError, ValueError) as exc:
        return CaseForecast(case_id, problem=f"business case {case_id} could not be read: {exc}")
    chosen = case.option(option) if option else _forecast_option(case, form)
    out = CaseForecast(case_id, case.case.title, None if chosen is None else chosen.key,
                       "" if chosen is None else chosen.name, case.case.price_base_year,
                       gaps={g.indicator: g.model_dump() for g in case.problem.gaps})
    if chosen is None:
        out.problem = f"business case {case_id} has no partnering option to take a forecast from"
        return out
    try:
        result = run_case(case, draws=100)  # the cash flows do not depend on the Monte Carlo draws
    except (PartneringError, ValueError) as exc:
        out.problem = f"business case {case_id} could not be run: {exc}"
        return out
    cf = result.cash_flows
    cf = cf[(cf["option"] == chosen.key) & cf["category"].isin([*BENEFIT_CATEGORIES, QALY_CATEGORY])]
    wide = cf.pivot_table(index=["year", "calendar_year"], columns="category", values="real_value",
                          aggfunc="sum").reset_index()
    for c in (*BENEFIT_CATEGORIES, QALY_CATEGORY):
        if c not in wide:
            wide[c] = 0.0
    qaly_gbp = cf[cf["category"] == QALY_CATEGORY].groupby("year")["unit_value"].first()
    wide["qalys_gbp"] = wide[QALY_CATEGORY] * wide["year"].map(qaly_gbp).fillna(0.0)
    wide["total_gbp"] = wide[list(BENEFIT_CATEGORIES)].sum(axis=1) + wide["qalys_gbp"]
    peak = float(wide["total_gbp"].max()) if len(wide) else 0.0
    wide["share_of_full"] = wide["total_gbp"] / peak if peak > 0 else np.nan
    wide.columns.name = None
    out.benefits = wide[["year", "calendar_year", *BENEFIT_CATEGORIES, QALY_CATEGORY, "qalys_gbp", "total_gbp",
                         "share_of_full"]].astype({"year": int, "calendar_year": int})
    return out


def _gap_to_close(gap: dict, improvement_direction: str | None) -> tuple[float | None, str]:
    """The change that closes the case's gap for an indicator (signed: positive means the value must rise), and
    what it is measured against (the standard, else the peers' top quartile)."""
    value = gap.get("value")
    for key, label in (("standard", "the standard"), ("top_quartile", "the peers' top quartile")):
        ref = gap.get(key)
        if value is not None and ref is not None and np.isfinite(value) and np.isfinite(ref):
            need = float(ref) - float(value)
            direction = improvement_direction or gap.get("direction")
            # a value already past the reference in the good direction leaves nothing to close
            if (direction == "increase" and need <= 0) or (direction == "decrease" and need >= 0):
                return 0.0, label
            return need, label
    return None, ""


def realised_vs_forecast(per_year: pd.DataFrame, forecast: Mapping[int, float] | None,
                         case_id: object | None = None, *, case: CaseForecast | None = None,
                         indicator: str | None = None, unit: str | None = None,
                         improvement_direction: str | None = None) -> dict:
    """Set realised effects by year against the business case's forecast.

    ``forecast`` (year -> forecast effect *in the indicator's units*) keeps the first form: a table of forecast,
    realised and ``realised_share`` by year.  ``case`` (a :class:`CaseForecast` from :func:`case_forecast`) sets the
    realised effects beside the case's forecast benefits in money: the table then holds, by calendar year, the
    realised effect (indicator units), the forecast benefit (GBP) and the share of the full benefit the case expected
    that year, and — where the case named ``indicator``'s gap — the share of that gap the realised effect closes.
    ``comparable`` and ``not_comparable`` say in words what can and cannot be set side by side.
    Without either, says there is nothing to compare with.
    """
    units = f" ({unit})" if unit else ""
    if case is not None:
        return _against_case(per_year, case, indicator, units, improvement_direction)
    if not forecast:
        return {"case": case_id, "table": None,
                "summary": "No business case is linked to this partnership, so there is no forecast to compare "
                           "realised benefits with."}
    years = sorted(set(per_year["year"]).union(int(y) for y in forecast))
    realised = dict(zip(per_year["year"], per_year["effect"]))
    table = pd.DataFrame({"year": years, "forecast": [forecast.get(y, np.nan) for y in years],
                          "realised": [realised.get(y, np.nan) for y in years]})
    table["realised_share"] = table["realised"] / table["forecast"]
    both = table.dropna(subset=["forecast", "realised"])
    summary = ("No year has both a forecast and a realised effect yet." if both.empty else
               f"Over {len(both)} year(s) with both, realised effects total {both['realised'].sum():.3g} against a "
               f"forecast of {both['forecast'].sum():.3g}.")
    return {"case": case_id, "table": table, "summary": summary}


def _against_case(per_year: pd.DataFrame, case: CaseForecast, indicator: str | None, units: str,
                  improvement_direction: str | None) -> dict:
    name = indicator or "the indicator"
    base = {"case": case.case_id, "case_title": case.title, "option": case.option, "option_name": case.option_name,
            "price_base_year": case.price_base_year, "indicator": indicator, "gap": None}
    if case.problem:
        return {**base, "table": None, "comparable": [], "not_comparable": [],
                "summary": f"This partnership came from {case.problem}; realised effects by year are shown without "
                           "a forecast to set them against."}
    realised = {int(y): float(e) for y, e in zip(per_year["year"], per_year["effect"])}
    ben = case.benefits.set_index("calendar_year") if not case.benefits.empty else case.benefits
    years = sorted(set(realised) | {int(y) for y in ben.index})
    table = pd.DataFrame({"year": years})
    table["realised_effect"] = [realised.get(y, np.nan) for y in years]
    table["forecast_benefit_gbp"] = [float(ben.loc[y, "total_gbp"]) if y in ben.index else np.nan for y in years]
    table["forecast_share_of_full"] = [float(ben.loc[y, "share_of_full"]) if y in ben.index else np.nan
                                       for y in years]
    gap_info = case.gaps.get(indicator) if indicator else None
    need, against = _gap_to_close(gap_info, improvement_direction) if gap_info else (None, "")
    if need:  # a gap left to close (None: the case names none; 0: already at the reference)
        table["share_of_gap_closed"] = table["realised_effect"] / need
    both = table.dropna(subset=["realised_effect", "forecast_benefit_gbp"])
    fc = table.dropna(subset=["forecast_benefit_gbp"])
    first_benefit = next((int(r.year) for r in fc.itertuples() if r.forecast_benefit_gbp > 0), None)
    full = next((int(r.year) for r in fc.itertuples() if r.forecast_share_of_full >= 0.999), None)
    pby = case.price_base_year
    comparable = ["timing: the share of its full yearly benefit the case expected in each year against the "
                  "realised effect in the same calendar year (do effects appear when the case said benefits "
                  "would start?)"]
    if need:
        comparable.append(f"size, in the indicator's units{units}: the case set out to close a gap of {need:+.3g} "
                          f"on {name} (to {against}); each year's realised effect is shown as a share of it")
    not_comparable = [f"money against the indicator: the forecast is in GBP (real, {pby} prices, undiscounted) and "
                      f"the realised effect in {name}'s own units{units}; the case does not say how many pounds a "
                      "point of this indicator is worth, so no realised-to-forecast ratio is given",
                      f"years: the case counts its years from its price base year {pby}; the realised effects are "
                      "by calendar year of the months evaluated"]
    if need is None:
        not_comparable.append(f"size: the case names no gap for {name}, so how much of the intended improvement "
                              "has been realised cannot be said")
    elif need == 0:
        not_comparable.append(f"size: by the case's own figures {name} was already at {against}, so it set no gap "
                              "to close on it")
    opt = f"option '{case.option_name or case.option}'"
    if ben.empty or float(case.benefits["total_gbp"].max()) <= 0:
        timing = f"The case forecasts no monetised benefit for {opt}."
    else:
        peak = float(case.benefits["total_gbp"].max())
        timing = (f"The case forecast benefits for {opt} of up to GBP {peak:,.0f} a year (real, {pby} prices), "
                  f"starting in {first_benefit}" + (f" and at full value from {full}." if full else "."))
    if both.empty:
        overlap = "No year has both a forecast benefit and a realised effect yet."
    else:
        early = both[both["forecast_share_of_full"].fillna(0) < 0.5]
        overlap = (f"{len(both)} year(s) have both a forecast and a realised effect"
                   + (f"; in {len(early)} of them the case expected less than half its full benefit, so a small "
                      "effect then is what the case expected." if not early.empty else "."))
    size = ""
    if need:
        latest = table.dropna(subset=["realised_effect"]).tail(1)
        if not latest.empty:
            share = float(latest["realised_effect"].iloc[0]) / need
            size = (f" In {int(latest['year'].iloc[0])} the realised effect closes {share:.0%} of the gap of "
                    f"{need:+.3g} the case set out to close on {name} (to {against}).")
    elif need == 0:
        size = f" The case's figures left no gap to close on {name} (already at {against})."
    summary = (f"This partnership came from business case {case.case_id} ('{case.title}'). {timing} {overlap}"
               f"{size} The forecast is money and the realised effect is in {name}'s own units{units}: they are set "
               "side by side by year, not divided one by the other.")
    gap_out = None if gap_info is None else {**{k: gap_info.get(k) for k in ("value", "period", "standard",
                                                                            "top_quartile", "unit")},
                                             "to_close": need, "against": against or None}
    return {**base, "table": table, "summary": summary, "comparable": comparable, "not_comparable": not_comparable,
            "gap": gap_out}
