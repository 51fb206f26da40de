"""Record-level schemas: ECDS-like A&E attendances and RTT-like pathways (documented in docs/record-level.md).

Times are whole seconds since the Unix epoch in UTC (int64), never local clock times: a duration is a difference
of two integers, identical on every engine, and no engine's time-zone or timestamp-truncation rules take part.
The codes follow the national data sets they imitate:

* department type — ECDS "Emergency care department type" (NHS Data Model and Dictionary): 01 consultant-led
  24-hour emergency department (type 1), 02 consultant-led mono-specialty (type 2), 03 other type of A&E / minor
  injury unit / urgent treatment centre, 04 NHS walk-in centre (types 3 and 4 are "other" in the monthly A&E
  statistics);
* disposal — a simplified ECDS "discharge destination" / attendance disposal: admitted, transferred, discharged,
  left (before treatment completed), died;
* treatment function — the RTT treatment function codes NHS England publishes waiting times for
  ("Consultant-led Referral to Treatment Waiting Times Rules and Guidance"), 999 for "other".
"""

from __future__ import annotations

import pyarrow as pa

ATTENDANCES = "attendances"
PATHWAYS = "pathways"
MANIFEST = "manifest.json"

ATTENDANCE_SCHEMA = pa.schema([
    ("attendance_id", pa.int64()),            # unique per attendance; a repeated id is a duplicate submission
    ("org_code", pa.string()),                # ODS code of the provider trust
    ("site_code", pa.string()),               # ODS site code (trust code + 2 characters)
    ("department_type", pa.string()),         # 01 | 02 | 03 | 04
    ("arrival_time", pa.int64()),             # UTC epoch seconds
    ("decision_to_admit_time", pa.int64()),   # UTC epoch seconds; null unless admitted
    ("departure_time", pa.int64()),           # UTC epoch seconds (admitted, transferred or discharged)
    ("disposal", pa.string()),                # admitted | transferred | discharged | left | died
])

PATHWAY_SCHEMA = pa.schema([
    ("pathway_id", pa.int64()),               # unique per pathway; a repeated id is a duplicate submission
    ("org_code", pa.string()),                # ODS code of the provider trust
    ("treatment_function", pa.string()),      # RTT treatment function code
    ("clock_start", pa.int64()),              # UTC epoch seconds of the clock-start date (midnight)
    ("clock_stop", pa.int64()),               # UTC epoch seconds of the clock-stop date; null while waiting
])

DEPARTMENT_TYPES = ("01", "02", "03", "04")
DISPOSALS = ("admitted", "transferred", "discharged", "left", "died")
ADMITTED = "admitted"
TREATMENT_FUNCTIONS = ("100", "101", "110", "120", "130", "140", "150", "160", "170", "300", "301", "320", "330",
                       "340", "400", "410", "430", "502", "999")

SCHEMAS = {ATTENDANCES: ATTENDANCE_SCHEMA, PATHWAYS: PATHWAY_SCHEMA}
