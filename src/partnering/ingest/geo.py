"""Geography: boundaries, area populations and centroids, GP practices, travel-time matrices.

* :func:`load_boundaries` validates a GeoJSON boundary file and copies it to
  ``$PARTNERING_HOME/boundaries/<level>.geojson`` (polygons never go into SQL rows); a batch records it.
* :func:`load_icb_areas` writes Census 2021 population and population-weighted centroids as
  attributes of ICB organisations (ODS codes), creates the 2024-map ICBs the store lacks, records
  the 2024 ICBs merged whole into a 2026 ICB as successions, and rebuilds the population of the
  2026 ICBs made of whole 2024 Sub-ICBs.  Local authorities are not organisations: their
  populations feed :mod:`partnering.ingest.context` instead.
* :func:`load_gp_practices` creates GP practices (kind ``gp_practice``) with coordinates, the 2026
  ICB and region (through the practice's Sub-ICB), ``list_size`` and, through the practice's LSOA
  2011 code (unchanged in 2021 for most LSOAs), ``imd_score``.
* :func:`load_travel_matrix` validates an origin x destination matrix of minutes and copies it to
  ``$PARTNERING_HOME/travel/<name>.csv``; :mod:`partnering.match.travel` reads it.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.config import Settings, shared_data
from partnering.errors import IngestError
from partnering.ingest.base import BatchReport, Parsed, checksum, commit_parsed, decode_text, read_bytes
from partnering.ingest.ods import UK_LAT, UK_LON, norm_postcode, read_frame, read_table
from partnering.ingest.values import parse_numbers
from partnering.store.db import get_engine

KIND = "geo"
SRC_AREAS = "ONS Census 2021 population, population-weighted LSOA 2021 centroids (aggregated)"
SRC_GP = "NHS Digital patients registered at a GP practice, July 2023"
SRC_GP_IMD = "IoD 2025 score of the practice's LSOA (2011 code matched to 2021)"
CODE_PROPERTY = re.compile(r"^(?:[a-z]+\d\d(?:cd|_code)|code|[a-z]+_code)$", re.IGNORECASE)
# British Isles with a margin: boundaries include Shetland (60.9N) and Northern Ireland (8.2W)
GEO_LAT = (UK_LAT[0] - 0.2, UK_LAT[1] + 0.2)
GEO_LON = (UK_LON[0] - 0.5, UK_LON[1] + 0.2)


def _home(home) -> Path:
    return Path(home) if home is not None else Settings.from_env().home


def _atomic_copy(data: bytes, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)


CANONICAL_LEVELS = (("sicbl", "subicb"), ("subicb", "subicb"), ("icb", "icb"), ("nhs-region", "region"),
                    ("region", "region"), ("ltla", "ltla"), ("lad", "ltla"))


def _level(name: str) -> str:
    """Boundary level from the file name: ONS-style names map to icb, subicb, region, ltla (what the app draws)."""
    stem = Path(name).name.split(".")[0].lower()
    for prefix, canonical in CANONICAL_LEVELS:
        if stem.startswith(prefix):
            return canonical
    level = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-")
    if not level:
        raise IngestError(name, "cannot name a boundary level from this file name; give level=")
    return level


# ------------------------------------------------------------------------------------------------ boundaries


def _ring_problem(ring) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return "a ring has fewer than 4 positions"
    arr = np.asarray(ring, dtype=object)
    try:
        xy = np.array([[float(p[0]), float(p[1])] for p in arr])
    except (TypeError, ValueError, IndexError):
        return "a position is not a [longitude, latitude] pair of numbers"
    if not np.isfinite(xy).all():
        return "a coordinate is not finite"
    lon, lat = xy[:, 0], xy[:, 1]
    if lon.min() < GEO_LON[0] or lon.max() > GEO_LON[1] or lat.min() < GEO_LAT[0] or lat.max() > GEO_LAT[1]:
        return (f"coordinates ({lon.min():.4g}..{lon.max():.4g}, {lat.min():.4g}..{lat.max():.4g}) are not WGS84 "
                "longitude/latitude inside the UK (British National Grid metres?)")
    if not np.allclose(xy[0], xy[-1]):
        return "a ring is not closed"
    return None


def validate_boundaries(data: bytes, file: str) -> tuple[dict, str]:
    """Check a boundary GeoJSON; return it parsed and the name of its code property.

    A FeatureCollection of Polygon/MultiPolygon features in WGS84 longitude/latitude inside the UK,
    each with a non-empty, unique code property (``ICB22CD``, ``ltla24_code``, ...).
    """
    try:
        gj = json.loads(decode_text(data, file))
    except json.JSONDecodeError as exc:
        raise IngestError(file, f"is not JSON: {exc.msg} at line {exc.lineno}", row=exc.lineno) from None
    if not isinstance(gj, dict) or gj.get("type") != "FeatureCollection":
        raise IngestError(file, "is not a GeoJSON FeatureCollection")
    feats = gj.get("features")
    if not isinstance(feats, list) or not feats:
        raise IngestError(file, "has no features")
    props0 = feats[0].get("properties") or {}
    codes = [k for k in props0 if CODE_PROPERTY.match(k)]
    if not codes:
        raise IngestError(file, "has no code property (such as ICB22CD or ltla24_code) on its features; properties: "
                          + ", ".join(list(props0)[:8]))
    code_prop = codes[0]
    seen: set[str] = set()
    for i, f in enumerate(feats):
        code = str((f.get("properties") or {}).get(code_prop) or "").strip()
        where = f"feature {i + 1}" + (f" ({code})" if code else "")
        if not code:
            raise IngestError(file, f"{where} has no {code_prop}")
        if code in seen:
            raise IngestError(file, f"{where}: {code_prop} {code} appears twice")
        seen.add(code)
        geom = f.get("geometry") or {}
        gtype = geom.get("type")
        if gtype == "Polygon":
            polys = [geom.get("coordinates")]
        elif gtype == "MultiPolygon":
            polys = geom.get("coordinates")
        else:
            raise IngestError(file, f"{where} is a {gtype or 'missing'} geometry, not a Polygon or MultiPolygon")
        if not isinstance(polys, list) or not polys:
            raise IngestError(file, f"{where} has no coordinates")
        for poly in polys:
            if not isinstance(poly, list) or not poly:
                raise IngestError(file, f"{where} has an empty polygon")
            for ring in poly:
                problem = _ring_problem(ring)
                if problem:
                    raise IngestError(file, f"{where}: {problem}")
    return gj, code_prop


def load_boundaries(path, level: str | None = None, engine=None, home=None, **batch_opts) -> BatchReport:
    """Validate a boundary GeoJSON and copy it to ``<home>/boundaries/<level>.geojson`` (level defaults
    to the file's stem, e.g. ``icb22``); records a batch.  An invalid file writes nothing."""
    data = read_bytes(path)
    gj, code_prop = validate_boundaries(data, str(path))
    level = level or _level(str(path))
    if not re.fullmatch(r"[a-z0-9_-]+", level):
        raise IngestError(str(path), f"level '{level}' must be lower-case letters, digits, '-' or '_'")
    n = len(gj["features"])
    parsed = Parsed(kind=KIND, file=str(path), rows_read=n, rows_loaded=n,
                    notes=[f"{n} {level} boundaries (code property {code_prop}) -> boundaries/{level}.geojson"])
    target = _home(home) / "boundaries" / f"{level}.geojson"
    report = commit_parsed(parsed, checksum(data + level.encode()), engine or get_engine(), **batch_opts)
    if not target.exists() or target.read_bytes() != data:
        _atomic_copy(data, target)
    return report


def boundary_path(level: str, home=None) -> Path:
    """Where a loaded boundary level lives (raises if it was never loaded)."""
    p = _home(home) / "boundaries" / f"{level}.geojson"
    if not p.exists():
        raise IngestError(str(p), f"boundary level '{level}' has not been loaded (load_boundaries)")
    return p


# ------------------------------------------------------------------------------------------------ areas


def _num(df: pd.DataFrame, col: str, file: str) -> np.ndarray:
    v, bad = parse_numbers(df[col], dash_is_zero=False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IngestError(file, f"'{df[col].iloc[i]}' is not a number", row=int(df["_line"].iloc[i]), column=col)
    return v


def parse_icb_areas(icb24: pd.DataFrame, lsoa: pd.DataFrame, subicb26: pd.DataFrame, file: str) -> Parsed:
    """ICB population and centroid attributes (2024 ICBs from the aggregated table; 2026 ICBs made of
    whole 2024 Sub-ICBs from LSOAs), 2024 ICBs unknown to the store, and 2024 -> 2026 mergers."""
    parsed = Parsed(kind=KIND, file=file, rows_read=len(icb24))
    pop, lat, lon = (_num(icb24, c, file) for c in ("pop_census2021", "pwc_lat", "pwc_lon"))
    q = icb24["icb24_code_nhs"].str.upper().to_numpy()
    frames = [pd.DataFrame({"org_code": q, "attribute": a, "value": v, "source": SRC_AREAS})
              for a, v in (("population", pop), ("centroid_lat", lat), ("centroid_lon", lon))]
    # 2026 ICBs: LSOA -> 2024 Sub-ICB -> 2026 ICB
    lsoa = lsoa.copy()
    lsoa["pop"] = _num(lsoa, "pop_census2021", file)
    lsoa["lat"] = _num(lsoa, "lat", file)
    lsoa["lon"] = _num(lsoa, "lon", file)
    known = set(lsoa["sicbl24_code"])
    sub = subicb26[["SICBL26CD", "ICB26CDH"]]
    complete = sub.groupby("ICB26CDH")["SICBL26CD"].agg(lambda s: set(s) <= known)
    new = [c for c in complete.index if c not in set(q)]
    ok = [c for c in new if complete[c]]
    m = lsoa.merge(sub, left_on="sicbl24_code", right_on="SICBL26CD")
    m = m[m["ICB26CDH"].isin(ok)]
    g = m.assign(wlat=m["pop"] * m["lat"], wlon=m["pop"] * m["lon"]).groupby("ICB26CDH")[["pop", "wlat", "wlon"]].sum()
    for a, v in (("population", g["pop"]), ("centroid_lat", g["wlat"] / g["pop"]),
                 ("centroid_lon", g["wlon"] / g["pop"])):
        frames.append(pd.DataFrame({"org_code": g.index, "attribute": a, "value": v.to_numpy(),
                                    "source": SRC_AREAS + ", 2024 Sub-ICB -> 2026 ICB"}))
    parsed.attributes = pd.concat(frames, ignore_index=True)
    parsed.organisations_seen = pd.DataFrame({"org_code": q, "name": icb24["icb24_name"].to_numpy()})
    # mergers: a 2024 ICB all of whose Sub-ICBs went to one (different) 2026 ICB
    pairs = (lsoa[["sicbl24_code", "icb24_code_nhs"]].drop_duplicates()
             .merge(sub, left_on="sicbl24_code", right_on="SICBL26CD", how="left"))
    succ = []
    for old, grp in pairs.groupby("icb24_code_nhs"):
        targets = set(grp["ICB26CDH"].dropna())
        if len(targets) == 1 and grp["ICB26CDH"].notna().all() and old not in targets:
            succ.append((old, targets.pop(), None))
    parsed.successions = pd.DataFrame(succ, columns=["old_code", "new_code", "effective"])
    parsed.rows_loaded = len(icb24)
    missed = sorted(set(new) - set(ok))
    parsed.notes.append(f"{len(q)} ICBs (2024) and {len(ok)} new 2026 ICBs with population and centroid"
                        + (f"; not rebuilt (Sub-ICBs changed): {', '.join(missed)}" if missed else "")
                        + f"; {len(succ)} 2024 ICBs merged whole into a 2026 ICB")
    return parsed


def load_icb_areas(engine=None, geo_dir=None, subicb_lookup=None, **batch_opts) -> BatchReport:
    """Population and centroid attributes of ICB organisations (see :func:`parse_icb_areas`)."""
    geo = Path(geo_dir) if geo_dir is not None else shared_data("geo")
    p_icb = geo / "areas" / "icb24-centroid-population.csv"
    p_lsoa = geo / "areas" / "lsoa21-centroid-population.csv"
    p_sub = Path(subicb_lookup) if subicb_lookup is not None else shared_data("nhs", "ods",
                                                                              "subicb-icb-region-2026.csv")
    raw = {p: read_bytes(p) for p in (p_icb, p_lsoa, p_sub)}
    icb24 = read_frame(raw[p_icb], ["icb24_code", "icb24_code_nhs", "icb24_name", "pop_census2021", "pwc_lat",
                                    "pwc_lon"], str(p_icb))
    lsoa = read_frame(raw[p_lsoa], ["lsoa21_code", "sicbl24_code", "icb24_code_nhs", "pop_census2021", "lat", "lon"],
                      str(p_lsoa))
    sub = read_frame(raw[p_sub], ["SICBL26CD", "ICB26CDH"], str(p_sub))
    parsed = parse_icb_areas(icb24, lsoa, sub, str(p_icb))
    sums = checksum("".join(checksum(b) for b in raw.values()).encode())
    return commit_parsed(parsed, sums, engine or get_engine(), **batch_opts)


# ------------------------------------------------------------------------------------------------ GP practices


def parse_gp_practices(reg: pd.DataFrame, file: str, mapping: pd.DataFrame | None = None,
                       lsoa_imd: pd.DataFrame | None = None, subicb26: pd.DataFrame | None = None) -> Parsed:
    """Registered-patients file (one row per practice) -> organisations and attributes.

    ``mapping``: NHS England practice boundary mapping (names, ICB/region 2023, LSOA 2011);
    ``lsoa_imd``: ``lsoa21_code, IMD_score``; ``subicb26``: ``SICBL26CD, ICB26CDH, NHSER26CDH``.
    """
    parsed = Parsed(kind=KIND, file=file, rows_read=len(reg))
    code = reg["CODE"].str.upper()
    size, bad_size = parse_numbers(reg["NUMBER_OF_PATIENTS"], dash_is_zero=False)
    lat, bad_lat = parse_numbers(reg["Latitude"], dash_is_zero=False)
    lon, bad_lon = parse_numbers(reg["Longitude"], dash_is_zero=False)
    keep = np.ones(len(reg), dtype=bool)
    lines = reg["_line"].to_numpy()

    def reject(mask, col, why):
        nonlocal keep
        for i in np.flatnonzero(mask & keep):
            parsed.rejected.append((int(lines[i]), col, why(i)))
        keep &= ~mask

    reject(~code.str.fullmatch(r"[A-Z]\d{5}").to_numpy(), "CODE",
           lambda i: f"'{reg['CODE'].iloc[i]}' is not a GP practice code")
    reject(code.duplicated().to_numpy(), "CODE", lambda i: f"practice {code.iloc[i]} appears again")
    reject(bad_size, "NUMBER_OF_PATIENTS", lambda i: f"'{reg['NUMBER_OF_PATIENTS'].iloc[i]}' is not a number")
    reject(~bad_size & ~np.isnan(size) & ((size < 0) | (size % 1 != 0)), "NUMBER_OF_PATIENTS",
           lambda i: f"{size[i]:g} is not a count of patients")
    reject(bad_lat | bad_lon, "Latitude", lambda i: f"'{reg['Latitude'].iloc[i]}, {reg['Longitude'].iloc[i]}' is "
                                                    "not a pair of numbers")
    has_ll = ~np.isnan(lat) & ~np.isnan(lon)
    outside = has_ll & ((lat < UK_LAT[0]) | (lat > UK_LAT[1]) | (lon < UK_LON[0]) | (lon > UK_LON[1]))
    reject(outside, "Latitude", lambda i: f"({lat[i]:g}, {lon[i]:g}) is not in the UK")
    k = np.flatnonzero(keep)
    orgs = pd.DataFrame({
        "org_code": code.to_numpy()[k], "kind": "gp_practice",
        "postcode": reg["POSTCODE"].str.upper().str.replace(r"\s+", " ", regex=True).to_numpy()[k],
        "latitude": np.where(has_ll, lat, np.nan)[k], "longitude": np.where(has_ll, lon, np.nan)[k],
        "synthetic": False, "source": SRC_GP,
    })
    orgs["name"] = orgs["org_code"]
    ons_sub = reg["ONS_SUB_ICB_LOCATION_CODE"].str.upper().to_numpy()[k] if "ONS_SUB_ICB_LOCATION_CODE" in reg else None
    if subicb26 is not None and ons_sub is not None:
        s = subicb26.drop_duplicates("SICBL26CD").set_index("SICBL26CD")
        orgs["icb_code"] = pd.Series(ons_sub).map(s["ICB26CDH"]).to_numpy()
        orgs["region_code"] = pd.Series(ons_sub).map(s["NHSER26CDH"]).to_numpy()
    has_size = ~np.isnan(size[k])  # "-" or blank: not published, no attribute written
    attrs = [pd.DataFrame({"org_code": orgs["org_code"][has_size], "attribute": "list_size", "value": size[k][has_size],
                           "source": SRC_GP})]
    if mapping is not None:
        mp = mapping.assign(_code=mapping["Practice"].str.upper()).drop_duplicates("_code").set_index("_code")
        m = mp.reindex(orgs["org_code"].to_numpy())
        if "GP practice name" in m:
            names = m["GP practice name"].replace("", np.nan).to_numpy(dtype=object)
            orgs["name"] = np.where(pd.isna(names), orgs["org_code"].to_numpy(), names)
        for col, src in (("icb_code", "ICB23"), ("region_code", "R23")):
            fill = m[src].to_numpy() if src in m else np.full(len(orgs), None)
            cur = orgs[col].to_numpy() if col in orgs else np.full(len(orgs), None)
            orgs[col] = np.where(pd.isna(cur), fill, cur)
        if lsoa_imd is not None and "LSOA11" in m:
            sc = lsoa_imd.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["IMD_score"]
            imd = m["LSOA11"].map(sc).to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(imd)
            attrs.append(pd.DataFrame({"org_code": orgs["org_code"][ok], "attribute": "imd_score", "value": imd[ok],
                                       "source": SRC_GP_IMD}))
            parsed.notes.append(f"IMD 2025 joined for {int(ok.sum()):,} of {len(orgs):,} practices (LSOA 2011 code "
                                "unchanged in 2021)")
        parsed.notes.append(f"{int(m['GP practice name'].notna().sum()) if 'GP practice name' in m else 0:,} "
                            "practices named from the boundary mapping")
    parsed.organisations = orgs
    parsed.attributes = pd.concat(attrs, ignore_index=True)
    parsed.rows_loaded = len(orgs)
    no_ll = int((~has_ll[k]).sum())
    if no_ll:
        parsed.notes.append(f"{no_ll} practices have no coordinates")
    return parsed


def load_gp_practices(path=None, engine=None, mapping=None, lsoa_imd=None, subicb_lookup=None,
                      **batch_opts) -> BatchReport:
    """Load GP practices from the registered-patients file (defaults: the shared files).

    ``mapping`` (practice boundary mapping), ``lsoa_imd`` (IoD 2025 LSOA file) and ``subicb_lookup``
    (Sub-ICB -> ICB -> region 2026) are optional enrichments; pass ``False`` to skip one.
    """
    path = Path(path) if path is not None else shared_data("geo", "gp", "gp-practices-registered-2023-07.csv")
    defaults = {
        "mapping": shared_data("geo", "gp", "practice-boundary-mapping-2023-24.csv"),
        "lsoa_imd": shared_data("nhs", "imd", "imd2025_england_lsoa21.csv"),
        "subicb": shared_data("nhs", "ods", "subicb-icb-region-2026.csv"),
    }
    given = {"mapping": mapping, "lsoa_imd": lsoa_imd, "subicb": subicb_lookup}
    data = read_bytes(path)
    reg = read_frame(data, ["CODE", "POSTCODE", "NUMBER_OF_PATIENTS", "Latitude", "Longitude"], str(path))
    if {"SEX", "AGE"} <= set(reg.columns) and not ((reg["SEX"] == "ALL") & (reg["AGE"] == "ALL")).all():
        raise IngestError(str(path), "holds breakdowns by sex or age; give the file with SEX=ALL, AGE=ALL rows only")
    sums = [checksum(data)]
    frames: dict[str, pd.DataFrame | None] = {}
    required = {"mapping": ["Practice", "ICB23", "R23", "LSOA11"], "lsoa_imd": ["lsoa21_code", "IMD_score"],
                "subicb": ["SICBL26CD", "ICB26CDH", "NHSER26CDH"]}
    for key, default in defaults.items():
        value = given[key]
        if value is False or (value is None and not Path(default).exists()):
            frames[key] = None
            continue
        p = Path(value) if value is not None else Path(default)
        raw = read_bytes(p)
        sums.append(checksum(raw))
        df = read_frame(raw, required[key], str(p))
        if key == "lsoa_imd":
            df["IMD_score"], _ = parse_numbers(df["IMD_score"], dash_is_zero=False)
        frames[key] = df
    parsed = parse_gp_practices(reg, str(path), frames["mapping"], frames["lsoa_imd"], frames["subicb"])
    return commit_parsed(parsed, checksum("".join(sums).encode()), engine or get_engine(), **batch_opts)


# ------------------------------------------------------------------------------------------------ travel matrix


def parse_travel_matrix(data: bytes, file: str) -> pd.DataFrame:
    """An origin x destination matrix of minutes: first column the origin key, header the destination
    keys.  Keys are postcodes (spaces removed, upper case).  Refused unless every cell is a
    non-negative number, keys are unique and most origins are also destinations (square-ish)."""
    t = read_table(data, file)
    hdr = t.header or []
    if len(hdr) < 3:
        raise IngestError(file, "is not a matrix: fewer than 2 destination columns", row=t.header_line)
    dest = [norm_postcode(h) for h in hdr[1:]]
    if len(set(dest)) != len(dest):
        raise IngestError(file, "repeats a destination in its header", row=t.header_line)
    origins, rows = [], []
    for line, r in zip(t.lines, t.rows):
        if len(r) != len(hdr):
            raise IngestError(file, f"has {len(r)} fields where the header has {len(hdr)}", row=line)
        vals, bad = parse_numbers(pd.Series(r[1:]), dash_is_zero=False)
        if bad.any() or np.isnan(vals).any():
            j = int(np.flatnonzero(bad | np.isnan(vals))[0])
            raise IngestError(file, f"'{r[j + 1]}' is not a number of minutes", row=line, column=hdr[j + 1])
        if (vals < 0).any():
            j = int(np.flatnonzero(vals < 0)[0])
            raise IngestError(file, f"negative travel time {vals[j]:g}", row=line, column=hdr[j + 1])
        origins.append(norm_postcode(r[0]))
        rows.append(vals)
    if len(set(origins)) != len(origins):
        raise IngestError(file, "repeats an origin in its first column")
    overlap = len(set(origins) & set(dest)) / max(1, min(len(origins), len(dest)))
    if overlap < 0.9:
        raise IngestError(file, f"is not a square-ish matrix: only {overlap:.0%} of origins are also destinations")
    return pd.DataFrame(np.vstack(rows), index=pd.Index(origins, name="from_postcode"), columns=dest)


def load_travel_matrix(path, name: str | None = None, engine=None, home=None, **batch_opts) -> BatchReport:
    """Validate a travel-time matrix and copy it (normalised keys) to ``<home>/travel/<name>.csv``."""
    data = read_bytes(path)
    m = parse_travel_matrix(data, str(path))
    name = name or _level(str(path))
    n_off = m.size - int(np.isin(m.index, m.columns).sum())
    diag = [m.at[k, k] for k in m.index if k in m.columns]
    note = (f"{m.shape[0]} x {m.shape[1]} minutes -> travel/{name}.csv; diagonal max {max(diag, default=0):g}; "
            f"{n_off} off-diagonal cells; largest asymmetry {_asymmetry(m):.1f} min")
    parsed = Parsed(kind=KIND, file=str(path), rows_read=len(m), rows_loaded=len(m), notes=[note])
    report = commit_parsed(parsed, checksum(data + name.encode()), engine or get_engine(), **batch_opts)
    out = m.to_csv(float_format="%.6g").encode()
    target = _home(home) / "travel" / f"{name}.csv"
    if not target.exists() or target.read_bytes() != out:
        _atomic_copy(out, target)
    return report


def _asymmetry(m: pd.DataFrame) -> float:
    common = [k for k in m.index if k in m.columns]
    if not common:
        return math.nan
    sq = m.loc[common, common].to_numpy()
    return float(np.abs(sq - sq.T).max())


def load_geo(path, engine=None, **batch_opts) -> list[BatchReport]:
    """``partnering ingest geo PATH``: a boundary GeoJSON, the GP practice file, a travel-time matrix, or a
    folder laid out like ``../shared/data/geo`` (boundaries/, areas/, gp/, travel/), loaded in that order."""
    p = Path(path)
    if p.is_dir():
        reports: list[BatchReport] = []
        for f in sorted((p / "boundaries").glob("*.geojson")) if (p / "boundaries").is_dir() else []:
            reports.append(load_boundaries(f, engine=engine, **batch_opts))
        if (p / "areas" / "icb24-centroid-population.csv").is_file():
            reports.append(load_icb_areas(engine=engine, geo_dir=p, **batch_opts))
        for f in sorted((p / "gp").glob("gp-practices-*.csv")) if (p / "gp").is_dir() else []:
            reports.append(load_gp_practices(f, engine=engine, **batch_opts))
        for f in sorted((p / "travel").glob("*travel-minutes*.csv")) if (p / "travel").is_dir() else []:
            reports.append(load_travel_matrix(f, engine=engine, **batch_opts))
        if not reports:
            raise IngestError(str(p), "is a folder with no boundaries/, areas/, gp/ or travel/ files to load")
        return reports
    name = p.name.lower()
    if name.endswith((".geojson", ".json")):
        return [load_boundaries(p, engine=engine, **batch_opts)]
    if "practice" in name and "boundary" not in name:
        return [load_gp_practices(p, engine=engine, **batch_opts)]
    if "travel" in name or "minutes" in name:
        return [load_travel_matrix(p, engine=engine, **batch_opts)]
    raise IngestError(str(p), "is not a recognised geography file (boundary .geojson, GP practices CSV, "
                              "travel-minutes matrix CSV, or a folder of them)")
