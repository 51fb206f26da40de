"""``partnering assess --org`` prints process limits as the charts and the report show them: a count's lower limit
below zero as 0, a percentage's upper limit above 100 as 100, each with a sentence naming the indicator."""

import pandas as pd
import pytest

from partnering.cli.measure import _limits_shown

pytestmark = pytest.mark.unit


def test_limits_a_quantity_cannot_take_are_shown_at_the_bound_and_said():
    icons = pd.DataFrame({
        "indicator_name": ["Attendances", "4-hour %", "Mean wait"],
        "unit": ["count", "percent", "minutes"],
        "lpl": [-7.2, 80.0, 3.0], "upl": [40.0, 104.5, 9.0],
    }, index=[10, 11, 12])
    shown, notes = _limits_shown(icons)
    assert shown.loc[10, "lpl"] == 0 and shown.loc[11, "upl"] == 100
    assert shown.loc[12, "lpl"] == 3.0 and shown.loc[12, "upl"] == 9.0  # nothing moved, nothing said
    assert list(shown.index) == [10, 11, 12]
    assert len(notes) == 2
    assert notes[0].startswith("Attendances: Lower process limit below zero (-7) shown as 0")
    assert notes[1].startswith("4-hour %: Upper process limit above 100% (104.5%) shown as 100%")
