"""Small official-looking workbooks for loader tests: sheets given as rows of cells (a title block, a header, rows)."""

from __future__ import annotations

import io

from openpyxl import Workbook


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx whose sheets hold the given rows (``None`` = an empty cell), in order."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def load_all(kind: str, files, engine) -> list:
    """Load every file with ``partnering.ingest.load``; each must load, with no rejected row."""
    from partnering.ingest import load

    reports = [load(kind, f, engine) for f in files]
    assert [(r.status, r.rows_rejected) for r in reports] == [("loaded", 0)] * len(files), [r.line() for r in reports]
    return reports


def folder_files(folder, pattern: str, expected: int) -> list:
    """The files of a ../shared/data/nhs folder, sorted by name; there must be ``expected`` of them (MANIFEST)."""
    files = sorted(folder.glob(pattern))
    assert len(files) == expected, [f.name for f in files]
    return files
