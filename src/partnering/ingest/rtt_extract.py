"""NHS England Referral to Treatment "Full CSV data file" (the monthly machine-readable release).

NHS England publishes each month a zip of one CSV (``20260131-RTT-January-2026-full-extract.csv``, ~85 MB,
~183,000 rows): one row per provider x commissioner x RTT part x treatment function, with 105 weekly wait bands
(``Gt 00 To 01 Weeks SUM 1`` ... ``Gt 103 To 104 Weeks SUM 1``, ``Gt 104 Weeks SUM 1``), ``Total``, ``Patients with
unknown clock start date`` and ``Total All``.  The parts (NHS England, "Recording and reporting referral to treatment
(RTT) waiting times for consultant-led elective care", v5.0, February 2025, s.10.1.1.2 — "the RTT guidance" below):

* ``Part_1A`` completed pathways, admitted; ``Part_1B`` completed pathways, non-admitted;
* ``Part_2`` incomplete pathways (the waiting list, a snapshot on the last day of the month);
* ``Part_2A`` incomplete pathways with a decision to admit (a subset of Part_2);
* ``Part_3`` new RTT periods (clock starts) in the month: a count (``Total All``) with no bands.

What is derived, per provider and per provider x treatment function (summed over commissioners):

* waiting list size (Part_2 ``Total All``), % within 18 weeks (the bands 0-1 ... 17-18 weeks over ``Total All``;
  a wait of exactly 18 weeks = 126 days is in the 17-18 band, RTT guidance s.10.1.7), 52+, 65+, 78+ and 104+ week
  waiters (the bands above 52, 65, 78 and 104 weeks, as NHS England's "Total 52 plus weeks" columns count them);
* the median and 92nd percentile wait by linear interpolation within the weekly bands: the wait at which the
  cumulative count reaches 50% (92%) of the pathways, assuming the pathways of the band where it falls are spread
  evenly across that band's week.  NHS England publishes these to one decimal place and only for at least 20
  pathways; this is checked, not assumed: the same interpolation reproduces every one of the 60,190 medians and 92nd
  percentiles NHS England published in the twelve Incomplete-Provider files of Apr 2024 - Mar 2025
  (../shared/data/nhs/rtt-incomplete-provider; tests/integration/test_rtt_extract.py), and every one of those files
  leaves both blank for fewer than 20 pathways and fills them from 20.  (NHS England's statistical notes to the
  monthly RTT press notice describe the median and 92nd percentile as estimated from the weekly time bands; their
  exact wording could not be retrieved where this was written, so the reproduction of the published figures is the
  evidence for the method, not a quotation.)  A percentile falling in the open 104+ band has no upper bound to
  interpolate to and is left empty;
* the same for Part_2A (decision to admit), completed admitted and non-admitted pathways (count, % within 18 weeks,
  median, 92nd percentile) and the number of new clock starts (Part_3).

Unknown clock starts.  ``Patients with unknown clock start date`` is reported for completed pathways only (RTT
guidance s.10.1.5: a provider that cannot identify the clock start reports the pathway in that column).  Such a
pathway has no wait, so it is in no band: it counts in the completed total (``Total All`` = "Total number of
completed pathways (all)" in NHS England's provider workbooks) and is excluded from the % within 18 weeks, the median
and the 92nd percentile, which NHS England computes over "Total number of completed pathways (with a known clock
start)" (``Total`` here) — the columns of its Admitted / Non-Admitted provider sheets.  The file itself shows it:
for Parts 1A/1B every row has ``Total`` = the sum of the bands and ``Total All`` = ``Total`` + unknown; for Parts 2
and 2A ``Total All`` = the sum of the bands.

Provider figures include every commissioner of the provider's rows, ``NONC`` (non-English commissioners, RTT
guidance s.10.1.8) among them, so that they add up to the file's own C_999 rows.  NHS England's England headline
excludes NONC (RTT statistics user guidance, "Reproducibility and derived measures"); :func:`england_summary` gives
both.

Checks (a file that fails one loads nothing and the error names the row or provider, part and column):
the Period column exists and holds one month; every RTT part is one of the five; counts are whole and not
negative; each row adds up (bands = ``Total`` and ``Total`` + unknown = ``Total All`` for completed parts, bands =
``Total All`` for incomplete parts); and per provider x commissioner x part the treatment functions add up to the
C_999 total row on every count column (RTT guidance Annex B: "the total is a sum over all treatment functions").

Memory: the CSV (or the zip member) is read in blocks by pyarrow's streaming CSV reader and reduced block by block
to sums per provider x part x treatment function; no more than one block is held as rows at a time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import BatchReport, Parsed, already_loaded, commit_parsed
from partnering.ingest.values import month_from_text, valid_period

KIND = "rtt"
TOTAL_TF = "C_999"
BLOCK_BYTES = 2 << 20  # pyarrow block size: about 4,300 rows of the January 2026 file per block

PERIOD = "Period"
PROVIDER = "Provider Org Code"
PROVIDER_NAME = "Provider Org Name"
COMMISSIONER = "Commissioner Org Code"
PART = "RTT Part Type"
TF = "Treatment Function Code"
TF_NAME = "Treatment Function Name"
TEXT_COLUMNS = [PERIOD, PROVIDER, PROVIDER_NAME, COMMISSIONER, PART, TF, TF_NAME]
TOTAL, UNKNOWN, TOTAL_ALL = "Total", "Patients with unknown clock start date", "Total All"
BAND_COLUMNS = [f"Gt {k:02d} To {k + 1:02d} Weeks SUM 1" for k in range(104)] + ["Gt 104 Weeks SUM 1"]
COUNT_COLUMNS = BAND_COLUMNS + [TOTAL, UNKNOWN, TOTAL_ALL]
N_BANDS = len(BAND_COLUMNS)  # 105: weeks 0-1 ... 103-104, then 104+

PARTS = {
    "Part_1A": "completed pathways, admitted",
    "Part_1B": "completed pathways, non-admitted",
    "Part_2": "incomplete pathways",
    "Part_2A": "incomplete pathways with a decision to admit",
    "Part_3": "new RTT periods (clock starts)",
}
COMPLETED = ("Part_1A", "Part_1B")
INCOMPLETE = ("Part_2", "Part_2A")

#: NHS England publishes a median and 92nd percentile only for 20 or more pathways (every one of the twelve
#: Incomplete-Provider files of Apr 2024 - Mar 2025 leaves them blank below 20 and fills them from 20)
MIN_PATHWAYS_FOR_PERCENTILES = 20
#: NHS England publishes waits in weeks to one decimal place (rounded half up, as a spreadsheet's ROUND does)
WEEKS_DECIMALS = 1

_PERIOD_TEXT = re.compile(r"^RTT-([A-Za-z]+)-(\d{4})$")


# ------------------------------------------------------------------------------------------- the method


def band_percentile(bands: np.ndarray, q: float, min_pathways: int = MIN_PATHWAYS_FOR_PERCENTILES) -> np.ndarray:
    """The ``q``-quantile wait in weeks of each row of weekly band counts, by linear interpolation within the band.

    ``bands`` is (rows, 105): weeks 0-1, 1-2, ..., 103-104, then 104+.  The wait is ``k + (q*n - below) / in_band``
    where band ``k`` (``k`` to ``k+1`` weeks) is the first whose cumulative count reaches ``q*n``.  Empty where the
    row has fewer than ``min_pathways`` pathways or the quantile falls in the open 104+ band.  Not rounded.
    """
    b = np.asarray(bands, dtype=float)
    if b.ndim != 2 or b.shape[1] != N_BANDS:
        raise ValueError(f"expected (rows, {N_BANDS}) band counts, got {b.shape}")
    n = b.sum(axis=1)
    cum = np.cumsum(b, axis=1)
    target = q * n
    k = np.minimum((cum < target[:, None]).sum(axis=1), N_BANDS - 1)
    below = np.where(k > 0, np.take_along_axis(cum, np.maximum(k - 1, 0)[:, None], axis=1)[:, 0], 0.0)
    in_band = np.take_along_axis(b, k[:, None], axis=1)[:, 0]
    wait = k + (target - below) / np.where(in_band > 0, in_band, 1.0)
    return np.where((n >= min_pathways) & (k < N_BANDS - 1) & (n > 0), wait, np.nan)


def round_weeks(weeks: np.ndarray) -> np.ndarray:
    """Weeks to NHS England's published precision, half up (45.25 -> 45.3); the tiny offset absorbs binary
    representation error (0.92 x 1,234 is not exact in floating point)."""
    scale = 10.0 ** WEEKS_DECIMALS
    return np.floor(np.asarray(weeks, dtype=float) * scale + 0.5 + 1e-9) / scale


def _pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)


def part_measures(bands: np.ndarray, total_all: np.ndarray) -> dict[str, np.ndarray]:
    """Counts and waits of one part from its summed bands (rows, 105) and ``Total All`` (rows,)."""
    bands = np.asarray(bands, dtype=float)
    known = bands.sum(axis=1)
    within = bands[:, :18].sum(axis=1)
    return {
        "pathways": np.asarray(total_all, dtype=float),
        "known_clock_start": known,
        "unknown_clock_start": np.asarray(total_all, dtype=float) - known,
        "within_18w": within,
        "within_18w_pct": _pct(within, known),
        "over_52w": bands[:, 52:].sum(axis=1),
        "over_65w": bands[:, 65:].sum(axis=1),
        "over_78w": bands[:, 78:].sum(axis=1),
        "over_104w": bands[:, 104],
        "median_weeks": round_weeks(band_percentile(bands, 0.5)),
        "p92_weeks": round_weeks(band_percentile(bands, 0.92)),
    }


# ------------------------------------------------------------------------------------------- reading


def is_full_extract(path: str | Path) -> bool:
    """Whether ``path`` is the Full CSV data file (a zip, or a CSV whose header has 'RTT Part Type' or 'Period'
    and the weekly 'Gt ... Weeks SUM 1' bands) rather than an Incomplete-Provider sheet saved as CSV."""
    p = Path(path)
    try:
        if zipfile.is_zipfile(p):
            return True
        with open(p, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    return PART in first or (first.startswith(PERIOD + ",") or "Weeks SUM 1" in first)


def _csv_member(path: Path, file: str) -> str | None:
    """The one CSV inside a zip (None when ``path`` is not a zip)."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(file, f"is not a readable zip file ({exc})") from None
    csvs = [n for n in names if n.lower().endswith(".csv")]
    if not csvs:
        raise IngestError(file, "the zip holds no CSV file (it holds: " + (", ".join(names[:10]) or "nothing")
                                + "); expected the RTT Full CSV data file inside")
    if len(csvs) > 1:
        raise IngestError(file, f"the zip holds {len(csvs)} CSV files ({', '.join(csvs[:10])}); expected exactly "
                                "one, the RTT Full CSV data file: unzip it and load the one you mean")
    return csvs[0]


