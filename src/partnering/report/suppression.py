"""NHS small-number suppression for published counts.

Rule (DESIGN.md, following NHS Digital's statistical disclosure control practice for
sub-national counts, e.g. the Hospital Episode Statistics "Analysis Guide" and NHS
England's published-data suppression guidance): sub-national counts of 1–7 are shown
as ``*``; other counts are rounded to the nearest 5; national figures are not
suppressed; zero stays zero.  Ratios built on a suppressed numerator or denominator
are withheld too, since they would reveal the count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESSED = "*"
LOW, HIGH = 1, 7  # counts in [1, 7] are suppressed
ROUND_TO = 5


def suppress_count(x: float | None, national: bool = False):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    if national:
        return x
    if x == 0:
        return 0
    if LOW <= abs(x) <= HIGH:
        return SUPPRESSED
    return int(ROUND_TO * round(float(x) / ROUND_TO))


def suppress_observations(df: pd.DataFrame, count_indicators: set[str], national_codes: set[str] = frozenset()
                          ) -> pd.DataFrame:
    """Apply the rule to an observations frame (org_code, indicator, period, numerator, denominator, value).

    Counts (``value`` of count indicators, and every numerator/denominator) are
    suppressed/rounded; a ratio whose numerator or denominator is suppressed is
    withheld (``*``); ratios are otherwise left as published.
    """
    out = df.copy().astype({"numerator": object, "denominator": object, "value": object})
    national = out["org_code"].isin(national_codes).to_numpy()
    for col in ("numerator", "denominator"):
        out[col] = [suppress_count(v, n) for v, n in zip(df[col], national)]
    is_count = out["indicator"].isin(count_indicators).to_numpy()
    vals = []
    for v, cnt, n, num, den in zip(df["value"], is_count, national, out["numerator"], out["denominator"]):
        if cnt:
            vals.append(suppress_count(v, n))
        elif num == SUPPRESSED or den == SUPPRESSED:
            vals.append(SUPPRESSED)
        else:
            vals.append(v)
    out["value"] = vals
    return out
