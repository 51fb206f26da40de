"""Segment bookkeeping for the flat, vectorised layout.

All series are held in one flat array sorted by (series, x). A *segment* is one
(series, rebase group): every SPC calculation is done per segment. Segment-wise reductions use
``np.bincount``/``np.add.reduceat``; runs use cumulative maxima. No Python loop over series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segments:
    """Where each segment starts and ends in the flat array."""

    is_start: np.ndarray  # bool per row: first row of its segment
    seg: np.ndarray  # int64 per row: segment id 0..n_segments-1
    starts: np.ndarray  # int64 per segment: first row
    ends: np.ndarray  # int64 per segment: one past the last row
    pos: np.ndarray  # int64 per row: 0-based row number within the segment

    @property
    def n_segments(self) -> int:
        return len(self.starts)

    @property
    def sizes(self) -> np.ndarray:
        return self.ends - self.starts

    @property
    def end_of_row(self) -> np.ndarray:
        """One past the last row of each row's segment."""
        return self.ends[self.seg]

    @classmethod
    def from_starts(cls, is_start: np.ndarray) -> Segments:
        is_start = np.asarray(is_start, dtype=bool).copy()
        n = len(is_start)
        if n:
            is_start[0] = True
        starts = np.flatnonzero(is_start).astype(np.int64)
        ends = np.append(starts[1:], n).astype(np.int64)
        seg = np.cumsum(is_start, dtype=np.int64) - 1
        pos = np.arange(n, dtype=np.int64) - starts[seg] if n else np.zeros(0, dtype=np.int64)
        return cls(is_start, seg, starts, ends, pos)

    @classmethod
    def single(cls, n: int) -> Segments:
        """One segment holding all ``n`` rows (used by the component functions)."""
        return cls.from_starts(np.arange(n) == 0)


def starts_or_single(is_start: np.ndarray | None, n: int) -> np.ndarray:
    if is_start is None:
        return np.arange(n) == 0
    out = np.asarray(is_start, dtype=bool).copy()
    if n:
        out[0] = True
    return out


def segment_nanmean(values: np.ndarray, seg: np.ndarray, n_segments: int) -> np.ndarray:
    """Mean of the non-missing values of each segment (NaN when a segment has none)."""
    ok = ~np.isnan(values)
    total = np.bincount(seg, weights=np.where(ok, values, 0.0), minlength=n_segments)
    count = np.bincount(seg, weights=ok, minlength=n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def run_length(cond: np.ndarray, is_start: np.ndarray) -> np.ndarray:
    """Length of the run of ``True`` in ``cond`` ending at each row, restarting at segment starts."""
    n = len(cond)
    idx = np.arange(n, dtype=np.int64)
    marker = np.where(cond, -1, idx)
    marker = np.maximum(marker, np.where(is_start, idx - 1, -1))
    return idx - np.maximum.accumulate(marker) if n else idx


def spread_back(flag: np.ndarray, is_start: np.ndarray, length: int) -> np.ndarray:
    """True at row i when ``flag`` holds at some row j in [i, i+length-1] of the same segment.

    A run that ends at j (and was detected there) marks every one of its ``length`` points.
    """
    n = len(flag)
    if n == 0:
        return np.zeros(0, dtype=bool)
    idx = np.arange(n, dtype=np.int64)
    nxt = np.where(flag, idx, n)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    starts = np.flatnonzero(is_start)
    ends = np.append(starts[1:], n)
    seg_end = ends[np.cumsum(is_start) - 1]
    return (nxt - idx <= length - 1) & (nxt < seg_end)
