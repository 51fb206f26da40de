"""``assess --org`` and ``report`` compare an organisation with its own kind: an ambulance trust is assessed among
ambulance trusts instead of being refused as "not assessed" (the default kind, acute trusts, applies to the whole
table only)."""

from __future__ import annotations

import pytest
from test_cli import run  # the partnering command in a subprocess, with its own PARTNERING_HOME

pytestmark = pytest.mark.integration


@pytest.mark.shared
def test_assess_one_ambulance_trust_uses_its_own_kind(tmp_path, nhs):
    home = tmp_path / "home"
    run("ingest", "ambulance-ambsys", nhs / "ambulance-ambsys", home=home)
    out = run("assess", "--org", "RX9", home=home).stdout
    assert "RX9 East Midlands Ambulance Service NHS Trust" in out
    # AmbSYS "Raw" sheet, RX9 August 2025: C1 mean 534 seconds = 8.90 minutes
    c1 = next(line for line in out.splitlines() if "Category 1 (life-threatening) mean response time" in line)
    assert "2025-08" in c1 and "8.90" in c1
    # naming acute trusts explicitly assesses acute trusts: this store has none with data, and says so
    bad = run("assess", "--org", "RX9", "--kind", "acute_trust", home=home, check=False)
    assert bad.returncode == 2 and "no observations for the organisations to assess" in bad.stderr


def test_ingest_help_names_every_kind(tmp_path):
    from partnering.ingest import LOADERS

    out = run("ingest", "--help", home=tmp_path / "home").stdout
    assert all(kind in out for kind in LOADERS), [k for k in LOADERS if k not in out]
