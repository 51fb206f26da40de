"""Design stage: the money tool's API (issue #12 s.3-4): consolidation savings and funding by weighted need.

Thin faces over :mod:`partnering.design.consolidation` and :mod:`partnering.design.allocation`: parse, call, return.
Pages (``/design/money``, with the allocation map) are not written yet."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from partnering.web.deps import api_user

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"])


class ConsolidationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trusts: list[str] = Field(min_length=2, examples=[["RAA", "RBB"]])
    turnover_gbp: dict[str, float] = Field(default_factory=dict,
                                           description="Operating income per trust from its accounts (GBP); "
                                                       "missing trusts take a stated placeholder")
    form: Literal["merger", "group"] = "merger"
    parameters: dict[str, float] = Field(default_factory=dict)


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: Literal["practices", "areas"] = "areas"
    budget_gbp: float = Field(gt=0)
    actual_gbp: dict[str, float] = Field(default_factory=dict, description="Current funding per unit code")
    weights: dict[str, Any] = Field(default_factory=dict)
    floor_growth: float | None = None
    max_growth: float | None = None
    draws: int = Field(200, ge=0, le=2000)
    rows: int = Field(50, ge=0, le=10_000)


@api.post("/design/money/consolidation")
def api_consolidation(body: ConsolidationIn, user=Depends(api_user)) -> dict:
    """Recurring savings and transition costs of a proposed grouping (Carter 2016; Monitor; Fulop et al. 2002)."""
    from partnering.design.consolidation import consolidation_savings

    return consolidation_savings(body.trusts, body.turnover_gbp, form=body.form,
                                 parameters=body.parameters).to_dict()


@api.post("/design/money/allocation")
def api_allocation(body: AllocationIn, user=Depends(api_user)) -> dict:
    """Weighted-capitation targets, distance from target, pace of change, concentration index and share spread."""
    from partnering.design.allocation import allocate, area_units, practice_units

    frame = practice_units() if body.units == "practices" else area_units()
    if body.actual_gbp:
        frame["actual"] = frame["code"].map(body.actual_gbp)
    result = allocate(frame, body.budget_gbp, weights=body.weights or None, draws=body.draws,
                      floor_growth=body.floor_growth, max_growth=body.max_growth)
    return result.to_dict(rows=body.rows)
