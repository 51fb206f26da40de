"""Organisation Data Service (ODS) reference files: trusts, sites, successors, ICBs and regions.

Files are recognised by their content, never by their names:

==========================  ======================================================================
``etr.csv``                 NHS trusts, NO header: 0 code, 1 name, 2 NHS England region (Y5x),
                            3 ICB, 4-8 address, 9 postcode, 10 open date, 11 close date (YYYYMMDD).
                            Recognised by shape: at least 12 columns, an ODS code first and a
                            YYYYMMDD open date in column 11.
``postcode-latlong.csv``    ``pcds, lat, long``: postcode centroid of every postcode in etr.csv.
                            Only loaded together with etr.csv (it says where trusts are).
``hospital-sites-2018.csv`` NHS Choices hospital sites (``OrganisationCode, ParentODSCode, Sector,
                            Postcode, Latitude, Longitude`` ...) -> sites; independent-sector
                            parents unknown to the store become ``independent_provider``.
``org-successors.csv``      ``old_code, new_code, date`` -> successions, and the successor code of
                            closed organisations.
``subicb-icb-region-*.csv`` ONS/ODS Sub-ICB -> ICB -> region lookup -> ICB organisations (ODS code,
                            e.g. ``QMF`` or the 2026 five-character codes) and the 7 NHS England
                            regions (``Y56`` ... ``Y63``).
``trust-*-catchment.csv``   share of each trust's patients coming from each local authority /
                            ICB -> two cheap concentration attributes per trust
                            (``catchment_top_area_share``, ``catchment_effective_areas``); the
                            deprivation, population and age context is computed by
                            :mod:`partnering.ingest.context`.
==========================  ======================================================================

Kinds of trust from ``etr.csv``.  The file says nothing about what a trust does, so the kind is
``trust`` unless the name is unambiguous:

* ``AMBULANCE`` -> ``ambulance_trust`` (11 names, all ambulance services);
* ``MENTAL HEALTH`` -> ``mental_health_trust`` (all 10 such names are mental health trusts);
* ``COMMUNITY`` (without ``HOSPITAL``) -> ``community_trust`` (15 names, all community trusts).

Deliberately NOT used: ``PARTNERSHIP`` (mostly mental health, but Staffordshire and Stoke on Trent
Partnership was a community trust and Calderstones a learning-disability trust), ``CARE`` (also in
"HEALTHCARE"; Northern Care Alliance and Tameside and Glossop Integrated Care are acute, Mersey Care
and Pennine Care mental health), ``HEALTHCARE``/``HEALTH AND CARE`` (acute, community and mental
health trusts alike).  Those stay ``trust`` until evidence arrives: the A&E loader upgrades trusts
with type 1 attendances to ``acute_trust``.  A kind the store already knows more precisely than
``trust`` is never overwritten by a name hint.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import IngestError
from partnering.ingest.base import BatchReport, Parsed, checksum, commit_parsed, decode_text, read_bytes
from partnering.ingest.values import CellError, parse_number
from partnering.store import repository as repo
from partnering.store.db import get_engine

KIND = "ods"
SOURCE = "ODS etr.csv (NHS trusts), postcode centroids"
ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
UK_LAT = (49.8, 61.0)  # Scilly to Shetland
UK_LON = (-8.7, 2.0)  # Northern Ireland west coast to Lowestoft
IMPRECISE_KINDS = {"trust", "other_provider"}


# --------------------------------------------------------------------------------------------- CSV reading


@dataclass
class Table:
    """A CSV file as strings, each row with the physical line (1-based) it starts on."""

    file: str
    header: list[str] | None
    rows: list[list[str]]
    lines: list[int]
    header_line: int = 1
    notes: list[str] = field(default_factory=list)

    def column(self, name: str) -> int:
        """Index of the column whose normalised name is ``name`` (case, spaces and BOM ignored)."""
        want = _norm(name)
        for i, h in enumerate(self.header or []):
            if _norm(h) == want:
                return i
        raise IngestError(self.file, f"has no '{name}' column", row=self.header_line)

    def has(self, *names: str) -> bool:
        have = {_norm(h) for h in self.header or []}
        return all(_norm(n) in have for n in names)

    def frame(self) -> pd.DataFrame:
        width = max((len(r) for r in self.rows), default=0)
        cols = list(self.header or []) + [f"_extra{i}" for i in range(len(self.header or []), width)]
        rows = [r + [""] * (len(cols) - len(r)) for r in self.rows]
        df = pd.DataFrame(rows, columns=[c.strip() for c in cols], dtype=object)
        df["_line"] = self.lines
        return df


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "").strip().lower())


def read_table(data: bytes, file: str, header: bool = True) -> Table:
    """Parse CSV bytes (UTF-8 with or without BOM, or Windows-1252; CRLF or LF) into a :class:`Table`.

    Cells are stripped of surrounding spaces; blank lines are skipped.  A file that is binary, not
    CSV, or has a field longer than the ``csv`` module's limit (131,072 characters) is refused
    with one :class:`IngestError`.
    """
    if not data.strip():
        raise IngestError(file, "is empty")
    text = decode_text(data, file)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for rec in reader:
            if rec and any(c.strip() for c in rec):
                rows.append([c.strip() for c in rec])
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise IngestError(file, f"is not a readable CSV file: {exc}", row=reader.line_num) from None
    if not rows:
        raise IngestError(file, "has no rows")
    if header:
        return Table(file, rows[0], rows[1:], lines[1:], header_line=lines[0])
    return Table(file, None, rows, lines, header_line=0)


def read_frame(path_or_data, required: list[str], file: str | None = None) -> pd.DataFrame:
    """A CSV with a header as a DataFrame of stripped strings plus ``_line`` (physical line of each row).

    Refuses (one :class:`IngestError`, nothing else done) a file lacking any ``required`` column.
    Column names keep their spelling; matching of ``required`` ignores case, spaces and a BOM.
    """
    if isinstance(path_or_data, bytes):
        data, file = path_or_data, file or "<bytes>"
    else:
        file = file or str(path_or_data)
        data = read_bytes(path_or_data)
    t = read_table(data, file)
    missing = [c for c in required if not t.has(c)]
    if missing:
        raise IngestError(file, "lacks the column(s) " + ", ".join(f"'{c}'" for c in missing)
                          + " (header: " + ", ".join((t.header or [])[:10]) + ")", row=t.header_line)
    df = t.frame()
    rename = {c: req for c in df.columns for req in required if _norm(c) == _norm(req)}
    return df.rename(columns=rename)


def number(cell: str) -> float:
    """A numeric cell ("1,105", " 3.2 ", "-" = missing) or NaN; raises CellError if not a number."""
    return parse_number(cell, dash_is_zero=False)


def norm_postcode(pc: str) -> str:
    return re.sub(r"\s+", "", str(pc)).upper()


def _date(cell: str):
    cell = cell.strip()
    if not cell:
        return None
    d = repo.parse_iso_date(cell)
    if d is None or not re.fullmatch(r"\d{8}|\d{4}-\d\d-\d\d", cell):
        raise CellError(f"'{cell}' is not a date (YYYYMMDD or YYYY-MM-DD)")
    return d


def _in_uk(lat: float, lon: float) -> bool:
    return UK_LAT[0] <= lat <= UK_LAT[1] and UK_LON[0] <= lon <= UK_LON[1]


# --------------------------------------------------------------------------------------------- recognising


def _looks_like_etr(first: list[str]) -> bool:
    return (
        len(first) >= 12
        and bool(ODS_CODE.match(first[0]))
        and bool(re.fullmatch(r"(19|20)\d{6}", first[10]))
        and not any(_norm(c) in ("code", "org code", "organisation code") for c in first)
    )


def recognise(data: bytes, file: str) -> tuple[str, Table]:
    """Say which ODS file ``data`` is (``trusts``, ``postcodes``, ``sites``, ``successors``,
    ``icb_lookup``, ``catchment_ltla``, ``catchment_icb``) and return it read."""
    raw = read_table(data, file, header=False)
    first = raw.rows[0]
    if _looks_like_etr(first):
        return "trusts", raw
    t = Table(file, first, raw.rows[1:], raw.lines[1:], header_line=raw.lines[0])
    if not t.rows:
        raise IngestError(file, "has a header but no rows", row=raw.lines[0])
    names = {_norm(h) for h in first}
    if {"pcds", "lat", "long"} <= names or ({"postcode", "lat"} <= names and names & {"long", "lon"}):
        return "postcodes", t
    if {"organisationcode", "parentodscode", "sector", "latitude", "longitude"} <= names:
        return "sites", t
    if {"old_code", "new_code"} <= names:
        return "successors", t
    if any(re.fullmatch(r"icb\d\dcdh", n) for n in names) and any(re.fullmatch(r"nhser\d\dcdh", n) for n in names):
        return "icb_lookup", t
    if "nhs_trust22_code" in names and "ltla21_code" in names:
        return "catchment_ltla", t
    if "nhs_trust22_code" in names and "icb22_code" in names:
        return "catchment_icb", t
    shown = ", ".join(first[:8]) + (" ..." if len(first) > 8 else "")
    raise IngestError(
        file,
        "is not one of the ODS files this loader reads (etr.csv trusts without header, postcode lat/long, "
        "hospital sites, org successors, Sub-ICB/ICB/region lookup, trust catchment shares); "
        f"its first line is: {shown}",
        row=raw.lines[0],
    )


# --------------------------------------------------------------------------------------------- parsers


def kind_from_name(name: str) -> str:
    """Kind of an NHS trust from its name, only where the name is unambiguous (see module docstring)."""
    n = f" {name.upper()} "
    if "AMBULANCE" in n:
        return "ambulance_trust"
    if "MENTAL HEALTH" in n:
        return "mental_health_trust"
    if " COMMUNITY " in n and "HOSPITAL" not in n:
        return "community_trust"
    return "trust"


def parse_postcodes(t: Table) -> tuple[dict[str, tuple[float, float]], list]:
    names = {_norm(h) for h in t.header or []}
    pc = t.column("pcds" if "pcds" in names else "postcode")
    la = t.column("lat")
    lo = t.column("long" if "long" in names else "lon")
    out: dict[str, tuple[float, float]] = {}
    rejected = []
    for line, r in zip(t.lines, t.rows):
        if len(r) <= max(pc, la, lo):
            rejected.append((line, None, f"has {len(r)} fields, expected at least {max(pc, la, lo) + 1}"))
            continue
        try:
            lat, lon = number(r[la]), number(r[lo])
        except CellError as exc:
            rejected.append((line, t.header[la], str(exc)))
            continue
        if np.isnan(lat) or np.isnan(lon) or not _in_uk(lat, lon):
            rejected.append((line, t.header[la], f"({r[la]}, {r[lo]}) is not a UK latitude/longitude"))
            continue
        out[norm_postcode(r[pc])] = (lat, lon)
    return out, rejected


def parse_trusts(t: Table, postcodes: dict[str, tuple[float, float]] | None = None) -> Parsed:
    """etr.csv (no header) -> organisations, with coordinates from the postcode lookup if given."""
    parsed = Parsed(kind=KIND, file=t.file, rows_read=len(t.rows))
    recs = []
    no_coords = []
    for line, r in zip(t.lines, t.rows):
        if len(r) < 12:
            parsed.rejected.append((line, None, f"has {len(r)} fields; an etr.csv row has at least 12"))
            continue
        code, name = r[0].upper(), r[1]
        if not ODS_CODE.match(code):
            parsed.rejected.append((line, "column 1 (code)", f"'{r[0]}' is not an ODS code"))
            continue
        if not name:
            parsed.rejected.append((line, "column 2 (name)", "name is empty"))
            continue
        try:
            opened = _date(r[10])
        except CellError as exc:
            parsed.rejected.append((line, "column 11 (open date)", str(exc)))
            continue
        try:
            closed = _date(r[11])
        except CellError as exc:
            parsed.rejected.append((line, "column 12 (close date)", str(exc)))
            continue
        region = r[2].upper() or None
        if region and not re.fullmatch(r"Y\d\d", region):
            parsed.rejected.append((line, "column 3 (region)", f"'{r[2]}' is not an NHS England region code (Y5x)"))
            continue
        lat = lon = None
        postcode = re.sub(r"\s+", " ", r[9]).upper() or None
        if postcodes is not None and postcode:
            ll = postcodes.get(norm_postcode(postcode))
            if ll is None:
                no_coords.append(code)
            else:
                lat, lon = ll
        recs.append({
            "org_code": code, "name": name, "kind": kind_from_name(name), "icb_code": r[3].upper() or None,
            "region_code": region, "postcode": postcode, "latitude": lat, "longitude": lon,
            "open_date": opened, "close_date": closed, "synthetic": False, "source": SOURCE,
        })
    orgs = pd.DataFrame(recs)
    if not orgs.empty:
        dup = orgs["org_code"].duplicated()
        if dup.any():
            raise IngestError(t.file, f"organisation {orgs.loc[dup, 'org_code'].iloc[0]} appears on more than one row")
    parsed.organisations = orgs
    parsed.rows_loaded = len(orgs)
    if postcodes is None:
        parsed.notes.append("no postcode lookup given: trusts loaded without coordinates")
    elif no_coords:
        parsed.notes.append(f"{len(no_coords)} trusts have a postcode missing from the lookup: "
                            f"{', '.join(no_coords[:10])}")
    return parsed


def parse_sites(t: Table) -> Parsed:
    """NHS Choices hospital sites -> sites; independent-sector parents -> organisations (kind independent)."""
    parsed = Parsed(kind=KIND, file=t.file, rows_read=len(t.rows))
    ix = {k: t.column(k) for k in ("OrganisationCode", "OrganisationName", "Sector", "Postcode", "Latitude",
                                   "Longitude", "ParentODSCode")}
    pname = t.column("ParentName") if t.has("ParentName") else None
    seen: dict[str, int] = {}
    sites, parents = [], []
    for line, r in zip(t.lines, t.rows):
        if len(r) < len(t.header or []):
            parsed.rejected.append((line, None, f"has {len(r)} fields, the header has {len(t.header or [])}"))
            continue
        code = r[ix["OrganisationCode"]].upper()
        if not ODS_CODE.match(code):
            parsed.rejected.append((line, "OrganisationCode", f"'{code}' is not an ODS code"))
            continue
        if code in seen:
            parsed.rejected.append((line, "OrganisationCode", f"site {code} already given on line {seen[code]}"))
            continue
        parent = r[ix["ParentODSCode"]].upper() or None
        if parent is not None and not ODS_CODE.match(parent):
            parsed.rejected.append((line, "ParentODSCode", f"'{parent}' is not an ODS code"))
            continue
        try:
            lat, lon = number(r[ix["Latitude"]]), number(r[ix["Longitude"]])
        except CellError as exc:
            parsed.rejected.append((line, "Latitude", str(exc)))
            continue
        if np.isnan(lat) or np.isnan(lon):
            lat = lon = None
        elif not _in_uk(lat, lon):
            parsed.rejected.append((line, "Latitude", f"({lat}, {lon}) is not a UK latitude/longitude"))
            continue
        seen[code] = line
        sector_text = r[ix["Sector"]].lower()
        sector = "independent" if "independent" in sector_text else "nhs" if "nhs" in sector_text else (
            sector_text or None)
        sites.append({"site_code": code, "org_code": parent, "name": r[ix["OrganisationName"]] or code,
                      "sector": sector, "postcode": re.sub(r"\s+", " ", r[ix["Postcode"]]).upper() or None,
                      "latitude": lat, "longitude": lon})
        if sector == "independent" and parent:
            parents.append({"org_code": parent, "name": (r[pname] if pname is not None else "") or parent,
                            "kind": "independent_provider", "synthetic": False,
                            "source": "NHS Choices hospital sites (2018): independent-sector parent"})
    parsed.sites = pd.DataFrame(sites)
    parsed.organisations = pd.DataFrame(parents).drop_duplicates("org_code") if parents else None
    parsed.rows_loaded = len(sites)
    missing = sum(1 for s in sites if s["latitude"] is None)
    if missing:
        parsed.notes.append(f"{missing} sites have no coordinates")
    return parsed


def parse_successors(t: Table) -> Parsed:
    """``old_code, new_code, date`` -> successions (one row per pair; the latest date kept)."""
    parsed = Parsed(kind=KIND, file=t.file, rows_read=len(t.rows))
    o, n = t.column("old_code"), t.column("new_code")
    d = t.column("date") if t.has("date") else (t.column("effective") if t.has("effective") else None)
    recs = []
    for line, r in zip(t.lines, t.rows):
        if len(r) <= max(o, n, d or 0):
            parsed.rejected.append((line, None, f"has {len(r)} fields"))
            continue
        old, new = r[o].upper(), r[n].upper()
        bad = next((c for c, v in (("old_code", old), ("new_code", new)) if not re.fullmatch(r"[A-Z0-9]{2,6}", v)),
                   None)
        if bad:
            parsed.rejected.append((line, bad, f"'{r[o] if bad == 'old_code' else r[n]}' is not an ODS code"))
            continue
        if old == new:
            parsed.rejected.append((line, "new_code", f"{old} cannot succeed itself"))
            continue
        try:
            eff = _date(r[d]) if d is not None else None
        except CellError as exc:
            parsed.rejected.append((line, t.header[d], str(exc)))
            continue
        recs.append((old, new, eff))
    succ = pd.DataFrame(recs, columns=["old_code", "new_code", "effective"])
    before = len(succ)
    succ = (succ.sort_values(["old_code", "new_code", "effective"], na_position="first")
            .drop_duplicates(["old_code", "new_code"], keep="last").reset_index(drop=True))
    if before > len(succ):
        parsed.notes.append(f"{before - len(succ)} repeated old->new pairs with another date: the latest date kept")
    parsed.successions = succ
    parsed.rows_loaded = before
    return parsed


def direct_successors(succ: pd.DataFrame) -> dict[str, str]:
    """old -> its successor (where split, the latest effective date wins, then the first code)."""
    s = succ.sort_values(["old_code", "effective", "new_code"], ascending=[True, False, True], na_position="last")
    s = s.drop_duplicates("old_code")
    return dict(zip(s["old_code"], s["new_code"]))


def parse_icb_lookup(t: Table) -> Parsed:
    """Sub-ICB -> ICB -> region lookup -> ICB organisations (ODS code, region) and region organisations."""
    parsed = Parsed(kind=KIND, file=t.file, rows_read=len(t.rows))
    hdr = [_norm(h) for h in t.header or []]

    def find(pattern: str) -> int:
        hits = [i for i, h in enumerate(hdr) if re.fullmatch(pattern, h)]
        if not hits:
            raise IngestError(t.file, f"has no column matching {pattern.upper()}", row=t.header_line)
        return hits[0]

    icb, icb_nm, reg, reg_nm = find(r"icb\d\dcdh"), find(r"icb\d\dnm"), find(r"nhser\d\dcdh"), find(r"nhser\d\dnm")
    year = re.search(r"\d\d", hdr[icb]).group(0)
    icbs, regions = {}, {}
    for line, r in zip(t.lines, t.rows):
        if len(r) <= max(icb, icb_nm, reg, reg_nm):
            parsed.rejected.append((line, None, f"has {len(r)} fields"))
            continue
        q, region = r[icb].upper(), r[reg].upper()
        if not ODS_CODE.match(q):
            parsed.rejected.append((line, t.header[icb], f"'{r[icb]}' is not an ODS ICB code"))
            continue
        if not re.fullmatch(r"Y\d\d", region):
            parsed.rejected.append((line, t.header[reg], f"'{r[reg]}' is not an NHS England region code"))
            continue
        if q in icbs and icbs[q]["region_code"] != region:
            parsed.rejected.append((line, t.header[reg], f"ICB {q} already in region {icbs[q]['region_code']}"))
            continue
        icbs[q] = {"org_code": q, "name": r[icb_nm] or q, "kind": "icb", "region_code": region,
                   "synthetic": False, "source": f"ONS Sub-ICB/ICB/region lookup 20{year}"}
        regions[region] = {"org_code": region, "name": r[reg_nm] or region, "kind": "region",
                           "synthetic": False, "source": f"ONS Sub-ICB/ICB/region lookup 20{year}"}
    parsed.organisations = pd.DataFrame(list(regions.values()) + list(icbs.values()))
    parsed.rows_loaded = parsed.rows_read - len(parsed.rejected)
    parsed.notes.append(f"{len(icbs)} ICBs and {len(regions)} regions")
    return parsed


def parse_catchment(t: Table, level: str) -> Parsed:
    """Trust catchment shares -> per trust the largest single-area share and the effective number of
    areas (1 / sum of squared shares, the inverse Herfindahl index: 1 = all patients from one area)."""
    parsed = Parsed(kind=KIND, file=t.file, rows_read=len(t.rows))
    area_col = "ltla21_code" if level == "ltla" else "icb22_code"
    c, a = t.column("nhs_trust22_code"), t.column(area_col)
    s = [i for i, h in enumerate(t.header or []) if _norm(h).startswith("proportion")]
    if not s:
        raise IngestError(t.file, "has no 'proportion...' column", row=t.header_line)
    s = s[0]
    recs = []
    for line, r in zip(t.lines, t.rows):
        try:
            share = number(r[s])
        except (CellError, IndexError) as exc:
            parsed.rejected.append((line, t.header[s], str(exc) or "missing share"))
            continue
        if not (0 <= share <= 1):
            parsed.rejected.append((line, t.header[s], f"share {r[s]} is not between 0 and 1"))
            continue
        recs.append((r[c].upper(), r[a].upper(), share))
    df = pd.DataFrame(recs, columns=["org_code", "area", "share"])
    g = df.groupby("org_code")["share"]
    sums = g.sum()
    off = sums[(sums - 1).abs() > 0.01]
    if len(off):
        parsed.notes.append(f"{len(off)} trusts' shares do not sum to 1 (e.g. {off.index[0]}: {off.iloc[0]:.3f})")
    label = "local authority (2021)" if level == "ltla" else "ICB (2022)"
    src = f"trust catchment shares by {label}, 2022 (humaniverse/geographr)"
    top = g.max() / sums
    eff = sums**2 / g.apply(lambda x: float((x**2).sum()))
    parsed.attributes = pd.concat([
        pd.DataFrame({"org_code": top.index, "attribute": f"catchment_top_{level}_share", "value": top.values,
                      "source": src}),
        pd.DataFrame({"org_code": eff.index, "attribute": f"catchment_effective_{level}s", "value": eff.values,
                      "source": src}),
    ], ignore_index=True)
    parsed.rows_loaded = len(df)
    return parsed


# --------------------------------------------------------------------------------------------- loading

_ORDER = ["icb_lookup", "trusts", "sites", "successors", "catchment_ltla", "catchment_icb"]


def parse_ods(files: list[tuple[str, bytes]]) -> list[tuple[Parsed, str]]:
    """Recognise and parse ODS files (pure).  Returns (Parsed, checksum) per batch in loading order:
    etr.csv and its postcode lookup form one batch; every other file its own."""
    by_kind: dict[str, list[tuple[str, bytes, Table]]] = {}
    for name, data in files:
        kind, table = recognise(data, name)
        by_kind.setdefault(kind, []).append((name, data, table))
    for kind, items in by_kind.items():
        if len(items) > 1 and kind in ("trusts", "postcodes"):
            raise IngestError(items[1][0], f"is a second {kind} file (also {items[0][0]}); give one at a time")
    if "postcodes" in by_kind and "trusts" not in by_kind:
        raise IngestError(by_kind["postcodes"][0][0],
                          "is a postcode lookup; it is loaded together with the trusts file etr.csv (give both)")
    out: list[tuple[Parsed, str]] = []
    for kind in _ORDER:
        for name, data, table in by_kind.get(kind, []):
            if kind == "trusts":
                pc = by_kind.get("postcodes")
                lookup = None
                sums = checksum(data)
                if pc:
                    lookup, pc_rejected = parse_postcodes(pc[0][2])
                parsed = parse_trusts(table, lookup)
                if pc:
                    parsed.file = f"{name} (+ {Path(pc[0][0]).name})"
                    parsed.rejected += [(ln, f"{Path(pc[0][0]).name}: {col}" if col else Path(pc[0][0]).name, why)
                                        for ln, col, why in pc_rejected]
                    sums = checksum((sums + checksum(pc[0][1])).encode())
                out.append((parsed, sums))
                continue
            parsed = {
                "sites": parse_sites,
                "successors": parse_successors,
                "icb_lookup": parse_icb_lookup,
                "catchment_ltla": lambda t: parse_catchment(t, "ltla"),
                "catchment_icb": lambda t: parse_catchment(t, "icb"),
            }[kind](table)
            out.append((parsed, checksum(data)))
    return out


def _respect_store(parsed: Parsed, engine) -> None:
    """Adjust a parsed ODS batch to what the store already knows (read-only; before the write)."""
    known = repo.organisations_frame(engine)
    kinds = dict(zip(known["org_code"], known["kind"]))
    orgs = parsed.organisations
    if orgs is not None and not orgs.empty:
        orgs = orgs.copy()
        if (orgs["kind"] == "independent_provider").all() and parsed.sites is not None:
            orgs = orgs[~orgs["org_code"].isin(kinds)]  # never overwrite a known organisation
        else:
            stored = orgs["org_code"].map(kinds)
            precise = stored.notna() & ~stored.isin(IMPRECISE_KINDS) & orgs["kind"].isin(IMPRECISE_KINDS | {
                "ambulance_trust", "mental_health_trust", "community_trust"})
            orgs.loc[precise, "kind"] = stored[precise]
        parsed.organisations = orgs
    if parsed.successions is not None and not parsed.successions.empty:
        nxt = direct_successors(parsed.successions)
        closed = known[known["close_date"].notna()]["org_code"]
        upd = [(c, nxt[c]) for c in closed if c in nxt]
        if upd:
            parsed.organisations = pd.DataFrame(upd, columns=["org_code", "successor_code"])
            parsed.notes.append(f"successor code set on {len(upd)} closed organisations")


def load_ods(paths, engine=None, **batch_opts) -> list[BatchReport]:
    """Load one or more ODS files (recognised by content) in a sensible order, one batch each
    (etr.csv with its postcode lookup as one).  Any unreadable or unrecognised file stops the
    whole call before anything is written."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [(str(p), read_bytes(p)) for p in paths]
    batches = parse_ods(files)
    engine = engine or get_engine()
    reports = []
    for parsed, sums in batches:
        _respect_store(parsed, engine)  # batches are in order: trusts are stored before successors are read
        reports.append(commit_parsed(parsed, sums, engine, **batch_opts))
    return reports


def load_ods_folder(folder, engine=None, **batch_opts) -> list[BatchReport]:
    """Load every recognised ODS file in ``folder`` (CSV files; others ignored): ICBs and regions,
    then trusts with coordinates, hospital sites, successors and catchment concentration."""
    folder = Path(folder)
    if not folder.is_dir():
        raise IngestError(str(folder), "is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
    if not paths:
        raise IngestError(str(folder), "holds no CSV files")
    return load_ods(paths, engine, **batch_opts)