@contextmanager
def _open(path: Path, member: str | None, file: str):
    try:
        if member is None:
            with open(path, "rb") as fh:
                yield fh
        else:
            with zipfile.ZipFile(path) as z, z.open(member) as fh:
                yield io.BufferedReader(fh, 4 << 20)  # fewer, larger reads from pyarrow's reader through Python
    except FileNotFoundError:
        raise IngestError(file, "file not found") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise IngestError(file, f"the zip cannot be read ({exc})") from None


def _header(path: Path, member: str | None, file: str) -> list[str]:
    with _open(path, member, file) as fh:
        head = fh.read(65536)
    if b"\x00" in head[:4096]:
        raise IngestError(file, "is a binary file, not a CSV file")
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = line.decode("cp1252", errors="replace")
    return [c.strip() for c in next(csv.reader([text]), [])]


def _check_header(columns: list[str], file: str) -> None:
    if not columns or columns == [""]:
        raise IngestError(file, "is empty: no header row", row=1)
    if PERIOD not in columns:
        raise IngestError(file, "has no 'Period' column: an RTT Full CSV data file names its month in a Period "
                                "column (e.g. RTT-January-2026), and this one cannot be dated", row=1, column=PERIOD)
    for c in TEXT_COLUMNS + [TOTAL, UNKNOWN, TOTAL_ALL]:
        if c not in columns:
            raise IngestError(file, f"is not an RTT Full CSV data file: no '{c}' column", row=1, column=c)
    missing = [c for c in BAND_COLUMNS if c not in columns]
    if missing:
        raise IngestError(file, f"has {N_BANDS - len(missing)} of the {N_BANDS} weekly wait bands; the first missing "
                                f"is '{missing[0]}' (expected 'Gt 00 To 01 Weeks SUM 1' ... 'Gt 104 Weeks SUM 1')",
                          row=1, column=missing[0])
    dup = sorted({c for c in columns if columns.count(c) > 1 and c in TEXT_COLUMNS + COUNT_COLUMNS})
    if dup:
        raise IngestError(file, f"column '{dup[0]}' appears more than once", row=1, column=dup[0])


