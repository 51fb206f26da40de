"""Variation and assurance icons (Making Data Count), per series.

* Variation icon: from the point type of the **last** point of the series (NHSRplotthedots
  ``ptd_get_icons``): ``common_cause``, ``improvement_high``/``improvement_low``,
  ``concern_high``/``concern_low``, ``neutral_high``/``neutral_low``. "high"/"low" is where the
  values went: improvement is high when higher is better, concern is low when higher is better.
* Assurance: the target against the process limits of the last row (so the latest rebase
  group): ``consistent_pass`` when every value the process will produce meets the target,
  ``consistent_fail`` when none will, ``inconsistent`` otherwise; none (missing) without a
  target or when the direction is neutral (``ptd_calculate_assurance_type``).
"""

from __future__ import annotations

import numpy as np

VARIATION_ICONS = (
    "common_cause",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
)
ASSURANCE_TYPES = ("consistent_pass", "consistent_fail", "inconsistent")


def variation_icon_code(point_type_code: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Index into :data:`VARIATION_ICONS` from the last point's point-type code (see
    ``point_types.POINT_TYPES``) and the series' improvement direction."""
    pt = np.asarray(point_type_code)
    increase = np.asarray(direction) == 1
    out = np.zeros(pt.shape, dtype=np.int8)
    out[pt == 1] = np.where(increase[pt == 1], 1, 2)  # improvement
    out[pt == 2] = np.where(increase[pt == 2], 4, 3)  # concern
    out[pt == 3] = 5
    out[pt == 4] = 6
    return out


def assurance_type(target: np.ndarray, lpl: np.ndarray, upl: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Assurance type per row (object array; ``None`` where there is none).

    ``target > upl`` fails when higher is better and passes when lower is better; ``target < lpl``
    the other way round; anything else (including missing limits) is ``inconsistent``.
    """
    target, lpl, upl = (np.asarray(a, dtype=float) for a in (target, lpl, upl))
    target, lpl, upl, direction = np.broadcast_arrays(target, lpl, upl, np.asarray(direction))
    increase = direction == 1
    with np.errstate(invalid="ignore"):
        above = target > upl
        below = ~above & (target < lpl)
    out = np.full(target.shape, "inconsistent", dtype=object)
    out[above] = np.where(increase[above], "consistent_fail", "consistent_pass")
    out[below] = np.where(increase[below], "consistent_pass", "consistent_fail")
    out[np.isnan(target) | (direction == 0)] = None
    return out
