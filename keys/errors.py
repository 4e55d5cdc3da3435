"""Errors of fedalert.keys.

Every message says what went wrong and what to do about it. No message ever
carries key material: not a secret, not a fragment of one, not a derived value.
"""

from __future__ import annotations

from fedalert.errors import KeyFileError, KeysError, UsageError

__all__ = ["CeremonyError", "DirectoryError", "IdentityError", "KeyFileError", "KeysError", "KeysUsageError",
           "KeysetError", "SealError"]


class KeysUsageError(KeysError, UsageError):
    """A name, id or option given to the key ceremony is invalid (exit code 2)."""


class CeremonyError(KeysError):
    """The key ceremony cannot proceed (folder exists, area exists, ...)."""


class KeysetError(KeysError):
    """A token keyset is malformed or an operation on it is not allowed."""


class DirectoryError(KeysError):
    """The federation directory is malformed, unsigned, tampered or names no such area."""

    exit_code = 3


class SealError(KeysError):
    """A sealed envelope cannot be opened: altered, wrong recipient, sender or context."""

    exit_code = 3


class IdentityError(KeysError):
    """A SPIFFE id or a certificate does not name a member of this federation."""
