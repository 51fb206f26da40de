"""WCAG 2.2 AA on every page, in every state a user meets: axe-core (from ``node_modules``) in Debian chromium.

Tags: wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa.  Any violation fails the test and is printed as rule id,
impact, the elements (CSS selectors) and the rule's help text.  ``test_every_page_is_checked`` enumerates the
app's routes so a new page cannot escape the check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_support import ORG_A, ORG_B, format_violations, iter_endpoints
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _goto(page, path: str, expect_status: int = 200) -> None:
    resp = page.goto(path)
    assert resp is not None and resp.status == expect_status, f"GET {path}: {resp and resp.status}"


def _charts_drawn(page) -> None:
    charts = page.locator("[data-spc-chart]")
    if charts.count():
        expect(page.locator("[data-spc-chart].app-chart--drawn")).to_have_count(charts.count())


def _signin_error(page) -> None:
    _goto(page, "/signin")
    page.fill("#email", "nobody@e2e.test")
    page.fill("#password", "wrong-password-1")
    page.click("main form button[type=submit]")
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _data_error(page) -> None:
    _goto(page, "/data")
    page.set_input_files("#file", files=[{"name": "empty.csv", "mimeType": "text/csv", "buffer": b""}])
    page.get_by_role("button", name="Upload and load").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _new_token(page) -> None:
    _goto(page, "/account")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("ptk_")


def _swagger(page) -> None:
    _goto(page, "/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()


def _appraise_case(page, then: str = "") -> None:
    """A case pre-filled for org A from the start page (as analyst A); then one of its pages (``then``)."""
    _goto(page, "/appraise/new")
    page.fill("#org_code", ORG_A)
    page.get_by_role("button", name="Start the case").click()
    expect(page.locator("h1")).to_have_text("The problem")
    if then:
        _goto(page, "/appraise/cases/" + re.search(r"/appraise/cases/(\d+)/", page.url).group(1) + then)


def _appraise_step_error(page) -> None:
    _appraise_case(page, "/edit/flows")
    page.fill("#flow-make-revenue_cost", "lots")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


#: the allocation page's funding fixture (12 North East local authorities; see its integration test)
FUNDING_FILE = Path(__file__).parents[1] / "integration" / "web" / "data" / "allocation-funding-north-east.csv"


def _allocation_funding(page, data: bytes, error: bool = False) -> None:
    """The allocation form sent with a funding file: the result (map, pace table) or the file's errors."""
    _goto(page, "/design/money/allocation")
    page.fill("#budget", "4120")
    page.check("#compare-funding")
    page.fill("#floor", "1")
    page.set_input_files("#funding_file", files=[{"name": "funding.csv", "mimeType": "text/csv", "buffer": data}])
    page.get_by_role("button", name="Allocate the budget").click()
    if error:
        expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    else:
        expect(page.locator("#pace-table")).to_be_visible()


def _partnership(page, then: str = "") -> None:
    """A partnership recorded from the pre-filled form (as analyst A, org A with org B); then one of its pages."""
    _goto(page, f"/partnerships/new?recipient={ORG_A}&supporter={ORG_B}&form=buddying")
    page.fill("#start_period", "2024-04")
    page.get_by_role("button", name="Save the partnership").click()
    expect(page.locator(".nhsuk-inset-text")).to_contain_text("Saved as version 1")
    if then:
        _goto(page, page.url.split("?")[0] + then)


