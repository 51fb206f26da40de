"""A tiny worked example of a record set (docs/record-level.md): 13 attendances and 9 pathways, each chosen to
sit on one edge of a definition (exactly 4 hours, a census-day clock stop, a record sent twice ...), so the
monthly figures can be worked out by hand and every engine checked against them."""

from __future__ import annotations

import calendar
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from partnering.compute.schema import ATTENDANCE_SCHEMA, ATTENDANCES, MANIFEST, PATHWAY_SCHEMA, PATHWAYS

H, M, D = 3600, 60, 86_400
T = calendar.timegm((2025, 1, 15, 0, 0, 0))  # 15 January 2025, 00:00 UTC
JAN_END = calendar.timegm((2025, 1, 31, 23, 30, 0))
FEB_1 = calendar.timegm((2025, 2, 1, 0, 0, 0))
CENSUS_JAN = calendar.timegm((2025, 1, 31, 0, 0, 0))  # the RTT census is the month's last day

# attendance_id, org, site, department type, arrival, decision to admit, departure, disposal
ATTENDANCE_ROWS = [
    (1, "R1A", "R1A01", "01", T, None, T + 4 * H, "discharged"),                # exactly 4 hours: within
    (2, "R1A", "R1A01", "01", T, T + 1 * H, T + 4 * H + 1, "admitted"),      # over 4 h; 3 h from decision
    (3, "R1A", "R1A01", "01", T, T + 30 * M, T + 13 * H, "admitted"),        # over 12 h; 12.5 h from decision
    (4, "R1A", "R1A02", "03", T, None, T + 1 * H, "discharged"),              # type 3 within
    (5, "R1A", "R1A03", "02", T, None, T + 5 * H, "transferred"),             # type 2 over 4 h
    (2, "R1A", "R1A01", "01", T, T + 1 * H, T + 4 * H + 1, "admitted"),      # sent twice: duplicate
    (7, "R9Z", "R9Z01", "01", T, None, T + 1 * H, "discharged"),              # unknown organisation
    (8, "R1A", "R1A01", "01", T, None, None, "discharged"),                   # missing departure
    (9, "R1A", "R1A01", "01", T, None, T - 60, "discharged"),                 # departure before arrival
    (10, "R1A", "R1A01", "99", T, None, T + 1 * H, "discharged"),             # unknown department type
    (11, "R1A", "R1A01", "01", T, None, T + 2 * H, "admitted"),               # admitted without decision time
    (12, "R1A", "R1A01", "01", JAN_END, None, JAN_END + 1 * H, "discharged"),  # arrives in January
    (13, "R1A", "R1A01", "01", FEB_1, None, FEB_1 + 2 * H, "discharged"),     # arrives in February
]

# pathway_id, org, treatment function, clock start, clock stop
PATHWAY_ROWS = [
    (1, "R1A", "100", CENSUS_JAN - 126 * D, None),        # 18 weeks exactly at the January census: within
    (2, "R1A", "100", CENSUS_JAN - 127 * D, None),        # one day over 18 weeks
    (3, "R1A", "100", CENSUS_JAN - 365 * D, None),        # over 52 weeks
    (4, "R1A", "100", CENSUS_JAN - 10 * D, CENSUS_JAN),   # stopped on the census day: not waiting
    (5, "R1A", "100", CENSUS_JAN + 1 * D, None),          # starts after the January census
    (1, "R1A", "100", CENSUS_JAN - 126 * D, None),        # sent twice: duplicate
    (7, "R1A", "000", CENSUS_JAN - 5 * D, None),          # unknown treatment function
    (8, "R1A", "100", CENSUS_JAN - 5 * D, CENSUS_JAN - 9 * D),  # clock stop before clock start
    (9, "R1A", "100", None, None),                         # missing clock start
]

KNOWN_ORGS = ("R1A",)


def write_example(folder: Path) -> Path:
    folder = Path(folder)
    for name, schema, rows in ((ATTENDANCES, ATTENDANCE_SCHEMA, ATTENDANCE_ROWS),
                               (PATHWAYS, PATHWAY_SCHEMA, PATHWAY_ROWS)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([dict(zip(schema.names, r)) for r in rows], schema=schema)
        pq.write_table(table, folder / name / "part-00000.parquet")
    (folder / MANIFEST).write_text(json.dumps({"first_period": 202501, "last_period": 202502}))
    return folder
