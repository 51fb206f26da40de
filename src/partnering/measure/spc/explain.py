"""Plain-English explanations of why a point was flagged (shown to users in tooltips).

One sentence pair per (rule, point type): what the rule saw, then what it means for this
measure. Built from a small table and picked by integer codes, so it costs the same for ten
points or ten million.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.measure.spc import point_types as pt

_RULE_TEXT = {
    pt.COMMON_CAUSE: "",
    pt.ABOVE_UCL: (
        "This value is above the upper process limit (three sigma above the mean). With only "
        "common-cause variation a value beyond a limit is rare (about 3 in 1,000), so something has likely changed."
    ),
    pt.BELOW_LCL: (
        "This value is below the lower process limit (three sigma below the mean). With only "
        "common-cause variation a value beyond a limit is rare (about 3 in 1,000), so something has likely changed."
    ),
    pt.TREND_UP: (
        "This point is part of a run of {n} points in a row, each higher than the one before "
        "(a {n}-point trend): unlikely to happen by chance."
    ),
    pt.TREND_DOWN: (
        "This point is part of a run of {n} points in a row, each lower than the one before "
        "(a {n}-point trend): unlikely to happen by chance."
    ),
    pt.TWO_IN_THREE_ABOVE: (
        "Two of three points in a row are above the mean and close to the upper process limit "
        "(beyond the upper 2-sigma line){outside}; this point is one of them."
    ),
    pt.TWO_IN_THREE_BELOW: (
        "Two of three points in a row are below the mean and close to the lower process limit "
        "(beyond the lower 2-sigma line){outside}; this point is one of them."
    ),
    pt.SHIFT_ABOVE: (
        "This point is part of a run of 7 or more points in a row above the mean (a shift): "
        "unlikely to happen by chance."
    ),
    pt.SHIFT_BELOW: (
        "This point is part of a run of 7 or more points in a row below the mean (a shift): "
        "unlikely to happen by chance."
    ),
}


def _meaning(sign: int, ptype: int) -> str:
    """What the signal means for this measure, from its direction and the point type."""
    went = "up" if sign > 0 else "down"
    better = "Higher" if (sign > 0) == (ptype == 1) else "Lower"
    if ptype == 1:
        return f" {better} is better for this measure, so this is special-cause improvement."
    if ptype == 2:
        return f" {better} is better for this measure, so this is special-cause concern."
    if ptype in (3, 4):
        return f" The change is {went}wards; neither direction is marked as better (neutral)."
    return ""


def explanation_table(trend_points: int = 7, counts_outside: bool = False) -> list[str]:
    """All explanation texts, indexed by ``special_cause_code * 5 + point_type_code``."""
    outside = " (points beyond the limits count too)" if counts_outside else ""
    table = []
    for code in range(len(pt.CODE_SIGN)):
        base = _RULE_TEXT[code].format(n=trend_points, outside=outside)
        for ptype in range(len(pt.POINT_TYPES)):
            table.append("" if code == pt.COMMON_CAUSE else base + _meaning(int(pt.CODE_SIGN[code]), ptype))
    return table


def explanations(
    special_cause: np.ndarray, point_type_code: np.ndarray, trend_points: int = 7, counts_outside: bool = False
) -> pd.Categorical:
    """Explanation per point ('' for common cause), as a categorical of the table's texts."""
    table = explanation_table(trend_points, counts_outside)
    idx = np.asarray(special_cause, dtype=np.int16) * len(pt.POINT_TYPES) + np.asarray(point_type_code)
    # categories must be unique: several (rule, type) pairs share the empty text
    uniq = np.unique(np.array(table, dtype=object))
    remap = np.searchsorted(uniq, np.array(table, dtype=object))
    return pd.Categorical.from_codes(remap[idx], categories=list(uniq))
