"""Errors of the matcher. Messages never echo token values."""

from fedalert.errors import (  # noqa: F401 - re-exported typed errors
    FedalertError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
)


class MatcherError(FedalertError):
    """Base of matcher errors."""


class KeyRetireError(MatcherError):
    """A token key id cannot be retired yet (unknown, only key, grace not over, areas not caught up)."""


class RetiredKeyError(MatcherError):
    """A publish used a token key id the matcher has retired (FAILED_PRECONDITION)."""