def period_of(text: str, file: str, row: int | None = None) -> str:
    """'RTT-January-2026' -> '2026-01'."""
    m = _PERIOD_TEXT.match(str(text).strip())
    month = month_from_text(f"{m.group(1)}-{m.group(2)}") if m else None
    if month is None:
        raise IngestError(file, f"Period '{text}' is not of the form RTT-<Month>-<YYYY> (e.g. RTT-January-2026)",
                          row=row, column=PERIOD)
    return month


@dataclass
class Extract:
    """What one Full CSV data file holds, reduced to sums per provider x part x treatment function."""

    file: str
    period: str
    rows: int
    sums: pd.DataFrame  # provider, part, tf + COUNT_COLUMNS, summed over commissioners
    names: dict[str, str]  # provider code -> name
    tf_names: dict[str, str]
    england: dict[str, dict[str, float]] = field(default_factory=dict)  # part -> {'all': n, 'excluding NONC': n}


def read_extract(path: str | Path, file: str | None = None, block_bytes: int = BLOCK_BYTES) -> Extract:
    """Stream the file (CSV or a zip of one CSV) block by block, check it and sum it per provider x part x
    treatment function.  Raises :class:`IngestError` on the first problem; nothing is written anywhere."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    path = Path(path)
    file = file or str(path)
    if not path.exists():
        raise IngestError(file, "file not found")
    if path.is_dir():
        raise IngestError(file, "is a folder, not a file")
    member = _csv_member(path, file)
    columns = _header(path, member, file)
    _check_header(columns, file)
    types = {c: pa.string() for c in TEXT_COLUMNS}
    types.update({c: pa.int64() for c in COUNT_COLUMNS})
    read = pcsv.ReadOptions(block_size=block_bytes, encoding="utf8")
    convert = pcsv.ConvertOptions(column_types=types, include_columns=TEXT_COLUMNS + COUNT_COLUMNS,
                                  strings_can_be_null=False, null_values=[""])
    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append(row)
        return "error"

    parse = pcsv.ParseOptions(invalid_row_handler=on_invalid)
    acc = _Accumulator(file)
    with _open(path, member, file) as fh:
        try:
            reader = pcsv.open_csv(fh, read_options=read, parse_options=parse, convert_options=convert)
            for batch in reader:
                acc.add(batch)
        except pa.ArrowInvalid as exc:
            raise _arrow_error(exc, bad_rows, path, member, file, acc.rows) from None
        except UnicodeDecodeError:
            raise IngestError(file, "is not UTF-8 text") from None
    return acc.finish()


def _arrow_error(exc, bad_rows, path, member, file, rows_done) -> IngestError:
    msg = str(exc).strip().splitlines()[0]
    if bad_rows:
        r = bad_rows[0]
        line = (r.number + 1) if getattr(r, "number", None) is not None else None
        return IngestError(file, f"row has {r.actual_columns} cells where the header has {r.expected_columns}",
                           row=line)
    m = re.search(r"In CSV column #(\d+): CSV conversion error to int64: invalid value '(.*)'", msg)
    if m:
        col = (TEXT_COLUMNS + COUNT_COLUMNS)[int(m.group(1))] if int(m.group(1)) < len(TEXT_COLUMNS + COUNT_COLUMNS) \
            else None
        names = _header(path, member, file)
        col = names[int(m.group(1))] if int(m.group(1)) < len(names) else col
        row = _find_cell(path, member, file, col, m.group(2))
        return IngestError(file, f"'{m.group(2)}' is not a whole number of pathways", row=row, column=col)
    return IngestError(file, f"is not a readable CSV file ({msg})", row=None)


def _find_cell(path, member, file, column, value) -> int | None:
    """The line of the first cell of ``column`` holding ``value`` (only on the error path)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    seen = 0
    with _open(path, member, file) as fh:
        reader = pcsv.open_csv(fh, read_options=pcsv.ReadOptions(block_size=BLOCK_BYTES),
                               convert_options=pcsv.ConvertOptions(include_columns=[column],
                                                                   column_types={column: pa.string()}))
        for batch in reader:
            hit = pc.index(batch.column(0), value).as_py()
            if hit >= 0:
                return seen + hit + 2
            seen += batch.num_rows
    return None


