"""NHS Staff Survey detailed spreadsheets (organisational results and national results).

Both workbooks have one sheet per question group.  Over each group of columns sits its label ("Staff Engagement -
Staff engagement", "PP3_2 - Raising concerns", "Q20a - I would feel secure raising concerns about unsafe clinical
practice.") and under it the header row ("ODS code" / "Base" ..., "... - score" or "% Agree", "% Strongly agree",
"Base (number of responses)").  The loader finds each sheet's table by its header row and each group by its label
(:meth:`partnering.ingest.workbook.Table.group_label`), never by a fixed row or column.

* **Organisational file** (``ODS code`` column): one row per organisation; every trust is required to take part,
  CSUs, ICBs and social enterprises may.
* **National file** (``Base`` / ``Breakdown`` columns): the row with Base "National" and no breakdown is England,
  stored as ``ENG``; the region, ICS and staff-group breakdowns are not stored.

Stored per organisation (scores 0–10, higher is better; the survey's own weighted scores):

* the staff engagement theme score and its three sub-scores (motivation, involvement, advocacy), and morale;
* the seven People Promise element scores and the "raising concerns" sub-score (PP3_2) of "We each have a voice
  that counts";
* the four raising-concerns questions as % positive (agree + strongly agree): Q20a secure raising concerns about
  unsafe clinical practice, Q20b confident the organisation would address the concern, Q25e safe to speak up about
  anything, Q25f confident the organisation would address it.

Which of these the NHS Oversight Framework 2025/26 scores: its methodology manual's worked example scores an "NHS
Staff Survey engagement score" and an "NHS staff survey safety score" (NHS England, *NHS Oversight Framework
2025/26 – methodology manual*, 26 June 2025, Figure 1; definitions in the *technical metric specification
document 2025/26*, https://www.england.nhs.uk/long-read/nhs-oversight-framework-technical-metric-specification-
document-2025-26); the catalogue marks the engagement score and the raising-concerns sub-score with ``nof``.

Period: the survey year (from the sheet title "NHS Staff Survey 2024 - ...") is stored under its last month,
``2024-12`` (:mod:`partnering.ingest.national`).  Cells the survey suppresses (fewer than 10 responses) are blank
or "*": no value.  Any other non-numeric cell rejects its row with sheet, row, column and reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed
from partnering.ingest.national import ENGLAND_CODE, ENGLAND_KIND, ENGLAND_NAME, load_workbooks
from partnering.ingest.values import parse_numbers
from partnering.ingest.workbook import read_table, sheet_names

KIND = "staff-survey"

# indicator -> (sheet, the group label's code before " - ")
SCORES = {
    "nss_engagement": ("THEMES", "Staff Engagement"),
    "nss_engagement_motivation": ("THEMES", "E_1"),
    "nss_engagement_involvement": ("THEMES", "E_2"),
    "nss_engagement_advocacy": ("THEMES", "E_3"),
    "nss_morale": ("THEMES", "Morale"),
    "nss_pp1_compassionate_inclusive": ("PEOPLE PROMISE ELEMENTS", "PP1"),
    "nss_pp2_recognised_rewarded": ("PEOPLE PROMISE ELEMENTS", "PP2"),
    "nss_pp3_voice_that_counts": ("PEOPLE PROMISE ELEMENTS", "PP3"),
    "nss_pp3_2_raising_concerns": ("PEOPLE PROMISE ELEMENTS", "PP3_2"),
    "nss_pp4_safe_healthy": ("PEOPLE PROMISE ELEMENTS", "PP4"),
    "nss_pp5_always_learning": ("PEOPLE PROMISE ELEMENTS", "PP5"),
    "nss_pp6_work_flexibly": ("PEOPLE PROMISE ELEMENTS", "PP6"),
    "nss_pp7_team": ("PEOPLE PROMISE ELEMENTS", "PP7"),
}
QUESTIONS = {
    "nss_q20a_secure_raising_concerns_pct": ("HEALTH WELLBEING SAFETY Q18-22", "Q20a"),
    "nss_q20b_confident_concern_addressed_pct": ("HEALTH WELLBEING SAFETY Q18-22", "Q20b"),
    "nss_q25e_safe_to_speak_up_pct": ("YOUR ORGANISATION Q25-26", "Q25e"),
    "nss_q25f_confident_speaking_up_addressed_pct": ("YOUR ORGANISATION Q25-26", "Q25f"),
}
SUPPRESSED = {"*", "", "-"}  # fewer than 10 responses: not displayed


def _benchmark_kind(group: str) -> str | None:
    """The organisation kind the survey's benchmarking group shows (used only to create an unknown organisation)."""
    g = str(group or "").lower()
    if "ambulance" in g:
        return "ambulance_trust"
    if "acute specialist" in g:
        return "specialist_trust"
    if "acute" in g:
        return "acute_trust"
    if "mental health" in g:
        return "mental_health_trust"
    if g.startswith("community"):
        return "community_trust"
    return None


