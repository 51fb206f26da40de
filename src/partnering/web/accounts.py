"""Accounts: sign in, sign out, the account page (API tokens), user administration (admins) and the API's
``/api/v1/me``.  Passwords, tokens, users and the sign-in throttle are :mod:`partnering.web.auth`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from partnering.errors import PartneringError
from partnering.web import auth
from partnering.web.auth import CurrentUser
from partnering.web.deps import api_user, check_csrf, end_session, page_user, require_role, start_session
from partnering.web.errors import ERROR_RESPONSES
from partnering.web.render import render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
api = APIRouter(prefix="/api/v1", tags=["api"])


def _safe_next(nxt: str | None) -> str:
    """Only same-site paths: never redirect a user off the service after sign-in."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        return "/"
    return nxt


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@pages.get("/signin")
def signin_form(request: Request, next: str = "/"):
    return render(request, "accounts/signin.html", title="Sign in", next=_safe_next(next), email="", errors=[])


@pages.post("/signin")
def signin(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("/")):
    limiter: auth.LoginRateLimiter = request.app.state.limiter
    ip = _client(request)
    wait = limiter.retry_after(email, ip)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        resp = render(request, "accounts/signin.html", status_code=429, title="Sign in", next=_safe_next(next),
                      email=email,
                      errors=[{"text": f"Too many failed attempts to sign in as this user. Wait {minutes} minute"
                                       f"{'s' if minutes != 1 else ''} and try again.", "href": "#email"}])
        resp.headers["Retry-After"] = str(wait)
        return resp
    user = auth.authenticate(request.app.state.engine, email, password)
    if user is None:
        limiter.failure(email, ip)
        return render(request, "accounts/signin.html", status_code=400, title="Sign in", next=_safe_next(next),
                      email=email,
                      errors=[{"text": "Enter a correct email address and password", "href": "#email"}])
    limiter.success(email, ip)
    start_session(request, user)  # new session on sign-in (no session fixation)
    return RedirectResponse(_safe_next(next), status_code=303)


@pages.get("/signout")
def signout_form(request: Request, user: CurrentUser = Depends(page_user)):
    return render(request, "accounts/signout.html", title="Sign out")


@pages.post("/signout")
def signout(request: Request):
    """Sign out: the cookie is cleared and the session's id recorded as ended on the server, so a copy of the
    cookie taken before no longer works (``ended_sessions``); the user's other sessions go on."""
    end_session(request)
    return RedirectResponse("/signin", status_code=303)


# ------------------------------------------------------------------------------------------------ account


@pages.get("/account")
def account(request: Request, user: CurrentUser = Depends(page_user)):
    tokens = auth.tokens_frame(request.app.state.engine, user.id)
    return render(request, "accounts/account.html", title="Your account", tokens=tokens.to_dict("records"),
                  new_token=None)


@pages.post("/account/tokens")
def new_token(request: Request, label: str = Form("script"), user: CurrentUser = Depends(page_user)):
    label = (label or "script").strip()[:200] or "script"
    token = auth.create_token(request.app.state.engine, user.email, label, actor=user.email)
    tokens = auth.tokens_frame(request.app.state.engine, user.id)
    return render(request, "accounts/account.html", title="Your account", tokens=tokens.to_dict("records"),
                  new_token=token)


@pages.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, user: CurrentUser = Depends(page_user)):
    auth.revoke_token(request.app.state.engine, user, token_id)
    return RedirectResponse("/account", status_code=303)


@pages.get("/account/password")
def password_form(request: Request, user: CurrentUser = Depends(page_user)):
    return render(request, "accounts/password.html", title="Change your password", errors=[], changed=False)


def _password_errors(engine, user: CurrentUser, current: str, new: str, confirm: str) -> list[dict]:
    """What is wrong with a change of one's own password, each error linked to its field (empty when none)."""
    if auth.authenticate(engine, user.email, current) is None:
        return [{"text": "Enter your current password correctly", "href": "#current_password"}]
    if len(new) < auth.MIN_PASSWORD:
        return [{"text": f"Enter a new password of at least {auth.MIN_PASSWORD} characters",
                 "href": "#new_password"}]
    if new != confirm:
        return [{"text": "Enter the same new password twice", "href": "#confirm_password"}]
    if new == current:
        return [{"text": "Enter a new password that differs from your current one", "href": "#new_password"}]
    return []


