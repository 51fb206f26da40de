"""Assessment: the summary icon table, segments, persistent difficulty, track record and good practice.

Everything here is computed from plain DataFrames (:func:`assess_frames`);
:func:`assess` reads them from the store.  Every flag carries a sentence that
explains it, so a reader can check it against the SPC charts.

Default parameters are judgements, not national rules, and are configurable
(:class:`AssessConfig`); their reasons:

* ``difficulty_window = 12`` months and ``difficulty_min_months = 9``: NHS England
  segments quarterly (NOF 2025/26); "persistent" here means in the worst segment in
  at least three of the last four quarters' worth of months.
* ``track_window = 24`` months, ``track_min_months = 18``: a record over two
  financial years, in the top quartile at least three quarters of that time, and
  no special-cause concern on a key metric now ("sustained top quartile with no
  concern", issue #3).
* ``spc_months = 36``: Making Data Count advises at least 20 points for reliable
  limits; three years of monthly points keeps the limits relevant to today's
  process while giving ≥ 20 points for every full series.
* ``good_practice_min_share = 0.6``: "better than its peers" means better than at least 60% of
  them over the last ``good_practice_window`` months, so a value a hair above the median does
  not count as practice worth protecting.
* ``concern_recent_points = 3``: a key metric counts as "in concern" when one of
  its last three points is a special-cause concern (a quarter's worth of months).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError, ValidationError
from partnering.indicators.catalogue import IndicatorDef, indicator, load_catalogue
from partnering.indicators.catalogue import format_value as _fmt
from partnering.measure.derive import add_derived
from partnering.measure.segment import SegmentConfig, key_metrics, metric_scores, monthly_segments
from partnering.measure.spc import run_spc

SEGMENT_WORDS = {
    1: "segment 1 (top quartile of average metric score: narrowest range of challenges)",
    2: "segment 2",
    3: "segment 3",
    4: "segment 4 (bottom quartile of average metric score: broadest range of challenges)",
}


@dataclass(frozen=True)
class AssessConfig:
    kinds: tuple[str, ...] = ("acute_trust",)
    spc_months: int = 36
    difficulty_window: int = 12
    difficulty_min_months: int = 9
    concern_min_metrics: int = 2
    concern_recent_points: int = 3
    track_window: int = 24
    track_min_months: int = 18
    good_practice_window: int = 12
    good_practice_min_share: float = 0.6
    segment: SegmentConfig = field(default_factory=SegmentConfig)

    def validate(self) -> None:
        for name in ("spc_months", "difficulty_window", "track_window", "good_practice_window"):
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be at least 1 month")
        if not 1 <= self.difficulty_min_months <= self.difficulty_window:
            raise ValidationError("difficulty_min_months must be between 1 and difficulty_window")
        if not 1 <= self.track_min_months <= self.track_window:
            raise ValidationError("track_min_months must be between 1 and track_window")
        if self.concern_min_metrics < 1 or self.concern_recent_points < 1:
            raise ValidationError("concern_min_metrics and concern_recent_points must be at least 1")
        self.segment.validate()


@dataclass
class Assessment:
    icons: pd.DataFrame  # the summary icon table: one row per organisation x indicator
    standing: pd.DataFrame  # rank and quartile history per organisation x indicator
    segments: pd.DataFrame  # org_code, period, avg_score, metrics_scored, n_orgs, segment
    flags: pd.DataFrame  # one row per organisation: segment, persistent difficulty, track record, good practice
    good_practice: pd.DataFrame  # org_code, indicator, value, peer_median, better_than, n_peers, explanation
    points: pd.DataFrame  # every SPC point (series = org_code|indicator) for charts
    metrics: list[str]
    config: AssessConfig

    def org(self, code: str) -> dict:
        if code not in set(self.flags["org_code"]):
            raise NotFoundError(
                f"organisation {code!r} is not in this assessment (kinds: {', '.join(self.config.kinds)})"
            )
        return {
            "flags": self.flags[self.flags["org_code"] == code].iloc[0].to_dict(),
            "icons": self.icons[self.icons["org_code"] == code],
            "good_practice": self.good_practice[self.good_practice["org_code"] == code],
            "segments": self.segments[self.segments["org_code"] == code],
        }


# ---------------------------------------------------------------------------------------------- entry points


def assess(
    engine, config: AssessConfig = AssessConfig(), peers: dict[str, list[str]] | None = None, **scope
) -> Assessment:
    """Assess every organisation of ``config.kinds`` in the store."""
    from partnering.store import repository as repo

    orgs = repo.organisations_frame(engine, config.kinds)
    obs = repo.observations_frame(engine, orgs=list(orgs["org_code"]), **scope)
    return assess_frames(obs, orgs, config, peers=peers)


def assess_frames(
    obs: pd.DataFrame,
    orgs: pd.DataFrame,
    config: AssessConfig = AssessConfig(),
    peers: dict[str, list[str]] | None = None,
    catalogue=None,
) -> Assessment:
    config.validate()
    cat = catalogue or load_catalogue()
    orgs = orgs[orgs["kind"].isin(config.kinds)] if "kind" in orgs else orgs
    obs = obs[obs["org_code"].isin(set(orgs["org_code"])) & ~obs["indicator"].str.contains(":", regex=False)]
    obs = add_derived(obs, cat)
    obs = obs[obs["indicator"].map(lambda c: indicator(c, cat) is not None)]
    if obs.empty:
        raise NotFoundError(
            "no observations for the organisations to assess: load data first "
            "(partnering ingest ... or partnering demo)"
        )
    metrics = key_metrics(config.segment, cat)
    periods = reported_periods(obs)
    names = dict(zip(orgs["org_code"], orgs["name"]))

    points, icons = _spc(obs, periods[-config.spc_months :], cat)
    icons.insert(1, "org_name", icons["org_code"].map(names))
    segments = monthly_segments(obs, config.segment, cat)
    standing = _standing(obs, periods, config, cat)
    flags = _flags(orgs, segments, icons, standing, periods, metrics, config, cat)
    good = _good_practice(obs, flags[flags["persistent_difficulty"]]["org_code"].tolist(), periods, peers, config, cat)
    summary = good.groupby("org_code")["explanation"].apply(lambda s: " ".join(s.head(3))).to_dict()
    flags["good_practice"] = [summary.get(c, "") for c in flags["org_code"]]
    return Assessment(icons, standing, segments, flags, good, points, metrics, config)


def reported_periods(obs: pd.DataFrame, share: float = 0.5) -> list[str]:
    """Months that count as "the data's months": those where at least ``share`` of the busiest month's
    organisations report.  One organisation's early upload of next month must not move everyone's windows
    (persistence, track record) onto a month nobody else has yet."""
    per = obs.groupby("period")["org_code"].nunique()
    if per.empty:
        return []
    return sorted(per[per >= share * per.max()].index)


# ---------------------------------------------------------------------------------------------- SPC icon table


_ISO_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"


def month_grid(obs: pd.DataFrame) -> pd.DataFrame:
    """Every organisation x indicator series on a full month grid, from its first to its last reported month.

    A month the series does not report gets a row with ``value`` NaN, so SPC sees the gap: NHSRplotthedots treats
    a missing value as breaking the moving ranges on both sides of it and every run, trend and two-in-three window
    it falls in (``ptd_spc_standard``, ``ptd_seven_point_trend``, ``ptd_two_in_three``; our engine reproduces that,
    docs/methods/spc.md).  Without the grid, the months either side of a hole would be treated as neighbours.
    The grid does not extend past a series' last month, so the last point (the icons' point) is a real value.

    ``obs`` has ``org_code, indicator, period`` (ISO month ``YYYY-MM``) and ``value``; the result has those four
    columns, sorted by series and month.  Vectorised: no loop over series.
    """
    cols = ["org_code", "indicator", "period", "value"]
    if obs.empty:
        return obs[cols].reset_index(drop=True)
    period = obs["period"].astype(str)
    bad = ~period.str.fullmatch(_ISO_MONTH)
    if bad.any():
        row = obs[bad.to_numpy()].iloc[0]
        raise ValidationError(
            f"period {row['period']!r} of {row['org_code']} / {row['indicator']} is not an ISO month (YYYY-MM)"
        )
    month = (period.str.slice(0, 4).astype(np.int64) * 12 + period.str.slice(5, 7).astype(np.int64) - 1).to_numpy()
    code, labels = pd.factorize(obs["org_code"].astype(str) + "|" + obs["indicator"].astype(str))
    n = len(labels)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, code, month)
    np.maximum.at(last, code, month)
    span = last - first + 1
    start = np.cumsum(span) - span
    pos = start[code] + (month - first[code])
    counts = np.bincount(pos, minlength=int(span.sum()))
    if (counts > 1).any():
        dup = int(np.flatnonzero(counts[pos] > 1)[0])
        raise ValidationError(
            f"series {labels[code[dup]]!r} has more than one value for {period.iloc[dup]} (one value per month)"
        )
    total = int(span.sum())
    series = np.repeat(np.arange(n), span)
    months = first[series] + (np.arange(total) - start[series])
    value = np.full(total, np.nan)
    value[pos] = obs["value"].to_numpy(dtype=float, na_value=np.nan)
    split = pd.Series(labels).str.split("|", n=1)
    years = pd.Series(months // 12).astype(str).str.zfill(4)
    mons = pd.Series(months % 12 + 1).astype(str).str.zfill(2)
    out = pd.DataFrame(
        {
            "org_code": split.str[0].to_numpy()[series],
            "indicator": split.str[1].to_numpy()[series],
            "period": (years + "-" + mons).to_numpy(),
            "value": value,
        }
    )
    return out.sort_values(["org_code", "indicator", "period"], kind="stable").reset_index(drop=True)


def spc_for_frame(obs: pd.DataFrame, with_icons: bool = False, catalogue=None):
    """Making Data Count SPC for observations (``org_code, indicator, period, value``), one chart per series.

    The one path from stored observations to SPC, used by the assessment and by every face.  Each series is put
    on a full month grid first (:func:`month_grid`: a missing month is a missing point, which breaks moving ranges
    and runs as in NHSRplotthedots), then charted with the catalogue's improvement direction and, as target, its
    national standard; an indicator the catalogue does not know is charted neutral with no target.

    Returns the points (``SpcResult.points`` plus ``org_code`` and ``indicator``; gap months are rows with ``y``
    missing), or ``(points, icons)`` with ``with_icons`` (icons also carry ``org_code`` and ``indicator``).
    """
    cat = catalogue or load_catalogue()
    grid = month_grid(obs)
    data = pd.DataFrame(
        {
            "series": grid["org_code"] + "|" + grid["indicator"],
            "x": grid["period"] + "-01",
            "y": grid["value"],
        }
    )
    defs = {c: indicator(c, cat) for c in grid["indicator"].unique()}
    series = pd.Series(data["series"].unique())
    ind_of = series.str.split("|", n=1).str[1]
    options = pd.DataFrame(
        {
            "series": series,
            "improvement_direction": ind_of.map(lambda c: defs[c].improvement_direction if defs[c] else "neutral"),
            "target": ind_of.map(lambda c: defs[c].national_standard if defs[c] else np.nan),
        }
    )
    res = run_spc(data, options)
    split = res.points["series"].str.split("|", n=1)
    points = res.points.assign(org_code=split.str[0], indicator=split.str[1])
    if not with_icons:
        return points
    isplit = res.icons["series"].str.split("|", n=1)
    return points, res.icons.assign(org_code=isplit.str[0], indicator=isplit.str[1])


def _spc(obs: pd.DataFrame, window: list[str], cat) -> tuple[pd.DataFrame, pd.DataFrame]:
    recent = obs[obs["period"] >= window[0]]
    pts, ic = spc_for_frame(recent, with_icons=True, catalogue=cat)
    ic = ic.set_index("series")
    defs = {c: indicator(c, cat) for c in pts["indicator"].unique()}
    last = pts.sort_values("x").groupby("series").tail(1).set_index("series")
    n_points = pts.groupby("series")["y"].count()
    icons = pd.DataFrame(
        {
            "org_code": last["org_code"],
            "indicator": last["indicator"],
            "latest_period": pd.to_datetime(last["x"]).dt.strftime("%Y-%m"),
            "latest_value": last["y"],
            "mean": last["mean"],
            "lpl": last["lpl"],
            "upl": last["upl"],
            "target": last["target"],
            "variation_icon": ic["variation_icon"].reindex(last.index),
            "assurance_type": ic["assurance_type"].reindex(last.index),
            "point_type": last["point_type"],
            "n_points": n_points.reindex(last.index),
            "explanation": last["explanation"].fillna(""),
        }
    ).reset_index(drop=True)
    icons["indicator_name"] = icons["indicator"].map(lambda c: defs[c].name)
    icons["unit"] = icons["indicator"].map(lambda c: defs[c].unit)
    icons["improvement_direction"] = icons["indicator"].map(lambda c: defs[c].improvement_direction)
    return pts, icons.sort_values(["org_code", "indicator"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- standing


def _comparable(d: IndicatorDef) -> bool:
    """Fair to rank organisations on: a direction, and not a raw count (counts follow size, not quality)."""
    return d.improvement_direction != "neutral" and d.unit != "count"


def _standing(obs: pd.DataFrame, periods: list[str], config: AssessConfig, cat) -> pd.DataFrame:
    directional = [c for c in obs["indicator"].unique() if _comparable(indicator(c, cat))]
    sc = metric_scores(obs, directional, cat)
    win = set(periods[-config.track_window :])
    recent = sc[sc["period"].isin(win)]
    agg = (
        recent.groupby(["org_code", "indicator"])
        .agg(
            months_scored=("score", "size"),
            months_top_quartile=("percentile", lambda p: int((p <= 0.25).sum())),
            months_bottom_quartile=("percentile", lambda p: int((p >= 0.75).sum())),
            mean_value=("value", "mean"),
        )
        .reset_index()
    )
    # latest standing among the data's months (a lone early month would rank an organisation "1st of 1")
    latest = sc[sc["period"].isin(set(periods))].sort_values("period").groupby(["org_code", "indicator"]).tail(1)
    latest = latest.rename(
        columns={
            "period": "latest_period",
            "value": "latest_value",
            "rank": "latest_rank",
            "n": "latest_n",
            "percentile": "latest_percentile",
        }
    )
    out = agg.merge(
        latest[
            ["org_code", "indicator", "latest_period", "latest_value", "latest_rank", "latest_n", "latest_percentile"]
        ],
        on=["org_code", "indicator"],
        how="outer",
    )
    # consecutive months in the top quartile up to the latest month (the "for 18 months" in a reason)
    sc = sc.sort_values(["org_code", "indicator", "period"])
    top = (sc["percentile"] <= 0.25).to_numpy()
    grp = (sc["org_code"] + "|" + sc["indicator"]).to_numpy()
    run = np.zeros(len(sc), dtype=int)
    for i in range(len(sc)):  # one pass over rows; cheap (orgs x indicators x months)
        run[i] = (run[i - 1] + 1 if i and grp[i] == grp[i - 1] and top[i - 1] else 1) if top[i] else 0
    sc["top_run"] = run
    last_run = sc.groupby(["org_code", "indicator"])["top_run"].last().rename("top_quartile_streak")
    return out.merge(last_run.reset_index(), on=["org_code", "indicator"], how="left")


# ---------------------------------------------------------------------------------------------- flags


def _concerns(icons: pd.DataFrame, points: pd.DataFrame | None, metrics: list[str], k: int) -> dict[str, list[str]]:
    key = icons[icons["indicator"].isin(metrics)]
    out: dict[str, list[str]] = {}
    for row in key.itertuples():
        if row.variation_icon in ("concern_high", "concern_low") or row.point_type == "special_cause_concern":
            out.setdefault(row.org_code, []).append(
                f"{row.indicator_name} ({_fmt(row.latest_value, row.unit)} in {row.latest_period}: "
                f"{row.explanation.rstrip('.') or 'special cause concern'})"
            )
    return out


def _flags(orgs, segments, icons, standing, periods, metrics, config: AssessConfig, cat) -> pd.DataFrame:
    rows = []
    dwin = periods[-config.difficulty_window :]
    twin = periods[-config.track_window :]
    concern = _concerns(icons, None, metrics, config.concern_recent_points)
    seg_by_org = {k: g.set_index("period") for k, g in segments.groupby("org_code")}
    metric_names = ", ".join(cat[m].name for m in metrics if m in cat)
    for code, name in zip(orgs["org_code"], orgs["name"]):
        s = seg_by_org.get(code)
        if s is None or s.empty:
            rows.append(
                {
                    "org_code": code,
                    "org_name": name,
                    "segment": np.nan,
                    "avg_score": np.nan,
                    "segment_period": None,
                    "persistent_difficulty": False,
                    "track_record": False,
                    "difficulty_reason": "",
                    "track_record_reason": "",
                    "summary": "Not segmented: no key metrics reported.",
                }
            )
            continue
        latest = s.iloc[-1]
        in_d = s[s.index.isin(dwin)]
        in_t = s[s.index.isin(twin)]
        seg4 = int((in_d["segment"] == 4).sum())
        seg34 = int((in_d["segment"] >= 3).sum())
        seg1 = int((in_t["segment"] == 1).sum())
        conc = concern.get(code, [])
        reasons = []
        difficulty = False
        if seg4 >= config.difficulty_min_months:
            difficulty = True
            reasons.append(
                f"In segment 4 (bottom quartile of average metric score across {metric_names}) in "
                f"{seg4} of the last {len(dwin)} months ({dwin[0]} to {dwin[-1]})."
            )
        if len(conc) >= config.concern_min_metrics and seg34 >= config.difficulty_min_months:
            difficulty = True
            reasons.append(
                f"Special cause concern on {len(conc)} key metrics while in segment 3 or 4 in "
                f"{seg34} of the last {len(dwin)} months: " + "; ".join(conc) + "."
            )
        track = False
        treason = ""
        if seg1 >= config.track_min_months and not conc:
            track = True
            treason = (
                f"In segment 1 (top quartile of average metric score) in {seg1} of the last {len(twin)} months "
                f"({twin[0]} to {twin[-1]}), with no special cause concern on any key metric now."
            )
        elif seg1 >= config.track_min_months:
            treason = (
                f"Not a track record despite {seg1} months in segment 1: special cause concern now on "
                + "; ".join(conc)
                + "."
            )
        seg = int(latest["segment"])
        summary = (
            f"{SEGMENT_WORDS[seg].capitalize()} in {latest.name} (average metric score "
            f"{latest['avg_score']:.2f} from {int(latest['metrics_scored'])} metrics)."
        )
        rows.append(
            {
                "org_code": code,
                "org_name": name,
                "segment": seg,
                "avg_score": float(latest["avg_score"]),
                "segment_period": latest.name,
                "months_segment_4": seg4,
                "months_segment_1": seg1,
                "key_metrics_in_concern": len(conc),
                "persistent_difficulty": difficulty,
                "track_record": track,
                "difficulty_reason": " ".join(reasons),
                "track_record_reason": treason,
                "summary": summary,
            }
        )
    flags = pd.DataFrame(rows)
    return flags.sort_values(["persistent_difficulty", "avg_score"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- good practice


def _good_practice(obs, orgs_in_difficulty, periods, peers, config: AssessConfig, cat) -> pd.DataFrame:
    cols = ["org_code", "indicator", "value", "peer_median", "better_than", "n_peers", "explanation"]
    if not orgs_in_difficulty:
        return pd.DataFrame(columns=cols)
    win = set(periods[-config.good_practice_window :])
    recent = obs[obs["period"].isin(win)]
    means = recent.groupby(["indicator", "org_code"])["value"].mean()
    out = []
    for code in orgs_in_difficulty:
        peer_list = (peers or {}).get(code)
        for ind, vals in means.groupby(level=0):
            d: IndicatorDef = indicator(ind, cat)
            if not _comparable(d):
                continue
            vals = vals.droplevel(0)
            if code not in vals.index:
                continue
            pool = vals.drop(code)
            if peer_list:
                pool = pool[pool.index.isin(peer_list)]
            if len(pool) < 3:
                continue
            mine = vals[code]
            better = (pool < mine).sum() if d.improvement_direction == "increase" else (pool > mine).sum()
            med = float(pool.median())
            if better / len(pool) < config.good_practice_min_share:
                continue
            who = "its peers" if peer_list else "similar organisations nationally"
            out.append(
                {
                    "org_code": code,
                    "indicator": ind,
                    "value": float(mine),
                    "peer_median": med,
                    "better_than": int(better),
                    "n_peers": len(pool),
                    "explanation": (
                        f"{d.name}: {_fmt(mine, d.unit)} over the last {len(win)} months, better than "
                        f"{int(better)} of {len(pool)} {who} (median {_fmt(med, d.unit)}) — good practice a "
                        f"partnership must not lose."
                    ),
                    "_share": better / len(pool),
                }
            )
    if not out:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(out).sort_values(["org_code", "_share"], ascending=[True, False])
    return df.drop(columns="_share").reset_index(drop=True)
