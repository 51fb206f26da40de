"""Write the synthetic demo system (``partnering.demo``) into the store as one batch.

Everything it writes is flagged ``synthetic`` and its batch is named so that
no one can mistake it for real NHS data.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from partnering.ingest.base import BatchReport, Parsed, commit_parsed

KIND = "demo"


def load_demo(engine=None, seed: int = 2026) -> BatchReport:
    from partnering.demo import generate

    system = generate(seed=seed)
    orgs = system.organisations.copy()
    orgs["source"] = "synthetic demo"
    orgs["synthetic"] = True
    parsed = Parsed(
        kind=KIND,
        file=f"synthetic-demo-seed-{seed} ({system.label})",
        rows_read=len(system.observations),
        observations=system.observations[["org_code", "indicator", "period", "numerator", "denominator", "value"]],
        organisations=orgs,
        sites=system.sites,
        attributes=system.context[["org_code", "attribute", "value", "source"]],
    )
    parsed.notes.append(system.label)
    digest = hashlib.sha256(f"demo:{seed}:{len(system.observations)}".encode()).hexdigest()
    return commit_parsed(parsed, digest, engine)


def demo_truth(seed: int = 2026) -> pd.DataFrame:
    from partnering.demo import generate

    return generate(seed=seed).truth
