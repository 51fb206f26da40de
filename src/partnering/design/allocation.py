"""Funding by weighted need: weighted capitation for GP practices or areas, distance from target, pace of change,
fairness and the uncertainty of the weights (issue #12 s.4).  Method and sources: ``docs/methods/design-allocation.md``.

Weighted capitation (the approach of the Carr-Hill formula for general practice, Carr-Hill et al. 2002, and of
NHS England's allocations to ICBs): each unit's head count is weighted by an age-sex workload index, an additional-
need index from deprivation, and cost adjustments for rurality and list turnover; the market forces factor (MFF)
scales for unavoidable cost differences. The target share of a budget is each unit's weighted, MFF-adjusted
population over the total. Actual against target gives the *distance from target*, within one year as NHS England
measures it: actual / (target share x total actual) - 1; a *pace-of-change* policy moves actual towards target each
year with a floor on growth for everyone and an optional cap. Fairness:
the concentration index of funding per weighted head against deprivation (Wagstaff, van Doorslaer & Paci 1991;
O'Donnell, van Doorslaer, Wagstaff & Lindelow 2008, ch. 8) with a bootstrap interval; uncertainty in the weights:
Monte Carlo over each weight's range gives the spread of each unit's share.

**No official weight table is held in ../shared**: the Carr-Hill formula's full coefficients (age-sex workload,
additional needs, list turnover, rurality) and the MFF values are not published there. Every default below is
therefore a stated *placeholder* (``basis = "placeholder"``) to be replaced by the user's table
(``weights=`` / ``--weights file.toml``); the inputs that are public — list sizes (NHS Digital, July 2023), age
structure by local authority (Census 2021), IMD 2025 — are read from the data.

All numeric work is vectorised numpy over units (and over Monte Carlo draws at once): 6,400 practices take well
under a second.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnering.errors import IngestError, NotFoundError, ValidationError

#: Census 2021 broad age-sex bands held by local authority (geo/areas/census2021-age-sex-ltla21.csv)
AGE_SEX_BANDS = ("younger_females", "working_age_females", "older_females", "younger_males", "working_age_males",
                 "older_males")

#: the fewest units with funding a concentration index is computed over (a rank needs a spread)
MIN_CONCENTRATION_UNITS = 3

SOURCES = {
    "carr_hill_2002": "Carr-Hill RA, Hardman G, Martin S, et al. (2002). A formula for distributing NHS revenues "
                      "based on small area use of hospital beds; and the GMS global sum (Carr-Hill) formula review: "
                      "age-sex workload, additional needs, list turnover, market forces, rurality. The full "
                      "coefficients are not held in ../shared.",
    "wagstaff_1991": "Wagstaff A, Paci P, van Doorslaer E (1991). On the measurement of inequalities in health. "
                     "Social Science & Medicine 33(5): 545-557.",
    "odonnell_2008": "O'Donnell O, van Doorslaer E, Wagstaff A, Lindelow M (2008). Analyzing health equity using "
                     "household survey data. World Bank, chapter 8 (the concentration index; the 'convenient "
                     "covariance' formula C = 2 cov(h, r) / mean(h) with weighted fractional rank r).",
    "efron_1993": "Efron B, Tibshirani RJ (1993). An introduction to the bootstrap. Chapman & Hall (percentile "
                  "intervals).",
    "iod_2025": "Ministry of Housing, Communities and Local Government (2025). English Indices of Deprivation 2025 "
                "(IMD score by LSOA 2021; local-authority summaries).",
    "census_2021": "ONS Census 2021: population by sex and broad age group, local authority 2021.",
    "nhs_digital_2023": "NHS Digital: Patients registered at a GP practice, July 2023.",
    "nhse_allocations": "NHS England: allocations to ICBs - distance from target and pace of change (a floor on "
                        "growth for every ICB, faster growth for those under target, a cap on growth). Distance "
                        "from target is measured within one year: actual / (target share x total actual) - 1 "
                        "(NHS England, Technical Guide to allocation formulae and pace of change, for the 2019/20 "
                        "to 2023/24 and the 2025/26 allocations).",
    "placeholder": "No official table is held in ../shared: a stated placeholder, to be replaced by the user's.",
    "user": "Supplied by the user.",
}


@dataclass(frozen=True)
class Weight:
    """One weight with its range (for the Monte Carlo), basis and source."""

    name: str
    value: float
    low: float
    high: float
    basis: str
    source: str
    note: str = ""


def _w(name, value, low, high, basis="placeholder", source="placeholder", note=""):
    return Weight(name, float(value), float(low), float(high), basis, source, note)


#: default weights: every one a placeholder (no official table in ../shared) - replace with your own
DEFAULT_WEIGHTS: dict[str, Weight] = {w.name: w for w in (
    # relative GP workload per head by Census 2021 broad band (working-age females = 1); placeholders with the
    # shape of the Carr-Hill age-sex curve (more workload in the very young and the old, women of working age
    # above men) but not its coefficients, which are not held here
    _w("younger_females", 0.85, 0.65, 1.05, note="Age-sex workload, 0-15 females (placeholder)."),
    _w("working_age_females", 1.00, 1.00, 1.00, note="Reference band (= 1 by definition)."),
    _w("older_females", 2.10, 1.60, 2.60, note="Age-sex workload, 65+ females (placeholder)."),
    _w("younger_males", 0.85, 0.65, 1.05, note="Age-sex workload, 0-15 males (placeholder)."),
    _w("working_age_males", 0.65, 0.50, 0.80, note="Age-sex workload, 16-64 males (placeholder)."),
    _w("older_males", 1.90, 1.40, 2.40, note="Age-sex workload, 65+ males (placeholder)."),
    _w("deprivation_elasticity", 0.25, 0.10, 0.40,
       note="Additional need = (IMD 2025 score / population-weighted mean) ** elasticity (placeholder; Carr-Hill "
            "used morbidity and mortality ratios, not IMD)."),
    _w("rurality_weight", 0.0, 0.0, 0.10,
       note="Extra cost per unit of the 'rurality' input (0..1); 0 unless supplied: no rural-urban table is held."),
    _w("list_turnover_weight", 0.0, 0.0, 0.10,
       note="Extra workload per unit of the 'list_turnover' input (share of the list joining a year); 0 unless "
            "supplied: no list-turnover data are held."),
)}


def weights_with(overrides: dict[str, float | dict] | None = None) -> dict[str, Weight]:
    """The default weights with user overrides: a number sets value, low and high; a table sets any of
    ``value``, ``low``, ``high``, ``source``. Overridden weights are marked ``basis = "user"``."""
    out = dict(DEFAULT_WEIGHTS)
    for name, v in (overrides or {}).items():
        if name not in out:
            raise ValidationError(f"allocation: no weight {name!r}; use one of {', '.join(out)}")
        if isinstance(v, dict):
            value = float(v.get("value", out[name].value))
            w = replace(out[name], value=value, low=float(v.get("low", value)), high=float(v.get("high", value)),
                        basis="user", source=str(v.get("source", "user")))
        else:
            value = float(v)
            w = replace(out[name], value=value, low=value, high=value, basis="user", source="user")
        if not (np.isfinite(w.value) and w.low <= w.value <= w.high) or w.value < 0:
            raise ValidationError(f"allocation: weight {name} needs 0 <= low <= value <= high")
        out[name] = w
    return out


# ------------------------------------------------------------------------------------------------ the core


def _need_matrix(units: pd.DataFrame, wv: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted population (draws x units) for weight values ``wv`` (each an array of draws)."""
    pop = units["population"].to_numpy(float)
    shares = units[list(AGE_SEX_BANDS)].to_numpy(float)  # units x bands, rows sum to 1
    age_w = np.stack([wv[b] for b in AGE_SEX_BANDS], axis=1)  # draws x bands
    age_index = age_w @ shares.T  # draws x units
    score = units["deprivation"].to_numpy(float)
    mean = np.average(score, weights=pop) if pop.sum() > 0 else 1.0
    rel = np.clip(score / mean, 1e-6, None)
    need = np.exp(np.log(rel)[None, :] * wv["deprivation_elasticity"][:, None])
    rural = 1.0 + wv["rurality_weight"][:, None] * units["rurality"].to_numpy(float)[None, :]
    turnover = 1.0 + wv["list_turnover_weight"][:, None] * units["list_turnover"].to_numpy(float)[None, :]
    return pop[None, :] * age_index * need * rural * turnover


