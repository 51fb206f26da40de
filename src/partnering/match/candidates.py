"""Partner suitability: a weighted 0-100 score for (organisation in difficulty, candidate supporter) pairs.

Pure functions over plain frames; :mod:`partnering.match.service` reads the store and calls them. Method, weights
and their sources are written up in ``docs/methods/partner-matching.md``. In short::

    score = 100 * sum_c w_c * component_c          (components in [0, 1], weights sum to 1)

components: ``capability`` where the recipient is weak, ``track_record``, ``similarity`` (peer distance),
``proximity`` (drive time), ``spare_capacity`` (current partnerships) and ``kind_fit`` (what kind of partner the
recipient's needs call for). Every component is computed for all pairs at once as numpy arrays
(recipients x candidates x indicators); sentences are written only for the rows a caller shows.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import NotFoundError, ValidationError
from partnering.indicators.catalogue import format_value

__all__ = [
    "CATALOGUE_KINDS",
    "DEFAULT_WEIGHTS",
    "NHS_TRUST_KINDS",
    "WEIGHT_SOURCES",
    "MatchInputs",
    "SuitabilityWeights",
    "explain_pairs",
    "load_catalogue",
    "score_pairs",
]

NHS_TRUST_KINDS = ("acute_trust", "specialist_trust", "mental_health_trust", "community_trust", "ambulance_trust",
                   "trust")
CATALOGUE_KINDS = ("independent_provider", "university", "technology_partner", "consultancy", "improvement_partner")
METHOD_KINDS = ("university", "technology_partner", "consultancy", "improvement_partner")


@dataclass(frozen=True)
class SuitabilityWeights:
    """Weights of the suitability components (normalised to sum 1). Rationale in :data:`WEIGHT_SOURCES`."""

    capability: float = 35.0
    track_record: float = 15.0
    similarity: float = 15.0
    proximity: float = 20.0
    spare_capacity: float = 10.0
    kind_fit: float = 5.0

    def normalised(self) -> dict[str, float]:
        w = {k: float(getattr(self, k)) for k in COMPONENTS}
        if any(not np.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise ValidationError("suitability weights must be finite, non-negative and not all zero")
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}


COMPONENTS = ("capability", "track_record", "similarity", "proximity", "spare_capacity", "kind_fit")
DEFAULT_WEIGHTS = SuitabilityWeights()

WEIGHT_SOURCES: dict[str, str] = {
    "capability": (
        "35 (largest): buddies are chosen as high performers able to help where the recipient is failing "
        "(special measures buddying with high-performing foundation trusts, NHS Providers 2014; the Recovery "
        "Support Programme tailors support to the underlying concerns, NHS England board paper 5 Dec 2024). "
        "The size of the weight is judgement."
    ),
    "track_record": (
        "15: a sustained record, not one good month (Dalton review 2014 on credentialing providers to take on "
        "more; King's Fund supporting paper 'Credentialising providers'). Size is judgement."
    ),
    "similarity": (
        "15: buddying worked best with 'a shared understanding of the local challenges and cost drivers' "
        "(NHS Providers, 'Special measures: reflections one year on', 2014). Size is judgement."
    ),
    "proximity": (
        "20: support is largely in person (clinical and managerial staff visiting); judgement. Dalton 2014 notes "
        "non-geographical chains are possible, so distance informs but does not decide."
    ),
    "spare_capacity": (
        "10: a buddy must not endanger its own services (buddying agreements let the buddy withdraw if support "
        "impedes its own statutory duties, e.g. DAC Beachcroft 'Super Buddy' case study); judgement."
    ),
    "kind_fit": (
        "5: NHS trusts for buddying and management contracts (Dalton 2014), independent providers for capacity, "
        "universities/technology/improvement partners for method and tools; judgement."
    ),
}

# Judgement constants (documented in docs/methods/partner-matching.md)
TRAVEL_SCALE_MINUTES = 180.0  # proximity falls linearly to 0 at 3 hours' drive (a day trip and back)
REMOTE_TRAVEL_SCALE_MINUTES = 360.0  # method/tools partners work largely remotely: distance matters half as much
NO_CONTEXT_SIMILARITY = 0.5  # a non-NHS partner has no comparable context: neutral, neither similar nor not
CATALOGUE_CAPABILITY = 0.5  # an offer that matches a need, unevidenced by performance data: half credit
TWO_WAY_MIN_GAP = 0.25  # the recipient is at least a quartile better than the candidate on an indicator
STRENGTH_PARTS = (0.6, 0.2, 0.2)  # months in top quartile, no special-cause concern, meets the standard

ELECTIVE_OFFERS = ("elective", "diagnostic", "endoscopy", "orthopaedic", "ophthalmology", "day-case", "surgery")
KIND_WORDS = {
    "acute_trust": "acute trust",
    "specialist_trust": "specialist trust",
    "mental_health_trust": "mental health trust",
    "community_trust": "community trust",
    "ambulance_trust": "ambulance trust",
    "other_provider": "other provider",
    "independent_provider": "independent-sector provider",
    "university": "university",
    "technology_partner": "technology partner",
    "consultancy": "consultancy",
    "improvement_partner": "improvement partner",
}


def kind_words(kind) -> str:
    """A kind of organisation in words for people, capitalised: ``acute_trust`` -> "Acute trust"."""
    text = KIND_WORDS.get(str(kind), str(kind or "").replace("_", " "))
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------- catalogue


def load_catalogue(source) -> pd.DataFrame:
    """A partner catalogue (CSV or TOML file, or a DataFrame): ``org_code, name, kind, offers, capacity, contact``.

    TOML: an array of tables ``[[partner]]`` with the same keys. ``capacity`` (how many organisations the partner
    can support at once) defaults to 1; ``latitude``/``longitude``/``postcode`` are optional (else the store's).
    """
    if source is None:
        return pd.DataFrame(columns=["org_code", "name", "kind", "offers", "capacity", "contact"])
    name = "catalogue"
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        p = Path(source)
        name = str(p)
        if not p.is_file():
            raise NotFoundError(f"partner catalogue {p} does not exist")
        text = p.read_text(encoding="utf-8-sig")
        if p.suffix.lower() == ".toml":
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ValidationError(f"{p}: not valid TOML ({exc})") from exc
            rows = data.get("partner") or data.get("partners")
            if not isinstance(rows, list):
                raise ValidationError(f"{p}: expected an array of [[partner]] tables")
            df = pd.DataFrame(rows)
        else:
            try:
                df = pd.read_csv(io.StringIO(text), dtype={"org_code": str})
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise ValidationError(f"{p}: not a readable CSV ({exc})") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = {"org_code", "name", "kind"} - set(df.columns)
    if missing:
        raise ValidationError(f"{name}: partner catalogue lacks columns {sorted(missing)}")
    df["org_code"] = df["org_code"].astype(str).str.strip().str.upper()
    df["kind"] = df["kind"].astype(str).str.strip()
    bad = df.loc[~df["kind"].isin(CATALOGUE_KINDS + NHS_TRUST_KINDS), "kind"].unique().tolist()
    if bad:
        raise ValidationError(f"{name}: unknown partner kind(s) {bad}; use one of {', '.join(CATALOGUE_KINDS)}")
    if df["org_code"].duplicated().any():
        raise ValidationError(f"{name}: org_code repeated: {df.loc[df['org_code'].duplicated(), 'org_code'].tolist()}")
    df["offers"] = df["offers"].fillna("").astype(str) if "offers" in df else ""
    cap = pd.to_numeric(df["capacity"], errors="coerce") if "capacity" in df else pd.Series(1.0, index=df.index)
    if (cap.dropna() < 0).any() or (cap.dropna() != cap.dropna().round()).any():
        raise ValidationError(f"{name}: capacity must be a whole number >= 0")
    df["capacity"] = cap.fillna(1).astype(int)
    if "contact" not in df:
        df["contact"] = ""
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- inputs


@dataclass
class MatchInputs:
    """Everything the scoring needs, as plain frames (built once per request by the service).

    ``orgs``: index org_code; name, kind, latitude, longitude. ``perf``: per indicator, an (orgs x indicators)
    frame of each standing/icon measure (see :func:`performance_arrays`). ``in_difficulty``/``track_record``: sets.
    ``similarity``: (recipient, supporter) -> similarity for NHS pairs. ``loads``: supporter -> list of recipients
    it supports now. ``catalogue``: from :func:`load_catalogue`. ``travel``: a callable(recipients, supporters)
    -> (minutes, km, from_matrix) arrays.
    """

    orgs: pd.DataFrame
    perf: dict[str, pd.DataFrame]
    indicators: pd.DataFrame  # index indicator: name, unit, improvement_direction
    in_difficulty: set[str]
    track_record: set[str]
    similarity: pd.DataFrame  # index recipient, columns supporter
    loads: dict[str, list[str]]
    catalogue: pd.DataFrame
    travel: object
    track_window: int = 24
    nhs_kind: str = "acute_trust"
    extra: dict = field(default_factory=dict)


def performance_arrays(
    standing: pd.DataFrame, icons: pd.DataFrame, good_practice: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Wide (org x indicator) frames of the measures the score and reasons use, for comparable indicators.

    ``good_practice`` (the assessment's, for organisations in difficulty) adds ``gp_percentile`` = the share of
    trusts it beat over the good-practice window, as a percentile (0 best), and ``gp_better_than``/``gp_n_peers``.
    """
    inds = sorted(standing["indicator"].unique())
    cols = ["latest_percentile", "latest_rank", "latest_n", "latest_value", "latest_period",
            "months_top_quartile", "months_scored", "top_quartile_streak", "mean_value"]
    wide = standing.pivot(index="org_code", columns="indicator", values=cols)
    present = set(wide.columns.get_level_values(0)) if len(wide.columns) else set()
    # a store with no comparable indicator (only counts, say) gives empty frames, not a KeyError
    perf = {col: (wide[col] if col in present else pd.DataFrame(index=wide.index)).reindex(columns=inds)
            for col in cols}
    ic = icons[icons["indicator"].isin(inds)].set_index(["org_code", "indicator"])
    concern = ic["variation_icon"].astype(str).str.startswith("concern") | (ic["point_type"] == "special_cause_concern")
    perf["concern"] = concern.unstack("indicator").reindex(columns=inds)
    direction = ic["improvement_direction"]
    latest, target = ic["latest_value"].astype(float), ic["target"].astype(float)
    meets = np.where(direction == "increase", latest >= target, latest <= target).astype(float)
    meets[np.isnan(target.to_numpy()) | np.isnan(latest.to_numpy())] = np.nan
    perf["meets_standard"] = pd.Series(meets, index=ic.index).unstack("indicator").reindex(columns=inds)
    perf["target"] = target.unstack("indicator").reindex(columns=inds)
    gp = good_practice if good_practice is not None else pd.DataFrame()
    gp = gp[gp["indicator"].isin(inds)] if len(gp) else gp
    if len(gp):
        gp = gp.drop_duplicates(["org_code", "indicator"]).set_index(["org_code", "indicator"])
        share = gp["better_than"].astype(float) / gp["n_peers"].astype(float)
        perf["gp_percentile"] = (1.0 - share).unstack("indicator").reindex(columns=inds)
        perf["gp_better_than"] = gp["better_than"].unstack("indicator").reindex(columns=inds)
        perf["gp_n_peers"] = gp["n_peers"].unstack("indicator").reindex(columns=inds)
    else:
        for k in ("gp_percentile", "gp_better_than", "gp_n_peers"):
            perf[k] = pd.DataFrame(columns=inds, dtype=float)
    meta = (
        icons[icons["indicator"].isin(inds)]
        .drop_duplicates("indicator")
        .set_index("indicator")[["indicator_name", "unit", "improvement_direction"]]
        .reindex(inds)
    )
    return perf, meta


def _mat(perf: dict[str, pd.DataFrame], key: str, codes: list[str], dtype=float) -> np.ndarray:
    return perf[key].reindex(index=codes).to_numpy(dtype=dtype, na_value=np.nan)


# ---------------------------------------------------------------------------------------------- scoring


def score_pairs(
    inp: MatchInputs,
    recipients: list[str],
    candidates: list[str],
    weights: SuitabilityWeights = DEFAULT_WEIGHTS,
) -> pd.DataFrame:
    """Suitability of every (recipient, candidate) pair; one row per pair (self-pairs dropped).

    Columns: recipient, supporter, supporter_kind, score (0-100), one column per component, the weighted points
    of each component (``pts_<component>``), travel_minutes, distance_km, travel_from_matrix, current_load,
    best_indicator (the weak indicator where the candidate helps most), learn_back_indicator (two-way learning,
    '' if none) and their gaps.
    """
    w = weights.normalised()
    R, C = len(recipients), len(candidates)
    if R == 0 or C == 0:  # nobody to pair: the same columns, no rows
        return pd.DataFrame(columns=pair_columns())
    kinds = inp.orgs["kind"].reindex(candidates).fillna("other_provider").to_numpy(dtype=object)
    cat = inp.catalogue.set_index("org_code") if len(inp.catalogue) else None
    if cat is not None:
        in_cat = pd.Index(candidates).isin(cat.index)
        kinds = np.where(in_cat, cat["kind"].reindex(candidates).to_numpy(dtype=object), kinds)
    is_nhs = np.isin(kinds, NHS_TRUST_KINDS)
    is_method = np.isin(kinds, METHOD_KINDS)

    # --- capability where weak (R x C x I)
    pr = _mat(inp.perf, "latest_percentile", recipients)  # R x I, 0 = best
    pc = _mat(inp.perf, "latest_percentile", candidates)  # C x I
    conc_r = _mat(inp.perf, "concern", recipients) == 1
    conc_c = _mat(inp.perf, "concern", candidates) == 1
    meets_r = _mat(inp.perf, "meets_standard", recipients)
    meets_c = _mat(inp.perf, "meets_standard", candidates)
    mtq_c = _mat(inp.perf, "months_top_quartile", candidates)
    ms_c = _mat(inp.perf, "months_scored", candidates)
    failing_r = meets_r == 0
    weak = (pr >= 0.5) | conc_r | failing_r
    omega = np.where(weak, np.fmax(np.nan_to_num(pr, nan=0.5), 0.5), 0.0)  # R x I: how weak
    a, b, c = STRENGTH_PARTS
    sustained = np.where(ms_c > 0, mtq_c / np.where(ms_c > 0, ms_c, 1), 0.0)
    standard = np.where(np.isnan(meets_c), 1.0 - np.nan_to_num(pc, nan=1.0), np.nan_to_num(meets_c))
    strength = a * np.nan_to_num(sustained) + b * (~conc_c) + c * standard  # C x I
    strength = np.where(np.isnan(pc), 0.0, strength)
    better = pc[None, :, :] < np.where(np.isnan(pr), np.inf, pr)[:, None, :]  # R x C x I
    helped = omega[:, None, :] * strength[None, :, :] * better
    om_sum = omega.sum(axis=1)  # R
    general = strength.mean(axis=1) if strength.shape[1] else np.zeros(C)  # no weakness: overall strength
    capability = np.where(
        om_sum[:, None] > 0, helped.sum(axis=2) / np.where(om_sum > 0, om_sum, 1)[:, None], general[None, :]
    )
    n_ind = helped.shape[2]
    best_i = helped.argmax(axis=2) if n_ind else np.zeros((R, C), dtype=int)
    best_val = helped.max(axis=2) if n_ind else np.zeros((R, C))

    # needs of each recipient, from the indicators it is weak on
    inds = list(inp.indicators.index)
    is_rtt = np.array([i.startswith("rtt_") for i in inds], dtype=bool)
    need_elective = (weak & is_rtt[None, :]).any(axis=1) if n_ind else np.zeros(R, dtype=bool)

    # catalogue partners: capability from offers that match a need (no performance data)
    offers = (
        cat["offers"].reindex(candidates).fillna("").str.lower().to_numpy(dtype=object)
        if cat is not None
        else np.full(C, "", dtype=object)
    )
    elective_offer = np.array([any(k in str(o) for k in ELECTIVE_OFFERS) for o in offers], dtype=bool)
    method_offer = np.array([bool(str(o).strip()) for o in offers], dtype=bool)
    indep = kinds == "independent_provider"
    cat_cap = np.where(
        indep[None, :],
        CATALOGUE_CAPABILITY * (elective_offer[None, :] & need_elective[:, None]),
        CATALOGUE_CAPABILITY * (is_method & method_offer)[None, :],
    )
    capability = np.where(is_nhs[None, :], capability, cat_cap)
    best_val = np.where(is_nhs[None, :], best_val, 0.0)

    # --- track record
    track = np.isin(np.asarray(candidates, dtype=object), list(inp.track_record)).astype(float)
    track = np.broadcast_to(track[None, :], (R, C))

    # --- similarity (NHS pairs from find_peers; others neutral)
    sim = inp.similarity.reindex(index=recipients, columns=candidates).to_numpy(dtype=float, na_value=np.nan)
    similarity = np.where(is_nhs[None, :], np.nan_to_num(sim, nan=0.0), NO_CONTEXT_SIMILARITY)

    # --- travel and proximity
    minutes, km, from_matrix = inp.travel(recipients, candidates)
    scale = np.where(is_method, REMOTE_TRAVEL_SCALE_MINUTES, TRAVEL_SCALE_MINUTES)[None, :]
    proximity = np.clip(1.0 - minutes / scale, 0.0, 1.0)
    proximity = np.where(np.isnan(minutes), np.where(is_method, 0.5, 0.0)[None, :], proximity)

    # --- spare capacity from registered partnerships
    load = np.array([len(inp.loads.get(s, [])) for s in candidates], dtype=float)
    cap = (
        cat["capacity"].reindex(candidates).to_numpy(dtype=float, na_value=np.nan)
        if cat is not None
        else np.full(C, np.nan)
    )
    spare = np.where(np.isnan(cap), 1.0 / (1.0 + load), np.clip((cap - load) / np.where(cap > 0, cap, 1), 0, 1))
    spare = np.where(cap == 0, 0.0, spare)
    spare = np.broadcast_to(spare[None, :], (R, C))

    # --- kind fit
    same_nhs = kinds == inp.nhs_kind
    fit = np.select(
        [same_nhs, is_nhs, kinds == "consultancy", is_method],
        [1.0, 0.6, 0.5, 0.7],
        default=0.3,
    )
    fit = np.broadcast_to(fit[None, :], (R, C)).copy()
    fit[:, indep] = np.where(need_elective[:, None] & elective_offer[None, indep], 1.0, 0.3)

    comps = {
        "capability": capability,
        "track_record": track,
        "similarity": similarity,
        "proximity": proximity,
        "spare_capacity": spare,
        "kind_fit": fit,
    }
    score = sum(100.0 * w[k] * comps[k] for k in COMPONENTS)

    # --- two-way learning: where the recipient is a quartile or more better than the candidate, judged on its
    # latest month or on its good practice over the assessment's window (whichever is better), and the candidate
    # is also worse in the latest month
    gp_r = _mat(inp.perf, "gp_percentile", recipients)
    pr_learn = np.fmin(pr, gp_r)
    gap = pc[None, :, :] - pr_learn[:, None, :]
    ok = (pr_learn[:, None, :] <= 0.5) & np.isfinite(gap) & (pc[None, :, :] > pr[:, None, :])
    gap = np.where(ok, gap, -np.inf)
    lb_i = gap.argmax(axis=2) if n_ind else np.zeros((R, C), dtype=int)
    lb_gap = gap.max(axis=2) if n_ind else np.full((R, C), -np.inf)
    has_lb = (lb_gap >= TWO_WAY_MIN_GAP) & is_nhs[None, :]

    rr, cc = np.meshgrid(np.arange(R), np.arange(C), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    rec_arr = np.asarray(recipients, dtype=object)
    sup_arr = np.asarray(candidates, dtype=object)
    ind_arr = np.asarray(inds + [""], dtype=object)
    out = pd.DataFrame(
        {
            "recipient": rec_arr[rr],
            "supporter": sup_arr[cc],
            "supporter_kind": kinds[cc],
            "score": score.ravel(),
        }
    )
    for k in COMPONENTS:
        out[k] = comps[k].ravel()
    for k in COMPONENTS:
        out[f"pts_{k}"] = 100.0 * w[k] * comps[k].ravel()
    out["travel_minutes"] = minutes.ravel()
    out["distance_km"] = km.ravel()
    out["travel_from_matrix"] = from_matrix.ravel()
    out["current_load"] = load[cc].astype(int)
    out["best_indicator"] = np.where(best_val.ravel() > 0, ind_arr[best_i.ravel()], "")
    out["learn_back_indicator"] = np.where(has_lb.ravel(), ind_arr[lb_i.ravel()], "")
    out["learn_back_gap"] = np.where(has_lb.ravel(), lb_gap.ravel(), np.nan)
    out = out[out["recipient"] != out["supporter"]]
    return out[pair_columns()].reset_index(drop=True)


def pair_columns() -> list[str]:
    """The columns of :func:`score_pairs`, in order (also those of its empty answer)."""
    return ["recipient", "supporter", "supporter_kind", "score", *COMPONENTS, *(f"pts_{k}" for k in COMPONENTS),
            "travel_minutes", "distance_km", "travel_from_matrix", "current_load", "best_indicator",
            "learn_back_indicator", "learn_back_gap"]


# ---------------------------------------------------------------------------------------------- explanations


def ordinal(n) -> str:
    """``1st``, ``2nd`` ... A tied (average) rank such as 77.5 is shown at its whole part (77th), a position the
    tie covers (the ranks come from ``rank(method="average")`` in ``measure.segment``)."""
    n = int(np.floor(float(n) + 1e-9))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


fmt_value = format_value


def _num(perf, key, org, ind):
    try:
        v = perf[key].at[org, ind]
    except KeyError:
        return np.nan
    return v


def _travel_words(minutes: float, km: float, from_matrix: bool) -> str:
    if minutes is None or pd.isna(minutes):
        return "location not known"
    how = "road travel-time matrix" if from_matrix else "estimated drive"
    return f"{minutes:.0f} minutes away ({km:.0f} km, {how})"


def _load_words(sup: str, loads: dict[str, list[str]]) -> str:
    who = loads.get(sup, [])
    if not who:
        return "supporting nobody yet"
    return f"already supporting {len(who)} ({', '.join(who[:3])}{'…' if len(who) > 3 else ''})"


def stale_families(inp: MatchInputs) -> dict[str, tuple[str, str]]:
    """``{family: (family name, last month)}`` of the stale families of data (``measure.freshness``) in the
    assessment the inputs come from; empty when it does not say."""
    fresh = inp.extra.get("freshness")
    if fresh is None and inp.extra.get("assessment") is not None:
        fresh = getattr(inp.extra["assessment"], "freshness", None)
    if fresh is None or len(fresh) == 0:
        return {}
    st = fresh[fresh["stale"].astype(bool)]
    return {r.family: (r.family_name, r.latest_period) for r in st.itertuples()}


def _stale_words(ind: str, stale: dict[str, tuple[str, str]]) -> str:
    """", RTT data end in 2025-03" where ``ind`` belongs to a stale family, else ""."""
    if not stale or not ind:
        return ""
    from partnering.measure.freshness import family_of

    fam = family_of(str(ind).split(":", 1)[0])
    if fam not in stale:
        return ""
    name, last = stale[fam]
    return f"; {name} data end in {last}"


def _month(per) -> str:
    return "" if per is None or (isinstance(per, float) and np.isnan(per)) else str(per)


def explain_pairs(pairs: pd.DataFrame, inp: MatchInputs) -> pd.DataFrame:
    """Add ``reason`` and ``two_way_learning`` sentences (built from the numbers in ``inp``) to scored pairs.

    No reason silently rests on stale data or mixes months (issue #9.4): a measure of a stale family says where
    its data end ("RTT data end in 2025-03"), and where the two organisations' figures come from different months
    each month is named.
    """
    perf, meta, orgs = inp.perf, inp.indicators, inp.orgs
    names = orgs["name"] if "name" in orgs else pd.Series(dtype=object)
    cat = inp.catalogue.set_index("org_code") if len(inp.catalogue) else None
    stale = stale_families(inp)
    reasons, learn = [], []
    for row in pairs.itertuples(index=False):
        rec, sup = row.recipient, row.supporter
        bits = []
        if row.supporter_kind in NHS_TRUST_KINDS:
            ind = row.best_indicator
            if ind:
                m = meta.loc[ind]
                rank, n = _num(perf, "latest_rank", sup, ind), _num(perf, "latest_n", sup, ind)
                val, per = _num(perf, "latest_value", sup, ind), _num(perf, "latest_period", sup, ind)
                mtq, ms = _num(perf, "months_top_quartile", sup, ind), _num(perf, "months_scored", sup, ind)
                rrank, rper = _num(perf, "latest_rank", rec, ind), _month(_num(perf, "latest_period", rec, ind))
                what = f"{m['indicator_name']} ({fmt_value(val, m['unit'])} in {per}"
                text = f"{ordinal(rank)} of {int(n)} trusts on {what}"
                if pd.notna(rrank):
                    text += f"; {rec} is {ordinal(rrank)}" + (f" in {rper}" if rper and rper != _month(per) else "")
                text += _stale_words(ind, stale) + ")"
                if pd.notna(mtq) and mtq > 0:
                    text += f", in the top quartile {int(mtq)} of the last {int(ms)} months"
                bits.append(text)
            else:
                bits.append(f"no better than {rec} on the measures where {rec} is weak")
            if sup in inp.track_record:
                bits.append("a track record of high performance")
            bits.append(_travel_words(row.travel_minutes, row.distance_km, row.travel_from_matrix))
            bits.append(_load_words(sup, inp.loads))
            if row.similarity > 0:
                bits.append(f"catchment and size similarity {row.similarity:.2f} (0 to 1)")
        else:
            kind = KIND_WORDS.get(row.supporter_kind, row.supporter_kind.replace("_", " "))
            offers = str(cat["offers"].get(sup, "")) if cat is not None else ""
            bits.append(f"{kind} offering {offers}" if offers else kind)
            if row.capability > 0:
                need = "elective capacity" if row.supporter_kind == "independent_provider" else "method and tools"
                bits.append(f"matches {rec}'s need for {need}")
            bits.append(_travel_words(row.travel_minutes, row.distance_km, row.travel_from_matrix))
            capn = int(cat["capacity"].get(sup, 1)) if cat is not None else 1
            bits.append(f"capacity {capn}, {_load_words(sup, inp.loads)}")
            bits.append("no performance data in the store (capability from the catalogue's offers)")
        reasons.append("; ".join(bits))
        ind = row.learn_back_indicator
        if ind:
            m = meta.loc[ind]
            rv, sv = _num(perf, "latest_value", rec, ind), _num(perf, "latest_value", sup, ind)
            rr, sr = _num(perf, "latest_rank", rec, ind), _num(perf, "latest_rank", sup, ind)
            rp, sp = _month(_num(perf, "latest_period", rec, ind)), _month(_num(perf, "latest_period", sup, ind))
            both = rp and sp and rp != sp  # different months: say which
            n = _num(perf, "latest_n", rec, ind)
            rn = names.get(rec, rec)
            gb, gn = _num(perf, "gp_better_than", rec, ind), _num(perf, "gp_n_peers", rec, ind)
            gp_words = f"; better than {int(gb)} of {int(gn)} trusts over the last year" if pd.notna(gb) else ""
            learn.append(
                f"Two-way: {rec} ({rn}) does better on {m['indicator_name']} ({fmt_value(rv, m['unit'])}"
                f"{f' in {rp}' if both else ''}, {ordinal(rr)} of {int(n)}{gp_words}) than {sup} "
                f"({fmt_value(sv, m['unit'])}{f' in {sp}' if both else ''}, {ordinal(sr)}"
                f"{_stale_words(ind, stale)}); learning can flow back."
            )
        else:
            learn.append("")
    out = pairs.copy()
    out["reason"] = reasons
    out["two_way_learning"] = learn
    return out
