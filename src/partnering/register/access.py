"""Who may change a register entry: analysts of one of its party organisations, and administrators; everyone
signed in reads the register (docs/register.md, "Access").  Plain functions of a role and an organisation, so the
CLI, the web pages and the API apply the same rule."""

from __future__ import annotations

from partnering.errors import AccessDenied

ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}


def may_write(role: str, user_org: str | None, party_codes) -> bool:
    """Whether a user with ``role`` of ``user_org`` may write an entry whose parties are ``party_codes``."""
    if role == "admin":
        return True
    if ROLE_RANK.get(role, -1) < ROLE_RANK["analyst"] or not user_org:
        return False
    return user_org.upper() in {str(c).upper() for c in party_codes if c}


def require_write(role: str, user_org: str | None, party_codes) -> None:
    """:class:`AccessDenied` saying why, unless :func:`may_write`."""
    if may_write(role, user_org, party_codes):
        return
    if ROLE_RANK.get(role, -1) < ROLE_RANK["analyst"]:
        raise AccessDenied("you need the analyst role to record or change partnerships")
    codes = ", ".join(sorted({str(c).upper() for c in party_codes if c}))
    raise AccessDenied(f"only analysts of a party to this partnership ({codes}) or administrators may change it")