def _partnership_end_error(page) -> None:
    """The form to end a partnership sent without its last month, reason or confirmation: the error summary."""
    _partnership(page, "/end")
    page.get_by_role("button", name="End the partnership").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _partnership_error(page) -> None:
    _goto(page, f"/partnerships/new?recipient={ORG_A}&supporter={ORG_B}")
    page.fill("#start_period", "April")
    page.get_by_role("button", name="Save the partnership").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _improvement(page, what: str) -> None:
    """As analyst A: an idea (its page), or a project with a PDSA cycle on its measure's SPC chart."""
    if what == "idea":
        _goto(page, "/improve")
        page.fill("#title", "Discharge lounge")
        page.get_by_role("button", name="Submit the idea").click()
        expect(page.locator("h1")).to_have_text("Discharge lounge")
        return
    _goto(page, "/improve/projects/new")
    page.fill("#title", "Flow")
    page.get_by_role("button", name="Start the project").click()
    page.locator("summary", has_text="Add a PDSA cycle").click()
    page.fill("#title", "GP streaming")
    page.fill("#start_period", "2024-06")
    page.fill("#measures", "ae_4h_pct_all")
    page.get_by_role("button", name="Add the cycle").click()
    expect(page.locator("#cycles-table")).to_contain_text("GP streaming")


def _idea_edit(page, what: str) -> None:
    """As analyst A: their own idea's edit form (``idea``), the form refused for an empty title (``error``), or the
    edit form of their comment on it (``comment``)."""
    _improvement(page, "idea")
    if what == "comment":
        page.fill("#text", "Ward 3 first")
        page.get_by_role("button", name="Add the comment").click()
        page.locator("#comments + ul a", has_text="Edit").first.click()
        expect(page.locator("h1")).to_have_text("Edit your comment")
        return
    page.get_by_role("link", name="Edit this idea").click()
    expect(page.locator("h1")).to_have_text("Edit the idea")
    if what == "error":
        page.fill("#title", "")
        page.get_by_role("button", name="Save the idea").click()
        expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _evaluation(page) -> None:
    """A partnership naming one indicator (as analyst A, org A with org B from 2024-04), then its evaluation."""
    _goto(page, f"/partnerships/new?recipient={ORG_A}&supporter={ORG_B}&form=buddying")
    page.fill("#start_period", "2024-04")
    page.fill("#targets", "ae_4h_pct_all::95:2026-03")
    page.get_by_role("button", name="Save the partnership").click()
    expect(page.locator(".nhsuk-inset-text")).to_contain_text("Saved as version 1")
    page.set_default_navigation_timeout(120_000)  # the first evaluation runs every method (seconds on 2 cores)
    _goto(page, page.url.split("?")[0] + "/evaluation")
    expect(page.locator("h1")).to_contain_text("Evaluation of")


def _evaluation_options(page, query: str, status: int) -> None:
    """The evaluation page asked for other options (its 'Change the analysis' form open), or for bad ones (400,
    the error summary)."""
    _evaluation(page)
    _goto(page, page.url.split("?")[0] + query, status)
    if status == 400:
        expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _chart_note(page, then: str = "") -> None:
    """As analyst A: annotate a month of org A's 4-hour chart (an annotation, so the SPC of the shared store is
    unchanged); then the organisation page, whose chart and data table show it (``then="org"``)."""
    _goto(page, f"/org/{ORG_A}/notes?indicator=ae_4h_pct_all")
    page.fill("#period", "2025-01")
    page.fill("#text", "New front door model")
    page.get_by_role("button", name="Save the note").click()
    expect(page.locator(".nhsuk-inset-text")).to_contain_text("The note was added")
    expect(page.locator("#notes-table")).to_contain_text("New front door model")
    if then == "org":
        _goto(page, f"/org/{ORG_A}")
        expect(page.locator(".app-chart-notes").first).to_contain_text("New front door model")


def _chart_note_error(page) -> None:
    _goto(page, f"/org/{ORG_A}/notes")
    page.fill("#period", "January")
    page.get_by_role("button", name="Save the note").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _password_error(page) -> None:
    """A wrong current password on the change-password page: the error summary and the field's message."""
    _goto(page, "/account/password")
    page.fill("#current_password", "not-the-password-1")
    page.fill("#new_password", "a-new-password-long-enough")
    page.fill("#confirm_password", "a-new-password-long-enough")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _peers_error(page) -> None:
    """As analyst A: a peer code that does not exist on the choose-peers page."""
    _goto(page, f"/org/{ORG_A}/peers")
    page.fill("#peers", "NOPE1")
    page.get_by_role("button", name="Save these peers").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


