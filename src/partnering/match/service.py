"""Store -> numeric cores -> explained results: peers, partner candidates and the buddying plan.

The faces (CLI, web, API) call these; each takes an optional precomputed ``assessment`` (from
:func:`partnering.measure.assess.assess`) so that a web request does not recompute the SPC and segments. Nothing is
cached here: the web layer caches.

* :func:`peers_for` — the most similar organisations (``match.peers.find_peers``) with each variable's contribution
  and a one-line explanation; a user may pin a bespoke peer list.
* :func:`partner_candidates` — candidate supporters ranked by the weighted suitability score of
  :mod:`partnering.match.candidates`, each with a plain-English reason and two-way learning.
* :func:`buddying_plan` — the exact optimal system plan (``match.plan.buddying_plan``) over every organisation in
  persistent difficulty, with reasons, unmatched organisations and the binding constraint, and map lines.

Method and weights: ``docs/methods/partner-matching.md``.
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
    MatchInputs,
    SuitabilityWeights,
    explain_pairs,
    load_catalogue,
    performance_arrays,
    score_pairs,
)
from partnering.match.context import context_weights, peer_context, read_frame
from partnering.match.peers import explain_peer, find_peers

__all__ = [
    "PlanResult",
    "buddying_plan",
    "match_inputs",
    "partner_candidates",
    "peer_context",
    "peers_for",
]

MIN_PLAN_SCORE = 0.01  # the exact plan needs scores > 0; a pair scoring 0 still counts as "some help"


def _code(org_code: str) -> str:
    if not isinstance(org_code, str) or not org_code.strip():
        raise ValidationError("an organisation code is required")
    return org_code.strip().upper()


def _assessment(engine, assessment, kind: str):
    if assessment is not None:
        return assessment
    from partnering.measure.assess import AssessConfig, assess

    return assess(engine, AssessConfig(kinds=(kind,)))


def _org_kind(engine, code: str) -> str:
    from sqlalchemy import select

    from partnering.store.models import Organisation
    from partnering.store.repository import _conn

    with _conn(engine) as conn:
        kind = conn.execute(select(Organisation.kind).where(Organisation.org_code == code)).scalar_one_or_none()
    if kind is None:
        raise NotFoundError(f"organisation {code!r} is not in the store")
    return kind


# ---------------------------------------------------------------------------------------------- peers


def peers_for(
    engine,
    org_code: str,
    k: int = 10,
    weights: Mapping[str, float] | None = None,
    pinned: Sequence[str] | None = None,
    assessment=None,
    context: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``k`` organisations most like ``org_code`` (same kind), each with its contributions and a sentence.

    ``weights`` override the theme weights of :func:`partnering.match.context.context_weights` per variable;
    ``pinned`` is a user's bespoke peer list (returned in the order given, with distances computed the same way).
    Columns: ``org_code, peer_code, peer_name, rank, distance, similarity, contrib_<var>..., imputed_vars, pinned,
    explanation``.
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
    if pinned:
        pins = [_code(p) for p in pinned]
        unknown = [p for p in pins if p not in ctx.index]
        if unknown:
            raise NotFoundError(f"pinned peers not found among {kind.replace('_', ' ')}s: {unknown}")
        if code in pins or len(set(pins)) != len(pins):
            raise ValidationError("a pinned peer list may not repeat a peer or name the organisation itself")
        pin = {code: pins}
    k = min(int(k), max(len(ctx) - 1, 1))
    res = find_peers(ctx, k=k, weights=w, pinned=pin)
    res = res[res["org_code"] == code].reset_index(drop=True)
    from sqlalchemy import select

    from partnering.store.models import Organisation

    names = read_frame(engine, select(Organisation.org_code, Organisation.name).where(Organisation.kind == kind))
    names = names.set_index("org_code")["name"]
    res.insert(2, "peer_name", res["peer_code"].map(names))
    res["explanation"] = [explain_peer(r) for _, r in res.iterrows()]
    return res


# ---------------------------------------------------------------------------------------------- inputs


def _loads(engine, latest_period: str | None) -> dict[str, list[str]]:
    """supporter -> recipients it supports now (registered partnerships not ended before the latest month)."""
    from sqlalchemy import select

    from partnering.store.models import Partnership

    p = read_frame(engine, select(Partnership.recipient_code, Partnership.supporter_code, Partnership.end_period))
    if p.empty:
        return {}
    if latest_period:
        p = p[p["end_period"].isna() | (p["end_period"].astype(str) >= latest_period)]
    return {s: sorted(set(g["recipient_code"])) for s, g in p.groupby("supporter_code")}


def _travel_fn(locs: pd.DataFrame):
    """A callable (recipients, supporters) -> (minutes, km, from_matrix) arrays.

    Straight-line km between the organisations' coordinates and the fitted drive-time model
    (``match.travel.DEFAULT_DRIVE_MODEL``); where a road travel-time matrix has been loaded
    (``partnering ingest geo``) and holds both postcodes, its minutes replace the estimate.
    """
    from partnering.match.travel import distance_matrix_km, estimated_drive_minutes, read_travel_matrix, travel_minutes

    try:
        matrix = read_travel_matrix()
    except NotFoundError:
        matrix = None

    def fn(recipients, supporters):
        a = locs.reindex(list(recipients))
        b = locs.reindex(list(supporters))
        km = distance_matrix_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
        minutes = np.asarray(estimated_drive_minutes(km), dtype=float)
        minutes[np.isnan(km)] = np.nan
        from_matrix = np.zeros(km.shape, dtype=bool)
        if matrix is not None:
            pa, pb = a["postcode"].fillna(""), b["postcode"].fillna("")
            if (pa != "").any() and (pb != "").any():
                tt = travel_minutes(pa.tolist(), pb.tolist(), matrix=matrix).minutes.to_numpy(dtype=float)
                ok = np.isfinite(tt) & (pa.to_numpy() != "")[:, None] & (pb.to_numpy() != "")[None, :]
                minutes[ok] = tt[ok]
                from_matrix = ok
        return minutes, km, from_matrix

    return fn


def match_inputs(engine, assessment=None, catalogue=None, kind: str = "acute_trust") -> MatchInputs:
    """Read everything the scoring needs once (the web layer may cache the result per store version)."""
    from sqlalchemy import select

    from partnering.store.models import Organisation

    a = _assessment(engine, assessment, kind)
    cols = [Organisation.org_code, Organisation.name, Organisation.kind, Organisation.postcode,
            Organisation.latitude, Organisation.longitude]
    orgs = read_frame(engine, select(*cols)).set_index("org_code")
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
    return MatchInputs(
        orgs=orgs,
        perf=perf,
        indicators=meta,
        in_difficulty=set(flags.loc[flags["persistent_difficulty"].astype(bool), "org_code"]),
        track_record=set(flags.loc[flags["track_record"].astype(bool), "org_code"]),
        similarity=pd.DataFrame(),
        loads=_loads(engine, latest),
        catalogue=cat,
        travel=_travel_fn(locs),
        track_window=a.config.track_window,
        nhs_kind=kind,
        extra={
            "context": ctx,
            "assessed": list(flags["org_code"]),
            "current": sorted(set(a.standing.loc[a.standing["latest_period"] == latest, "org_code"])),
            "assessment": a,
        },
    )


def _similarity(ctx: pd.DataFrame, recipients: list[str], candidates: list[str]) -> pd.DataFrame:
    """Similarity of each recipient to each NHS candidate from find_peers (pinned lists: every candidate)."""
    cands = [c for c in candidates if c in ctx.index]
    pinned = {r: [c for c in cands if c != r] for r in recipients if r in ctx.index}
    pinned = {r: v for r, v in pinned.items() if v}
    if not pinned:
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
            raise ValidationError(f"{code} is a {kind.replace('_', ' ')}; partners are found for NHS trusts")
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
        return out
    top = scored.sort_values(["score", "supporter"], ascending=[False, True]).head(int(k)).reset_index(drop=True)
    top = explain_pairs(top, inp)
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    top["supporter_name"] = top["supporter"].map(inp.orgs["name"])
    rest = [c for c in top.columns if c not in CANDIDATE_COLUMNS]
    out = top[CANDIDATE_COLUMNS + rest]
    out.attrs["recipient_in_difficulty"] = code in inp.in_difficulty
    return out


# ---------------------------------------------------------------------------------------------- plan


@dataclass
class PlanResult:
    """The system buddying plan: pairs with scores and reasons, unmatched with the binding constraint, map lines."""

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

    def to_dict(self) -> dict:
        """JSON-serialisable: parameters, total_score, counts, pairs, unmatched and map data."""
        pair_cols = ["recipient", "recipient_name", "supporter", "supporter_name", "supporter_kind", "role",
                     "score", "required", "travel_minutes", "distance_km", "reason", "two_way_learning"]
        return _jsonable(
            {
                "parameters": self.parameters,
                "total_score": self.total_score,
                "n_recipients": self.n_recipients,
                "n_matched": self.n_matched,
                "solver": self.solver,
                "proven_optimal": self.proven_optimal,
                "pairs": self.pairs.reindex(columns=pair_cols).to_dict("records"),
                "unmatched": self.unmatched.to_dict("records"),
                "map": {"lines": self.map_lines, "unmatched": self.map_unmatched},
            }
        )


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


def _parse_pairs(pairs, what: str) -> list[tuple[str, str]]:
    out = []
    for p in pairs or ():
        if isinstance(p, str):
            bits = p.split(":")
            if len(bits) != 2 or not all(b.strip() for b in bits):
                raise ValidationError(f"{what} pair {p!r} must be RECIPIENT:SUPPORTER")
            p = bits
        if len(p) != 2:
            raise ValidationError(f"{what} pair {p!r} must be (recipient, supporter)")
        out.append((_code(p[0]), _code(p[1])))
    return out


def buddying_plan(
    engine,
    capacity: int = 1,
    max_minutes: float | None = 90,
    required: Iterable = (),
    forbidden: Iterable = (),
    second_kind: str | None = None,
    catalogue=None,
    *,
    assessment=None,
    weights: SuitabilityWeights = DEFAULT_WEIGHTS,
    inputs: MatchInputs | None = None,
    kind: str = "acute_trust",
) -> PlanResult:
    """The optimal system plan: a lead NHS supporter for every organisation in persistent difficulty.

    Suitability of every (organisation in difficulty, eligible trust) pair from the same score as
    :func:`partner_candidates`; pairs beyond ``max_minutes`` by road are dropped; solved exactly by
    :func:`partnering.match.plan.buddying_plan` (most organisations helped, then the greatest total score).
    ``capacity`` is the most organisations one trust may support in total, counting partnerships already
    registered. ``required``/``forbidden``: ``"REC:SUP"`` strings or pairs. ``second_kind``: also give each
    organisation a partner of that catalogue kind (e.g. ``technology_partner``), within each partner's catalogue
    capacity.
    """
    from partnering.match import plan as plan_core

    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 0:
        raise ValidationError(f"capacity must be a whole number >= 0, got {capacity!r}")
    if max_minutes is not None and (not math.isfinite(float(max_minutes)) or float(max_minutes) < 0):
        raise ValidationError(f"max_minutes must be a non-negative number, got {max_minutes!r}")
    if second_kind is not None and second_kind not in CATALOGUE_KINDS:
        raise ValidationError(f"second kind must be one of {', '.join(CATALOGUE_KINDS)}, got {second_kind!r}")
    req, forb = _parse_pairs(required, "required"), _parse_pairs(forbidden, "forbidden")
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
    lead["score"] = lead["score"].clip(lower=MIN_PLAN_SCORE)
    lead["drive_minutes"] = lead["travel_minutes"]
    lead_cap = {s: max(0, int(capacity) - len(inp.loads.get(s, []))) for s in nhs}

    second = None
    second_cap: dict[str, int] = {}
    if second_kind is not None:
        partners = _catalogue_candidates(inp, [second_kind])
        if not partners:
            raise ValidationError(f"the partner catalogue lists no {second_kind.replace('_', ' ')} (use --catalogue)")
        second = score_pairs(inp, recipients, partners, weights)
        second["score"] = second["score"].clip(lower=MIN_PLAN_SCORE)
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
    )
    plan = plan_core.buddying_plan(lead, **kwargs)
    pairs = plan.pairs.copy()
    if len(pairs):
        pairs["travel_minutes"] = pairs["drive_minutes"]
        pairs = explain_pairs(pairs, inp)
    else:
        pairs = pairs.assign(reason=pd.Series(dtype=object), two_way_learning=pd.Series(dtype=object))
    names = inp.orgs["name"]
    pairs.insert(1, "recipient_name", pairs["recipient"].map(names))
    pairs.insert(3, "supporter_name", pairs["supporter"].map(names))
    unmatched = plan.unmatched.copy()
    unmatched.insert(1, "recipient_name", unmatched["recipient"].map(names))

    locs = inp.orgs[["latitude", "longitude"]]
    lines = []
    for p in pairs.itertuples(index=False):
        a = locs.loc[p.recipient] if p.recipient in locs.index else None
        b = locs.loc[p.supporter] if p.supporter in locs.index else None
        if a is None or b is None or a.isna().any() or b.isna().any():
            continue
        mins = "" if pd.isna(p.travel_minutes) else f", {p.travel_minutes:.0f} min"
        lines.append(
            {
                "recipient": p.recipient,
                "supporter": p.supporter,
                "role": p.role,
                "score": round(float(p.score), 2),
                "from": {"lat": float(a["latitude"]), "lon": float(a["longitude"])},
                "to": {"lat": float(b["latitude"]), "lon": float(b["longitude"])},
                "label": f"{p.recipient} {p.recipient_name} ← {p.supporter} {p.supporter_name} "
                         f"({p.role}, score {p.score:.0f}{mins})",
            }
        )
    map_unmatched = [
        {
            "recipient": u.recipient,
            "role": u.role,
            "lat": float(locs.at[u.recipient, "latitude"]),
            "lon": float(locs.at[u.recipient, "longitude"]),
            "label": f"{u.recipient} {u.recipient_name}: {u.reason}",
        }
        for u in unmatched.itertuples(index=False)
        if u.recipient in locs.index and locs.loc[u.recipient].notna().all()
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
    )
