"""Store -> numeric cores -> explained results: peers, partner candidates and the buddying plan.

The faces (CLI, web, API) call these; each takes an optional precomputed ``assessment`` (from
:func:`partnering.measure.assess.assess`) so that a web request does not recompute the SPC and segments. Nothing is
cached here: the web layer caches.

* :func:`peers_for` — the most similar organisations (``match.peers.find_peers``) with each variable's contribution
  and a one-line explanation; a user may pin a bespoke peer list.
* :func:`partner_candidates` — candidate supporters ranked by the weighted suitability score of
  :mod:`partnering.match.candidates`, each with a plain-English reason and two-way learning.
* :func:`buddying_plan` — the exact optimal system plan (``match.plan.buddying_plan``) over every organisation in
  persistent difficulty, with reasons, unmatched organisations and the binding constraint, and map lines;
  registered partnerships are held fixed and pairs below :data:`DEFAULT_MIN_SUITABILITY` are "no suitable partner".
* :func:`parse_pairs` — the one parser of ``RECIPIENT:SUPPORTER`` pairs (:mod:`partnering.match.pairs`).

Every function is pure with respect to its inputs: frames passed in (an ``assessment``, cached ``inputs``, a
``context``) are read, never written, so callers may share them between threads without a lock. The store is read
only through :mod:`partnering.store.repository` (plain frames).

Method and weights: ``docs/methods/partner-matching.md``; plan: ``docs/methods/buddying-plan.md``; travel time:
``docs/methods/travel-time.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError, ValidationError
from partnering.match.candidates import (
    CATALOGUE_KINDS,
    DEFAULT_WEIGHTS,
    METHOD_KINDS,
    NHS_TRUST_KINDS,
    NO_CONTEXT_SIMILARITY,
    TRAVEL_SCALE_MINUTES,
    MatchInputs,
    SuitabilityWeights,
    explain_pairs,
    load_catalogue,
    performance_arrays,
    score_pairs,
)
from partnering.match.context import context_weights, peer_context
from partnering.match.pairs import parse_pairs
from partnering.match.peers import explain_peer, find_peers

__all__ = [
    "DEFAULT_MIN_SUITABILITY",
    "PlanResult",
    "buddying_plan",
    "match_inputs",
    "no_help_score",
    "parse_pairs",
    "partner_candidates",
    "peer_context",
    "peers_for",
    "pin_peers",
    "unpin_peers",
]

DEFAULT_MAX_MINUTES = 90.0  # the plan's default travel limit: judgement, half the 3-hour day-trip scale (plan doc)


def no_help_score(weights: SuitabilityWeights = DEFAULT_WEIGHTS, at_minutes: float = DEFAULT_MAX_MINUTES) -> float:
    """Suitability of a candidate that brings the recipient nothing it needs (docs/methods/buddying-plan.md).

    A same-kind NHS trust supporting nobody (spare capacity 1, kind fit 1), of neutral similarity
    (:data:`~partnering.match.candidates.NO_CONTEXT_SIMILARITY`), ``at_minutes`` away by road (proximity
    ``1 - minutes / 180``), with no track record and no better than the recipient on any measure where the
    recipient is weak (capability 0). With the default weights and the default 90-minute limit: 32.5.
    """
    w = weights.normalised()
    proximity = min(max(1.0 - float(at_minutes) / TRAVEL_SCALE_MINUTES, 0.0), 1.0)
    parts = {"capability": 0.0, "track_record": 0.0, "similarity": NO_CONTEXT_SIMILARITY, "proximity": proximity,
             "spare_capacity": 1.0, "kind_fit": 1.0}
    return 100.0 * sum(w[k] * v for k, v in parts.items())


# The plan's minimum suitability: a pair must score at least what a trust that brings nothing the recipient needs
# would score (no_help_score with the default weights at the default travel limit: 7.5 similarity + 10 proximity
# + 10 spare capacity + 5 kind fit). Below it the recipient is shown as "no suitable partner", not given a pair
# that only fills a slot. Judgement anchored on the score's own scale; docs/methods/buddying-plan.md.
DEFAULT_MIN_SUITABILITY = 32.5
_SCORE_FLOOR = 0.01  # the exact core needs scores > 0; matters only when the minimum suitability is set to 0


def _code(org_code: str) -> str:
    if not isinstance(org_code, str) or not org_code.strip():
        raise ValidationError("an organisation code is required")
    return org_code.strip().upper()


def _assessment(engine, assessment, kind: str):
    if assessment is not None:
        return assessment
    from partnering.measure.assess import AssessConfig, assess

    return assess(engine, AssessConfig(kinds=(kind,)))


#: organisation kinds that are abbreviations or need their own article in a sentence
_KIND_WORDS = {"icb": "an integrated care board (ICB)", "gp_practice": "a GP practice",
               "independent_provider": "an independent provider", "improvement_partner": "an improvement partner",
               "other_provider": "another kind of provider"}


def _kind_words(kind: str) -> str:
    """``kind`` as it reads after "is": "an integrated care board (ICB)", "a university"."""
    return _KIND_WORDS.get(kind, f"a {kind.replace('_', ' ')}")


def not_a_trust(code: str, kind: str) -> str:
    """Why ``code`` (of ``kind``, not an NHS trust) has no partner candidates, in the user's words (CLI and web)."""
    return f"{code} is {_kind_words(kind)}; partners are found for NHS trusts"


