"""What money misses: multi-criteria decision analysis with swing weights, a rank-reversal check, and a combined
recommendation that says plainly when the evidence does not separate the options.

Method: the linear additive model with swing weights, as in HM Treasury's *An introductory guide to multi-criteria
decision analysis (MCDA) for government* (2024) and the DCLG *Multi-criteria analysis: a manual* (2009), chapter 6:
each option is scored 0-100 on each criterion (100 = best on the shortlist); each criterion's swing weight is the
value, out of 100, of moving from the worst to the best score on it, against the most valued swing; weights are the
swings normalised to sum to one; the overall score is the weighted sum.

Rank reversal (:func:`weight_sensitivity`): for each criterion, the weight at which the top option changes when that
weight moves and the others keep their proportions — the one-at-a-time weight sensitivity of Triantaphyllou and
Sánchez (1997), *A sensitivity analysis approach for some deterministic multi-criteria decision-making methods*,
Decision Sciences 28(1): 151-194. Solved exactly: each option's total is linear in the moving weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import ValidationError

#: the criteria issue #10 names (key, label, what a score of 100 means)
CRITERIA: tuple[tuple[str, str, str], ...] = (
    ("quality_and_safety", "Quality and safety", "the largest expected gain in quality and safety of care"),
    ("access_and_patient_choice", "Access and patient choice",
     "keeps or widens access and patients' choice of provider (the CMA's concern in NHS mergers)"),
    ("workforce_sustainability", "Workforce sustainability", "the most sustainable staffing of the services"),
    ("time_to_benefit", "Time to benefit", "benefits soonest"),
    ("deliverability", "Deliverability", "the most likely to be delivered as planned"),
    ("governance_burden", "Governance burden", "the lightest governance and transaction burden"),
    ("commissioners_views", "Commissioners' views", "the most support from commissioners (payors)"),
    ("patients_views", "Patients' views", "the most support from patients and the public"),
)
CRITERION_LABELS = {k: label for k, label, _ in CRITERIA}
#: below this probability of being best, the Monte Carlo does not separate the options (a stated judgement:
#: better than a 60:40 call; the case's [mcda] p_best_threshold overrides it)
P_BEST_THRESHOLD = 0.6
#: a weight that must move by less than this (absolute, on weights summing to 1) to change the top option makes
#: the MCDA ranking fragile (judgement: a tenth of the weight mass)
FRAGILE_WEIGHT_CHANGE = 0.10


@dataclass
class McdaResult:
    weights: pd.Series  # criterion -> normalised weight
    scores: pd.DataFrame  # option x criterion, 0-100
    totals: pd.Series  # option -> weighted score
    ranks: pd.Series  # option -> 1 = best
    sensitivity: pd.DataFrame  # one row per criterion (weight_sensitivity)

    @property
    def top(self) -> str:
        return str(self.ranks.idxmin())

    @property
    def fragile(self) -> bool:
        ch = self.sensitivity["change_needed"].abs()
        return bool((ch < FRAGILE_WEIGHT_CHANGE).any())

    def table(self) -> pd.DataFrame:
        out = self.scores.copy()
        out["weighted_score"] = self.totals
        out["rank"] = self.ranks
        out.index.name = "option"
        return out


def normalise_weights(swings: dict[str, float]) -> pd.Series:
    """Swing weights (0-100 each) normalised to sum to 1."""
    s = pd.Series({k: float(v) for k, v in swings.items()}, dtype=float)
    if s.empty:
        raise ValidationError("MCDA needs at least one criterion with a swing weight")
    if (s < 0).any() or not np.isfinite(s).all():
        raise ValidationError("MCDA swing weights must be non-negative numbers")
    if s.sum() <= 0:
        raise ValidationError("MCDA swing weights are all zero: give the most valued swing 100")
    return s / s.sum()


def _check_scores(scores: pd.DataFrame, criteria: list[str]) -> pd.DataFrame:
    missing = [c for c in criteria if c not in scores.columns]
    if missing:
        raise ValidationError(f"MCDA scores are missing for criteria {', '.join(missing)}")
    sc = scores[criteria].astype(float)
    if sc.isna().any().any():
        bad = sc.isna().stack()
        opt, crit = bad[bad].index[0]
        raise ValidationError(f"option {opt} has no MCDA score for {crit}")
    if ((sc < 0) | (sc > 100)).any().any():
        raise ValidationError("MCDA scores must be between 0 and 100")
    return sc


def weight_sensitivity(scores: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """For each criterion: the weight at which the top option changes (others keep their proportions).

    With weight ``x`` on criterion ``i`` and the rest scaled by ``(1-x)/(1-w_i)``, option ``j`` totals
    ``x*s_ji + (1-x)*R_j`` with ``R_j`` its score on the other criteria; the top option ``a`` ties with ``j`` at
    ``x = (R_a - R_j) / ((R_a - R_j) - (s_ai - s_ji))``. The nearest tie in [0, 1] is reported.
    Columns: criterion, weight, reversal_weight (NaN when no weight changes the top), change_needed, new_top.
    """
    s = scores[weights.index].to_numpy(float)
    w = weights.to_numpy(float)
    totals = s @ w
    a = int(np.argmax(totals))
    rows = []
    for i, crit in enumerate(weights.index):
        others = np.delete(np.arange(len(w)), i)
        rest = w[others].sum()
        if rest <= 0:
            r = np.zeros(len(s))
        else:
            r = s[:, others] @ (w[others] / rest)
        best_x, best_j = np.nan, None
        for j in range(len(s)):
            if j == a:
                continue
            dr = r[a] - r[j]
            ds = s[a, i] - s[j, i]
            denom = dr - ds
            if abs(denom) < 1e-12:
                continue
            x = dr / denom
            if -1e-12 <= x <= 1 + 1e-12 and abs(x - w[i]) > 1e-12:
                if np.isnan(best_x) or abs(x - w[i]) < abs(best_x - w[i]):
                    best_x, best_j = float(np.clip(x, 0.0, 1.0)), j
        rows.append({"criterion": crit, "weight": float(w[i]), "reversal_weight": best_x,
                     "change_needed": (best_x - w[i]) if best_j is not None else np.nan,
                     "new_top": str(scores.index[best_j]) if best_j is not None else None})
    return pd.DataFrame(rows)


def score_options(scores: pd.DataFrame, swings: dict[str, float]) -> McdaResult:
    """The weighted scores, ranks and rank-reversal table of options (rows of ``scores``, 0-100 per criterion)."""
    weights = normalise_weights(swings)
    sc = _check_scores(scores, list(weights.index))
    if len(sc) < 2:
        raise ValidationError("MCDA needs at least two options to compare")
    totals = sc @ weights
    ranks = totals.rank(ascending=False, method="min").astype(int)
    return McdaResult(weights=weights, scores=sc, totals=totals, ranks=ranks,
                      sensitivity=weight_sensitivity(sc, weights))


@dataclass
class Recommendation:
    separated: bool  # does the evidence separate the options?
    preferred: str | None  # the option both money and MCDA point to, when they do
    money_best: str | None
    money_p_best: float | None
    mcda_best: str | None
    threshold: float
    text: str
    reasons: list[str] = field(default_factory=list)


def recommend(p_best: pd.Series | None, mcda: McdaResult | None, names: dict[str, str] | None = None,
              threshold: float = P_BEST_THRESHOLD) -> Recommendation:
    """One combined recommendation from the Monte Carlo's probability of being best and the MCDA ranking.

    The money separates the options when one option is best in at least ``threshold`` of the draws; the MCDA does
    when its top option does not change for any weight moved by less than :data:`FRAGILE_WEIGHT_CHANGE`. An option
    is recommended only when the two agree or one is decisive and the other not against it; otherwise the text
    says plainly that the evidence does not separate the options and what would.
    """
    names = names or {}

    def nm(k):
        return names.get(k, k)

    money_best = money_p = None
    money_clear = False
    if p_best is not None and len(p_best):
        money_best = str(p_best.idxmax())
        money_p = float(p_best.max())
        money_clear = money_p >= threshold
    mcda_best = mcda.top if mcda is not None else None
    mcda_clear = mcda is not None and not mcda.fragile
    reasons = []
    if money_best is not None:
        reasons.append(f"Money: {nm(money_best)} has the highest net present social value in {money_p:.0%} of the "
                       f"simulations ({'at or above' if money_clear else 'below'} the {threshold:.0%} needed to "
                       "call it).")
    if mcda is not None:
        sens = mcda.sensitivity.dropna(subset=["change_needed"])
        if sens.empty:
            reasons.append(f"MCDA: {nm(mcda_best)} ranks first whatever weight any one criterion is given.")
        else:
            tight = sens.loc[sens["change_needed"].abs().idxmin()]
            reasons.append(f"MCDA: {nm(mcda_best)} ranks first; moving the weight on "
                           f"{CRITERION_LABELS.get(tight['criterion'], tight['criterion'])} from "
                           f"{tight['weight']:.0%} to {tight['reversal_weight']:.0%} would put "
                           f"{nm(tight['new_top'])} first.")
    if money_clear and mcda_best in (None, money_best):
        pref, sep = money_best, True
        text = f"Recommended: {nm(pref)}. " + (
            "The money and the criteria money misses point the same way." if mcda_best else
            "No MCDA was scored.")
    elif money_clear and mcda_clear:
        pref, sep = None, False
        text = (f"The evidence does not separate the options: the money favours {nm(money_best)} but the "
                f"criteria money misses favour {nm(mcda_best)}. The board must decide how much the non-monetised "
                "criteria are worth against the difference in net present social value.")
    elif money_clear:
        pref, sep = money_best, True
        text = (f"Recommended, with care: {nm(money_best)}. The money separates the options; the MCDA prefers "
                f"{nm(mcda_best)} but only narrowly (a small change of weights reverses it).")
    elif mcda_clear and mcda_best is not None:
        agree = money_best == mcda_best
        pref, sep = (mcda_best, True) if agree else (None, False)
        text = (f"Recommended, with care: {nm(mcda_best)}. The money does not separate the options, but "
                f"{nm(mcda_best)} is also the likeliest to be best on money and ranks first on the criteria "
                "money misses." if agree else
                f"The evidence does not separate the options: no option is best in {threshold:.0%} of the "
                f"simulations, and the MCDA's preference for {nm(mcda_best)} is not matched by the money. "
                "Learning more before deciding is worth up to the expected value of perfect information.")
    else:
        pref, sep = None, False
        text = ("The evidence does not separate the options: no option is best in "
                f"{threshold:.0%} of the simulations and the MCDA ranking changes with a small change of "
                "weights. Learn more (the inputs at the top of the tornado) before deciding.")
    return Recommendation(separated=sep, preferred=pref, money_best=money_best, money_p_best=money_p,
                          mcda_best=mcda_best, threshold=threshold, text=text, reasons=reasons)
