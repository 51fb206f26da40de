"""Calendar months from UTC epoch seconds by integer arithmetic only.

Engines disagree on timestamp truncation and time zones (Ibis's PySpark backend follows the Spark session's zone,
DuckDB its own setting), so no timestamp type is used: the month of an instant is found from the day number with
Howard Hinnant's ``civil_from_days`` algorithm ("chrono-Compatible Low-Level Date Algorithms", 2013,
https://howardhinnant.github.io/date_algorithms.html), shortened for 1970-2100, which needs only integer +, -, *
and floor division of non-negative numbers.  A period is the integer ``YYYYMM`` of the month in UTC.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone

DAY = 86_400


def yyyymm(epoch_seconds):
    """The UTC month ``YYYY * 100 + MM`` of epoch seconds from 1970 to February 2100: an Ibis integer expression
    (or a plain int / numpy array: the same arithmetic).

    Days are counted from 1 March 1968, so every 4-year cycle of 1,461 days ends with its leap day; between 1970
    and 2100 every fourth year is a leap year (2000 is, 2100 is not), so the 400-year era step of the general
    algorithm is not needed and the expression stays short (engines inline it: the general form is ~50 kB of SQL).
    """
    d = epoch_seconds // DAY + 671  # days since 1968-03-01 (365 + 306 days before 1970-01-01)
    cycle = d // 1_461
    r = d - cycle * 1_461  # day of the 4-year cycle, 0-1460 (1460 = 29 February)
    year_of_cycle = (r - r // 1_460) // 365
    day_of_year = r - 365 * year_of_cycle  # from 1 March
    mp = (5 * day_of_year + 2) // 153  # month from March: 0-11
    # month m = mp + 3 for mp < 10, else mp - 9; the year advances for January and February
    month = mp + 3 - 12 * (mp // 10)
    year = 1968 + 4 * cycle + year_of_cycle + mp // 10
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