class _Keys:
    """Codes to small integers, stable across blocks (dictionary-encoded in pyarrow: no Python string per row)."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.codes: list[str] = []

    def encode(self, column) -> tuple[np.ndarray, np.ndarray]:
        """(per-row ids, first row of each dictionary entry)."""
        enc = column.dictionary_encode()
        local = [self._id(str(v).strip()) for v in enc.dictionary.to_pylist()]
        idx = enc.indices.to_numpy()
        _, first = np.unique(idx, return_index=True)
        return np.asarray(local, dtype=np.int64)[idx], first

    def _id(self, code: str) -> int:
        if code not in self.ids:
            self.ids[code] = len(self.codes)
            self.codes.append(code)
        return self.ids[code]


def _group_sum(keys: np.ndarray, values: np.ndarray, weights: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``values`` rows (times ``weights``, default 1) per distinct key (keys sorted), as one sparse
    (groups x rows) indicator product."""
    from scipy import sparse

    uniq, inverse = np.unique(keys, return_inverse=True)
    n = len(keys)
    w = np.ones(n, dtype=values.dtype) if weights is None else weights.astype(values.dtype)
    indicator = sparse.csr_matrix((w, (inverse, np.arange(n))), shape=(len(uniq), n))
    return uniq, np.asarray(indicator @ values)


