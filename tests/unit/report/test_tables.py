"""partnering.report.tables: CSV and Parquet through Arrow hold the same values; reading keeps the old rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import IngestError, ValidationError
from partnering.report.tables import format_of, read_table, write_table

pytestmark = pytest.mark.unit


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["001", "RC9", "R0A"],
            "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "value": [0.1 + 0.2, np.nan, 1e-300],
            "count": [3, 0, -2],
            "flag": [True, False, True],
            "maybe": pd.array([True, None, False], dtype="boolean"),
            "side": pd.array([1, None, -1], dtype="Int8"),
            "kind": pd.Categorical(["Common Cause", "Special Cause", "Common Cause"]),
            "text": ['says "hello", twice', "", "line\nbreak"],
        }
    )


def _as_read_by_pandas_csv(df: pd.DataFrame) -> pd.DataFrame:
    """What a pandas user gets from each file, made comparable (text for codes, dates, categories)."""
    out = df.copy()
    out["code"] = out["code"].astype(str)
    out["month"] = pd.to_datetime(out["month"]).dt.strftime("%Y-%m-%d")
    out["kind"] = out["kind"].astype(str)
    out["text"] = out["text"].fillna("").astype(str)
    out["maybe"] = out["maybe"].astype(object).where(out["maybe"].notna(), None)
    out["side"] = out["side"].astype(float)
    return out.reset_index(drop=True)


def test_csv_and_parquet_hold_the_same_values(tmp_path, frame):
    write_table(frame, tmp_path / "t.csv")
    write_table(frame, tmp_path / "t.parquet")
    from_csv = pd.read_csv(tmp_path / "t.csv", dtype={"code": str}, keep_default_na=False,
                           na_values={"value": [""], "maybe": [""], "side": [""]})
    from_csv["maybe"] = from_csv["maybe"].map({"True": True, "False": False, True: True, False: False})
    from_parquet = pd.read_parquet(tmp_path / "t.parquet")
    a, b = _as_read_by_pandas_csv(from_csv), _as_read_by_pandas_csv(from_parquet)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # and both equal what was written
    pd.testing.assert_frame_equal(a, _as_read_by_pandas_csv(frame), check_dtype=False)
    assert a.loc[0, "value"] == 0.1 + 0.2  # shortest round-trip float text, not rounded


def test_parquet_keeps_types_and_writes_midnight_timestamps_as_dates(tmp_path, frame):
    import pyarrow.parquet as pq

    write_table(frame, tmp_path / "t.parquet")
    schema = pq.read_schema(tmp_path / "t.parquet")
    assert str(schema.field("month").type) == "date32[day]"
    assert str(schema.field("flag").type) == "bool"
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert str(back["maybe"].dtype) == "boolean" and str(back["side"].dtype) == "Int8"
    assert isinstance(back["kind"].dtype, pd.CategoricalDtype)


def test_csv_text_reads_as_pandas_wrote_it(tmp_path, frame):
    import csv

    write_table(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["code", "month", "value", "count", "flag", "maybe", "side", "kind", "text"]
    assert rows[1] == ["001", "2025-01-01", "0.30000000000000004", "3", "True", "True", "1", "Common Cause",
                       'says "hello", twice']
    assert rows[2][2] == "" and rows[2][5] == "" and rows[2][6] == ""  # missing is an empty cell
    assert rows[3][8] == "line\nbreak"


def test_time_of_day_is_kept(tmp_path):
    df = pd.DataFrame({"t": pd.to_datetime(["2025-01-01 10:30", "2025-01-02 00:00"])})
    write_table(df, tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet")["t"].iloc[0] == pd.Timestamp("2025-01-01 10:30")


def test_xlsx_still_written(tmp_path, frame):
    write_table(frame.drop(columns=["maybe", "side"]), tmp_path / "t.xlsx", sheet="obs", attribution="OGL\nline 2")
    book = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert list(book) == ["obs", "notes"] and book["notes"]["notes"].tolist() == ["OGL", "line 2"]
    assert book["obs"]["count"].tolist() == [3, 0, -2]


def test_mixed_objects_are_written_as_text_and_no_partial_file_is_left(tmp_path):
    mixed = pd.DataFrame({"a": pd.Series([1, "b", 2.5, None], dtype=object)})  # Arrow cannot type this column
    target = tmp_path / "t.parquet"
    write_table(mixed, target)
    assert pd.read_parquet(target)["a"].tolist()[:3] == ["1", "b", "2.5"]
    assert pd.isna(pd.read_parquet(target)["a"].iloc[3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]
    with pytest.raises(ValidationError, match="not one of"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.txt", "json")
    assert not (tmp_path / "t.txt").exists()


def test_format_of():
    assert format_of("a/b.PARQUET") == "parquet" and format_of("b.pq") == "parquet"
    assert format_of("b.csv") == "csv" and format_of("b.txt") == "csv" and format_of("b.xlsx") == "xlsx"
    with pytest.raises(ValidationError, match=r"must end in \.csv or \.parquet"):
        format_of("b.xlsx", ("csv", "parquet"))
    with pytest.raises(ValidationError, match="must end in"):
        format_of("b.txt", ("csv", "parquet", "xlsx"), default=None)


def test_read_csv_keeps_text_codes_and_only_empty_is_missing(tmp_path):
    f = tmp_path / "in.csv"
    f.write_text("\ufeff code ,y,note\n001,1.5,NA\n002,,null\n")
    df = read_table(f, text_columns=("code",))
    assert list(df.columns) == ["code", "y", "note"]
    assert df["code"].tolist() == ["001", "002"]
    assert df["y"].iloc[0] == 1.5 and np.isnan(df["y"].iloc[1])
    assert df["note"].tolist() == ["NA", "null"]


@pytest.mark.parametrize("bad", ["lots", "nan", "inf"])
def test_a_value_that_is_not_a_number_leaves_the_column_as_text(tmp_path, bad):
    f = tmp_path / "in.csv"
    # the bad value comes after a full block of good numbers, so Arrow has already typed the column
    f.write_text("y\n" + "1.5\n" * 5000 + f"{bad}\n")
    df = read_table(f)
    assert df["y"].iloc[-1] == bad and df["y"].iloc[0] == "1.5"


def test_all_text(tmp_path):
    f = tmp_path / "in.csv"
    f.write_text("a,b\n1,\n")
    df = read_table(f, all_text=True)
    assert df["a"].tolist() == ["1"] and df["b"].tolist() == [""]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"a,b\n1,2,3\n", "not a readable CSV file"),
        (b"a,b\n\xff\xfe,1\n", "not a readable CSV file"),
    ],
)
def test_unreadable_csv(tmp_path, content, expected):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(IngestError, match=expected) as info:
        read_table(f)
    assert info.value.file == str(f)


def test_unreadable_parquet_and_missing_file(tmp_path):
    f = tmp_path / "bad.parquet"
    f.write_text("series,x,y\n")
    with pytest.raises(IngestError, match="not a readable Parquet file"):
        read_table(f)
    with pytest.raises(IngestError, match="file not found"):
        read_table(tmp_path / "none.csv")
