"""Shared fixtures: the real data in ../shared, and stores on SQLite and PostgreSQL.

A test that needs ../shared is marked ``shared``; when ``CI=true`` a missing
../shared or PostgreSQL server is a failure, never a skip.

Every test declares its kind with exactly one of the markers ``unit``, ``integration`` or ``e2e`` (module-level
``pytestmark``); collection fails, naming the tests, when one has none or more than one. The split into the three
kinds, and a conftest that refuses unmarked tests, follow The-Strategy-Unit/nhp_model's test layout.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from partnering.config import Settings

CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("PARTNERING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

pytest_plugins = ["pytester"]  # tests/unit/test_conftest_markers.py runs pytest on generated files

TEST_KINDS = ("unit", "integration", "e2e")


def wrongly_marked(items) -> list[str]:
    """Node ids of the tests that carry no kind marker, or more than one, each with the kinds it has."""
    bad = []
    for item in items:
        kinds = sorted({m.name for m in item.iter_markers() if m.name in TEST_KINDS})
        if len(kinds) != 1:
            bad.append(f"{item.nodeid} ({', '.join(kinds) if kinds else 'no kind'})")
    return bad


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        dest="update_snapshots",
        help="rewrite the regression snapshots in tests/snapshots instead of comparing (see tests/snapshot.py)",
    )


def pytest_collection_modifyitems(config, items):
    """Refuse the run when any collected test lacks exactly one kind marker (``unit``, ``integration``, ``e2e``)."""
    bad = wrongly_marked(items)
    if bad:
        raise pytest.UsageError(
            f"{len(bad)} test(s) must carry exactly one of the markers {', '.join(TEST_KINDS)} "
            "(e.g. `pytestmark = pytest.mark.unit` at the top of the module):\n  " + "\n  ".join(bad))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own PARTNERING_HOME, so nothing touches the user's store."""
    monkeypatch.setenv("PARTNERING_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PARTNERING_DATABASE_URL", raising=False)


def _shared_root() -> Path:
    return Settings.from_env().shared


@pytest.fixture(scope="session")
def shared() -> Path:
    root = _shared_root()
    if not (root / "data" / "nhs").is_dir():
        if CI:
            pytest.fail(f"../shared is required on CI but {root} has no data/nhs")
        pytest.skip(f"needs ../shared (real NHS data) at {root}")
    return root


@pytest.fixture(scope="session")
def nhs(shared) -> Path:
    return shared / "data" / "nhs"


@pytest.fixture(scope="session")
def geo(shared) -> Path:
    return shared / "data" / "geo"


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return None
    except Exception as exc:  # any connection failure means "no server"
        return str(exc).splitlines()[0]


@pytest.fixture
def sqlite_engine(tmp_path):
    from partnering.store.db import dispose_all, get_engine

    eng = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    yield eng
    dispose_all()


@pytest.fixture
def pg_engine():
    why = _pg_available()
    if why:
        if CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is required on CI: {why}")
        pytest.skip(f"no PostgreSQL server answers at {PG_URL}: {why}")
    import psycopg

    from partnering.store.db import dispose_all, get_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    eng = get_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        yield eng
    finally:
        dispose_all()
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request):
    """The store on each backend: the same test runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


def store_snapshot(engine) -> dict[str, list]:
    """Every row of every data table, sorted: two equal snapshots mean an unchanged store."""
    from sqlalchemy import text

    out = {}
    with engine.connect() as conn:
        for table in ("organisations", "successions", "sites", "org_attributes", "indicators", "import_batches",
                      "rejected_rows", "observations"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            out[table] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


@pytest.fixture
def snapshot():
    return store_snapshot


@pytest.fixture
def regression_snapshot(request):
    """``regression_snapshot(frame, name, key=[...])``: compare with tests/snapshots/<name>.csv, or rewrite it under
    ``--update-snapshots`` / ``PARTNERING_UPDATE_SNAPSHOTS=1`` (tests/snapshot.py)."""
    from snapshot import check_snapshot, update_requested

    update = update_requested(request.config)

    def check(frame, name: str, key, **kwargs):
        check_snapshot(frame, name, list(key), update=update, **kwargs)

    return check
