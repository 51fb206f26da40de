"""The web layer's single door into the library: call it, cache it, shape the result for pages and the API.

Nothing here computes a figure of its own: assessment comes from ``partnering.measure.assess``, SPC from
``partnering.measure.spc``, peers / partner candidates / buddying plans from ``partnering.match.service`` (given
the cached assessment and ``match_inputs`` so a request never recomputes them).  Only if
``partnering.match.service`` is absent do peers fall back to ``partnering.match.find_peers`` over the stored
context attributes and the plan to ``partnering.match.buddying_plan`` on those peers.
"""

from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError, ValidationError
from partnering.store import repository as repo
from partnering.web.cache import cached

KEY_INDICATORS_FALLBACK = 4


def _match_service():
    try:
        return importlib.import_module("partnering.match.service")
    except ImportError:
        return None


# ------------------------------------------------------------------------------------------------ store basics


def organisations(engine) -> pd.DataFrame:
    return cached(engine, "orgs", None, lambda: repo.organisations_frame(engine))


def _org_index(engine) -> dict[str, dict]:
    """Organisation rows by code (a dict lookup: filtering the frame on every request is slow)."""
    def compute():
        return {r["org_code"]: r for r in organisations(engine).to_dict("records")}

    return cached(engine, "org_index", None, compute)


def org_row(engine, code: str) -> dict:
    row = _org_index(engine).get(code.upper())
    if row is None:
        raise NotFoundError(f"organisation {code!r} is not in the store")
    return dict(row)  # a copy: callers add to it


def has_synthetic(engine) -> bool:
    def compute():
        orgs = organisations(engine)
        return bool(orgs["synthetic"].fillna(False).astype(bool).any()) if not orgs.empty else False

    return cached(engine, "has_synthetic", None, compute)


def indicators(engine) -> pd.DataFrame:
    def compute():
        with engine.begin() as conn:
            repo.sync_catalogue(conn)
        return repo.indicators_frame(engine, include_breakdowns=False)

    return cached(engine, "indicators", None, compute)


def observations(engine, user, orgs=None, indicator_codes=None) -> pd.DataFrame:
    key = (tuple(sorted(orgs)) if orgs else None, tuple(sorted(indicator_codes)) if indicator_codes else None)
    return cached(engine, "obs", user, lambda: repo.observations_frame(
        engine, indicator_codes, orgs, **user.scope()), key)


# ------------------------------------------------------------------------------------------------ assessment


def assessment(engine, user):
    """The cached :class:`partnering.measure.assess.Assessment`, or ``None`` when there is nothing to assess."""
    from partnering.measure.assess import assess

    def compute():
        try:
            return assess(engine, **user.scope())
        except NotFoundError:
            return None

    return cached(engine, "assessment", user, compute)


def summary_table(engine, user) -> pd.DataFrame:
    """One row per assessed organisation: flags plus the variation/assurance icon of each key metric."""
    def compute():
        a = assessment(engine, user)
        if a is None:
            return pd.DataFrame()
        orgs = organisations(engine).set_index("org_code")
        flags = a.flags.copy()
        for col in ("icb_code", "region_code", "kind"):
            flags[col] = flags["org_code"].map(orgs[col])
        key = a.icons[a.icons["indicator"].isin(a.metrics)]
        for m in a.metrics:
            sub = key[key["indicator"] == m].set_index("org_code")
            flags[f"{m}__variation"] = flags["org_code"].map(sub["variation_icon"])
            flags[f"{m}__assurance"] = flags["org_code"].map(sub["assurance_type"])
            flags[f"{m}__value"] = flags["org_code"].map(sub["latest_value"])
        return flags

    return cached(engine, "summary", user, compute)


