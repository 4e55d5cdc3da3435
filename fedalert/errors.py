"""Base error of fedalert. Every package's errors.py derives from FedalertError.

A FedalertError's message tells the user what went wrong and what to do. It
never carries key material or personal data. Only fedalert.cli turns errors
into exit codes.
"""


class FedalertError(Exception):
    """Base of every error fedalert raises on purpose."""

    #: Exit code the CLI uses for this error (see README, "Exit codes").
    exit_code = 1


class UsageError(FedalertError):
    """The command line or a config file is wrong."""

    exit_code = 2


class ConfigError(UsageError):
    """A config file is missing, malformed or inconsistent."""


class KeysError(FedalertError):
    """Base of every error about keys and key files (fedalert.keys derives its errors from it)."""


class KeyFileError(KeysError):
    """A key file is missing, has unsafe permissions or holds the wrong kind of key.

    Raised by fedalert.secretfile, which every role uses to read its key files
    (the shared core may not import a role package, so it lives here).
    """


# -- errors a service raises to refuse a call; fedalert.transport.rpc_errors maps each to its gRPC status.
class TransportError(FedalertError):
    """TLS files are missing or unreadable, or a server could not bind."""


class PermissionDeniedError(FedalertError):
    """The caller is not allowed to do this (wrong role, revoked, not a party)."""


class NotFoundError(FedalertError):
    """The named object does not exist (or is not visible to the caller)."""


class InvalidRequestError(FedalertError):
    """A request field is malformed or over a limit."""


class QuotaExceededError(FedalertError):
    """The caller is over a configured quota."""


class AbortedError(FedalertError):
    """The call was ended by the server on purpose (e.g. a stream superseded)."""