def _label_code(label: str | None) -> str:
    return str(label or "").split(" - ", 1)[0].strip().lower()


def parse_staff_survey(data: bytes, file: str) -> Parsed:
    names = sheet_names(data, file)
    parsed = Parsed(kind=KIND, file=file)
    frames: list[pd.DataFrame] = []
    orgs: dict[str, tuple[str, str | None]] = {}
    year = None
    bad_orgs: set[str] = set()
    for sheet in dict.fromkeys(s for s, _ in (*SCORES.values(), *QUESTIONS.values())):
        if not any(n.strip().lower() == sheet.lower() for n in names):
            raise IngestError(file, f"has no sheet {sheet!r}: not an NHS Staff Survey detailed spreadsheet "
                                    f"(sheets: {', '.join(names)})")
        t = _read(data, file, sheet)
        year = year or _survey_year(t)
        codes, keep_rows, kinds, org_names = _rows(t)
        label_row = _label_row(t)
        wanted = {**{k: v for k, v in SCORES.items() if v[0] == sheet},
                  **{k: v for k, v in QUESTIONS.items() if v[0] == sheet}}
        groups: dict[str, list[str]] = {}
        for c in t.frame.columns:
            groups.setdefault(_label_code(t.group_label(c, label_row)), []).append(c)
        def numbers(col, t=t, keep_rows=keep_rows, codes=codes):
            v, bad = _numbers(t, col, keep_rows, parsed)
            bad_orgs.update(codes[bad])
            return v

        for ind, (_, code) in wanted.items():
            cols = groups.get(code.lower())
            if not cols:
                raise IngestError(file, f"sheet {t.sheet!r} has no column group {code!r}", row=label_row)
            if ind in SCORES:
                col = next((c for c in cols if c.lower().endswith("score")), None)
                value = numbers(col) if col else None
                if value is None:
                    raise IngestError(file, f"sheet {t.sheet!r}: group {code!r} has no score column", row=t.header_row)
                num = den = np.full(len(value), np.nan)
            else:
                pos = [c for c in cols if re.sub(r"\.\d+$", "", c).strip().lower() in ("% agree", "% strongly agree")]
                base = next((c for c in cols if c.lower().startswith("base")), None)
                if len(pos) != 2 or base is None:
                    raise IngestError(file, f"sheet {t.sheet!r}: question {code!r} lacks '% Agree', '% Strongly "
                                            "agree' or its base column", row=t.header_row)
                value = numbers(pos[0]) + numbers(pos[1])
                den = numbers(base)
                num = value * den / 100.0  # weighted positive responses: num / den is the published %
            frames.append(pd.DataFrame({"org_code": codes, "indicator": ind, "numerator": num, "denominator": den,
                                        "value": value, "line": np.asarray(t.rows)[keep_rows]}))
        for c, k, n in zip(codes, kinds, org_names):
            orgs.setdefault(c, (n, k))
    if year is None:
        raise IngestError(file, "the survey year cannot be read from the sheet titles ('NHS Staff Survey 2024 - ...')")
    obs = pd.concat(frames, ignore_index=True)
    obs = obs[~obs["org_code"].isin(bad_orgs) & obs["value"].notna()]  # a rejected row loads nothing; suppressed: none
    obs["period"] = f"{year}-12"
    parsed.period = f"{year}-12"
    parsed.observations = obs.reset_index(drop=True)
    parsed.organisations_seen = pd.DataFrame(
        [{"org_code": c, "name": n, "kind": k} for c, (n, k) in orgs.items()])
    parsed.rows_read = len(orgs)
    parsed.rows_loaded = len(set(orgs) - bad_orgs)
    parsed.notes.append(f"NHS Staff Survey {year}, stored under {year}-12 (the survey year's last month)")
    return parsed


