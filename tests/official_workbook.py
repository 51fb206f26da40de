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
