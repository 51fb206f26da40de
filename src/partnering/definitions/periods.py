"""Calendar months from UTC epoch seconds by integer arithmetic only.

Engines disagree on timestamp truncation and time zones (Ibis's PySpark backend follows the Spark session's zone,
DuckDB its own setting), so no timestamp type is used: the month of an instant is found from the day number with
Howard Hinnant's ``civil_from_days`` algorithm ("chrono-Compatible Low-Level Date Algorithms", 2013,
https://howardhinnant.github.io/date_algorithms.html), which needs only integer +, -, * and floor division of
non-negative numbers (instants from 1970 on).  A period is the integer ``YYYYMM`` of the month in UTC.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone

DAY = 86_400


def yyyymm(epoch_seconds):
    """The UTC month ``YYYY * 100 + MM`` of epoch seconds: an Ibis integer expression (or a plain int / numpy
    array: the same arithmetic)."""
    z = epoch_seconds // DAY + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    # month m = mp + 3 for mp < 10, else mp - 9; the year advances for January and February
    month = mp + 3 - 12 * (mp // 10)
    year = yoe + era * 400 + mp // 10
    return year * 100 + month


def label(period: int) -> str:
    """``202504`` -> ``"2025-04"`` (ISO month, as the store keeps periods)."""
    return f"{int(period) // 100:04d}-{int(period) % 100:02d}"


def month_start(period: int) -> int:
    """UTC epoch seconds of the first instant of ``period``."""
    return calendar.timegm((int(period) // 100, int(period) % 100, 1, 0, 0, 0))


def next_period(period: int) -> int:
    y, m = divmod(int(period), 100)
    return (y + 1) * 100 + 1 if m == 12 else y * 100 + m + 1


def periods_between(first: int, last: int) -> list[int]:
    out = [int(first)]
    while out[-1] < int(last):
        out.append(next_period(out[-1]))
    return out


def census_day(period: int) -> int:
    """UTC epoch seconds of midnight on the last day of ``period`` (the RTT month-end census date)."""
    return month_start(next_period(period)) - DAY


def period_of_datetime(when: datetime) -> int:
    when = when.astimezone(timezone.utc) if when.tzinfo else when
    return when.year * 100 + when.month
