"""Segments 1–4 that follow the NHS Oversight Framework 2025/26, month by month and as a quarterly league table.

Method (NHS England, *NHS Oversight Framework 2025/26 methodology manual*,
https://www.england.nhs.uk/long-read/nhs-oversight-framework-2025-26-methodology-manual, and its *technical
metric specification*; the metrics and their sources are in ``nof_metrics.toml``, :mod:`partnering.measure.nof`):

1. **Each metric is scored 1.00 (best) to 4.00 (worst)** by ranking organisations on its value in the metric's
   improvement direction: "organisations are scored between 1.00 and 4.00 based on absolute % value ranked high
   to low" (technical specification, OF0023 and the other ranked metrics).  Score = 1 + 3 (r − 1)/(n − 1), r the
   rank from best among the n organisations with a value (ties share the average rank).  Discrete (CQC rating)
   and manual (plan) scores need data Partnering does not hold.
2. **The scores are averaged** over the metrics the organisation reports ("providers will receive scores for each
   of these metrics if they report the data", technical specification).
3. **Segments are the quartiles of the average** ("consolidated, averaged and quartiled", methodology manual;
   "assigned to one of the four equal segments", NHS England and DHSC league tables, 9 September 2025).  Fixed
   cut-offs on the average (the 2026/27 manual's "defined thresholds") replace quartiles through
   :class:`SegmentConfig` ``thresholds``.
4. **Adjustment.** A trust in deficit is placed no higher than segment 3 (the financial override); segment 5 is
   the Recovery Support (Provider Improvement) Programme.  Partnering loads no finance data and no programme list:
   both apply only to the organisations given in :class:`SegmentConfig` (``in_deficit``, ``recovery_support``),
   and every segment row says whether it was adjusted.

The default metrics are the Framework's ranked metrics that the indicator catalogue defines
(:func:`partnering.measure.nof.framework_indicators`), plus any catalogue indicator marked ``key = true`` (an
organisation's own addition).  The metric's value is the latest one published: monthly data in its month;
quarterly and annual data count for every month until the next publication is due (the interval is read from the
data; for a single annual survey from ``nof_metrics.toml``), as the Framework scores each metric on the latest data
in the period ("Basis: latest month in the period", technical specification).

Differences, stated plainly: Partnering computes a segment for every month (so that persistence can be judged)
as well as the quarterly league table (:func:`league_table`); specialist trusts are segmented among themselves,
not with general acute trusts; and some metrics are proxies or missing (``nof_metrics.toml``, the methods page).

Two rules the manual leaves to judgement, stated so they can be checked:

* Ties.  Organisations with the same average score are in the same segment (the
  manual ranks scores, not organisation codes).  A tie that straddles a quartile
  boundary goes to the worse segment: nobody escapes segment 4, or enters
  segment 1, by sharing a score.
* Coverage.  An organisation is segmented in a month only if it has a score on
  more than half of the key metrics that have data that month (3 of 4, 2 of 3,
  2 of 2), so an average over one metric is never ranked against averages over
  four.  The majority rule is ours, and ``SegmentConfig.min_metrics`` replaces it
  with a fixed number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import ValidationError
from partnering.indicators.catalogue import load_catalogue


@dataclass(frozen=True)
class SegmentConfig:
    # default: the Framework's ranked metrics the catalogue defines (nof_metrics.toml) plus catalogue key = true
    metrics: tuple[str, ...] | None = None
    trust_type: str = "acute"  # which of the Framework's league tables the default metrics come from
    # fixed cut points on the average metric score (segment k if score <= thresholds[k-1]); None = quartiles
    thresholds: tuple[float, float, float] | None = None
    # an organisation needs at least this many scored metrics in a month; None = more than half of the key
    # metrics that have data that month (a judgement: see the module docstring)
    min_metrics: int | None = None
    min_orgs: int = 8  # a month with fewer organisations scored is too small to rank
    # a quarterly or annual value counts until its next publication is due (the Framework's "latest data")
    carry_forward: bool = True
    # the Framework's adjustment, for the organisations known (Partnering loads no finance data or programme list):
    in_deficit: frozenset[str] | None = None  # None = not known: no cap applied (the methods page says so)
    recovery_support: frozenset[str] = frozenset()  # segment 5: the Recovery Support Programme

    def validate(self) -> None:
        if self.thresholds is not None:
            t = self.thresholds
            if len(t) != 3 or not (1.0 <= t[0] < t[1] < t[2] <= 4.0):
                raise ValidationError("segment thresholds must be three increasing numbers between 1 and 4")
        if (self.min_metrics is not None and self.min_metrics < 1) or self.min_orgs < 2:
            raise ValidationError("min_metrics must be ≥ 1 and min_orgs ≥ 2")


def key_metrics(config: SegmentConfig, catalogue=None) -> list[str]:
    """The metrics segments are scored on: ``config.metrics`` when given, else the Framework's ranked metrics that
    the catalogue defines for ``config.trust_type`` together with catalogue indicators marked ``key = true``, in
    catalogue order."""
    from partnering.measure.nof import framework_indicators

    cat = catalogue or load_catalogue()
    if config.metrics:
        unknown = [m for m in config.metrics if m not in cat]
        if unknown:
            raise ValidationError(f"unknown segmentation metric(s): {', '.join(unknown)}")
        return list(config.metrics)
    nof = set(framework_indicators(cat, config.trust_type))
    # a catalogue key metric that the Framework scores only for other trusts (the 4-hour measure for ambulance
    # trusts) stays out
    others = {c for t in ("acute", "ambulance") if t != config.trust_type for c in framework_indicators(cat, t)}
    return [c for c, d in cat.items() if c in nof or (d.key and c not in others)]


def _month_number(periods: pd.Series) -> np.ndarray:
    p = periods.astype(str)
    return (p.str.slice(0, 4).astype(np.int64) * 12 + p.str.slice(5, 7).astype(np.int64) - 1).to_numpy()


def _month_text(n: np.ndarray) -> np.ndarray:
    return np.array([f"{v // 12:04d}-{v % 12 + 1:02d}" for v in n], dtype=object)


def publication_intervals(obs: pd.DataFrame, hints: dict[str, int] | None = None) -> dict[str, int]:
    """Months between publications per indicator: the median gap between the distinct months that have values
    (1 monthly, 3 quarterly, 12 annual; capped at 12).  An indicator with a single month takes ``hints`` (the
    metric table's ``interval_months``) or 1."""
    out: dict[str, int] = {}
    if obs.empty:
        return out
    per = obs[["indicator", "period"]].drop_duplicates()
    per = per.assign(_m=_month_number(per["period"])).sort_values(["indicator", "_m"])
    gap = per.groupby("indicator")["_m"].diff()
    med = gap.groupby(per["indicator"]).median()
    for code, g in med.items():
        out[code] = int(min(12, max(1, round(g)))) if g == g else int((hints or {}).get(code, 1))
    return out


def carry_forward(obs: pd.DataFrame, intervals: dict[str, int]) -> pd.DataFrame:
    """Each value of an indicator published every k > 1 months also stands for the k − 1 months after its own, up
    to the last month of the data (a newer value of the same series wins).  Monthly series are unchanged."""
    slow = {c: k for c, k in intervals.items() if k > 1}
    if not slow or obs.empty:
        return obs
    last = int(_month_number(obs["period"]).max())
    base = obs[obs["indicator"].isin(slow)]
    month = _month_number(base["period"])
    k = base["indicator"].map(slow).to_numpy()
    parts = [obs.assign(_lag=0)]
    for lag in range(1, max(slow.values())):
        keep = (lag < k) & (month + lag <= last)
        if keep.any():
            parts.append(base[keep].assign(period=_month_text(month[keep] + lag), _lag=lag))
    out = pd.concat(parts, ignore_index=True).sort_values("_lag", kind="stable")
    out = out.drop_duplicates(["org_code", "indicator", "period"], keep="first")
    return out.drop(columns="_lag").reset_index(drop=True)


def metric_scores(obs: pd.DataFrame, metrics: list[str], catalogue=None) -> pd.DataFrame:
    """Score 1.00 (best) .. 4.00 (worst) per (indicator, period) by rank among organisations.

    score = 1 + 3 (r - 1) / (n - 1), r the rank from best (ties share the average rank).
    Returns org_code, indicator, period, value, rank, n, score, percentile (0 best .. 1 worst).
    """
    cat = catalogue or load_catalogue()
    df = obs[obs["indicator"].isin(metrics) & obs["value"].notna()][["org_code", "indicator", "period", "value"]].copy()
    if df.empty:
        return df.assign(rank=[], n=[], score=[], percentile=[])
    sign = df["indicator"].map(lambda c: -1.0 if cat[c].improvement_direction == "increase" else 1.0)
    df["_key"] = sign * df["value"]  # smaller is better after the sign flip
    g = df.groupby(["indicator", "period"])["_key"]
    df["rank"] = g.rank(method="average", ascending=True)
    df["n"] = g.transform("count")
    denom = (df["n"] - 1).where(df["n"] > 1, 1)
    df["score"] = 1.0 + 3.0 * (df["rank"] - 1.0) / denom
    df["percentile"] = (df["rank"] - 1.0) / denom
    return df.drop(columns="_key")


def required_metrics(metrics_with_data: int, min_metrics: int | None = None) -> int:
    """Scored metrics an organisation needs in a month: ``min_metrics`` if given, else more than half of the key
    metrics that have data that month (``metrics_with_data // 2 + 1``: 3 of 4, 2 of 3, 2 of 2, 1 of 1)."""
    if min_metrics is not None:
        return min_metrics
    return metrics_with_data // 2 + 1


def monthly_segments(obs: pd.DataFrame, config: SegmentConfig = SegmentConfig(), catalogue=None) -> pd.DataFrame:
    """Average metric score and segment for every organisation and month.

    Returns org_code, period, avg_score, metrics_scored, scored_metrics (the codes averaged, comma-separated, in
    catalogue order), metrics_required, n_orgs, segment (1..4).  Tied average scores share a segment.
    """
    config.validate()
    metrics = key_metrics(config, catalogue)
    if config.carry_forward:
        from partnering.measure.nof import interval_hints

        mine = obs[obs["indicator"].isin(metrics) & obs["value"].notna()]
        obs = carry_forward(mine, publication_intervals(mine, interval_hints(catalogue=catalogue)))
    scores = metric_scores(obs, metrics, catalogue)
    cols = ["org_code", "period", "avg_score", "metrics_scored", "scored_metrics", "metrics_required", "n_orgs",
            "segment_unadjusted", "adjustment", "segment"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    # which metrics were scored: one bit per key metric, summed per organisation and month, then named once per
    # distinct combination (in key-metric order)
    bit = scores["indicator"].map({m: 1 << i for i, m in enumerate(metrics)}).astype(np.int64)
    seg = scores.assign(_bit=bit).groupby(["org_code", "period"]).agg(
        avg_score=("score", "mean"),
        metrics_scored=("score", "size"),
        _bits=("_bit", "sum"),
    )
    names = {b: ", ".join(m for i, m in enumerate(metrics) if b >> i & 1) for b in seg["_bits"].unique()}
    seg["scored_metrics"] = seg["_bits"].map(names)
    with_data = scores.groupby("period")["indicator"].nunique()
    seg = seg.drop(columns="_bits").reset_index()
    seg["metrics_required"] = [required_metrics(int(m), config.min_metrics) for m in seg["period"].map(with_data)]
    seg = seg[seg["metrics_scored"] >= seg["metrics_required"]].copy()
    seg["n_orgs"] = seg.groupby("period")["org_code"].transform("size")
    seg = seg[seg["n_orgs"] >= config.min_orgs].copy()
    if config.thresholds is not None:
        t = np.asarray(config.thresholds)
        seg["segment"] = 1 + np.searchsorted(t, seg["avg_score"].to_numpy(), side="left")
    else:
        # quartile of the rank among the month's organisations.  Tied scores share a segment (ranking by "first"
        # split a tie by code order): every tied organisation takes the rank of the last of them, so a tie that
        # straddles a quartile boundary goes to the worse segment and nobody escapes segment 4, or enters
        # segment 1, by sharing a score.  Scores equal but for float rounding count as tied.
        r = seg["avg_score"].round(9).groupby(seg["period"]).rank(method="max", ascending=True)
        seg["segment"] = (1 + np.floor(4.0 * (r - 1.0) / seg["n_orgs"])).astype(int).clip(1, 4)
    seg["segment"] = seg["segment"].astype(int)
    seg["segment_unadjusted"] = seg["segment"]
    seg["segment"], seg["adjustment"] = adjust(seg["org_code"], seg["segment"], config)
    return seg[cols].sort_values(["org_code", "period"]).reset_index(drop=True)


def adjust(codes: pd.Series, segment: pd.Series, config: SegmentConfig) -> tuple[pd.Series, pd.Series]:
    """The Framework's adjustment: a trust in deficit no higher than segment 3 (methodology manual; "any trust in
    deficit can be no higher than segment 3", league tables of 9 September 2025), and segment 5 for a trust in the
    Recovery Support Programme.  Returns the adjusted segment and a short reason per row ("" when unchanged)."""
    seg = segment.astype(int).copy()
    why = pd.Series("", index=segment.index, dtype=object)
    if config.in_deficit:
        capped = codes.isin(config.in_deficit) & (seg < 3)
        seg[capped] = 3
        why[capped] = "in deficit: no higher than segment 3"
    if config.recovery_support:
        rsp = codes.isin(config.recovery_support)
        seg[rsp] = 5
        why[rsp] = "Recovery Support Programme: segment 5"
    return seg, why


def league_table(obs: pd.DataFrame, as_at: str, config: SegmentConfig = SegmentConfig(), catalogue=None,
                 window: int = 3) -> pd.DataFrame:
    """The Framework's quarterly view: every organisation scored on the latest value of each metric in the
    ``window`` months to ``as_at`` (a quarter: "Basis: latest month in the period"; quarterly and annual metrics
    count until their next publication), averaged, segmented and ranked "first on the adjusted segment and then by
    average metric score" (NHS England league tables, 9 September 2025).

    Returns org_code, avg_score, metrics_scored, scored_metrics, segment_unadjusted, adjustment, segment, rank
    (1 = top), n_orgs; sorted by rank.
    """
    config.validate()
    metrics = key_metrics(config, catalogue)
    from partnering.measure.nof import interval_hints

    mine = obs[obs["indicator"].isin(metrics) & obs["value"].notna()]
    end = int(_month_number(pd.Series([as_at]))[0])
    if config.carry_forward:
        mine = carry_forward(mine, publication_intervals(mine, interval_hints(catalogue=catalogue)))
    m = _month_number(mine["period"]) if len(mine) else np.array([], dtype=np.int64)
    recent = mine[(m <= end) & (m > end - window)].sort_values("period")
    latest = recent.groupby(["org_code", "indicator"], as_index=False).tail(1).assign(period=as_at)
    seg = monthly_segments(latest, SegmentConfig(**{**config.__dict__, "metrics": tuple(metrics),
                                                    "carry_forward": False}), catalogue)
    if seg.empty:
        return seg.assign(rank=[])
    seg = seg.sort_values(["segment", "avg_score", "org_code"]).reset_index(drop=True)
    seg["rank"] = np.arange(1, len(seg) + 1)
    return seg.drop(columns="period")


def store_league_table(engine, as_at: str, kinds: tuple[str, ...] = ("acute_trust",), config=None) -> pd.DataFrame:
    """:func:`league_table` of the organisations of ``kinds`` in the store, as at the
    month ``as_at`` (``YYYY-MM``, a quarter's last month: 2025-06 is Q1 2025/26), with their names."""
    import re

    from partnering.measure.derive import add_derived
    from partnering.store import repository as repo

    if not re.fullmatch(r"\d{4}-(?:0[1-9]|1[0-2])", str(as_at)):
        raise ValidationError(f"as-at month {as_at!r} is not a month YYYY-MM (e.g. 2025-06 for Q1 2025/26)")
    cfg = config or SegmentConfig(trust_type="ambulance" if set(kinds) == {"ambulance_trust"} else "acute")
    orgs = repo.organisations_frame(engine, list(kinds))
    obs = repo.observations_frame(engine, orgs=list(orgs["org_code"]))
    obs = add_derived(obs[~obs["indicator"].str.contains(":", regex=False)])
    lt = league_table(obs, as_at, cfg)
    lt.insert(1, "org_name", lt["org_code"].map(dict(zip(orgs["org_code"], orgs["name"]))))
    return lt


@dataclass
class SegmentSummary:
    scores: pd.DataFrame
    segments: pd.DataFrame
    metrics: list[str] = field(default_factory=list)
