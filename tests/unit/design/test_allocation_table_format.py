"""How `partnering design allocation` prints its table: heads and money whole, distance and shares as percentages
(the CSV and JSON keep the raw numbers)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from partnering.cli.design_money import _shown

pytestmark = pytest.mark.unit


def test_distance_and_shares_print_as_percentages_and_money_whole():
    raw = pd.DataFrame({"code": ["E06000009", "E06000001"], "population": [141027.0, 92348.0],
                        "deprivation": [43.47, 37.58], "target_gbp": [252705416.96, 158372282.75],
                        "actual": [185765956.0, math.nan], "distance_from_target": [-0.2214, math.nan],
                        "share_p05": [0.07212, 0.04611]})
    shown = _shown(raw)
    assert shown.iloc[0].tolist() == ["E06000009", "141,027", "43.5", "252,705,417", "185,765,956", "-22.1%",
                                      "7.21%"]
    assert shown.iloc[1]["actual"] == "" and shown.iloc[1]["distance_from_target"] == ""
    assert raw["distance_from_target"].iloc[0] == -0.2214  # the frame given is left as it was
