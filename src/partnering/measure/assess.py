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
* ``good_practice_similar = 10``: without a peer list, good practice is judged against the
  ten organisations of the same kind most similar in catchment (NHS RightCare "Similar 10",
  https://www.england.nhs.uk/rightcare/rightcare-methodology/), see :func:`similar_organisations`.
* ``concern_recent_points = 3``: a key metric counts as "in concern" when one of
  its last three months is a special-cause concern (a quarter's worth of months); the
  SPC points are on a full month grid, so a month not reported is a month without concern.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError, ValidationError
from partnering.indicators.catalogue import IndicatorDef, indicator, load_catalogue
from partnering.indicators.catalogue import format_value as _fmt
from partnering.measure.derive import add_derived
from partnering.measure.freshness import COLUMNS as FRESHNESS_COLUMNS
from partnering.measure.freshness import data_freshness, family_of, stale_note
from partnering.measure.segment import SegmentConfig, key_metrics, metric_scores, monthly_segments
from partnering.measure.spc import run_spc

SEGMENT_WORDS = {
    1: "segment 1 (top quartile of average metric score: narrowest range of challenges)",
    2: "segment 2",
    3: "segment 3",
    4: "segment 4 (bottom quartile of average metric score: broadest range of challenges)",
    5: "segment 5 (Recovery Support Programme)",
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
    good_practice_similar: int = 10  # NHS RightCare "Similar 10": the 10 most similar organisations
    segment: SegmentConfig = field(default_factory=SegmentConfig)

    def validate(self) -> None:
        for name in ("spc_months", "difficulty_window", "track_window", "good_practice_window"):
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be at least 1 month")
        if not 1 <= self.difficulty_min_months <= self.difficulty_window:
            raise ValidationError("difficulty_min_months must be between 1 and difficulty_window")
        if not 1 <= self.track_min_months <= self.track_window:
            raise ValidationError("track_min_months must be between 1 and track_window")
        if self.good_practice_similar < 3:
            raise ValidationError("good_practice_similar must be at least 3 (good practice needs 3 to compare with)")
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
    freshness: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FRESHNESS_COLUMNS))

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
    from partnering.store.annotations import rebases_by_series

    orgs = repo.organisations_frame(engine, config.kinds)
    obs = repo.observations_frame(engine, orgs=list(orgs["org_code"]), **scope)
    context = repo.attributes_frame(engine)
    return assess_frames(obs, orgs, config, peers=peers, context=context, rebases=rebases_by_series(engine))


def assess_frames(
    obs: pd.DataFrame,
    orgs: pd.DataFrame,
    config: AssessConfig = AssessConfig(),
    peers: dict[str, list[str]] | None = None,
    catalogue=None,
    context: pd.DataFrame | None = None,
    rebases: dict[tuple[str, str], list[str]] | None = None,
) -> Assessment:
    """The assessment of ``orgs`` (org_code, name, kind) from observations (org_code, indicator, period, value).

    ``rebases`` (``{(org_code, indicator): ["YYYY-MM", ...]}``, the analysts' recorded rebases:
    :func:`partnering.store.annotations.rebases_by_series`) restart the SPC mean and limits of a series at each
    month given (:func:`spc_for_frame`).

    ``peers`` (``{org_code: [peer codes]}``) fixes whom an organisation's good practice is compared with;
    otherwise ``context`` (one row per organisation indexed by org_code, catchment attributes as the store's
    ``attributes_frame`` gives them) finds the most similar organisations of its kind.
    """
    config.validate()
    cat = catalogue or load_catalogue()
    if config.segment.metrics is None and set(config.kinds) == {"ambulance_trust"}:
        from dataclasses import replace  # ambulance trusts: the Framework's ambulance league table's metrics

        config = replace(config, segment=replace(config.segment, trust_type="ambulance"))
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

    points, icons = _spc(obs, periods[-config.spc_months :], cat, rebases)
    icons.insert(1, "org_name", icons["org_code"].map(names))
    segments = monthly_segments(obs, config.segment, cat)
    standing = _standing(obs, periods, config, cat)
    freshness = data_freshness(obs, cat)
    ended = {r.family: f"{r.family_name} data end in {r.latest_period}" for r in freshness.itertuples() if r.stale}
    stale = {m: ended[family_of(m, cat)] for m in metrics if family_of(m, cat) in ended}
    flags = _flags(orgs, segments, icons, points, periods, metrics, config, cat, stale)
    in_difficulty = flags[flags["persistent_difficulty"]]["org_code"].tolist()
    good = _good_practice(obs, orgs, in_difficulty, periods, peers, context, config, cat)
    summary = good.groupby("org_code")["explanation"].apply(lambda s: " ".join(s.head(3))).to_dict()
    flags["good_practice"] = [summary.get(c, "") for c in flags["org_code"]]
    note = stale_note(freshness, {family_of(m, cat) for m in metrics})
    flags["data_note"] = note  # the same for every organisation: which key-metric family is stale, and since when
    if note:
        flags["summary"] = flags["summary"] + " " + note
    return Assessment(icons, standing, segments, flags, good, points, metrics, config, freshness)


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
    # parse each distinct period once (a few dozen months, not one string per row)
    pcode, plabels = pd.factorize(obs["period"].astype(str))
    plabels = pd.Series(plabels)
    bad = ~plabels.str.fullmatch(_ISO_MONTH)
    if bad.any():
        row = obs[pcode == int(np.flatnonzero(bad.to_numpy())[0])].iloc[0]
        raise ValidationError(
            f"period {row['period']!r} of {row['org_code']} / {row['indicator']} is not an ISO month (YYYY-MM)"
        )
    pmonth = (plabels.str.slice(0, 4).astype(np.int64) * 12 + plabels.str.slice(5, 7).astype(np.int64) - 1)
    month = pmonth.to_numpy()[pcode]
    # one integer code per organisation x indicator (factorised separately: no per-row string building)
    ocode, olabels = pd.factorize(obs["org_code"])
    icode, ilabels = pd.factorize(obs["indicator"])
    code, pairs = pd.factorize(ocode.astype(np.int64) * len(ilabels) + icode)
    n = len(pairs)
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
            f"series {obs['org_code'].iloc[dup]}|{obs['indicator'].iloc[dup]} has more than one value for "
            f"{obs['period'].iloc[dup]} (one value per month)"
        )
    total = int(span.sum())
    series = np.repeat(np.arange(n), span)
    months = first[series] + (np.arange(total) - start[series])
    value = np.full(total, np.nan)
    value[pos] = obs["value"].to_numpy(dtype=float, na_value=np.nan)
    mcode, mlabels = pd.factorize(months)
    years, mons = pd.Series(mlabels // 12).astype(str), pd.Series(mlabels % 12 + 1).astype(str)
    text = years.str.zfill(4) + "-" + mons.str.zfill(2)
    pairs = np.asarray(pairs)
    out = pd.DataFrame(
        {
            "org_code": np.asarray(olabels)[pairs // len(ilabels)][series],
            "indicator": np.asarray(ilabels)[pairs % len(ilabels)][series],
            "period": text.to_numpy()[mcode],
            "value": value,
        }
    )
    return out.sort_values(["org_code", "indicator", "period"], kind="stable").reset_index(drop=True)


def spc_for_frame(obs: pd.DataFrame, with_icons: bool = False, catalogue=None,
                  rebases: dict[tuple[str, str], list[str]] | None = None):
    """Making Data Count SPC for observations (``org_code, indicator, period, value``), one chart per series.

    The one path from stored observations to SPC, used by the assessment and by every face.  Each series is put
    on a full month grid first (:func:`month_grid`: a missing month is a missing point, which breaks moving ranges
    and runs as in NHSRplotthedots), then charted with the catalogue's improvement direction and, as target, its
    national standard; an indicator the catalogue does not know is charted neutral with no target.

    ``rebases`` maps ``(org_code, indicator)`` to the months (``YYYY-MM``) where an analyst recorded a rebase: the
    series' mean and limits are recalculated from each, as NHSRplotthedots' ``ptd_spc(rebase = ...)`` does (a rebase
    month outside the series' months changes nothing; docs/methods/spc.md, "Rebasing").

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
    if rebases:
        keyed = {f"{o}|{i}": ";".join(f"{p}-01" for p in months) for (o, i), months in rebases.items() if months}
        options["rebase"] = series.map(keyed).to_numpy(dtype=object)
    res = run_spc(data, options)
    points = res.points.assign(**_org_and_indicator(res.points["series"]))
    if not with_icons:
        return points
    return points, res.icons.assign(**_org_and_indicator(res.icons["series"]))


def _org_and_indicator(series: pd.Series) -> dict[str, np.ndarray]:
    """``org_code`` and ``indicator`` columns from ``org|indicator`` labels (each distinct label split once)."""
    code, labels = pd.factorize(series)
    split = pd.Series(labels).str.split("|", n=1)
    return {"org_code": split.str[0].to_numpy()[code], "indicator": split.str[1].to_numpy()[code]}


def _spc(obs: pd.DataFrame, window: list[str], cat, rebases=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    recent = obs[obs["period"] >= window[0]]
    pts, ic = spc_for_frame(recent, with_icons=True, catalogue=cat, rebases=rebases)
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


def _concerns(icons: pd.DataFrame, points: pd.DataFrame, metrics: list[str], k: int,
              stale: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Key metrics "in concern" per organisation: one of the series' last ``k`` months is a special-cause concern.

    Months, not reported values: the SPC points are on a full month grid, so a month not reported counts as a
    month without concern (``concern_recent_points``, default 3: a quarter's worth of months).  ``k = 1`` is the
    Making Data Count variation icon of the latest point alone.  Each entry cites the most recent concern point,
    and says so when the metric's family of data is stale (``stale``: indicator -> "RTT data end in 2025-03").
    """
    key = points[points["indicator"].isin(metrics)].sort_values(["series", "x"])
    recent = key.groupby("series", sort=False).tail(k)
    hit = recent[recent["point_type"] == "special_cause_concern"].groupby("series", sort=False).tail(1)
    meta = icons.set_index(["org_code", "indicator"])[["indicator_name", "unit"]]
    out: dict[str, list[str]] = {}
    for row in hit.sort_values(["org_code", "indicator"]).itertuples():
        name, unit = meta.loc[(row.org_code, row.indicator)]
        month = pd.Timestamp(row.x).strftime("%Y-%m")
        why = (row.explanation if isinstance(row.explanation, str) else "").rstrip(".") or "special cause concern"
        note = (stale or {}).get(row.indicator)
        out.setdefault(row.org_code, []).append(
            f"{name} ({_fmt(row.y, unit)} in {month}: {why}{'; ' + note if note else ''})")
    return out


def _months(k: int) -> str:
    return "month" if k == 1 else f"{k} months"


def _metric_list(codes, cat) -> str:
    """Catalogue names of metric codes, in the order given: "A, B and C"."""
    names = [cat[c].name if c in cat else c for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _scored(rows: pd.DataFrame, metrics: list[str]) -> list[str]:
    """The key metrics scored in any of the segment rows given (their ``scored_metrics``), in key-metric order."""
    seen = {m for text in rows["scored_metrics"] for m in text.split(", ")}
    return [m for m in metrics if m in seen]


def _flags(orgs, segments, icons, points, periods, metrics, config: AssessConfig, cat,
           stale: dict[str, str] | None = None) -> pd.DataFrame:
    rows = []
    dwin = periods[-config.difficulty_window :]
    twin = periods[-config.track_window :]
    concern = _concerns(icons, points, metrics, config.concern_recent_points, stale)
    seg_by_org = {k: g.set_index("period") for k, g in segments.groupby("org_code")}
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
                    "summary": "Not segmented: no month with scores on more than half of the key metrics.",
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
            scored = _metric_list(_scored(in_d[in_d["segment"] == 4], metrics), cat)
            reasons.append(
                f"In segment 4 (bottom quartile of average metric score across {scored}) in "
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
            scored = _metric_list(_scored(in_t[in_t["segment"] == 1], metrics), cat)
            treason = (
                f"In segment 1 (top quartile of average metric score across {scored}) in {seg1} of the last "
                f"{len(twin)} months ({twin[0]} to {twin[-1]}), with no special cause concern on any key metric "
                f"in the last {_months(config.concern_recent_points)}."
            )
        elif seg1 >= config.track_min_months:
            treason = (
                f"Not a track record despite {seg1} months in segment 1: special cause concern in the last "
                f"{_months(config.concern_recent_points)} on "
                + "; ".join(conc)
                + "."
            )
        seg = int(latest["segment"])
        summary = (
            f"{SEGMENT_WORDS[seg].capitalize()} in {latest.name} (average metric score "
            f"{latest['avg_score']:.2f} from {int(latest['metrics_scored'])} "
            f"metric{'' if int(latest['metrics_scored']) == 1 else 's'}: "
            f"{_metric_list(_scored(s.iloc[[-1]], metrics), cat)})."
        )
        if isinstance(latest.get("adjustment"), str) and latest["adjustment"]:
            summary += f" Adjusted from segment {int(latest['segment_unadjusted'])}: {latest['adjustment']}."
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


#: Context attributes the store holds for "similar organisations", one per theme of NHS RightCare's "Similar 10"
#: (deprivation, age structure) plus size, which the Model Health System also offers peers on; the catchment
#: population is compared on a log scale because trust sizes are skewed.
SIMILARITY_ATTRIBUTES: dict[str, str] = {
    "imd_score": "deprivation",
    "pct_over_65": "age",
    "catchment_population": "size",
}


def similar_organisations(code: str, orgs: pd.DataFrame, context: pd.DataFrame | None, k: int) -> list[str] | None:
    """The ``k`` organisations most similar to ``code``: same kind, nearest on the stored catchment context.

    Method (the nearest-neighbour approach of NHS RightCare "Similar 10" and the CIPFA nearest neighbours model):
    each attribute of :data:`SIMILARITY_ATTRIBUTES` that at least half of the kind has is standardised to a
    z-score over the organisations of the kind (a missing value takes the median first), and organisations are
    ranked by Euclidean distance, each theme weighing the same.  Ties in distance go by code, so the list is
    reproducible.  ``None`` when there is no context to compare on (then nothing is "similar"; the caller says
    what it compares with instead).
    """
    kind = orgs.loc[orgs["org_code"] == code, "kind"] if "kind" in orgs else pd.Series(dtype=object)
    same = orgs[orgs["kind"] == kind.iloc[0]]["org_code"] if len(kind) else orgs["org_code"]
    return _nearest(_similarity_space(same, context), code, k)


def _similarity_space(codes, context: pd.DataFrame | None) -> pd.DataFrame | None:
    """z-scores of the similarity attributes over ``codes`` (one kind), or ``None`` with nothing to compare on."""
    if context is None or context.empty:
        return None
    ctx = context.reindex(index=sorted(set(codes) & set(context.index)))
    cols = [c for c in SIMILARITY_ATTRIBUTES if c in ctx.columns and ctx[c].notna().mean() >= 0.5]
    if not cols or len(ctx) < 2:
        return None
    x = ctx[cols].astype(float)
    if "catchment_population" in cols:
        x["catchment_population"] = np.log(x["catchment_population"].where(x["catchment_population"] > 0))
    x = x.fillna(x.median())
    sd = x.std(ddof=0).replace(0.0, 1.0)
    return (x - x.mean()) / sd


def _nearest(z: pd.DataFrame | None, code: str, k: int) -> list[str] | None:
    if z is None or code not in z.index:
        return None
    values = z.to_numpy()
    dist = np.sqrt(((values - values[z.index.get_loc(code)]) ** 2).sum(axis=1))
    order = np.lexsort((z.index.to_numpy(), dist))  # by distance, then by code
    return [c for c in z.index.to_numpy()[order] if c != code][:k]


def _similar_words(context: pd.DataFrame | None) -> str:
    cols = [c for c in SIMILARITY_ATTRIBUTES if context is not None and c in context.columns]
    themes = [SIMILARITY_ATTRIBUTES[c] for c in cols]
    return "catchment " + (themes[0] if len(themes) == 1 else ", ".join(themes[:-1]) + " and " + themes[-1])


def _good_practice(obs, orgs, orgs_in_difficulty, periods, peers, context, config: AssessConfig, cat) -> pd.DataFrame:
    """Indicators on which an organisation in difficulty beats at least ``good_practice_min_share`` of the
    organisations it is compared with: its peer list when one is given; else the ``good_practice_similar`` most
    similar organisations of its kind (:func:`similar_organisations`); else, with no context to judge similarity,
    every other organisation of its kind assessed, and the sentence says so."""
    cols = ["org_code", "indicator", "value", "peer_median", "better_than", "n_peers", "compared_with", "explanation"]
    if not orgs_in_difficulty:
        return pd.DataFrame(columns=cols)
    win = set(periods[-config.good_practice_window :])
    recent = obs[obs["period"].isin(win)]
    means = recent.groupby(["indicator", "org_code"])["value"].mean()
    kind_of = dict(zip(orgs["org_code"], orgs["kind"])) if "kind" in orgs else {}
    spaces: dict = {}  # kind -> standardised context, computed once per kind
    out = []
    for code in orgs_in_difficulty:
        peer_list = (peers or {}).get(code)
        if peer_list:
            allowed, compared_with = set(peer_list), "peers"
        else:
            kind = kind_of.get(code)
            if kind not in spaces:
                spaces[kind] = _similarity_space([c for c, k in kind_of.items() if k == kind] or orgs["org_code"],
                                                 context)
            similar = _nearest(spaces[kind], code, config.good_practice_similar)
            if similar is not None:
                allowed, compared_with = set(similar), "similar"
            else:
                allowed = {c for c, k in kind_of.items() if k == kind_of.get(code)} if kind_of else None
                compared_with = "kind"
        for ind, vals in means.groupby(level=0):
            d: IndicatorDef = indicator(ind, cat)
            if not _comparable(d):
                continue
            vals = vals.droplevel(0)
            if code not in vals.index:
                continue
            pool = vals.drop(code)
            if allowed is not None:
                pool = pool[pool.index.isin(allowed)]
            if len(pool) < 3:
                continue
            mine = vals[code]
            better = (pool < mine).sum() if d.improvement_direction == "increase" else (pool > mine).sum()
            med = float(pool.median())
            if better / len(pool) < config.good_practice_min_share:
                continue
            if compared_with == "peers":
                who = f"{int(better)} of {len(pool)} of its peers"
            elif compared_with == "similar":
                of = f"{len(pool)} of the {len(allowed)}" if len(pool) < len(allowed) else f"the {len(pool)}"
                who = f"{int(better)} of {of} organisations of its kind most similar in {_similar_words(context)}"
            else:
                who = (f"{int(better)} of {len(pool)} other organisations of its kind nationally (no context data to "
                       f"find similar ones)")
            out.append(
                {
                    "org_code": code,
                    "indicator": ind,
                    "value": float(mine),
                    "peer_median": med,
                    "better_than": int(better),
                    "n_peers": len(pool),
                    "compared_with": compared_with,
                    "explanation": (
                        f"{d.name}: {_fmt(mine, d.unit)} over the last {len(win)} months, better than {who} "
                        f"(median {_fmt(med, d.unit)}) — good practice a partnership must not lose."
                    ),
                    "_share": better / len(pool),
                }
            )
    if not out:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(out).sort_values(["org_code", "_share"], ascending=[True, False])
    return df.drop(columns="_share").reset_index(drop=True)