#: id -> (who, path or action, expected status).  "anonymous" uses a fresh context with no session.
PAGES = {
    "sign-in": ("anonymous", "/signin", 200),
    "sign-in-error": ("anonymous", _signin_error, None),
    "not-found-anonymous": ("anonymous", "/no-such-page", 404),
    "system": ("admin", "/", 200),
    "system-filtered-sorted": ("viewer_b", "/?region=Y56&kind=acute_trust&sort=segment&dir=desc", 200),
    "find-organisation": ("viewer_b", "/org?q=hospital", 200),
    "find-organisation-nothing": ("viewer_b", "/org?q=zzzz-no-match", 200),
    "organisation": ("viewer_b", f"/org/{ORG_B}", 200),
    "organisation-other-kind": ("viewer_b", "/org/QX01", 200),
    "plan": ("analyst_a", "/plan", 200),
    "plan-result": ("analyst_a", "/plan?capacity=2&max_travel_minutes=120", 200),
    "plan-unmatched": ("analyst_a", "/plan?max_travel_minutes=5", 200),
    "plan-error": ("analyst_a", "/plan?capacity=lots", 400),
    "plan-saved": ("analyst_a", "/plan?capacity=1&saved=1", 200),
    "data-analyst": ("analyst_a", "/data", 200),
    "data-viewer": ("viewer_b", "/data", 200),
    "data-admin": ("admin", "/data", 200),
    "data-upload-error": ("analyst_a", _data_error, None),
    "batch": ("viewer_b", "/data/batches/{demo_batch}", 200),
    "batch-admin-undo-preview": ("admin", "/data/batches/{demo_batch}", 200),
    "batch-undo-confirm": ("admin", "/data/batches/{demo_batch}/undo", 200),
    "plan-min-suitability": ("analyst_a", "/plan?min_suitability=60", 200),
    "methods": ("viewer_b", "/methods", 200),
    "method-page": ("viewer_b", "/methods/{first_method}", 200),
    "account": ("viewer_b", "/account", 200),
    "account-new-token": ("viewer_a", _new_token, None),
    "users": ("admin", "/admin/users", 200),
    "sign-out": ("viewer_b", "/signout", 200),
    "not-found": ("viewer_b", f"/org/{ORG_A}X", 404),
    "forbidden": ("viewer_b", "/admin/users", 403),
    # the page shell the app writes around Swagger UI (the widget itself: test_swagger_ui_widget below)
    "api-docs": ("viewer_b", _swagger, None),
    "appraise-list": ("viewer_b", "/appraise", 200),
    "appraise-new": ("analyst_a", "/appraise/new", 200),
    "appraise-new-viewer": ("viewer_b", "/appraise/new", 200),
    "appraise-step-problem": ("analyst_a", _appraise_case, None),
    "appraise-step-options": ("analyst_a", lambda page: _appraise_case(page, "/edit/options"), None),
    "appraise-step-flows": ("analyst_a", lambda page: _appraise_case(page, "/edit/flows"), None),
    "appraise-step-uncertainty": ("analyst_a", lambda page: _appraise_case(page, "/edit/uncertainty"), None),
    "appraise-step-mcda": ("analyst_a", lambda page: _appraise_case(page, "/edit/mcda"), None),
    "appraise-step-error": ("analyst_a", _appraise_step_error, None),
    "appraise-toml": ("analyst_a", lambda page: _appraise_case(page, "/toml"), None),
    "appraise-case": ("analyst_a", lambda page: _appraise_case(page, ""), None),
    "appraise-compare": ("analyst_a", lambda page: _appraise_case(page, "/compare?option=make&option=merge"), None),
    "register": ("viewer_b", "/partnerships", 200),
    "register-new": ("analyst_a", f"/partnerships/new?recipient={ORG_A}&supporter={ORG_B}&form=buddying", 200),
    "register-error": ("analyst_a", _partnership_error, None),
    "register-detail": ("analyst_a", _partnership, None),
    "register-edit": ("analyst_a", lambda page: _partnership(page, "/edit"), None),
    "register-end": ("analyst_a", lambda page: _partnership(page, "/end"), None),
    "register-end-error": ("analyst_a", _partnership_end_error, None),
    "improve": ("analyst_a", "/improve", 200),
    "improve-idea": ("analyst_a", lambda page: _improvement(page, "idea"), None),
    "improve-project-new": ("analyst_a", "/improve/projects/new", 200),
    "improve-project": ("analyst_a", lambda page: _improvement(page, "project"), None),
    "improve-idea-edit": ("analyst_a", lambda page: _idea_edit(page, "idea"), None),
    "improve-idea-edit-error": ("analyst_a", lambda page: _idea_edit(page, "error"), None),
    "improve-comment-edit": ("analyst_a", lambda page: _idea_edit(page, "comment"), None),
    "design-network": ("viewer_b", "/design/network?p=3&icb=QHM", 200),
    "design-regions": ("viewer_b", "/design/regions?k=7&areas=ltla24&balance=0.05", 200),
    "design": ("viewer_b", "/design", 200),
    "design-consolidation": ("viewer_b", "/design/money/consolidation", 200),
    "design-consolidation-result": ("analyst_a", "/design/money/consolidation?trust=ZA1&turnover=450&trust=ZA2", 200),
    "design-consolidation-error": ("analyst_a", "/design/money/consolidation?trust=ZA1&turnover=lots", 400),
    "design-allocation": ("viewer_b", "/design/money/allocation", 200),
    "design-allocation-result": ("viewer_b", "/design/money/allocation?budget=1000&current=970&floor=1", 200),
    "design-allocation-error": ("viewer_b", "/design/money/allocation?units=areas&budget=lots", 400),
    "design-allocation-funding": ("viewer_b", lambda page: _allocation_funding(page, FUNDING_FILE.read_bytes()), None),
    "design-allocation-funding-error": ("viewer_b", lambda page: _allocation_funding(
        page, b"code,funding\nE06000001,lots\nX99,5\n", error=True), None),
    "evaluation": ("analyst_a", _evaluation, None),
    "evaluation-options": ("analyst_a", lambda page: _evaluation_options(
        page, "?method=its&start=2024-10&include_spillover=yes&level=0.9", 200), None),
    "evaluation-options-error": ("analyst_a", lambda page: _evaluation_options(
        page, "?method=magic&start=April&level=0.5", 400), None),
    "account-password": ("viewer_b", "/account/password", 200),
    "account-password-error": ("viewer_a", _password_error, None),
    "peers-choose": ("analyst_a", f"/org/{ORG_A}/peers", 200),
    "peers-viewer": ("viewer_b", f"/org/{ORG_A}/peers", 200),
    "peers-error": ("analyst_a", _peers_error, None),
    "system-icon-table-filtered": ("analyst_a", "/?segment=2&flag=neither&per=50&sort=score&dir=desc", 200),
    "organisation-travel-limit": ("viewer_b", f"/org/{ORG_B}?max_travel_minutes=none", 200),
    "organisation-notes": ("viewer_b", f"/org/{ORG_B}/notes", 200),
    "organisation-notes-analyst": ("analyst_a", f"/org/{ORG_A}/notes?indicator=ae_4h_pct_all", 200),
    "organisation-notes-error": ("analyst_a", _chart_note_error, None),
    "organisation-notes-saved": ("analyst_a", _chart_note, None),
    "organisation-annotated": ("analyst_a", lambda page: _chart_note(page, "org"), None),
}
#: parts of a page axe skips, with the reason: Swagger UI (swagger-ui-dist, third-party) is checked on its own
EXCLUDE = {"api-docs": [".swagger-ui"]}

