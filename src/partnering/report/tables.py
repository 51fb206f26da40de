"""Tables in and out of files: CSV and Parquet through Apache Arrow, XLSX through openpyxl.

One module for every face that reads or writes a table (``partnering spc``, ``partnering export``,
``partnering assess --out``, and later the web downloads), so that a table written as CSV and the
same table written as Parquet hold the same values. The format is chosen by the file's extension:
``.parquet`` / ``.pq`` is Parquet, ``.xlsx`` is Excel, anything else is CSV.

Why Arrow: pandas' own CSV writer formats every value in Python (``DataFrame.to_csv`` took ~4.7 s of
a 9.1 s ``partnering spc`` run on 600,000 points, issue #8); Arrow's CSV reader and writer
(https://arrow.apache.org/docs/python/csv.html) and its Parquet reader and writer
(https://arrow.apache.org/docs/python/parquet.html) work column by column in C++.

Reading rules (kept from the pandas reader they replace, so that a file a user could load before
still loads, and a file refused before is still refused):

* only an empty cell is missing: ``NA``, ``null`` or ``n/a`` stay text, so a validator can name them;
* a column whose every value converts gets its type (numbers, ISO dates, whole numbers); when one
  value does not convert, or a number column holds the text ``nan`` / ``inf``, the whole file is
  read again as text, so that the caller's validator finds and names the bad row;
* ``text_columns`` are always text (codes such as ``001`` keep their leading zeros);
* column names are stripped of surrounding spaces; a UTF-8 byte-order mark is skipped.

Writing rules: CSV values read back the same as pandas' ``to_csv`` wrote them (booleans as
``True`` / ``False``, missing as an empty cell, floats in shortest round-trip form); a date-time
column whose values are all midnight is written as dates (``2025-03-01``); Parquet keeps the types.
A file is written under a temporary name and renamed, so a failed write never leaves half a file
under the requested name.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from partnering.errors import IngestError, ValidationError

if TYPE_CHECKING:  # pandas and pyarrow are imported only when a table is read or written
    import pandas as pd
    import pyarrow as pa

FORMATS = ("csv", "xlsx", "parquet")
PARQUET_SUFFIXES = (".parquet", ".pq")

_NANOSECONDS_PER_DAY = 86_400 * 10**9


def format_of(path: str | Path, allowed: Iterable[str] = FORMATS, default: str | None = "csv") -> str:
    """The table format a file name asks for: ``parquet`` (.parquet, .pq), ``xlsx``, ``csv``; any other name
    is ``default`` (refused when ``default`` is None). A format outside ``allowed`` is refused."""
    suffix = Path(path).suffix.lower()
    allowed = tuple(allowed)
    fmt = "parquet" if suffix in PARQUET_SUFFIXES else "xlsx" if suffix == ".xlsx" else "csv" if suffix == ".csv" \
        else default
    if fmt is None or fmt not in allowed:
        raise ValidationError(f"{path}: the file name must end in {' or '.join('.' + a for a in allowed)}")
    return fmt


# ---------------------------------------------------------------------------------------------- reading


def read_table(path: str | Path, *, text_columns: Iterable[str] = (), all_text: bool = False) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (see the module's reading rules).

    ``all_text=True`` reads every CSV column as text (missing cells as empty strings), the way a
    validator that names rows wants it. Errors are :class:`IngestError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(str(path), "file not found")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        table = _read_parquet(path)
    else:
        table = _read_csv(path, tuple(text_columns), all_text)
    table = table.rename_columns([str(c).strip() for c in table.column_names])
    return table.to_pandas(date_as_object=False)


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(str(path), f"not a readable Parquet file ({_first_line(exc)})") from None


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return next(csv.reader(fh), [])
    except UnicodeDecodeError as exc:
        raise IngestError(str(path), f"not a readable CSV file ({_first_line(exc)})") from None


def _read_csv(path: Path, text_columns: tuple[str, ...], all_text: bool) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    header = _header(path)
    if not header:
        raise IngestError(str(path), "not a readable CSV file (the file is empty)")
    wanted = {c.strip() for c in text_columns}
    as_text = [name for name in header if all_text or name.strip() in wanted]
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in as_text},
        null_values=[""],
        strings_can_be_null=not all_text,
        quoted_strings_can_be_null=not all_text,
    )
    try:
        table = pacsv.read_csv(path, convert_options=convert)
    except pa.ArrowInvalid as exc:
        message = _first_line(exc)
        if not all_text and "conversion error" in message.lower():
            return _read_csv(path, text_columns, True)  # a value does not convert: the validator names it
        raise IngestError(str(path), f"not a readable CSV file ({message})") from None
    if not all_text:
        for column in table.columns:
            if pa.types.is_floating(column.type) and pc.any(pc.or_(pc.is_nan(column), pc.is_inf(column))).as_py():
                return _read_csv(path, text_columns, True)  # 'nan' / 'inf' written as text: not a number
    return table


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------- writing


def write_table(df: pd.DataFrame, out: str | Path, fmt: str | None = None, sheet: str = "data",
                attribution: str | None = None) -> None:
    """Write ``df`` as CSV, Parquet or XLSX (``fmt``, else from the extension of ``out``).

    ``sheet`` and ``attribution`` (licence lines, written to a ``notes`` sheet) apply to XLSX only.
    """
    out = Path(out)
    fmt = (fmt or format_of(out)).lower()
    if fmt not in FORMATS:
        raise ValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        if fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(to_arrow(df, for_csv=True), tmp)
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(to_arrow(df), tmp)
        else:
            write_xlsx({sheet: df}, tmp, attribution)
        tmp.replace(out)  # never leave a half-written file under the requested name
    finally:
        tmp.unlink(missing_ok=True)


def write_xlsx(sheets: dict[str, pd.DataFrame], out: str | Path, attribution: str | None = None) -> None:
    """Several tables as the sheets of one workbook, with the licence lines on a ``notes`` sheet."""
    import pandas as pd

    with pd.ExcelWriter(out, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            frame.to_excel(xl, sheet_name=name[:31], index=False)
        if attribution:
            pd.DataFrame({"notes": attribution.splitlines()}).to_excel(xl, sheet_name="notes", index=False)


def to_arrow(df: pd.DataFrame, *, for_csv: bool = False) -> pa.Table:
    """The frame as an Arrow table (with pandas' metadata, so ``pd.read_parquet`` restores nullable and
    categorical columns): midnight-only date-times become dates; for CSV, booleans become ``True`` /
    ``False`` text (pandas' spelling, so files read the same as before)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table = pa.Table.from_pandas(_mixed_columns_as_text(df), preserve_index=False)
    for i, field in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_timestamp(field.type) and field.type.tz is None and _all_midnight(col):
            table = table.set_column(i, pa.field(field.name, pa.date32()), pc.cast(col, pa.date32()))
        elif for_csv and pa.types.is_boolean(field.type):
            table = table.set_column(i, pa.field(field.name, pa.string()), pc.if_else(col, "True", "False"))
    return table


def _mixed_columns_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python objects (which Arrow cannot type) as their text; missing stays missing."""
    import pyarrow as pa

    df = df.copy()
    for name in df.columns:
        try:
            pa.array(df[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            df[name] = [None if _missing(v) else str(v) for v in df[name]]
    return df


def _missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other containers are values, not missing
        return False


def _all_midnight(col) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    ns = pc.cast(pc.cast(col, pa.timestamp("ns")), pa.int64())
    remainder = pc.subtract(ns, pc.multiply(pc.divide(ns, _NANOSECONDS_PER_DAY), _NANOSECONDS_PER_DAY))
    return not pc.any(pc.not_equal(remainder, 0)).as_py()
