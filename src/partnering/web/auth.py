"""Accounts and access: users, roles, organisation scope, API tokens, CSRF, sign-in rate limiting, audit log.

* Passwords are hashed with argon2id (``argon2-cffi`` defaults, RFC 9106 parameters).
* API tokens are random 256-bit strings shown once; only their SHA-256 is stored (a token has full
  entropy, so a fast hash is enough — a slow password hash protects guessable secrets, not random ones).
* Roles: ``viewer`` reads; ``analyst`` also uploads data and saves plans; ``admin`` also manages users,
  sees every organisation's unpublished uploads and publishes by default.
* Every change is written to ``audit_log`` (who, what, when, before/after as JSON).
* A password change or reset ends the user's other web sessions: sessions are signed cookies, so each carries
  the user's ``session_generation`` from sign-in and ends when the stored one has moved on (OWASP ASVS 4.0.3,
  V3.3.3).  API tokens are separate credentials and stay valid; the account page revokes them.
* Signing out ends that one session on the server: each session carries a random id from sign-in, and sign-out
  records it in ``ended_sessions`` until any copy of the cookie would have expired (ASVS 4.0.3, V3.3.1).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, insert, select, update

from partnering.config import Settings
from partnering.errors import ConfigError, NotFoundError, ValidationError
from partnering.store import audit as store_audit
from partnering.store.models import ApiToken, EndedSession, Organisation, User

ROLES = ("viewer", "analyst", "admin")
FIRST_ADMIN_EMAIL = "admin@partnering.local"
TOKEN_PREFIX = "ptk_"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: shortest password accepted (NCSC password guidance favours length over complexity rules; 10 is our floor)
MIN_PASSWORD = 10
_hasher = PasswordHasher()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str
    org_code: str | None
    #: ``users.session_generation`` when this was read: a web session signed in under another value has ended
    session_generation: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_upload(self) -> bool:
        return self.role in ("analyst", "admin")

    def scope(self) -> dict:
        """Keyword arguments for ``repository.observations_frame`` (what this user may see)."""
        return {"viewer_org": self.org_code, "viewer_is_admin": self.is_admin}


def _user(row) -> CurrentUser:
    return CurrentUser(row.id, row.email, row.name, row.role, row.org_code, int(row.session_generation or 0))


# ------------------------------------------------------------------------------------------------ lookup cache

#: API-token and session-user lookups are reused for this many seconds (every request needs one).  Revoking a
#: token or changing a user in this process forgets them at once; a change made by the CLI or another server
#: process takes effect within this time.
AUTH_TTL = 5.0
AUTH_CACHE_MAX = 4096
_auth_cache: dict[tuple, tuple[float, CurrentUser]] = {}
_auth_lock = threading.Lock()
_auth_generation = [0]  # bumped by forget_auth: a lookup that raced a revocation is not remembered


def _remembered(key: tuple) -> CurrentUser | None:
    hit = _auth_cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return None


def _remember(key: tuple, user: CurrentUser, generation: int) -> None:
    with _auth_lock:
        if generation != _auth_generation[0]:
            return
        if len(_auth_cache) >= AUTH_CACHE_MAX:
            now = time.monotonic()
            for k in [k for k, (exp, _) in _auth_cache.items() if exp <= now] or list(_auth_cache)[:1024]:
                _auth_cache.pop(k, None)
        _auth_cache[key] = (time.monotonic() + AUTH_TTL, user)


def forget_auth() -> None:
    """Drop every remembered token and session lookup (after a revocation or a change to a user)."""
    with _auth_lock:
        _auth_generation[0] += 1
        _auth_cache.clear()


# ------------------------------------------------------------------------------------------------ ended sessions

#: session id -> (monotonic time the entry stops being trusted, ended?).  "Not ended" answers are reused for
#: :data:`AUTH_TTL` like the user lookups (a sign-out in another server process takes effect within that time); an
#: id signed out in this process is remembered as ended until its cookie would have expired, and a lookup that
#: raced the sign-out never overwrites that.
_session_cache: dict[str, tuple[float, bool]] = {}


def new_session_id() -> str:
    """A random id for a new web session (256 bits)."""
    return secrets.token_urlsafe(32)


def session_ended(engine, session_id: str) -> bool:
    """Whether ``session_id`` has been signed out (see :func:`end_session`)."""
    hit = _session_cache.get(session_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    with engine.connect() as conn:
        ended = conn.execute(select(EndedSession.session_id).where(
            EndedSession.session_id == session_id)).first() is not None
    with _auth_lock:
        now = time.monotonic()
        current = _session_cache.get(session_id)
        if current is not None and current[1] and current[0] > now:
            return True  # signed out here while we looked
        if len(_session_cache) >= AUTH_CACHE_MAX:
            for k in [k for k, (exp, e) in _session_cache.items() if exp <= now] or \
                    [k for k, (_, e) in _session_cache.items() if not e][:1024]:
                _session_cache.pop(k, None)
        _session_cache[session_id] = (now + AUTH_TTL, ended)
    return ended


def end_session(engine, session_id: str, max_age: int) -> None:
    """Sign session ``session_id`` out on the server: refused at once in this process, and by every process until
    ``max_age`` seconds from now, when any copy of its cookie has expired anyway (Starlette re-signs the cookie on
    each response, so a copy is at most ``max_age`` old at sign-out).  Rows past that are purged here."""
    now = datetime.now()
    with _auth_lock:
        _session_cache[session_id] = (time.monotonic() + max_age, True)
    with engine.begin() as conn:
        conn.execute(delete(EndedSession).where(EndedSession.expires_at < now))
        if conn.execute(select(EndedSession.session_id).where(EndedSession.session_id == session_id)).first() is None:
            conn.execute(insert(EndedSession).values(session_id=session_id, ended_at=now,
                                                     expires_at=now + timedelta(seconds=max_age)))


# ------------------------------------------------------------------------------------------------ passwords


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(12)


# ------------------------------------------------------------------------------------------------ audit


def audit(conn, actor: str, action: str, target: str | None = None, before=None, after=None) -> None:
    """Record one change in the store's audit log (:func:`partnering.store.audit.record`)."""
    store_audit.record(conn, actor, action, target, before, after)


