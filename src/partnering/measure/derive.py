"""Derived indicators: rates built from two stored indicators (see ``derived_from`` in the catalogue).

A derived rate is 100 x numerator / denominator for the same organisation and
month, so it is comparable between organisations of different sizes.  Months
where the denominator is zero or missing give no value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.indicators.catalogue import load_catalogue


def derived_definitions(catalogue=None) -> dict[str, tuple[str, str]]:
    cat = catalogue or load_catalogue()
    out = {}
    for code, d in cat.items():
        src = d.extra.get("derived_from")
        if src and len(src) == 2:
            out[code] = (src[0], src[1])
    return out


def add_derived(obs: pd.DataFrame, catalogue=None) -> pd.DataFrame:
    """Append derived-rate rows to an observations frame (org_code, indicator, period, numerator, denominator,
    value)."""
    parts = [obs]
    for code, (num_code, den_code) in derived_definitions(catalogue).items():
        if code in set(obs["indicator"]):
            continue
        num = obs[obs["indicator"] == num_code][["org_code", "period", "value"]]
        den = obs[obs["indicator"] == den_code][["org_code", "period", "value"]]
        if num.empty or den.empty:
            continue
        m = num.merge(den, on=["org_code", "period"], suffixes=("_n", "_d"))
        m = m[(m["value_d"] > 0) & m["value_n"].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "org_code": m["org_code"],
                    "indicator": code,
                    "period": m["period"],
                    "numerator": m["value_n"].astype(float),
                    "denominator": m["value_d"].astype(float),
                    "value": 100.0 * m["value_n"].to_numpy(dtype=float) / m["value_d"].to_numpy(dtype=float),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(float)
    return out[np.isfinite(out["value"])].reset_index(drop=True)
