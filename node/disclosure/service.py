"""The disclosure service: the one API that every front end calls.

The coordinator CLI (``fedalert disclose ...``, ``fedalert node user ...``)
and the web console hold no logic of their own: they parse what the person
typed, call one method here and show the result. A method decides nothing by
itself: it checks who is asking, then hands the node's store, audit log,
protocol and keys to the domain functions of this package, which check the
rules and write one transaction and one audit entry each.

Who is asking: :meth:`DisclosureService.login` checks a password and a TOTP
code and opens a session (:mod:`.accounts`); every action then takes the
:class:`~fedalert.node.disclosure.accounts.Principal` it returned, checks its
session again against the database (open, not timed out, user enabled) and
its roles, and records the user's id as the actor in the audit log. Refusals
(no session, wrong role), failed logins, and failed decisions and release
views are audited too.

The service reads no flags, files named by a user or environment variables:
the caller passes a :class:`ServiceConfig` with explicit paths. It reads the
clock (``clock``, UTC) so that front ends need not; tests pass their own.
The methods are grouped by concept in the mixins of :mod:`._work` (disclosure work,
registers) and :mod:`._desk` (the console's pages).
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass
from pathlib import Path

from fedalert.audit import AuditLog
from fedalert.node.disclosure import accounts
from fedalert.node.disclosure._desk import DeskMixin
from fedalert.node.disclosure._work import RegistersMixin, RequestsMixin
from fedalert.node.disclosure.accounts import NewCredentials, Principal, UserInfo
from fedalert.node.disclosure.errors import AccessDenied, AccountError, AuthError, DisclosureError, LoginFailed
from fedalert.node.disclosure.protocol import Protocol, bundled_national_path, load_protocol
from fedalert.node.store import NodeStore

log = logging.getLogger(__name__)


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class ServiceConfig:
    """Where a node's disclosure state lives. Only ``db`` is needed to read; sending
    and opening releases need ``keys_dir`` (and ``matcher`` to talk to the matcher)."""

    db: Path
    audit: Path | None = None  # the node's audit log; default next to db, <db>.audit.jsonl
    audit_mirror: Path | None = None  # a second log that gets a copy of every entry
    protocol: Path | None = None  # default: the national protocol shipped with fedalert
    overlay: Path | None = None
    keys_dir: Path | None = None
    matcher: str | None = None
    matcher_name: str | None = None  # default: the name only the matcher's certificate carries
    session_idle: _dt.timedelta = _dt.timedelta(minutes=15)
    session_absolute: _dt.timedelta = _dt.timedelta(hours=10)

    def audit_path(self) -> Path:
        return Path(self.audit) if self.audit else Path(self.db).with_suffix(".audit.jsonl")


class _Audit:
    """The node's audit log, and a mirror that gets a copy of each entry (best effort:
    a mirror that cannot be written is logged at ERROR, the node's own log decides)."""

    def __init__(self, path: Path, mirror: Path | None):
        self.log = AuditLog(path)
        self.path = self.log.path
        self.mirror = AuditLog(mirror) if mirror else None

    def append(self, event: str, **fields) -> str:
        h = self.log.append(event, **fields)
        if self.mirror is not None:
            try:
                self.mirror.append(event, **fields)
            except Exception as exc:  # noqa: BLE001 - the node's own log holds the entry
                log.error("audit mirror %s not written (%s); the node's log %s has the entry",
                          self.mirror.path, type(exc).__name__, self.path)
        return h


