"""Monthly indicators computed from records, into the store by the same path as published files.

Each family goes in its own batch through :func:`partnering.ingest.base.commit_parsed`, the batch's kind being the
indicators' owner in the catalogue — A&E indicators published files also carry as an ``ae-monthly`` batch, RTT ones
as an ``rtt`` batch, and the A&E indicators only records give (type 2 and types 3-4 within 4 hours, 12 hours from
arrival) as an ``ae-record-level`` batch (:data:`RECORD_LEVEL`), an owner no published file's loader has — so the
same ownership, unit and organisation rules apply and each batch can be undone exactly.  Every batch's publication
basis is :data:`partnering.store.publication.DERIVED` ("derived from record-level data"), which downloads read to
apply small-number suppression (:func:`partnering.report.export.derived_mask`).  Indicators with ``in_catalogue``
False (:mod:`partnering.definitions.measures`) stay in the output file.  Organisations must already be in the store
(records of unknown codes were rejected).
"""

from __future__ import annotations

import hashlib

from partnering.compute.run import ComputeResult
from partnering.definitions.measures import MEASURES
from partnering.indicators.catalogue import RECORD_LEVEL_OWNER
from partnering.ingest.base import BatchReport, Parsed, commit_parsed
from partnering.store.publication import DERIVED

#: the owner (and batch kind) of the catalogue's indicators that only record-level data gives
RECORD_LEVEL = RECORD_LEVEL_OWNER
#: batch kinds in the order they are loaded
KINDS = ("ae-monthly", RECORD_LEVEL, "rtt")


def known_organisations(engine=None) -> list[str]:
    """Organisation codes in the store (what records are checked against)."""
    from partnering.store import repository as repo
    from partnering.store.db import get_engine

    return sorted(repo.organisations_frame(engine or get_engine())["org_code"])


def acute_trusts(engine=None) -> list[str]:
    """Acute trusts in the store (where a synthetic record set's attendances belong)."""
    from partnering.store import repository as repo
    from partnering.store.db import get_engine

    orgs = repo.organisations_frame(engine or get_engine(), kinds=["acute_trust"])
    return sorted(orgs["org_code"])


def owners(codes) -> dict[str, str]:
    """indicator code -> the batch kind that loads it: its owner in the catalogue."""
    from partnering.errors import ConfigError
    from partnering.indicators.catalogue import indicator, load_catalogue

    cat = load_catalogue()
    out = {}
    for code in codes:
        d = indicator(code, cat)
        if d is None or d.owner not in KINDS:
            raise ConfigError(f"indicator {code!r} is marked in_catalogue but the catalogue "
                              f"{'has no entry for it' if d is None else f'gives it the owner {d.owner!r}'}: "
                              f"record-level figures load as {', '.join(KINDS)} batches")
        out[code] = d.owner
    return out


def to_parsed(result: ComputeResult, source: str) -> list[Parsed]:
    table = result.indicators
    table = table[table["indicator"].map(lambda c: MEASURES[c].in_catalogue)]
    kind_of = table["indicator"].map(owners(table["indicator"].unique()))
    out = []
    for kind in KINDS:
        part = table[(kind_of == kind).to_numpy()].reset_index(drop=True)
        if part.empty:
            continue
        acute = set(part.loc[(part["indicator"] == "ae_attendances_type1") & (part["value"] > 0), "org_code"])
        out.append(Parsed(kind=kind, file=source, rows_read=len(part), observations=part,
                          unknown_organisations="reject", acute_codes=acute, basis=DERIVED,
                          notes=[f"derived from record-level data ({result.engine})"]))
    return out


def load_indicators(result: ComputeResult, source: str, engine=None, uploaded_by: str | None = None
                    ) -> list[BatchReport]:
    """Commit the catalogue indicators of ``result`` (one batch per family); a repeat of the same figures from the
    same source changes nothing."""
    reports = []
    for parsed in to_parsed(result, source):
        text = parsed.observations.to_csv(index=False).encode()
        digest = hashlib.sha256(parsed.kind.encode() + source.encode() + text).hexdigest()
        reports.append(commit_parsed(parsed, digest, engine, uploaded_by=uploaded_by))
    return reports
