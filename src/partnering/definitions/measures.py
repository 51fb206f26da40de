"""The record-level indicators, each defined once: which records it counts and out of which.

Every indicator is a pair of conditions on one record: ``numerator`` (which records count) and, for a
percentage, ``denominator`` (out of which records).  An engine sums the conditions per organisation and month as
integers, so every engine gives the same whole numbers, and the percentage is 100 x numerator / denominator,
computed once from them (:func:`partnering.compute.run`).  Every code is in the catalogue
(``indicators/indicators.toml``): those published A&E and RTT files also carry under their loaders' owners, the new
ones (which only records give) under the owner ``ae-record-level``.

Sources: [AE] NHS England, "A&E Attendances and Emergency Admissions" monthly statistics and their guidance
(4 hours from arrival to admission, transfer or discharge; decision-to-admit waits over 4 and 12 hours);
[CON] NHS Constitution: 95% within 4 hours; [NOF] NHS Oversight Framework 2025/26: % of patients spending over
12 hours in A&E (type 1), from ECDS; [RTT] NHS England, "Consultant-led Referral to Treatment Waiting Times Rules
and Guidance": incomplete pathways at the month-end census, weeks waited from clock start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

FOUR_HOURS = 4 * 3600     # [AE], [CON]: arrival to admission, transfer or discharge
TWELVE_HOURS = 12 * 3600  # [AE] 12-hour decision-to-admit waits; [NOF] 12 hours in the department
WEEK_DAYS = 7
WITHIN_18_WEEKS_DAYS = 18 * WEEK_DAYS  # [RTT]: waited 18 weeks or less
OVER_52_WEEKS_DAYS = 52 * WEEK_DAYS    # [RTT]: waited more than 52 weeks

TYPE_1, TYPE_2 = "01", "02"            # ECDS department types (partnering.compute.schema)
OTHER_TYPES = ("03", "04")
ADMITTED = "admitted"


@dataclass(frozen=True)
class Measure:
    code: str
    unit: str  # count | percent
    numerator: Callable  # record table -> boolean expression: the records counted
    denominator: Callable | None = None  # record table -> boolean expression, for a percentage
    in_catalogue: bool = True  # in the catalogue (loaded into the store by --load); False: the output file only
    description: str = ""


def _los(t):
    """Seconds from arrival to departure."""
    return t.departure_time - t.arrival_time


def _dta_wait(t):
    """Seconds from decision to admit to departure (admission); null when there was no decision to admit."""
    return t.departure_time - t.decision_to_admit_time


def _all(t):
    return t.arrival_time.notnull()


def _type1(t):
    return t.department_type == TYPE_1


def _type2(t):
    return t.department_type == TYPE_2


def _other(t):
    return t.department_type.isin(OTHER_TYPES)


def _within_4h(t):
    return _los(t) <= FOUR_HOURS


def _admitted(t):
    return t.disposal == ADMITTED


ATTENDANCE_MEASURES: tuple[Measure, ...] = (
    Measure("ae_attendances_total", "count", _all, description="attendances, all department types"),
    Measure("ae_attendances_type1", "count", _type1),
    Measure("ae_attendances_type2", "count", _type2),
    Measure("ae_attendances_other", "count", _other, description="types 3 and 4"),
    Measure("ae_over_4h_total", "count", lambda t: _los(t) > FOUR_HOURS),
    Measure("ae_over_4h_type1", "count", lambda t: _type1(t) & (_los(t) > FOUR_HOURS)),
    Measure("ae_4h_pct_all", "percent", _within_4h, _all),
    Measure("ae_4h_pct_type1", "percent", lambda t: _type1(t) & _within_4h(t), _type1),
    # new: published A&E files cannot show these; the catalogue has them under the owner "ae-record-level"
    Measure("ae_4h_pct_type2", "percent", lambda t: _type2(t) & _within_4h(t), _type2,
            description="type 2 attendances within 4 hours (new: published files give all types and type 1)"),
    Measure("ae_4h_pct_other", "percent", lambda t: _other(t) & _within_4h(t), _other,
            description="type 3 and 4 attendances within 4 hours (new)"),
    Measure("ae_12h_from_arrival_pct", "percent", lambda t: _type1(t) & (_los(t) > TWELVE_HOURS), _type1,
            description="type 1 attendances over 12 hours from arrival to departure, % of type 1 [NOF] (new: "
                        "published files cannot show it)"),
    Measure("ae_emergency_admissions_via_ae", "count", _admitted),
    Measure("ae_dta_over_4h", "count", lambda t: _admitted(t) & (_dta_wait(t) > FOUR_HOURS)),
    Measure("ae_dta_over_12h", "count", lambda t: _admitted(t) & (_dta_wait(t) > TWELVE_HOURS)),
)


def _wait_days(p):
    """Whole days from clock start to the census date (both UTC midnights)."""
    return (p.census_day - p.clock_start) // 86_400


PATHWAY_MEASURES: tuple[Measure, ...] = (
    Measure("rtt_incomplete_pathways", "count", lambda p: p.clock_start.notnull(),
            description="pathways waiting at the month-end census"),
    Measure("rtt_within_18w_pct", "percent", lambda p: _wait_days(p) <= WITHIN_18_WEEKS_DAYS,
            lambda p: p.clock_start.notnull()),
    Measure("rtt_over_52w", "count", lambda p: _wait_days(p) > OVER_52_WEEKS_DAYS),
)

MEASURES = {m.code: m for m in ATTENDANCE_MEASURES + PATHWAY_MEASURES}
