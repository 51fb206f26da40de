"""The candidate partners of Hull University Teaching Hospitals (RWA) respect the buddying plan's travel limit.

Issue #14.5: on the real data Hull was offered Northumbria Healthcare (RTF), about 140 minutes away by the drive-time
model (160 km straight line), while the plan stops at 90 minutes. Candidates now take the plan's default limit."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.shared]


def test_hull_candidates_within_the_plans_limit(real_store):
    from partnering.match.candidates import METHOD_KINDS
    from partnering.match.service import DEFAULT_MAX_MINUTES, match_inputs, partner_candidates

    inp = match_inputs(real_store)
    limited = partner_candidates(real_store, "RWA", k=200, inputs=inp, max_minutes=DEFAULT_MAX_MINUTES)
    unlimited = partner_candidates(real_store, "RWA", k=200, inputs=inp)
    assert len(limited) and len(limited) < len(unlimited)
    nhs = limited[~limited["supporter_kind"].isin(METHOD_KINDS)]
    assert (nhs["travel_minutes"] <= 90).all()
    far = unlimited.set_index("supporter").loc["RTF"]
    assert far["travel_minutes"] > 130  # Northumbria: about 141 minutes from Hull by the fitted drive-time model
    assert "RTF" not in set(limited["supporter"])
    assert limited["rank"].tolist() == list(range(1, len(limited) + 1))