class _Accumulator:
    """Checks each block and folds it into sums per provider x part x treatment function, and per provider x
    commissioner x part into the residual "C_999 row minus its treatment functions" (kept only where not zero)."""

    def __init__(self, file: str):
        self.file = file
        self.rows = 0
        self.period_text: str | None = None
        self.providers, self.commissioners, self.tfs = _Keys(), _Keys(), _Keys()
        self.parts = _Keys()
        for p in PARTS:
            self.parts._id(p)
        self.keys = np.zeros(0, dtype=np.int64)  # provider x part x tf, packed
        self.sums = np.zeros((0, len(COUNT_COLUMNS)), dtype=np.int64)
        self.res_keys: list[np.ndarray] = []
        self.res_vals: list[np.ndarray] = []
        self.names: dict[str, str] = {}
        self.tf_names: dict[str, str] = {}
        self.england: dict[str, np.ndarray] = {}

    def add(self, batch) -> None:
        import pyarrow.compute as pc

        n = batch.num_rows
        first_line = self.rows + 2
        self.rows += n
        if n == 0:
            return
        cols = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
        # one month
        for p in pc.unique(cols[PERIOD]).to_pylist():
            at = first_line + pc.index(cols[PERIOD], p).as_py()
            if self.period_text is None:
                period_of(p, self.file, at)
                self.period_text = p
            elif p != self.period_text:
                raise IngestError(self.file, f"holds two months: Period '{self.period_text}' and '{p}'; a Full CSV "
                                             "data file is one month", row=at, column=PERIOD)
        part, _ = self.parts.encode(cols[PART])
        if (part >= len(PARTS)).any():
            i = int(np.flatnonzero(part >= len(PARTS))[0])
            raise IngestError(self.file, f"RTT part '{self.parts.codes[part[i]]}' is not one of {', '.join(PARTS)}",
                              row=first_line + i, column=PART)
        prov, prov_first = self.providers.encode(cols[PROVIDER])
        tf, tf_first = self.tfs.encode(cols[TF])
        comm, _ = self.commissioners.encode(cols[COMMISSIONER])
        for ids, column in ((prov, PROVIDER), (tf, TF)):
            codes = self.providers.codes if column == PROVIDER else self.tfs.codes
            empty = np.array([codes[i] == "" for i in range(len(codes))])[ids]
            if empty.any():
                raise IngestError(self.file, "empty code", row=first_line + int(np.flatnonzero(empty)[0]),
                                  column=column)
        for ids, first, name_col, keys, into in ((prov, prov_first, PROVIDER_NAME, self.providers, self.names),
                                                 (tf, tf_first, TF_NAME, self.tfs, self.tf_names)):
            names = cols[name_col].take(first).to_pylist()
            for i, nm in zip(ids[first], names):
                into.setdefault(keys.codes[i], str(nm).strip())
        counts = np.column_stack([cols[c].fill_null(0).to_numpy() for c in COUNT_COLUMNS])
        if counts.min() < 0:
            i, j = (int(x[0]) for x in np.nonzero(counts < 0))
            raise IngestError(self.file, f"{counts[i, j]} is negative: a count of pathways cannot be",
                              row=first_line + i, column=COUNT_COLUMNS[j])
        self._check_rows(part, counts, first_line)
        is_total = tf == self.tfs._id(TOTAL_TF)
        # the England rows: C_999, with and without non-English commissioners
        nonc = comm == self.commissioners._id("NONC")
        for p, name in enumerate(PARTS):
            sel = is_total & (part == p)
            if sel.any():
                both = np.array([counts[sel, -1].sum(), counts[sel & ~nonc, -1].sum()], dtype=np.int64)
                self.england[name] = self.england.get(name, np.zeros(2, dtype=np.int64)) + both
        # sums per provider x part x treatment function (folded into the running sums: bounded by their number)
        k, s = _group_sum((prov << 24) | (part << 16) | tf, counts)
        slot = np.searchsorted(self.keys, k)
        known = slot < len(self.keys)
        known[known] = self.keys[slot[known]] == k[known]
        self.sums[slot[known]] += s[known]
        if not known.all():  # keys first seen in this block: merge them in, keeping the keys sorted
            keys = np.concatenate([self.keys, k[~known]])
            order = np.argsort(keys, kind="stable")
            self.keys, self.sums = keys[order], np.concatenate([self.sums, s[~known]])[order]
        # residual per provider x commissioner x part: C_999 minus its treatment functions (should be 0)
        rkey = (prov << 32) | (comm << 8) | part
        rk, rv = _group_sum(rkey, counts, np.where(is_total, 1, -1))
        nonzero = (rv != 0).any(axis=1)
        if nonzero.any():
            self.res_keys.append(rk[nonzero])
            self.res_vals.append(rv[nonzero])

    def _check_rows(self, part: np.ndarray, counts: np.ndarray, first_line: int) -> None:
        bands = counts[:, :N_BANDS].sum(axis=1)
        total, unknown, total_all = counts[:, N_BANDS], counts[:, N_BANDS + 1], counts[:, N_BANDS + 2]
        names = np.array(list(PARTS))
        completed = np.isin(part, [list(PARTS).index(p) for p in COMPLETED])
        incomplete = np.isin(part, [list(PARTS).index(p) for p in INCOMPLETE])
        checks = [
            (completed & (total != bands), TOTAL,
             lambda i: f"Total {total[i]:,} is not the sum of the weekly bands {bands[i]:,}"),
            (completed & (total_all != total + unknown), TOTAL_ALL,
             lambda i: f"Total All {total_all[i]:,} is not Total {total[i]:,} + unknown clock starts {unknown[i]:,}"),
            (incomplete & (total_all != bands), TOTAL_ALL,
             lambda i: f"Total All {total_all[i]:,} is not the sum of the weekly bands {bands[i]:,}"),
            ((part == list(PARTS).index("Part_3")) & (bands != 0), BAND_COLUMNS[0],
             lambda i: f"it has {bands[i]:,} pathways in weekly bands, but Part_3 (new RTT periods) is a count"),
        ]
        for bad, column, why in checks:
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise IngestError(self.file, f"{names[part[i]]} row does not add up: {why(i)}", row=first_line + i,
                                  column=column)

    def finish(self) -> Extract:
        if self.rows == 0 or self.period_text is None:
            raise IngestError(self.file, "has a header but no rows")
        parts = list(PARTS)
        sums = pd.DataFrame(self.sums, columns=COUNT_COLUMNS)
        sums.insert(0, TF, np.asarray(self.tfs.codes, dtype=object)[self.keys & 0xFFFF])
        sums.insert(0, PART, np.asarray(parts, dtype=object)[(self.keys >> 16) & 0xFF])
        sums.insert(0, PROVIDER, np.asarray(self.providers.codes, dtype=object)[self.keys >> 24])
        self._check_totals(sums)
        england = {p: {"all": float(v[0]), "excluding NONC": float(v[1])} for p, v in self.england.items()}
        return Extract(self.file, period_of(self.period_text, self.file), self.rows, sums, self.names,
                       self.tf_names, england)

    def _check_totals(self, sums: pd.DataFrame) -> None:
        if not self.res_keys:
            return
        rk, rv = _group_sum(np.concatenate(self.res_keys), np.concatenate(self.res_vals))
        bad = (rv != 0).any(axis=1)
        if not bad.any():
            return
        rk, rv = rk[bad], rv[bad]
        prov = [self.providers.codes[i] for i in rk >> 32]
        comm = [self.commissioners.codes[i] for i in (rk >> 8) & 0xFFFFFF]
        part = [list(PARTS)[i] for i in rk & 0xFF]
        first = min(range(len(rk)), key=lambda i: (prov[i], part[i], comm[i]))
        j = int(np.flatnonzero(rv[first])[0])
        col = COUNT_COLUMNS[j]
        here = sums[(sums[PROVIDER] == prov[first]) & (sums[PART] == part[first])]
        total = int(here.loc[here[TF] == TOTAL_TF, col].sum())
        parts_sum = int(here.loc[here[TF] != TOTAL_TF, col].sum())
        n = len(rk)
        raise IngestError(
            self.file,
            f"treatment functions do not add up to the C_999 total: provider {prov[first]}, {part[first]} "
            f"({PARTS[part[first]]}), column '{col}': the treatment functions sum to {parts_sum:,} but the C_999 "
            f"rows say {total:,} (difference {total - parts_sum:+,}; first at commissioner {comm[first] or '(blank)'}, "
            f"where the difference is {int(rv[first, j]):+,})"
            + (f"; {n - 1} more provider x commissioner x part groups differ" if n > 1 else "")
            + " — the file may be cut or edited", column=col)