def _org_kind(engine, code: str) -> str:
    from partnering.store import repository as repo

    row = repo.organisations_by_code(engine, [code])
    if row.empty or pd.isna(row["kind"].iloc[0]):
        raise NotFoundError(f"organisation {code!r} is not in the store")
    return str(row["kind"].iloc[0])


# ---------------------------------------------------------------------------------------------- peers


def peers_for(
    engine,
    org_code: str,
    k: int = 10,
    weights: Mapping[str, float] | None = None,
    pinned: Sequence[str] | None = None,
    assessment=None,
    context: pd.DataFrame | None = None,
    use_saved: bool = True,
) -> pd.DataFrame:
    """The ``k`` organisations most like ``org_code`` (same kind), each with its contributions and a sentence.

    ``weights`` override the theme weights of :func:`partnering.match.context.context_weights` per variable;
    ``pinned`` is a user's bespoke peer list (returned in the order given, with distances computed the same way).
    Without ``pinned``, the organisation's saved peer group (:mod:`partnering.store.peer_groups`) is used when it
    has one and ``use_saved``; ``attrs["peer_group"]`` then says who chose it, when and why.

    A pair matched mostly on imputed values (variables carrying more than half of the weight were missing for one
    side and filled with the median: :data:`MOSTLY_IMPUTED_SHARE`) is ``mostly_imputed``; among automatic peers the
    nearest :data:`PEER_POOL_FACTOR` x ``k`` are ranked real-data pairs first, then by distance, and the first ``k``
    kept, so estimated matches come after real ones.
    Columns: ``org_code, peer_code, peer_name, rank, distance, similarity, contrib_<var>..., imputed_vars, pinned,
    mostly_imputed, explanation``.
    """
    code = _code(org_code)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValidationError(f"k must be a positive whole number, got {k!r}")
    kind = _org_kind(engine, code)
    ctx = context if context is not None else peer_context(engine, kind, assessment)
    if code not in ctx.index:
        raise NotFoundError(f"organisation {code!r} has no context to compare on")
    w = context_weights(ctx)
    if weights:
        unknown = [v for v in weights if v not in w]
        if unknown:
            raise ValidationError(f"weights name variables not in the context: {unknown}; known: {sorted(w)}")
        w.update({v: float(x) for v, x in weights.items()})
    pin = None
    saved = None
    if not pinned and use_saved:
        from partnering.store.peer_groups import get_peer_group

        saved = get_peer_group(engine, code)
        if saved is not None:
            # peers that closed or merged since they were chosen drop out; none left: the automatic peers
            pinned = [p for p in saved["peers"] if p in ctx.index and p != code] or None
            saved = saved if pinned else None
    if pinned:
        pins = [_code(p) for p in pinned]
        unknown = [p for p in pins if p not in ctx.index]
        if unknown:
            raise NotFoundError(f"pinned peers not found among {kind.replace('_', ' ')}s: {unknown}")
        if code in pins or len(set(pins)) != len(pins):
            raise ValidationError("a pinned peer list may not repeat a peer or name the organisation itself")
        pin = {code: pins}
    k = min(int(k), max(len(ctx) - 1, 1))
    pool = k if pin else min(k * PEER_POOL_FACTOR, max(len(ctx) - 1, 1))
    res = find_peers(ctx, k=pool, weights=w, pinned=pin)
    res = res[res["org_code"] == code].reset_index(drop=True)
    res["mostly_imputed"] = _mostly_imputed(res["imputed_vars"], w)
    if not pin:
        res = res.sort_values(["mostly_imputed", "distance", "peer_code"], kind="stable").head(k)
        res = res.reset_index(drop=True).assign(rank=np.arange(1, len(res) + 1))
    from partnering.store import repository as repo

    names = repo.organisations_frame(engine, kinds=[kind]).set_index("org_code")["name"]
    res.insert(2, "peer_name", res["peer_code"].map(names))
    res["explanation"] = [explain_peer(r) for _, r in res.iterrows()]
    if saved is not None:
        res.attrs["peer_group"] = saved
    return res