#: page routes (GET, HTML) and the PAGES entries that cover them
COVERED_ROUTES = {
    "/signin": "sign-in", "/": "system", "/org": "find-organisation", "/org/{code}": "organisation",
    "/plan": "plan", "/data": "data-analyst", "/data/batches/{batch_id}": "batch", "/methods": "methods",
    "/methods/{slug}": "method-page", "/account": "account", "/admin/users": "users", "/signout": "sign-out",
    "/api/v1/docs": "api-docs", "/design/network": "design-network", "/design/regions": "design-regions",
    "/appraise": "appraise-list", "/appraise/new": "appraise-new", "/appraise/cases/{case_id}": "appraise-case",
    "/appraise/cases/{case_id}/edit/{step}": "appraise-step-problem", "/appraise/cases/{case_id}/toml": "appraise-toml",
    "/appraise/cases/{case_id}/compare": "appraise-compare",
    "/data/batches/{batch_id}/undo": "batch-undo-confirm",
    "/partnerships": "register", "/partnerships/new": "register-new", "/partnerships/{partnership_id}": "register-detail",
    "/partnerships/{partnership_id}/edit": "register-edit", "/improve": "improve",
    "/improve/ideas/{idea_id}": "improve-idea", "/improve/projects/new": "improve-project-new",
    "/improve/projects/{project_id}": "improve-project",
    "/improve/ideas/{idea_id}/edit": "improve-idea-edit", "/partnerships/{partnership_id}/end": "register-end",
    "/improve/ideas/{idea_id}/comments/{comment_id}/edit": "improve-comment-edit",
    "/design": "design", "/design/money/consolidation": "design-consolidation",
    "/design/money/allocation": "design-allocation",
    "/partnerships/{partnership_id}/evaluation": "evaluation",
    "/account/password": "account-password", "/org/{code}/peers": "peers-choose",
    "/org/{code}/notes": "organisation-notes",
}


