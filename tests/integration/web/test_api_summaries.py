"""Every API operation carries a real summary, not FastAPI's title-cased function name ("Spc For", "Plan Get")."""

from __future__ import annotations

import pytest

from partnering.web.apidoc import first_sentence

pytestmark = pytest.mark.integration


def test_no_operation_is_named_after_its_function(demo_app):
    schema = demo_app.openapi()
    bad, n = [], 0
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            n += 1
            func = op["operationId"].split("_api_v1")[0]
            summary = op.get("summary") or ""
            if not summary or summary == func.replace("_", " ").title() or len(summary.split()) < 3:
                bad.append(f"{method.upper()} {path}: {summary!r}")
    assert n >= 40, f"only {n} operations: is the schema complete?"
    assert not bad, "operations without a real summary (give the route a docstring or summary=):\n" + "\n".join(bad)
    assert schema["paths"]["/api/v1/spc"]["get"]["summary"] == \
        "SPC (Making Data Count) for one organisation's stored series"


def test_first_sentence():
    assert first_sentence("Upload and load a file (one transaction. really).\n\nMore.") == \
        "Upload and load a file (one transaction. really)"
    assert first_sentence("Peers of :func:`~partnering.match.peers_for`, ``k`` of them. Then more.") == \
        "Peers of partnering.match.peers_for, k of them"
    assert first_sentence("One line\nwrapped here") == "One line wrapped here"
