"""Every environment variable the library reads goes through ``partnering.config.Settings``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from partnering.config import DEFAULT_RATE_LIMIT_STORAGE, Settings

pytestmark = pytest.mark.unit

SRC = Path(__file__).resolve().parents[2] / "src" / "partnering"
VARS = ("PARTNERING_HOME", "PARTNERING_DATABASE_URL", "PARTNERING_SHARED", "PARTNERING_INDICATORS",
        "PARTNERING_SECRET_KEY", "PARTNERING_RATE_LIMIT_STORAGE", "PARTNERING_SERVE_DB",
        "PARTNERING_SERVE_SECURE_COOKIES")


@pytest.fixture
def clean_env(monkeypatch):
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/home/analyst")
    return monkeypatch


def test_defaults(clean_env):
    s = Settings.from_env()
    assert s.home == Path("/home/analyst/.partnering")
    assert s.database_url == "sqlite:////home/analyst/.partnering/partnering.db"
    assert s.indicators is None and s.secret_key is None and s.serve_db is None
    assert s.rate_limit_storage == DEFAULT_RATE_LIMIT_STORAGE == "memory://"
    assert s.serve_secure_cookies is True


def test_each_variable_is_read(clean_env, tmp_path):
    env = {
        "PARTNERING_HOME": str(tmp_path / "h"), "PARTNERING_SHARED": str(tmp_path / "s"),
        "PARTNERING_INDICATORS": str(tmp_path / "mine.toml"), "PARTNERING_SECRET_KEY": "k3y",
        "PARTNERING_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379", "PARTNERING_SERVE_DB": "sqlite:///x.db",
        "PARTNERING_SERVE_SECURE_COOKIES": "0",
    }
    for k, v in env.items():
        clean_env.setenv(k, v)
    s = Settings.from_env()
    assert s.home == tmp_path / "h" and s.shared == tmp_path / "s"
    assert s.database_url == f"sqlite:///{tmp_path / 'h' / 'partnering.db'}"
    assert s.indicators == tmp_path / "mine.toml" and s.secret_key == "k3y"
    assert s.rate_limit_storage == "redis://127.0.0.1:6379"
    assert s.serve_db == "sqlite:///x.db" and s.serve_secure_cookies is False
    clean_env.setenv("PARTNERING_DATABASE_URL", "postgresql://u@h/db")
    assert Settings.from_env().database_url == "postgresql://u@h/db"
    assert Settings.from_env("sqlite:///given.db").database_url == "sqlite:///given.db"  # --db wins


def test_indicator_catalogue_follows_the_setting(clean_env, tmp_path):
    from partnering.indicators.catalogue import load_catalogue

    clean_env.setenv("PARTNERING_INDICATORS", str(tmp_path / "missing.toml"))
    with pytest.raises(Exception, match="missing.toml"):
        load_catalogue()


def _environment_reads(path: Path) -> list[int]:
    """Lines reading os.environ / os.getenv (assignments to os.environ[...] are writes, allowed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    writes = {id(t.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Subscript)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
            and isinstance(node.value, ast.Name) and node.value.id == "os" and id(node) not in writes]


def test_no_module_but_config_reads_the_environment():
    offenders = {str(p.relative_to(SRC)): lines for p in sorted(SRC.rglob("*.py"))
                 if p.name != "config.py" or p.parent != SRC
                 for lines in [_environment_reads(p)] if lines}
    assert offenders == {}
