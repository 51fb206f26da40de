"""Engines, sessions and migrations for the store.

SQLite (embedded default) and PostgreSQL are both first-class; the schema is
created and upgraded by Alembic migrations in ``partnering/store/migrations``.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from partnering.config import Settings
from partnering.errors import ConfigError
from partnering.store.repository import sync_catalogue

MIGRATIONS = Path(__file__).parent / "migrations"
_ENGINES: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    """Engine for ``url`` (default: settings), created once per URL and migrated to head."""
    url = url or Settings.from_env().database_url
    if url in _ENGINES:
        return _ENGINES[url]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url_driver = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    else:
        url_driver = url
    try:
        engine = create_engine(url_driver, future=True, pool_pre_ping=True)
    except Exception as exc:  # bad URL syntax or missing driver
        raise ConfigError(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
        sync_indicators(engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot open the store at {url!r}: {exc.orig}") from exc
    _ENGINES[url] = engine
    return engine


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (idempotent)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def sync_indicators(engine: Engine) -> None:
    """Bring the stored indicator definitions up to the catalogue (``indicators.toml``, which users may edit)
    where the store is opened, so that reads never write (:func:`partnering.store.repository.sync_catalogue`)."""
    with engine.begin() as conn:
        sync_catalogue(conn)


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back everything on any error."""
    maker = sessionmaker(bind=engine or get_engine(), expire_on_commit=False, future=True)
    session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_all() -> None:
    for eng in _ENGINES.values():
        eng.dispose()
    _ENGINES.clear()
