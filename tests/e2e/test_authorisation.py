"""Who may do what: every role (anonymous, viewer, analyst, admin) x organisation scope (own, other) x every
endpoint of the app, over real HTTP; and proof that nobody outside an organisation sees its unpublished data.

Endpoints are enumerated from the app's routes, so a new endpoint is checked without editing this file: unless
``RULES`` says otherwise it must at least refuse anonymous callers (a redirect to sign in for pages, 401 for the
API) and serve every signed-in role.  State-changing requests are sent with and without the CSRF token.

Runs on its own store and server (org A's unpublished upload must not disturb the other e2e tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from e2e_support import ORG_A, ORG_B, LiveServer, build_world, iter_endpoints

pytestmark = pytest.mark.e2e

PRINCIPALS = ["anonymous", "viewer_a", "viewer_b", "analyst_a", "analyst_b", "admin"]
RANK = {"anonymous": -1, "viewer": 0, "analyst": 1, "admin": 2}
#: what the unpublished upload of org A contains; none of it may reach anyone outside org A (admins excepted)
SECRET_PERIOD = "2026-04"  # the demo ends in 2026-03: nothing published has this month
SECRET_INDICATOR = "local_secret_falls_rate"
SECRET_FILE = "org-a-unpublished-kpis.csv"
SECRET_VALUE = 12.3456
SECRET_CSV = (
    "org_code,indicator,period,value\n"
    + "".join(f"{ORG_A},{SECRET_INDICATOR},2025-{m:02d},{4 + m / 10:.2f}\n" for m in range(1, 13))
    + f"{ORG_A},{SECRET_INDICATOR},{SECRET_PERIOD},{SECRET_VALUE}\n"
    + f"{ORG_A},{SECRET_INDICATOR},not-a-month,1\n"  # one rejected row, so the batch has rejected rows to hide
).encode()
#: org A's unpublished official figures for the same month (a KPI file may not carry official indicators: they come
#: through their official loader, here as the A&E loader writes an analyst's upload)
SECRET_OFFICIAL = [("ae_4h_pct_all", SECRET_VALUE), ("ae_attendances_total", 98765)]


# ------------------------------------------------------------------------------------------------ fixtures


@dataclass
class Session:
    who: str
    role: str
    org: str | None
    client: httpx.Client  # cookie session (pages)
    csrf: str = ""

    def refresh_csrf(self) -> str:
        html = self.client.get("/signin" if self.who == "anonymous" else "/account").text
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        self.csrf = m.group(1) if m else ""
        return self.csrf


def _load_unpublished_official_figures(world) -> None:
    import pandas as pd

    from partnering.ingest.base import Parsed, commit_parsed
    from partnering.web.cache import invalidate_version

    obs = pd.DataFrame([{"org_code": ORG_A, "indicator": code, "period": SECRET_PERIOD, "numerator": None,
                         "denominator": None, "value": value} for code, value in SECRET_OFFICIAL])
    rep = commit_parsed(Parsed(kind="ae-monthly", file="org-a-ae-april.csv", rows_read=len(obs), observations=obs,
                               period=SECRET_PERIOD), "e2e-org-a-unpublished-ae", world.engine, owner_org=ORG_A,
                        published=False, uploaded_by=world.accounts["analyst_a"].email)
    assert rep.rows_loaded == len(SECRET_OFFICIAL), rep
    invalidate_version(world.engine)


@pytest.fixture(scope="module")
def authz(e2e_home):
    world = build_world(e2e_home / "authz", name="authz")
    from partnering.web.app import create_app

    app = create_app(world.db_url, secure_cookies=False, warm_cache=False)
    server = LiveServer(app).start()
    # org A's analyst uploads an unpublished file through the API
    r = httpx.post(f"{server.url}/api/v1/imports", headers=world.token_headers("analyst_a"),
                   data={"kind": "kpi", "publish": "true"},  # 'publish' is ignored for analysts: stays unpublished
                   files={"file": (SECRET_FILE, SECRET_CSV, "text/csv")}, timeout=120)
    assert r.status_code == 200, r.text
    report = r.json()[0]
    assert report["rows_loaded"] == 13 and report["rows_rejected"] == 1, report
    world.secret_batch = report["batch_id"]
    r = httpx.post(f"{server.url}/api/v1/appraise/prefill", headers=world.token_headers("analyst_a"),
                   json={"org_code": ORG_A, "save": True}, timeout=120)  # a stored case of org A
    assert r.status_code == 200, r.text
    world.appraise_case_id = r.json()["id"]
    # a partnership of org A with org B, an idea and a project of org A (the register and improvement pages by id)
    from partnering.improve.ideas import submit_idea
    from partnering.improve.projects import create_project
    from partnering.register import add_partnership

    world.partnership_id = add_partnership(world.engine, {"recipient_code": ORG_A, "supporter_code": ORG_B,
                                                          "form": "buddying", "start_period": "2024-04"},
                                           actor="e2e").id
    world.idea_id = submit_idea(world.engine, ORG_A, "Share the discharge checklist", actor="e2e")
    from partnering.improve.ideas import comment_on_idea

    world.comment_id = comment_on_idea(world.engine, world.idea_id, "Ward 3 first", actor="e2e")
    world.project_id = create_project(world.engine, ORG_A, "Same-day discharge", actor="e2e")
    _load_unpublished_official_figures(world)
    with world.engine.connect() as conn:
        from sqlalchemy import text

        published, owner = conn.execute(text("SELECT published, owner_org FROM import_batches WHERE id = :i"),
                                        {"i": world.secret_batch}).one()
    assert not published and owner == ORG_A, "an analyst's upload must stay unpublished and owned by their org"
    sessions = {}
    for who in PRINCIPALS:
        client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=300)
        if who != "anonymous":
            acc = world.accounts[who]
            page = client.get("/signin").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            resp = client.post("/signin", data={"email": acc.email, "password": acc.password, "next": "/",
                                                "csrf_token": token})
            assert resp.status_code == 303 and resp.headers["location"] == "/", (who, resp.status_code)
            role, org = acc.role, acc.org_code
        else:
            role, org = "anonymous", None
        s = Session(who, role, org, client)
        s.refresh_csrf()
        sessions[who] = s
    yield world, server, sessions
    for s in sessions.values():
        s.client.close()
    server.stop()


# ------------------------------------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class Rule:
    need: str = "signed_in"  # public | signed_in | analyst | admin | analyst_of_a | member_of_a (org A or admin)
    ok: tuple[int, ...] = (200,)  # statuses that mean "allowed and done"
    body: str | None = None  # which request body to send (see _request)
    csrf: bool = False  # a page form: must refuse a missing CSRF token
    query: str = ""  # required query parameters ({code} is filled in)


#: endpoints whose rule differs from "any signed-in user gets 200"
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/signin"): Rule("public"),
    ("GET", "/openapi.json"): Rule("public"),
    ("GET", "/api/v1/openapi.json"): Rule("public"),
    ("GET", "/js/plotly.min.js"): Rule("public"),
    ("MOUNT", "/static"): Rule("public"),
    ("MOUNT", "/assets"): Rule("public"),
    ("POST", "/signin"): Rule("public", ok=(400,), body="bad_signin", csrf=True),
    ("POST", "/signout"): Rule("public", ok=(303,), body="none", csrf=True),
    ("POST", "/account/tokens"): Rule(body="token_label", csrf=True),
    ("POST", "/account/tokens/{token_id}/revoke"): Rule(ok=(303,), body="none", csrf=True),
    ("GET", "/admin/users"): Rule("admin"),
    ("POST", "/admin/users"): Rule("admin", body="new_user", csrf=True),
    ("POST", "/plan/save"): Rule("analyst", ok=(303,), body="plan", csrf=True),
    ("POST", "/data"): Rule("analyst", ok=(400,), body="bad_file", csrf=True),  # a bad file: refused as 400
    ("GET", "/api/v1/spc"): Rule(query="?org={code}&indicator=ae_4h_pct_all"),
    ("POST", "/api/v1/spc"): Rule(body="series"),
    ("POST", "/api/v1/buddying-plan"): Rule(body="plan_json"),
    ("POST", "/api/v1/imports"): Rule("analyst", ok=(400,), body="bad_file"),
    # publishing the (already published) demo batch: allowed for admins, a no-op
    ("POST", "/data/batches/{batch_id}/publish"): Rule("admin", ok=(303,), body="none", csrf=True),
    ("POST", "/api/v1/imports/{batch_id}/publish"): Rule("admin", body="none"),
    # appraisal cases: every signed-in user reads and runs them; analysts of the case's organisation (org A's case
    # here) and admins edit them; analysts create cases for their own organisation
    ("POST", "/appraise/new"): Rule("analyst", ok=(303,), body="appraise_blank", csrf=True),
    ("GET", "/appraise/cases/{case_id}/edit/{step}"): Rule("analyst_of_a"),
    ("POST", "/appraise/cases/{case_id}/edit/{step}"): Rule("analyst_of_a", ok=(303,), body="none", csrf=True),
    ("GET", "/appraise/cases/{case_id}/toml"): Rule("analyst_of_a"),
    ("POST", "/appraise/cases/{case_id}/toml"): Rule("analyst_of_a", ok=(303,), body="none", csrf=True),
    ("POST", "/api/v1/appraise/cases"): Rule("analyst", ok=(201,), body="appraise_case"),
    ("PUT", "/api/v1/appraise/cases/{case_id}"): Rule("analyst_of_a", body="appraise_case_a"),
    ("POST", "/api/v1/appraise/cases/{case_id}/run"): Rule(body="none"),
    ("POST", "/api/v1/appraise/prefill"): Rule(body="appraise_prefill"),
    ("POST", "/api/v1/appraise/discount"): Rule(body="appraise_discount"),
    ("GET", "/api/v1/batches/{batch_id}/publish-preview"): Rule("admin"),
    ("GET", "/data/batches/{batch_id}/undo"): Rule("admin"),
    # undoing the demo batch: allowed for admins, refused by the library with its reason (reference data replaced)
    ("POST", "/api/v1/batches/{batch_id}/undo"): Rule("admin", ok=(400,), body="none"),
    ("GET", "/design/money/allocation/download"): Rule(query="?budget=1000&units=areas"),
    # the register, improvement work, evaluation and design (issues #10-#12). Write endpoints are sent an empty body:
    # the outcome shows who gets past the gate (signed in / role / organisation) to the input checks (400/422).
    ("GET", "/partnerships/new"): Rule("analyst"),
    ("POST", "/partnerships/new"): Rule(ok=(400,), body="none", csrf=True),
    ("GET", "/partnerships/{partnership_id}/edit"): Rule("analyst"),  # analysts of a party (A and B here), admins
    # an empty form names no party: only an administrator may save an entry they are not a party of
    ("POST", "/partnerships/{partnership_id}/edit"): Rule("admin", ok=(400,), body="none", csrf=True),
    ("POST", "/partnerships/{partnership_id}/renew"): Rule("analyst", ok=(303,), body="none", csrf=True),
    # ending a partnership on its page: analysts of a party (A and B here) and admins; an empty form is refused past
    # the gate (400: no last month, no reason, not confirmed), so the partnership stays as it was
    ("GET", "/partnerships/{partnership_id}/end"): Rule("analyst"),
    ("POST", "/partnerships/{partnership_id}/end"): Rule("analyst", ok=(400,), body="none", csrf=True),
    ("POST", "/api/v1/partnerships"): Rule(ok=(422,), body="none"),
    ("PATCH", "/api/v1/partnerships/{partnership_id}"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/partnerships/{partnership_id}/end"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/partnerships/{partnership_id}/renew"): Rule(ok=(422,), body="none"),
    ("GET", "/improve/ideas/{idea_id}"): Rule("member_of_a"),
    ("GET", "/api/v1/improve/ideas/{idea_id}"): Rule("member_of_a"),
    ("POST", "/improve/ideas"): Rule(ok=(400,), body="none", csrf=True),
    ("POST", "/improve/ideas/{idea_id}/comment"): Rule("member_of_a", ok=(400,), body="none", csrf=True),
    ("POST", "/improve/ideas/{idea_id}/vote"): Rule("member_of_a", ok=(303,), body="none", csrf=True),
    ("POST", "/improve/ideas/{idea_id}/triage"): Rule("analyst_of_a", ok=(400,), body="none", csrf=True),
    # editing an idea or a comment: its author (here "e2e", none of the principals) or an administrator; an empty
    # form is refused past the gate (400), an empty API body before it (422)
    ("GET", "/improve/ideas/{idea_id}/edit"): Rule("admin"),
    ("POST", "/improve/ideas/{idea_id}/edit"): Rule("admin", ok=(400,), body="none", csrf=True),
    ("GET", "/improve/ideas/{idea_id}/comments/{comment_id}/edit"): Rule("admin"),
    ("POST", "/improve/ideas/{idea_id}/comments/{comment_id}/edit"): Rule("admin", ok=(400,), body="none",
                                                                          csrf=True),
    ("PATCH", "/api/v1/improve/ideas/{idea_id}"): Rule(ok=(422,), body="none"),
    ("PATCH", "/api/v1/improve/ideas/{idea_id}/comments/{comment_id}"): Rule(ok=(422,), body="none"),
    ("GET", "/api/v1/improve/ideas/{idea_id}/history"): Rule("member_of_a"),
    ("POST", "/api/v1/improve/ideas"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/improve/ideas/{idea_id}/comments"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/improve/ideas/{idea_id}/votes"): Rule("member_of_a", body="none"),
    ("POST", "/api/v1/improve/ideas/{idea_id}/triage"): Rule(ok=(422,), body="none"),
    ("GET", "/improve/projects/new"): Rule("analyst"),
    ("POST", "/improve/projects/new"): Rule("analyst", ok=(400,), body="none", csrf=True),
    ("GET", "/improve/projects/{project_id}"): Rule("member_of_a"),
    ("GET", "/api/v1/improve/projects/{project_id}"): Rule("member_of_a"),
    ("POST", "/improve/projects/{project_id}/cycles"): Rule("analyst_of_a", ok=(400,), body="none", csrf=True),
    ("POST", "/improve/projects/{project_id}/drivers"): Rule("analyst_of_a", ok=(400,), body="none", csrf=True),
    ("POST", "/improve/projects/{project_id}/progress"): Rule("analyst_of_a", ok=(400,), body="none", csrf=True),
    ("POST", "/api/v1/improve/projects"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/improve/projects/{project_id}/cycles"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/improve/projects/{project_id}/drivers"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/improve/projects/{project_id}/progress"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/evaluate/panel"): Rule(ok=(400,), body="none"),
    ("POST", "/design/money/consolidation/add"): Rule("analyst", ok=(400,), body="none", csrf=True),
    ("POST", "/api/v1/design/money/consolidation"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/design/money/allocation"): Rule(ok=(422,), body="none"),
    # the allocation page with the user's funding: a posted form (the empty post shows the form); its download
    # without a budget is refused as 400
    ("POST", "/design/money/allocation"): Rule(body="none", csrf=True),
    ("POST", "/design/money/allocation/download"): Rule(ok=(400,), body="none", csrf=True),
    ("POST", "/api/v1/design/regions"): Rule(ok=(422,), body="none"),
    ("POST", "/api/v1/design/network"): Rule(ok=(422,), body="none"),
    ("POST", "/data/batches/{batch_id}/undo"): Rule("admin", ok=(400,), body="none", csrf=True),
    # accounts (issue #14.6): one's own password (an empty form: the current password is wrong, 400); an admin's reset
    # of another user's password ({user_id} left unfilled: past the admin gate the id is refused as 422, so no real
    # account's password changes)
    ("POST", "/account/password"): Rule(ok=(400,), body="none", csrf=True),
    ("POST", "/admin/users/{user_id}/password"): Rule("admin", ok=(422,), body="none", csrf=True),
    # pinned peer groups (issue #14.5): everyone reads them; analysts of the organisation in the path and admins
    # choose them (an empty form or body is refused past the gate: 400 / 422); going back to the automatic peers
    ("POST", "/org/{code}/peers"): Rule("analyst_of_org", ok=(400,), body="none", csrf=True),
    ("POST", "/org/{code}/peers/automatic"): Rule("analyst_of_org", ok=(303,), body="none", csrf=True),
    ("PUT", "/api/v1/organisations/{code}/peer-group"): Rule(ok=(422,), body="none"),
    ("DELETE", "/api/v1/organisations/{code}/peer-group"): Rule("analyst_of_org"),
    # chart annotations and rebases (issue #14.3): everyone signed in reads them; analysts of the organisation in
    # the path and admins write them (an empty form is refused as 400 past the gate); a note of org A (a fresh one
    # per request, so a delete leaves the next principal one to try) is changed and deleted by org A's analysts and
    # admins only
    ("POST", "/org/{code}/notes"): Rule("analyst_of_org", ok=(400,), body="none", csrf=True),
    ("POST", "/notes/{note_id}/change"): Rule("analyst_of_a", ok=(400,), body="none", csrf=True),
    ("POST", "/notes/{note_id}/delete"): Rule("analyst_of_a", ok=(303,), body="none", csrf=True),
    ("POST", "/api/v1/organisations/{code}/notes"): Rule("analyst_of_org", ok=(201,), body="note"),
    ("PATCH", "/api/v1/notes/{note_id}"): Rule("analyst_of_a", body="note_change"),
    ("DELETE", "/api/v1/notes/{note_id}"): Rule("analyst_of_a"),
    ("POST", "/notes/undo/{event_id}"): Rule("analyst_of_a", ok=(303,), body="none", csrf=True),
}


def _fill(path: str, principal_org: str | None, scope: str, world) -> str:
    org = principal_org if scope == "own" else (ORG_B if principal_org == ORG_A else ORG_A)
    values = {"code": org or ORG_A, "batch_id": str(world.demo_batch_id), "what": "observations",
              "slug": "spc", "token_id": "{token_id}", "case_id": str(getattr(world, "appraise_case_id", 0)),
              "step": "problem", "partnership_id": str(getattr(world, "partnership_id", 0)),
              "idea_id": str(getattr(world, "idea_id", 0)), "project_id": str(getattr(world, "project_id", 0)),
              "comment_id": str(getattr(world, "comment_id", 0)),
              "fmt": "html", "indicator_code": "ae_4h_pct_all", "image": "png"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), path)


def _request(s: Session, method: str, path: str, rule: Rule, *, api: bool, world, with_csrf: bool = True):
    headers = {}
    if api and s.who != "anonymous":
        headers["Authorization"] = f"Bearer {world.accounts[s.who].token}"
    data = files = json = None
    if rule.body == "bad_signin":
        data = {"email": f"{s.who}@nobody.test", "password": "wrong-password"}
    elif rule.body == "token_label":
        data = {"label": "authz"}
    elif rule.body == "new_user":
        import uuid

        data = {"email": f"u{uuid.uuid4().hex[:8]}@e2e.test", "role": "viewer", "org_code": ""}
    elif rule.body == "plan":
        data = {"capacity": "1"}
    elif rule.body == "bad_file":
        data = {"kind": "kpi"}
        files = {"file": ("bad.csv", b"org_code,indicator\nZA1,x\n", "text/csv")}
    elif rule.body == "series":
        json = {"points": [{"x": f"2024-{m:02d}", "y": 50 + m % 4} for m in range(1, 13)]}
    elif rule.body == "plan_json":
        json = {"capacity": 1}
    elif rule.body == "appraise_blank":
        data = {"start": "blank", "org_code": s.org or ORG_A, "title": "authz"}
    elif rule.body in ("appraise_case", "appraise_case_a"):
        org = ORG_A if rule.body == "appraise_case_a" else (s.org or ORG_A)
        json = {"toml": f'[case]\ntitle = "authz"\norg_code = "{org}"\nprice_base_year = 2026\n\n[[options]]\n'
                        'key = "bau"\nname = "Business as usual"\nkind = "bau"\n'}
    elif rule.body == "appraise_prefill":
        json = {"org_code": ORG_A}
    elif rule.body == "appraise_discount":
        json = {"flows": [0, 1000]}
    elif rule.body == "note":
        json = {"indicator": "ae_4h_pct_all", "period": "2025-01", "kind": "annotation", "text": f"authz {s.who}"}
    elif rule.body == "note_change":
        json = {"text": f"changed by {s.who}"}
    if method == "POST" and not api and with_csrf:
        data = {**(data or {}), "csrf_token": s.csrf}
    if "{token_id}" in path:
        tid = _throwaway_token(s, world)
        path = path.replace("{token_id}", str(tid))
    if "{note_id}" in path:  # a fresh annotation of org A for every request
        from partnering.store.annotations import add_note

        note = add_note(world.engine, ORG_A, "ae_4h_pct_all", "2025-02", "annotation", "authz", actor="authz-test")
        path = path.replace("{note_id}", str(note.id))
    if "{event_id}" in path:  # the audit event of a fresh annotation of org A (undoing it removes the annotation)
        from partnering.store.annotations import add_note, note_history

        add_note(world.engine, ORG_A, "ae_4h_pct_all", "2025-03", "annotation", "authz undo", actor="authz-test")
        path = path.replace("{event_id}", str(note_history(world.engine, ORG_A, limit=1)[0]["event_id"]))
    return s.client.request(method, path, data=data, files=files, json=json, headers=headers)


def _throwaway_token(s: Session, world) -> int:
    if s.who == "anonymous":
        return 1
    from partnering.web.auth import create_token, tokens_frame, user_for_token

    tok = create_token(world.engine, world.accounts[s.who].email, "throwaway", actor="authz-test")
    uid = user_for_token(world.engine, tok).id
    return int(tokens_frame(world.engine, uid).iloc[0]["id"])


def _expected(rule: Rule, s: Session, scope: str = "own") -> str:
    if rule.need == "public":
        return "ok"
    if s.who == "anonymous":
        return "signin"
    if rule.need == "analyst_of_org":  # analysts of the organisation in the path ({code}) and admins
        org = (s.org or ORG_A) if scope == "own" else (ORG_B if s.org == ORG_A else ORG_A)
        return "ok" if s.role == "admin" or (s.role == "analyst" and s.org == org) else "forbidden"
    if rule.need == "member_of_a":  # anyone of org A (whose idea / project it is) and admins
        return "ok" if s.role == "admin" or s.org == ORG_A else "forbidden"
    if rule.need == "analyst_of_a":  # analysts of org A (whose stored case it is) and admins
        return "ok" if s.role == "admin" or (s.role == "analyst" and s.org == ORG_A) else "forbidden"
    return "ok" if RANK[s.role] >= RANK.get(rule.need, 0) else "forbidden"


def _outcome_for(resp: httpx.Response, rule: Rule, method: str, path: str) -> str:
    got = _outcome(resp, method, path)
    return "ok" if got == f"status {resp.status_code}" and resp.status_code in rule.ok else got


def _outcome(resp: httpx.Response, method: str, path: str) -> str:
    loc = resp.headers.get("location", "")
    if resp.status_code == 401 or (resp.status_code in (302, 303, 307) and loc.startswith("/signin")
                                   and (method, path) != ("POST", "/signout")):
        return "signin"
    if resp.status_code == 403:
        return "forbidden"
    return f"status {resp.status_code}"


def _matrix_rows(app):
    rows = []
    for method, path in iter_endpoints(app):
        if method == "MOUNT":
            continue
        scopes = ("own", "other") if "{code}" in path else ("-",)
        rows.extend((method, path, scope) for scope in scopes)
    return rows


def test_authorisation_matrix(authz):
    """Every endpoint x principal x scope gets the expected outcome; printed as a table."""
    world, server, sessions = authz
    rows = _matrix_rows(server.app)
    assert len(rows) >= 40, f"only {len(rows)} endpoint rows: is the route walker right?"
    failures, table = [], []
    # sign-out ends the session, so it goes last
    rows.sort(key=lambda r: r[1] == "/signout" and r[0] == "POST")
    for method, path, scope in rows:
        rule = RULES.get((method, path), Rule())
        api = path.startswith("/api/")
        cells = []
        for who in PRINCIPALS:
            s = sessions[who]
            url = _fill(path + rule.query, s.org, scope if scope != "-" else "own", world)
            if method == "POST" and path == "/signout":
                s = _fresh_session(s, server, world)
            try:
                resp = _request(s, method, url, rule, api=api, world=world)
            except httpx.TransportError as exc:
                cells.append("reset")
                failures.append(f"{method} {url} as {who}: no response ({exc!r})")
                continue
            got, want = _outcome_for(resp, rule, method, path), _expected(rule, s, scope if scope != "-" else "own")
            cells.append(f"{resp.status_code}{'' if got == want else '!'}")
            if got != want:
                failures.append(f"{method} {url} as {who}: expected {want}, got {got} ({resp.text[:160]!r})")
        table.append(f"{method:5} {path:45} {scope:5} " + " ".join(f"{c:>5}" for c in cells))
    print("\n" + f"{'':57}" + " ".join(f"{p[:5]:>5}" for p in PRINCIPALS) + "\n" + "\n".join(table))
    assert not failures, "authorisation matrix mismatches:\n" + "\n".join(failures)


def _fresh_session(s: Session, server, world) -> Session:
    """A second session for the same principal (used to sign out without ending the matrix's own session)."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=60)
    if s.who != "anonymous":
        acc = world.accounts[s.who]
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
        client.post("/signin", data={"email": acc.email, "password": acc.password, "csrf_token": token})
    fresh = Session(s.who, s.role, s.org, client)
    fresh.refresh_csrf()
    return fresh


def test_static_files_are_public(authz):
    world, server, sessions = authz
    anon = sessions["anonymous"].client
    assert anon.get("/static/app.css").status_code == 200
    assert anon.get("/static/vendor/nhsuk/nhsuk-frontend.min.css").status_code == 200
    assert anon.get("/static/../auth.py").status_code == 404


def test_page_forms_refuse_a_missing_or_wrong_csrf_token(authz):
    world, server, sessions = authz
    s = sessions["admin"]
    for (method, path), rule in RULES.items():
        if method != "POST" or not rule.csrf:
            continue
        url = _fill(path, None, "own", world)
        resp = _request(s, method, url, rule, api=False, world=world, with_csrf=False)
        assert resp.status_code == 403, f"{path} without a CSRF token: {resp.status_code}"
        resp = s.client.post(url.replace("{token_id}", "1"), data={"csrf_token": "forged"})
        assert resp.status_code == 403, f"{path} with a forged CSRF token: {resp.status_code}"


def test_cookie_api_writes_need_the_csrf_header(authz):
    """A browser session may call the API, but a write must carry X-CSRF-Token (an API token needs none)."""
    world, server, sessions = authz
    s = sessions["analyst_b"]
    body = {"capacity": 1}
    assert s.client.post("/api/v1/buddying-plan", json=body).status_code == 403
    assert s.client.post("/api/v1/buddying-plan", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert s.client.post("/api/v1/buddying-plan", json=body, headers={"X-CSRF-Token": s.csrf}).status_code == 200
    assert s.client.get("/api/v1/me").json()["email"] == world.accounts["analyst_b"].email


def test_bad_and_revoked_tokens_are_refused(authz):
    world, server, sessions = authz
    from partnering.web.auth import create_token, revoke_token, user_for_token

    anon = sessions["anonymous"].client
    assert anon.get("/api/v1/me", headers={"Authorization": "Bearer ptk_not-a-token"}).status_code == 401
    tok = create_token(world.engine, world.accounts["viewer_b"].email, "to revoke")
    assert anon.get("/api/v1/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    user = user_for_token(world.engine, tok)
    from partnering.web.auth import tokens_frame

    revoke_token(world.engine, user, int(tokens_frame(world.engine, user.id).iloc[0]["id"]))
    assert anon.get("/api/v1/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 401
    # a bearer token does not work as a page session cookie either way round: pages accept it, but only while valid
    assert anon.get("/", headers={"Authorization": f"Bearer {tok}"}).status_code == 303


def test_nobody_revokes_another_users_token(authz):
    world, server, sessions = authz
    s = sessions["viewer_b"]
    victim = _throwaway_token(sessions["viewer_a"], world)
    resp = s.client.post(f"/account/tokens/{victim}/revoke", data={"csrf_token": s.csrf})
    assert resp.status_code == 404
    from partnering.web.auth import tokens_frame, user_for_token

    uid = user_for_token(world.engine, world.accounts["viewer_a"].token).id
    frame = tokens_frame(world.engine, uid)
    assert not bool(frame.loc[frame["id"] == victim, "revoked"].iloc[0])


# ------------------------------------------------------------------------------------------------ unpublished data


def _views(world) -> list[tuple[str, str, bool]]:
    """(label, path, api?) of everywhere org A's unpublished values could surface."""
    b = world.secret_batch
    return [
        ("API observations of org A", f"/api/v1/observations?org={ORG_A}&limit=10000", True),
        ("API observations of the secret indicator", f"/api/v1/observations?indicator={SECRET_INDICATOR}", True),
        ("API observations, all, as CSV", f"/api/v1/observations?from={SECRET_PERIOD}&limit=10000&format=csv", True),
        ("API SPC of the secret indicator", f"/api/v1/spc?org={ORG_A}&indicator={SECRET_INDICATOR}", True),
        ("API SPC of org A's 4-hour series", f"/api/v1/spc?org={ORG_A}&indicator=ae_4h_pct_all", True),
        ("API assessment of org A", f"/api/v1/assessment/{ORG_A}", True),
        ("API assessment, all", "/api/v1/assessment?limit=10000&format=csv", True),
        ("API partners of org B", f"/api/v1/organisations/{ORG_B}/partners?limit=100", True),
        ("API peers of org A", f"/api/v1/organisations/{ORG_A}/peers", True),
        ("API buddying plan", "/api/v1/buddying-plan", True),
        ("API import list", "/api/v1/imports?limit=10000", True),
        ("API import", f"/api/v1/imports/{b}", True),
        ("API rejected rows", f"/api/v1/imports/{b}/rejected", True),
        ("system page", "/", False),
        ("org A page", f"/org/{ORG_A}", False),
        ("org B page", f"/org/{ORG_B}", False),
        ("org A observations download", f"/org/{ORG_A}/download/observations?format=csv", False),
        ("org A SPC download", f"/org/{ORG_A}/download/spc?format=csv", False),
        ("org A icons download", f"/org/{ORG_A}/download/icons?format=csv", False),
        ("org A 4-hour chart as SVG", f"/org/{ORG_A}/download/charts/ae_4h_pct_all.svg", False),
        ("API chart of org A's 4-hour series", f"/api/v1/organisations/{ORG_A}/charts/ae_4h_pct_all", True),
        ("org B partners download", f"/org/{ORG_B}/download/partners?format=csv", False),
        ("summary download", "/download/summary?format=csv", False),
        ("plan page", "/plan", False),
        ("plan download", "/plan/download?format=csv", False),
        ("data page", "/data", False),
        ("batch page", f"/data/batches/{b}", False),
        ("rejected rows download", f"/data/batches/{b}/rejected?format=csv", False),
    ]


def _leaks(text: str, world) -> list[str]:
    found = []
    for marker in (SECRET_PERIOD, "Apr 2026", SECRET_INDICATOR, SECRET_FILE, "12.3456", "98765", "98,765"):
        if marker in text:
            found.append(marker)
    return found


@pytest.mark.parametrize("who", ["anonymous", "viewer_b", "analyst_b"])
def test_other_organisations_never_see_unpublished_data(authz, who):
    world, server, sessions = authz
    s = sessions[who]
    leaks = []
    for label, path, api in _views(world):
        headers = {"Authorization": f"Bearer {world.accounts[who].token}"} if api and who != "anonymous" else {}
        resp = s.client.get(path, headers=headers)
        if who == "anonymous":
            assert resp.status_code in (303, 401), f"{label}: anonymous got {resp.status_code}"
        elif "/imports/" in path or "/batches/" in path or ("/spc?" in path and SECRET_INDICATOR in path):
            assert resp.status_code == 404, f"{label} ({path}): {resp.status_code} for {who}, expected 404"
        else:
            assert resp.status_code == 200, f"{label} ({path}): {resp.status_code} {resp.text[:200]}"
        text = resp.text
        if resp.status_code == 404:  # the error may echo what was asked for ("no values of '<indicator>'")
            text = text.replace(SECRET_INDICATOR, "")
        found = _leaks(text, world)
        if found:
            leaks.append(f"{label} ({path}): {', '.join(found)}")
    assert not leaks, f"org {ORG_A}'s unpublished data reached {who}:\n" + "\n".join(leaks)


@pytest.mark.parametrize("who", ["viewer_a", "analyst_a", "admin"])
def test_own_organisation_and_admins_see_unpublished_data(authz, who):
    """The positive control: the markers the test above looks for really are visible to those allowed."""
    world, server, sessions = authz
    s = sessions[who]
    seen, problems = {}, []
    for label, path, api in _views(world):
        if label == "API SPC of the secret indicator":
            continue  # test_an_organisations_own_kpi_has_an_spc_chart
        headers = {"Authorization": f"Bearer {world.accounts[who].token}"} if api else {}
        try:
            resp = s.client.get(path, headers=headers)
        except httpx.TransportError as exc:
            problems.append(f"{label} ({path}): no response ({exc!r})")
            seen[label] = []
            continue
        if resp.status_code != 200:
            problems.append(f"{label} ({path}): {resp.status_code} {resp.text[:120]!r}")
        seen[label] = _leaks(resp.text, world)
    for label in ("API observations of org A", "API observations of the secret indicator", "API import",
                  "org A page", "org A observations download", "data page", "batch page"):
        if not seen[label]:
            problems.append(f"{label}: none of org {ORG_A}'s unpublished values shown")
    assert not problems, f"{who} should see org {ORG_A}'s unpublished data everywhere:\n" + "\n".join(problems)
    obs = s.client.get(f"/api/v1/observations?org={ORG_A}&indicator=ae_4h_pct_all&from={SECRET_PERIOD}",
                       headers={"Authorization": f"Bearer {world.accounts[who].token}"}).json()
    assert [round(i["value"], 4) for i in obs["items"]] == [SECRET_VALUE]


def test_an_organisations_own_kpi_has_an_spc_chart(authz):
    """An organisation that loads its own KPI (an indicator not in the catalogue) gets its SPC: the API answers,
    and its organisation page draws a chart for it."""
    world, server, sessions = authz
    s = sessions["analyst_a"]
    headers = {"Authorization": f"Bearer {world.accounts['analyst_a'].token}"}
    resp = s.client.get(f"/api/v1/spc?org={ORG_A}&indicator={SECRET_INDICATOR}", headers=headers)
    assert resp.status_code == 200, f"SPC of org {ORG_A}'s own KPI: {resp.status_code} {resp.text[:200]}"
    points = resp.json()["points"]
    assert len([p for p in points if p["y"] is not None]) == 13  # every value loaded is charted
    # on the full month grid: the months with no value (2026-01 to 2026-03) are gaps, not bridged
    assert len(points) == 16 and [p["x"][:7] for p in points if p["y"] is None] == ["2026-01", "2026-02", "2026-03"]
    page = s.client.get(f"/org/{ORG_A}")
    assert page.status_code == 200 and SECRET_INDICATOR in page.text
