"""Property tests for the A&E parser: any consistent file loads exactly; any inconsistency is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnering.errors import IngestError
from partnering.ingest.ae import parse_ae

pytestmark = pytest.mark.unit

HEADER = ("Period,Org Code,Parent Org,Org name,A&E attendances Type 1,A&E attendances Type 2,"
          "A&E attendances Other A&E Department,A&E attendances Booked Appointments Type 1,"
          "A&E attendances Booked Appointments Type 2,A&E attendances Booked Appointments Other Department,"
          "Attendances over 4hrs Type 1,Attendances over 4hrs Type 2,Attendances over 4hrs Other Department,"
          "Attendances over 4hrs Booked Appointments Type 1,Attendances over 4hrs Booked Appointments Type 2,"
          "Attendances over 4hrs Booked Appointments Other Department,"
          "Patients who have waited 4-12 hs from DTA to admission,"
          "Patients who have waited 12+ hrs from DTA to admission,Emergency admissions via A&E - Type 1,"
          "Emergency admissions via A&E - Type 2,Emergency admissions via A&E - Other A&E department,"
          "Other emergency admissions")


@st.composite
def ae_file(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        att = draw(st.lists(st.integers(0, 20_000), min_size=6, max_size=6))
        over = [draw(st.integers(0, a)) for a in att]
        rest = draw(st.lists(st.integers(0, 5_000), min_size=6, max_size=6))
        rows.append([f"R{i:02d}"] + att + over + rest)
    arr = np.array([r[1:] for r in rows], dtype=np.int64)
    total = arr.sum(axis=0)
    crlf = draw(st.booleans())
    commas = draw(st.booleans())
    spelling = draw(st.sampled_from(["TOTAL", "Total", "TOTAl", "Total ", ""]))
    fmt = (lambda v: f'"{v:,}"') if commas else str
    nl = "\r\n" if crlf else "\n"
    lines = [HEADER]
    for r in rows:
        lines.append(f"MSitAE-MARCH-2025,{r[0]},NHS ENGLAND LONDON ,TRUST {r[0]}," + ",".join(fmt(v) for v in r[1:]))
    lines.append(f"{spelling},{spelling},{spelling},{spelling}," + ",".join(fmt(v) for v in total))
    return (nl.join(lines) + nl).encode(), arr


@settings(max_examples=60, deadline=None)
@given(ae_file())
def test_consistent_files_load_exactly(case):
    data, arr = case
    p = parse_ae(data, "March-2025.csv")
    obs = p.observations.set_index(["org_code", "indicator"])["value"]
    assert p.period == "2025-03" and not p.rejected
    att_total = arr[:, 0:6].sum(axis=1)
    for i, code in enumerate(sorted(set(p.observations.org_code))):
        assert obs[(code, "ae_attendances_total")] == att_total[i]
        assert obs[(code, "ae_over_4h_total")] == arr[i, 6:12].sum()
        assert obs[(code, "ae_dta_over_12h")] == arr[i, 13]


@settings(max_examples=40, deadline=None)
@given(ae_file(), st.integers(1, 1000), st.data())
def test_any_cell_changed_without_its_total_is_refused(case, delta, data):
    raw, arr = case
    lines = raw.decode().splitlines()
    i = data.draw(st.integers(1, len(arr)))
    j = data.draw(st.integers(4, 21))
    cells = lines[i].split(",") if '"' not in lines[i] else None
    if cells is None:  # quoted thousands: rebuild the row plainly
        cells = lines[i].split(",")[:4] + [str(v) for v in arr[i - 1]]
    cells[j] = str(int(cells[j]) + delta)
    lines[i] = ",".join(cells)
    with pytest.raises(IngestError, match="do not add up"):
        parse_ae(("\n".join(lines) + "\n").encode(), "March-2025.csv")