class DisclosureService(RequestsMixin, RegistersMixin, DeskMixin):
    """One area's disclosure work: people, requests, decisions, releases, registers, statements."""

    def __init__(self, config: ServiceConfig, *, clock=utcnow):
        self.config = config
        self.clock = clock
        self._store = NodeStore(config.db)
        self._audit = _Audit(config.audit_path(), config.audit_mirror)
        self._protocol: Protocol = load_protocol(config.protocol or bundled_national_path(), config.overlay)
        self._loaded_keys = None
        self._cli_sessions: list[str] = []

    def close(self) -> None:
        for sid in self._cli_sessions:
            accounts.end_session(self._db, sid, now=self.now())
        self._cli_sessions.clear()
        self._store.close()

    def __enter__(self) -> "DisclosureService":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def _db(self):
        return self._store.db

    def now(self) -> _dt.datetime:
        return self.clock()

    # -- this area ------------------------------------------------------------
    @property
    def _area_keys(self):
        """This area's sealing and signing keys and the live directory (loaded once)."""
        if self._loaded_keys is None:
            if self.config.keys_dir is None:
                raise DisclosureError("this needs the area's key folder from the key ceremony (--keys)")
            from fedalert.node.disclosure.relay import load_area_keys

            self._loaded_keys = load_area_keys(Path(self.config.keys_dir))
        return self._loaded_keys

    def area(self) -> str:
        """This area's id: from the node certificate when the keys are at hand, else the overlay's."""
        if self.config.keys_dir is not None:
            return self._area_keys.area
        return self._protocol.area or ""

    # -- who is asking ----------------------------------------------------------
    def login(self, user: str, password: str, code: str | None = None, *, channel: str = "cli",
              totp_secret: str | None = None) -> tuple[str, Principal]:
        """Check the password and a TOTP code (or, for scripts, the TOTP secret); open a session.
        Returns (session token, principal).

        Raises :class:`LoginFailed`, whose message never says which part was
        wrong; the audit log records why (``auth.login_failed``)."""
        now = self.now()
        shown = user if isinstance(user, str) and accounts.USER_ID_RE.match(user) else "(not a user id)"
        factor = "totp_secret_file" if totp_secret is not None else "totp_code"
        if channel != "cli" and totp_secret is not None:
            raise AuthError("the console takes a TOTP code, not a secret")
        try:
            roles = accounts.authenticate(self._db, user, password, code, now=now, totp_secret=totp_secret)
        except LoginFailed as exc:
            self._audit.append("auth.login_failed", user=shown, channel=channel, factor=factor, reason=exc.reason)
            raise
        token, principal = accounts.open_session(self._db, user, roles, area=self.area(), channel=channel, now=now)
        if channel == "cli":
            self._cli_sessions.append(principal.session_id)
        self._audit.append("auth.login", user=user, channel=channel, factor=factor, roles=sorted(roles))
        return token, principal

    def session(self, token: str) -> Principal:
        """The principal of a console session token (its idle clock restarts). Raises NotAuthenticated."""
        return accounts.session_principal(
            self._db, session_id=accounts.session_id_of(token), area=self.area(), now=self.now(),
            idle=self.config.session_idle, absolute=self.config.session_absolute)

    def logout(self, actor: Principal) -> None:
        accounts.end_session(self._db, actor.session_id, now=self.now())
        self._audit.append("auth.logout", user=actor.user)

    def csrf_ok(self, actor: Principal, token: str) -> bool:
        """Whether a form's CSRF token is this session's; a mismatch is audited."""
        ok = accounts.csrf_ok(actor, token)
        if not ok:
            self._audit.append("access.refused", user=actor.user, reason="csrf_token")
        return ok

    def _check(self, actor: Principal, permission: str) -> str:
        """Re-check *actor*'s session and roles for *permission*; return the user id (audited if refused)."""
        try:
            if not isinstance(actor, Principal):
                raise AuthError("log in first (--user NAME)")
            current = accounts.session_principal(
                self._db, session_id=actor.session_id, area=self.area(), now=self.now(),
                idle=self.config.session_idle, absolute=self.config.session_absolute)
            if current.user != actor.user:
                raise AuthError("the session belongs to another user")
            accounts.require(current, permission)
        except AuthError as exc:
            user = actor.user if isinstance(actor, Principal) else "(none)"
            reason = "role" if isinstance(exc, AccessDenied) else "session"
            self._audit.append("access.refused", user=user, permission=permission, reason=reason)
            raise
        return current.user

    def require(self, actor: Principal, permission: str) -> str:
        """Check (and on refusal audit) that *actor* may do *permission*; return the user id."""
        return self._check(actor, permission)

    def may(self, actor: Principal, permission: str) -> bool:
        """Whether *actor*'s roles allow *permission* (for showing links; every action checks again)."""
        return actor.can(permission)

    # -- users ----------------------------------------------------------------------
    def add_user(self, actor: Principal | None, user: str, roles, password: str) -> NewCredentials:
        """Add an account. *actor* must be an admin, except for the first admin of a node."""
        by = self._admin(actor, bootstrap_roles=roles)
        creds = accounts.add_user(self._db, user, roles, password, area=self.area(), now=self.now())
        self._audit.append("user.added", user=user, roles=sorted(set(roles)), by=by)
        return creds

    def disable_user(self, actor: Principal, user: str) -> None:
        by = self._admin(actor)
        accounts.disable_user(self._db, user, now=self.now())
        self._audit.append("user.disabled", user=user, by=by)

    def reset_user(self, actor: Principal, user: str, password: str) -> NewCredentials:
        by = self._admin(actor)
        creds = accounts.reset_user(self._db, user, password, area=self.area(), now=self.now())
        self._audit.append("user.reset", user=user, by=by)
        return creds

    def list_users(self, actor: Principal) -> list[UserInfo]:
        self._check(actor, "users.manage")
        return accounts.list_users(self._db)

    def _admin(self, actor: Principal | None, bootstrap_roles=None) -> str:
        if actor is None:
            if accounts.has_admin(self._db):
                raise AccountError("this node has an administrator: give --user ADMIN to manage users")
            if bootstrap_roles is None or "admin" not in set(bootstrap_roles):
                raise AccountError("the first account of a node must be an administrator (--role admin)")
            return "(first administrator)"
        return self._check(actor, "users.manage")
