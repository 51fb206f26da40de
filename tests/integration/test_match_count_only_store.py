"""A store whose only indicators are counts (nothing fair to rank organisations on) still answers plan and partner
questions — with nobody to pair, not a KeyError (seen on the web's plan and organisation pages)."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.ingest.base import Parsed, commit_parsed
from partnering.match import service

pytestmark = pytest.mark.integration


@pytest.fixture
def counts_only(sqlite_engine):
    orgs = pd.DataFrame({"org_code": ["ZA1", "ZA2"], "name": ["Trust ZA1", "Trust ZA2"], "kind": "acute_trust"})
    obs = pd.DataFrame([{"org_code": o, "indicator": "ae_attendances_total", "period": f"2024-{m:02d}",
                         "numerator": None, "denominator": None, "value": 1000 + m}
                        for o in ("ZA1", "ZA2") for m in range(1, 13)])
    commit_parsed(Parsed(kind="ae-monthly", file="seed.csv", organisations=orgs, observations=obs), "seed",
                  sqlite_engine)
    return sqlite_engine


def test_plan_and_candidates_on_a_store_of_counts(counts_only):
    plan = service.buddying_plan(counts_only)
    assert plan.pairs.empty and plan.unmatched.empty
    assert plan.to_dict()["parameters"]["min_suitability"] == service.DEFAULT_MIN_SUITABILITY
    assert service.partner_candidates(counts_only, "ZA1").empty
