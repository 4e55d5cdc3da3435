"""The people who work a node: accounts, roles, passwords with TOTP, lockout, sessions.

Every person has a named account (an id such as ``coord-n1``, not a name)
with one or more roles:

- ``coordinator``: reads alerts, triages them, requests disclosures, opens
  releases received (each view audited), reads statements;
- ``approver``: decides on requests made to this area;
- ``auditor``: reads the audit log only;
- ``admin``: manages users.

A login needs the password (an Argon2id hash is stored) and a current TOTP
code (RFC 6238, 30-second steps, one step of clock drift either way). A code
is accepted once: its step must be later than the last step used. Five
failures in a row lock the account until an administrator resets it. There
is no setting that turns the second factor off.

A successful login opens a session, stored as the SHA-256 of its token (a
console cookie or the CLI's in-process token), with a CSRF token and the
time it was last used. A session ends at logout, after ``idle`` without use,
or ``absolute`` after it began, and at once when its user is disabled or
reset. Every login, failure and session check goes through here; the
service audits them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

import sqlite_utils

from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.errors import AccessDenied, AccountError, LoginFailed, NotAuthenticated

ROLES = ("coordinator", "approver", "auditor", "admin")
USER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILURES = 5
TOTP_STEP_S = 30

#: What each permission needs: one of these roles.
PERMISSIONS: dict[str, frozenset[str]] = {
    "alerts.read": frozenset({"coordinator"}),
    "alerts.triage": frozenset({"coordinator"}),
    "disclosure.request": frozenset({"coordinator"}),
    "requests.read": frozenset({"coordinator", "approver"}),
    "disclosure.decide": frozenset({"approver"}),
    "emergency.complete": frozenset({"approver"}),
    "release.read": frozenset({"coordinator"}),
    "release.hold": frozenset({"coordinator"}),
    "requests.close": frozenset({"coordinator", "approver"}),
    "statement.read": frozenset({"coordinator"}),
    "registers.read": frozenset({"coordinator", "approver", "auditor"}),
    "registers.write": frozenset({"coordinator", "approver"}),
    "audit.read": frozenset({"auditor"}),
    "users.manage": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Principal:
    """A logged-in user, as the service hands it to a front end. Every service call
    checks it again against the database (session open, user enabled, roles)."""

    user: str
    roles: frozenset[str]
    area: str
    session_id: str  # SHA-256 of the session token
    csrf: str

    def can(self, permission: str) -> bool:
        return bool(self.roles & PERMISSIONS[permission])

    def __repr__(self) -> str:
        return f"Principal({self.user!r}, roles={sorted(self.roles)}, area={self.area!r})"


@dataclass(frozen=True)
class UserInfo:
    user: str
    roles: tuple[str, ...]
    locked: bool
    disabled: bool
    failures: int
    created_at: _dt.datetime
    last_login_at: _dt.datetime | None


@dataclass(frozen=True)
class NewCredentials:
    """What a new or reset account needs handed to its person, once (never stored in clear)."""

    user: str
    totp_secret: str
    provisioning_uri: str

    def __repr__(self) -> str:
        return f"NewCredentials({self.user!r}, totp_secret=<redacted>)"


# --- passwords and codes ---------------------------------------------------------

_hasher = None
_DUMMY_HASH: str | None = None


def _ph():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        # Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about a
        # tenth of a second here. Each hash names its parameters, so raising them later
        # keeps old hashes verifiable.
        _hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    return _hasher


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _ph().hash(password)


def check_password_rules(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if password.strip() != password or "\x00" in password:
        raise AccountError("a password may not start or end with blanks or hold a NUL character")


def _password_ok(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    global _DUMMY_HASH
    if stored is None:  # same work for an unknown user, so timing does not tell
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _ph().hash(secrets.token_hex(16))
        stored = _DUMMY_HASH
        known = False
    else:
        known = True
    try:
        return _ph().verify(stored, password[:MAX_PASSWORD]) and known
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32(32)  # 160 bits


def totp_code(secret: str, at: _dt.datetime) -> str:
    """The code of *secret* at time *at* (what an authenticator app shows)."""
    import pyotp

    return pyotp.TOTP(secret, interval=TOTP_STEP_S).at(at)


def _code_step(secret: str, code: str, now: _dt.datetime, last_step: int) -> int | None:
    """The step *code* belongs to (now, or one step either side), if later than *last_step*."""
    import pyotp

    if not (isinstance(code, str) and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_S)
    step = int(now.timestamp()) // TOTP_STEP_S
    found = None
    for s in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.at(s * TOTP_STEP_S), code):
            found = s
    if found is None:
        return None
    return found if found > last_step else -1  # -1: the right code, but already used


# --- users ---------------------------------------------------------------------------


def _check_user_id(user: str) -> None:
    if not isinstance(user, str) or not USER_ID_RE.match(user):
        raise AccountError("a user id is 2-64 characters of a-z, 0-9, '.', '_' or '-' (an id, not a name)")


def _check_roles(roles) -> tuple[str, ...]:
    roles = tuple(sorted(set(roles)))
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise AccountError(f"roles must be one or more of {', '.join(ROLES)}" + (f"; not {bad[0]!r}" if bad else ""))
    return roles


def _row(db, user: str) -> dict | None:
    return st.one(db, "SELECT * FROM users WHERE user_id = ?", [user])


def _info(r: dict) -> UserInfo:
    return UserInfo(r["user_id"], tuple(json.loads(r["roles"])), r["locked_at"] is not None,
                    r["disabled_at"] is not None, r["failures"], st.parse_ts(r["created_at"]),
                    st.parse_ts(r["last_login_at"]))


def list_users(db: sqlite_utils.Database) -> list[UserInfo]:
    return [_info(r) for r in st.rows(db, "SELECT * FROM users ORDER BY user_id")]


def get_user(db: sqlite_utils.Database, user: str) -> UserInfo:
    r = _row(db, user)
    if r is None:
        raise AccountError(f"no user {user!r} on this node; list them with fedalert node user list")
    return _info(r)


def has_admin(db: sqlite_utils.Database) -> bool:
    return any("admin" in u.roles and not u.disabled for u in list_users(db))


def _provisioning(user: str, secret: str, area: str) -> NewCredentials:
    import pyotp

    uri = pyotp.TOTP(secret, interval=TOTP_STEP_S).provisioning_uri(name=user, issuer_name=f"fedalert {area}")
    return NewCredentials(user, secret, uri)


def add_user(db, user: str, roles, password: str, *, area: str, now: _dt.datetime) -> NewCredentials:
    _check_user_id(user)
    roles = _check_roles(roles)
    pw = hash_password(password)
    secret = new_totp_secret()
    with transaction(db):
        if _row(db, user) is not None:
            raise AccountError(f"user {user!r} already exists; reset it with fedalert node user reset")
        st.execute(db, "INSERT INTO users (user_id, roles, password_hash, totp_secret, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?)", [user, json.dumps(list(roles)), pw, secret, st.ts(now), st.ts(now)])
    return _provisioning(user, secret, area)


def disable_user(db, user: str, *, now: _dt.datetime) -> None:
    get_user(db, user)
    with transaction(db):
        st.execute(db, "UPDATE users SET disabled_at = ?, updated_at = ? WHERE user_id = ?",
                   [st.ts(now), st.ts(now), user])
        end_sessions(db, user, now=now)


def reset_user(db, user: str, password: str, *, area: str, now: _dt.datetime) -> NewCredentials:
    """New password and a new TOTP secret; unlocks and re-enables; ends every session."""
    get_user(db, user)
    pw = hash_password(password)
    secret = new_totp_secret()
    with transaction(db):
        st.execute(db, "UPDATE users SET password_hash = ?, totp_secret = ?, totp_last_step = 0, failures = 0, "
                       "locked_at = NULL, disabled_at = NULL, updated_at = ? WHERE user_id = ?",
                   [pw, secret, st.ts(now), user])
        end_sessions(db, user, now=now)
    return _provisioning(user, secret, area)


# --- login and sessions --------------------------------------------------------------


def authenticate(db, user: str, password: str, code: str | None, *, now: _dt.datetime,
                 totp_secret: str | None = None) -> tuple[str, ...]:
    """Check the password and the second factor; return the user's roles. Raises
    :class:`LoginFailed` (generic message, ``reason`` for the audit) and counts the failure.

    The second factor is a TOTP *code* (a person with an authenticator app), or,
    for scripts, the TOTP secret itself from the script's 0600 file (whoever holds
    the secret can make every code, so this proves the same possession; a code
    derived from it could be used only once per 30-second step)."""
    r = _row(db, user) if isinstance(user, str) and USER_ID_RE.match(user) else None
    password_ok = _password_ok(r["password_hash"] if r else None, password if isinstance(password, str) else "")
    if r is None:
        raise LoginFailed("unknown_user")
    if r["disabled_at"] is not None:
        raise LoginFailed("disabled")
    if r["locked_at"] is not None:
        raise LoginFailed("locked")
    if totp_secret is not None:
        step = r["totp_last_step"] if password_ok and isinstance(totp_secret, str) and hmac.compare_digest(
            r["totp_secret"].encode(), totp_secret.encode()) else None
    else:
        step = _code_step(r["totp_secret"], code, now, r["totp_last_step"]) if password_ok else None
    if step == -1:  # the right password and a code already used: a replay, or a script's second login
        raise LoginFailed("code_reused")  # not counted: it can never succeed, and a guess would be bad_code
    if not password_ok or step is None:
        reason = "bad_password" if not password_ok else "bad_code"
        with transaction(db):
            failures = r["failures"] + 1
            st.execute(db, "UPDATE users SET failures = ?, locked_at = ? WHERE user_id = ?",
                       [failures, st.ts(now) if failures >= MAX_FAILURES else None, user])
        raise LoginFailed(reason + ("; now locked" if failures >= MAX_FAILURES else ""))
    with transaction(db):
        later = "totp_last_step < ?" if totp_secret is None else "totp_last_step <= ?"
        n = st.execute(db, "UPDATE users SET failures = 0, totp_last_step = ?, last_login_at = ? "
                           f"WHERE user_id = ? AND {later}", [step, st.ts(now), user, step])
        if n != 1:
            raise LoginFailed("code_reused")  # another login used the same code at the same moment
    return tuple(json.loads(r["roles"]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(db, user: str, roles, *, area: str, channel: str, now: _dt.datetime) -> tuple[str, Principal]:
    """A new session; returns (token for the cookie or the CLI, principal)."""
    token = secrets.token_urlsafe(32)
    sid, csrf = _digest(token), secrets.token_urlsafe(32)
    with transaction(db):
        st.execute(db, "INSERT INTO sessions (session_id, user_id, area, channel, csrf, created_at, last_seen_at) "
                       "VALUES (?,?,?,?,?,?,?)", [sid, user, area, channel, csrf, st.ts(now), st.ts(now)])
    return token, Principal(user, frozenset(roles), area, sid, csrf)


def session_principal(db, *, session_id: str, area: str, now: _dt.datetime, idle: _dt.timedelta,
                      absolute: _dt.timedelta, touch: bool = True) -> Principal:
    """The principal of an open session, its time of last use moved to *now*.
    Raises :class:`NotAuthenticated` for an unknown, ended, timed-out or foreign session."""
    r = st.one(db, "SELECT s.*, u.roles, u.disabled_at, u.locked_at FROM sessions s "
                   "JOIN users u ON u.user_id = s.user_id WHERE s.session_id = ?", [session_id])
    if r is None or r["ended_at"] is not None or r["area"] != area:
        raise NotAuthenticated("no session: log in")
    if r["disabled_at"] is not None or r["locked_at"] is not None:
        raise NotAuthenticated("the account is disabled or locked: log in again after an administrator resets it")
    if now - st.parse_ts(r["last_seen_at"]) > idle or now - st.parse_ts(r["created_at"]) > absolute:
        end_session(db, session_id, now=now)
        raise NotAuthenticated("the session timed out: log in again")
    if touch:
        with transaction(db):
            st.execute(db, "UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", [st.ts(now), session_id])
    return Principal(r["user_id"], frozenset(json.loads(r["roles"])), area, session_id, r["csrf"])


def session_id_of(token: str) -> str:
    return _digest(token) if isinstance(token, str) and 20 <= len(token) <= 200 else ""


def end_session(db, session_id: str, *, now: _dt.datetime) -> None:
    with transaction(db):
        st.execute(db, "UPDATE sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL",
                   [st.ts(now), session_id])


def end_sessions(db, user: str, *, now: _dt.datetime) -> None:
    with transaction(db):
        st.execute(db, "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                   [st.ts(now), user])


def require(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        need = " or ".join(sorted(PERMISSIONS[permission]))
        raise AccessDenied(f"user {principal.user} may not do this: it needs the role {need}")


def csrf_ok(principal: Principal, token: str) -> bool:
    return isinstance(token, str) and hmac.compare_digest(principal.csrf.encode(), token.encode())
