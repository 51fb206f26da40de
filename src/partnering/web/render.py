"""Shared page rendering: a template in the layout with who is signed in, the CSRF token and the CSP nonce;
and the shaping of frames into template rows.

Every stage router renders through :func:`render`; error pages too (:mod:`partnering.web.errors`).
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pandas as pd
from fastapi import Request

from partnering.web import services
from partnering.web.deps import CSRF_FIELD, csrf_token
from partnering.web.templating import templates


def records(df: pd.DataFrame | None) -> list[dict]:
    """Rows of ``df`` as dicts for a template, missing values as ``None`` (an empty list for no frame)."""
    if df is None or df.empty:
        return []
    return df.astype(object).where(df.notna(), None).to_dict("records")


def render(request: Request, template: str, status_code: int = 200, **ctx):
    """``template`` (a path under ``web/templates``, e.g. ``"system/system.html"``) as an HTML response."""
    user = getattr(request.state, "user", None)
    if user == "unset":
        user = None
    try:
        synthetic = services.has_synthetic(request.app.state.engine)
    except Exception:  # a broken store must not stop an error page from rendering
        synthetic = False
    try:  # per family of data, the latest month loaded (cached per data version; a broken store shows none)
        freshness = freshness_items(services.freshness(request.app.state.engine, user)) if user else []
    except Exception:
        freshness = []
    nonce = getattr(request.state, "csp_nonce", None) or secrets.token_urlsafe(16)
    base = {
        "request": request, "user": user, "csrf_token": csrf_token(request), "csrf_field": CSRF_FIELD,
        "synthetic": synthetic, "path": request.url.path, "cspNonce": nonce,
        "signin_next": quote(request.url.path),
        "freshness": freshness,
    }
    base.update(ctx)
    return templates().TemplateResponse(request, template, base, status_code=status_code)


def freshness_items(freshness: pd.DataFrame) -> list[dict]:
    """Each family of data as the layout's freshness line shows it: name, latest month, stale or not, and the
    months it is behind (:func:`partnering.measure.freshness.data_freshness`); freshest families first."""
    if freshness is None or freshness.empty:
        return []
    rows = freshness.sort_values(["stale", "months_behind", "family"])
    return [{"family": r.family, "name": r.family_name, "latest": r.latest_period, "stale": bool(r.stale),
             "months_behind": int(r.months_behind)} for r in rows.itertuples()]


#: organisation kinds in the users' words (headings, filters, map titles)
KIND_LABELS = {
    "acute_trust": "Acute trusts", "specialist_trust": "Specialist trusts",
    "mental_health_trust": "Mental health trusts", "community_trust": "Community trusts",
    "ambulance_trust": "Ambulance trusts", "trust": "Trusts (kind unknown)", "icb": "Integrated care boards",
    "region": "NHS regions", "gp_practice": "GP practices", "independent_provider": "Independent providers",
    "university": "Universities", "technology_partner": "Technology partners", "consultancy": "Consultancies",
    "improvement_partner": "Improvement partners", "other_provider": "Other providers",
}
