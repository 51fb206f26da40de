"""Who may do what with improvement work, by the app's organisation scoping (docs/register.md, "Access"):

* staff ideas: anyone signed in to an organisation submits, comments on and votes for its ideas; its analysts (and
  administrators) triage them;
* projects: everyone of the organisation — and of the parties to the partnership a project belongs to — reads them;
  its analysts (and administrators) create and change them, their drivers, cycles and progress scores.
"""

from __future__ import annotations

from partnering.errors import AccessDenied

ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and str(a).upper() == str(b).upper()


def may_read(role: str, user_org: str | None, org_code: str, also: tuple[str, ...] = ()) -> bool:
    return role == "admin" or _same(user_org, org_code) or any(_same(user_org, c) for c in also)


def may_take_part(role: str, user_org: str | None, org_code: str) -> bool:
    """Submit, comment on, vote for an organisation's ideas: its own staff (any role) and administrators."""
    return role == "admin" or _same(user_org, org_code)


def may_manage(role: str, user_org: str | None, org_code: str) -> bool:
    """Triage ideas; create and change projects: the organisation's analysts and administrators."""
    return role == "admin" or (ROLE_RANK.get(role, -1) >= ROLE_RANK["analyst"] and _same(user_org, org_code))


def require(allowed: bool, what: str, org_code: str) -> None:
    if not allowed:
        raise AccessDenied(f"only {what} of {str(org_code).upper()} (or administrators) may do this")
