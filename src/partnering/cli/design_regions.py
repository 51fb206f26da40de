"""`partnering design`: the regions tool's commands (issue #12)."""

from __future__ import annotations

import typer


def register(design: typer.Typer) -> None:
    """Add this tool's commands to the `design` group."""
