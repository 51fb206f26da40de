"""Request plumbing shared by pages and the API: who is signed in, CSRF checks, role checks."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from partnering.web import auth
from partnering.web.auth import CurrentUser

SESSION_USER = "uid"
SESSION_CSRF = "csrf"
#: the user's ``session_generation`` at sign-in; a password change since then has ended the session
SESSION_GENERATION = "gen"
#: a random id given at sign-in; sign-out records it as ended on the server (``ended_sessions``)
SESSION_ID = "sid"
#: how long a session cookie lasts after its last response: a working day
SESSION_MAX_AGE = 8 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}
#: declares the Bearer scheme in OpenAPI; the token itself is checked in :func:`optional_user` (the web session
#: is the other way in, so a missing header is not an error here)
BEARER = HTTPBearer(auto_error=False, scheme_name="bearerAuth",
                    description="An API token: `partnering users token EMAIL` or the account page")


class SignInRequired(Exception):
    """A page needs a signed-in user: redirect to the sign-in page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


def engine(request: Request):
    return request.app.state.engine


def csrf_token(request: Request) -> str:
    tok = request.session.get(SESSION_CSRF)
    if not tok:
        tok = auth.new_csrf_token()
        request.session[SESSION_CSRF] = tok
    return tok


def optional_user(request: Request) -> CurrentUser | None:
    cached = getattr(request.state, "user", "unset")
    if cached != "unset":
        return cached
    user = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = auth.user_for_token(request.app.state.engine, header[7:].strip())
        request.state.via_token = user is not None
        if user is None:
            request.state.bad_token = True
    elif SESSION_USER in request.session:
        user = auth.get_user(request.app.state.engine, int(request.session[SESSION_USER]))
        if user is not None and session_generation(request) != user.session_generation:
            user = None  # the password changed after this session signed in: it has ended
        sid = request.session.get(SESSION_ID)
        if user is not None and (not isinstance(sid, str) or not sid
                                 or auth.session_ended(request.app.state.engine, sid)):
            user = None  # signed out (or made before sessions had ids, which are all treated as signed out)
        if user is None:
            request.session.clear()
    request.state.user = user
    return user


def session_generation(request: Request) -> int:
    """The session generation this session signed in under (0 for sessions older than the counter)."""
    try:
        return int(request.session.get(SESSION_GENERATION, 0))
    except (TypeError, ValueError):
        return -1  # not a number we wrote: never matches


def start_session(request: Request, user: CurrentUser, generation: int | None = None) -> None:
    """A fresh session for ``user`` (new id and CSRF token, nothing carried over: no session fixation).  The
    session this replaces, if any, is ended on the server, so an earlier copy of its cookie no longer works."""
    end_session(request)
    request.session[SESSION_ID] = auth.new_session_id()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_CSRF] = auth.new_csrf_token()
    request.session[SESSION_GENERATION] = user.session_generation if generation is None else generation


def end_session(request: Request) -> None:
    """Sign this session out: clear the cookie and record its id as ended, so a copy taken earlier is refused."""
    sid = request.session.get(SESSION_ID)
    request.session.clear()
    if isinstance(sid, str) and sid:
        auth.end_session(request.app.state.engine, sid, SESSION_MAX_AGE)


def page_user(request: Request) -> CurrentUser:
    user = optional_user(request)
    if user is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(nxt)
    return user


def api_user(request: Request,
             _credentials: HTTPAuthorizationCredentials | None = Depends(BEARER)) -> CurrentUser:
    user = optional_user(request)
    if user is None:
        msg = "invalid or revoked API token" if getattr(request.state, "bad_token", False) else \
            "sign in or send an API token: Authorization: Bearer <token>"
        raise HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})
    if request.method not in ("GET", "HEAD", "OPTIONS") and not getattr(request.state, "via_token", False):
        # cookie-authenticated writes must prove they come from our pages
        if not auth.csrf_ok(request.session.get(SESSION_CSRF), request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, "missing or invalid CSRF token (send the X-CSRF-Token header, or use an "
                                     "API token)")
    return user


async def check_csrf(request: Request) -> None:
    """Router-wide dependency for pages: every POST must carry the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception:
                form = {}
            sent = form.get(CSRF_FIELD)
    if not auth.csrf_ok(request.session.get(SESSION_CSRF), sent if isinstance(sent, str) else None):
        raise HTTPException(403, "This form has expired or did not come from this service. Go back, reload the "
                                 "page and try again.")


def require_role(role: str, api: bool = False):
    def dep(user: CurrentUser = Depends(api_user if api else page_user)) -> CurrentUser:
        if ROLE_RANK.get(user.role, -1) < ROLE_RANK[role]:
            raise HTTPException(403, f"you need the {role} role to do this")
        return user

    return dep


#: pages whose query string is checked like the API's (their form fields are their parameters)
CHECKED_PAGES = ("/plan",)
#: query parameters a checked page reads itself (a flash after a redirect), besides its declared ones
PAGE_FLASH_PARAMS = frozenset({"saved"})


def refuse_unknown_query(request: Request) -> None:
    """App-wide dependency: on the API (and the pages in :data:`CHECKED_PAGES`) a query parameter the operation
    does not take is a 400 naming it and the accepted ones — never silently ignored (issue #9: ``?max_minutes=1``
    on the plan API was ignored and 87-minute pairs came back)."""
    path = request.url.path
    is_api = path.startswith("/api/")
    if not (is_api or path in CHECKED_PAGES) or not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    accepted = _query_names(dependant)
    if not is_api:
        accepted |= PAGE_FLASH_PARAMS
    unknown = sorted(set(request.query_params) - accepted)
    if unknown:
        names = ", ".join(f"'{u[:40]}'" for u in unknown[:5])
        takes = ", ".join(sorted(accepted)) if accepted else "none"
        raise HTTPException(400, f"unknown query parameter{'s' if len(unknown) > 1 else ''} {names}: "
                                 f"{path} takes {takes}")


def _query_names(dependant) -> set[str]:
    """The query parameter names (aliases) an operation and its dependencies declare."""
    names, todo = set(), [dependant]
    while todo:
        d = todo.pop()
        names |= {p.alias for p in d.query_params}
        todo.extend(d.dependencies)
    return names