def assessed_context(engine, kind: str, assessment, code: str) -> pd.DataFrame | None:
    """:func:`~partnering.match.context.peer_context` of ``kind`` kept to ``code`` and the organisations
    ``assessment`` holds (those with data for the kind: the Welsh ambulance trust, absent from AmbSYS, drops out),
    with the variables none of them has left out. ``None`` when ``code`` has no value on any variable left: every
    pair would then be "identical" on medians alone (similarity 1.00), which says nothing."""
    ctx = peer_context(engine, kind, assessment)
    keep = set(assessment.flags["org_code"]) | {code}
    ctx = ctx[ctx.index.isin(keep)]
    variables = [c for c in ctx.columns if c != "kind" and ctx[c].notna().any()]
    if code not in ctx.index or not variables or ctx.loc[code, variables].isna().all():
        return None
    return ctx[[*variables, "kind"]] if "kind" in ctx.columns else ctx[variables]


#: a pair is "matched mostly on imputed values" when the variables imputed for either side carry more than this
#: share of the total weight (more than half: most of the distance then rests on medians, not on the two trusts)
MOSTLY_IMPUTED_SHARE = 0.5
#: automatic peers are chosen from this many times k nearest, real-data pairs first (judgement: wide enough that
#: ten real-data peers are found whenever they exist among the 30 nearest)
PEER_POOL_FACTOR = 3


def _mostly_imputed(imputed: pd.Series, weights: Mapping[str, float]) -> pd.Series:
    total = sum(float(v) for v in weights.values()) or 1.0
    share = imputed.fillna("").map(
        lambda s: sum(float(weights.get(v.strip(), 0.0)) for v in str(s).split(",") if v.strip()) / total)
    return share > MOSTLY_IMPUTED_SHARE


def pin_peers(engine, org_code: str, peers: Sequence[str], actor: str, reason: str = "",
              assessment=None, context: pd.DataFrame | None = None) -> pd.DataFrame:
    """Save ``peers`` as the peer group of ``org_code`` (after checking them as :func:`peers_for` does: known
    organisations of the same kind, no repeats, not itself), audited as ``peers.pin``; returns the new peer table."""
    from partnering.store.peer_groups import set_peer_group

    codes = [_code(p) for p in peers if isinstance(p, str) and p.strip()]
    if not codes:
        raise ValidationError("name at least one peer (or use the automatic peers)")
    res = peers_for(engine, org_code, k=len(codes), pinned=codes, assessment=assessment, context=context,
                    use_saved=False)
    saved = set_peer_group(engine, _code(org_code), codes, actor, reason)
    res.attrs["peer_group"] = saved
    return res


def unpin_peers(engine, org_code: str, actor: str) -> bool:
    """Go back to the automatic peers of ``org_code`` (audited as ``peers.unpin``); False when none was pinned."""
    from partnering.store.peer_groups import clear_peer_group

    return clear_peer_group(engine, _code(org_code), actor)


# ---------------------------------------------------------------------------------------------- inputs


def _partnerships(engine, latest_period: str | None) -> pd.DataFrame:
    """Registered partnerships not ended before the latest month (``repository.partnerships_frame``)."""
    from partnering.store import repository as repo

    return repo.partnerships_frame(engine, active_in=latest_period)


def _loads(partnerships: pd.DataFrame) -> dict[str, list[str]]:
    """supporter -> recipients it supports now."""
    if partnerships.empty:
        return {}
    return {s: sorted(set(g["recipient_code"])) for s, g in partnerships.groupby("supporter_code")}


