"""One verdict from several methods, effects by year, and realised against forecast benefits.

Triangulation (Lawlor, Tilling & Davey Smith 2016, "Triangulation in aetiological epidemiology", *Int J Epidemiol*
45:1866-1886): methods with different, unrelated sources of bias that agree give more confidence than any one
alone; where they disagree, that is said plainly rather than averaged away.  A method "finds an effect" when its
interval excludes zero; the verdict is that all methods with an interval agree in sign and in significance.  The
Improvement Analytics Unit's evaluations found effects taking years to appear (Health Foundation, *Improvement
Analytics Unit* reports 2017-2023), so per-year effects are kept with every evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.evaluate.result import MethodResult

__all__ = ["METHOD_NAMES", "Verdict", "per_year_effects", "realised_vs_forecast", "triangulate"]

METHOD_NAMES = {"its": "interrupted time series", "did": "difference-in-differences",
                "cs": "staggered difference-in-differences (Callaway-Sant'Anna)", "sc": "synthetic control",
                "rtm": "comparison with trusts that were as bad before", "spc": "SPC view"}


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
                outcome: str = "the outcome") -> Verdict:
    """A plain-English verdict from the methods that have an interval (the SPC view has none)."""
    rows, warnings = [], []
    for name, r in results.items():
        if r is None or not np.isfinite(r.att) or not (np.isfinite(r.ci_low) and np.isfinite(r.ci_high)):
            continue
        sig = bool(r.ci_low > 0 or r.ci_high < 0)
        rows.append({"method": name, "att": float(r.att), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high),
                     "significant": sig, "sign": int(np.sign(r.att))})
        warnings += [f"{METHOD_NAMES.get(name, name)}: {w}" for w in r.warnings]
    if not rows:
        return Verdict("No method could estimate an effect.", False, "none", [], warnings)
    sigs = [r for r in rows if r["significant"]]
    names = ", ".join(METHOD_NAMES.get(r["method"], r["method"]) for r in rows)
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
    found = ", ".join(f"{METHOD_NAMES.get(r['method'], r['method'])} ({_word(r['sign'], improvement_direction)} "
                      f"{r['att']:.3g})" for r in sigs)
    not_found = [METHOD_NAMES.get(r["method"], r["method"]) for r in rows if not r["significant"]]
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


def realised_vs_forecast(per_year: pd.DataFrame, forecast: Mapping[int, float] | None,
                         case_id: object | None = None) -> dict:
    """Set realised effects by year against the business case's forecast benefit in the same units.

    Without a linked case (``forecast`` None) says so: there is nothing to compare with.
    """
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
