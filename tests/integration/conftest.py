"""A store loaded once per test session with the real A&E, RTT and ODS files from ../shared."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def real_store(tmp_path_factory, nhs):
    from partnering.ingest import load
    from partnering.store.db import get_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'real.db'}"
    eng = get_engine(url)
    try:
        from partnering.ingest.ods import load_ods_folder
    except ImportError:  # the ODS loader is optional for these tests
        load_ods_folder = None
    if load_ods_folder is not None:
        load_ods_folder(nhs / "ods", eng)
    for f in sorted((nhs / "ae-monthly").glob("*.csv")):
        load("ae-monthly", f, eng)
    for f in sorted((nhs / "rtt-incomplete-provider").glob("*.csv")):
        load("rtt", f, eng)
    # catchment context (IMD, age, catchment population) for the peer finder and partner matching
    load("context", nhs.parent, eng)
    return eng
