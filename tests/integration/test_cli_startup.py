"""Start-up faces: serving on a port in use says so in one line naming --port; --help is never cut at 80 columns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXE = Path(sys.executable).with_name("partnering")


def _run(args, tmp_path, **env):
    full = {**os.environ, "PARTNERING_HOME": str(tmp_path), **env}
    full.pop("TERMINAL_WIDTH", None)
    return subprocess.run([str(EXE), "--db", f"sqlite:///{tmp_path / 's.db'}", *args], capture_output=True,
                          text=True, env=full, timeout=120)


@pytest.mark.parametrize("command", ["serve", "up"])
def test_port_in_use_is_one_line_naming_port(tmp_path, command):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = _run([command, "--port", str(port)], tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0] and "--port" in lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "s.db").exists() or command == "up"  # serve refuses before opening the store


def test_ensure_port_free_accepts_a_free_port():
    from partnering.cli.web import ensure_port_free

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ensure_port_free("127.0.0.1", port)  # nothing listens there now


@pytest.mark.parametrize("args", [[], ["ingest"], ["partners"], ["plan"], ["users", "create"]])
def test_help_is_not_cut_at_80_columns(tmp_path, args):
    r = _run([*args, "--help"], tmp_path, COLUMNS="80")
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout, r.stdout
    if args == ["ingest"]:
        assert "--create-organisations" in r.stdout  # rich cut it to "--create-organisati…" at 80 columns
