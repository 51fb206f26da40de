"""A seeded synthetic NHS: organisations, sites, GP practices, context and monthly indicators.

Everything produced here is SYNTHETIC DEMONSTRATION DATA. Organisation codes cannot collide with real ODS codes
(ICBs ``QX01``.., NHS trusts ``Z??``, independent sector and other partners ``X??``, GP practices ``Z`` + 5
digits, postcodes ``ZZ..``); every name ends "(synthetic)" or starts "Synthetic"; every organisation row has
``synthetic = True``. Only the geography is real: ICB population-weighted centres and region membership come from
ONS data baked into ``icb_centres.csv`` (see ``build_icb_centres.py``).

The design (profiles, variation, levels and their sources) is written up in ``docs/demo-system.md``. All random
draws come from one ``numpy.random.Generator`` seeded by ``seed``, in a fixed order, so a seed gives identical
tables on every machine with the same numpy major version.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from partnering.errors import ConfigError
from partnering.store.models import ORG_KINDS

LABEL = "SYNTHETIC DEMONSTRATION DATA — not real NHS organisations or performance"
SOURCE = "synthetic demo"

# every organisation kind the store knows except the two placeholders for codes seen only in a file
# (specialist trusts are not simulated)
KINDS = tuple(k for k in ORG_KINDS if k not in ("trust", "other_provider", "specialist_trust"))

# Real NHS England region ODS codes, synthetic names.
REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}

INDICATORS = (
    "ae_attendances_total",
    "ae_attendances_type1",
    "ae_over_4h_total",
    "ae_4h_pct_all",
    "ae_4h_pct_type1",
    "ae_emergency_admissions",
    "ae_dta_over_4h",
    "ae_dta_over_12h",
    "rtt_incomplete_pathways",
    "rtt_within_18w_pct",
    "rtt_over_52w",
    "rtt_over_65w",
    "rtt_over_78w",
    "rtt_median_wait_weeks",
    "rtt_p92_wait_weeks",
)

PROFILES = ("persistent_difficulty", "track_record", "mixed", "typical")

# ---------------------------------------------------------------------------------------------------------------
# Parameters. Levels are set so the synthetic England aggregate resembles 2024-25 (sources in docs/demo-system.md).
# ---------------------------------------------------------------------------------------------------------------
N_ACUTE_BASE = 122  # acute trusts before the two mergers; 120 open at the end (NHS England: ~120 acute trusts)
N_GP_PRACTICES = 600  # a ~1-in-10 sample of England's ~6,300 practices
N_MENTAL_HEALTH, N_COMMUNITY = 10, 8  # ambulance: one per region
N_INDEPENDENT = 15
OTHER_PARTNERS = {"university": 4, "technology_partner": 3, "consultancy": 3, "improvement_partner": 2}
SHARE_PERSISTENT, SHARE_TRACK, N_MIXED = 0.10, 0.10, 4

ATT_MEDIAN, ATT_SIGMA, ATT_CLIP = 11_500.0, 0.28, (8_000.0, 18_500.0)  # all-type attendances/month per trust
ATT_GROWTH_PER_YEAR = 0.015  # A&E attendances grow ~1-2% a year (NHS England A&E statistics, 2023-25)
TYPE1_SHARE = (0.52, 0.72)  # England March 2025: 1.45m of 2.39m attendances were type 1 (~61%)
P4H_OTHER = (0.93, 0.99)  # type 2/3 departments admit, transfer or discharge almost everyone within 4 hours
P4H_TYPE1_START, P4H_TYPE1_END = 0.575, 0.60  # type 1 centre of trust distribution, drifting up over the window
P4H_TRUST_SD = 0.30  # between-trust sd on the logit scale (~ 7 percentage points for type 1)
WINTER_4H = 0.16  # logit amplitude of the winter dip, peaking in January (~7 pp peak-to-trough for type 1)
EMERGENCY_ADMISSION_RATE = (0.25, 0.33)  # admissions per type 1 attendance
DTA_OVER_4H_SHARE, DTA_OVER_12H_OF_4H = 0.28, 0.24  # England March 2024: 140,181 over 4h; 42,968 over 12h

RTT_PER_HEAD = 0.13  # England waiting list 7.42m (March 2025) / ~57m population
RTT_18W_START, RTT_18W_END = 0.57, 0.595  # England 59.8% within 18 weeks (March 2025)
RTT_TRUST_SD = 0.25  # ~ 6 percentage points between trusts
WEIBULL_SHAPE = (1.1, 1.3)  # gives a median of ~14-15 weeks at 58% within 18 weeks (England 13.8 weeks, March 2025)
LONG_WAIT_CLEARANCE = {52: 0.5, 65: 0.15, 78: 0.03}  # long-wait targets thin the tail below a smooth distribution

REGION_CONTEXT = {  # mean IMD score, % over 65, share rural (synthetic, shaped like ONS/MHCLG regional patterns)
    "Y56": (24.0, 12.0, 0.01),
    "Y58": (18.0, 23.0, 0.38),
    "Y59": (15.0, 20.0, 0.25),
    "Y60": (23.0, 19.0, 0.24),
    "Y61": (17.0, 20.0, 0.33),
    "Y62": (27.0, 19.0, 0.15),
    "Y63": (26.0, 20.0, 0.20),
}

_STEMS = (
    "Ash",
    "Bram",
    "Cal",
    "Dun",
    "Elm",
    "Fen",
    "Gar",
    "Hal",
    "Ire",
    "Kel",
    "Lang",
    "Mar",
    "Nor",
    "Oak",
    "Pen",
    "Quen",
    "Ros",
    "Stan",
    "Thorn",
    "Ul",
    "Ver",
    "Wel",
    "Yar",
    "Brack",
    "Crest",
    "Hollin",
    "Merrow",
    "Silver",
    "Wold",
    "Hart",
    "Lind",
    "Birch",
    "Cop",
    "Ever",
)
_SUFFIXES = (
    "ford",
    "field",
    "ton",
    "bury",
    "wick",
    "dale",
    "mouth",
    "ley",
    "borough",
    "stead",
    "moor",
    "bridge",
    "haven",
    "minster",
    "combe",
    "thorpe",
    "holme",
    "by",
    "worth",
    "well",
    "hurst",
)
_ACUTE_NAMES = (
    "{p} Hospitals NHS Foundation Trust",
    "{p} University Hospitals NHS Trust",
    "{p} Teaching Hospitals NHS Foundation Trust",
    "{p} General Hospital NHS Trust",
    "{p} and {q} NHS Foundation Trust",
)
_OFFERS = {
    "independent_provider": (
        "elective capacity",
        "diagnostics",
        "orthopaedics",
        "ophthalmology",
        "endoscopy",
        "day-case surgery",
    ),
    "university": ("evaluation", "analytics", "workforce education", "clinical research"),
    "technology_partner": ("electronic patient record", "analytics", "remote monitoring", "digital front door"),
    "consultancy": ("programme management", "financial recovery", "analytics", "capacity modelling"),
    "improvement_partner": ("quality improvement method", "coaching", "peer review", "improvement capability"),
}


@dataclass
class DemoSystem:
    """The synthetic NHS as plain DataFrames. ``label`` must accompany any display of this data."""

    organisations: pd.DataFrame
    sites: pd.DataFrame
    gp_practices: pd.DataFrame
    context: pd.DataFrame
    observations: pd.DataFrame
    truth: pd.DataFrame
    partner_catalogue: pd.DataFrame
    seed: int
    months: int
    end_period: str
    label: str = field(default=LABEL)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The DataFrames by name, for writers that loop over them."""
        return {
            "organisations": self.organisations,
            "sites": self.sites,
            "gp_practices": self.gp_practices,
            "context": self.context,
            "observations": self.observations,
            "truth": self.truth,
            "partner_catalogue": self.partner_catalogue,
        }

    def counts(self) -> dict[str, int]:
        """Organisations by kind plus row counts, for a one-line summary."""
        out = {str(k): int(v) for k, v in self.organisations["kind"].value_counts().sort_index().items()}
        out.update(sites=len(self.sites), observations=len(self.observations), periods=self.months)
        return out


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------
def load_icb_centres() -> pd.DataFrame:
    """The 42 real ICB population-weighted centres (ONS, OGL v3.0) baked into the package."""
    text = resources.files("partnering.demo").joinpath("icb_centres.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), comment="#")


def _validate(seed: int, months: int, end_period: str) -> pd.PeriodIndex:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"demo seed must be a non-negative integer, got {seed!r}")
    if not isinstance(months, (int, np.integer)) or months < 36:
        raise ConfigError(f"demo months must be an integer >= 36 (profiles need 24 recent months), got {months!r}")
    if not isinstance(end_period, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", end_period):
        raise ConfigError(f"demo end_period must be an ISO month like '2026-03', got {end_period!r}")
    return pd.period_range(end=pd.Period(end_period, freq="M"), periods=int(months), freq="M")


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _allocate(weights: np.ndarray, total: int, minimum: int = 1) -> np.ndarray:
    """Largest-remainder allocation of ``total`` items proportional to ``weights`` with a floor."""
    n = len(weights)
    share = weights / weights.sum() * (total - minimum * n)
    base = np.floor(share).astype(int)
    rest = total - minimum * n - base.sum()
    base[np.argsort(-(share - base), kind="stable")[:rest]] += 1
    return base + minimum


def _jitter(rng, lat, lon, radius_km):
    """Uniform points in discs of ``radius_km`` around (lat, lon); vectorised."""
    lat, lon, radius_km = (np.asarray(a, dtype=float) for a in (lat, lon, radius_km))
    r = radius_km * np.sqrt(rng.random(lat.shape))
    theta = rng.random(lat.shape) * 2 * np.pi
    dlat = r * np.cos(theta) / 111.2
    dlon = r * np.sin(theta) / (111.2 * np.cos(np.radians(lat)))
    return np.round(lat + dlat, 5), np.round(lon + dlon, 5)


class _Names:
    """Invented place names, unique on request, reproducible from the generator."""

    def __init__(self, rng: np.random.Generator):
        pool = [s + x for s in _STEMS for x in _SUFFIXES]
        self._pool = [pool[i] for i in rng.permutation(len(pool))]
        self._next = 0
        self._rng = rng

    def unique(self) -> str:
        lap, i = divmod(self._next, len(self._pool))
        self._next += 1
        prefix = ("", "Upper ", "Lower ", "Great ", "Little ")[lap % 5] + ("New " * (lap // 5))
        return prefix + self._pool[i]

    def any(self, n: int) -> list[str]:
        return [self._pool[i] for i in self._rng.integers(0, len(self._pool), n)]


def _postcodes(rng, n: int) -> list[str]:
    """Postcode-shaped strings in the unused ``ZZ`` area, so none can be a real address."""
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    district = rng.integers(1, 10, n)
    sector = rng.integers(0, 10, n)
    unit = letters[rng.integers(0, len(letters), (n, 2))]
    return [f"ZZ{d} {s}{u[0]}{u[1]}" for d, s, u in zip(district, sector, unit, strict=True)]


def _trust_codes(prefix: str) -> list[str]:
    return [f"{prefix}{a}{d}" for a in "ABCDEFGHJKLMNPQRSTUVWY" for d in "123456789"]


# ---------------------------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------------------------
def generate(seed: int = 2026, months: int = 72, end_period: str = "2026-03") -> DemoSystem:
    """Generate the synthetic NHS for ``seed``: ``months`` monthly periods ending ``end_period`` (ISO month).

    Deterministic for a seed. Raises ``ConfigError`` for a bad seed, ``months < 36`` or a malformed period.
    """
    periods = _validate(seed, months, end_period)
    rng = np.random.default_rng(seed)
    names = _Names(rng)
    centres = load_icb_centres()
    n_icb = len(centres)

    # --- regions and ICBs ----------------------------------------------------------------------------------------
    icb_codes = [f"QX{i + 1:02d}" for i in range(n_icb)]
    centres = centres.assign(icb_code=icb_codes)
    region_rows = []
    for code, label in REGIONS.items():
        c = centres[centres.region_code == code]
        w = c.population.to_numpy(float)
        region_rows.append(
            {
                "org_code": code,
                "name": f"Synthetic {label}",
                "kind": "region",
                "icb_code": None,
                "region_code": code,
                "open_date": pd.Timestamp("2013-04-01"),
                "latitude": round(float(np.average(c.latitude, weights=w)), 5),
                "longitude": round(float(np.average(c.longitude, weights=w)), 5),
            }
        )
    icb_imd = np.array([REGION_CONTEXT[r][0] for r in centres.region_code]) + rng.normal(0, 3.0, n_icb)
    icb_rows = [
        {
            "org_code": c.icb_code,
            "name": f"NHS {names.unique()} Integrated Care Board (synthetic)",
            "kind": "icb",
            "icb_code": c.icb_code,
            "region_code": c.region_code,
            "open_date": pd.Timestamp("2022-07-01"),
            "latitude": c.latitude,
            "longitude": c.longitude,
        }
        for c in centres.itertuples(index=False)
    ]
    jitter_radius = np.maximum(centres.safe_radius_km.to_numpy(float), 0.3 * centres.spread_km.to_numpy(float))

    # --- acute trusts (122 base, then two mergers) ----------------------------------------------------------------
    per_icb = _allocate(centres.population.to_numpy(float), N_ACUTE_BASE)
    a_icb = np.repeat(np.arange(n_icb), per_icb)
    n_base = len(a_icb)
    att_base = np.clip(ATT_MEDIAN * np.exp(rng.normal(0, ATT_SIGMA, n_base)), *ATT_CLIP)

    # mergers: in two ICBs with >= 3 trusts, the two smallest trusts merge into a new trust
    T = len(periods)
    merge_months = (T // 2, (3 * T) // 4)
    big_icbs = np.flatnonzero(per_icb >= 3)
    merging_icbs = rng.choice(big_icbs, 2, replace=False)
    predecessors: list[tuple[int, int]] = []
    for icb in merging_icbs:
        members = np.flatnonzero(a_icb == icb)
        pair = members[np.argsort(att_base[members], kind="stable")[:2]]
        total = att_base[pair].sum()
        if total > ATT_CLIP[1]:
            att_base[pair] *= ATT_CLIP[1] / total
        predecessors.append((int(pair[0]), int(pair[1])))
    succ_icb = np.array([a_icb[p[0]] for p in predecessors])
    a_icb = np.concatenate([a_icb, succ_icb])
    att_base = np.concatenate([att_base, [att_base[list(p)].sum() for p in predecessors]])
    N = len(a_icb)
    is_pred = np.zeros(N, bool)
    is_pred[[i for p in predecessors for i in p]] = True
    is_succ = np.zeros(N, bool)
    is_succ[n_base:] = True
    active = np.ones((N, T), bool)
    for k, (p0, p1) in enumerate(predecessors):
        m = merge_months[k]
        active[[p0, p1], m:] = False
        active[n_base + k, :m] = False

    # profiles, assigned among trusts not involved in a merger
    eligible = np.flatnonzero(~is_pred & ~is_succ)
    n_pd, n_tr = round(SHARE_PERSISTENT * N_ACUTE_BASE), round(SHARE_TRACK * N_ACUTE_BASE)
    chosen = rng.permutation(eligible)
    profile = np.array(["typical"] * N, dtype=object)
    profile[chosen[:n_pd]] = "persistent_difficulty"
    profile[chosen[n_pd : n_pd + n_tr]] = "track_record"
    mixed_idx = chosen[n_pd + n_tr : n_pd + n_tr + N_MIXED]
    profile[mixed_idx] = "mixed"
    mixed_best = np.full(N, "", dtype=object)
    mixed_best[mixed_idx] = np.where(np.arange(N_MIXED) % 2 == 0, "rtt", "ae")
    pd_mask, tr_mask = profile == "persistent_difficulty", profile == "track_record"

    # context for acute trusts
    reg_of = centres.region_code.to_numpy()[a_icb]
    reg_ctx = np.array([REGION_CONTEXT[r] for r in reg_of])
    catchment = np.round(att_base * 12 / rng.normal(0.45, 0.04, N), -2)
    imd = np.clip(icb_imd[a_icb] + rng.normal(0, 4.0, N) + 2.5 * pd_mask - 2.0 * tr_mask, 8, 45)
    over65 = np.clip(reg_ctx[:, 1] + rng.normal(0, 2.5, N), 9, 30)
    rural_mean = reg_ctx[:, 2]
    rurality = np.clip(rng.beta(2 * rural_mean / (1 - rural_mean) + 0.05, 2.0), 0, 1)
    rurality[reg_of == "Y56"] = np.round(rng.uniform(0, 0.03, int((reg_of == "Y56").sum())), 3)
    beds = np.round(catchment * 1.8 / 1000 * rng.normal(1.0, 0.12, N))
    size_z = (np.log(att_base) - np.log(ATT_MEDIAN)) / ATT_SIGMA
    case_mix = np.clip(1.0 + 0.06 * size_z + rng.normal(0, 0.10, N), 0.7, 1.35)
    for k, (p0, p1) in enumerate(predecessors):  # successors inherit their predecessors' catchment
        s = n_base + k
        w = catchment[[p0, p1]]
        catchment[s] = w.sum()
        beds[s] = beds[[p0, p1]].sum()
        for arr in (imd, over65, rurality, case_mix):
            arr[s] = np.average(arr[[p0, p1]], weights=w)

    obs, extra_notes = _simulate_acute(
        rng, periods, att_base, catchment, imd, profile, mixed_best, predecessors, n_base, active
    )

    # acute organisations, sites
    codes = _trust_codes("Z")
    a_codes = codes[:N]
    next_code = N
    a_place = [names.unique() for _ in range(N)]
    a_names = []
    for i in range(N):
        if is_succ[i]:
            p0, p1 = predecessors[i - n_base]
            a_names.append(f"{a_place[p0]} and {a_place[p1]} University Hospitals NHS Foundation Trust (synthetic)")
        else:
            tmpl = _ACUTE_NAMES[int(rng.integers(0, len(_ACUTE_NAMES)))]
            a_names.append(tmpl.format(p=a_place[i], q=names.unique()) + " (synthetic)")
    a_lat, a_lon = _jitter(
        rng, centres.latitude.to_numpy()[a_icb], centres.longitude.to_numpy()[a_icb], jitter_radius[a_icb]
    )
    open_dates = pd.to_datetime(rng.choice(["1991-04-01", "1994-04-01", "2004-04-01", "2008-10-01", "2012-04-01"], N))
    close_dates = pd.Series(pd.NaT, index=range(N), dtype="datetime64[ns]")
    successor = [None] * N
    for k, (p0, p1) in enumerate(predecessors):
        s = n_base + k
        start = periods[merge_months[k]].start_time
        open_dates = open_dates.where(np.arange(N) != s, start)
        for p in (p0, p1):
            close_dates[p] = start - pd.Timedelta(days=1)
            successor[p] = a_codes[s]
        a_lat[s], a_lon[s] = a_lat[p0], a_lon[p0]
    acute_org = pd.DataFrame(
        {
            "org_code": a_codes,
            "name": a_names,
            "kind": "acute_trust",
            "icb_code": np.array(icb_codes)[a_icb],
            "region_code": reg_of,
            "open_date": open_dates,
            "close_date": close_dates.to_numpy(),
            "successor_code": successor,
            "latitude": a_lat,
            "longitude": a_lon,
        }
    )

    site_rows = []
    site_kinds = ("General Hospital", "Community Hospital", "Treatment Centre", "Royal Infirmary")
    n_sites = rng.integers(1, 5, N)
    for i in range(N):
        if is_succ[i]:
            continue
        lat, lon = _jitter(
            rng,
            np.full(n_sites[i], a_lat[i]),
            np.full(n_sites[i], a_lon[i]),
            np.r_[0.0, np.full(n_sites[i] - 1, min(12.0, jitter_radius[a_icb[i]]))],
        )
        for j in range(n_sites[i]):
            place = a_place[i] if j == 0 else names.unique()
            site_rows.append(
                {
                    "site_code": f"{a_codes[i]}{j + 1:02d}",
                    "org_code": a_codes[i],
                    "name": f"{place} {site_kinds[0 if j == 0 else 1 + j % 3]} (synthetic)",
                    "sector": "NHS",
                    "latitude": lat[j],
                    "longitude": lon[j],
                }
            )
    for k, (p0, p1) in enumerate(predecessors):  # the successor takes over its predecessors' sites under new codes
        s_code = a_codes[n_base + k]
        inherited = [r for r in site_rows if r["org_code"] in (a_codes[p0], a_codes[p1])]
        for j, r in enumerate(inherited):
            site_rows.append({**r, "site_code": f"{s_code}{j + 1:02d}", "org_code": s_code})

    context_frames = [
        _context_long(
            a_codes,
            {
                "catchment_population": catchment,
                "imd_score": np.round(imd, 1),
                "pct_over_65": np.round(over65, 1),
                "rurality": np.round(rurality, 3),
                "beds": beds,
                "case_mix_index": np.round(case_mix, 3),
            },
        )
    ]

    # --- mental health, community and ambulance trusts ----------------------------------------------------------
    other_rows = []
    pop = centres.population.to_numpy(float)
    for kind, n, label in (
        ("mental_health_trust", N_MENTAL_HEALTH, "{p} Partnership NHS Foundation Trust"),
        ("community_trust", N_COMMUNITY, "{p} Community Healthcare NHS Trust"),
    ):
        icbs = np.sort(rng.choice(n_icb, n, replace=False, p=pop / pop.sum()))
        lat, lon = _jitter(
            rng, centres.latitude.to_numpy()[icbs], centres.longitude.to_numpy()[icbs], jitter_radius[icbs]
        )
        o_codes = codes[next_code : next_code + n]
        next_code += n
        for j, icb in enumerate(icbs):
            other_rows.append(
                {
                    "org_code": o_codes[j],
                    "name": label.format(p=names.unique()) + " (synthetic)",
                    "kind": kind,
                    "icb_code": icb_codes[icb],
                    "region_code": centres.region_code[icb],
                    "open_date": pd.Timestamp("2002-04-01"),
                    "latitude": lat[j],
                    "longitude": lon[j],
                }
            )
        ctx_pop = np.round(pop[icbs] * rng.uniform(0.6, 1.6, n), -3)
        rc = np.array([REGION_CONTEXT[r] for r in centres.region_code.to_numpy()[icbs]])
        attrs = {
            "catchment_population": ctx_pop,
            "imd_score": np.round(np.clip(icb_imd[icbs] + rng.normal(0, 2, n), 8, 45), 1),
            "pct_over_65": np.round(rc[:, 1] + rng.normal(0, 1.5, n), 1),
            "rurality": np.round(rc[:, 2], 3),
        }
        if kind == "mental_health_trust":
            attrs["beds"] = np.round(ctx_pop * 0.22 / 1000)
        context_frames.append(_context_long(o_codes, attrs))
    amb_codes = codes[next_code : next_code + len(REGIONS)]
    next_code += len(REGIONS)
    for j, code in enumerate(REGIONS):
        reg = next(r for r in region_rows if r["org_code"] == code)
        rpop = float(centres.population[centres.region_code == code].sum())
        other_rows.append(
            {
                "org_code": amb_codes[j],
                "name": f"{names.unique()} Ambulance Service NHS Trust (synthetic)",
                "kind": "ambulance_trust",
                "icb_code": None,
                "region_code": code,
                "open_date": pd.Timestamp("2006-07-01"),
                "latitude": reg["latitude"],
                "longitude": reg["longitude"],
            }
        )
        rc = REGION_CONTEXT[code]
        context_frames.append(
            _context_long(
                [amb_codes[j]],
                {
                    "catchment_population": [rpop],
                    "imd_score": [rc[0]],
                    "pct_over_65": [rc[1]],
                    "rurality": [rc[2]],
                    "incidents_per_month": [round(rpop * 0.0116 * rng.normal(1, 0.05), -1)],
                },
            )
        )

    # --- independent providers and other partners --------------------------------------------------------------
    x_codes = _trust_codes("X")
    partner_rows, catalogue_rows = [], []
    partner_kinds = ["independent_provider"] * N_INDEPENDENT + [k for k, n in OTHER_PARTNERS.items() for _ in range(n)]
    p_icbs = rng.choice(n_icb, len(partner_kinds), p=pop / pop.sum())
    p_lat, p_lon = _jitter(
        rng, centres.latitude.to_numpy()[p_icbs], centres.longitude.to_numpy()[p_icbs], jitter_radius[p_icbs]
    )
    ip_templates = (
        "{p} Healthcare Group (synthetic)",
        "{p} Independent Hospitals Ltd (synthetic)",
        "{p} Diagnostics Ltd (synthetic)",
        "{p} Surgical Partners (synthetic)",
    )
    other_templates = {
        "university": "University of {p} (synthetic)",
        "technology_partner": "{p} Data Systems Ltd (synthetic)",
        "consultancy": "{p} Partners LLP (synthetic)",
        "improvement_partner": "{p} Improvement Collaborative (synthetic)",
    }
    for j, kind in enumerate(partner_kinds):
        place = names.unique()
        tmpl = ip_templates[j % len(ip_templates)] if kind == "independent_provider" else other_templates[kind]
        code = x_codes[j]
        partner_rows.append(
            {
                "org_code": code,
                "name": tmpl.format(p=place),
                "kind": kind,
                "icb_code": icb_codes[p_icbs[j]],
                "region_code": centres.region_code[p_icbs[j]],
                "open_date": pd.Timestamp("2010-01-01"),
                "latitude": p_lat[j],
                "longitude": p_lon[j],
            }
        )
        menu = _OFFERS[kind]
        k = int(rng.integers(1, 4)) if kind != "independent_provider" else int(rng.integers(2, 4))
        offers = [menu[i] for i in np.sort(rng.choice(len(menu), k, replace=False))]
        if kind == "independent_provider" and "elective capacity" not in offers:
            offers = ["elective capacity", *offers[:-1]]
        catalogue_rows.append(
            {
                "org_code": code,
                "name": tmpl.format(p=place),
                "kind": kind,
                "offers": "; ".join(offers),
                "capacity": int(rng.integers(1, 7)),
                "contact": f"partnerships@{place.lower()}.example.org",
            }
        )
        if kind == "independent_provider":
            ns = int(rng.integers(1, 6))
            s_icbs = np.r_[p_icbs[j], rng.choice(n_icb, ns - 1, p=pop / pop.sum())]
            lat, lon = _jitter(
                rng, centres.latitude.to_numpy()[s_icbs], centres.longitude.to_numpy()[s_icbs], jitter_radius[s_icbs]
            )
            lat[0], lon[0] = p_lat[j], p_lon[j]
            for s in range(ns):
                site_rows.append(
                    {
                        "site_code": f"{code}{s + 1:02d}",
                        "org_code": code,
                        "name": f"{names.unique() if s else place} Independent Hospital (synthetic)",
                        "sector": "Independent",
                        "latitude": lat[s],
                        "longitude": lon[s],
                    }
                )
            context_frames.append(
                _context_long(
                    [code],
                    {
                        "sites": [ns],
                        "beds": [ns * int(rng.integers(20, 60))],
                        "theatres": [ns * int(rng.integers(2, 6))],
                    },
                )
            )

    # --- GP practices -------------------------------------------------------------------------------------------
    g_per_icb = _allocate(pop, N_GP_PRACTICES)
    g_icb = np.repeat(np.arange(n_icb), g_per_icb)
    ng = len(g_icb)
    g_codes = [f"Z{10001 + i:05d}" for i in range(ng)]
    list_size = np.round(np.clip(9000 * np.exp(rng.normal(0, 0.55, ng)), 1500, 60000))
    g_reg = centres.region_code.to_numpy()[g_icb]
    g_rc = np.array([REGION_CONTEXT[r] for r in g_reg])
    g_imd = np.clip(icb_imd[g_icb] + rng.normal(0, 8.0, ng), 3, 65)
    g_over65 = np.clip(g_rc[:, 1] + rng.normal(0, 4.0, ng) - 0.12 * (g_imd - g_rc[:, 0]), 3, 35)
    g_rural = np.clip(rng.beta(2 * g_rc[:, 2] / (1 - g_rc[:, 2]) + 0.05, 2.0), 0, 1)
    g_rural[g_reg == "Y56"] = 0.0
    g_lat, g_lon = _jitter(
        rng,
        centres.latitude.to_numpy()[g_icb],
        centres.longitude.to_numpy()[g_icb],
        np.maximum(jitter_radius[g_icb], 0.4 * centres.spread_km.to_numpy()[g_icb]),
    )
    g_tmpl = ("{p} Medical Practice", "The {p} Surgery", "{p} Health Centre", "{p} Family Practice")
    g_names = [
        g_tmpl[int(t)].format(p=p) + " (synthetic)" for t, p in zip(rng.integers(0, 4, ng), names.any(ng), strict=True)
    ]
    gp = pd.DataFrame(
        {
            "org_code": g_codes,
            "name": g_names,
            "icb_code": np.array(icb_codes)[g_icb],
            "region_code": g_reg,
            "list_size": list_size,
            "imd_score": np.round(g_imd, 1),
            "pct_over_65": np.round(g_over65, 1),
            "rurality": np.round(g_rural, 3),
            "latitude": g_lat,
            "longitude": g_lon,
            "synthetic": True,
        }
    )
    gp_org = gp[["org_code", "name", "icb_code", "region_code", "latitude", "longitude"]].assign(
        kind="gp_practice", open_date=pd.Timestamp("1990-04-01")
    )
    context_frames.append(
        _context_long(g_codes, {c: gp[c].to_numpy() for c in ("list_size", "imd_score", "pct_over_65", "rurality")})
    )

    # --- assemble -----------------------------------------------------------------------------------------------
    organisations = pd.concat(
        [
            pd.DataFrame(region_rows),
            pd.DataFrame(icb_rows),
            acute_org,
            pd.DataFrame(other_rows),
            gp_org,
            pd.DataFrame(partner_rows),
        ],
        ignore_index=True,
    )
    needs_postcode = ~organisations.kind.isin(["region", "icb"])
    organisations["postcode"] = None
    organisations.loc[needs_postcode, "postcode"] = _postcodes(rng, int(needs_postcode.sum()))
    organisations["close_date"] = pd.to_datetime(organisations.get("close_date"))
    organisations["open_date"] = pd.to_datetime(organisations["open_date"])
    organisations["synthetic"] = True
    organisations = organisations[
        [
            "org_code",
            "name",
            "kind",
            "icb_code",
            "region_code",
            "open_date",
            "close_date",
            "successor_code",
            "postcode",
            "latitude",
            "longitude",
            "synthetic",
        ]
    ].astype({"latitude": float, "longitude": float})
    organisations = organisations.astype({"successor_code": object, "icb_code": object})
    organisations = organisations.where(organisations.notna(), None).astype(
        {"latitude": float, "longitude": float, "synthetic": bool}
    )
    for col in ("open_date", "close_date"):
        organisations[col] = pd.to_datetime(organisations[col]).astype("datetime64[ns]")

    truth_notes = []
    for i in range(N):
        note = {
            "persistent_difficulty": "below-median 4-hour and RTT throughout; further step down on both in the last "
            "15-22 months (special-cause concern)",
            "track_record": "top-quartile 4-hour and RTT throughout, low variation, gently improving",
            "mixed": "poor overall but best in class on "
            + (
                "RTT 18-week performance (good practice to protect)"
                if mixed_best[i] == "rtt"
                else "A&E 4-hour performance (good practice to protect)"
            ),
            "typical": "common-cause variation around the national level",
        }[profile[i]]
        if is_pred[i]:
            k = next(k for k, p in enumerate(predecessors) if i in p)
            note = f"merged into {a_codes[n_base + k]} from {periods[merge_months[k]]}; " + note
        if is_succ[i]:
            p0, p1 = predecessors[i - n_base]
            note = f"formed {periods[merge_months[i - n_base]]} from {a_codes[p0]} and {a_codes[p1]}; " + note
        if extra_notes[i]:
            note += "; " + extra_notes[i]
        truth_notes.append(note)
    truth = pd.DataFrame({"org_code": a_codes, "designed_profile": profile.astype(str), "notes": truth_notes})

    obs["org_code"] = np.asarray(a_codes, dtype=object)[obs.pop("trust").to_numpy()]
    observations = obs[["org_code", "indicator", "period", "numerator", "denominator", "value"]]

    sites = pd.DataFrame(site_rows, columns=["site_code", "org_code", "name", "sector", "latitude", "longitude"])
    context = pd.concat(context_frames, ignore_index=True)
    context["source"] = SOURCE
    catalogue = pd.DataFrame(catalogue_rows, columns=["org_code", "name", "kind", "offers", "capacity", "contact"])
    return DemoSystem(
        organisations=organisations,
        sites=sites,
        gp_practices=gp,
        context=context,
        observations=observations,
        truth=truth,
        partner_catalogue=catalogue,
        seed=int(seed),
        months=int(months),
        end_period=end_period,
    )


def _context_long(codes, attrs: dict) -> pd.DataFrame:
    codes = list(codes)
    return pd.DataFrame(
        {
            "org_code": np.tile(np.asarray(codes, dtype=object), len(attrs)),
            "attribute": np.repeat(list(attrs), len(codes)),
            "value": np.concatenate([np.asarray(v, dtype=float) for v in attrs.values()]),
        }
    )


def _ar1(rng, shape, phi: float, sd: float) -> np.ndarray:
    """AR(1) noise along the last axis, stationary sd ``sd``; vectorised over series."""
    e = rng.normal(0, sd * np.sqrt(1 - phi**2), shape)
    out = np.empty(shape)
    out[:, 0] = rng.normal(0, sd, shape[0])
    for t in range(1, shape[1]):  # loop over months (<= a few hundred), not over series
        out[:, t] = phi * out[:, t - 1] + e[:, t]
    return out


def _simulate_acute(rng, periods, att_base, catchment, imd, profile, mixed_best, predecessors, n_base, active):
    """All acute trusts × months at once. Returns the long observations table and per-trust notes."""
    N, T = len(att_base), len(periods)
    t = np.arange(T)[None, :]
    month = np.asarray(periods.month)[None, :]
    days = np.asarray(periods.days_in_month, dtype=float)[None, :]
    winter = np.cos(2 * np.pi * (month - 1) / 12)  # +1 in January, -1 in July
    frac = t / max(T - 1, 1)
    pdm = (profile == "persistent_difficulty")[:, None]
    trm = (profile == "track_record")[:, None]
    notes = [""] * N

    # --- A&E volumes ---------------------------------------------------------------------------------------------
    type1_share = rng.uniform(*TYPE1_SHARE, N)
    type1_share[trm[:, 0]] = rng.uniform(0.55, 0.66, int(trm.sum()))
    volume = att_base[:, None] * days / 30.44 * (1 - 0.04 * winter) * (1 + ATT_GROWTH_PER_YEAR) ** (t / 12)
    att_total = np.clip(np.round(volume * np.exp(_ar1(rng, (N, T), 0.3, 0.03))), 6_000, 25_000)  # guard only
    att_type1 = np.minimum(np.round(att_total * type1_share[:, None] * np.exp(rng.normal(0, 0.01, (N, T)))), att_total)

    # --- latent performance on the logit scale --------------------------------------------------------------------
    def latent(centre_start, centre_end, trust_sd, winter_amp, phi, noise_sd, deterioration, drop, poor, good):
        base = rng.normal(0, trust_sd, N) - 0.012 * (imd - 22.0)
        base = np.where(pdm[:, 0], poor + rng.normal(0, 0.08, N), base)
        base = np.where(trm[:, 0], good + rng.normal(0, 0.06, N), base)
        national = _logit(centre_start) + (_logit(centre_end) - _logit(centre_start)) * frac
        sens = rng.uniform(0.6, 1.4, N)[:, None]
        slope = rng.normal(0, 0.03, N)[:, None]  # per year
        slope = np.where(trm, 0.06, np.where(pdm, -0.02 - np.abs(slope), slope))  # track record improving
        noise_scale = np.where(trm, 0.4, 1.0)  # track record: steadier
        x = (
            base[:, None]
            + national
            - winter_amp * sens * winter * np.where(trm, 0.6, 1.0)
            + slope * (t - T / 2) / 12
            + noise_scale * _ar1(rng, (N, T), phi, noise_sd)
        )
        # step changes for typical trusts: a new front-door model, a lost ward, a validation exercise...
        has_step = (profile == "typical") & (rng.random(N) < 0.3)
        step_at = rng.integers(6, T - 6, N)[:, None]
        step = np.where(rng.random(N) < 0.65, 1.0, -1.0) * rng.uniform(0.12, 0.3, N)
        x += np.where(has_step[:, None] & (t >= step_at), step[:, None], 0.0)
        # persistent difficulty: sustained deterioration in the last 15-22 months
        x += np.where(pdm & (t >= deterioration[:, None]), -drop, 0.0)
        return x, has_step, step_at[:, 0], step

    deteriorate_at = T - rng.integers(15, 23, N)
    x_ae, ae_step, ae_step_at, ae_step_size = latent(
        P4H_TYPE1_START, P4H_TYPE1_END, P4H_TRUST_SD, WINTER_4H, 0.5, 0.10, deteriorate_at, 0.5, -0.45, 0.95
    )
    x_rtt, rtt_step, rtt_step_at, rtt_step_size = latent(
        RTT_18W_START, RTT_18W_END, RTT_TRUST_SD, 0.05, 0.85, 0.05, deteriorate_at, 0.35, -0.45, 0.95
    )
    # mixed trusts: poor on one domain, best in class on the other
    mixed = profile == "mixed"
    best_rtt = mixed & (mixed_best == "rtt")
    best_ae = mixed & (mixed_best == "ae")
    centre_ae = _logit(P4H_TYPE1_START) + (_logit(P4H_TYPE1_END) - _logit(P4H_TYPE1_START)) * frac
    centre_rtt = _logit(RTT_18W_START) + (_logit(RTT_18W_END) - _logit(RTT_18W_START)) * frac
    x_ae[mixed] = np.where(best_ae[mixed, None], centre_ae + 1.6, centre_ae - 0.55) + 0.05 * (x_ae[mixed] - centre_ae)
    x_rtt[mixed] = np.where(best_rtt[mixed, None], centre_rtt + 1.5, centre_rtt - 0.55) + 0.3 * (
        x_rtt[mixed] - centre_rtt
    )
    for i in range(N):
        if ae_step[i]:
            notes[i] = f"4-hour step {'up' if ae_step_size[i] > 0 else 'down'} from {periods[ae_step_at[i]]}"
        if rtt_step[i]:
            notes[i] += ("; " if notes[i] else "") + (
                f"RTT step {'up' if rtt_step_size[i] > 0 else 'down'} from {periods[rtt_step_at[i]]}"
            )
        if profile[i] == "persistent_difficulty":
            notes[i] += ("; " if notes[i] else "") + f"deterioration from {periods[deteriorate_at[i]]}"

    # successors continue from their predecessors' size-weighted performance
    for k, (p0, p1) in enumerate(predecessors):
        s = n_base + k
        w = att_base[[p0, p1]] / att_base[[p0, p1]].sum()
        x_ae[s] = 0.5 * x_ae[s] + 0.5 * (w[0] * x_ae[p0] + w[1] * x_ae[p1])
        x_rtt[s] = 0.5 * x_rtt[s] + 0.5 * (w[0] * x_rtt[p0] + w[1] * x_rtt[p1])
        type1_share[s] = float(np.dot(w, type1_share[[p0, p1]]))

    p1 = _expit(x_ae)
    p_other = rng.uniform(*P4H_OTHER, N)[:, None]
    within_t1 = np.round(att_type1 * p1)
    other = att_total - att_type1
    within_all = within_t1 + np.round(other * np.clip(p_other + rng.normal(0, 0.005, (N, T)), 0, 1))
    over_4h = att_total - within_all
    admissions = np.round(
        att_type1
        * rng.uniform(*EMERGENCY_ADMISSION_RATE, N)[:, None]
        * (1 + 0.05 * winter)
        * np.exp(rng.normal(0, 0.02, (N, T)))
    )
    gap = x_ae - centre_ae
    dta4_share = _expit(_logit(DTA_OVER_4H_SHARE) - 1.5 * gap + rng.normal(0, 0.1, (N, T)))
    dta4 = np.round(admissions * dta4_share)
    dta12 = np.round(dta4 * _expit(_logit(DTA_OVER_12H_OF_4H) - 1.5 * gap + rng.normal(0, 0.1, (N, T))))

    # --- RTT -------------------------------------------------------------------------------------------------------
    waiting = catchment * RTT_PER_HEAD * np.exp(rng.normal(0, 0.15, N))
    incomplete = np.round(waiting[:, None] * (1 + 0.05 * frac) * np.exp(_ar1(rng, (N, T), 0.9, 0.02)))
    q = _expit(x_rtt)
    within18 = np.round(incomplete * q)
    shape_k = rng.uniform(*WEIBULL_SHAPE, N)[:, None]
    scale = 18.0 / (-np.log1p(-q)) ** (1 / shape_k)

    def tail(weeks):
        return np.exp(-((weeks / scale) ** shape_k)) * LONG_WAIT_CLEARANCE[weeks]

    over52 = np.minimum(np.round(incomplete * tail(52)), incomplete - within18)
    over65 = np.minimum(np.round(incomplete * tail(65)), over52)
    over78 = np.minimum(np.round(incomplete * tail(78)), over65)
    median = np.round(scale * np.log(2) ** (1 / shape_k), 1)
    p92 = np.round(scale * (-np.log(0.08)) ** (1 / shape_k), 1)

    # --- long table ------------------------------------------------------------------------------------------------
    def pct(num, den):
        return num, den, 100.0 * num / den

    nan = np.full((N, T), np.nan)
    series = {
        "ae_attendances_total": (nan, nan, att_total),
        "ae_attendances_type1": (nan, nan, att_type1),
        "ae_over_4h_total": (nan, nan, over_4h),
        "ae_4h_pct_all": pct(within_all, att_total),
        "ae_4h_pct_type1": pct(within_t1, att_type1),
        "ae_emergency_admissions": (nan, nan, admissions),
        "ae_dta_over_4h": (nan, nan, dta4),
        "ae_dta_over_12h": (nan, nan, dta12),
        "rtt_incomplete_pathways": (nan, nan, incomplete),
        "rtt_within_18w_pct": pct(within18, incomplete),
        "rtt_over_52w": (nan, nan, over52),
        "rtt_over_65w": (nan, nan, over65),
        "rtt_over_78w": (nan, nan, over78),
        "rtt_median_wait_weeks": (nan, nan, median),
        "rtt_p92_wait_weeks": (nan, nan, p92),
    }
    assert tuple(series) == INDICATORS
    ti, mi = np.nonzero(active)
    period_str = np.asarray(periods.strftime("%Y-%m"), dtype=object)
    k = len(ti)
    frame = pd.DataFrame(
        {
            "trust": np.tile(ti, len(series)),
            "indicator": np.repeat(np.asarray(INDICATORS, dtype=object), k),
            "period": np.tile(period_str[mi], len(series)),
            "numerator": np.concatenate([v[0][ti, mi] for v in series.values()]),
            "denominator": np.concatenate([v[1][ti, mi] for v in series.values()]),
            "value": np.concatenate([v[2][ti, mi] for v in series.values()]),
        }
    )
    return frame, notes


# ---------------------------------------------------------------------------------------------------------------
# the partner catalogue file users maintain (CSV); the package ships a small example generated from the seed
# ---------------------------------------------------------------------------------------------------------------
CATALOGUE_EXAMPLE = "partner_catalogue_example.csv"


def partner_catalogue_example(system: DemoSystem, per_kind: int = 2) -> pd.DataFrame:
    """A small slice of ``system.partner_catalogue``: the first ``per_kind`` partners of each kind."""
    cat = system.partner_catalogue
    return cat.groupby("kind", sort=False).head(per_kind).reset_index(drop=True)


def write_partner_catalogue_example(path=None, seed: int = 2026) -> str:
    """Regenerate the packaged example catalogue (maintainers). Returns the path written."""
    from pathlib import Path

    target = Path(path) if path else Path(__file__).with_name(CATALOGUE_EXAMPLE)
    partner_catalogue_example(generate(seed)).to_csv(target, index=False, lineterminator="\n")
    return str(target)


def load_partner_catalogue_example() -> pd.DataFrame:
    """The packaged example catalogue, read as users' files are read (CSV with a header row)."""
    text = resources.files("partnering.demo").joinpath(CATALOGUE_EXAMPLE).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text))
