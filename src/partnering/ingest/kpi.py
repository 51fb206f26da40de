"""Generic long-format KPI files, so any trust or partner can load its own measures.

Columns (names case-insensitive, in any order): ``org_code, indicator, period``
and either ``value`` or ``numerator`` and ``denominator`` (or all three).
CSV, Parquet or XLSX (first sheet).  Periods are ISO months (``2025-03``);
``2025-03-01`` and ``Mar 2025`` are accepted and normalised.

A row is rejected (with line, column and reason) when its code or indicator is
empty, its period is not a month, a number does not parse, a denominator is
zero or negative, a numerator exceeds its denominator for a percent indicator,
or the same (org, indicator, period) appears twice.  When ``value`` is absent
it is computed as 100 x numerator / denominator (percent).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError, ValidationError
from partnering.indicators.catalogue import UNITS, indicator
from partnering.ingest import rules
from partnering.ingest.base import Parsed, decode_text, load_file
from partnering.ingest.values import month_from_text, parse_numbers, valid_period
from partnering.store.models import ORG_KINDS

KIND = "kpi"
MAX_ROWS = 5_000_000


def _read_table(data: bytes, file: str) -> tuple[pd.DataFrame, int]:
    """The file as strings, and the physical line of its first data row."""
    suffix = Path(file).suffix.lower()
    try:
        if data[:4] == b"PAR1" or suffix == ".parquet":
            df = pd.read_parquet(io.BytesIO(data))
            return df.astype(object).where(df.notna(), None).astype(str).replace("None", ""), 1
        if data[:2] == b"PK" or suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl")
            return df, 2
    except Exception as exc:  # parquet/openpyxl raise many exception types for corrupt input
        raise IngestError(file, f"cannot be read as {suffix.lstrip('.') or 'a table'}: {exc}") from None
    text = decode_text(data, file)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False), 2
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(file, f"is not a readable CSV file: {str(exc).strip()}") from None


def parse_kpi(data: bytes, file: str) -> Parsed:
    raw, first_line = _read_table(data, file)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    for need in ("org_code", "indicator", "period"):
        if need not in raw.columns:
            raise IngestError(file, f"has no '{need}' column (found: {', '.join(raw.columns)})", row=1)
    has_value = "value" in raw.columns
    has_ratio = "numerator" in raw.columns and "denominator" in raw.columns
    if not (has_value or has_ratio):
        raise IngestError(file, "needs a 'value' column or 'numerator' and 'denominator' columns", row=1)
    if len(raw) > MAX_ROWS:
        raise IngestError(file, f"has {len(raw):,} rows; the limit for one file is {MAX_ROWS:,}")
    if raw.empty:
        raise IngestError(file, "has a header but no rows")
    parsed = Parsed(kind=KIND, file=file, rows_read=len(raw))
    lines = np.arange(len(raw)) + first_line
    org = raw["org_code"].astype(str).str.strip().str.upper().to_numpy()
    ind = raw["indicator"].astype(str).str.strip().to_numpy()
    per_raw = raw["period"].astype(str).str.strip()
    period = np.array([p[:7] if valid_period(p[:7]) and (len(p) == 7 or p[7:8] == "-") else month_from_text(p)
                       for p in per_raw], dtype=object)
    bad = np.zeros(len(raw), dtype=bool)

    def reject(mask, column, why):
        nonlocal bad
        for i in np.flatnonzero(mask & ~bad):
            parsed.rejected.append((int(lines[i]), column, why(i) if callable(why) else why))
        bad |= mask

    reject(org == "", "org_code", "empty organisation code")
    reject(np.array([len(o) > 16 or not o.replace("-", "").isalnum() for o in org]), "org_code",
           lambda i: f"'{org[i][:40]}' is not an ODS-style code")
    reject(ind == "", "indicator", "empty indicator")
    reject(np.array([len(x) > 80 for x in ind]), "indicator", "indicator code longer than 80 characters")
    reject(np.array([p is None for p in period]), "period",
           lambda i: f"'{per_raw.iloc[i][:40]}' is not a month (use YYYY-MM)")
    value = num = den = np.full(len(raw), np.nan)
    if has_value:
        value, vbad = parse_numbers(raw["value"])
        reject(vbad, "value", lambda i: f"'{raw['value'].iloc[i][:40]}' is not a number")
    if has_ratio:
        num, nbad = parse_numbers(raw["numerator"])
        den, dbad = parse_numbers(raw["denominator"])
        reject(nbad, "numerator", lambda i: f"'{raw['numerator'].iloc[i][:40]}' is not a number")
        reject(dbad, "denominator", lambda i: f"'{raw['denominator'].iloc[i][:40]}' is not a number")
        reject(~np.isnan(den) & (den <= 0), "denominator", lambda i: f"denominator {den[i]:g} must be positive")
        reject(~np.isnan(num) & (num < 0), "numerator", lambda i: f"numerator {num[i]:g} must not be negative")
        pct = np.array([(d := indicator(x)) is not None and d.unit == "percent" for x in ind])
        reject(pct & (num > den), "numerator", lambda i: f"numerator {num[i]:g} exceeds denominator {den[i]:g}")
        computed = np.where(~np.isnan(num) & ~np.isnan(den) & (den > 0), 100.0 * num / np.where(den > 0, den, 1),
                            np.nan)
        value = np.where(np.isnan(value), computed, value)
    reject(np.isnan(value) & np.isnan(num), "value", "no value and no numerator/denominator")
    reject(~np.isfinite(value) & ~np.isnan(value), "value", "value is not finite")
    df = pd.DataFrame({"org_code": org, "indicator": ind, "period": period, "numerator": num, "denominator": den,
                       "value": value, "line": lines})
    dup = df.duplicated(["org_code", "indicator", "period"], keep="first") & ~bad
    reject(dup.to_numpy(), "org_code", "duplicate row for this organisation, indicator and period")
    units = _declared_units(raw, ind, ~np.isnan(num) & ~np.isnan(den), reject)
    keep = df[~bad]
    parsed.observations = keep  # with its line: rows the store's rules refuse are reported by line
    parsed.unknown_organisations = "reject"
    parsed.units = {k: v for k, v in units.items() if k in set(keep["indicator"])}
    parsed.organisations_seen = pd.DataFrame({"org_code": keep["org_code"].unique(), "name": None})
    parsed.rows_loaded = len(keep)
    ps = sorted(keep["period"].unique())
    parsed.period = ps[0] if len(ps) == 1 else None
    parsed.rejected.sort(key=lambda r: (r[0] or 0))
    return parsed


def _declared_units(raw: pd.DataFrame, ind: np.ndarray, ratio_rows: np.ndarray, reject) -> dict[str, str]:
    """Units a file declares for its indicators (optional ``unit`` column): one unit per indicator, from UNITS.

    Undeclared, an indicator given as numerator and denominator is a percentage, otherwise a plain number."""
    as_ratio = set(ind[ratio_rows])
    col = raw["unit"].astype(str).str.strip().str.lower().to_numpy() if "unit" in raw.columns else None
    if col is None:
        return {x: rules.declared_unit(None, x in as_ratio) for x in set(ind)}
    reject(np.array([u not in UNITS and u not in ("", "nan") for u in col]), "unit",
           lambda i: f"unit '{col[i][:20]}' is not one of {', '.join(UNITS)}")
    first: dict[str, str] = {}
    for x, u in zip(ind, col):
        if u in UNITS:
            first.setdefault(x, u)
    reject(np.array([u in UNITS and first.get(x) != u for x, u in zip(ind, col)]), "unit",
           lambda i: f"unit '{col[i]}' differs from the unit '{first.get(ind[i])}' given for '{ind[i]}' above")
    return {x: rules.declared_unit(first.get(x), x in as_ratio) for x in set(ind)}


def load_kpi(path: str | Path, engine=None, create_organisations: str | None = None, **batch_opts):
    """Load an organisation's own measures.

    Rows for organisations the store does not know are rejected, unless ``create_organisations`` names the kind
    of organisation to create them as (one of :data:`partnering.store.models.ORG_KINDS`); the report then lists
    them.  Rows for official indicators and values impossible for their unit are rejected
    (:mod:`partnering.ingest.rules`).
    """
    if create_organisations is None:
        return load_file(KIND, path, parse_kpi, engine, **batch_opts)
    if create_organisations not in ORG_KINDS:
        raise ValidationError(f"cannot create organisations of kind {create_organisations!r}: choose one of "
                              f"{', '.join(ORG_KINDS)}")

    def parse(data: bytes, file: str) -> Parsed:
        parsed = parse_kpi(data, file)
        parsed.unknown_organisations = create_organisations
        return parsed

    # the same bytes loaded with another rule for new organisations is another load, not a repeat
    return load_file(KIND, path, parse, engine, checksum_salt=f"create:{create_organisations}", **batch_opts)
