"""Monthly indicators computed from records, into the store by the same path as published files.

Each family goes in its own batch through :func:`partnering.ingest.base.commit_parsed` — A&E indicators as an
``ae-monthly`` batch, RTT ones as an ``rtt`` batch, the loaders that own them in the catalogue — so the same
ownership, unit and organisation rules apply and the batch can be undone exactly.  The batch's publication basis
is :data:`partnering.store.publication.DERIVED` ("derived from record-level data").  Only indicators whose
definition is the catalogue's are loaded (``in_catalogue`` in :mod:`partnering.definitions.measures`); the new
ones stay in the output file.  Organisations must already be in the store (records of unknown codes were rejected).
"""

from __future__ import annotations

import hashlib

from partnering.compute.run import ComputeResult
from partnering.definitions.measures import ATTENDANCE_MEASURES, MEASURES
from partnering.ingest.base import BatchReport, Parsed, commit_parsed
from partnering.store.publication import DERIVED

FAMILIES = {"ae-monthly": {m.code for m in ATTENDANCE_MEASURES}}  # everything else is RTT


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


def to_parsed(result: ComputeResult, source: str) -> list[Parsed]:
    table = result.indicators
    table = table[table["indicator"].map(lambda c: MEASURES[c].in_catalogue)]
    out = []
    for kind in ("ae-monthly", "rtt"):
        ae = table["indicator"].isin(FAMILIES["ae-monthly"])
        part = table[ae if kind == "ae-monthly" else ~ae].reset_index(drop=True)
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
