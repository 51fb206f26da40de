"""A percentage beside rounded counts is recomputed from them, so the rounding cannot be undone (tester's defect:
9/79 published as 10/80 with the exact 11.39240506329114 still beside it)."""

import numpy as np
import pandas as pd
import pytest

from partnering.report.suppression import (
    AS_PUBLISHED,
    DERIVED_SUPPRESSION,
    RULE_COLUMN,
    SMALL_NUMBER_SUPPRESSION,
    SUPPRESSED,
    apply_publication_rules,
    recompute_ratio,
    suppress_observations,
)

pytestmark = pytest.mark.unit


def _frame():
    return pd.DataFrame({"org_code": ["R1A", "R1A", "R1A", "R1A"],
                         "indicator": ["ae_12h_from_arrival_pct", "ae_4h_pct_all", "ae_4h_pct_all", "my_rate"],
                         "period": ["2025-01"] * 4,
                         "numerator": [9.0, 9.0, 20.0, 9.0], "denominator": [79.0, 79.0, 80.0, 79.0],
                         "value": [9 / 79 * 100, 9 / 79 * 100, 25.0, 9 / 79 * 1000]})


def test_derived_percentage_is_recomputed_from_rounded_figures():
    out = apply_publication_rules(_frame(), derived=[True, False, False, False], count_rows=[False] * 4)
    assert out[RULE_COLUMN].tolist() == [DERIVED_SUPPRESSION, AS_PUBLISHED, AS_PUBLISHED, SMALL_NUMBER_SUPPRESSION]
    assert out.loc[0, ["numerator", "denominator"]].tolist() == [10, 80]
    assert out.loc[0, "value"] == pytest.approx(12.5)            # 10/80, not the 11.392... only 9/79 gives
    assert out.loc[1, "value"] == pytest.approx(9 / 79 * 100)    # official published figure stays as published
    assert out.loc[1, ["numerator", "denominator"]].tolist() == [9.0, 79.0]
    assert out.loc[3, "value"] == pytest.approx(10 / 80 * 1000)  # a rate per 1,000 keeps its scale


def test_unpublished_percentage_is_recomputed_and_unrounded_one_kept():
    out = apply_publication_rules(_frame(), published=[True, False, False, True], count_rows=[False] * 4)
    assert out.loc[1, RULE_COLUMN] == SMALL_NUMBER_SUPPRESSION
    assert out.loc[1, "value"] == pytest.approx(12.5)
    assert out.loc[2, "value"] == 25.0  # 20/80: nothing rounded, nothing to recompute


def test_suppress_observations_recomputes_too():
    out = suppress_observations(_frame(), count_indicators=set())
    assert out["value"].tolist()[0] == pytest.approx(12.5)
    assert out["value"].tolist()[3] == pytest.approx(125.0)


def test_recompute_ratio_edges():
    # not a ratio of its figures that can be recomputed: withheld (left alone it was a leak the review found)
    assert recompute_ratio(42.0, 9, 79, 10, 80) == SUPPRESSED
    # a percentage given to one decimal place is still recognised and recomputed (11.4 beside 9/79 singled out 9)
    assert recompute_ratio(11.4, 9, 79, 10, 80) == pytest.approx(12.5)
    # the complement (% over 4 hours beside the count within): 70/79 within, 11.39% over -> from 70/80
    assert recompute_ratio(100 * 9 / 79, 70, 79, 70, 80) == pytest.approx(12.5)
    assert recompute_ratio(11.39, 70, 79, 70, 80) == pytest.approx(12.5)
    # a breach percentage given to two decimals that matches neither ratio is withheld
    assert recompute_ratio(11.47, 70, 79, 70, 80) == SUPPRESSED
    assert recompute_ratio(0.0, 0, 79, 0, 80) == 0.0              # zero stays zero
    assert recompute_ratio(np.nan, 9, 79, 10, 80) is not None     # missing value left missing
    assert np.isnan(recompute_ratio(np.nan, 9, 79, 10, 80))
    assert recompute_ratio(11.0, 9, 79, SUPPRESSED, 80) == 11.0   # withheld by the caller, not here
    out = apply_publication_rules(pd.DataFrame({"org_code": ["R1A"], "indicator": ["x"], "period": ["2025-01"],
                                                "numerator": [3.0], "denominator": [79.0],
                                                "value": [3 / 79 * 100]}), count_rows=[False])
    assert out.loc[0, "value"] == SUPPRESSED
