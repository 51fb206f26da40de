"""Oversight-style segmentation (segments 1–4), month by month.

Follows the spirit of NHS England's *NHS Oversight Framework 2025/26 methodology
manual* (https://www.england.nhs.uk/long-read/nhs-oversight-framework-2025-26-methodology-manual)
and its *technical metric specification*: each scored metric gets a score from
1.00 (best) to 4.00 (worst) by ranking organisations on the metric's value in
its improvement direction ("scored between 1.00 and 4.00 based on absolute %
value ranked high to low"); the metric scores are averaged; and the average is
quartiled into segments 1 (narrowest range of challenges) to 4 (broadest).

Differences, stated plainly: we score only the metrics the loaded data supports
(catalogue entries with ``key = true``: 4-hour %, 12-hour waits per emergency
admission, RTT 18-week % and 52-week %), we do not apply the financial override
or segment 5 (Recovery Support Programme) which need data we do not hold, and we
compute a segment for every month so that persistence can be judged.  The
quartile cut can be replaced by fixed thresholds on the average score (as the
2026/27 manual does) through :class:`SegmentConfig`.

Two rules the manual leaves to judgement, stated so they can be checked:

* Ties.  Organisations with the same average score are in the same segment (the
  manual ranks scores, not organisation codes).  A tie that straddles a quartile
  boundary goes to the worse segment: nobody escapes segment 4, or enters
  segment 1, by sharing a score.
* Coverage.  An organisation is segmented in a month only if it has a score on
  more than half of the key metrics that have data that month (3 of 4, 2 of 3,
  2 of 2), so an average over one metric is never ranked against averages over
  four.  The manual scores a provider on the metrics it reports ("providers will
  receive scores for each of these metrics if they report the data", *technical
  metric specification 2025/26*); the majority rule is ours, and
  ``SegmentConfig.min_metrics`` replaces it with a fixed number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import ValidationError
from partnering.indicators.catalogue import load_catalogue


@dataclass(frozen=True)
class SegmentConfig:
    metrics: tuple[str, ...] | None = None  # default: catalogue indicators with key = true
    # fixed cut points on the average metric score (segment k if score <= thresholds[k-1]); None = quartiles
    thresholds: tuple[float, float, float] | None = None
    # an organisation needs at least this many scored metrics in a month; None = more than half of the key
    # metrics that have data that month (a judgement: see the module docstring)
    min_metrics: int | None = None
    min_orgs: int = 8  # a month with fewer organisations scored is too small to rank

    def validate(self) -> None:
        if self.thresholds is not None:
            t = self.thresholds
            if len(t) != 3 or not (1.0 <= t[0] < t[1] < t[2] <= 4.0):
                raise ValidationError("segment thresholds must be three increasing numbers between 1 and 4")
        if (self.min_metrics is not None and self.min_metrics < 1) or self.min_orgs < 2:
            raise ValidationError("min_metrics must be ≥ 1 and min_orgs ≥ 2")


def key_metrics(config: SegmentConfig, catalogue=None) -> list[str]:
    cat = catalogue or load_catalogue()
    if config.metrics:
        unknown = [m for m in config.metrics if m not in cat]
        if unknown:
            raise ValidationError(f"unknown segmentation metric(s): {', '.join(unknown)}")
        return list(config.metrics)
    return [c for c, d in cat.items() if d.key]


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
    scores = metric_scores(obs, metrics, catalogue)
    cols = ["org_code", "period", "avg_score", "metrics_scored", "scored_metrics", "metrics_required", "n_orgs",
            "segment"]
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
    return seg[cols].sort_values(["org_code", "period"]).reset_index(drop=True)


@dataclass
class SegmentSummary:
    scores: pd.DataFrame
    segments: pd.DataFrame
    metrics: list[str] = field(default_factory=list)
