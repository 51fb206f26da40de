"""Making Data Count statistical process control (SPC), vectorised over many series.

Semantics of NHSRplotthedots 0.2.2 (the reference R implementation of NHS England's Making
Data Count): validate options -> limits -> rules -> point types -> icons. See
docs/methods/spc.md.
"""

from partnering.measure.spc.engine import SHORT_GROUP_THRESHOLD, SpcResult, run_spc
from partnering.measure.spc.icons import ASSURANCE_TYPES, VARIATION_ICONS, assurance_type
from partnering.measure.spc.options import SpcSettings
from partnering.measure.spc.point_types import POINT_TYPES, special_cause_labels
from partnering.measure.spc.rules import (
    part_of_seven_trend,
    part_of_two_in_three,
    seven_point_one_side_mean,
    seven_point_trend,
    two_in_three,
)

__all__ = [
    "ASSURANCE_TYPES",
    "POINT_TYPES",
    "SHORT_GROUP_THRESHOLD",
    "VARIATION_ICONS",
    "SpcResult",
    "SpcSettings",
    "assurance_type",
    "part_of_seven_trend",
    "part_of_two_in_three",
    "run_spc",
    "seven_point_one_side_mean",
    "seven_point_trend",
    "special_cause_labels",
    "two_in_three",
]
