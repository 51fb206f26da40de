"""Icons and assurance, and the explanation table."""

from __future__ import annotations

import numpy as np
import pytest

from partnering.measure.spc import point_types as pt
from partnering.measure.spc.explain import explanation_table
from partnering.measure.spc.icons import VARIATION_ICONS, assurance_type, variation_icon_code

pytestmark = pytest.mark.unit


def test_variation_icons_by_direction():
    codes = np.array([0, 1, 2, 1, 2, 3, 4])
    direction = np.array([1, 1, 1, -1, -1, 0, 0])
    got = [VARIATION_ICONS[c] for c in variation_icon_code(codes, direction)]
    assert got == [
        "common_cause",
        "improvement_high",
        "concern_low",
        "improvement_low",
        "concern_high",
        "neutral_high",
        "neutral_low",
    ]


def test_assurance_missing_limits_is_inconsistent():
    assert assurance_type(5.0, np.nan, np.nan, 1).item() == "inconsistent"
    assert assurance_type(np.nan, 0.0, 1.0, 1).item() is None


def test_every_special_cause_has_an_explanation_in_plain_english():
    table = explanation_table()
    n_types = len(pt.POINT_TYPES)
    for code in range(1, len(pt.CODE_SIGN)):
        for ptype in range(1, n_types):
            text = table[code * n_types + ptype]
            assert text and "sigma" in text or "run" in text or "points" in text
    assert all(t == "" for t in table[:n_types])
