"""Fixtures for the SPC tests."""

from __future__ import annotations

import os

import pytest
from spc_conformance_file import CONFORMANCE, load_conformance


@pytest.fixture(scope="session")
def conformance() -> dict:
    """The conformance file; missing it fails under CI=true and skips elsewhere."""
    data = load_conformance()
    if data is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance file missing: {CONFORMANCE}")
        pytest.skip(f"conformance file missing: {CONFORMANCE}")
    return data