def audit_frame(engine, limit: int = 200) -> pd.DataFrame:
    return store_audit.audit_frame(engine, limit)


# ------------------------------------------------------------------------------------------------ users


def _public(u: User | None) -> dict | None:
    if u is None:
        return None
    return {"email": u.email, "name": u.name, "role": u.role, "org_code": u.org_code, "active": u.active}


def create_user(engine, email: str, role: str, org_code: str | None = None, password: str | None = None,
                name: str | None = None, actor: str = "system") -> tuple[CurrentUser, str]:
    """Create a user; returns the user and the password (generated when not given)."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise ValidationError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ValidationError("a password must have at least 10 characters")
    password = password or new_password()
    org_code = (org_code or "").strip().upper() or None
    with engine.begin() as conn:
        if org_code and conn.execute(select(Organisation.org_code).where(Organisation.org_code == org_code)).first() \
                is None:
            raise ValidationError(f"organisation {org_code!r} is not in the store")
        if conn.execute(select(User.id).where(User.email == email)).first() is not None:
            raise ValidationError(f"a user {email!r} already exists")
        values = {"email": email, "name": name or email.split("@")[0], "password_hash": hash_password(password),
                  "role": role, "org_code": org_code, "active": True, "created_at": datetime.now()}
        uid = conn.execute(insert(User).values(**values)).inserted_primary_key[0]
        audit(conn, actor, "user.create", email, None,
              {k: v for k, v in values.items() if k not in ("password_hash", "created_at")})
    return CurrentUser(int(uid), email, values["name"], role, org_code), password


def set_user(engine, email: str, actor: str, *, role: str | None = None, org_code: str | None = None,
             active: bool | None = None, password: str | None = None, password_note: str = "changed",
             keeps_session: bool = False) -> int:
    """Change a user (audited as ``user.update``); returns their session generation afterwards.

    A new password also bumps ``session_generation``, which ends every web session signed in before it, and
    audits that as ``user.sessions_end``.  ``keeps_session`` says the caller will give the session that made the
    change the new generation (a user changing their own password stays signed in there); it only changes what
    the audit event says."""
    email = email.strip().lower()
    with engine.begin() as conn:
        u = conn.execute(select(User.__table__).where(User.email == email)).first()
        if u is None:
            raise NotFoundError(f"no user {email!r}")
        before = {"role": u.role, "org_code": u.org_code, "active": u.active}
        values: dict = {}
        if role is not None:
            if role not in ROLES:
                raise ValidationError(f"role must be one of {', '.join(ROLES)}")
            values["role"] = role
        if org_code is not None:
            values["org_code"] = org_code.strip().upper() or None
        if active is not None:
            values["active"] = active
        if password is not None:
            if len(password) < MIN_PASSWORD:
                raise ValidationError("a password must have at least 10 characters")
            values["password_hash"] = hash_password(password)
            values["session_generation"] = User.session_generation + 1  # in SQL: concurrent changes both count
        conn.execute(update(User).where(User.email == email).values(**values))
        after = {**before, **{k: v for k, v in values.items() if k not in ("password_hash", "session_generation")}}
        if password is not None:
            after["password"] = password_note
        audit(conn, actor, "user.update", email, before, after)
        generation = int(conn.execute(select(User.session_generation).where(User.email == email)).scalar_one())
        if password is not None:
            audit(conn, actor, "user.sessions_end", email, {"session_generation": int(u.session_generation or 0)},
                  {"session_generation": generation, "reason": f"password {password_note}",
                   "ended": "other sessions" if keeps_session else "all sessions"})
    forget_auth()  # after the commit, so no request re-remembers the old row
    return generation


def reset_password(engine, user_id: int, actor: str) -> tuple[str, str]:
    """Give user ``user_id`` a new random password (an administrator's reset); returns (email, password).
    Audited as ``user.update`` with ``password: reset`` (never the password or its hash); every web session of
    the user ends (``user.sessions_end``)."""
    with engine.connect() as conn:
        email = conn.execute(select(User.email).where(User.id == int(user_id))).scalar_one_or_none()
    if email is None:
        raise NotFoundError(f"no user with id {user_id}")
    password = new_password()
    set_user(engine, email, actor, password=password, password_note="reset")
    return email, password


def users_frame(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        res = conn.execute(select(User.id, User.email, User.name, User.role, User.org_code, User.active,
                                  User.created_at).order_by(User.email))
        return pd.DataFrame(res.all(), columns=list(res.keys()))


def user_count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(User)).scalar_one())


def _remembered_user(engine, key: tuple, stmt) -> CurrentUser | None:
    """The user ``stmt`` finds, remembered briefly under ``key``; nothing is remembered for no match
    (random token guesses must not fill the cache)."""
    user = _remembered(key)
    if user is not None:
        return user
    generation = _auth_generation[0]
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    user = _user(row)
    _remember(key, user, generation)
    return user


def get_user(engine, user_id: int) -> CurrentUser | None:
    stmt = select(User.__table__).where(User.id == user_id, User.active.is_(True))
    return _remembered_user(engine, (str(engine.url), "user", user_id), stmt)


def authenticate(engine, email: str, password: str) -> CurrentUser | None:
    email = (email or "").strip().lower()
    with engine.connect() as conn:
        row = conn.execute(select(User.__table__).where(User.email == email)).first()
    if row is None:
        verify_password(_DUMMY_HASH, password)  # same work either way: no user enumeration by timing
        return None
    if not verify_password(row.password_hash, password) or not row.active:
        return None
    return _user(row)


_DUMMY_HASH = _hasher.hash("not a real password")


def ensure_first_admin(engine) -> tuple[str, str] | None:
    """On first run (no users at all) create ``admin@partnering.local`` with a random password."""
    if user_count(engine) > 0:
        return None
    user, password = create_user(engine, FIRST_ADMIN_EMAIL, "admin", name="Administrator", actor="first-run")
    return user.email, password


# ------------------------------------------------------------------------------------------------ API tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine, email: str, label: str = "script", actor: str | None = None) -> str:
    """A new API token for ``email``; only its hash is stored, so show it to the user once."""
    email = email.strip().lower()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        uid = conn.execute(select(User.id).where(User.email == email)).scalar()
        if uid is None:
            raise NotFoundError(f"no user {email!r}")
        tid = conn.execute(insert(ApiToken).values(user_id=uid, token_hash=_token_hash(token), label=label[:200],
                                                   created_at=datetime.now(), revoked=False)).inserted_primary_key[0]
        audit(conn, actor or email, "token.create", email, None, {"token_id": int(tid), "label": label})
    return token


def user_for_token(engine, token: str) -> CurrentUser | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    digest = _token_hash(token)
    stmt = select(User.__table__).join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.token_hash == digest, ApiToken.revoked.is_(False), User.active.is_(True))
    return _remembered_user(engine, (str(engine.url), "token", digest), stmt)


def tokens_frame(engine, user_id: int) -> pd.DataFrame:
    with engine.connect() as conn:
        res = conn.execute(select(ApiToken.id, ApiToken.label, ApiToken.created_at, ApiToken.revoked)
                           .where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
        return pd.DataFrame(res.all(), columns=list(res.keys()))


def revoke_token(engine, user: CurrentUser, token_id: int) -> None:
    with engine.begin() as conn:
        row = conn.execute(select(ApiToken.user_id, ApiToken.revoked).where(ApiToken.id == token_id)).first()
        if row is None or (row.user_id != user.id and not user.is_admin):
            raise NotFoundError(f"no token {token_id}")
        conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked=True))
        audit(conn, user.email, "token.revoke", str(token_id), {"revoked": row.revoked}, {"revoked": True})
    forget_auth()  # after the commit, so no request re-remembers the token


# ------------------------------------------------------------------------------------------------ CSRF


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(session_token: str | None, sent: str | None) -> bool:
    return bool(session_token) and bool(sent) and hmac.compare_digest(str(session_token), str(sent))


# ------------------------------------------------------------------------------------------------ rate limiting


class LoginRateLimiter:
    """At most ``max_failures`` failed sign-ins per (email, client address) in a moving ``window`` of seconds.

    The OWASP Authentication Cheat Sheet recommends throttling failed attempts per account; keying by
    email *and* address stops one attacker guessing without letting them lock a real user out from
    everywhere.  Counting is the ``limits`` package's moving-window strategy
    (https://limits.readthedocs.io/en/stable/strategies.html#moving-window) over a storage named by URI:
    ``memory://`` (the default, per server process) or ``redis://host:port`` to share the count across
    ``partnering serve --workers N`` processes.  The URI comes from ``PARTNERING_RATE_LIMIT_STORAGE``
    (:mod:`partnering.config`) unless given.
    """

    NAMESPACE = "partnering-signin"

    def __init__(self, max_failures: int = 5, window: float = 15 * 60, storage_uri: str | None = None):
        self.max_failures = max_failures
        self.window = window
        self.storage_uri = storage_uri or Settings.from_env().rate_limit_storage
        try:
            self._storage = storage_from_string(self.storage_uri)
        except Exception as exc:  # unknown scheme, missing driver: one clear line, not a traceback
            raise ConfigError(f"rate-limit storage {self.storage_uri!r}: {exc}") from None
        if not self._storage.check():
            raise ConfigError(f"rate-limit storage {self.storage_uri!r} does not answer")
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._item = RateLimitItemPerSecond(max_failures, max(1, int(round(window))), namespace=self.NAMESPACE)

    @staticmethod
    def _who(email: str, ip: str) -> tuple[str]:
        """One opaque key per (email, address): no e-mail addresses in a shared store, no separator games."""
        who = f"{(email or '').strip().lower()}\0{ip or '?'}"
        return (hashlib.sha256(who.encode()).hexdigest(),)

    def retry_after(self, email: str, ip: str) -> int:
        """Seconds until another attempt is allowed (0 = allowed now)."""
        who = self._who(email, ip)
        if self._limiter.test(self._item, *who):
            return 0
        reset = self._limiter.get_window_stats(self._item, *who).reset_time
        return max(1, int(reset - time.time()) + 1)

    def failure(self, email: str, ip: str) -> None:
        self._limiter.hit(self._item, *self._who(email, ip))

    def success(self, email: str, ip: str) -> None:
        self._limiter.clear(self._item, *self._who(email, ip))
