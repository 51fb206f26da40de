"""Find the table inside an official NHS workbook (.xls or .xlsx).

NHS England's workbooks put a title block (title, period, source, "Published:" date, contact) above the table and
notes below it, and the header row moves between editions; see ../shared/data/nhs/MANIFEST.md, "Known quirks".
A loader therefore never reads a fixed row number: :func:`read_table` looks for the first row that holds every
required header label and returns the rows beneath it, and refuses with the file, the sheet and what was missing
when no such row exists.

Only the header labels are normalised (case, runs of whitespace, line breaks inside a cell); cell values are returned
as the workbook holds them (strings, floats, Excel dates) for the loader to parse with :mod:`partnering.ingest.values`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pandas as pd

from partnering.errors import IngestError

HEADER_SEARCH_ROWS = 60  # title blocks in the NHS England workbooks seen so far are at most ~20 rows deep


def norm_label(text) -> str:
    """A header label for comparison: lower case, whitespace (including line breaks) collapsed to one space."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    return re.sub(r"\s+", " ", str(text)).strip().lower()


@dataclass
class Table:
    """A table found in a sheet: its rows (header labels as spelled in the file), and where it was."""

    file: str
    sheet: str
    frame: pd.DataFrame
    header_row: int  # 1-based row of the header in the sheet (as Excel numbers rows)
    title_block: list[list[str]] = field(default_factory=list)  # the non-empty cells above the header, by row
    rows: list[int] = field(default_factory=list)  # the sheet row (1-based, as Excel shows it) of each frame row
    above: list[list] = field(default_factory=list)  # the cells above the header, by row, in their sheet columns
    positions: list[int] = field(default_factory=list)  # the sheet column (0-based) of each frame column

    def excel_row(self, index: int) -> int:
        """The sheet row (1-based, as Excel shows it) of the frame's positional row ``index``: for error messages."""
        return self.rows[index]

    def title_value(self, label: str) -> str | None:
        """The cell to the right of a title-block cell reading ``label`` (e.g. "Published:"), if any."""
        want = norm_label(label)
        for cells in self.title_block:
            for i, cell in enumerate(cells[:-1]):
                if norm_label(cell) == want:
                    return cells[i + 1]
        return None

    def group_label(self, column: str, row: int) -> str | None:
        """The label of the group of columns that ``column`` belongs to in sheet row ``row`` (1-based, above the
        header): the nearest non-empty cell at or left of the column.  Official workbooks label a group of columns
        once, over its first column (often a merged cell): "Available" / "Occupied" over bed counts by sector, a
        question's text over its answer options."""
        cells = self.above[row - 1] if 1 <= row <= len(self.above) else []
        for j in range(min(self.positions[list(self.frame.columns).index(column)], len(cells) - 1), -1, -1):
            if norm_label(cells[j]):
                return str(cells[j]).strip()
        return None

    def published_on(self):
        """When the source published the workbook: the later of the title block's "Published:" and "Revised:" dates
        (a revision is a later publication of the same figures), or None when it carries neither."""
        from partnering.ingest.values import date_from_text

        # a date cell of an .xlsx comes back as "2025-08-14 00:00:00"; the .xls title blocks hold text
        dates = [date_from_text(re.sub(r"\s00:00:00$", "", str(self.title_value(label) or "")))
                 for label in ("Published:", "Revised:")]
        dates = [d for d in dates if d is not None]
        return max(dates) if dates else None

    def column(self, *labels: str) -> str:
        """The file's own spelling of the first column whose normalised label is one of ``labels``."""
        wanted = [norm_label(x) for x in labels]
        for want in wanted:
            for col in self.frame.columns:
                if norm_label(col) == want:
                    return col
        raise IngestError(self.file, f"sheet {self.sheet!r} has no column {labels[0]!r}", row=self.header_row)


def sheet_names(data: bytes, file: str) -> list[str]:
    """The sheet names of a workbook, or an IngestError saying it is not a readable .xls/.xlsx file."""
    try:
        return list(pd.ExcelFile(io.BytesIO(data), engine=_engine(data)).sheet_names)
    except IngestError:
        raise
    except Exception as exc:  # xlrd/openpyxl raise assorted errors for files that are not workbooks
        raise IngestError(file, f"is not a readable workbook (.xls or .xlsx): {exc}") from None


