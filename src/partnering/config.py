"""Settings from the environment, in one place: every ``PARTNERING_*`` variable the library reads is read here.

Modelled on pandera's configuration (one dataclass filled from environment variables, read when asked, so a
changed environment — a test, a worker process — is seen at once).  Faces and library code ask
:meth:`Settings.from_env` and never read ``os.environ`` themselves.

=====================================  ================================================================================
Variable                               Meaning and default
=====================================  ================================================================================
``PARTNERING_HOME``                    Folder for the embedded store, uploads, boundaries, travel matrices and the
                                       session key.  Default: ``~/.partnering``.
``PARTNERING_DATABASE_URL``            SQLAlchemy URL of the store (``--db`` wins over it).  Default: a SQLite file
                                       at ``$PARTNERING_HOME/partnering.db``.
``PARTNERING_SHARED``                  Folder holding the real NHS data (``data/nhs``, ``data/geo``).  Default:
                                       ``../shared`` beside the repository checkout.
``PARTNERING_INDICATORS``              A user copy of the indicator catalogue (TOML).  Default: the packaged
                                       ``partnering/indicators/indicators.toml``.
``PARTNERING_SECRET_KEY``              Key that signs the web session cookie.  Default: a random key kept in
                                       ``$PARTNERING_HOME/secret_key`` (mode 600).  Set it to share sessions across
                                       several servers.
``PARTNERING_RATE_LIMIT_STORAGE``      Where failed sign-ins are counted, as a ``limits`` storage URI.  Default:
                                       ``memory://`` (per server process).  ``redis://host:6379`` shares the count
                                       across ``partnering serve --workers N`` processes and machines.
``PARTNERING_SERVE_DB``                Set by ``partnering serve --workers N`` for its worker processes (the ``--db``
                                       it was given); not for users.
``PARTNERING_SERVE_SECURE_COOKIES``    Likewise: ``1`` (default) or ``0``, the secure-cookie choice of
                                       ``partnering serve``.
=====================================  ================================================================================

Other programs' variables read here too: ``JAVA_HOME`` (the Java for Spark, :func:`java_home_setting`),
``PYSPARK_PYTHON`` / ``PYSPARK_DRIVER_PYTHON`` (the Python Spark's workers run, :func:`spark_python_settings`) and
``TERMINAL_WIDTH`` (typer's own help-width setting, :func:`terminal_width_setting`).

Test-only variables (``PARTNERING_TEST_PG_URL``, ``PARTNERING_TEST_REDIS_URL``, ``PARTNERING_CHROMIUM``) are read
by the test suite, not the library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

ENV_HOME = "PARTNERING_HOME"
ENV_DATABASE_URL = "PARTNERING_DATABASE_URL"
ENV_SHARED = "PARTNERING_SHARED"
ENV_INDICATORS = "PARTNERING_INDICATORS"
ENV_SECRET_KEY = "PARTNERING_SECRET_KEY"
ENV_RATE_LIMIT_STORAGE = "PARTNERING_RATE_LIMIT_STORAGE"
ENV_SERVE_DB = "PARTNERING_SERVE_DB"
ENV_SERVE_SECURE_COOKIES = "PARTNERING_SERVE_SECURE_COOKIES"

#: in-process counting of failed sign-ins (``limits`` MemoryStorage)
DEFAULT_RATE_LIMIT_STORAGE = "memory://"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    shared: Path
    indicators: Path | None = None
    secret_key: str | None = None
    rate_limit_storage: str = DEFAULT_RATE_LIMIT_STORAGE
    serve_db: str | None = None
    serve_secure_cookies: bool = True

    @classmethod
    def from_env(cls, database_url: str | None = None) -> "Settings":
        env = os.environ
        home = Path(env.get(ENV_HOME) or Path.home() / ".partnering").expanduser()
        url = database_url or env.get(ENV_DATABASE_URL) or f"sqlite:///{home / 'partnering.db'}"
        shared = Path(env.get(ENV_SHARED) or REPO_ROOT.parent / "shared").expanduser()
        indicators = env.get(ENV_INDICATORS)
        return cls(
            home=home,
            database_url=url,
            shared=shared,
            indicators=Path(indicators).expanduser() if indicators else None,
            secret_key=env.get(ENV_SECRET_KEY) or None,
            rate_limit_storage=(env.get(ENV_RATE_LIMIT_STORAGE) or DEFAULT_RATE_LIMIT_STORAGE).strip(),
            serve_db=env.get(ENV_SERVE_DB) or None,
            serve_secure_cookies=env.get(ENV_SERVE_SECURE_COOKIES, "1") == "1",
        )


def shared_data(*parts: str) -> Path:
    """Path inside the shared real-data folder (``../shared/data/...``)."""
    return Settings.from_env().shared.joinpath("data", *parts)


def java_home_setting() -> str | None:
    """``$JAVA_HOME`` when set (Spark needs Java 17 or later)."""
    return os.environ.get("JAVA_HOME") or None


def spark_python_settings(default: str) -> dict[str, str]:
    """The Python Spark's driver and workers run (``applyInPandas`` needs pandas and pyarrow): the variables when
    set, else ``default`` (the running interpreter)."""
    return {name: os.environ.get(name) or default for name in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}


def terminal_width_setting() -> str | None:
    """typer's ``TERMINAL_WIDTH`` when set (it then decides the help width itself)."""
    return os.environ.get("TERMINAL_WIDTH") or None
