"""The store's schema comes from Alembic migrations and matches the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from partnering.store.db import table_names
from partnering.store.models import Base

pytestmark = pytest.mark.unit


def test_migrations_create_exactly_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
    assert {"organisations", "observations", "import_batches", "rejected_rows", "sites", "indicators",
            "successions", "org_attributes", "users", "api_tokens", "audit_log", "partnerships"} <= set(
        table_names(engine))
    with engine.connect() as conn:
        head = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from partnering.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert [head] == ScriptDirectory.from_config(cfg).get_heads()  # one head, and the store is at it
    idx = {i["name"] for i in inspect(engine).get_indexes("observations")}
    assert {"ix_obs_current", "ix_obs_org"} <= idx


def test_opening_the_store_again_is_idempotent(engine):
    from partnering.store.db import migrate

    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
