"""The faster shapes of the record-level definitions give what the plain ones give: the duplicate window run only
over repeated ids ranks every record as the window over all records does, and the table of days gives every day
the month the integer arithmetic gives (partnering.definitions.monthly)."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest

from partnering.compute import engines
from partnering.definitions import periods
from partnering.definitions.monthly import (
    FIRST_DAY,
    LAST_DAY,
    day_periods,
    first_copy_rank,
    repeated_keys,
    with_copy_rank,
)

pytestmark = pytest.mark.unit

ORDER = ["a", "b", "s"]


def _records(seed: int, n: int = 400) -> pd.DataFrame:
    """Ids drawn from a small range (many repeats, some three or more times), nulls in every column, exact copies."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": pd.array(rng.integers(0, n // 2, n), dtype="Int64"),
        "a": pd.array(rng.integers(0, 3, n), dtype="Int64"),
        "b": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "s": pd.array(rng.choice(["x", "y"], n), dtype="string"),
        "row": np.arange(n),
    })
    for col in ("id", "a", "b", "s"):
        frame.loc[rng.random(n) < 0.05, col] = pd.NA
    frame.iloc[n // 2:n // 2 + 20, :4] = frame.iloc[:20, :4].to_numpy()  # exact copies of other records
    return frame


def _ranks(con, table) -> dict:
    """Ranks by record content: records equal in every ordered column are interchangeable (which of two exact
    copies is first cannot change any figure), so compare the ranks each distinct content receives."""
    out = con.execute(table.select("id", *ORDER, "copy_rank")).astype("object")
    out = out.where(out.notna(), None)
    ranks: dict = {}
    for row in out.itertuples(index=False):
        ranks.setdefault(tuple(row[:-1]), []).append(int(row[-1]))
    return {k: sorted(v) for k, v in ranks.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rank_only_over_repeated_ids_equals_the_full_window(seed):
    con = engines.duckdb_connection(threads=1)
    t = con.create_table("records", _records(seed), temp=True)
    # a null id is numbered by the full window but is the only copy here (the checks reject it as missing first)
    full = t.mutate(copy_rank=ibis.ifelse(t.id.isnull(), 0, first_copy_rank(t, "id", ORDER).cast("int64")))
    expected = _ranks(con, full)
    assert max(max(v) for v in expected.values()) > 1, "the sample must have ids repeated three times or more"
    assert any(len(v) > 1 for v in expected.values()), "the sample must have exact copies"
    assert _ranks(con, with_copy_rank(t, "id", ORDER)) == expected
    made_once = engines.materialise(con, repeated_keys(t, "id"), "rep")
    assert _ranks(con, with_copy_rank(t, "id", ORDER, made_once)) == expected


def test_repeated_keys_are_exactly_the_ids_seen_twice():
    frame = _records(4)
    con = engines.duckdb_connection(threads=1)
    t = con.create_table("records", frame, temp=True)
    counts = frame["id"].dropna().value_counts()
    assert sorted(con.execute(repeated_keys(t, "id"))["id"]) == sorted(counts[counts > 1].index)


def test_day_table_gives_every_day_its_calendar_month():
    days = day_periods().execute()
    assert len(days) == LAST_DAY - FIRST_DAY + 1
    first = date(1970, 1, 1) + timedelta(days=FIRST_DAY)
    assert first == date(1968, 3, 1)
    assert date(1970, 1, 1) + timedelta(days=LAST_DAY) == date(2100, 2, 28)
    expected = [(first + timedelta(days=k)).year * 100 + (first + timedelta(days=k)).month for k in range(len(days))]
    assert days["period"].tolist() == expected
    assert (days["period"] == periods.yyyymm(days["day"].to_numpy() * periods.DAY)).all()


def test_arrival_outside_the_table_has_no_month():
    con = engines.duckdb_connection(threads=1)
    days = day_periods()
    t = ibis.memtable(pd.DataFrame({"arrival_day": [FIRST_DAY - 1, FIRST_DAY, LAST_DAY, LAST_DAY + 1]}))
    joined = con.execute(t.left_join(days, t.arrival_day == days.day).order_by("arrival_day"))
    assert joined["period"].isna().tolist() == [True, False, False, True]
