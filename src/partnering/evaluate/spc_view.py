"""The SPC view of a partnership: the treated unit's series on a Making Data Count chart, rebased at the start.

An SPC chart with the limits recalculated from the start of the partnership (a "rebase", NHS England, *Making
Data Count: strengthening your decisions*, 2019/2021, and NHSRplotthedots' ``rebase`` option) shows whether the
series after the start is a different process (a shifted mean, special-cause variation) or common-cause variation
around the old one.  It is a view for teams, not an effect estimate: no comparator, no interval; the difference of
the two means is reported as ``att`` with no interval so triangulation leaves it out.  Drawn with
:func:`partnering.measure.spc.run_spc`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.evaluate.its import is_monthly
from partnering.evaluate.panel import Panel
from partnering.evaluate.result import MethodResult

__all__ = ["spc_before_after"]


def _x(periods) -> list:
    return [f"{p}-01" for p in periods] if is_monthly(periods) else [int(p) for p in periods]


def spc_before_after(panel: Panel, unit: str | None = None, improvement_direction: str = "neutral") -> MethodResult:
    """Run SPC on ``unit`` (default: the first treated unit) with a rebase at its start.

    ``details["points"]`` is the SPC points frame (``period`` added); ``details["before"]`` / ``["after"]`` the
    process means; ``details["signals_after"]`` counts special-cause points after the start by type.
    """
    from partnering.measure.spc import run_spc

    unit = unit or panel.treated[0]
    s = panel.start_index(unit)
    e = panel.end_index(unit)
    last = len(panel.periods) if e is None else e + 1
    periods = list(panel.periods[:last])
    xs = _x(periods)
    y = panel.y[panel.index(unit), :last]
    data = pd.DataFrame({"series": unit, "x": xs, "y": y})
    res = run_spc(data, rebase=[xs[s]], improvement_direction=improvement_direction)
    pts = res.points.copy()
    pts.insert(1, "period", periods)
    before = float(np.nanmean(y[:s]))
    after = float(np.nanmean(y[s:last]))
    post = pts.iloc[s:]
    signals = post["point_type"].value_counts().to_dict()
    improving = int(signals.get("special_cause_improvement", 0))
    concern = int(signals.get("special_cause_concern", 0))
    if improving and not concern:
        words = f"{improving} point(s) after the start show special-cause improvement against the new limits"
    elif concern and not improving:
        words = f"{concern} point(s) after the start show special-cause concern"
    elif improving or concern:
        words = f"after the start {improving} point(s) show improvement and {concern} concern"
    elif signals.get("special_cause_neutral", 0):
        words = f"{int(signals['special_cause_neutral'])} point(s) after the start show special-cause variation"
    else:
        words = "after the start the series shows only common-cause variation around its new mean"
    warnings = []
    if s < 13 or last - s < 13:  # NHSRplotthedots ptd_spc_options warning_threshold: 13 points per group
        warnings.append("fewer than 13 points before or after the start: the SPC limits are not yet stable "
                        "(NHSRplotthedots warns below 13)")
    return MethodResult(
        method="spc", att=after - before, gaps=pd.DataFrame({"period": periods[s:], "gap": y[s:last] - before}),
        assumptions=["A view of the series alone: a shift after the start can have other causes (no comparator)."],
        warnings=warnings,
        details={"points": pts, "before": before, "after": after, "signals_after": signals, "summary":
                 f"Mean {before:.3g} before the start and {after:.3g} after; {words}.",
                 "icons": res.icons},
    )