class _Travel:
    """A callable (recipients, supporters) -> (minutes, km, from_matrix) arrays, and what it rests on.

    Every loaded road travel-time matrix (``match.travel.loaded_travel_matrix``) gives the minutes of every pair
    of organisations whose postcodes it holds; other pairs get the fitted drive-time model
    (``match.travel.DEFAULT_DRIVE_MODEL``) on the straight-line km between their coordinates.
    """

    def __init__(self, locs: pd.DataFrame, home=None):
        from partnering.match.travel import DEFAULT_DRIVE_MODEL, loaded_travel_matrix

        self.locs = locs
        self.model = DEFAULT_DRIVE_MODEL
        self.matrix, self.matrices = loaded_travel_matrix(home)

    def summary(self) -> dict:
        """What the minutes rest on: the matrices loaded and the model's fit (shown with every answer)."""
        return {"matrices": list(self.matrices), "model": self.model.summary()}

    def __call__(self, recipients, supporters):
        from partnering.match.travel import distance_matrix_km, norm_key

        a = self.locs.reindex(list(recipients))
        b = self.locs.reindex(list(supporters))
        km = distance_matrix_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
        minutes = np.asarray(self.model.minutes(km), dtype=float)
        minutes[np.isnan(km)] = np.nan
        from_matrix = np.zeros(km.shape, dtype=bool)
        m = self.matrix
        if m is not None:
            pa = pd.Index([norm_key(x) if isinstance(x, str) and x.strip() else "" for x in a["postcode"]])
            pb = pd.Index([norm_key(x) if isinstance(x, str) and x.strip() else "" for x in b["postcode"]])
            ri = m.index.get_indexer(pa)
            ci = m.columns.get_indexer(pb)
            ri[pa == ""], ci[pb == ""] = -1, -1
            vals = m.to_numpy(dtype=float)
            cell = vals[np.ix_(np.maximum(ri, 0), np.maximum(ci, 0))] if vals.size else np.full(km.shape, np.nan)
            ok = (ri >= 0)[:, None] & (ci >= 0)[None, :] & np.isfinite(cell)
            minutes[ok] = cell[ok]
            from_matrix = ok
        return minutes, km, from_matrix


def match_inputs(engine, assessment=None, catalogue=None, kind: str = "acute_trust") -> MatchInputs:
    """Read everything the scoring needs once (the web layer may cache the result per store version).

    The result is shared read-only: no function here writes into it.
    """
    from partnering.store import repository as repo

    a = _assessment(engine, assessment, kind)
    cols = ["org_code", "name", "kind", "postcode", "latitude", "longitude"]
    orgs = repo.organisations_frame(engine)[cols].set_index("org_code")
    cat = load_catalogue(catalogue)
    locs = orgs[["latitude", "longitude", "postcode"]].copy()
    if len(cat):
        extra = cat.set_index("org_code")
        for c in ("latitude", "longitude", "postcode"):
            if c in extra:
                vals = extra[c].dropna()
                new = vals.index.difference(locs.index)
                locs = pd.concat([locs, pd.DataFrame(index=new, columns=locs.columns)]) if len(new) else locs
                locs.loc[vals.index, c] = vals
    locs["latitude"] = pd.to_numeric(locs["latitude"], errors="coerce")
    locs["longitude"] = pd.to_numeric(locs["longitude"], errors="coerce")
    if len(cat):
        missing = cat[~cat["org_code"].isin(orgs.index)].set_index("org_code")[["name", "kind"]]
        orgs = pd.concat([orgs, missing])
    perf, meta = performance_arrays(a.standing, a.icons, a.good_practice)
    flags = a.flags
    latest = a.standing["latest_period"].dropna().max() if len(a.standing) else None
    ctx = peer_context(engine, kind, a)
    partnerships = _partnerships(engine, latest)
    travel = _Travel(locs)
    return MatchInputs(
        orgs=orgs,
        perf=perf,
        indicators=meta,
        in_difficulty=set(flags.loc[flags["persistent_difficulty"].astype(bool), "org_code"]),
        track_record=set(flags.loc[flags["track_record"].astype(bool), "org_code"]),
        similarity=pd.DataFrame(),
        loads=_loads(partnerships),
        catalogue=cat,
        travel=travel,
        track_window=a.config.track_window,
        nhs_kind=kind,
        extra={
            "context": ctx,
            "assessed": list(flags["org_code"]),
            "current": sorted(set(a.standing.loc[a.standing["latest_period"] == latest, "org_code"])),
            "assessment": a,
            "freshness": getattr(a, "freshness", None),
            "partnerships": partnerships,
            "locations": locs[["latitude", "longitude"]],
            "travel": travel.summary(),
        },
    )


def _similarity(ctx: pd.DataFrame, recipients: list[str], candidates: list[str]) -> pd.DataFrame:
    """Similarity of each recipient to each NHS candidate from find_peers (pinned lists: every candidate)."""
    cands = [c for c in candidates if c in ctx.index]
    pinned = {r: [c for c in cands if c != r] for r in recipients if r in ctx.index}
    pinned = {r: v for r, v in pinned.items() if v}
    if not pinned or not [c for c in ctx.columns if c != "kind"]:  # no variable to compare on: not known
        return pd.DataFrame(index=recipients, columns=candidates, dtype=float)
    res = find_peers(ctx, k=1, weights=context_weights(ctx), pinned=pinned)
    res = res[res["pinned"]]
    return res.pivot(index="org_code", columns="peer_code", values="similarity")