@pages.post("/account/password")
def change_password(request: Request, current_password: str = Form(""), new_password: str = Form(""),
                    confirm_password: str = Form(""), user: CurrentUser = Depends(page_user)):
    """Change one's own password: the current one is required (a left-open session cannot take over the account);
    wrong current passwords count towards the sign-in throttle. Audited as ``user.update`` (no hash stored).
    Every other session of the user ends (``user.sessions_end``); this one goes on in a fresh session."""
    eng = request.app.state.engine
    limiter: auth.LoginRateLimiter = request.app.state.limiter
    ip = _client(request)
    errors: list[dict] = []
    if limiter.retry_after(user.email, ip):
        errors = [{"text": "Too many wrong passwords for this user. Wait a few minutes and try again.",
                   "href": "#current_password"}]
    else:
        errors = _password_errors(eng, user, current_password, new_password, confirm_password)
        if errors and errors[0]["href"] == "#current_password":
            limiter.failure(user.email, ip)
    if errors:
        return render(request, "accounts/password.html", status_code=400, title="Change your password",
                      errors=errors, changed=False)
    generation = auth.set_user(eng, user.email, user.email, password=new_password, keeps_session=True)
    start_session(request, user, generation)
    return render(request, "accounts/password.html", title="Change your password", errors=[], changed=True)


# ------------------------------------------------------------------------------------------------ admin


@pages.get("/admin/users")
def users(request: Request, user: CurrentUser = Depends(require_role("admin"))):
    eng = request.app.state.engine
    return render(request, "accounts/users.html", title="Users", users=auth.users_frame(eng).to_dict("records"),
                  audit=auth.audit_frame(eng, 50).to_dict("records"), errors=[], created=None, roles=auth.ROLES)


@pages.post("/admin/users")
def create_user(request: Request, email: str = Form(""), role: str = Form("viewer"), org_code: str = Form(""),
                user: CurrentUser = Depends(require_role("admin"))):
    eng = request.app.state.engine
    errors, created = [], None
    try:
        new, password = auth.create_user(eng, email, role, org_code or None, actor=user.email)
        created = {"email": new.email, "password": password}
    except PartneringError as exc:
        errors = [{"text": exc.user_message(), "href": "#email"}]
    return render(request, "accounts/users.html", status_code=400 if errors else 200, title="Users",
                  users=auth.users_frame(eng).to_dict("records"), audit=auth.audit_frame(eng, 50).to_dict("records"),
                  errors=errors, created=created, roles=auth.ROLES)


@pages.post("/admin/users/{user_id}/password")
def reset_password(request: Request, user_id: int, user: CurrentUser = Depends(require_role("admin"))):
    """An administrator sets a new random password for another user (shown once); audited as ``user.update``
    with ``password: reset``; every session of that user ends (``user.sessions_end``). Their own password an
    administrator changes on the account page."""
    eng = request.app.state.engine
    target, password = auth.reset_password(eng, user_id, actor=user.email)
    return render(request, "accounts/users.html", title="Users", users=auth.users_frame(eng).to_dict("records"),
                  audit=auth.audit_frame(eng, 50).to_dict("records"), errors=[], created=None, roles=auth.ROLES,
                  reset={"email": target, "password": password})


# ------------------------------------------------------------------------------------------------ API


class Me(BaseModel):
    email: str
    name: str
    role: str
    org_code: str | None = None


@api.get("/me", response_model=Me, responses=ERROR_RESPONSES)
def me(user: CurrentUser = Depends(api_user)):
    """Who you are: email, name, role and organisation of the token's or session's user."""
    return Me(email=user.email, name=user.name, role=user.role, org_code=user.org_code)