# ------------------------------------------------------------------------------------------- deriving


def measures(ext: Extract) -> pd.DataFrame:
    """One row per provider x treatment function (C_999 = the provider's total) with every derived figure."""
    s = ext.sums
    frame = s[[PROVIDER, TF]].drop_duplicates().sort_values([PROVIDER, TF]).reset_index(drop=True)
    out = {"period": ext.period, "provider_code": frame[PROVIDER].to_numpy(),
           "provider_name": frame[PROVIDER].map(ext.names).to_numpy(),
           "treatment_function_code": frame[TF].to_numpy(),
           "treatment_function_name": frame[TF].map(ext.tf_names).to_numpy()}
    index = pd.MultiIndex.from_frame(frame)
    prefixes = {"Part_2": "incomplete", "Part_2A": "dta", "Part_1A": "admitted", "Part_1B": "nonadmitted"}
    wanted = {
        "incomplete": ["pathways", "within_18w", "within_18w_pct", "over_52w", "over_65w", "over_78w", "over_104w",
                       "median_weeks", "p92_weeks"],
        "dta": ["pathways", "within_18w_pct", "over_52w", "median_weeks", "p92_weeks"],
        "admitted": ["pathways", "known_clock_start", "unknown_clock_start", "within_18w_pct", "median_weeks",
                     "p92_weeks"],
        "nonadmitted": ["pathways", "known_clock_start", "unknown_clock_start", "within_18w_pct", "median_weeks",
                        "p92_weeks"],
    }
    for part, prefix in prefixes.items():
        rows = s[s[PART] == part].set_index([PROVIDER, TF]).reindex(index)
        present = rows[TOTAL_ALL].notna().to_numpy()
        m = part_measures(rows[BAND_COLUMNS].fillna(0).to_numpy(), rows[TOTAL_ALL].fillna(0).to_numpy())
        for k in wanted[prefix]:
            out[f"{prefix}_{k}"] = np.where(present, m[k], np.nan)
    new = s[s[PART] == "Part_3"].set_index([PROVIDER, TF]).reindex(index)
    out["new_clock_starts"] = new[TOTAL_ALL].to_numpy(dtype=float)
    return pd.DataFrame(out)


