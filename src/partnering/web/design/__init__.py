"""The system-design stage (issue #12) as pages and as ``/api/v1/design/...``: one package for the stage, one module
per tool — regional grouping (:mod:`.regions`), shared-service networks (:mod:`.network`), consolidation savings and
funding by weighted need (:mod:`.money`) — assembled here into the stage's two routers, as every stage has."""

from __future__ import annotations

from fastapi import APIRouter

from partnering.web.design import money, network, regions
from partnering.web.errors import ERROR_RESPONSES, ErrorBody

#: every design answer may also be 409: the request is well formed but has no solution (the reason names the
#: binding constraint, e.g. a balance no grouping can meet)
RESPONSES = {**ERROR_RESPONSES, 409: {"model": ErrorBody, "description": "No feasible answer (the binding constraint)"}}

pages = APIRouter(include_in_schema=False)
api = APIRouter()
for _tool in (regions, network, money):
    pages.include_router(_tool.pages)
    api.include_router(_tool.api, responses=RESPONSES)
