"""The register as a file: import from CSV or XLSX (row-level errors: file, line, column, reason) and export to
either (the same columns, so an exported file edited and imported again updates the entries it names by ``id``).

List fields are written in one cell each:

* ``parties``: ``role:CODE-or-name`` separated by ``;``, e.g. ``university:University of Ulstead; technology_partner:
  XC2`` (a value that looks like an ODS code — 3 to 6 capital letters or digits — is a code, anything else a name);
* ``targets``: ``indicator_code[@ORG]:baseline:target:target_month`` separated by ``;``, e.g.
  ``ae_4hr_pct:71.2:78:2026-03`` (any part may be empty; the series is the recipient's unless ``@ORG`` names one).

An import is all or nothing: every row is checked first, and nothing is written when any row has a problem; every
problem is reported, not only the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from partnering.errors import IngestError, ValidationError
from partnering.register.changes import EntryInvalid, add_in, check_against_store, update_in, validate_entry
from partnering.register.entry import ENTRY_FIELDS
from partnering.store import audit
from partnering.store.partnerships import INGREDIENTS, PartnershipRecord, get_partnership

FILE_COLUMNS = ["id", "recipient_code", "supporter_code", "form", "start_period", "end_period", "title", "status",
                "mandated", "mandated_by", "aims", *INGREDIENTS, "lessons", "appraisal_case_id", "renews_id",
                "parties", "targets"]
REQUIRED_COLUMNS = ("recipient_code", "supporter_code", "form")
ODS_LIKE = re.compile(r"^[A-Z0-9]{3,6}$")
TRUE = {"yes", "y", "true", "1"}
FALSE = {"no", "n", "false", "0", ""}
#: the largest file an import reads (rows): a register is hundreds of entries, not millions
MAX_ROWS = 10_000


@dataclass
class ImportResult:
    file: str
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"file": self.file, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": [{"file": e.file, "line": e.row, "column": e.column, "reason": e.reason}
                           for e in self.errors]}


def _format_number(v) -> str:
    return "" if v is None else f"{v:g}"


def parties_cell(rec: PartnershipRecord) -> str:
    return "; ".join(f"{p.role}:{p.org_code or p.name}" for p in rec.parties if p.role not in ("recipient",
                                                                                              "supporter"))


def targets_cell(rec: PartnershipRecord) -> str:
    out = []
    for t in rec.targets:
        code = t.indicator_code + ("" if t.org_code == rec.recipient_code else f"@{t.org_code}")
        out.append(":".join([code, _format_number(t.baseline), _format_number(t.target), t.target_period or ""]))
    return "; ".join(out)


def register_frame(engine: Engine, ids: list[int] | None = None) -> pd.DataFrame:
    """Every entry (or ``ids``) as one row of :data:`FILE_COLUMNS`, oldest first."""
    from partnering.store.repository import partnerships_frame

    all_ids = [int(i) for i in partnerships_frame(engine)["id"]] if ids is None else [int(i) for i in ids]
    rows = []
    for pid in sorted(all_ids):
        rec = get_partnership(engine, pid)
        row = {c: getattr(rec, c, None) for c in FILE_COLUMNS if c not in INGREDIENTS}
        row.update(rec.ingredients)
        row["mandated"] = "yes" if rec.mandated else "no"
        row["parties"] = parties_cell(rec)
        row["targets"] = targets_cell(rec)
        rows.append(row)
    df = pd.DataFrame(rows, columns=FILE_COLUMNS)
    for c in ("id", "appraisal_case_id", "renews_id"):  # whole numbers, blank where none (not 1.0 / nan)
        df[c] = df[c].astype("Int64")
    return df


def export_partnerships(engine: Engine, path: str | Path, ids: list[int] | None = None) -> pd.DataFrame:
    """Write the register to ``path`` (``.csv`` or ``.xlsx``, by extension); returns what was written."""
    path = Path(path)
    df = register_frame(engine, ids)
    if path.suffix.lower() == ".xlsx":
        df.to_excel(path, index=False, sheet_name="partnerships")
    elif path.suffix.lower() == ".csv":
        df.to_csv(path, index=False)
    else:
        raise ValidationError(f"{path.name}: export to .csv or .xlsx")
    return df


def read_table(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """A CSV or XLSX file as text cells (blank as ''), by its extension."""
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".xlsx":
            df = pd.read_excel(path, dtype=str, keep_default_na=False, sheet_name=0)
        elif suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            raise IngestError(name, "import a .csv or .xlsx file")
    except IngestError:
        raise
    except Exception as exc:  # unreadable file: one line naming it
        raise IngestError(name, f"cannot read the file: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def parse_parties(cell: str) -> list[dict]:
    out = []
    for part in filter(None, (p.strip() for p in cell.split(";"))):
        role, sep, who = part.partition(":")
        if not sep or not who.strip():
            raise ValueError(f"party {part!r} is not role:CODE-or-name")
        who = who.strip()
        out.append({"role": role.strip(), "org_code": who.upper(), "name": None} if ODS_LIKE.fullmatch(who.upper())
                   and who == who.upper() else {"role": role.strip(), "org_code": None, "name": who})
    return out


def parse_targets(cell: str) -> list[dict]:
    out = []
    for part in filter(None, (p.strip() for p in cell.split(";"))):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) > 4:
            raise ValueError(f"target {part!r} has more than indicator:baseline:target:month")
        bits += [""] * (4 - len(bits))
        code, _, org = bits[0].partition("@")
        if not code:
            raise ValueError(f"target {part!r} names no indicator")
        for label, b in (("baseline", bits[1]), ("target", bits[2])):
            if b:
                try:
                    float(b)
                except ValueError:
                    raise ValueError(f"target {part!r}: {label} {b!r} is not a number") from None
        out.append({"indicator_code": code, "org_code": org or None, "baseline": bits[1] or None,
                    "target": bits[2] or None, "target_period": bits[3] or None})
    return out


def _column_of(loc: str) -> str | None:
    head = loc.split(".")[0] if loc else ""
    return head or None


def _row_entry(row: dict) -> dict:
    data = {k: v for k, v in row.items() if k in ENTRY_FIELDS and k not in ("parties", "targets")}
    m = str(row.get("mandated", "")).strip().lower()
    if "mandated" in row:
        if m in TRUE:
            data["mandated"] = True
        elif m in FALSE:
            data["mandated"] = False
        else:
            raise EntryInvalid([("mandated", f"mandated must be yes or no (got {row['mandated']!r})")])
    problems = []
    for col, parse in (("parties", parse_parties), ("targets", parse_targets)):
        if col in row:
            try:
                data[col] = parse(str(row[col]))
            except ValueError as exc:
                problems.append((col, str(exc)))
    if problems:
        raise EntryInvalid(problems)
    return data


def import_partnerships(engine: Engine, path: str | Path, actor: str | None = None, name: str | None = None
                        ) -> ImportResult:
    """Import register entries from a CSV or XLSX file of :data:`FILE_COLUMNS` (those after ``form`` optional).

    A row with an ``id`` updates that entry (only where something changed); a row without one adds an entry.
    Every problem is an :class:`~partnering.errors.IngestError` (file, line — the header is line 1 —, column,
    reason) in ``errors``; when there are any, nothing is written.  Audited like any other write.
    """
    name = name or Path(path).name
    df = read_table(path, name)
    result = ImportResult(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    unknown = [c for c in df.columns if c not in FILE_COLUMNS]
    if missing:
        result.errors.append(IngestError(name, f"missing column(s) {', '.join(missing)}", row=1))
    for c in unknown:
        result.errors.append(IngestError(name, f"unknown column (columns: {', '.join(FILE_COLUMNS)})", row=1,
                                         column=c))
    if len(df) > MAX_ROWS:
        result.errors.append(IngestError(name, f"{len(df):,} rows: import at most {MAX_ROWS:,} at a time"))
    if result.errors:
        return result
    actor = actor or audit.default_actor()
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            for i, row in enumerate(df.to_dict("records")):
                line = i + 2
                pid_text = str(row.pop("id", "") or "").strip()
                try:
                    data = _row_entry(row)
                    if pid_text:
                        if not pid_text.isdigit():
                            raise EntryInvalid([("id", f"id must be a whole number (got {pid_text!r})")])
                        before = get_partnership(conn, int(pid_text)).version
                        rec = update_in(conn, int(pid_text), data, actor, action="import")
                        (result.updated if rec.version != before else result.unchanged).append(rec.id)
                    else:
                        entry = validate_entry(data)
                        check_against_store(conn, entry)
                        result.created.append(add_in(conn, entry, actor, action="import").id)
                except EntryInvalid as exc:
                    for loc, msg in exc.problems:
                        col = _column_of(loc)
                        result.errors.append(IngestError(name, msg, row=line, column=col if col in df.columns
                                                         or col == "id" else None))
                except Exception as exc:  # NotFoundError for an unknown id, and the like: still one row's problem
                    from partnering.errors import PartneringError

                    if not isinstance(exc, PartneringError):
                        raise
                    result.errors.append(IngestError(name, exc.user_message(), row=line,
                                                     column="id" if pid_text else None))
        except BaseException:
            trans.rollback()
            raise
        if result.errors:
            trans.rollback()
            result.created, result.updated, result.unchanged = [], [], []
        else:
            trans.commit()
    return result
