"""Warm the result cache at start-up, in a background thread, so the first visitors do not wait."""

from __future__ import annotations

import logging

from partnering.web import services
from partnering.web.auth import CurrentUser
from partnering.web.organisation import org_view

log = logging.getLogger("partnering.web")


def warm(engine) -> None:
    """Compute the expensive results once (best effort: a failure is logged, never raised).

    Order: the assessment and summary table (every page needs them), the matching inputs and default plan,
    then every assessed organisation's page view (peers, partner candidates, charts, tables).
    """
    try:
        admin = CurrentUser(0, "warm@local", "warm", "admin", None)
        viewer = CurrentUser(0, "warm@local", "warm", "viewer", None)
        services.indicators(engine)
        for user in (admin, viewer):
            services.summary_table(engine, user)
        services.buddying_plan(engine, viewer, services.PlanParams())
        a = services.assessment(engine, viewer)
        for code in (a.flags["org_code"] if a is not None else []):
            org_view(engine, viewer, code)  # peers, partner candidates, charts and tables of the page
    except Exception:  # pragma: no cover - warming is best effort
        log.exception("cache warm-up failed")
