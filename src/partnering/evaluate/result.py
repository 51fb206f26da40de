"""What every evaluation method returns, so that methods run side by side and triangulate into one verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class MethodResult:
    """One method's estimate of the effect of the treatment on the outcome.

    ``att`` is the average effect on the treated over the post-period, in the outcome's own units, with its interval
    (``ci_low``, ``ci_high`` at ``level``); ``p_value`` where the method has one; ``gaps`` the per-period effect
    (period, gap, and where the method gives them per-period ``low``/``high``); ``weights`` the donor weights
    (synthetic control) or comparators used; ``rmspe_pre`` the pre-period fit; ``assumptions`` in plain English;
    ``warnings`` (short pre-period, poor fit, failed pre-trend test ...); ``details`` anything method-specific
    (event-study coefficients, placebo distribution, group-time effects).
    """

    method: str
    att: float
    ci_low: float = np.nan
    ci_high: float = np.nan
    level: float = 0.95
    p_value: float | None = None
    gaps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["period", "gap"]))
    weights: pd.DataFrame | None = None
    rmspe_pre: float | None = None
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready (NaN as None): what `partnering evaluate ... --json` prints per method."""
        def num(v):
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

        return {
            "method": self.method,
            "att": num(self.att),
            "ci_low": num(self.ci_low),
            "ci_high": num(self.ci_high),
            "level": self.level,
            "p_value": num(self.p_value),
            "gaps": [{k: (num(v) if k != "period" else v) for k, v in r.items()}
                     for r in self.gaps.to_dict("records")],
            "weights": None if self.weights is None else self.weights.to_dict("records"),
            "rmspe": num(self.rmspe_pre),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }
