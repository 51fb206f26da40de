"""English Indices of Deprivation 2025 (IoD 2025) by LSOA, local authority and ICB.

Files are recognised by their header (``lsoa21_code`` + ``IMD_score``; ``ltla24_code`` or ``icb24_code``
+ ``imd_average_score``).  What is stored:

* **ICB file** -> attributes of ICB organisations (keyed by the ODS code, ``QMF``..., found through an
  ``icb24_code -> icb24_code_nhs`` lookup, by default ``geo/areas/icb24-centroid-population.csv``):
  ``imd_score`` (population-weighted average LSOA score), ``imd_rank`` (rank of that score, 1 = most
  deprived of 42) and ``imd_share_most_deprived_decile`` (share of LSOAs in England's most deprived
  10%).  ICBs of the 2024 map that the store does not know are created (kind ``icb``, never overwritten).
* With the **LSOA file** in the same call, the four 2026 ICBs that merge whole 2024 Sub-ICB locations
  (D7T5G, S1Y5D, T6Y0W, Z9B2Z) get an ``imd_score`` rebuilt from their LSOAs (Census 2021
  population weights, the IoD's own definition of an area's average score, which reproduces the
  published local authority scores to within 0.05 on average).  ICBs whose 2026 Sub-ICBs do not
  match 2024 ones (S0E4D, S9B9J and the enlarged QRL) keep their 2024-footprint value or none.
* **Local authority and LSOA files** are validated and recorded as batches; their values are used
  where they mean something for organisations: trust catchments (:mod:`partnering.ingest.context`)
  and GP practices (:mod:`partnering.ingest.geo`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from partnering.config import shared_data
from partnering.errors import IngestError
from partnering.ingest.base import BatchReport, Parsed, checksum, commit_parsed, read_bytes
from partnering.ingest.ods import read_frame, read_table
from partnering.ingest.values import parse_numbers
from partnering.store.db import get_engine

KIND = "imd"
SOURCE = "English Indices of Deprivation 2025 (MHCLG), ICB summary"
SOURCE_LSOA = "IoD 2025 LSOA scores, Census 2021 population-weighted, 2024 Sub-ICB -> 2026 ICB"


def recognise_imd(data: bytes, file: str) -> str:
    """``lsoa``, ``ltla`` or ``icb`` from the header, else one clear error."""
    t = read_table(data[:65536].split(b"\n", 1)[0] + b"\n", file)  # the header line is enough
    if t.has("lsoa21_code", "IMD_score"):
        return "lsoa"
    if t.has("ltla24_code", "imd_average_score"):
        return "ltla"
    if t.has("icb24_code", "imd_average_score"):
        return "icb"
    raise IngestError(file, "is not an IoD 2025 file by LSOA (lsoa21_code, IMD_score), local authority "
                            "(ltla24_code, imd_average_score) or ICB (icb24_code, imd_average_score); header: "
                      + ", ".join((t.header or [])[:6]), row=1)


def _numbers(df: pd.DataFrame, cols: list[str], rejected: list, low: float, high: float) -> np.ndarray:
    """Parse numeric columns; rows with a bad or out-of-range cell are rejected. Returns the keep mask."""
    keep = np.ones(len(df), dtype=bool)
    for col in cols:
        v, bad = parse_numbers(df[col], dash_is_zero=False)
        out = ~bad & ~np.isnan(v) & ((v < low) | (v > high))
        miss = ~bad & np.isnan(v)
        for i in np.flatnonzero(bad | out | miss):
            why = (f"'{df[col].iloc[i]}' is not a number" if bad[i] else "empty" if miss[i]
                   else f"{v[i]:g} is outside [{low:g}, {high:g}]")
            rejected.append((int(df["_line"].iloc[i]), col, why))
        keep &= ~(bad | out | miss)
        df[col] = v
    return keep


def parse_imd_lsoa(data: bytes, file: str) -> tuple[Parsed, pd.DataFrame]:
    df = read_frame(data, ["lsoa21_code", "IMD_score", "IMD_decile"], file)
    parsed = Parsed(kind=KIND, file=file, rows_read=len(df))
    keep = _numbers(df, ["IMD_score"], parsed.rejected, 0, 100)
    keep &= _numbers(df, ["IMD_decile"], parsed.rejected, 1, 10)
    bad_code = ~df["lsoa21_code"].str.fullmatch(r"[EW]0\d{7}")
    for i in np.flatnonzero(bad_code & keep):
        code = df["lsoa21_code"].iloc[i]
        parsed.rejected.append((int(df["_line"].iloc[i]), "lsoa21_code", f"'{code}' is not an LSOA code"))
    keep &= ~bad_code.to_numpy()
    out = df[keep][["lsoa21_code", "IMD_score", "IMD_decile"]].reset_index(drop=True)
    if out["lsoa21_code"].duplicated().any():
        raise IngestError(file, f"LSOA {out.loc[out['lsoa21_code'].duplicated(), 'lsoa21_code'].iloc[0]} repeated")
    parsed.rows_loaded = len(out)
    parsed.notes.append(f"{len(out):,} LSOAs validated (values used by GP practice and ICB context)")
    return parsed, out


def parse_imd_ltla(data: bytes, file: str) -> Parsed:
    df = read_frame(data, ["ltla24_code", "imd_average_score"], file)
    parsed = Parsed(kind=KIND, file=file, rows_read=len(df))
    keep = _numbers(df, ["imd_average_score"], parsed.rejected, 0, 100)
    parsed.rows_loaded = int(keep.sum())
    parsed.notes.append(f"{int(keep.sum())} local authorities validated (values used by trust catchment context)")
    return parsed


def parse_imd_icb(data: bytes, file: str, e54_to_ods: dict[str, str]) -> Parsed:
    prop = "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally"
    df = read_frame(data, ["icb24_code", "icb24_name", "imd_average_score", "imd_rank_of_average_score", prop], file)
    parsed = Parsed(kind=KIND, file=file, rows_read=len(df))
    keep = _numbers(df, ["imd_average_score"], parsed.rejected, 0, 100)
    keep &= _numbers(df, ["imd_rank_of_average_score"], parsed.rejected, 1, 1000)
    keep &= _numbers(df, [prop], parsed.rejected, 0, 1)
    ods = df["icb24_code"].str.upper().map(e54_to_ods)
    for i in np.flatnonzero(keep & ods.isna().to_numpy()):
        parsed.rejected.append((int(df["_line"].iloc[i]), "icb24_code",
                                f"'{df['icb24_code'].iloc[i]}' has no ODS ICB code in the lookup"))
    keep &= ods.notna().to_numpy()
    d, q = df[keep], ods[keep]
    parsed.attributes = pd.concat([
        pd.DataFrame({"org_code": q, "attribute": "imd_score", "value": d["imd_average_score"], "source": SOURCE}),
        pd.DataFrame({"org_code": q, "attribute": "imd_rank", "value": d["imd_rank_of_average_score"],
                      "source": SOURCE}),
        pd.DataFrame({"org_code": q, "attribute": "imd_share_most_deprived_decile", "value": d[prop],
                      "source": SOURCE}),
    ], ignore_index=True)
    parsed.organisations_seen = pd.DataFrame({"org_code": q.to_numpy(), "name": d["icb24_name"].to_numpy()})
    parsed.rows_loaded = int(keep.sum())
    return parsed


def icb26_scores(lsoa_scores: pd.DataFrame, lsoa_lookup: pd.DataFrame, subicb26: pd.DataFrame,
                 only_new: set[str] | None = None) -> tuple[pd.Series, list[str]]:
    """Population-weighted IMD score of 2026 ICBs made wholly of 2024 Sub-ICB locations.

    ``lsoa_lookup``: lsoa21_code, sicbl24_code, pop; ``subicb26``: SICBL26CD, ICB26CDH.
    Returns scores by ODS ICB code and the ICB codes that could not be rebuilt.
    """
    j = lsoa_lookup.merge(lsoa_scores, on="lsoa21_code")
    known = set(j["sicbl24_code"])
    complete = subicb26.groupby("ICB26CDH")["SICBL26CD"].agg(lambda s: set(s) <= known)
    targets = [c for c in complete.index if only_new is None or c in only_new]
    ok = [c for c in targets if complete[c]]
    m = j.merge(subicb26, left_on="sicbl24_code", right_on="SICBL26CD")
    m = m[m["ICB26CDH"].isin(ok)]
    w = m.assign(w=m["pop"] * m["IMD_score"]).groupby("ICB26CDH")[["w", "pop"]].sum()
    return (w["w"] / w["pop"]).rename("imd_score"), sorted(set(targets) - set(ok))


def _e54_lookup(path) -> dict[str, str]:
    df = read_frame(path, ["icb24_code", "icb24_code_nhs"])
    return dict(zip(df["icb24_code"].str.upper(), df["icb24_code_nhs"].str.upper()))


def load_imd(paths, engine=None, icb_lookup=None, lsoa_lookup=None, subicb_lookup=None,
             **batch_opts) -> list[BatchReport]:
    """Load IoD 2025 files (recognised by header), one batch each; see the module docstring.

    ``icb_lookup``: CSV with ``icb24_code, icb24_code_nhs`` (default: shared
    ``geo/areas/icb24-centroid-population.csv``); ``lsoa_lookup`` (LSOA -> Sub-ICB 2024 and population,
    default shared ``geo/areas/lsoa21-centroid-population.csv``) and ``subicb_lookup`` (default shared
    ``nhs/ods/subicb-icb-region-2026.csv``) are used only for the 2026 ICBs.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [(str(p), read_bytes(p)) for p in paths]
    kinds = [recognise_imd(d, f) for f, d in files]
    batches: list[tuple[Parsed, str]] = []
    lsoa_values, lsoa_sum = None, ""
    for (f, d), k in zip(files, kinds):
        if k == "lsoa":
            parsed, lsoa_values = parse_imd_lsoa(d, f)
            lsoa_sum = checksum(d)
            batches.append((parsed, lsoa_sum))
        elif k == "ltla":
            batches.append((parse_imd_ltla(d, f), checksum(d)))
    for (f, d), k in zip(files, kinds):
        if k != "icb":
            continue
        parsed = parse_imd_icb(d, f, _e54_lookup(icb_lookup or shared_data("geo", "areas",
                                                                            "icb24-centroid-population.csv")))
        sums = checksum(d)
        if lsoa_values is not None:
            lk = read_frame(lsoa_lookup or shared_data("geo", "areas", "lsoa21-centroid-population.csv"),
                            ["lsoa21_code", "sicbl24_code", "pop_census2021"])
            lk["pop"], _ = parse_numbers(lk["pop_census2021"])
            sub_path = subicb_lookup or shared_data("nhs", "ods", "subicb-icb-region-2026.csv")
            sub = read_frame(sub_path, ["SICBL26CD", "ICB26CDH"])
            new = set(sub["ICB26CDH"]) - set(parsed.attributes["org_code"])
            scores, missed = icb26_scores(lsoa_values, lk, sub, only_new=new)
            parsed.attributes = pd.concat([parsed.attributes, pd.DataFrame({
                "org_code": scores.index, "attribute": "imd_score", "value": scores.to_numpy(),
                "source": SOURCE_LSOA})], ignore_index=True)
            parsed.notes.append(f"imd_score rebuilt from LSOAs for 2026 ICBs {', '.join(scores.index)}"
                                + (f"; not possible for {', '.join(missed)}" if missed else ""))
            sums = checksum((sums + lsoa_sum).encode())
        batches.append((parsed, sums))
    engine = engine or get_engine()
    return [commit_parsed(p, s, engine, **batch_opts) for p, s in batches]
