"""Settings from the environment, in one place.

``PARTNERING_DATABASE_URL``  SQLAlchemy URL of the store.  Default: a SQLite file
                             at ``$PARTNERING_HOME/partnering.db``.
``PARTNERING_HOME``          Folder for the embedded store and uploads.
                             Default: ``~/.partnering``.
``PARTNERING_SHARED``        Folder holding the real NHS data (``data/nhs``, ``data/geo``).
                             Default: ``../shared`` beside the repository checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    shared: Path

    @classmethod
    def from_env(cls, database_url: str | None = None) -> "Settings":
        home = Path(os.environ.get("PARTNERING_HOME", Path.home() / ".partnering")).expanduser()
        url = database_url or os.environ.get("PARTNERING_DATABASE_URL") or f"sqlite:///{home / 'partnering.db'}"
        shared = Path(os.environ.get("PARTNERING_SHARED", REPO_ROOT.parent / "shared")).expanduser()
        return cls(home=home, database_url=url, shared=shared)


def shared_data(*parts: str) -> Path:
    """Path inside the shared real-data folder (``../shared/data/...``)."""
    return Settings.from_env().shared.joinpath("data", *parts)