def _check_units(units: pd.DataFrame) -> pd.DataFrame:
    need = ["code", "population", "deprivation", *AGE_SEX_BANDS]
    missing = [c for c in need if c not in units.columns]
    if missing:
        raise ValidationError(f"allocation: the units lack column(s) {', '.join(missing)}")
    u = units.copy()
    for col, default in (("rurality", 0.0), ("list_turnover", 0.0), ("mff", 1.0)):
        if col not in u.columns:
            u[col] = default
        u[col] = pd.to_numeric(u[col], errors="coerce").fillna(default)
    num = u[["population", "deprivation", *AGE_SEX_BANDS, "rurality", "list_turnover", "mff"]].to_numpy(float)
    if not np.all(np.isfinite(num)):
        raise ValidationError("allocation: a unit has a missing or non-numeric input")
    if (u["population"] < 0).any() or (u["mff"] <= 0).any() or (u["deprivation"] <= 0).any():
        raise ValidationError("allocation: populations must be >= 0, MFF and deprivation scores > 0")
    bands = u[list(AGE_SEX_BANDS)].to_numpy(float)
    sums = bands.sum(axis=1)
    if np.any(sums <= 0):
        raise ValidationError("allocation: a unit has no age-sex structure")
    u[list(AGE_SEX_BANDS)] = bands / sums[:, None]
    if u["code"].duplicated().any():
        raise ValidationError("allocation: unit codes are not unique")
    return u.reset_index(drop=True)


def weighted_population(units: pd.DataFrame, weights: dict[str, Weight] | None = None) -> np.ndarray:
    """Each unit's weighted population (need before the MFF) at the weights' point values."""
    u = _check_units(units)
    w = weights or DEFAULT_WEIGHTS
    return _need_matrix(u, {k: np.array([v.value]) for k, v in w.items()})[0]


