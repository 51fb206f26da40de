"""Exports of store data for analysts and board papers (CSV, XLSX and Parquet via :mod:`partnering.report.tables`)."""

from __future__ import annotations

from partnering.report.tables import FORMATS, format_of, write_table  # noqa: F401  (write_table: public here too)

OBS_EXPORT_COLUMNS = ["org_code", "indicator", "period", "numerator", "denominator", "value"]
OGL_ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0 "
                   "(NHS England). Synthetic demo values, where present, are not real NHS data.")


def export_observations(engine, out, fmt: str | None = None, indicators=None, suppress: bool = False,
                        **scope) -> int:
    """Write the current observations (one row per organisation, indicator and month) and return the row count.

    ``fmt`` is ``csv``, ``xlsx`` or ``parquet``; ``None`` takes it from the extension of ``out``. With
    ``suppress`` (for publication) each row follows its publication rule and says which in a ``publication_rule``
    column (:func:`partnering.report.suppression.apply_publication_rules`): official statistics NHS England
    publishes at organisation level are written as published, own measures, unpublished uploads and figures derived
    from record-level data with the NHS small-number rule; the notes (XLSX) name the rules applied.  Where analysts
    have recorded annotations or rebases on the data exported (:mod:`partnering.store.annotations`), every row gains
    an ``annotation`` and a ``rebase_reason`` column: the notes of its organisation, indicator and month (empty
    where there is none).
    """
    from partnering.store import repository as repo
    from partnering.store.annotations import notes_frame, with_notes

    df = repo.observations_frame(engine, indicators, **scope)
    df = df[OBS_EXPORT_COLUMNS]
    attribution = OGL_ATTRIBUTION
    if suppress:
        df, notes = publishable_observations(engine, df, indicators)
        attribution = " ".join([OGL_ATTRIBUTION, *notes])
    # the analysts' annotations and rebase reasons travel with the data, on the month they are about
    recorded = notes_frame(engine, indicators=indicators)
    if not recorded.empty and (recorded["org_code"].isin(set(df["org_code"]))).any():
        df = with_notes(df, recorded)
    write_table(df, out, fmt or format_of(out), sheet="observations", attribution=attribution)
    return len(df)


def published_mask(engine, df, value_col: str = "value", period_col: str = "period",
                   indicators=None) -> "object":
    """Per row of ``df`` (org_code, indicator, period and ``value_col``): is its figure the published one?  True
    where the store's published current value for that organisation, indicator and month is the same (an
    unpublished upload that repeats a published figure reveals nothing new); False for figures only an
    unpublished upload holds.  One read of the published values when any upload is unpublished, none otherwise."""
    import numpy as np
    import pandas as pd

    from partnering.store import repository as repo

    if df.empty or not repo.has_unpublished(engine):
        return np.ones(len(df), dtype=bool)
    orgs = sorted(set(df["org_code"])) if "org_code" in df else None
    codes = indicators or (sorted(set(df["indicator"])) if "indicator" in df else None)
    pub = repo.observations_frame(engine, codes, orgs, viewer_is_admin=False)
    key = ["org_code", "indicator", "period"]
    left = df[["org_code", "indicator", period_col, value_col]].rename(columns={period_col: "period",
                                                                               value_col: "_mine"})
    left = left.assign(_mine=pd.to_numeric(left["_mine"], errors="coerce"), _row=np.arange(len(df)))
    merged = left.merge(pub[key + ["value"]].assign(_there=True), on=key, how="left").sort_values("_row")
    a, b = merged["_mine"].to_numpy(dtype=float), merged["value"].to_numpy(dtype=float)
    there = merged["_there"].eq(True).to_numpy()
    with np.errstate(invalid="ignore"):
        equal = np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(a))
    return there & ((np.isnan(a) & np.isnan(b)) | equal)


def derived_mask(engine, df, period_col: str = "period", indicators=None) -> "object":
    """Per row of ``df`` (org_code, indicator and ``period_col``): is the store's current figure for that
    organisation, indicator and month derived from record-level data (a batch of ``partnering compute indicators
    --load``, publication basis ``derived from record-level data``)?  An organisation that merged into another
    counts as its successor too, so a combined figure resting on any derived value is derived.  One cheap query
    when the store holds no derived batch."""
    import numpy as np

    from partnering.store import repository as repo

    if df.empty or not {"org_code", "indicator", period_col} <= set(df.columns):
        return np.zeros(len(df), dtype=bool)
    codes = indicators or sorted(set(df["indicator"].dropna().astype(str)))
    keys = repo.derived_keys(engine, codes)
    if keys.empty:
        return np.zeros(len(df), dtype=bool)
    smap = repo.successor_map(engine)
    final = keys.assign(org_code=keys["org_code"].map(lambda c: smap.get(c, c)))
    derived = set(map(tuple, keys.to_numpy())) | set(map(tuple, final.to_numpy()))
    periods = df[period_col].astype(str).str[:7]
    return np.array([(o, i, p) in derived for o, i, p in zip(df["org_code"], df["indicator"], periods)], dtype=bool)


def publishable_observations(engine, df, indicators=None):
    """Observations ready to publish under their rules, and the rules applied in words."""
    from partnering.report.suppression import apply_publication_rules, rules_applied

    out = apply_publication_rules(df, published=published_mask(engine, df, indicators=indicators),
                                  derived=derived_mask(engine, df, indicators=indicators))
    return out, rules_applied(out)
