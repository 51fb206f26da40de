"""Regression snapshots of the assessment and the buddying plan on the real NHS data (issue #8, section 5).

The real A&E, RTT, ODS and context files are loaded once per session (``real_store`` in
tests/integration/conftest.py, as test_assess_real.py and test_match_service.py use them). A change of method that
moves a flag or a pair fails here with the rows that changed; if the change is intended, rerun with
``--update-snapshots`` and commit the CSV diff in tests/snapshots/ with it (tests/snapshot.py).
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.shared]

#: What the assessment says of each organisation: its segment in its latest segmented month, and the two flags,
#: with the counts behind them.
FLAG_COLUMNS = ["org_code", "segment_period", "segment", "avg_score", "months_segment_4", "months_segment_1",
                "key_metrics_in_concern", "persistent_difficulty", "track_record"]
#: Who supports whom in the plan, how well suited and how far apart.
PAIR_COLUMNS = ["recipient", "role", "supporter", "score", "travel_minutes", "required"]


@pytest.fixture(scope="module")
def real_assessment(real_store):
    from partnering.measure.assess import assess

    return assess(real_store)


def test_assessment_flags_per_organisation(real_assessment, regression_snapshot):
    flags = real_assessment.flags
    assert len(flags) > 100 and flags["org_code"].is_unique  # acute trusts, one row each
    regression_snapshot(flags.reindex(columns=FLAG_COLUMNS), "real_assessment_flags", key=["org_code"],
                        float_format="%.6g")


def test_buddying_plan_pairs_with_default_parameters(real_store, real_assessment, regression_snapshot):
    from partnering.match.service import buddying_plan

    plan = buddying_plan(real_store, assessment=real_assessment)
    pairs = plan.pairs
    assert len(pairs) > 0 and not pairs.duplicated(["recipient", "role"]).any()
    regression_snapshot(pairs.reindex(columns=PAIR_COLUMNS), "real_buddying_plan_pairs", key=["recipient", "role"],
                        float_format="%.6g")
