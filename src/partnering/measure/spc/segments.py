"""Segment bookkeeping and run helpers for the flat, vectorised layout.

All series are held in one flat array sorted by (series, x). A *segment* is one
(series, rebase group): every SPC calculation is done per segment. Segment reductions use
``np.add.reduceat`` over the contiguous segments and ``np.repeat`` to broadcast back; runs use
shifted boolean ANDs/ORs (a window of L points costs about log2(L) array operations). No Python
loop over series.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np


class Segments:
    """Where each segment starts and ends in the flat array."""

    def __init__(self, is_start: np.ndarray):
        is_start = np.asarray(is_start, dtype=bool)
        if len(is_start) and not is_start[0]:
            is_start = is_start.copy()
            is_start[0] = True
        self.is_start = is_start
        self.n = len(is_start)
        self.starts = np.flatnonzero(is_start)
        self.ends = np.append(self.starts[1:], self.n)

    @classmethod
    def from_starts(cls, is_start: np.ndarray) -> Segments:
        return cls(is_start)

    @classmethod
    def single(cls, n: int) -> Segments:
        """One segment holding all ``n`` rows (used by the component functions)."""
        return cls(np.arange(n) == 0)

    @property
    def n_segments(self) -> int:
        return len(self.starts)

    @cached_property
    def sizes(self) -> np.ndarray:
        return self.ends - self.starts

    @cached_property
    def seg(self) -> np.ndarray:
        """Segment id of every row."""
        return np.repeat(np.arange(self.n_segments), self.sizes)

    @cached_property
    def pos(self) -> np.ndarray:
        """0-based row number of every row within its segment."""
        return np.arange(self.n) - np.repeat(self.starts, self.sizes)

    def broadcast(self, per_segment: np.ndarray) -> np.ndarray:
        """A value per segment -> the same value on every row of the segment."""
        return np.repeat(per_segment, self.sizes)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each segment."""
        if not self.n:
            return np.zeros(0, dtype=values.dtype)
        return np.add.reduceat(values, self.starts)

    def nanmean(self, values: np.ndarray, refine: bool = True) -> np.ndarray:
        """Mean of the non-missing values of each segment (NaN when there are none).

        With ``refine`` a second pass adds back the mean residual, as R's ``mean`` does, so the
        result is (almost always) the correctly rounded mean and a value equal to the mean
        compares equal to it, as in the reference.
        """
        ok = ~np.isnan(values)
        count = np.add.reduceat(ok.view(np.int8), self.starts, dtype=np.int32) if self.n else np.zeros(0, np.int32)
        with np.errstate(invalid="ignore", divide="ignore"):
            first = self.sum(np.where(ok, values, 0.0)) / count
            if not refine:
                return first
            resid = values - self.broadcast(first)
            resid[~ok] = 0.0
            return first + self.sum(resid) / count


def starts_or_single(is_start: np.ndarray | None, n: int) -> np.ndarray:
    if is_start is None:
        return np.arange(n) == 0
    out = np.asarray(is_start, dtype=bool).copy()
    if n:
        out[0] = True
    return out


def window_all(cond: np.ndarray, length: int) -> np.ndarray:
    """``out[i]`` = ``cond`` holds at each of rows ``i-length+1 .. i`` (False for the first rows)."""
    out = np.asarray(cond, dtype=bool).copy()
    covered = 1
    while covered < length:
        step = min(covered, length - covered)
        nxt = np.zeros_like(out)
        nxt[step:] = out[step:] & out[:-step]
        out, covered = nxt, covered + step
    return out


def window_any_ahead(flag: np.ndarray, length: int) -> np.ndarray:
    """``out[i]`` = ``flag`` holds at one of rows ``i .. i+length-1``."""
    out = np.asarray(flag, dtype=bool).copy()
    covered = 1
    while covered < length:
        step = min(covered, length - covered)
        nxt = out.copy()
        nxt[:-step] |= out[step:]
        out, covered = nxt, covered + step
    return out


def spread_back(flag: np.ndarray, is_start: np.ndarray, length: int) -> np.ndarray:
    """True at row i when ``flag`` holds at some row j in [i, i+length-1] of the same segment.

    General form for arbitrary flags; flags that mark the end of a run inside a segment never
    reach across a segment start, so :func:`window_any_ahead` alone gives the same answer.
    """
    n = len(flag)
    if n == 0:
        return np.zeros(0, dtype=bool)
    idx = np.arange(n, dtype=np.int64)
    nxt = np.where(flag, idx, n)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    starts = np.flatnonzero(is_start)
    ends = np.append(starts[1:], n)
    seg_end = np.repeat(ends, ends - starts)
    return (nxt - idx <= length - 1) & (nxt < seg_end)
