"""Contextual variables for the peer finder, read from the store: catchment, size and case mix per organisation.

:func:`peer_context` returns one row per organisation of a kind (index ``org_code``) with the numeric variables
:func:`partnering.match.peers.find_peers` standardises, and the ``kind`` column. :func:`context_weights` gives
each variable its weight by *theme*, the way ``peers.default_weights`` does (a theme measured by several
correlated variables shares one unit of weight, so it does not count several times; ONS 2025 statistical
nearest neighbours prune correlated indicators for the same reason). Themes and sources:

* deprivation: catchment ``imd_score`` (RightCare Similar 10 theme);
* age: ``pct_over_65`` of the catchment (RightCare Similar 10 theme);
* rurality: ``rurality`` where the store has it (RightCare density/rurality theme);
* size: log catchment population, log beds, and the log of mean monthly activity over the last 12 months
  (A&E attendances, emergency admissions via A&E, RTT incomplete pathways) — Model Health System offers
  size-based peers; a buddy of very different scale is rarely comparable;
* case mix: ``case_mix_index`` where the store has it, the type 1 share of A&E attendances and emergency
  admissions per A&E attendance (proxies available for every trust publishing A&E data).

Size variables are logged because trust sizes are skewed (a few very large trusts would otherwise dominate the
standardised distance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError

__all__ = ["ACTIVITY_INDICATORS", "CONTEXT_THEMES", "activity_frame", "context_weights", "peer_context"]

ACTIVITY_INDICATORS = (
    "ae_attendances_total",
    "ae_attendances_type1",
    "ae_emergency_admissions",
    "rtt_incomplete_pathways",
)
ACTIVITY_MONTHS = 12  # "mean monthly activity over the last 12 months": a full year, so winter counts once

# variable -> theme; each theme's weight (1) is split equally between the variables present in the context
CONTEXT_THEMES: dict[str, str] = {
    "imd_score": "deprivation",
    "pct_over_65": "age",
    "rurality": "rurality",
    "log_catchment_population": "size",
    "log_beds": "size",
    "log_ae_attendances": "size",
    "log_emergency_admissions": "size",
    "log_rtt_pathways": "size",
    "case_mix_index": "case mix",
    "type1_share": "case mix",
    "admissions_per_attendance": "case mix",
}


def activity_frame(engine, org_codes, assessment=None, months: int = ACTIVITY_MONTHS) -> pd.DataFrame:
    """Mean monthly activity per organisation over the last ``months`` months of data.

    Reads the SPC points of a precomputed ``assessment`` when given (they hold the last 36 months of every
    indicator, counts included), else the store's observations. Columns: ``ae_attendances``, ``type1_attendances``,
    ``emergency_admissions``, ``rtt_pathways`` (NaN where an organisation reports none).
    """
    codes = pd.Index(list(org_codes), name="org_code")
    if assessment is not None and len(assessment.points):
        pts = assessment.points
        pts = pts[pts["indicator"].isin(ACTIVITY_INDICATORS)]
        xs = np.sort(pd.unique(pts["x"].to_numpy()))[-months:]  # ISO dates: string order is time order
        pts = pts[pts["x"].isin(xs)]
        obs = pd.DataFrame({"org_code": pts["org_code"], "indicator": pts["indicator"], "value": pts["y"]})
    else:
        from partnering.store import repository as repo

        obs = repo.observations_frame(engine, list(ACTIVITY_INDICATORS), orgs=list(codes))
        last = sorted(obs["period"].unique())[-months:]
        obs = obs[obs["period"].isin(set(last))]
    out = pd.DataFrame(index=codes)
    mean = obs.groupby(["org_code", "indicator"])["value"].mean().unstack("indicator") if len(obs) else None
    if mean is None:
        mean = pd.DataFrame(index=codes, columns=list(ACTIVITY_INDICATORS), dtype=float)
    mean = mean.reindex(index=codes, columns=list(ACTIVITY_INDICATORS))
    out["ae_attendances"] = mean["ae_attendances_total"]
    out["type1_attendances"] = mean["ae_attendances_type1"]
    out["emergency_admissions"] = mean["ae_emergency_admissions"]
    out["rtt_pathways"] = mean["rtt_incomplete_pathways"]
    return out


def _attributes(engine, codes: list[str]) -> pd.DataFrame:
    """Wide org x attribute values of the context attributes used here, for ``codes``."""
    from partnering.store import repository as repo

    names = ["imd_score", "pct_over_65", "rurality", "catchment_population", "beds", "case_mix_index"]
    df = repo.org_attributes_long(engine, names, orgs=codes)
    wide = df.pivot(index="org_code", columns="attribute", values="value") if len(df) else pd.DataFrame()
    return wide.reindex(index=pd.Index(codes, name="org_code"))


def org_codes_of_kind(engine, kind: str) -> list[str]:
    """Codes of the store's organisations of ``kind``, sorted."""
    from partnering.store import repository as repo

    return repo.organisations_frame(engine, kinds=[kind])["org_code"].sort_values().tolist()


def peer_context(engine, kind: str = "acute_trust", assessment=None) -> pd.DataFrame:
    """Standardisable contextual variables per organisation of ``kind`` (index ``org_code``) plus ``kind``.

    Variables with no value for any organisation are left out; missing values for some organisations are left as
    NaN (``find_peers`` imputes the median and reports it). Raises ``NotFoundError`` when the store holds no
    organisation of that kind.
    """
    codes = org_codes_of_kind(engine, kind)
    if not codes:
        raise NotFoundError(f"no organisations of kind {kind!r} in the store: load data first")
    attrs = _attributes(engine, codes)
    act = activity_frame(engine, codes, assessment)
    cols: dict[str, np.ndarray] = {}

    def col(name):
        if name not in attrs:
            return None
        return pd.to_numeric(attrs[name], errors="coerce").to_numpy(dtype=float)

    def log(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)

    for name in ("imd_score", "pct_over_65", "rurality"):
        if (v := col(name)) is not None:
            cols[name] = v
    if (v := col("catchment_population")) is not None:
        cols["log_catchment_population"] = log(v)
    if (v := col("beds")) is not None:
        cols["log_beds"] = log(v)
    att = act["ae_attendances"].to_numpy(dtype=float)
    cols["log_ae_attendances"] = log(att)
    cols["log_emergency_admissions"] = log(act["emergency_admissions"].to_numpy(dtype=float))
    cols["log_rtt_pathways"] = log(act["rtt_pathways"].to_numpy(dtype=float))
    if (v := col("case_mix_index")) is not None:
        cols["case_mix_index"] = v
    att = np.where(att > 0, att, np.nan)
    cols["type1_share"] = act["type1_attendances"].to_numpy(dtype=float) / att
    cols["admissions_per_attendance"] = act["emergency_admissions"].to_numpy(dtype=float) / att
    cols = {k: v for k, v in cols.items() if np.isfinite(v).any()}
    ctx = pd.DataFrame(cols, index=pd.Index(codes, name="org_code"))
    ctx["kind"] = kind
    return ctx


def context_weights(context: pd.DataFrame) -> dict[str, float]:
    """Theme weights for the variables of ``context``: each theme present totals 1, split equally.

    A variable not in :data:`CONTEXT_THEMES` is a theme of its own (weight 1).
    """
    variables = [c for c in context.columns if c != "kind"]
    themes = {v: CONTEXT_THEMES.get(v, v) for v in variables}
    size = pd.Series(themes).value_counts()
    return {v: 1.0 / float(size[t]) for v, t in themes.items()}
