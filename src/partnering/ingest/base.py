"""The batch machinery every loader shares.

A loader turns a file into a :class:`Parsed` (pure, no database), and
:func:`commit_parsed` writes it in ONE transaction: the batch record, the
organisations, the observations (new values supersede old ones, keeping the
history) and the rejected rows.  A file that cannot be read raises
:class:`~partnering.errors.IngestError` before anything is written; a file
already loaded (same checksum) changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from partnering.errors import IngestError
from partnering.ingest import rules
from partnering.store import audit
from partnering.store import repository as repo
from partnering.store.db import get_engine
from partnering.store.publication import publication_basis

MAX_REJECTED_SHOWN = 10_000


@dataclass
class Parsed:
    """What a loader made of one file, before anything is written."""

    kind: str
    file: str
    rows_read: int = 0
    observations: pd.DataFrame | None = None  # org_code, indicator, period, numerator, denominator, value
    organisations: pd.DataFrame | None = None  # ORG_COLUMNS subset
    organisations_seen: pd.DataFrame | None = None  # org_code, name (kind): create if unknown, never overwrite
    acute_codes: set[str] = field(default_factory=set)  # orgs this file shows to be acute trusts (type 1 A&E)
    successions: pd.DataFrame | None = None
    sites: pd.DataFrame | None = None
    attributes: pd.DataFrame | None = None  # org_code, attribute, value, source
    rejected: list[tuple[int | None, str | None, str]] = field(default_factory=list)
    period: str | None = None
    rows_loaded: int | None = None
    notes: list[str] = field(default_factory=list)
    # organisations the store does not know: "create" (official files that define them), "reject" (KPI files by
    # default), or an organisation kind to create them as (a KPI load that says so explicitly)
    unknown_organisations: str = "create"
    units: dict[str, str] = field(default_factory=dict)  # units a KPI file declares for its new indicators
    published_on: date | None = None  # when the source published the file, where the file says so
    basis: str | None = None  # how the publication is known, when the loader knows better (store.publication.DERIVED)


@dataclass
class BatchReport:
    batch_id: int | None
    kind: str
    file: str
    status: str  # loaded | unchanged
    period: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    observations_new: int
    observations_superseded: int
    seconds: float
    message: str = ""
    organisations_created: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.status == "unchanged":
            return f"{self.file}: unchanged ({self.message})"
        created = self.organisations_created
        return (
            f"{self.file}: {self.rows_loaded:,} of {self.rows_read:,} rows loaded, {self.rows_rejected:,} rejected; "
            f"{self.observations_new:,} new values, {self.observations_superseded:,} superseded"
            + (f" [{self.period}]" if self.period else "")
            + (f"; new organisations: {', '.join(created[:20])}{' ...' if len(created) > 20 else ''}"
               if created else "")
        )


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise IngestError(str(p), "file not found") from None
    except IsADirectoryError:
        raise IngestError(str(p), "is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(str(p), f"cannot be read: {exc.strerror}") from None


def decode_text(data: bytes, file: str) -> str:
    if b"\x00" in data[:4096]:
        raise IngestError(file, "is a binary file, not text (expected CSV)")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise IngestError(file, "cannot be decoded as UTF-8 or Windows-1252 text")


def commit_parsed(
    parsed: Parsed,
    data_checksum: str,
    engine: Engine | None = None,
    *,
    owner_org: str | None = None,
    published: bool = True,
    uploaded_by: str | None = None,
    published_on: date | None = None,
) -> BatchReport:
    """Write a parsed file in one transaction (all or nothing).

    ``published_on`` is when the source published the file, as the person loading it says (``--published``);
    a date the file itself carries wins (:func:`partnering.store.publication.publication_basis`).
    """
    engine = engine or get_engine()
    t0 = time.perf_counter()
    with engine.begin() as conn:
        prior = repo.find_batch_by_checksum(conn, parsed.kind, data_checksum, owner_org, published)
        if prior is not None:
            return BatchReport(
                prior.id, parsed.kind, parsed.file, "unchanged", prior.period, parsed.rows_read, 0,
                len(parsed.rejected), 0, 0, time.perf_counter() - t0,
                f"identical to batch {prior.id} ({Path(prior.file_name).name}); nothing written",
            )
        started = datetime.now()
        pub_date, basis = publication_basis(parsed.file, parsed.published_on, published_on, started.date())
        basis = parsed.basis or basis
        if published_on is not None and parsed.published_on is not None and published_on != parsed.published_on:
            parsed.notes.append(f"the file says it was published on {parsed.published_on:%Y-%m-%d}: that date is "
                                f"used, not {published_on:%Y-%m-%d}")
        batch_id = repo.create_batch(
            conn, kind=parsed.kind, file_name=parsed.file, checksum=data_checksum, period=parsed.period,
            owner_org=owner_org, published=published, uploaded_by=uploaded_by, started_at=started,
            published_on=pub_date, publication_basis=basis,
        )
        if parsed.organisations is not None:
            repo.upsert_organisations(conn, parsed.organisations)
        admitted = admit_observations(conn, parsed)
        created: list[str] = []
        if parsed.organisations_seen is not None:
            seen = parsed.organisations_seen
            if admitted is not None and parsed.unknown_organisations != "create":
                seen = seen[seen["org_code"].isin(admitted["org_code"])]
            created = sorted(set(seen["org_code"]) - repo.known_organisations(conn, seen["org_code"]))
            policy = parsed.unknown_organisations
            fallback = guess_kind if policy in ("create", "reject") else (lambda c: policy)
            stated = dict(zip(seen["org_code"], seen["kind"])) if "kind" in seen else {}  # a kind the file shows
            repo.ensure_organisations(conn, seen,
                                      lambda c: stated[c] if isinstance(stated.get(c), str) else fallback(c))
        kinds_changed = _mark_acute(conn, parsed.acute_codes) if parsed.acute_codes else []
        if parsed.successions is not None:
            repo.upsert_successions(conn, parsed.successions)
        if parsed.sites is not None:
            repo.replace_sites(conn, parsed.sites)
        if parsed.attributes is not None:
            repo.replace_attributes(conn, parsed.attributes)
        new = sup = older = 0
        indicators_created: list[str] = []
        if admitted is not None and not admitted.empty:
            indicators_created = repo.ensure_indicators(conn, admitted["indicator"].unique(), parsed.units)
            new, sup, older = repo.write_observations(conn, batch_id, admitted, published, owner_org)
        if older:
            parsed.notes.append(f"{older:,} values come from an older publication than the current ones: kept as "
                                "history, superseding nothing")
        repo.add_rejections(conn, batch_id, parsed.rejected)
        rows_loaded = parsed.rows_loaded if parsed.rows_loaded is not None else parsed.rows_read - len(parsed.rejected)
        if admitted is not None and parsed.rows_loaded is not None:
            rows_loaded -= len(parsed.observations) - len(admitted)
        secs = time.perf_counter() - t0
        repo.finish_batch(
            conn, batch_id, rows_read=parsed.rows_read, rows_loaded=rows_loaded, rows_rejected=len(parsed.rejected),
            observations_new=new, observations_superseded=sup, finished_at=datetime.now(), seconds=secs,
            status="loaded", message="; ".join(parsed.notes) or None,
        )
        audit.record(conn, uploaded_by, "data.load", f"batch {batch_id}", None, {
            "kind": parsed.kind, "file": Path(parsed.file).name, "period": parsed.period, "owner_org": owner_org,
            "published": published, "rows_loaded": rows_loaded, "rows_rejected": len(parsed.rejected),
            "values_new": new, "values_superseded": sup, "values_older_publication": older,
            "published_on": pub_date, "publication_basis": basis,
            # what an undo must put back besides the values (partnering.store.undo)
            "undo": {"organisations_created": created, "indicators_created": indicators_created,
                     "kinds_changed": kinds_changed, "not_undoable": _not_undoable(parsed)}})
    return BatchReport(batch_id, parsed.kind, parsed.file, "loaded", parsed.period, parsed.rows_read, rows_loaded,
                       len(parsed.rejected), new, sup, secs, "; ".join(parsed.notes), created)


def admit_observations(conn, parsed: Parsed) -> pd.DataFrame | None:
    """The rows of ``parsed.observations`` that :mod:`partnering.ingest.rules` allows; the others join
    ``parsed.rejected`` with their line (where the loader kept it), column and reason."""
    obs = parsed.observations
    if obs is None:
        return None
    obs = obs.reset_index(drop=True)
    n = len(obs)
    if n == 0:
        return obs.drop(columns="line", errors="ignore")
    why: list[tuple[str, str] | None] = [None] * n
    if parsed.unknown_organisations == "reject":
        known = repo.known_organisations(conn, obs["org_code"].unique())
        for i in np.flatnonzero(~obs["org_code"].isin(known).to_numpy()):
            why[i] = ("org_code", f"organisation '{obs['org_code'].iat[i]}' is not in the store (load the ODS "
                                  "files first, or allow new organisations and say of which kind)")
    defs = repo.indicator_rules(conn, obs["indicator"].unique())
    owners = obs["indicator"].map(defs["owner"]).to_numpy(dtype=object)
    for i in range(n):
        own = owners[i] if isinstance(owners[i], str) else None
        if why[i] is None and not rules.may_write(parsed.kind, own):
            why[i] = ("indicator", rules.owner_reason(obs["indicator"].iat[i], own))
    units = obs["indicator"].map(defs["unit"]).to_numpy(dtype=object).copy()
    for i in range(n):
        if not isinstance(units[i], str):
            units[i] = parsed.units.get(obs["indicator"].iat[i], rules.UNDECLARED_UNIT)
    lower = obs["indicator"].map(defs["lower"]).to_numpy(dtype=float)
    upper = obs["indicator"].map(defs["upper"]).to_numpy(dtype=float)
    for i, reason in enumerate(rules.unit_violations(obs["value"].to_numpy(dtype=float), units, lower, upper)):
        if why[i] is None and reason is not None:
            why[i] = ("value", reason)
    bad = np.array([w is not None for w in why])
    if bad.any():
        lines = obs["line"].to_numpy() if "line" in obs else np.full(n, None)
        parsed.rejected.extend((None if lines[i] is None else int(lines[i]), why[i][0], why[i][1])
                               for i in np.flatnonzero(bad))
        parsed.rejected.sort(key=lambda r: (r[0] or 0))
    return obs[~bad].drop(columns="line", errors="ignore").reset_index(drop=True)


def already_loaded(kind: str, data_checksum: str, file: str, engine: Engine, owner_org: str | None = None,
                   published: bool = True) -> BatchReport | None:
    """The report for a file whose exact bytes this uploader loaded before (so it is not even parsed again)."""
    with engine.connect() as conn:
        prior = repo.find_batch_by_checksum(conn, kind, data_checksum, owner_org, published)
    if prior is None:
        return None
    return BatchReport(prior.id, kind, file, "unchanged", prior.period, prior.rows_read, 0, 0, 0, 0, 0.0,
                       f"identical to batch {prior.id} ({Path(prior.file_name).name}); nothing written")


def load_file(kind: str, path, parse, engine: Engine | None = None, **batch_opts) -> BatchReport:
    """Read ``path``, skip it if these exact bytes were loaded before, else parse and commit in one transaction.

    ``parse(data, file)`` is the loader's pure parser returning a :class:`Parsed`.
    """
    from partnering.ingest.values import valid_period

    period = batch_opts.pop("period", None)
    if period is not None and not valid_period(period):
        raise IngestError(str(path), f"period {period!r} is not an ISO month (YYYY-MM)")
    salt = batch_opts.pop("checksum_salt", "")
    engine = engine or get_engine()
    data = read_bytes(path)
    digest = checksum(data + salt.encode()) if salt else checksum(data)
    prior = already_loaded(kind, digest, str(path), engine, batch_opts.get("owner_org"),
                           batch_opts.get("published", True))
    if prior is not None:
        return prior
    parsed = parse(data, str(path), period) if period is not None else parse(data, str(path))
    return commit_parsed(parsed, digest, engine, **batch_opts)


# Specialist trusts with a type 1 A&E (children's, women's, orthopaedic, eye, heart and chest, cancer) are not
# compared with general acute trusts: NHS England's Oversight Framework 2025/26 ranks acute and specialist trusts
# in separate league tables. Recognised by name — a heuristic, listed here so it can be checked and extended.
SPECIALIST_NAME = re.compile(
    r"\b(CHILDREN'?S|WOMEN'?S|ORTHOPAEDIC|MOORFIELDS|EYE|HEART|CHEST|PAPWORTH|CLATTERBRIDGE|MARSDEN|CHRISTIE|"
    r"ROBERT JONES|ROYAL NATIONAL|WALTON CENTRE|QUEEN VICTORIA)\b",
    re.IGNORECASE,
)


def _not_undoable(parsed: Parsed) -> str | None:
    """Why a batch cannot be undone exactly, or None: reference data (ODS, geography, context) is replaced in place
    without history, so only a later load of the same source changes it back."""
    replaced = [what for what, frame in (("organisations", parsed.organisations), ("successions", parsed.successions),
                                         ("sites", parsed.sites), ("attributes", parsed.attributes))
                if frame is not None and not frame.empty]
    if replaced:
        return (f"a {parsed.kind} load replaces reference data ({', '.join(replaced)}) without keeping history; "
                "load the earlier file again instead")
    return None


def _mark_acute(conn, codes: set[str]) -> list[tuple[str, str]]:
    """Trusts a file shows to have type 1 A&E become acute trusts, or specialist trusts by name.

    Returns (code, kind before) of each organisation whose kind changed."""
    from sqlalchemy import select, update

    from partnering.store.models import Organisation

    rows = conn.execute(
        select(Organisation.org_code, Organisation.name).where(
            Organisation.org_code.in_(sorted(codes)), Organisation.kind.in_(["trust", "other_provider"])
        )
    ).all()
    before = dict(conn.execute(select(Organisation.org_code, Organisation.kind).where(
        Organisation.org_code.in_([c for c, _ in rows]))).all()) if rows else {}
    changed = []
    for kind in ("acute_trust", "specialist_trust"):
        chosen = [c for c, n in rows if bool(SPECIALIST_NAME.search(n or "")) == (kind == "specialist_trust")]
        if chosen:
            conn.execute(update(Organisation).where(Organisation.org_code.in_(chosen)).values(kind=kind))
            changed += [(c, before[c]) for c in chosen if before.get(c) != kind]
    return sorted(changed)


def guess_kind(code: str) -> str:
    """Kind of an organisation known only by its ODS code (MANIFEST: 3 chars = NHS trust; 5 = site; 6 = other)."""
    code = str(code)
    if len(code) == 3 and code[0] in "RT":
        return "trust"
    if len(code) == 3 and code[0] == "Q":
        return "icb"
    if len(code) == 3 and code[0] == "Y" and code[1:].isdigit():
        return "region"
    if len(code) == 6 and code[0].isalpha() and code[1:].isdigit():
        return "gp_practice"
    if len(code) == 3 and code[0] == "N":
        return "independent_provider"
    return "other_provider"
