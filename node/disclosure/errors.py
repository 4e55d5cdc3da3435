"""Errors of the disclosure domain (protocol, policy, workflow).

Each message says what was wrong and what to do. Messages name protocol
files, keys, field names, partner ids, area ids and request ids; they never
carry a case value (a risk summary, contact details) or key material.
Re-exported by fedalert.node.disclosure.protocol, .policy and .disclosure; the lead may
fold them into fedalert.node.errors.
"""

from __future__ import annotations

from fedalert.errors import ConfigError, FedalertError


class DisclosureError(FedalertError):
    """Base of every disclosure-domain error."""


class ProtocolFileError(ConfigError):
    """A protocol or overlay file is missing, malformed or breaks a rule.

    ``path`` and ``key`` name where (``key`` is a dotted TOML path).
    """

    def __init__(self, path: object, key: str, reason: str):
        self.path = str(path)
        self.key = key
        self.reason = reason
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + reason)


class PolicyError(DisclosureError):
    """A request, decision or release breaks the protocol. ``rule`` is a stable code."""

    rule = "policy"

    def __init__(self, message: str, *, field: str | None = None, input: str | None = None):  # noqa: A002
        self.field = field  # the protocol field concerned, if any
        self.input = input  # the request's input it is about (a form shows it there), if known
        super().__init__(message)


class NoSuchMatch(PolicyError):
    rule = "no_match"


class NotInMatch(PolicyError):
    rule = "not_in_match"


class ProtocolNotInForce(PolicyError):
    rule = "protocol_not_in_force"


class ProtocolMismatch(PolicyError):
    rule = "protocol_mismatch"


class SignOffLapsed(PolicyError):
    rule = "signoff_lapsed"


class PartnerWithdrawn(PolicyError):
    rule = "partner_withdrawn"


class UnknownPartner(PolicyError):
    rule = "unknown_partner"


class PurposeNotAllowed(PolicyError):
    rule = "purpose"


class FieldNotAllowed(PolicyError):
    rule = "field_not_whitelisted"


class LawfulBasisError(PolicyError):
    rule = "lawful_basis"


class SpecialCategoryError(PolicyError):
    rule = "special_category"


class ConsentError(PolicyError):
    rule = "consent"


class RequestInvalid(PolicyError):
    rule = "request_invalid"


class DecisionInvalid(PolicyError):
    rule = "decision_invalid"


class NothingToRelease(PolicyError):
    rule = "nothing_to_release"


class StatusError(DisclosureError):
    """A transition the state machine does not allow."""


class PayloadError(DisclosureError):
    """A request, decision or release payload is malformed."""


class ReleaseRejected(DisclosureError):
    """A received release is refused. ``reason`` is tampered|replayed|misaddressed|unexpected."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class NotFound(DisclosureError):
    """No request, release, breach or complaint with that id."""


class RegisterError(DisclosureError):
    """A breach or complaint entry breaks a rule."""


class AuthError(DisclosureError):
    """Who is asking could not be established, or may not do this."""


class LoginFailed(AuthError):
    """Password, code or account refused. The message never says which part was wrong."""

    MESSAGE = ("login failed: the user name, password or code is wrong, or the account is locked or disabled "
               "(after 5 failures in a row an account is locked; an administrator resets it)")

    def __init__(self, reason: str = ""):
        self.reason = reason  # for the audit log only: bad_password, bad_code, code_reused, locked, ...
        super().__init__(self.MESSAGE)


class NotAuthenticated(AuthError):
    """No session, or it ended or timed out: log in again."""


class AccessDenied(AuthError):
    """The user's roles do not allow this action."""


class AccountError(DisclosureError):
    """A user account cannot be added or changed as asked."""