#: provider-level figures written to the store: indicator code -> (column of :func:`measures`, numerator column,
#: denominator column).  The first seven keep the names the Incomplete-Provider loader (rtt.py) writes, so the
#: series run on from Apr 2024 - Mar 2025.
STORE_INDICATORS: dict[str, tuple[str, str | None, str | None]] = {
    "rtt_incomplete_pathways": ("incomplete_pathways", None, None),
    "rtt_within_18w_pct": ("incomplete_within_18w_pct", "incomplete_within_18w", "incomplete_pathways"),
    "rtt_over_52w": ("incomplete_over_52w", None, None),
    "rtt_over_65w": ("incomplete_over_65w", None, None),
    "rtt_over_78w": ("incomplete_over_78w", None, None),
    "rtt_median_wait_weeks": ("incomplete_median_weeks", None, None),
    "rtt_p92_wait_weeks": ("incomplete_p92_weeks", None, None),
    "rtt_over_104w": ("incomplete_over_104w", None, None),
    "rtt_dta_pathways": ("dta_pathways", None, None),
    "rtt_completed_admitted": ("admitted_pathways", None, None),
    "rtt_completed_admitted_median_weeks": ("admitted_median_weeks", None, None),
    "rtt_completed_admitted_p92_weeks": ("admitted_p92_weeks", None, None),
    "rtt_completed_nonadmitted": ("nonadmitted_pathways", None, None),
    "rtt_completed_nonadmitted_median_weeks": ("nonadmitted_median_weeks", None, None),
    "rtt_completed_nonadmitted_p92_weeks": ("nonadmitted_p92_weeks", None, None),
    "rtt_new_clock_starts": ("new_clock_starts", None, None),
}