def _read(data: bytes, file: str, sheet: str):
    """The sheet's table: organisational results have an "ODS code" column, national results "Base"/"Breakdown"."""
    try:
        return read_table(data, file, sheet, ["ODS code", "Organisation name"])
    except IngestError as first:
        try:
            return read_table(data, file, sheet, ["Base", "Breakdown"])
        except IngestError:
            raise first from None


def _survey_year(t) -> int | None:
    for cells in t.title_block:
        for c in cells:
            m = re.search(r"staff survey (20\d\d)", str(c), re.IGNORECASE)
            if m:
                return int(m.group(1))
    return None


def _label_row(t) -> int:
    """The row above the header holding the group labels ("E_1 - Motivation", "Q20a - ...")."""
    best, hits = 1, -1
    for r, cells in enumerate(t.above, start=1):
        n = sum(bool(re.match(r"^\s*(Q\d+[a-z]?|PP\d|E_\d|M_\d|Staff Engagement|Morale)\s+-\s", str(c))) for c in cells)
        if n > hits:
            best, hits = r, n
    if hits <= 0:
        raise IngestError(t.file, f"sheet {t.sheet!r} has no row of question or score labels above its header",
                          row=t.header_row)
    return best


def _rows(t):
    """The rows to store: organisations (organisational file) or the national all-staff row (national file)."""
    f = t.frame
    if any(c.strip().lower() == "ods code" for c in f.columns):
        code = f[t.column("ODS code")].map(lambda v: "" if pd.isna(v) else str(v).strip().upper())
        keep = np.flatnonzero(code.to_numpy() != "")
        group = f[t.column("Benchmarking group")] if "benchmarking group" in [c.lower() for c in f.columns] else None
        kinds = [_benchmark_kind(group.iat[i]) if group is not None else None for i in keep]
        names = [str(f[t.column("Organisation name")].iat[i]).strip() for i in keep]
        codes = code.to_numpy()[keep]
        dup = pd.Series(codes).duplicated()
        if dup.any():
            i = keep[np.flatnonzero(dup.to_numpy())[0]]
            raise IngestError(t.file, f"organisation {codes[dup.to_numpy()][0]} appears on more than one row",
                              row=t.excel_row(int(i)))
        return codes, keep, kinds, names
    base = f[t.column("Base")].map(lambda v: "" if pd.isna(v) else str(v).strip().lower())
    brk = f[t.column("Breakdown")].map(lambda v: "" if pd.isna(v) else str(v).strip())
    keep = np.flatnonzero(((base == "national") & (brk == "")).to_numpy())
    if len(keep) != 1:
        raise IngestError(t.file, f"sheet {t.sheet!r} has {len(keep)} national rows without a breakdown; expected one")
    return np.array([ENGLAND_CODE]), keep, [ENGLAND_KIND], [ENGLAND_NAME]


def _numbers(t, col: str, rows: np.ndarray, parsed: Parsed) -> tuple[np.ndarray, np.ndarray]:
    """The numbers in ``col`` for ``rows`` and which are not numbers (each a rejected row); suppressed cells are
    NaN."""
    cells = t.frame[col].to_numpy(dtype=object)[rows]
    shown = np.array([not (isinstance(c, str) and c.strip() in SUPPRESSED) for c in cells])
    v, bad = parse_numbers(np.where(shown, cells, None), dash_is_zero=False)
    for i in np.flatnonzero(bad):
        parsed.rejected.append((t.excel_row(int(rows[i])), col,
                                f"sheet {t.sheet!r}: '{str(cells[i]).strip()}' is not a number"))
    return v, bad


def load_staff_survey(path: str | Path, engine=None, **batch_opts):
    """Load an NHS Staff Survey detailed spreadsheet (organisational or national), or every one in a folder."""
    return load_workbooks(KIND, path, parse_staff_survey, engine, **batch_opts)
