"""Where the NHSRplotthedots 0.2.2 conformance file lives, and how to load it."""

from __future__ import annotations

import json

from partnering.config import Settings

CONFORMANCE = Settings.from_env().shared / "conformance" / "spc" / "nhsrplotthedots-0.2.2.json"


def load_conformance() -> dict | None:
    """The conformance file, or None when it is absent (the fixture decides skip vs fail)."""
    if CONFORMANCE.exists():
        return json.loads(CONFORMANCE.read_text())
    return None
