"""Monthly indicators from validated records: one Ibis expression per record type, for any engine.

The portable subset (checked by tests on DuckDB and Spark): integer arithmetic on UTC epoch seconds, CASE WHEN,
IN lists, SUM of 0/1, GROUP BY, an inner join on a small census table, and one ROW_NUMBER window with an explicit
partition, a total order (every column, nulls replaced by sentinels so that engines that sort nulls first and
those that sort them last agree) and no frame (a ranking function's frame is fixed by the SQL standard).
"""

from __future__ import annotations

import ibis

from partnering.definitions.measures import ATTENDANCE_MEASURES, PATHWAY_MEASURES
from partnering.definitions.periods import yyyymm

#: group columns of the monthly result; ``reason`` is null for accepted records
KEYS = ("reason", "org_code", "period")


def count_of(condition):
    """How many records meet ``condition`` (null counts as not met), as an int64 sum."""
    return ibis.ifelse(condition, 1, 0).cast("int64").sum()


def _sums(t, measures) -> dict:
    out = {"records": t.count().cast("int64")}
    for m in measures:
        out[f"{m.code}__n"] = count_of(m.numerator(t))
        if m.denominator is not None:
            out[f"{m.code}__d"] = count_of(m.denominator(t))
    return out


def first_copy_rank(t, key: str, order: list[str]):
    """0 for the first record of each ``key`` in a total, engine-independent order; 1, 2 ... for later copies."""
    sentinel = {"int64": -1, "string": ""}
    ordered = [t[c].fill_null(sentinel["string" if t[c].type().is_string() else "int64"]) for c in order]
    return ibis.row_number().over(group_by=t[key], order_by=ordered)


def attendance_monthly(checked, measures=ATTENDANCE_MEASURES):
    """``checked``: attendances with a ``reason`` column (null = accepted).  Per reason, organisation and month of
    arrival: the record count and each measure's numerator and denominator (only meaningful where reason is null)."""
    t = checked.mutate(period=yyyymm(checked.arrival_time))
    return t.group_by(list(KEYS)).aggregate(**_sums(t, measures))


def pathway_monthly(checked, census):
    """``checked``: pathways with ``reason``; ``census``: a table of ``period, census_day`` (UTC epoch seconds of
    each month's last day).  A pathway is waiting at a census when its clock started on or before the census day
    and had not stopped by it [RTT].  Also returns every pathway counted by reason (null: accepted)."""
    accepted = checked.filter(checked.reason.isnull())
    waiting = accepted.join(
        census,
        (accepted.clock_start <= census.census_day)
        & (accepted.clock_stop.isnull() | (accepted.clock_stop > census.census_day)),
    )
    monthly = waiting.group_by(list(KEYS)).aggregate(**_sums(waiting, PATHWAY_MEASURES))
    return monthly, checked.group_by("reason").aggregate(records=checked.count().cast("int64"))