def _nhs_candidates(inp: MatchInputs, exclude: Iterable[str] = ()) -> list[str]:
    """Assessed trusts reporting in the latest month (closed or merged trusts drop out), not in difficulty."""
    ex = set(exclude) | inp.in_difficulty
    current = set(inp.extra["current"])
    return [c for c in inp.extra["assessed"] if c not in ex and c in current]


def _catalogue_candidates(inp: MatchInputs, kinds: Iterable[str] | None = None) -> list[str]:
    if not len(inp.catalogue):
        return []
    cat = inp.catalogue
    if kinds is not None:
        cat = cat[cat["kind"].isin(list(kinds))]
    return [c for c in cat["org_code"] if c not in inp.in_difficulty]


def _within(scored: pd.DataFrame, max_minutes: float | None) -> pd.Series:
    """Pairs inside the travel limit; method and tools partners (remote working) are exempt."""
    if max_minutes is None:
        return pd.Series(True, index=scored.index)
    exempt = scored["supporter_kind"].isin(METHOD_KINDS)
    return exempt | (scored["travel_minutes"].fillna(np.inf) <= max_minutes)


# ---------------------------------------------------------------------------------------------- candidates


CANDIDATE_COLUMNS = [
    "rank", "supporter", "supporter_name", "supporter_kind", "score", "reason", "two_way_learning",
    "capability", "track_record", "similarity", "proximity", "spare_capacity", "kind_fit",
    "travel_minutes", "distance_km", "travel_from_matrix", "current_load", "best_indicator", "learn_back_indicator",
]


def partner_candidates(
    engine,
    org_code: str,
    k: int = 10,
    catalogue=None,
    max_minutes: float | None = None,
    *,
    assessment=None,
    weights: SuitabilityWeights = DEFAULT_WEIGHTS,
    inputs: MatchInputs | None = None,
) -> pd.DataFrame:
    """Candidate supporters for ``org_code``, best first, each with a reason and any two-way learning.

    Candidates are acute trusts of the same kind not in persistent difficulty, plus the partners of ``catalogue``
    (a CSV/TOML path or a DataFrame). ``max_minutes`` drops candidates farther than that by road (method and tools
    partners, who mostly work remotely, are exempt). Pass a precomputed ``assessment`` (or ``inputs`` from
    :func:`match_inputs`) to avoid recomputing the assessment. Columns: :data:`CANDIDATE_COLUMNS` plus the
    weighted points of each component (``pts_<component>``) and ``recipient``.
    """
    code = _code(org_code)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValidationError(f"k must be a positive whole number, got {k!r}")
    if max_minutes is not None and (not math.isfinite(float(max_minutes)) or float(max_minutes) < 0):
        raise ValidationError(f"max_minutes must be a non-negative number, got {max_minutes!r}")
    kind = "acute_trust"
    if inputs is None:
        kind = _org_kind(engine, code)
        if kind not in NHS_TRUST_KINDS:
            raise ValidationError(not_a_trust(code, kind))
        inputs = match_inputs(engine, assessment, catalogue, kind)
    inp = inputs
    if code not in set(inp.extra["assessed"]):
        if code not in inp.orgs.index:
            raise NotFoundError(f"organisation {code!r} is not in the store")
        raise NotFoundError(f"organisation {code!r} has not been assessed (no performance data for it)")
    nhs = _nhs_candidates(inp, exclude=[code])
    cands = nhs + [c for c in _catalogue_candidates(inp) if c not in set(nhs) and c != code]
    # a shallow copy: cached inputs are shared between requests and never mutated
    inp = dataclasses.replace(inp, similarity=_similarity(inp.extra["context"], [code], nhs))
    scored = score_pairs(inp, [code], cands, weights)
    scored = scored[_within(scored, max_minutes)]
    if scored.empty:
        out = pd.DataFrame(columns=[*CANDIDATE_COLUMNS, "recipient"])
        out.attrs["recipient_in_difficulty"] = code in inp.in_difficulty
        out.attrs["travel"] = _travel_summary(inp)
        out.attrs["data_note"] = data_note(inp)
        return out
    top = scored.sort_values(["score", "supporter"], ascending=[False, True]).head(int(k)).reset_index(drop=True)
    top = explain_pairs(top, inp)
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    top["supporter_name"] = top["supporter"].map(inp.orgs["name"])
    rest = [c for c in top.columns if c not in CANDIDATE_COLUMNS]
    out = top[CANDIDATE_COLUMNS + rest]
    out.attrs["recipient_in_difficulty"] = code in inp.in_difficulty
    out.attrs["travel"] = _travel_summary(inp)
    out.attrs["data_note"] = data_note(inp)
    return out


