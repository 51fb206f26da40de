"""What a batch may write: owned indicators, values within their unit, known organisations.

Applied by :func:`partnering.ingest.base.commit_parsed` to every loader's rows, so the command line, the web upload
and the API follow the same rules.  A row that breaks one is a rejected row with its line, column and reason;
nothing else in the file is affected.

* **Owners.** Every indicator has an owner: the official loader that publishes it (``ae-monthly``, ``rtt``, ...;
  ``owner`` in ``indicators.toml``) or ``kpi`` for an organisation's own measures.  Only the owner may write it,
  so an organisation's KPI file can never overwrite an official figure.  The demo loader writes the synthetic
  system's official indicators and is the one exception.
* **Units.** A percentage lies within 0–100; a count is a non-negative whole number; weeks, minutes, rates and
  ratios are non-negative; an indicator may narrow this with ``min``/``max`` in the catalogue.  These are the
  definitions of the units themselves (a share of a whole; a number of events), not tunable thresholds.
* **Organisations.** A KPI row for an organisation the store does not know is rejected, unless the load says that
  new organisations may be created and of which kind; official files (A&E, RTT, ODS) may introduce organisations.
"""

from __future__ import annotations

import numpy as np

from partnering.indicators.catalogue import KPI_OWNER

#: loaders allowed to write indicators owned by others (the synthetic demo system writes "official" ones)
WRITES_ANY_INDICATOR = frozenset({"demo"})
#: what a KPI file's new indicators are when the file does not declare a unit: a plain number, bounded only by being
#: finite ("score" in the catalogue's units); given as numerator/denominator they are percentages
UNDECLARED_UNIT = "score"


def may_write(loader_kind: str, owner: str | None) -> bool:
    """Whether a batch of ``loader_kind`` may write an indicator owned by ``owner`` (None = not yet owned)."""
    if loader_kind in WRITES_ANY_INDICATOR or owner is None:
        return True
    return owner == loader_kind


def owner_reason(indicator: str, owner: str) -> str:
    if owner == KPI_OWNER:
        return f"indicator '{indicator}' is an organisation's own KPI: an official file cannot write it"
    return (f"indicator '{indicator}' is an official figure owned by the {owner} loader: a file of this kind cannot "
            "write it (only a later publication of the same source can change it)")


def unit_violations(values: np.ndarray, units: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[str | None]:
    """For each value, why it is impossible for its unit (None when it is fine).  Vectorised over the rows."""
    v = np.asarray(values, dtype=float)
    units = np.asarray(units, dtype=object)
    present = ~np.isnan(v)
    why: list[str | None] = [None] * len(v)
    checks = [
        ((units == "percent") & present & ((v < 0) | (v > 100)), "a percentage must lie within 0–100"),
        ((units == "count") & present & (v < 0), "a count cannot be negative"),
        ((units == "count") & present & (v >= 0) & (np.abs(v - np.round(v)) > 1e-9), "a count must be a whole number"),
        (np.isin(units, ["weeks", "minutes", "rate", "ratio"]) & present & (v < 0),
         "cannot be negative"),
        (present & ~np.isnan(lower) & (v < lower), "is below the indicator's lower bound {lo:g}"),
        (present & ~np.isnan(upper) & (v > upper), "is above the indicator's upper bound {hi:g}"),
    ]
    for mask, text in checks:
        for i in np.flatnonzero(mask):
            if why[i] is None:
                why[i] = f"value {v[i]:g} {units[i]}: " + text.format(lo=lower[i], hi=upper[i])
    return why


def declared_unit(unit: str | None, has_ratio: bool) -> str:
    if unit:
        return unit
    return "percent" if has_ratio else UNDECLARED_UNIT
