"""The web layer's single door into the library: call it, cache it, shape the result for pages and the API.

Nothing here computes a figure of its own: assessment comes from ``partnering.measure.assess``, SPC from
``partnering.measure.spc``, peers / partner candidates / buddying plans from ``partnering.match.service`` (given
the cached assessment and ``match_inputs`` so a request never recomputes them).  Results are cached per data
version and viewer scope (:mod:`partnering.web.cache`); they are never changed after they are computed, so
requests share them without a lock.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from partnering.errors import NotFoundError, ValidationError
from partnering.match import service as match_service
from partnering.measure.assess import AssessConfig, assess
from partnering.measure.freshness import store_freshness
from partnering.measure.spc import run_spc
from partnering.store import repository as repo
from partnering.store.annotations import rebases_by_series
from partnering.web.cache import cached

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


def synthetic_codes(engine) -> frozenset[str]:
    """Codes of the organisations the store marks synthetic (the demo's invented ones)."""
    def compute():
        orgs = organisations(engine)
        if orgs.empty:
            return frozenset()
        return frozenset(orgs.loc[orgs["synthetic"].fillna(False).astype(bool), "org_code"])

    return cached(engine, "synthetic_codes", None, compute)


def indicators(engine) -> pd.DataFrame:
    """The stored indicator catalogue (a read: the store syncs it from the TOML where it is opened)."""
    return cached(engine, "indicators", None, lambda: repo.indicators_frame(engine, include_breakdowns=False))


def observations(engine, user, orgs=None, indicator_codes=None) -> pd.DataFrame:
    key = (tuple(sorted(orgs)) if orgs else None, tuple(sorted(indicator_codes)) if indicator_codes else None)
    return cached(engine, "obs", user, lambda: repo.observations_frame(
        engine, indicator_codes, orgs, **user.scope()), key)


def freshness(engine, user) -> pd.DataFrame:
    """Per family of data the latest month loaded and whether it is stale
    (:func:`partnering.measure.freshness.store_freshness`), cached per data version and viewer scope."""
    return cached(engine, "freshness", user, lambda: store_freshness(engine, **user.scope()))


# ------------------------------------------------------------------------------------------------ assessment


def assessment(engine, user):
    """The cached :class:`partnering.measure.assess.Assessment`, or ``None`` when there is nothing to assess."""
    def compute():
        try:
            return assess(engine, **user.scope())
        except NotFoundError:
            return None

    return cached(engine, "assessment", user, compute)


def org_assessment(engine, user, code: str):
    """The assessment one organisation's page, board pack and API show: it among its own kind
    (:func:`partnering.measure.own_kind.assess_own_kind`, which says how the kind and its indicators are chosen),
    cached per data version, viewer scope and kind. Acute trusts get the shared :func:`assessment` itself (the
    summary pages' and the cache warm-up's); ``None`` when no organisation of the kind has data to assess."""
    from partnering.measure.own_kind import own_kinds

    return _kinds_assessment(engine, user, own_kinds(engine, code))  # the same for every organisation of the kind


def kind_assessment(engine, user, kind: str | None = None):
    """The assessment of every organisation of ``kind`` among its own kind (what the pages of its organisations
    show, :func:`org_assessment`), cached under the same key; acute trusts (the default, also for no ``kind``) get
    the shared :func:`assessment`. ``None`` when no organisation of the kind has data to assess."""
    return _kinds_assessment(engine, user, (kind,) if kind else AssessConfig().kinds)


def _kinds_assessment(engine, user, kinds: tuple[str, ...]):
    """Every organisation of ``kinds`` assessed among themselves, cached per data version, viewer scope and kinds
    (explicit kinds win over any organisation's own, so one entry serves the kind's pages and the system page);
    the shared :func:`assessment` for the default (acute trusts)."""
    from partnering.measure.own_kind import assess_own_kind

    kinds = tuple(kinds)
    if kinds == tuple(AssessConfig().kinds):
        return assessment(engine, user)

    def compute():
        try:
            return assess_own_kind(engine, None, kinds, **user.scope())
        except NotFoundError:
            return None

    return cached(engine, "assessment", user, compute, kinds)


def require_org_assessment(engine, user, code: str):
    """:func:`org_assessment`; :class:`~partnering.errors.NotFoundError` when there is none, and (from
    ``Assessment.org``) when the organisation is not in it."""
    a = org_assessment(engine, user, code)
    if a is None:
        raise NotFoundError("nothing to assess: load data first")
    a.org(code)
    return a


def require_assessment(engine, user):
    """The cached assessment; :class:`~partnering.errors.NotFoundError` when nothing is loaded to assess."""
    a = assessment(engine, user)
    if a is None:
        raise NotFoundError("nothing to assess: load data first")
    return a


def summary_table(engine, user, kind: str | None = None) -> pd.DataFrame:
    """One row per assessed organisation: flags plus the variation/assurance icon of each key metric; of acute
    trusts by default, else of ``kind`` assessed among its own kind (:func:`kind_assessment`)."""
    kinds = (kind,) if kind else AssessConfig().kinds

    def compute():
        a = kind_assessment(engine, user, kind)
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

    if kinds == AssessConfig().kinds:
        return cached(engine, "summary", user, compute)
    return cached(engine, "summary", user, compute, kinds)


def _org_spc(engine, user, code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(points, icons) of every SPC series of one organisation the user may see.

    The assessment's points for the indicators it covers; then SPC over the organisation's other visible
    indicators (its own KPIs and any catalogue indicator the assessment does not cover), each over its last
    ``spc_months`` months, with the catalogue's direction and standard or, for an indicator the catalogue does
    not know, a neutral direction and no target, and any rebase recorded for them (as the assessment's).
    Breakdown series (codes with ``:``) are left out, as in the
    assessment.
    """
    def compute():
        a = org_assessment(engine, user, code)
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
                    pts, ic = spc_for_frame(rest, with_icons=True, rebases=rebases_by_series(engine, [code]))
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
    """The organisation's icon table from its assessment among its own kind (:func:`org_assessment`)."""
    a = org_assessment(engine, user, code)
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


def spc_for_frame(obs: pd.DataFrame, with_icons: bool = False, rebases: dict | None = None):
    """SPC for observations (org_code, indicator, period, value): :func:`partnering.measure.assess.spc_for_frame`
    (month grid, the catalogue's directions and standards).  Points, or (points, icons)."""
    from partnering.measure.assess import spc_for_frame as library_spc_for_frame

    return library_spc_for_frame(obs, with_icons=with_icons, rebases=rebases)


def spc_series(frame: pd.DataFrame, improvement_direction: str = "increase", target=None, chart: str = "xmr"):
    """SPC of one user-supplied series (``x``, ``y`` columns): points and icons."""
    data = frame.assign(series="series")
    res = run_spc(data, improvement_direction=improvement_direction, target=target, chart=chart)
    return res.points.drop(columns="series"), res.icons.drop(columns="series")


# ------------------------------------------------------------------------------------------------ matching


def match_inputs(engine, user):
    """``match.service.match_inputs`` over the cached assessment, cached per data version and scope."""
    a = assessment(engine, user)
    if a is None:
        return None
    return cached(engine, "match_inputs", user, lambda: match_service.match_inputs(engine, assessment=a))


def org_match_inputs(engine, user, code: str):
    """``match.service.match_inputs`` for ``code``'s own kind over :func:`org_assessment` (as ``partnering partners``
    builds them: an ambulance trust's candidates are the ambulance trusts assessed among their kind), cached per
    data version, scope and kind; acute trusts get the shared :func:`match_inputs`. ``None`` when nothing of the
    kind is assessed."""
    from partnering.measure.own_kind import own_kinds

    kinds = own_kinds(engine, code)
    if kinds == AssessConfig().kinds:
        return match_inputs(engine, user)
    a = org_assessment(engine, user, code)
    if a is None:
        return None
    return cached(engine, "match_inputs", user,
                  lambda: match_service.match_inputs(engine, assessment=a, kind=kinds[0]), kinds)


def peers(engine, user, code: str) -> pd.DataFrame:
    """Similar organisations with a reason each: org_code, peer_code, peer_code_name, rank, similarity, reason.

    Empty when the organisation has no context to compare on. Outside acute trusts, peers are drawn from the
    organisations of the kind that have data to assess (:func:`match.service.assessed_context`), so that an
    organisation absent from the kind's data (the Welsh ambulance trust in AmbSYS) is not offered."""
    def compute():
        org = org_row(engine, code)
        inp = match_inputs(engine, user) if org["kind"] == "acute_trust" else None
        kwargs = {"assessment": assessment(engine, user)}
        if inp is not None and code in inp.extra["context"].index:
            kwargs["context"] = inp.extra["context"]
        elif inp is None and (a := org_assessment(engine, user, code)) is not None:
            ctx = match_service.assessed_context(engine, org["kind"], a, code)
            if ctx is None:  # no variable to compare it on among its kind: no peers, not similarity 1.00 to all
                return pd.DataFrame()
            kwargs = {"assessment": a, "context": ctx}
        try:
            df = match_service.peers_for(engine, code, **kwargs)
        except (NotFoundError, ValidationError):  # nothing to compare this organisation on
            return pd.DataFrame()
        df = df.rename(columns={"explanation": "reason"})
        return _named(engine, df, "peer_code")

    return cached(engine, "peers", user, compute, code)


def partner_candidates(engine, user, code: str,
                       max_minutes: float | None = match_service.DEFAULT_MAX_MINUTES) -> pd.DataFrame:
    """Candidate partners with reasons, best first (``match.service.partner_candidates``), within ``max_minutes``
    by road (the plan's default travel limit unless given; None = no limit).

    Raises :class:`~partnering.errors.NotFoundError` saying why when there can be none: nothing is assessed yet,
    or the organisation is not among those assessed."""
    def compute():
        kind = org_row(engine, code)["kind"]
        if isinstance(kind, str) and kind not in match_service.NHS_TRUST_KINDS:  # as ``partnering partners``
            raise NotFoundError(match_service.not_a_trust(code.upper(), kind))
        inp = org_match_inputs(engine, user, code)  # among its own kind, as ``partnering partners``
        if inp is None:
            raise NotFoundError("nothing is assessed yet (load data first)")
        return match_service.partner_candidates(engine, code, inputs=inp, max_minutes=max_minutes)

    return cached(engine, "partners", user, compute, code, max_minutes)


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
    max_travel_minutes: float | None = match_service.DEFAULT_MAX_MINUTES
    forbidden: tuple[tuple[str, str], ...] = ()
    required: tuple[tuple[str, str], ...] = ()
    #: the library's default: the score of a candidate that brings nothing (docs/methods/buddying-plan.md)
    min_suitability: float = match_service.DEFAULT_MIN_SUITABILITY

    def validate(self) -> None:
        if not 1 <= self.capacity <= 20:
            raise ValidationError("capacity must be a whole number from 1 to 20")
        if self.max_travel_minutes is not None and not 0 < self.max_travel_minutes <= 600:
            raise ValidationError("maximum travel time must be between 1 and 600 minutes")
        if not 0 <= self.min_suitability <= 100:
            raise ValidationError("minimum suitability must be a number from 0 to 100")


@dataclass
class PlanResult:
    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    solver: str
    proven_optimal: bool
    notes: list[str]
    params: PlanParams
    #: one line per pair for the map, from the service: recipient, supporter, ``from``/``to`` {lat, lon}
    map_lines: list[dict]
    #: what the travel minutes rest on: loaded road matrices and the drive-time model's fit (``PlanResult.travel``)
    travel: dict
    #: registered partnerships the plan held fixed (``PlanResult.existing``)
    existing: pd.DataFrame


def buddying_plan(engine, user, params: PlanParams) -> PlanResult:
    """The optimal plan of ``match.service.buddying_plan`` over the cached inputs, cached per parameters."""
    params.validate()

    def compute():
        inp = match_inputs(engine, user)
        if inp is None:
            raise NotFoundError("nothing to plan: load data first")
        res = match_service.buddying_plan(engine, capacity=params.capacity, max_minutes=params.max_travel_minutes,
                                          required=list(params.required), forbidden=list(params.forbidden),
                                          inputs=inp, min_suitability=params.min_suitability)
        pairs = _named(engine, _named(engine, res.pairs, "recipient"), "supporter")
        unmatched = _named(engine, res.unmatched, "recipient")
        existing = res.existing if res.existing is not None else pd.DataFrame()
        if not existing.empty:
            existing = _named(engine, _named(engine, existing, "recipient"), "supporter")
        return PlanResult(pairs, unmatched, res.solver, bool(res.proven_optimal),
                          list(getattr(res, "notes", []) or []), params, list(res.map_lines),
                          dict(res.travel or {}), existing)

    return cached(engine, "plan", user, compute, params.capacity, params.max_travel_minutes, params.forbidden,
                  params.required, params.min_suitability)


# ------------------------------------------------------------------------------------------------ batches


def batches(engine, user, limit: int | None = None) -> pd.DataFrame:
    """Import history the user may see: published batches, their organisation's own, or all (admins)."""
    return repo.batches_frame(engine, limit, **user.scope())


def batch(engine, user, batch_id: int) -> dict:
    df = batches(engine, user)
    hit = df[df["id"] == batch_id] if not df.empty else df
    if hit.empty:
        raise NotFoundError(f"no import batch {batch_id}")
    # missing cells as None, never NaN: a page shows "–" for them, not "nan" (issue #9.6)
    return {k: (None if _missing(v) else v) for k, v in hit.iloc[0].to_dict().items()}


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def publish_preview(engine, user, batch_id: int) -> pd.DataFrame:
    """Each value of an upload beside the published value publishing it would supersede
    (:func:`partnering.store.repository.publish_preview`), organisation names added."""
    batch(engine, user, batch_id)  # 404 for a batch this user may not see
    return _named(engine, repo.publish_preview(engine, batch_id), "org_code")


def rejected(engine, user, batch_id: int) -> pd.DataFrame:
    batch(engine, user, batch_id)  # raises when not visible
    return repo.rejected_frame(engine, batch_id)