def data_note(inp: MatchInputs) -> str:
    """One sentence naming each stale family of data among the measures the scores and reasons use, and the month
    its data end (``measure.freshness.stale_note``); "" when none is stale."""
    from partnering.measure.freshness import family_of, stale_note

    fresh = inp.extra.get("freshness")
    if fresh is None and inp.extra.get("assessment") is not None:
        fresh = getattr(inp.extra["assessment"], "freshness", None)
    if fresh is None or len(fresh) == 0:
        return ""
    used = {family_of(str(c).split(":", 1)[0]) for c in inp.indicators.index}
    return stale_note(fresh, used)


def _travel_summary(inp: MatchInputs) -> dict:
    """What the minutes rest on (loaded matrices, the model's fit); inputs built elsewhere may not say."""
    if "travel" in inp.extra:
        return inp.extra["travel"]
    from partnering.match.travel import DEFAULT_DRIVE_MODEL

    return {"matrices": [], "model": DEFAULT_DRIVE_MODEL.summary()}


# ---------------------------------------------------------------------------------------------- plan


@dataclass
class PlanResult:
    """The system buddying plan: pairs with scores and reasons, unmatched with the binding constraint, map lines.

    ``pairs`` are the plan's new pairs; ``existing`` the registered partnerships it held fixed (their recipients
    are covered, so they get no second lead). Both carry ``recipient_lat, recipient_lon, supporter_lat,
    supporter_lon`` (WGS84 degrees, NaN where unknown) so a map needs no lookup of its own; ``unmatched`` carries
    ``recipient_lat, recipient_lon``. ``travel`` says what the minutes rest on: the loaded road matrices and the
    drive-time model's fit (formula, R², RMSE, n, what it was fitted on). ``data_note`` names each stale family
    of data the scores and reasons use and the month its data end ("" when none is stale: issue #9.4).
    """

    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    total_score: float
    n_recipients: int
    n_matched: int
    solver: str
    proven_optimal: bool
    parameters: dict
    map_lines: list[dict]
    map_unmatched: list[dict]
    lead_suitability: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    second_suitability: pd.DataFrame | None = field(repr=False, default=None)
    plan_kwargs: dict = field(repr=False, default_factory=dict)
    existing: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    n_existing: int = 0
    travel: dict = field(default_factory=dict)
    data_note: str = ""

    def to_dict(self) -> dict:
        """JSON-serialisable: parameters, total_score, counts, pairs, existing, unmatched, travel and map data."""
        pair_cols = ["recipient", "recipient_name", "supporter", "supporter_name", "supporter_kind", "role",
                     "score", "required", "travel_minutes", "distance_km", "travel_from_matrix", "reason",
                     "two_way_learning", *COORDINATE_COLUMNS]
        existing_cols = ["recipient", "recipient_name", "supporter", "supporter_name", "form", "start_period",
                         "score", *COORDINATE_COLUMNS]
        return _jsonable(
            {
                "parameters": self.parameters,
                "total_score": self.total_score,
                "n_recipients": self.n_recipients,
                "n_matched": self.n_matched,
                "n_existing": self.n_existing,
                "solver": self.solver,
                "proven_optimal": self.proven_optimal,
                "travel": self.travel,
                "data_note": self.data_note,
                "pairs": self.pairs.reindex(columns=pair_cols).to_dict("records"),
                "existing": self.existing.reindex(columns=existing_cols).to_dict("records"),
                "unmatched": self.unmatched.to_dict("records"),
                "map": {"lines": self.map_lines, "unmatched": self.map_unmatched},
            }
        )


COORDINATE_COLUMNS = ["recipient_lat", "recipient_lon", "supporter_lat", "supporter_lon"]


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is pd.NA or x is pd.NaT:
        return None
    return x


def _with_coordinates(df: pd.DataFrame, locs: pd.DataFrame, supporter: bool = True) -> pd.DataFrame:
    """A copy of ``df`` with recipient (and supporter) latitude/longitude from ``locs``."""
    out = df.copy()
    lat, lon = locs["latitude"].astype(float), locs["longitude"].astype(float)
    out["recipient_lat"] = out["recipient"].map(lat).astype(float)
    out["recipient_lon"] = out["recipient"].map(lon).astype(float)
    if supporter:
        out["supporter_lat"] = out["supporter"].map(lat).astype(float)
        out["supporter_lon"] = out["supporter"].map(lon).astype(float)
    return out