def fractional_rank(order_key: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted fractional rank in (0, 1): the share of the weight ranked below a unit plus half its own weight
    (O'Donnell et al. 2008, ch. 8). Lower ``order_key`` ranks first."""
    order = np.argsort(order_key, kind="stable")
    w = weights[order] / weights.sum()
    cum = np.cumsum(w) - w / 2
    out = np.empty_like(cum)
    out[order] = cum
    return out


def concentration_index(h: np.ndarray, rank_key: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The concentration index of ``h`` against ``rank_key`` (ranked from the lowest key), weighted:
    ``C = 2 cov_w(h, r) / mean_w(h)`` (Wagstaff, Paci & van Doorslaer 1991; O'Donnell et al. 2008 eq. 8.5)."""
    h = np.asarray(h, float)
    w = np.ones_like(h) if weights is None else np.asarray(weights, float)
    r = fractional_rank(np.asarray(rank_key, float), w)
    mu = np.average(h, weights=w)
    cov = np.average((h - mu) * (r - np.average(r, weights=w)), weights=w)
    return float(2.0 * cov / mu)


def _concentration_draws(h: np.ndarray, rank_key: np.ndarray, w: np.ndarray, draws: int, seed: int,
                         chunk: int = 200) -> np.ndarray:
    """Bootstrap draws of the concentration index, all at once: units resampled with replacement as multinomial
    counts, so the ranking order is sorted once (Efron & Tibshirani 1993)."""
    order = np.argsort(rank_key, kind="stable")
    hs, ws = h[order], w[order]
    n = len(h)
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, draws, chunk):
        b = min(chunk, draws - start)
        picks = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        counts = np.bincount(picks.ravel(), minlength=b * n).reshape(b, n)  # b x n resampling counts
        ww = counts * ws[None, :]
        tot = ww.sum(axis=1, keepdims=True)
        wn = ww / tot
        r = np.cumsum(wn, axis=1) - wn / 2
        mu = (wn * hs[None, :]).sum(axis=1)
        rbar = (wn * r).sum(axis=1)
        cov = (wn * (hs[None, :] - mu[:, None]) * (r - rbar[:, None])).sum(axis=1)
        out.append(2.0 * cov / mu)
    return np.concatenate(out)


@dataclass
class AllocationResult:
    """Per-unit table and the headline measures of one allocation."""

    units: pd.DataFrame
    budget: float
    concentration_index: float | None
    concentration_interval: tuple[float, float] | None
    weights: dict[str, Weight]
    draws: int
    pace: dict[str, float] | None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        u = self.units
        out = {"units": int(len(u)), "budget_gbp": self.budget,
               "population": float(u["population"].sum()),
               "weighted_population": float(u["weighted_population"].sum())}
        if "distance_from_target" in u:
            d = u["distance_from_target"]
            out.update({"over_target_5pc": int((d > 0.05).sum()), "under_target_5pc": int((d < -0.05).sum()),
                        "largest_over": _finite(d.max()), "largest_under": _finite(d.min())})
        return out

    def to_dict(self, rows: int | None = None) -> dict[str, Any]:
        table = self.units if rows is None else self.units.head(rows)
        return {
            "summary": self.summary(),
            "concentration_index": self.concentration_index,
            "concentration_interval": list(self.concentration_interval) if self.concentration_interval else None,
            "concentration_reading": self.concentration_reading(),
            "pace_of_change": self.pace,
            "draws": self.draws,
            "weights": {k: asdict(v) for k, v in self.weights.items()},
            "sources": SOURCES,
            "warnings": self.warnings,
            "units": self.records(table),
        }

    @staticmethod
    def records(table: pd.DataFrame) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts (numpy scalars to Python, non-finite numbers to None)."""
        out = []
        for row in table.to_dict(orient="records"):
            clean = {}
            for k, v in row.items():
                if isinstance(v, np.generic):
                    v = v.item()
                clean[k] = None if isinstance(v, float) and not np.isfinite(v) else v
            out.append(clean)
        return out

    def concentration_reading(self) -> str:
        if self.concentration_index is None:
            u = self.units
            if "funding_per_weighted_head" not in u:
                return "No actual funding given: the concentration index needs it."
            n = int((u["weighted_population"] > 0).sum())
            if n < MIN_CONCENTRATION_UNITS:
                return (f"Too few units for a concentration index: funding for {n} unit{'s' if n != 1 else ''} "
                        f"with a weighted population; it needs at least {MIN_CONCENTRATION_UNITS}.")
            return "No concentration index: every unit's actual funding is 0."
        return concentration_words(self.concentration_index, self.concentration_interval, "units")


def concentration_words(index: float, interval: tuple[float, float] | None, unit_word: str = "units") -> str:
    """The concentration index in plain English, ranked most deprived first (negative = more to the deprived).
    A direction is given only when the 95% interval excludes 0 (or no interval was computed, said so); when it
    includes 0 the reading is "no clear gradient", with the figures, and no direction."""
    figures = f"concentration index {index:+.3f}"
    zero = " An index of 0 would mean funding per weighted head does not follow deprivation."
    if interval is not None:
        lo, hi = interval
        figures += f", 95% interval {lo:+.3f} to {hi:+.3f}"
        if lo <= 0 <= hi:
            return (f"No clear gradient: funding per weighted head is not clearly higher or lower in more deprived "
                    f"{unit_word} ({figures}, which includes 0)." + zero)
        figures += ", which excludes 0"
    else:
        figures += "; no interval computed"
    if abs(index) < 5e-5:
        return f"Funding per weighted head is the same in more and less deprived {unit_word} ({figures})." + zero
    return (f"Funding per weighted head is {'higher' if index < 0 else 'lower'} in more deprived {unit_word} than "
            f"in less deprived ones ({figures})." + zero)


def gbp(amount: float) -> str:
    """An amount of money as the pages write it: \u00a3 millions to one decimal from \u00a31m (\u00a3140.1m), else
    whole pounds (\u00a3800)."""
    sign = "-" if amount < 0 else ""
    a = abs(float(amount))
    return f"{sign}\u00a3{a / 1e6:,.1f}m" if a >= 1e6 else f"{sign}\u00a3{a:,.0f}"


def pace_of_change(actual: np.ndarray, target: np.ndarray, budget: float, *, floor_growth: float = 0.0,
                   max_growth: float | None = None) -> np.ndarray:
    """Next year's allocation moving towards target: every unit grows by at least ``floor_growth`` and by at most
    ``max_growth``. The rest of the budget first closes under-target units' gaps in proportion to the gap (up to
    target and the cap); what is left after every gap is closed is shared in proportion to target among the units
    below the cap, repeatedly: a unit that reaches the cap stops there and its excess goes round the others again
    (the growth cap of NHS England's pace-of-change policy for ICB allocations, with a floor for all and faster
    growth below target; its parameters are the user's). When every unit is at its cap the rest of the budget
    cannot be spent: the result then sums to less than ``budget`` (:func:`allocate` warns with the amount)."""
    actual = np.asarray(actual, float)
    target = np.asarray(target, float)
    if max_growth is not None and max_growth < floor_growth:
        raise ValidationError(f"Pace of change: the growth cap ({max_growth:.1%}) is below the floor "
                              f"({floor_growth:.1%})")
    base = actual * (1.0 + floor_growth)
    room = budget - base.sum()
    tol = 1e-9 * max(budget, 1.0)
    if room < -1e-6 * max(budget, 1.0):
        raise ValidationError(f"Pace of change: the budget is {gbp(-room)} short of the growth floor")
    cap = np.full_like(actual, np.inf) if max_growth is None else actual * (1.0 + max_growth)
    gap = np.clip(np.minimum(target, cap) - base, 0.0, None)
    total_gap = gap.sum()
    if total_gap >= room:
        return base + (gap * (room / total_gap) if total_gap > 0 else 0.0)
    out = base + gap
    left = room - total_gap
    for _ in range(len(out) + 1):  # each round caps at least one more unit, or spends everything
        free = out < cap - tol
        if left <= tol or not free.any():
            break
        key = target * free
        if key.sum() <= 0:  # the free units have no target: share by their room under the cap
            key = np.where(free, np.minimum(cap - out, 1.0), 0.0)
        new = np.minimum(out + left * key / key.sum(), cap)
        left -= (new - out).sum()
        out = new
    return out


def _distance(funding: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(funding - target) / target; NaN (not available) where the target is 0 - as it is for every unit when the
    funding totals 0, which is no verdict of "on target"."""
    funding = np.asarray(funding, float)
    return np.divide(funding - target, target, out=np.full_like(funding, np.nan), where=target > 0)


def _finite(x) -> float | None:
    """A float, or None when it is NaN or infinite (JSON has no NaN)."""
    x = float(x)
    return x if np.isfinite(x) else None


#: funding and budget more than this many times apart are flagged (a file in GBP thousands is 1,000x off, in pence
#: 100x; the 10x line is this project's review rule, a plausibility check rather than a published threshold)
FUNDING_BUDGET_RATIO_WARNED = 10.0


def allocate(units: pd.DataFrame, budget: float, *, weights: dict[str, Any] | None = None,
             actual_column: str | None = "actual", draws: int = 200, seed: int = 2026,
             floor_growth: float | None = None, max_growth: float | None = None,
             bootstrap: int = 500) -> AllocationResult:
    """Allocate ``budget`` (GBP) over ``units`` by weighted capitation.

    ``units`` has ``code``, ``population`` (list size or residents), ``deprivation`` (IMD 2025 score, > 0), the six
    :data:`AGE_SEX_BANDS` (counts or shares), and optionally ``rurality`` (0..1), ``list_turnover``, ``mff``
    (market forces factor, 1 = national) and ``actual`` (current funding, GBP). ``weights`` overrides
    :data:`DEFAULT_WEIGHTS`. With ``actual``: distance from target, the concentration index of actual funding per
    weighted head against deprivation (most deprived ranked first, so a negative index means funding leans to the
    more deprived) with a bootstrap 95% interval, and — with ``floor_growth`` — next year's pace-of-change
    allocation. ``draws`` Monte Carlo draws over each weight's range (uniform, independent) give each unit's share
    spread (5th-95th centile).
    """
    if not np.isfinite(budget) or budget <= 0:
        raise ValidationError("allocation: the budget must be a positive number of GBP")
    u = _check_units(units)
    w = weights_with(weights) if not (weights and all(isinstance(v, Weight) for v in weights.values())) else weights
    point = {k: np.array([v.value]) for k, v in w.items()}
    need = _need_matrix(u, point)[0]
    mff = u["mff"].to_numpy(float)
    share = need * mff / (need * mff).sum()
    u["weighted_population"] = need
    u["need_index"] = np.divide(need, u["population"].to_numpy(float), out=np.zeros_like(need),
                                where=u["population"].to_numpy(float) > 0)
    u["target_share"] = share
    u["target_gbp"] = budget * share
    warnings: list[str] = []
    placeholders = [k for k, v in w.items() if v.basis == "placeholder" and v.value != 0]
    if placeholders:
        warnings.append("PLACEHOLDER weights (no official table held; supply your own): " + ", ".join(placeholders))
    if draws > 0:
        rng = np.random.default_rng(seed)
        wv = {k: rng.uniform(v.low, v.high, size=draws) if v.high > v.low else np.full(draws, v.value)
              for k, v in w.items()}
        mat = _need_matrix(u, wv) * mff[None, :]
        shares = mat / mat.sum(axis=1, keepdims=True)
        lo, hi = np.percentile(shares, [5, 95], axis=0)
        u["share_p05"] = lo
        u["share_p95"] = hi
        u["share_spread"] = np.divide(hi - lo, share, out=np.zeros_like(share), where=share > 0)
    ci_point = ci = None
    pace = None
    if actual_column and actual_column in u.columns and u[actual_column].notna().all():
        actual = pd.to_numeric(u[actual_column], errors="coerce").to_numpy(float)
        if not np.all(np.isfinite(actual)) or (actual < 0).any():
            raise ValidationError("allocation: actual funding must be non-negative numbers")
        # distance from target within one year, as NHS England computes it: the target share of the SAME total as
        # the actual funding (NHS England, "Technical Guide to allocation formulae and pace of change", 2019/20 to
        # 2023/24 and 2025/26 allocations), so the verdict does not depend on next year's budget
        u["target_at_actual_gbp"] = share * actual.sum()
        u["distance_from_target"] = _distance(actual, share * actual.sum())
        total = float(actual.sum())
        if total <= 0:
            warnings.append("The current funding totals \u00a30: distance from target is not available (no unit "
                            "can be on or off a target share of nothing).")
        elif max(total / budget, budget / total) > FUNDING_BUDGET_RATIO_WARNED:
            ratio = total / budget
            times = f"{ratio:,.0f}\u00d7 the" if ratio >= 1 else f"1/{1 / ratio:,.0f} of the"
            warnings.append(f"The funding file totals {gbp(total)}, {times} budget {gbp(budget)}: "
                            "are both in pounds?")
        per_head = np.divide(actual, need, out=np.zeros_like(actual), where=need > 0)
        u["funding_per_weighted_head"] = per_head
        ok = need > 0
        rank_key = -u["deprivation"].to_numpy(float)  # most deprived first (highest IMD score)
        if ok.sum() >= MIN_CONCENTRATION_UNITS and per_head[ok].sum() > 0:
            ci_point = concentration_index(per_head[ok], rank_key[ok], need[ok])
            if bootstrap > 0:
                boots = _concentration_draws(per_head[ok], rank_key[ok], need[ok], bootstrap, seed + 1)
                ci = (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)))
        if floor_growth is not None:
            nxt = pace_of_change(actual, u["target_gbp"].to_numpy(), budget, floor_growth=floor_growth,
                                 max_growth=max_growth)
            u["next_year_gbp"] = nxt
            u["next_distance_from_target"] = _distance(nxt, share * nxt.sum())
            unspent = budget - nxt.sum()
            if unspent > 0.5:
                warnings.append(f"Pace of change: {gbp(unspent)} of the budget is unspent - every unit is at "
                                f"the growth cap of {max_growth:.1%}; raise the cap or lower the budget.")
            pace = {"floor_growth": floor_growth, "max_growth": max_growth,
                    "mean_abs_distance_before": _finite(np.abs(u["distance_from_target"]).mean()),
                    "mean_abs_distance_after": _finite(np.abs(u["next_distance_from_target"]).mean())}
    elif actual_column and actual_column in u.columns:
        warnings.append(f"Some units have no {actual_column!r} funding: distance from target not computed.")
    return AllocationResult(units=u, budget=float(budget), concentration_index=ci_point,
                            concentration_interval=ci, weights=w, draws=draws, pace=pace, warnings=warnings)


# ------------------------------------------------------------------------------------------------ current funding

#: header names read as the unit code and as the current funding (case and spaces ignored)
FUNDING_CODE_COLUMNS = ("code", "practice_code", "practice", "area_code", "ltla24_code", "org_code")
FUNDING_VALUE_COLUMNS = ("funding", "funding_gbp", "actual", "actual_gbp", "amount", "amount_gbp")
#: problems collected before reading stops (the faces list the first few and count the rest)
FUNDING_PROBLEMS_KEPT = 200


#: a comma in an amount is read only as a thousands separator: 1 to 3 digits, then groups of exactly three
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
#: why an amount with any other comma is refused (``125,50`` or ``1.234,56`` would otherwise read 100x or 1000x off)
DECIMAL_COMMA = "decimal comma? write amounts in pounds with a point for decimals, e.g. 1234.56"


def _money(text: str) -> float | None:
    """An amount in GBP, or None. A comma is accepted only as a thousands separator (1,234,567.89); any other
    comma (a decimal comma, as in 125,50 or 1.234,56) gives None rather than a figure 100 or 1000 times off."""
    t = text.strip().replace("\u00a3", "").replace("_", "").replace(" ", "")
    if t.upper().startswith("GBP"):
        t = t[3:]
    if "," in t:
        if not _THOUSANDS.fullmatch(t):
            return None
        t = t.replace(",", "")
    try:
        v = float(t)
    except ValueError:
        return None
    return v


def parse_funding(data: bytes | str, name: str, codes=None, unit_word: str = "units"
                  ) -> tuple[pd.Series, list[IngestError]]:
    """Current funding per unit from a CSV of ``code,funding`` (GBP), with every problem found.

    The header names a code column (one of :data:`FUNDING_CODE_COLUMNS`) and a funding column (one of
    :data:`FUNDING_VALUE_COLUMNS`); a two-column file without a header is read as code, funding. Amounts may
    carry a pound sign and thousands separators. Each problem is an :class:`IngestError` with the file's line,
    the column as spelled in the file and the reason: a blank or unknown code (not one of ``codes``, when given),
    a code given twice, a missing, non-numeric, negative or non-finite amount. Returns the funding by code (in
    the file's order) and the problems (empty when the file is good)."""
    import csv
    import io

    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                return pd.Series(dtype=float), [IngestError(name, "the file is not text (save it as CSV)")]
    else:
        text = data.lstrip("\ufeff")
    if not text.strip():
        return pd.Series(dtype=float), [IngestError(name, "the file is empty")]
    first = text.splitlines()[0]
    delimiter = "\t" if "\t" in first and "," not in first else ";" if ";" in first and "," not in first else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    norm = [h.lower().replace(" ", "_") for h in header]
    ci = next((i for i, h in enumerate(norm) if h in FUNDING_CODE_COLUMNS), None)
    vi = next((i for i, h in enumerate(norm) if h in FUNDING_VALUE_COLUMNS), None)
    start = 2
    if ci is None or vi is None:
        if len(header) == 2 and _money(header[1]) is not None:  # no header: code, funding
            ci, vi, start = 0, 1, 1
            header = ["column 1", "column 2"]
        else:
            return pd.Series(dtype=float), [IngestError(
                name, "the first line must name a code column and a funding column, like code,funding (found: "
                + (", ".join(h[:30] for h in header[:6]) or "nothing") + ")", row=1)]
    known = None if codes is None else set(map(str, codes))
    out: dict[str, float] = {}
    seen: dict[str, int] = {}
    problems: list[IngestError] = []
    code_col, value_col = header[ci], header[vi]
    for line, row in enumerate(rows[start - 1:], start=start):
        if len(problems) >= FUNDING_PROBLEMS_KEPT:
            break
        if not any(c.strip() for c in row):
            continue
        code = row[ci].strip().upper() if ci < len(row) else ""
        if not code:
            problems.append(IngestError(name, "no code", row=line, column=code_col))
            continue
        if known is not None and code not in known:
            problems.append(IngestError(name, f"{code[:20]} is not one of the {unit_word}", row=line,
                                        column=code_col))
            continue
        if code in seen:
            problems.append(IngestError(name, f"{code} is given again (first on line {seen[code]})", row=line,
                                        column=code_col))
            continue
        seen[code] = line
        raw = row[vi].strip() if vi < len(row) else ""
        if not raw:
            problems.append(IngestError(name, "no amount", row=line, column=value_col))
            continue
        value = _money(raw)
        if value is None and "," in raw:
            problems.append(IngestError(name, f"{raw[:20]!r}: {DECIMAL_COMMA}", row=line, column=value_col))
        elif value is None:
            problems.append(IngestError(name, f"{raw[:20]!r} is not an amount of money (write 125000 or "
                                              "\u00a3125,000)", row=line, column=value_col))
        elif not np.isfinite(value) or value < 0:
            problems.append(IngestError(name, f"{raw[:20]!r}: funding must be a finite amount of 0 or more",
                                        row=line, column=value_col))
        else:
            out[code] = value
    if not out and not problems:
        problems.append(IngestError(name, "the file has a header but no rows of funding"))
    return pd.Series(out, dtype=float, name="actual"), problems


#: problems a command line lists one by one (the rest are counted)
FUNDING_PROBLEMS_LISTED = 20


def read_funding(data: bytes | str, name: str, codes=None, unit_word: str = "units") -> pd.Series:
    """:func:`parse_funding`, raising its problems as one IngestError: a single problem as it is; several listed one
    a line (line, column and reason), the first :data:`FUNDING_PROBLEMS_LISTED` and a count of the rest."""
    funding, problems = parse_funding(data, name, codes, unit_word)
    if len(problems) == 1:
        first = problems[0]
        raise IngestError(first.file, first.reason, row=first.row, column=first.column)
    if problems:
        full = len(problems) >= FUNDING_PROBLEMS_KEPT
        lines = []
        for p in problems[:FUNDING_PROBLEMS_LISTED]:
            where = ", ".join(w for w in (f"line {p.row}" if p.row is not None else "",
                                          f"column '{p.column}'" if p.column is not None else "") if w)
            lines.append(f"  {where}: {p.reason}" if where else f"  {p.reason}")
        rest = len(problems) - len(lines)
        if rest:
            lines.append(f"  ... and {rest}{' or more' if full else ''} more problem{'s' if rest != 1 else ''}")
        count = f"{len(problems)}{' or more' if full else ''}"
        raise IngestError(name, f"{count} problems in the funding file:\n" + "\n".join(lines))
    return funding


def with_funding(units: pd.DataFrame, funding: pd.Series) -> pd.DataFrame:
    """The units that have current funding, with it as ``actual``: an allocation over the units in the file (an
    ICB's own practices, say), so that distance from target compares like with like."""
    u = units[units["code"].isin(funding.index)].copy()
    u["actual"] = u["code"].map(funding).to_numpy(float)
    u.attrs.update(units.attrs)
    return u.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ real inputs


def _shared_data(data_dir: str | Path | None) -> Path:
    """The real-data folder: ``data_dir``, else ``../shared/data`` from the settings (``PARTNERING_SHARED``)."""
    from partnering.config import shared_data

    path = Path(data_dir) if data_dir is not None else shared_data()
    if not (path / "geo").is_dir():
        raise NotFoundError(f"the shared data folder {path} (with geo/ and nhs/imd/)")
    return path


#: ONS mid-2020 single-year-of-age estimates by local authority 2021 (humaniverse/demographr), beside the Census file
MID2020_SINGLE_YEAR = "population-mid2020-ltla21-single-year-of-age.csv"


def read_census_age_sex(path: str | Path, single_year: str | Path | None = None) -> pd.DataFrame:
    """Census 2021 population by sex and broad band per local authority 2021 (``geo/areas/census2021-age-sex-
    ltla21.csv``), indexed by ``ltla21_code``, with the bands **rebuilt** as 0-15, 16-64 and 65 and over.

    Two defects in the file, both in the R script that built it (humaniverse/demographr,
    ``data-raw/age_gender_ltla21_ew.R``; geo/MANIFEST.md), from Census 2021 table TS009 whose age categories nest
    (single years inside five-year groups):

    1. ``older_females``/``older_males`` hold ages 65-74 only: a stray comma after the 65-74 term drops everyone
       75 and over, so the six bands sum to 52.23m of England's 56.49m (Hartlepool E06000001: 85,360 of 92,347).
       Fix: the older band is the remainder ``total_<sex> - younger_<sex> - working_age_<sex>``.
    2. ``younger_*`` adds "Aged under 1 year" to "Aged 4 years and under", which already holds it: the under-ones
       are counted twice (about 1% of the population), which would leave the remainder 1 point short (England
       17.4% aged 65+ against Census 2021's 18.4%). The file holds no under-one count, so it is estimated: each
       authority's share aged 0 in the ONS mid-2020 single-year estimates (``single_year``, by default the file
       beside ``path``) times the Census total of each sex, taken off ``younger_*`` before the remainder.

    Checked for England against the mid-2020 estimates: 0-15 18.5% (mid-2020 19.2%), 16-64 63.0% (62.3%), 65+
    18.45% (18.5%; ONS: Census 2021 18.4%). Without the single-year file only fix 1 is applied."""
    path = Path(path)
    age = pd.read_csv(path).set_index("ltla21_code")
    single = Path(single_year) if single_year is not None else path.with_name(MID2020_SINGLE_YEAR)
    under_one_share = pd.Series(0.0, index=age.index)
    if single.is_file():
        mid = pd.read_csv(single, usecols=["ltla21_code", "total_population", "0"]).set_index("ltla21_code")
        share = mid["0"] / mid["total_population"]
        national = mid["0"].sum() / mid["total_population"].sum()
        under_one_share = share.reindex(age.index).fillna(national)
    for sex in ("females", "males"):
        younger = age[f"younger_{sex}"] - (under_one_share * age[f"total_{sex}"]).round()
        rest = age[f"total_{sex}"] - younger - age[f"working_age_{sex}"]
        if (rest < age[f"older_{sex}"]).any() or (younger < 0).any():
            raise IngestError(str(path), f"older_{sex}: the rebuilt 65+ band is below the file's 65-74 count; "
                                         "the file is not the one the fix was written for")
        age[f"younger_{sex}"] = younger
        age[f"older_{sex}"] = rest
    return age


def _age_by_ltla21(data: Path) -> pd.DataFrame:
    age = read_census_age_sex(data / "geo/areas/census2021-age-sex-ltla21.csv")
    return age[list(AGE_SEX_BANDS)]


def practice_units(data_dir: str | Path | None = None) -> pd.DataFrame:
    """GP practices as allocation units from the public files in ../shared/data:

    * list size: NHS Digital registered patients, July 2023 (``geo/gp/gp-practices-registered-2023-07.csv``);
    * deprivation: the IMD 2025 score of the LSOA 2021 whose population-weighted centroid is nearest the practice
      (a proxy: NHS England attributes deprivation by where each patient lives, which is not public here);
    * age-sex structure: Census 2021 broad bands of the practice's local authority (2021 boundaries, from NHS
      England's practice mapping 2023-24); a practice without one takes England's structure and is counted in
      ``attrs["national_age_fallback"]`` (practice lists by age and sex are not held here).
    """
    from scipy.spatial import cKDTree

    data = _shared_data(data_dir)
    gp = pd.read_csv(data / "geo/gp/gp-practices-registered-2023-07.csv",
                     usecols=["CODE", "SUB_ICB_LOCATION_CODE", "NUMBER_OF_PATIENTS", "Latitude", "Longitude"])
    gp = gp.dropna(subset=["Latitude", "Longitude"]).drop_duplicates("CODE")
    lsoa = pd.read_csv(data / "geo/areas/lsoa21-centroid-population.csv",
                       usecols=["lsoa21_code", "ltla24_code", "lon", "lat", "icb24_code_nhs"])
    imd = pd.read_csv(data / "nhs/imd/imd2025_england_lsoa21.csv", usecols=["lsoa21_code", "IMD_score"])
    lsoa = lsoa.merge(imd, on="lsoa21_code", how="inner")
    cos = np.cos(np.radians(53.5))
    tree = cKDTree(np.c_[lsoa["lon"].to_numpy() * cos, lsoa["lat"].to_numpy()])
    _, idx = tree.query(np.c_[gp["Longitude"].to_numpy() * cos, gp["Latitude"].to_numpy()])
    near = lsoa.iloc[idx].reset_index(drop=True)
    mapping = pd.read_csv(data / "geo/gp/practice-boundary-mapping-2023-24.csv", encoding="utf-8-sig",
                          usecols=["Practice", "LAD21"]).drop_duplicates("Practice").set_index("Practice")["LAD21"]
    age = _age_by_ltla21(data)
    national = age.sum(axis=0)
    lad = gp["CODE"].map(mapping)
    bands = age.reindex(lad.to_numpy())
    fallback = bands.isna().any(axis=1).to_numpy()
    bands = bands.to_numpy(float)
    bands[fallback] = national.to_numpy(float)
    out = pd.DataFrame({
        "code": gp["CODE"].to_numpy(), "sub_icb": gp["SUB_ICB_LOCATION_CODE"].to_numpy(),
        "icb": near["icb24_code_nhs"].to_numpy(), "ltla24": near["ltla24_code"].to_numpy(),
        "lsoa21": near["lsoa21_code"].to_numpy(),
        "latitude": gp["Latitude"].to_numpy(float), "longitude": gp["Longitude"].to_numpy(float),
        "population": gp["NUMBER_OF_PATIENTS"].to_numpy(float), "deprivation": near["IMD_score"].to_numpy(float),
    })
    out[list(AGE_SEX_BANDS)] = bands / bands.sum(axis=1, keepdims=True)
    out.attrs["national_age_fallback"] = int(fallback.sum())
    return out


def area_units(data_dir: str | Path | None = None) -> pd.DataFrame:
    """England's local authorities (2024) as allocation units: Census 2021 population (aggregated from LSOAs),
    IMD 2025 average score (the local-authority summary), Census 2021 age-sex bands (2021 authorities). The four
    authorities created in 2023 (Cumberland, Westmorland and Furness, North Yorkshire, Somerset) have no 2021 row
    and no 2021-to-2024 lookup is held: they take England's structure, counted in ``attrs["national_age_fallback"]``."""
    data = _shared_data(data_dir)
    areas = pd.read_csv(data / "geo/areas/ltla24-centroid-population.csv")
    imd = pd.read_csv(data / "nhs/imd/imd2025_england_ltla24.csv", usecols=["ltla24_code", "imd_average_score"])
    areas = areas.merge(imd, on="ltla24_code", how="inner")
    age = _age_by_ltla21(data)
    direct = age.reindex(areas["ltla24_code"])
    missing = direct.isna().any(axis=1).to_numpy()
    if missing.any():
        national = age.sum(axis=0).to_numpy(float)
        vals = direct.to_numpy(float)
        vals[missing] = national
    else:
        vals = direct.to_numpy(float)
    out = pd.DataFrame({"code": areas["ltla24_code"].to_numpy(), "name": areas["ltla24_name"].to_numpy(),
                        "latitude": areas["pwc_lat"].to_numpy(float), "longitude": areas["pwc_lon"].to_numpy(float),
                        "population": areas["pop_census2021"].to_numpy(float),
                        "deprivation": areas["imd_average_score"].to_numpy(float)})
    out[list(AGE_SEX_BANDS)] = vals / vals.sum(axis=1, keepdims=True)
    out.attrs["national_age_fallback"] = int(missing.sum())
    return out


def reproduce_imd_area_scores(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Reproduce the IoD 2025 local-authority 'average score' from its public inputs: the population-weighted mean
    of the LSOA IMD scores in each authority (the IoD's published definition of the summary measure). Populations
    here are Census 2021 (the IoD used mid-year estimates), so small differences remain; returns per authority the
    published and reproduced scores and their difference."""
    data = _shared_data(data_dir)
    lsoa = pd.read_csv(data / "geo/areas/lsoa21-centroid-population.csv",
                       usecols=["lsoa21_code", "ltla24_code", "pop_census2021"])
    imd = pd.read_csv(data / "nhs/imd/imd2025_england_lsoa21.csv", usecols=["lsoa21_code", "IMD_score"])
    m = lsoa.merge(imd, on="lsoa21_code")
    m["wx"] = m["IMD_score"] * m["pop_census2021"]
    g = m.groupby("ltla24_code")[["wx", "pop_census2021"]].sum()
    rep = (g["wx"] / g["pop_census2021"]).rename("reproduced")
    pub = pd.read_csv(data / "nhs/imd/imd2025_england_ltla24.csv",
                      usecols=["ltla24_code", "imd_average_score"]).set_index("ltla24_code")["imd_average_score"]
    out = pd.concat([pub.rename("published"), rep], axis=1, join="inner")
    out["difference"] = out["reproduced"] - out["published"]
    return out.reset_index(names="ltla24_code")
