"""Trust catchment context: deprivation, population and age of the areas a trust's patients come from.

Inputs (``shared_nhs_dir`` = ``../shared/data/nhs``, ``shared_geo_dir`` = ``../shared/data/geo``):

* ``ods/trust-ltla21-catchment.csv``: ``s[t, l]``, the share of trust *t*'s patients who live in local
  authority *l* (2021 codes), 2022 (humaniverse/geographr, from the OHID acute trust catchments);
* ``imd/imd2025_england_ltla24.csv``: IoD 2025 average score by local authority (2024 codes);
* ``imd/imd2025_england_lsoa21.csv`` and ``geo/areas/lsoa21-centroid-population.csv``: LSOA scores and
  Census 2021 populations, used to rebuild the score of the 17 authorities whose 2021 codes no longer
  exist in 2024 (Cumbria, North Yorkshire and Somerset districts);
* ``geo/areas/population-mid2020-ltla21-single-year-of-age.csv``: ONS mid-2020 population by age.

Attributes produced (one row per trust and attribute; method in ``docs/methods/catchment-context.md``):

``imd_score``             sum over l of s[t, l] x IMD 2025 average score of l (patient-weighted);
``pct_over_65``           sum over l of s[t, l] x % of l's residents aged 65+ (mid-2020);
``catchment_population``  residents attributed to the trust, assuming every resident of an area uses
                          hospitals at the same per-capita rate; the shares then pin down the split of
                          each area's population between trusts up to one number per trust, found by
                          maximum likelihood (EM for mixture weights; Dempster, Laird & Rubin 1977).

Rurality is NOT produced: the shared data hold no LSOA areas or rural-urban classification, and a
density from 2024 authority polygons cannot be given to the 17 abolished 2021 districts without guessing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from partnering.config import shared_data
from partnering.errors import IngestError
from partnering.ingest.base import BatchReport, Parsed, checksum, commit_parsed, read_bytes
from partnering.ingest.ods import read_frame
from partnering.ingest.values import parse_numbers
from partnering.store.db import get_engine

KIND = "context"
SRC_IMD = "IoD 2025 via trust→LTLA catchment shares (2022)"
SRC_AGE = "ONS mid-2020 population by age via trust→LTLA catchment shares (2022)"
SRC_POP = "ONS mid-2020 LTLA population split by trust→LTLA catchment shares (2022), equal-use EM"

FILES = {
    "catchment": ("nhs", "ods/trust-ltla21-catchment.csv"),
    "imd_ltla": ("nhs", "imd/imd2025_england_ltla24.csv"),
    "imd_lsoa": ("nhs", "imd/imd2025_england_lsoa21.csv"),
    "lsoa": ("geo", "areas/lsoa21-centroid-population.csv"),
    "age": ("geo", "areas/population-mid2020-ltla21-single-year-of-age.csv"),
}


def _paths(nhs_dir, geo_dir) -> dict[str, Path]:
    nhs = Path(nhs_dir) if nhs_dir is not None else shared_data("nhs")
    geo = Path(geo_dir) if geo_dir is not None else shared_data("geo")
    return {k: (nhs if base == "nhs" else geo) / rel for k, (base, rel) in FILES.items()}


def _numeric(df: pd.DataFrame, col: str, file: str) -> np.ndarray:
    vals, bad = parse_numbers(df[col], dash_is_zero=False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IngestError(file, f"'{df[col].iloc[i]}' is not a number ({int(bad.sum())} such cells)",
                          row=int(df["_line"].iloc[i]), column=col)
    return vals


def ltla21_imd_scores(imd_ltla: pd.DataFrame, imd_lsoa: pd.DataFrame, lsoa: pd.DataFrame,
                      ltla21_names: dict[str, str], wanted: set[str]) -> tuple[pd.Series, list[str]]:
    """IMD average score for each wanted 2021 local authority code.

    Codes present in the 2024 file take its official score.  Abolished 2021 districts get the
    Census-2021-population-weighted mean of their LSOAs' scores (the IoD's own definition of the
    average score, which reproduces the 2024 file's values to within 0.05 on average); an LSOA
    belongs to a 2021 district when its name starts with the district's name ("Allerdale 001A").
    """
    off = dict(zip(imd_ltla["ltla24_code"], imd_ltla["imd_average_score"]))
    out = {c: off[c] for c in wanted if c in off}
    rebuilt = []
    missing = sorted(wanted - set(out))
    if missing:
        lj = lsoa[["lsoa21_code", "lsoa21_name", "pop"]].merge(imd_lsoa[["lsoa21_code", "IMD_score"]], on="lsoa21_code")
        prefix = lj["lsoa21_name"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True)
        for code in missing:
            name = ltla21_names.get(code)
            m = (prefix == name).to_numpy() if name else np.zeros(len(lj), dtype=bool)
            if m.sum() == 0:
                continue
            out[code] = float(np.average(lj["IMD_score"].to_numpy()[m], weights=lj["pop"].to_numpy()[m]))
            rebuilt.append(code)
    return pd.Series(out, dtype=float), rebuilt


def catchment_populations(shares: np.ndarray, population: np.ndarray, iterations: int = 5000,
                          tol: float = 1e-10) -> np.ndarray:
    """Residents attributed to each trust from s[t, l] (rows sum to 1) and area populations p[l].

    Under equal per-capita use, trust t receives the fraction P_t s[t,l] / sum_u P_u s[u,l] of area l's
    residents, and its catchment population P_t must equal what it receives.  The solution is the
    maximum-likelihood mixture weight vector, found by the EM fixed point
    P_t <- P_t * sum_l p_l s[t,l] / sum_u P_u s[u,l]  (total population is conserved).
    """
    s = np.asarray(shares, dtype=float)
    p = np.asarray(population, dtype=float)
    P = s @ p  # start: naive share-weighted population
    P *= p.sum() / P.sum()
    for _ in range(iterations):
        D = P @ s
        ratio = np.divide(p, D, out=np.zeros_like(p), where=D > 0)
        new = P * (s @ ratio)
        if np.max(np.abs(new - P)) <= tol * p.sum():
            return new
        P = new
    return P


def trust_context(shared_nhs_dir=None, shared_geo_dir=None) -> pd.DataFrame:
    """Catchment context attributes per trust: DataFrame(org_code, attribute, value, source).

    Pure apart from reading the five input files; see the module docstring for the method.
    """
    paths = _paths(shared_nhs_dir, shared_geo_dir)
    return _context(paths)[0]


def _context(paths: dict[str, Path]) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    c = read_frame(paths["catchment"], ["nhs_trust22_code", "ltla21_code", "proportion_trust_came_from_ltla"])
    c["share"] = _numeric(c, "proportion_trust_came_from_ltla", str(paths["catchment"]))
    if ((c["share"] < 0) | (c["share"] > 1)).any():
        bad = c[(c["share"] < 0) | (c["share"] > 1)].iloc[0]
        raise IngestError(str(paths["catchment"]), f"share {bad['share']} is not between 0 and 1",
                          row=int(bad["_line"]), column="proportion_trust_came_from_ltla")
    c["org_code"] = c["nhs_trust22_code"].str.upper()
    imd_ltla = read_frame(paths["imd_ltla"], ["ltla24_code", "imd_average_score"])
    imd_ltla["imd_average_score"] = _numeric(imd_ltla, "imd_average_score", str(paths["imd_ltla"]))
    age = read_frame(paths["age"], ["ltla21_code", "ltla21_name", "total_population", "65", "90+"])
    age_cols = [str(a) for a in range(65, 90)] + ["90+"]
    missing_age = [a for a in age_cols if a not in age.columns]
    if missing_age:
        raise IngestError(str(paths["age"]), f"lacks age columns {', '.join(missing_age[:5])}", row=1)
    total = _numeric(age, "total_population", str(paths["age"]))
    over = sum(_numeric(age, a, str(paths["age"])) for a in age_cols)
    age_tab = pd.DataFrame({"pop": total, "pct65": 100.0 * over / total}, index=age["ltla21_code"].to_numpy())

    areas = set(c["ltla21_code"])
    lost = sorted(areas - set(age_tab.index))
    if lost:
        raise IngestError(str(paths["age"]), f"has no population for {len(lost)} catchment areas, e.g. {lost[0]}")
    need_rebuild = areas - set(imd_ltla["ltla24_code"])
    imd_lsoa = lsoa = pd.DataFrame(columns=["lsoa21_code", "lsoa21_name", "pop", "IMD_score"])
    if need_rebuild:
        imd_lsoa = read_frame(paths["imd_lsoa"], ["lsoa21_code", "IMD_score"])
        imd_lsoa["IMD_score"] = _numeric(imd_lsoa, "IMD_score", str(paths["imd_lsoa"]))
        lsoa = read_frame(paths["lsoa"], ["lsoa21_code", "lsoa21_name", "pop_census2021"])
        lsoa["pop"] = _numeric(lsoa, "pop_census2021", str(paths["lsoa"]))
    names = dict(zip(age["ltla21_code"], age["ltla21_name"]))
    imd, rebuilt = ltla21_imd_scores(imd_ltla, imd_lsoa, lsoa, names, areas)
    if need_rebuild:
        notes.append(f"{len(need_rebuild)} of {len(areas)} catchment local authorities (2021 codes) are not in the "
                     f"2024 IMD file; {len(rebuilt)} rebuilt from their LSOAs")
    no_imd = sorted(areas - set(imd.index))

    trusts = sorted(c["org_code"].unique())
    ltlas = sorted(areas)
    ti = {t: i for i, t in enumerate(trusts)}
    li = {lc: i for i, lc in enumerate(ltlas)}
    S = np.zeros((len(trusts), len(ltlas)))
    np.add.at(S, (c["org_code"].map(ti).to_numpy(), c["ltla21_code"].map(li).to_numpy()), c["share"].to_numpy())
    S /= S.sum(axis=1, keepdims=True)
    pop = age_tab.loc[ltlas, "pop"].to_numpy()
    pct65 = age_tab.loc[ltlas, "pct65"].to_numpy()
    score = imd.reindex(ltlas).to_numpy()
    have = ~np.isnan(score)
    imd_t = (S[:, have] @ score[have]) / S[:, have].sum(axis=1)
    if no_imd:
        notes.append(f"no IMD score for {len(no_imd)} areas ({', '.join(no_imd[:5])}); shares renormalised")
    P = catchment_populations(S, pop)
    frames = [
        pd.DataFrame({"org_code": trusts, "attribute": "imd_score", "value": imd_t, "source": SRC_IMD}),
        pd.DataFrame({"org_code": trusts, "attribute": "pct_over_65", "value": S @ pct65, "source": SRC_AGE}),
        pd.DataFrame({"org_code": trusts, "attribute": "catchment_population", "value": P, "source": SRC_POP}),
    ]
    return pd.concat(frames, ignore_index=True), notes


def load_trust_context(engine=None, nhs_dir=None, geo_dir=None, **batch_opts) -> BatchReport:
    """Compute :func:`trust_context` and write it as one batch (kind ``context``).

    The batch checksum covers the five input files, so re-running on unchanged files writes nothing.
    """
    paths = _paths(nhs_dir, geo_dir)
    sums = checksum("".join(checksum(read_bytes(p)) for p in paths.values()).encode())
    attrs, notes = _context(paths)
    parsed = Parsed(kind=KIND, file=str(paths["catchment"]), rows_read=len(attrs), attributes=attrs,
                    rows_loaded=len(attrs), notes=notes)
    parsed.notes.append(f"{attrs['org_code'].nunique()} trusts")
    return commit_parsed(parsed, sums, engine or get_engine(), **batch_opts)