@pytest.fixture
def open_as(as_user):
    return as_user


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_wcag_violations(name, open_as, axe, world):
    from partnering.web.system import method_docs

    who, target, status = PAGES[name]
    page = open_as(who)
    if callable(target):
        target(page)
    else:
        docs = method_docs()
        path = target.format(demo_batch=world.demo_batch_id, first_method=docs[0]["slug"] if docs else "none")
        _goto(page, path, status)
    _charts_drawn(page)
    violations = axe(page, exclude=EXCLUDE.get(name))
    assert not violations, f"{name} ({page.url}) has {len(violations)} WCAG violation(s):\n" + \
        format_violations(violations)


def test_swagger_ui_widget(open_as, axe):
    """The third-party widget too: the app restyles it (static/swagger-overrides.css) and turns off deep links."""
    page = open_as("viewer_b")
    _swagger(page)
    violations = axe(page, include=[".swagger-ui"])
    assert not violations, "Swagger UI at /api/v1/docs:\n" + format_violations(violations)


def test_every_method_page(open_as, axe):
    from partnering.web.system import method_docs

    page = open_as("viewer_b")
    problems = []
    docs = method_docs()
    assert docs, "no method write-ups in docs/methods"
    for d in docs:
        _goto(page, f"/methods/{d['slug']}")
        v = axe(page)
        if v:
            problems.append(f"/methods/{d['slug']}:\n{format_violations(v)}")
    assert not problems, "\n".join(problems)


def test_every_page_is_checked(live_server):
    """Every GET route that renders a page is in COVERED_ROUTES (downloads, JSON and assets are not pages)."""
    pages = set()
    for method, p in iter_endpoints(live_server.app):
        if method != "GET":
            continue
        if (p.startswith("/api/") and p != "/api/v1/docs") or "download" in p or p.endswith((".json", ".js")) \
                or p.endswith("/rejected"):
            continue
        pages.add(p)
    missing = sorted(pages - set(COVERED_ROUTES))
    assert not missing, f"pages with no accessibility check: {missing} (add them to PAGES and COVERED_ROUTES)"
    assert set(COVERED_ROUTES.values()) <= set(PAGES)
    assert len(pages) >= 10, f"found only {sorted(pages)}: is the route walker still right for this FastAPI?"