def observations(frame: pd.DataFrame) -> pd.DataFrame:
    """Provider-level (C_999) rows of :func:`measures` as store observations."""
    prov = frame[frame["treatment_function_code"] == TOTAL_TF]
    parts = []
    for code, (col, num, den) in STORE_INDICATORS.items():
        parts.append(pd.DataFrame({
            "org_code": prov["provider_code"].to_numpy(), "indicator": code,
            "numerator": prov[num].to_numpy(dtype=float) if num else np.nan,
            "denominator": prov[den].to_numpy(dtype=float) if den else np.nan,
            "value": prov[col].to_numpy(dtype=float),
        }))
    obs = pd.concat(parts, ignore_index=True)
    obs = obs[obs["value"].notna()].reset_index(drop=True)
    obs["period"] = frame["period"].iloc[0] if len(frame) else None
    return obs


def england_summary(ext: Extract) -> dict[str, dict[str, float]]:
    """England totals (``Total All`` of the C_999 rows) per part: all commissioners, and excluding NONC as NHS
    England's headline does."""
    return ext.england


def treatment_function_frame(path: str | Path) -> pd.DataFrame:
    """Every derived figure per provider x treatment function (``C_999`` rows = the provider's total) of one Full
    CSV data file, without touching the store."""
    return measures(read_extract(path))


def parse_extract(path: str | Path, file: str | None = None, period: str | None = None) -> tuple[Parsed, pd.DataFrame]:
    """The :class:`Parsed` of one Full CSV data file (provider-level observations) and its treatment-function
    frame.  ``period``, when given, must agree with the file's own Period column."""
    ext = read_extract(path, file)
    if period is not None and period != ext.period:
        raise IngestError(ext.file, f"the file's Period column says {ext.period}, not {period}: the month of a Full "
                                    "CSV data file comes from the file", column=PERIOD)
    frame = measures(ext)
    parsed = Parsed(kind=KIND, file=ext.file, period=ext.period)
    parsed.rows_read = ext.rows
    parsed.rows_loaded = ext.rows
    parsed.observations = observations(frame)
    prov = frame[frame["treatment_function_code"] == TOTAL_TF]
    parsed.organisations_seen = pd.DataFrame({"org_code": prov["provider_code"].to_numpy(),
                                              "name": prov["provider_name"].fillna("").to_numpy()})
    eng = ext.england.get("Part_2")
    if eng:
        parsed.notes.append(f"RTT Full CSV data file {ext.period}: England waiting list {eng['all']:,.0f} incomplete "
                            f"pathways ({eng['excluding NONC']:,.0f} excluding non-English commissioners); "
                            f"{len(prov):,} providers")
    return parsed, frame


def file_checksum(path: str | Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MB pieces (the same digest :func:`partnering.ingest.base.checksum`
    gives for the whole bytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_rtt_extract(path: str | Path, engine=None, period: str | None = None, *,
                     frames: list | None = None, **batch_opts) -> BatchReport:
    """Load one Full CSV data file (zipped or not) into the store in one transaction.

    ``frames``, when a list, receives the treatment-function frame (:func:`measures`), even when these bytes were
    loaded before.  A file refused for any reason writes nothing."""
    from partnering.store.db import get_engine

    if period is not None and not valid_period(period):
        raise IngestError(str(path), f"period {period!r} is not an ISO month (YYYY-MM)")
    p = Path(path)
    if not p.exists():
        raise IngestError(str(p), "file not found")
    if p.is_dir():
        raise IngestError(str(p), "is a folder, not a file")
    salt = batch_opts.pop("checksum_salt", "")
    engine = engine or get_engine()
    digest = file_checksum(p)
    if salt:
        digest = hashlib.sha256((digest + salt).encode()).hexdigest()
    if frames is None:
        prior = already_loaded(KIND, digest, str(p), engine, batch_opts.get("owner_org"),
                               batch_opts.get("published", True))
        if prior is not None:
            return prior
    parsed, frame = parse_extract(p, str(p), period)
    if frames is not None:
        frames.append(frame)
    return commit_parsed(parsed, digest, engine, **batch_opts)

