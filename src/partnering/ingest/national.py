"""What the loaders of NHS England's workbook publications share: England as an organisation, periods longer than a
month, and loading a folder of files.

* **England.**  The workbooks carry an England row (AmbSYS ``ENG``, KH03 "England", the Staff Survey's national
  file).  It is stored as the organisation :data:`ENGLAND_CODE` ("ENG", AmbSYS's own code for England), of kind
  ``region`` (the national level of the NHS regions), so that a trust's figure can be set beside England's.
* **Periods.**  The store keys every value by an ISO month (``YYYY-MM``).  A value that covers a longer period is
  stored under the *last month it covers*: a quarter (KH03 Q2 2024-25, July to September 2024) under ``2024-09``;
  the Staff Survey 2024, which describes the calendar year 2024 (fieldwork in its autumn), under ``2024-12``.  The
  catalogue marks such indicators with ``frequency = "quarterly"`` or ``"annual"`` so that faces do not read a
  missing month as a gap; docs/data-dictionary.md states the rule.
"""

from __future__ import annotations

from pathlib import Path

from partnering.errors import IngestError
from partnering.ingest.base import load_file
from partnering.ingest.values import _MONTHS

ENGLAND_CODE = "ENG"
ENGLAND_NAME = "England"
ENGLAND_KIND = "region"


def financial_year_month(year: str, month: str) -> str | None:
    """The ISO month of ``month`` (e.g. "AUGUST", "June") in the NHS financial year ``year`` ("2017-18"):
    April to December fall in the first calendar year, January to March in the second."""
    import re

    m = re.fullmatch(r"\s*(20\d\d)\s*[-/]\s*(\d\d)\s*", str(year))
    mon = _MONTHS.get(str(month).strip().lower())
    if not m or mon is None:
        return None
    first = int(m.group(1))
    return f"{first + (1 if mon <= 3 else 0):04d}-{mon:02d}"


def load_workbooks(kind: str, path: str | Path, parse, engine=None, **batch_opts):
    """Load one workbook, or every workbook in a folder, each in its own transaction (:func:`~partnering.ingest.base.
    load_file`).  In a folder a refused file does not stop the others: they load, and then one
    :class:`IngestError` names every refused file with its reason and the files that did load."""
    files = workbooks_in(path)
    if not Path(path).is_dir():
        return load_file(kind, files[0], parse, engine, **batch_opts)
    reports, refused = [], []
    for f in files:
        try:
            reports.append(load_file(kind, f, parse, engine, **batch_opts))
        except IngestError as exc:
            refused.append(exc.user_message())
    if refused:
        done = "; ".join(r.line() for r in reports) or "none"
        raise IngestError(str(path), f"{len(refused)} of {len(files)} workbooks refused, nothing written from them: "
                                     + " | ".join(refused) + f". Loaded: {done}")
    return reports


def workbooks_in(path: str | Path) -> list[Path]:
    """The .xlsx/.xls files of a folder (sorted), or the one file given; a folder without any is refused."""
    p = Path(path)
    if not p.is_dir():
        return [p]
    files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in (".xlsx", ".xls"))
    if not files:
        raise IngestError(str(p), "is a folder without any .xlsx or .xls workbook")
    return files