def _check_min_suitability(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(float(v)) \
            or not 0 <= float(v) <= 100:
        raise ValidationError(f"the minimum suitability must be a number from 0 to 100, got {v!r}")
    return float(v)


def buddying_plan(
    engine,
    capacity: int = 1,
    max_minutes: float | None = DEFAULT_MAX_MINUTES,
    required: Iterable = (),
    forbidden: Iterable = (),
    second_kind: str | None = None,
    catalogue=None,
    *,
    assessment=None,
    weights: SuitabilityWeights = DEFAULT_WEIGHTS,
    inputs: MatchInputs | None = None,
    kind: str = "acute_trust",
    min_suitability: float = DEFAULT_MIN_SUITABILITY,
) -> PlanResult:
    """The optimal system plan: a lead NHS supporter for every organisation in persistent difficulty.

    Suitability of every (organisation in difficulty, eligible trust) pair from the same score as
    :func:`partner_candidates`; pairs beyond ``max_minutes`` by road and pairs scoring below ``min_suitability``
    (default :data:`DEFAULT_MIN_SUITABILITY`; a recipient left with none is "no suitable partner") are dropped;
    solved exactly by :func:`partnering.match.plan.buddying_plan` (most organisations helped, then the greatest
    total score). Registered partnerships with an NHS trust as supporter, active in the latest month, are held
    fixed: their recipient is covered and gets no second lead (``existing``). ``capacity`` is the most
    organisations one trust may support in total, counting partnerships already registered.
    ``required``/``forbidden``: pairs in any form :func:`parse_pairs` reads (``"REC:SUP"``, ``"REC-SUP"``, tuples);
    required pairs are kept whatever their score. ``second_kind``: also give each organisation a partner of that
    catalogue kind (e.g. ``technology_partner``), within each partner's catalogue capacity.
    """
    from partnering.match import plan as plan_core

    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 0:
        raise ValidationError(f"capacity must be a whole number >= 0, got {capacity!r}")
    if max_minutes is not None and (not math.isfinite(float(max_minutes)) or float(max_minutes) < 0):
        raise ValidationError(f"max_minutes must be a non-negative number, got {max_minutes!r}")
    if second_kind is not None and second_kind not in CATALOGUE_KINDS:
        raise ValidationError(f"second kind must be one of {', '.join(CATALOGUE_KINDS)}, got {second_kind!r}")
    min_score = _check_min_suitability(min_suitability)
    req, forb = list(parse_pairs(required, "required")), list(parse_pairs(forbidden, "forbidden"))
    inp = inputs if inputs is not None else match_inputs(engine, assessment, catalogue, kind)
    for r, s in req + forb:
        for c in (r, s):
            if c not in inp.orgs.index:
                raise NotFoundError(f"organisation {c!r} in a required/forbidden pair is not in the store")
    recipients = [c for c in inp.extra["assessed"] if c in inp.in_difficulty]
    for r, _ in req:
        if r not in inp.in_difficulty:
            raise ValidationError(f"required pair {r}:{_}: {r} is not in persistent difficulty")
    nhs = _nhs_candidates(inp)
    inp = dataclasses.replace(inp, similarity=_similarity(inp.extra["context"], recipients, nhs))
    lead = score_pairs(inp, recipients, nhs, weights)
    lead["score"] = lead["score"].clip(lower=_SCORE_FLOOR)
    lead["drive_minutes"] = lead["travel_minutes"]

    # registered partnerships: those of a recipient with an NHS trust are held fixed (the recipient is covered);
    # every one uses its supporter's capacity
    held = inp.extra.get("partnerships", pd.DataFrame(columns=["recipient_code", "supporter_code"]))
    sup_kind = held["supporter_code"].map(inp.orgs["kind"]) if len(held) else pd.Series(dtype=object)
    cat_codes = set(inp.catalogue["org_code"]) if len(inp.catalogue) else set()
    is_held = held["recipient_code"].isin(recipients) & sup_kind.isin(NHS_TRUST_KINDS) \
        & ~held["supporter_code"].isin(cat_codes) if len(held) else pd.Series(dtype=bool)
    existing_rows = held[is_held] if len(held) else held
    existing = list(dict.fromkeys(zip(existing_rows["recipient_code"], existing_rows["supporter_code"], strict=True)))
    other_load = held[~is_held].groupby("supporter_code").size().to_dict() if len(held) else {}
    lead_cap = {s: max(0, int(capacity) - int(other_load.get(s, 0))) for s in nhs}

    second = None
    second_cap: dict[str, int] = {}
    if second_kind is not None:
        partners = _catalogue_candidates(inp, [second_kind])
        if not partners:
            raise ValidationError(f"the partner catalogue lists no {second_kind.replace('_', ' ')} (use --catalogue)")
        second = score_pairs(inp, recipients, partners, weights)
        second["score"] = second["score"].clip(lower=_SCORE_FLOOR)
        second["drive_minutes"] = second["travel_minutes"]
        if second_kind in METHOD_KINDS:  # remote working: exempt from the travel limit
            second["travel_minutes"] = 0.0
        cat = inp.catalogue.set_index("org_code")["capacity"]
        second_cap = {s: max(0, int(cat.get(s, 1)) - len(inp.loads.get(s, []))) for s in partners}

    kwargs = dict(
        capacity=lead_cap,
        required=req,
        forbidden=forb,
        supporters_in_difficulty=sorted(inp.in_difficulty),
        max_travel_minutes=None if max_minutes is None else float(max_minutes),
        recipients=recipients,
        second_kind_suitability=second,
        second_capacity=second_cap or 1,
        existing=existing,
        min_score=min_score if min_score > _SCORE_FLOOR else None,
    )
    plan = plan_core.buddying_plan(lead, **kwargs)
    locs = inp.extra.get("locations", inp.orgs[["latitude", "longitude"]])
    pairs = plan.pairs.copy()
    if len(pairs):
        pairs["travel_minutes"] = pairs["drive_minutes"]
        pairs = explain_pairs(pairs, inp)
    else:
        pairs = pairs.assign(reason=pd.Series(dtype=object), two_way_learning=pd.Series(dtype=object))
    names = inp.orgs["name"]
    pairs.insert(1, "recipient_name", pairs["recipient"].map(names))
    pairs.insert(3, "supporter_name", pairs["supporter"].map(names))
    pairs = _with_coordinates(pairs, locs)
    unmatched = _with_coordinates(plan.unmatched, locs, supporter=False)
    unmatched.insert(1, "recipient_name", unmatched["recipient"].map(names))
    held_pairs = plan.existing.copy()
    if len(held_pairs):
        info = existing_rows.drop_duplicates(["recipient_code", "supporter_code"]).set_index(
            ["recipient_code", "supporter_code"])
        key = pd.MultiIndex.from_frame(held_pairs[["recipient", "supporter"]])
        held_pairs["form"] = info["form"].reindex(key).to_numpy()
        held_pairs["start_period"] = info["start_period"].reindex(key).to_numpy()
    held_pairs.insert(1, "recipient_name", held_pairs["recipient"].map(names))
    held_pairs.insert(3, "supporter_name", held_pairs["supporter"].map(names))
    held_pairs = _with_coordinates(held_pairs, locs)

    lines = []
    for p in pairs.itertuples(index=False):
        if not np.isfinite([p.recipient_lat, p.recipient_lon, p.supporter_lat, p.supporter_lon]).all():
            continue
        mins = "" if pd.isna(p.travel_minutes) else f", {p.travel_minutes:.0f} min"
        lines.append(
            {
                "recipient": p.recipient,
                "supporter": p.supporter,
                "role": p.role,
                "score": round(float(p.score), 2),
                "from": {"lat": float(p.recipient_lat), "lon": float(p.recipient_lon)},
                "to": {"lat": float(p.supporter_lat), "lon": float(p.supporter_lon)},
                "label": f"{p.recipient} {p.recipient_name} ← {p.supporter} {p.supporter_name} "
                         f"({p.role}, score {p.score:.0f}{mins})",
            }
        )
    map_unmatched = [
        {
            "recipient": u.recipient,
            "role": u.role,
            "lat": float(u.recipient_lat),
            "lon": float(u.recipient_lon),
            "label": f"{u.recipient} {u.recipient_name}: {u.reason}",
        }
        for u in unmatched.itertuples(index=False)
        if np.isfinite([u.recipient_lat, u.recipient_lon]).all()
    ]
    lead_pairs = pairs[pairs["role"] == "lead"] if len(pairs) else pairs
    return PlanResult(
        pairs=pairs,
        unmatched=unmatched,
        total_score=float(plan.total_score),
        n_recipients=len(recipients),
        n_matched=int(lead_pairs["recipient"].nunique()) if len(lead_pairs) else 0,
        solver=plan.solver,
        proven_optimal=bool(plan.proven_optimal),
        parameters={
            "capacity": int(capacity),
            "max_minutes": None if max_minutes is None else float(max_minutes),
            "min_suitability": min_score,
            "required": [f"{r}:{s}" for r, s in req],
            "forbidden": [f"{r}:{s}" for r, s in forb],
            "second_kind": second_kind,
            "weights": weights.normalised(),
        },
        map_lines=lines,
        map_unmatched=map_unmatched,
        lead_suitability=lead,
        second_suitability=second,
        plan_kwargs=kwargs,
        existing=held_pairs,
        n_existing=int(held_pairs["recipient"].nunique()) if len(held_pairs) else 0,
        travel=_travel_summary(inp),
        data_note=data_note(inp),
    )
