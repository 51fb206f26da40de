"""NHS England Referral to Treatment "Incomplete-Provider" data (sheet saved as CSV).

:func:`load_rtt` also takes NHS England's monthly "Full CSV data file" (a zip of one CSV, or the CSV), which it
hands to :mod:`partnering.ingest.rtt_extract` when the header says so.

One row per provider x treatment function, with weekly wait bands
(``>0-1`` ... ``104 plus``), totals, % within 18 weeks, median and 92nd
percentile waits and 52/65/78+ week counts.  Values are strings ("-" = 0,
"1,105", "53.80%").  The file has no period column: the month comes from the
file name (``Incomplete-Provider-Mar25-...``) or an explicit ``period``, and a
file whose month cannot be known is refused.

Per provider the total row (treatment function ``C_999``) gives the headline
indicators; every other treatment function gives the same indicators as a
breakdown (indicator code ``<indicator>:<treatment function code>``).

Checks: each row's "Total within 18 weeks" must equal the sum of its first 18
weekly bands and its total must be at least the sum of all bands; a row that
fails is rejected with the difference.  The provider's C_999 row must equal the
sum of its treatment-function rows (checked on totals; a failure rejects the
file, as it means the file was cut or edited).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import Parsed, decode_text, load_file
from partnering.ingest.values import month_from_text, parse_numbers, valid_period

KIND = "rtt"
TOTAL_TF = "C_999"

_REQUIRED = {
    "region": "region code",
    "code": "provider code",
    "name": "provider name",
    "tf": "treatment function code",
    "tf_name": "treatment function",
    "total": "total number of incomplete pathways",
    "within18": "total within 18 weeks",
    "pct18": "% within 18 weeks",
    "median": "average (median) waiting time (in weeks)",
    "p92": "92nd percentile waiting time (in weeks)",
    "w52": "total 52 plus weeks",
    "w65": "total 65 plus weeks",
    "w78": "total 78 plus weeks",
}
_BAND = re.compile(r"^>(\d+)-(\d+)$")


def _period_from_name(name: str) -> str | None:
    m = re.search(r"incomplete-provider-([a-z]{3})(\d{2})", name.lower())
    if m:
        return month_from_text(f"{m.group(1)}{m.group(2)}")
    return month_from_text(name)


def parse_rtt(data: bytes, file: str, period: str | None = None) -> Parsed:
    if period is not None and not valid_period(period):
        raise IngestError(file, f"period {period!r} is not an ISO month (YYYY-MM)")
    period = period or _period_from_name(Path(file).name)
    if period is None:
        raise IngestError(file, "RTT files carry no period column and the month cannot be read from the file name "
                                "(expected e.g. 'Incomplete-Provider-Mar25-...'); give --period YYYY-MM")
    text = decode_text(data, file)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(file, f"is not a readable CSV file: {str(exc).strip()}") from None
    norm = {re.sub(r"\s+", " ", str(c).strip().lower()): c for c in raw.columns}
    cols = {}
    for key, want in _REQUIRED.items():
        if want not in norm:
            raise IngestError(file, f"is not an RTT Incomplete-Provider file: no '{want}' column", row=1)
        cols[key] = norm[want]
    bands = [(int(_BAND.match(n).group(1)), c) for n, c in norm.items() if _BAND.match(n)]
    bands.sort()
    plus = [c for n, c in norm.items() if re.fullmatch(r"\d+ plus", n)]
    if len(bands) < 52:
        raise IngestError(file, f"has {len(bands)} weekly wait bands; expected >0-1 ... 104 plus", row=1)
    parsed = Parsed(kind=KIND, file=file, period=period)
    cells = raw.to_numpy(dtype=object)
    blank = np.array([all(not str(c).strip() for c in row) for row in cells], dtype=bool) if len(cells) else \
        np.zeros(0, dtype=bool)
    raw = raw[~blank]
    lines = np.flatnonzero(~blank) + 2
    parsed.rows_read = len(raw)
    if raw.empty:
        raise IngestError(file, "has a header but no rows")

    bad_any = np.zeros(len(raw), dtype=bool)
    num = {}
    for key in ("total", "within18", "median", "p92", "w52", "w65", "w78", "pct18"):
        v, bad = parse_numbers(raw[cols[key]], dash_is_zero=key not in ("median", "p92", "pct18"))
        num[key] = v
        for i in np.flatnonzero(bad):
            cell = str(raw[cols[key]].iloc[i]).strip()
            parsed.rejected.append((int(lines[i]), cols[key], f"'{cell}' is not a number"))
        bad_any |= bad
    # every weekly band in one pass (few distinct strings among ~400,000 cells)
    band_cols = [c for _, c in bands] + plus
    block, bad_block = parse_numbers(raw[band_cols].to_numpy(dtype=object))
    block = np.nan_to_num(block)
    for i, j in zip(*np.nonzero(bad_block[:, :18])):
        c = band_cols[j]
        parsed.rejected.append((int(lines[i]), c, f"'{str(raw[c].iloc[i]).strip()}' is not a number"))
    bad_any |= bad_block.any(axis=1)
    band_vals = [block[:, j] for j in range(18)]
    all_bands = [block[:, j] for j in range(block.shape[1])]
    within = np.sum(band_vals, axis=0)
    sum_all = np.sum(all_bands, axis=0)
    total = np.nan_to_num(num["total"])
    inconsistent = ~bad_any & (np.abs(within - np.nan_to_num(num["within18"])) > 0.5)
    for i in np.flatnonzero(inconsistent):
        parsed.rejected.append((int(lines[i]), cols["within18"],
                                f"'Total within 18 weeks' is {num['within18'][i]:,.0f} but the first 18 weekly bands "
                                f"sum to {within[i]:,.0f}"))
    short = ~bad_any & ~inconsistent & (total + 0.5 < sum_all)
    for i in np.flatnonzero(short):
        parsed.rejected.append((int(lines[i]), cols["total"],
                                f"total {total[i]:,.0f} is less than the sum of the weekly bands {sum_all[i]:,.0f}"))
    order = ~bad_any & ~inconsistent & ~short & ~(
        (np.nan_to_num(num["w78"]) <= np.nan_to_num(num["w65"]) + 0.5)
        & (np.nan_to_num(num["w65"]) <= np.nan_to_num(num["w52"]) + 0.5)
        & (np.nan_to_num(num["w52"]) <= total + 0.5))
    for i in np.flatnonzero(order):
        parsed.rejected.append((int(lines[i]), cols["w78"], "78+ ≤ 65+ ≤ 52+ ≤ total does not hold"))
    code = raw[cols["code"]].astype(str).str.strip().to_numpy(dtype=object)
    tf = raw[cols["tf"]].astype(str).str.strip().to_numpy(dtype=object)
    empty = (code == "") | (tf == "")
    for i in np.flatnonzero(empty):
        parsed.rejected.append((int(lines[i]), cols["code"] if code[i] == "" else cols["tf"], "empty code"))
    keep = ~(bad_any | inconsistent | short | order | empty)

    # the C_999 row must be the sum of the provider's other rows (a cut file fails here)
    df = pd.DataFrame({"code": code, "tf": tf, "total": total, "keep": keep, "line": lines})
    dups = df.duplicated(["code", "tf"], keep=False)
    if dups.any():
        d = df[dups].iloc[0]
        raise IngestError(file, f"provider {d.code} treatment function {d.tf} appears on more than one row",
                          row=int(d.line))
    tfs = df[df.tf != TOTAL_TF].groupby("code")["total"].sum()
    tots = df[df.tf == TOTAL_TF].set_index("code")["total"]
    missing_total = sorted(set(tfs.index) - set(tots.index))
    if missing_total:
        raise IngestError(file, f"providers without a total (C_999) row: {', '.join(missing_total[:5])}"
                                + (" ..." if len(missing_total) > 5 else "") + " — the file may be truncated")
    diff = (tots.reindex(tfs.index) - tfs).abs()
    off = diff[diff > 0.5]
    if len(off):
        c = off.index[0]
        raise IngestError(file, f"provider {c}: treatment functions sum to {tfs[c]:,.0f} but its C_999 total row "
                                f"says {tots[c]:,.0f} ({len(off)} providers differ) — the file may be cut or edited")

    k = np.flatnonzero(keep)
    codes, tf_k = code[k], tf[k]
    suffix = np.where(tf_k == TOTAL_TF, "", ":" + tf_k)
    frames = []

    def add(ind, value, numerator=None, denominator=None):
        frames.append(pd.DataFrame({
            "org_code": codes, "indicator": np.char.add(ind, suffix.astype(str)),
            "numerator": np.nan if numerator is None else numerator[k],
            "denominator": np.nan if denominator is None else denominator[k], "value": value[k],
        }))

    add("rtt_incomplete_pathways", total)
    pct = np.where(total > 0, 100.0 * within / np.where(total > 0, total, 1), np.nan)
    add("rtt_within_18w_pct", pct, within, total)
    add("rtt_over_52w", np.nan_to_num(num["w52"]))
    add("rtt_over_65w", np.nan_to_num(num["w65"]))
    add("rtt_over_78w", np.nan_to_num(num["w78"]))
    add("rtt_median_wait_weeks", num["median"])
    add("rtt_p92_wait_weeks", num["p92"])
    obs = pd.concat(frames, ignore_index=True)
    obs = obs[~(obs["value"].isna() & obs["numerator"].isna())]
    obs["period"] = period
    parsed.observations = obs
    names = raw[cols["name"]].astype(str).str.strip().to_numpy(dtype=object)[k]
    parsed.organisations_seen = pd.DataFrame({"org_code": codes, "name": names}).drop_duplicates("org_code")
    parsed.rows_loaded = int(keep.sum())
    return parsed


def load_rtt(path: str | Path, engine=None, period: str | None = None, **batch_opts):
    """Load an RTT file: the monthly Full CSV data file (zipped or not; :mod:`partnering.ingest.rtt_extract`) or an
    Incomplete-Provider sheet saved as CSV, told apart by the header."""
    from partnering.ingest import rtt_extract

    if rtt_extract.is_full_extract(path):
        return rtt_extract.load_rtt_extract(path, engine, period=period, **batch_opts)
    batch_opts.pop("frames", None)  # treatment-function frames come from the Full CSV data file only
    return load_file(KIND, path, parse_rtt, engine, period=period, **batch_opts)
