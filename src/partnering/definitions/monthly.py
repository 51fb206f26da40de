"""Monthly indicators from validated records: one Ibis expression per record type, for any engine.

The portable subset (checked by tests on DuckDB and Spark): integer arithmetic on UTC epoch seconds, CASE WHEN,
IN lists, SUM of 0/1, GROUP BY ... HAVING, semi and anti joins on a key, UNION ALL, a left join with a small
table of days, an inner join on a small census table, and one ROW_NUMBER window with an explicit partition, a
total order (every column, nulls replaced by sentinels so that engines that sort nulls first and those that sort
them last agree) and no frame (a ranking function's frame is fixed by the SQL standard).

Two shapes are chosen for speed and give the same figures as the plain ones (measured in BENCHMARKS.md):

* the duplicate window runs only over records whose key occurs more than once (found with GROUP BY ... HAVING
  count > 1); every other record is the only copy of its key, rank 0 — the same ranks as a window over all
  records, without sorting them all;
* the month of arrival comes from a left join with a table of days (:func:`day_periods`, the same
  :func:`~partnering.definitions.periods.yyyymm` arithmetic run once per day, not once per record).
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from partnering.definitions.measures import ATTENDANCE_MEASURES, PATHWAY_MEASURES
from partnering.definitions.periods import DAY, yyyymm

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


def repeated_keys(t, key: str):
    """The non-null values of ``key`` that occur more than once in ``t`` (a GROUP BY ... HAVING, no sort)."""
    keyed = t.filter(t[key].notnull())
    return keyed.group_by(key).aggregate(copies=keyed.count()).filter(lambda r: r.copies > 1).select(key)


def with_copy_rank(t, key: str, order: list[str], repeated=None, name: str = "copy_rank"):
    """``t`` with a column ``name``: :func:`first_copy_rank`, computed only where it can be non-zero.

    Keys that occur more than once are found first (:func:`repeated_keys`, or ``repeated``: the same table made
    once by the engine, since both branches below read it); records of any other key (or a null key) are the only
    copy, rank 0, and only the few records of repeated keys go through the window.  The union has the same rows
    and ranks as the window over every record (rows of a null key get 0 here, where the full window would number
    them: every check puts a missing key first, so no reason changes).
    """
    repeated = repeated_keys(t, key) if repeated is None else repeated
    single = t.anti_join(repeated, key).mutate(**{name: ibis.literal(0, "int64")})
    multi = t.semi_join(repeated, key)
    multi = multi.mutate(**{name: first_copy_rank(multi, key, order).cast("int64")})
    return single.union(multi, distinct=False)


#: the days :func:`day_periods` covers (days since 1970-01-01): 1 March 1968 to 28 February 2100, where
#: :func:`yyyymm`'s shortened arithmetic holds (4 107 542 400 s is 1 March 2100, 00:00 UTC)
FIRST_DAY, LAST_DAY = -671, 4_107_542_400 // DAY - 1


def day_periods():
    """A small table ``arrival_day, period``: the UTC month (``YYYYMM``) of every day :func:`yyyymm` covers,
    computed by that same arithmetic (48,212 rows; an engine joins it instead of evaluating the arithmetic's
    seven divisions on every record).  An instant outside it gets a null month."""
    days = np.arange(FIRST_DAY, LAST_DAY + 1, dtype=np.int64)
    return ibis.memtable(pd.DataFrame({"day": days, "period": yyyymm(days * DAY)}))


def attendance_monthly(checked, measures=ATTENDANCE_MEASURES):
    """``checked``: attendances with a ``reason`` column (null = accepted).  Per reason, organisation and month of
    arrival: the record count and each measure's numerator and denominator (only meaningful where reason is null)."""
    t = checked.mutate(arrival_day=checked.arrival_time // DAY)
    days = day_periods()
    t = t.left_join(days, t.arrival_day == days.day).drop("arrival_day", "day")
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
