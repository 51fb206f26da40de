"""Validation of record-level inputs: every record gets a reason (null when accepted), never silently dropped.

Reasons are checked in the order below; a record is counted under the first one it fails.  A repeated id is a
duplicate submission: the first copy (in a total order of all columns, so every engine picks the same one) is
judged on its own merits, every later copy is rejected as a duplicate.
"""

from __future__ import annotations

import ibis

from partnering.compute.schema import ADMITTED, DEPARTMENT_TYPES, DISPOSALS, TREATMENT_FUNCTIONS
from partnering.definitions.monthly import repeated_keys, with_copy_rank

DUPLICATE = "duplicate record"
UNKNOWN_ORG = "unknown organisation code"

ATTENDANCE_REASONS = (
    "missing attendance id", DUPLICATE, UNKNOWN_ORG, "unknown department type", "unknown disposal",
    "missing arrival time", "missing departure time", "departure before arrival",
    "admitted without a decision to admit time", "decision to admit outside the attendance",
)
PATHWAY_REASONS = (
    "missing pathway id", DUPLICATE, UNKNOWN_ORG, "unknown treatment function", "missing clock start",
    "clock stop before clock start",
)


def _unknown(col, codes) -> ibis.Expr:
    return col.isnull() | ~col.isin(list(codes))


def _repeated(t, key: str, con):
    """The repeated keys, made once on ``con`` (a temporary table) when given, else left to the engine's plan."""
    if con is None:
        return None
    from partnering.compute.engines import materialise

    return materialise(con, repeated_keys(t, key), f"repeated_{key}s")


def check_attendances(t, known_orgs, con=None):
    """``t`` with a ``reason`` column (one of :data:`ATTENDANCE_REASONS`, null when accepted).  ``con``: the
    engine ``t`` is on, to find repeated ids once before the query (DuckDB would otherwise find them twice)."""
    t = with_copy_rank(t, "attendance_id", ["arrival_time", "departure_time", "decision_to_admit_time",
                                            "org_code", "site_code", "department_type", "disposal"],
                       _repeated(t, "attendance_id", con))
    checks = (
        t.attendance_id.isnull(),
        t.copy_rank > 0,
        _unknown(t.org_code, known_orgs),
        _unknown(t.department_type, DEPARTMENT_TYPES),
        _unknown(t.disposal, DISPOSALS),
        t.arrival_time.isnull(),
        t.departure_time.isnull(),
        t.departure_time < t.arrival_time,
        (t.disposal == ADMITTED) & t.decision_to_admit_time.isnull(),
        (t.decision_to_admit_time < t.arrival_time) | (t.decision_to_admit_time > t.departure_time),
    )
    return t.mutate(reason=ibis.cases(*zip(checks, ATTENDANCE_REASONS), else_=ibis.null("string"))).drop("copy_rank")


def check_pathways(p, known_orgs, con=None):
    """``p`` with a ``reason`` column (one of :data:`PATHWAY_REASONS`, null when accepted); ``con`` as for
    :func:`check_attendances`."""
    p = with_copy_rank(p, "pathway_id", ["clock_start", "clock_stop", "org_code", "treatment_function"],
                       _repeated(p, "pathway_id", con))
    checks = (
        p.pathway_id.isnull(),
        p.copy_rank > 0,
        _unknown(p.org_code, known_orgs),
        _unknown(p.treatment_function, TREATMENT_FUNCTIONS),
        p.clock_start.isnull(),
        p.clock_stop < p.clock_start,
    )
    return p.mutate(reason=ibis.cases(*zip(checks, PATHWAY_REASONS), else_=ibis.null("string"))).drop("copy_rank")