def _org_spc(engine, user, code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(points, icons) of every SPC series of one organisation the user may see.

    The assessment's points for the indicators it covers; then SPC over the organisation's other visible
    indicators (its own KPIs and any catalogue indicator the assessment does not cover), each over its last
    ``spc_months`` months, with the catalogue's direction and standard or, for an indicator the catalogue does
    not know, a neutral direction and no target.  Breakdown series (codes with ``:``) are left out, as in the
    assessment.
    """
    def compute():
        a = assessment(engine, user)
        parts, icons, done = [], [], set()
        if a is not None:
            pts = a.points[a.points["org_code"] == code]
            if not pts.empty:
                parts.append(pts)
                done = set(pts["indicator"])
        obs = observations(engine, user, orgs=[code])
        if not obs.empty:
            rest = obs[~obs["indicator"].isin(done) & ~obs["indicator"].str.contains(":", regex=False)
                       & obs["value"].notna()]
            if not rest.empty:
                window = a.config.spc_months if a is not None else 36
                rest = rest.sort_values("period").groupby("indicator", sort=False).tail(window)
                try:
                    pts, ic = spc_for_frame(rest, with_icons=True)
                    parts.append(pts)
                    icons.append(ic)
                except ValidationError:  # a series SPC cannot chart: the table of values still shows it
                    pass
        points = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return points, (pd.concat(icons, ignore_index=True) if icons else pd.DataFrame())

    return cached(engine, "org_spc", user, compute, code)


def org_spc(engine, user, code: str) -> pd.DataFrame:
    """Every SPC point of one organisation: the assessment's, and its other visible indicators' (own KPIs)."""
    return _org_spc(engine, user, code)[0]


def org_icons(engine, user, code: str) -> pd.DataFrame:
    a = assessment(engine, user)
    if a is not None:
        icons = a.icons[a.icons["org_code"] == code]
        if not icons.empty:
            return icons.reset_index(drop=True)
    return pd.DataFrame()


def org_spc_icons(engine, user, code: str, indicator_code: str) -> dict:
    """Variation and assurance icons of one of the organisation's series (assessment first, then own KPIs)."""
    icons = org_icons(engine, user, code)
    if not icons.empty and indicator_code in set(icons["indicator"]):
        return icons[icons["indicator"] == indicator_code].iloc[0].to_dict()
    extra = _org_spc(engine, user, code)[1]
    if not extra.empty and indicator_code in set(extra["indicator"]):
        return extra[extra["indicator"] == indicator_code].iloc[0].to_dict()
    return {}


def spc_for_frame(obs: pd.DataFrame, with_icons: bool = False):
    """SPC for observations (org_code, indicator, period, value) with the catalogue's directions and standards
    (neutral, no target, for an indicator the catalogue does not know).  Points, or (points, icons)."""
    from partnering.indicators.catalogue import indicator
    from partnering.measure.spc import run_spc

    data = pd.DataFrame({"series": obs["org_code"] + "|" + obs["indicator"], "x": obs["period"] + "-01",
                         "y": obs["value"].astype(float)})
    ser = pd.Series(data["series"].unique())
    defs = {c: indicator(c) for c in obs["indicator"].unique()}
    ind = ser.str.split("|").str[1]
    options = pd.DataFrame({
        "series": ser,
        "improvement_direction": ind.map(lambda c: defs[c].improvement_direction if defs[c] else "neutral"),
        "target": ind.map(lambda c: defs[c].national_standard if defs[c] else np.nan),
    })
    res = run_spc(data, options)
    pts = res.points
    split = pts["series"].str.split("|")
    pts = pts.assign(org_code=split.str[0], indicator=split.str[1])
    if not with_icons:
        return pts
    icons = res.icons
    isplit = icons["series"].str.split("|")
    return pts, icons.assign(org_code=isplit.str[0], indicator=isplit.str[1])


def spc_series(frame: pd.DataFrame, improvement_direction: str = "increase", target=None, chart: str = "xmr"):
    """SPC of one user-supplied series (``x``, ``y`` columns): points and icons."""
    from partnering.measure.spc import run_spc

    data = frame.assign(series="series")
    res = run_spc(data, improvement_direction=improvement_direction, target=target, chart=chart)
    return res.points.drop(columns="series"), res.icons.drop(columns="series")


# ------------------------------------------------------------------------------------------------ matching


def _context_peers(engine, code: str, k: int = 10) -> pd.DataFrame:
    """Fallback peers: ``find_peers`` among organisations of the same kind, over their stored context."""
    from partnering.match import explain_peer, find_peers

    def compute():
        orgs = organisations(engine).set_index("org_code")
        attrs = repo.attributes_frame(engine)
        out = []
        for kind in orgs["kind"].dropna().unique():
            codes = orgs.index[orgs["kind"] == kind]
            ctx = attrs[attrs.index.isin(codes)]
            ctx = ctx.loc[:, ctx.notna().mean() >= 0.5]
            if len(ctx) < 3 or ctx.shape[1] == 0:
                continue
            out.append(find_peers(ctx, k=min(k, len(ctx) - 1)))
        return pd.concat(out, ignore_index=True) if out else pd.DataFrame()

    allp = cached(engine, "context_peers", None, compute, k)
    if allp.empty:
        return allp
    mine = allp[allp["org_code"] == code].reset_index(drop=True)
    contrib = [c for c in mine.columns if c.startswith("contrib_")]
    mine["reason"] = [explain_peer(r.dropna()) if len(r[contrib].dropna()) else "" for _, r in mine.iterrows()]
    return mine[["org_code", "peer_code", "rank", "distance", "similarity", "reason"]]


_MATCH_LOCK = threading.Lock()  # the service writes scratch state into shared inputs: one call at a time


def match_inputs(engine, user):
    """``match.service.match_inputs`` over the cached assessment, cached per data version and scope."""
    svc = _match_service()
    a = assessment(engine, user)
    if svc is None or a is None:
        return None
    return cached(engine, "match_inputs", user, lambda: svc.match_inputs(engine, assessment=a))


def peers(engine, user, code: str) -> pd.DataFrame:
    """Similar organisations with a reason each: org_code, peer_code, peer_code_name, rank, similarity, reason."""
    svc = _match_service()

    def compute():
        if svc is None:
            return _named(engine, _context_peers(engine, code), "peer_code")
        org = org_row(engine, code)
        inp = match_inputs(engine, user) if org["kind"] == "acute_trust" else None
        kwargs = {"assessment": assessment(engine, user)}
        if inp is not None and code in inp.extra["context"].index:
            kwargs["context"] = inp.extra["context"]
        try:
            with _MATCH_LOCK:
                df = svc.peers_for(engine, code, **kwargs)
        except (NotFoundError, ValidationError):  # nothing to compare this organisation on
            return pd.DataFrame()
        df = df.rename(columns={"explanation": "reason"})
        return _named(engine, df, "peer_code")

    return cached(engine, "peers", user, compute, code)


def partner_candidates(engine, user, code: str) -> pd.DataFrame | None:
    """Candidate partners with reasons (best first); ``None`` when the library cannot offer them for this org."""
    svc = _match_service()
    if svc is None or not hasattr(svc, "partner_candidates"):
        return None

    def compute():
        inp = match_inputs(engine, user)
        if inp is None:
            return None
        try:
            with _MATCH_LOCK:
                return svc.partner_candidates(engine, code, inputs=inp)
        except (NotFoundError, ValidationError):
            return None

    return cached(engine, "partners", user, compute, code)


def _named(engine, df: pd.DataFrame, code_col: str | None) -> pd.DataFrame:
    if df.empty or code_col is None or code_col not in df.columns or f"{code_col}_name" in df.columns:
        return df
    names = organisations(engine).set_index("org_code")["name"]
    out = df.copy()
    out[f"{code_col}_name"] = out[code_col].map(names)
    return out


@dataclass
class PlanParams:
    capacity: int = 1
    max_travel_minutes: float | None = 90.0
    forbidden: tuple[tuple[str, str], ...] = ()
    required: tuple[tuple[str, str], ...] = ()

    def validate(self) -> None:
        if not 1 <= self.capacity <= 20:
            raise ValidationError("capacity must be a whole number from 1 to 20")
        if self.max_travel_minutes is not None and not 0 < self.max_travel_minutes <= 600:
            raise ValidationError("maximum travel time must be between 1 and 600 minutes")


@dataclass
class PlanResult:
    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    solver: str
    proven_optimal: bool
    notes: list[str]
    params: PlanParams


def parse_pairs(text: str | None, what: str) -> tuple[tuple[str, str], ...]:
    """``"R1-S1, R2-S2"`` (or one pair per line, ``R1 S1`` / ``R1:S1`` / ``R1>S1``) -> pairs of codes."""
    out = []
    for raw in (text or "").replace(";", "\n").replace(",", "\n").splitlines():
        bits = [b for b in re.split(r"[\s:>-]+", raw) if b]
        if not bits:
            continue
        if len(bits) != 2:
            raise ValidationError(f"{what}: {raw.strip()!r} is not a pair of organisation codes "
                                  "(write recipient then supporter, e.g. 'ZA1-ZB2')")
        out.append((bits[0].upper(), bits[1].upper()))
    return tuple(out)


def buddying_plan(engine, user, params: PlanParams) -> PlanResult:
    params.validate()
    svc = _match_service()

    def compute():
        if svc is not None and hasattr(svc, "buddying_plan"):
            inp = match_inputs(engine, user)
            if inp is None:
                raise NotFoundError("nothing to plan: load data first")
            with _MATCH_LOCK:
                res = svc.buddying_plan(engine, capacity=params.capacity, max_minutes=params.max_travel_minutes,
                                        required=list(params.required), forbidden=list(params.forbidden),
                                        inputs=inp)
        else:
            res = _fallback_plan(engine, user, params)
        pairs = _named(engine, _named(engine, getattr(res, "pairs", pd.DataFrame()), "recipient"), "supporter")
        unmatched = _named(engine, getattr(res, "unmatched", pd.DataFrame()), "recipient")
        return PlanResult(pairs, unmatched, getattr(res, "solver", ""), bool(getattr(res, "proven_optimal", True)),
                          list(getattr(res, "notes", []) or []), params)

    return cached(engine, "plan", user, compute, params.capacity, params.max_travel_minutes, params.forbidden,
                  params.required)


def _fallback_plan(engine, user, params: PlanParams):
    """Interim: organisations in persistent difficulty as recipients, their non-difficulty peers as supporters."""
    from partnering.match import buddying_plan as plan
    from partnering.match.travel import estimated_drive_minutes, haversine_km

    a = assessment(engine, user)
    if a is None:
        raise NotFoundError("no assessment: load data first")
    flags = a.flags
    difficulty = flags.loc[flags["persistent_difficulty"].astype(bool), "org_code"].tolist()
    rows = []
    for code in difficulty:
        p = _context_peers(engine, code, k=15)
        rows.append(p.rename(columns={"org_code": "recipient", "peer_code": "supporter"}))
    suit = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["recipient", "supporter", "similarity", "reason"])
    suit = suit[suit["similarity"] > 0].copy()
    suit["score"] = suit["similarity"]
    orgs = organisations(engine).set_index("org_code")
    la, lo = suit["recipient"].map(orgs["latitude"]), suit["recipient"].map(orgs["longitude"])
    lb, lob = suit["supporter"].map(orgs["latitude"]), suit["supporter"].map(orgs["longitude"])
    suit["travel_minutes"] = np.round(estimated_drive_minutes(haversine_km(la, lo, lb, lob)), 0)
    return plan(suit[["recipient", "supporter", "score", "travel_minutes", "reason"]], capacity=params.capacity,
                required=params.required, forbidden=params.forbidden, supporters_in_difficulty=difficulty,
                max_travel_minutes=params.max_travel_minutes, recipients=difficulty)


# ------------------------------------------------------------------------------------------------ batches


def batches(engine, user, limit: int | None = None) -> pd.DataFrame:
    """Import history the user may see: published batches, their organisation's own, or all (admins)."""
    df = repo.batches_frame(engine)
    if df.empty:
        return df
    if not user.is_admin:
        visible = df["published"].fillna(True).astype(bool)
        if user.org_code:
            visible |= df["owner_org"] == user.org_code
        df = df[visible]
    return df.head(limit) if limit else df


def batch(engine, user, batch_id: int) -> dict:
    df = batches(engine, user)
    hit = df[df["id"] == batch_id] if not df.empty else df
    if hit.empty:
        raise NotFoundError(f"no import batch {batch_id}")
    return hit.iloc[0].to_dict()


def rejected(engine, user, batch_id: int) -> pd.DataFrame:
    batch(engine, user, batch_id)  # raises when not visible
    return repo.rejected_frame(engine, batch_id)
