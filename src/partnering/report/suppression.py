"""NHS small-number suppression for published counts.

Rule (DESIGN.md, following NHS Digital's statistical disclosure control practice for
sub-national counts, e.g. the Hospital Episode Statistics "Analysis Guide" and NHS
England's published-data suppression guidance): sub-national counts of 1–7 are shown
as ``*``; other counts are rounded to the nearest 5; national figures are not
suppressed; zero stays zero.  Ratios built on a suppressed numerator or denominator
are withheld too, since they would reveal the count.  A ratio whose numerator or
denominator was rounded is recomputed from the rounded figures (9/79 = 11.39% is
published as 10/80 = 12.5%): the exact ratio beside rounded figures would let a reader
undo the rounding (only 9/79 gives 11.3924...%), which defeats the disclosure control
the rounding is for.  Recomputing (rather than, say, rounding the percentage to whole
percent, which still singles out the numerator: of the pairs 8-12 over 78-82 only a
numerator of 9 gives 11%) keeps the published figures mutually consistent and
reveals nothing beyond the rounded counts — the approach of NHS England/NHS Digital
publications that derive rates from rounded or suppressed counts (HES Analysis Guide,
"suppress 1–7, round to nearest 5").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESSED = "*"
LOW, HIGH = 1, 7  # counts in [1, 7] are suppressed
ROUND_TO = 5
#: a ratio's value is its numerator over its denominator times one of these (per 1, per cent, per 1,000, ...);
#: the one a row uses is read off its exact figures, then applied to the rounded ones
RATIO_SCALES = (1.0, 100.0, 1_000.0, 10_000.0, 100_000.0)


def suppress_count(x: float | None, national: bool = False):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    if national:
        return x
    if x == 0:
        return 0
    if LOW <= abs(x) <= HIGH:
        return SUPPRESSED
    return int(ROUND_TO * round(float(x) / ROUND_TO))


def _number(x) -> float | None:
    if x is None or isinstance(x, (bool, str)):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


#: how far a published ratio may sit from its figures' exact ratio and still be taken as that ratio: 0.0005 of the
#: scale, i.e. a percentage given to one decimal place (as NHS England's files and most uploads give them) is 0.05
#: points from the exact one at most
RATIO_TOLERANCE = 0.0005


def _scale_of(value: float, ratio: float) -> float | None:
    """The scale ``s`` of :data:`RATIO_SCALES` with ``value`` = ``ratio`` x ``s`` (exactly, or rounded to a tenth of
    a per cent of the scale), else None."""
    return next((s for s in RATIO_SCALES if abs(value - ratio * s) <= max(1e-6, RATIO_TOLERANCE) * s), None)


def recompute_ratio(value, numerator, denominator, rounded_numerator, rounded_denominator):
    """``value`` (a ratio of ``numerator`` over ``denominator`` or its complement, times a scale in
    :data:`RATIO_SCALES`, exact or rounded to one decimal place of a percentage) recomputed from the rounded figures,
    so the published value cannot be used to undo the rounding.  ``value`` unchanged where neither figure changed,
    where a figure is missing (a suppressed figure: the caller withholds the value) or where the numerator or
    denominator is zero (zero is not rounded; a ratio over zero has nothing to recompute).  Where a figure was
    rounded and ``value`` is not a ratio of the exact figures that can be recomputed (say a breach percentage
    given to two decimals, or a value of another kind beside counts), it is withheld (:data:`SUPPRESSED`): left
    as it was, it could single out the exact figures the rounding hides."""
    v, n0, d0 = _number(value), _number(numerator), _number(denominator)
    n1, d1 = _number(rounded_numerator), _number(rounded_denominator)
    if v is None or None in (n0, d0, n1, d1) or (n0 == n1 and d0 == d1):
        return value
    if n0 == 0 or d0 == 0:  # 0 over anything stays 0 (zero is not rounded); x/0 has no ratio to recompute
        return value
    scale = _scale_of(v, n0 / d0)
    if scale is not None:
        return None if d1 == 0 else n1 / d1 * scale
    scale = _scale_of(v, 1.0 - n0 / d0)  # the complement: e.g. % over 4 hours beside the count within 4 hours
    if scale is not None:
        return None if d1 == 0 else (d1 - n1) / d1 * scale
    return SUPPRESSED


def suppress_observations(df: pd.DataFrame, count_indicators: set[str], national_codes: set[str] = frozenset()
                          ) -> pd.DataFrame:
    """Apply the rule to an observations frame (org_code, indicator, period, numerator, denominator, value).

    Counts (``value`` of count indicators, and every numerator/denominator) are
    suppressed/rounded; a ratio whose numerator or denominator is suppressed is
    withheld (``*``); a ratio whose numerator or denominator was rounded is recomputed
    from the rounded figures (:func:`recompute_ratio`); other ratios are left as published.
    """
    out = df.copy().astype({"numerator": object, "denominator": object, "value": object})
    national = out["org_code"].isin(national_codes).to_numpy()
    for col in ("numerator", "denominator"):
        out[col] = [suppress_count(v, n) for v, n in zip(df[col], national)]
    is_count = out["indicator"].isin(count_indicators).to_numpy()
    vals = []
    for v, cnt, n, num, den, num0, den0 in zip(df["value"], is_count, national, out["numerator"],
                                               out["denominator"], df["numerator"], df["denominator"]):
        if cnt:
            vals.append(suppress_count(v, n))
        elif num == SUPPRESSED or den == SUPPRESSED:
            vals.append(SUPPRESSED)
        else:
            vals.append(recompute_ratio(v, num0, den0, num, den))
    out["value"] = vals
    return out


# ------------------------------------------------------------------------------------------ publication rules
#
# Which rule a published figure follows (issue #9.5).  Official statistics that NHS England itself publishes at
# organisation level — A&E attendances and emergency admissions ([AE]) and consultant-led RTT waiting times
# ([RTT]) in ``indicators/indicators.toml``, the indicators owned by their loaders — are re-published exactly as
# published: they are already public, and rounding them makes our downloads disagree with the source.  NHS England
# publishes these monthly provider-level files unsuppressed (the statistical work areas cited in the catalogue).
# Everything else — an organisation's own measures, an upload not yet published, anything derived from
# record-level data — follows the small-number rule above.  A figure Partnering derived from record-level data
# (``partnering compute indicators --load``: batches whose publication basis is "derived from record-level data",
# :data:`partnering.store.publication.DERIVED`) follows it even for an indicator NHS England publishes (say
# ``ae_4h_pct_all``): the figure is Partnering's computation from records, not the publication, so nothing about it
# is already public.  It names its own rule (:data:`DERIVED_SUPPRESSION`), so a reader can tell it from an own
# measure; the indicators only records give (owner ``ae-record-level`` in the catalogue) always follow it.

#: loaders of official statistics NHS England publishes at organisation level ([AE], [RTT] in the catalogue)
PUBLISHED_AT_ORGANISATION_LEVEL = frozenset({"ae-monthly", "rtt"})
AS_PUBLISHED = "as published"
SMALL_NUMBER_SUPPRESSION = "small-number suppression"
DERIVED_SUPPRESSION = "small-number suppression: derived from record-level data"
RULE_COLUMN = "publication_rule"
#: each rule in words, as downloads state it (CSV column, XLSX notes sheet, JSON field)
RULES = {
    AS_PUBLISHED: "official statistics that NHS England publishes at organisation level (A&E, RTT), re-published "
                  "as published: no rounding",
    SMALL_NUMBER_SUPPRESSION: "NHS small-number suppression: counts of 1 to 7 shown as *, other counts rounded to "
                              "the nearest 5, zero stays zero, national figures unsuppressed; a ratio whose "
                              "numerator or denominator is suppressed is withheld, one whose numerator or "
                              "denominator is rounded is recomputed from the rounded figures (withheld where "
                              "it is not such a ratio)",
    DERIVED_SUPPRESSION: "figures Partnering computed from record-level data (partnering compute indicators "
                         "--load), not an NHS England publication: the same NHS small-number suppression",
}
#: the rules that suppress, in the order downloads state them
SUPPRESSING = (SMALL_NUMBER_SUPPRESSION, DERIVED_SUPPRESSION)


def rule_for(indicator_code, published: bool = True, catalogue=None, derived: bool = False) -> str:
    """The rule a figure of ``indicator_code`` follows: :data:`SMALL_NUMBER_SUPPRESSION` for a figure not yet
    published; :data:`DERIVED_SUPPRESSION` for one derived from record-level data (``derived``: its batch's basis
    says so) or of an indicator only records give (owner ``ae-record-level``); :data:`AS_PUBLISHED` for an official
    indicator whose loader reads an NHS England organisation-level publication; else
    :data:`SMALL_NUMBER_SUPPRESSION` (own measures and other sources)."""
    from partnering.indicators.catalogue import RECORD_LEVEL_OWNER, indicator

    if not published:
        return SMALL_NUMBER_SUPPRESSION
    if derived:
        return DERIVED_SUPPRESSION
    if not isinstance(indicator_code, str):
        return SMALL_NUMBER_SUPPRESSION
    d = indicator(indicator_code, catalogue)
    if d is not None and d.owner == RECORD_LEVEL_OWNER:
        return DERIVED_SUPPRESSION
    return AS_PUBLISHED if d is not None and d.owner in PUBLISHED_AT_ORGANISATION_LEVEL else SMALL_NUMBER_SUPPRESSION


def apply_publication_rules(df: pd.DataFrame, *, indicator_col: str = "indicator",
                            value_cols: tuple[str, ...] = ("value",), published=None, count_rows=None,
                            national_codes: frozenset = frozenset(), org_col: str = "org_code",
                            catalogue=None, derived=None) -> pd.DataFrame:
    """``df`` ready to publish: each row under its rule (:func:`rule_for`), named in a :data:`RULE_COLUMN` column.

    Rows under :data:`AS_PUBLISHED` keep their figures.  Rows under :data:`SMALL_NUMBER_SUPPRESSION` or
    :data:`DERIVED_SUPPRESSION` get the small-number rule: numerator and denominator always, ``value_cols`` where
    ``count_rows`` says the row is a count, a ratio on a suppressed numerator or denominator is withheld, and one on
    a rounded numerator or denominator is recomputed from the rounded figures (:func:`recompute_ratio`).
    ``published``: a boolean per row (is this figure the published one?), default all; ``derived``: a boolean per
    row (is the figure derived from record-level data? :func:`partnering.report.export.derived_mask`), default
    none; ``count_rows``: a boolean per row, default the catalogue unit of the row's indicator; ``national_codes``:
    organisation codes of national figures (unsuppressed).
    """
    from partnering.indicators.catalogue import indicator

    out = df.copy()
    n = len(out)
    pub = np.ones(n, dtype=bool) if published is None else np.asarray(published, dtype=bool)
    codes = out[indicator_col] if indicator_col in out else pd.Series([None] * n, index=out.index)
    der = np.zeros(n, dtype=bool) if derived is None else np.asarray(derived, dtype=bool)
    rules = np.array([rule_for(c, p, catalogue, d) for c, p, d in zip(codes, pub, der)], dtype=object)
    if count_rows is None:
        count_rows = [(d := indicator(c, catalogue) if isinstance(c, str) else None) is not None and d.unit == "count"
                      for c in codes]
    counts = np.asarray(count_rows, dtype=bool)
    national = (out[org_col].isin(national_codes).to_numpy() if org_col in out else np.zeros(n, dtype=bool))
    hide = np.isin(rules, SUPPRESSING)
    exact = {c: out[c].to_numpy(dtype=object).copy() for c in ("numerator", "denominator") if c in out}
    for col in ("numerator", "denominator"):
        if col in out:
            vals = np.array(out[col].to_numpy(dtype=object), dtype=object, copy=True)
            vals[hide] = [suppress_count(v, nat) for v, nat in zip(vals[hide], national[hide])]
            out[col] = vals
    withheld = np.zeros(n, dtype=bool)
    for col in ("numerator", "denominator"):
        if col in out:
            withheld |= (out[col].astype(object).to_numpy() == SUPPRESSED)
    for col in value_cols:
        if col not in out:
            continue
        vals = np.array(out[col].to_numpy(dtype=object), dtype=object, copy=True)
        as_count = hide & counts
        vals[as_count] = [suppress_count(v, nat) for v, nat in zip(vals[as_count], national[as_count])]
        vals[hide & ~counts & withheld] = SUPPRESSED
        if len(exact) == 2:
            ratio = np.flatnonzero(hide & ~counts & ~withheld)
            num, den = out["numerator"].to_numpy(dtype=object), out["denominator"].to_numpy(dtype=object)
            for i in ratio:
                vals[i] = recompute_ratio(vals[i], exact["numerator"][i], exact["denominator"][i], num[i], den[i])
        out[col] = vals
    out[RULE_COLUMN] = rules
    return out


def rules_applied(df: pd.DataFrame) -> list[str]:
    """The rules a prepared frame's rows follow, in words (for a download's notes)."""
    if RULE_COLUMN not in df or df.empty:
        return []
    return [f"{r}: {RULES[r]}" for r in (AS_PUBLISHED, *SUPPRESSING) if (df[RULE_COLUMN] == r).any()]
