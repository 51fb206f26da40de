"""A panel for impact evaluation: units x periods of one outcome, one treated unit (or several, with their starts).

Every method in ``partnering.evaluate`` reads a :class:`Panel` and returns a
:class:`~partnering.evaluate.result.MethodResult`, so methods can be run side by side on the same data and
triangulated.  Build one from a long table (what analysts hold: one row per unit and period) with
:func:`panel_from_long`; periods are kept in their natural order (ISO months, years, integers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import ValidationError


@dataclass(frozen=True)
class Panel:
    """``y[i, t]``: the outcome of unit ``units[i]`` in period ``periods[t]`` (NaN where missing).

    ``starts`` maps each treated unit to the first treated period (and ``ends`` to the last, for treatments that
    stop, e.g. buddying that ends); every other unit is a potential comparator.  ``covariates`` is an optional long
    frame (unit, period, one column per covariate).  ``excluded`` lists units that must not serve as comparators
    (spillover: a supporter, trusts in the same ICB), with the reason.  ``unit_noun`` is what the units are
    called in the verdict's words ("trusts", "practices"; "units" when nobody said).
    """

    y: np.ndarray
    units: tuple[str, ...]
    periods: tuple
    starts: dict[str, object]
    ends: dict[str, object] = field(default_factory=dict)
    covariates: pd.DataFrame | None = None
    excluded: dict[str, str] = field(default_factory=dict)
    outcome: str = "outcome"
    unit_noun: str = "units"

    def __post_init__(self):
        if self.y.shape != (len(self.units), len(self.periods)):
            raise ValidationError(f"panel values are {self.y.shape}, expected units x periods "
                                  f"({len(self.units)} x {len(self.periods)})")
        unknown = [u for u in self.starts if u not in self.units]
        if unknown:
            raise ValidationError(f"treated unit(s) not in the panel: {', '.join(map(str, unknown))}")
        bad = [u for u, s in self.starts.items() if s not in self.periods]
        if bad:
            raise ValidationError(f"treatment start of {', '.join(map(str, bad))} is not a period of the panel")

    # ------------------------------------------------------------------ views the methods share
    @property
    def treated(self) -> list[str]:
        return list(self.starts)

    def index(self, unit: str) -> int:
        return self.units.index(unit)

    def start_index(self, unit: str) -> int:
        return self.periods.index(self.starts[unit])

    def end_index(self, unit: str) -> int | None:
        end = self.ends.get(unit)
        return None if end is None else self.periods.index(end)

    def donors(self, exclude_treated: bool = True) -> list[str]:
        """Units that may serve as comparators: never treated and not excluded for spillover."""
        return [u for u in self.units if (not exclude_treated or u not in self.starts) and u not in self.excluded]

    def series(self, unit: str) -> pd.Series:
        return pd.Series(self.y[self.index(unit)], index=list(self.periods), name=unit)

    def frame(self) -> pd.DataFrame:
        """Wide frame: periods as rows, units as columns (what the plotting and reports use)."""
        return pd.DataFrame(self.y.T, index=list(self.periods), columns=list(self.units))

    def without(self, units) -> "Panel":
        """The panel without ``units`` (leave-one-out donors, placebo runs)."""
        drop = set(units)
        keep = [i for i, u in enumerate(self.units) if u not in drop]
        return Panel(self.y[keep], tuple(self.units[i] for i in keep), self.periods,
                     {u: s for u, s in self.starts.items() if u not in drop},
                     {u: e for u, e in self.ends.items() if u not in drop},
                     self.covariates, self.excluded, self.outcome, self.unit_noun)

    def treat_instead(self, unit: str, start=None) -> "Panel":
        """The same panel with ``unit`` as the only treated unit (placebo in space) or another start (in time)."""
        first = next(iter(self.starts))
        return Panel(self.y, self.units, self.periods, {unit: self.starts[first] if start is None else start},
                     {}, self.covariates, self.excluded, self.outcome, self.unit_noun)


def panel_from_long(df: pd.DataFrame, unit: str, time: str, outcome: str, treated, start, end=None,
                    covariates: list[str] | None = None, excluded: dict[str, str] | None = None,
                    unit_noun: str | None = None) -> Panel:
    """A :class:`Panel` from a long table with columns ``unit``, ``time``, ``outcome`` (and covariates).

    ``treated`` is one unit or a list; ``start`` one period or a dict unit -> period (staggered starts);
    ``unit_noun`` what the units are called in words, plural ("practices"; default "units").
    """
    for col in [unit, time, outcome, *(covariates or [])]:
        if col not in df.columns:
            raise ValidationError(f"the panel has no column {col!r} (columns: {', '.join(map(str, df.columns))})")
    d = df[[unit, time, outcome]].copy()
    d[unit] = d[unit].astype(str)
    if d.duplicated([unit, time]).any():
        first = d[d.duplicated([unit, time], keep=False)].iloc[0]
        raise ValidationError(f"the panel has more than one row for unit {first[unit]!r} and period {first[time]!r}")
    d[outcome] = pd.to_numeric(d[outcome], errors="coerce")
    wide = d.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    treated = [str(treated)] if isinstance(treated, (str, int, np.integer)) else [str(t) for t in treated]
    starts = {t: (start[t] if isinstance(start, dict) else start) for t in treated}
    ends = {t: (end[t] if isinstance(end, dict) else end) for t in treated} if end is not None else {}
    periods = tuple(_plain(p) for p in wide.columns)
    cov = df[[unit, time, *covariates]].rename(columns={unit: "unit", time: "period"}) if covariates else None
    return Panel(wide.to_numpy(dtype=float), tuple(wide.index), periods,
                 {t: _plain(s) for t, s in starts.items()}, {t: _plain(e) for t, e in ends.items()},
                 cov, dict(excluded or {}), outcome, (unit_noun or "").strip() or "units")


def _plain(v):
    """numpy scalars to Python ones, so periods compare equal to what users type."""
    return v.item() if isinstance(v, np.generic) else v
