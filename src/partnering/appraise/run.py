"""Run a decision case end to end: the economic case, the Monte Carlo, switching values and tornado, the MCDA, the
combined recommendation and the approvals route — the one call the CLI, the web pages, the API and the report share.

Nothing is computed here that the modules below do not compute: :mod:`~partnering.appraise.economics`,
:mod:`~partnering.appraise.montecarlo`, :mod:`~partnering.appraise.sensitivity`, :mod:`~partnering.appraise.mcda`,
:mod:`~partnering.appraise.route`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from partnering.appraise.case import DecisionCase, shortlist_problems, to_economic_case
from partnering.appraise.mcda import P_BEST_THRESHOLD, McdaResult, Recommendation, recommend, score_options
from partnering.appraise.route import Route, approvals_route

#: the per-option figures ``partnering appraise CASE.toml --json`` prints (issue #10 s.1), in this order
RESULT_FIELDS = ("npsv", "pv_costs", "pv_benefits", "bcr", "npsv_per_public_pound", "mean", "p10", "p50", "p90",
                 "p_best")


@dataclass
class CaseResult:
    case: DecisionCase
    economic: object  # EconomicCase
    results: pd.DataFrame  # economics.evaluate, index option
    cash_flows: pd.DataFrame
    summary: pd.DataFrame  # Monte Carlo summary, index option
    evpi: float
    npsv_draws: object  # ndarray draws x options
    tornado: pd.DataFrame
    tornado_option: str
    switching: pd.DataFrame
    mcda: McdaResult | None
    recommendation: Recommendation
    routes: list[Route]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the appraisal itself warns of (e.g. an un-rebased QALY value)

    @property
    def warnings(self) -> list[str]:
        """The case's own warnings, then the appraisal's."""
        return list(self.case.warnings) + [n for n in self.notes if n not in self.case.warnings]

    @property
    def names(self) -> dict[str, str]:
        return {o.key: o.name for o in self.case.options}

    def table(self) -> pd.DataFrame:
        """One row per option: the economic case, the Monte Carlo and the MCDA."""
        out = self.results[["name", "kind", "npsv", "pv_costs", "pv_benefits", "bcr", "npsv_per_public_pound"]].join(
            self.summary[["mean", "p10", "p50", "p90", "p_best"]])
        if self.mcda is not None:
            out["mcda_score"] = self.mcda.totals
            out["mcda_rank"] = self.mcda.ranks
        return out

    def to_dict(self) -> dict:
        def num(v):
            if v is None:
                return None
            v = float(v)
            return None if not math.isfinite(v) else v

        tab = self.table()
        options = []
        for key, row in tab.iterrows():
            item = {"option": key, "name": row["name"], "kind": row["kind"]}
            item.update({f: num(row[f]) for f in RESULT_FIELDS})
            if self.mcda is not None:
                item["mcda_score"] = num(row["mcda_score"])
                item["mcda_rank"] = int(row["mcda_rank"])
            options.append(item)
        rec = self.recommendation
        return {
            "title": self.case.case.title, "org_code": self.case.case.org_code,
            "price_base_year": self.case.case.price_base_year, "vintage": self.case.case.vintage,
            "currency": "GBP", "prices": f"real, {self.case.case.price_base_year} prices",
            "draws": int(self.economic.draws), "seed": int(self.economic.seed),
            "options": options, "evpi": num(self.evpi),
            "recommendation": {"separated": rec.separated, "preferred": rec.preferred, "text": rec.text,
                               "reasons": rec.reasons, "p_best_threshold": rec.threshold},
            "shortlist_problems": self.problems, "warnings": self.warnings,
            "routes": [{"option": r.option, "approvals": [a.__dict__ for a in r.approvals]} for r in self.routes],
        }


def mcda_of(case: DecisionCase) -> McdaResult | None:
    """The MCDA of a case, or None when it has no criteria or no option has scores."""
    if not case.mcda.criteria or not any(o.scores for o in case.options):
        return None
    swings = {c.key: c.swing for c in case.mcda.criteria}
    scores = pd.DataFrame({o.key: o.scores for o in case.options}).T.reindex(columns=list(swings))
    return score_options(scores, swings)


def run_case(case: DecisionCase, *, draws: int | None = None) -> CaseResult:
    """Evaluate, simulate and weigh every option of ``case``."""
    from partnering.appraise.economics import cash_flows, evaluate, prepare
    from partnering.appraise.montecarlo import simulate
    from partnering.appraise.sensitivity import switching_values, tornado

    econ = to_economic_case(case, draws=draws)
    results = evaluate(econ)
    mc = simulate(econ)
    preferred = next((o.key for o in case.options if o.role == "preferred"), None)
    money_best = str(mc.summary["p_best"].idxmax())
    tornado_option = preferred or money_best
    mc_res = mcda_of(case)
    threshold = case.mcda.p_best_threshold or P_BEST_THRESHOLD
    rec = recommend(mc.summary["p_best"], mc_res, {o.key: o.name for o in case.options}, threshold)
    return CaseResult(case=case, economic=econ, results=results, cash_flows=cash_flows(econ), summary=mc.summary,
                      evpi=float(mc.evpi), npsv_draws=mc.npsv, tornado=tornado(econ, tornado_option),
                      tornado_option=tornado_option, switching=switching_values(econ), mcda=mc_res,
                      recommendation=rec, routes=approvals_route(case), problems=shortlist_problems(case),
                      notes=list(prepare(econ).warnings))