def _engine(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "openpyxl"  # .xlsx is a zip
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xlrd"  # .xls (BIFF in an OLE2 compound file)
    raise IngestError("", "is neither an .xlsx (zip) nor an .xls (OLE2) workbook")


def read_table(data: bytes, file: str, sheet: str | list[str], required: list[str],
               stop_at_blank: bool = False) -> Table:
    """The table under the first row (within :data:`HEADER_SEARCH_ROWS`) holding every ``required`` label.

    ``sheet`` may be a list of acceptable names (the first present is used; names compare case-insensitively).
    Entirely blank rows and columns are dropped; with ``stop_at_blank`` the rows after the first blank row are dropped
    too (for sheets whose notes follow the table after one blank row; several official sheets instead put a blank row
    between an England total and the providers, so it is off by default and the loader filters rows without a code).
    The returned frame keeps the sheet row of each data row in ``Table.rows``.  Raises :class:`IngestError` naming the
    file, the sheet and the missing labels.
    """
    try:
        engine = _engine(data)
    except IngestError as exc:
        raise IngestError(file, exc.reason) from None
    names = sheet_names(data, file)
    wanted = [sheet] if isinstance(sheet, str) else list(sheet)
    by_norm = {norm_label(n): n for n in names}
    chosen = next((by_norm[norm_label(w)] for w in wanted if norm_label(w) in by_norm), None)
    if chosen is None:
        raise IngestError(file, f"has no sheet {wanted[0]!r} (sheets: {', '.join(names)})")
    try:
        # only empty cells are missing: a cell reading "NA", "n/a" or "NULL" reaches the loader (which refuses it as
        # not a number) instead of silently becoming a blank, as pandas' default missing-value strings would make it
        raw = pd.read_excel(io.BytesIO(data), sheet_name=chosen, header=None, engine=engine, dtype=object,
                            keep_default_na=False, na_values=[""])
    except Exception as exc:
        raise IngestError(file, f"sheet {chosen!r} cannot be read: {exc}") from None
    need = [norm_label(x) for x in required]
    header_at = None
    for r in range(min(len(raw), HEADER_SEARCH_ROWS)):
        labels = {norm_label(v) for v in raw.iloc[r].tolist()}
        if all(n in labels for n in need):
            header_at = r
            break
    if header_at is None:
        best = max(range(min(len(raw), HEADER_SEARCH_ROWS)), default=None,
                   key=lambda r: sum(norm_label(v) in need for v in raw.iloc[r].tolist()))
        missing = need if best is None else [n for n in need if n not in {norm_label(v) for v in raw.iloc[best]}]
        raise IngestError(file, f"sheet {chosen!r} has no header row with {', '.join(repr(x) for x in required)} "
                                f"in its first {HEADER_SEARCH_ROWS} rows (missing: {', '.join(missing)})")
    header = raw.iloc[header_at].tolist()
    body = raw.iloc[header_at + 1:]
    if stop_at_blank:
        blank = body.isna().all(axis=1) | body.map(lambda v: isinstance(v, str) and not v.strip()).all(axis=1)
        if blank.any():
            body = body.iloc[: int(blank.to_numpy().argmax())]
    empty_cell = body.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))
    blank = body.isna().all(axis=1) | empty_cell.all(axis=1)
    body = body[~blank.to_numpy()]
    keep = [i for i, h in enumerate(header) if norm_label(h) or not body.iloc[:, i].isna().all()]
    cols = []
    seen: dict[str, int] = {}
    for i in keep:
        label = str(header[i]).strip() if norm_label(header[i]) else f"column {i + 1}"
        if label in seen:  # repeated labels (e.g. one per group of columns) get a suffix, as pandas does
            seen[label] += 1
            label = f"{label}.{seen[label]}"
        else:
            seen[label] = 0
        cols.append(label)
    frame = body.iloc[:, keep].copy()
    frame.columns = cols
    sheet_rows = [int(i) + 1 for i in frame.index]  # pandas row i is Excel row i + 1
    frame = frame.reset_index(drop=True)
    title = [[str(v).strip() for v in raw.iloc[r].tolist() if norm_label(v)] for r in range(header_at)]
    return Table(file=file, sheet=chosen, frame=frame, header_row=header_at + 1, title_block=[t for t in title if t],
                 rows=sheet_rows, above=[raw.iloc[r].tolist() for r in range(header_at)], positions=keep)
