"""Errors of the matcher. Messages never echo token values."""

from fedalert.errors import FedalertError
from fedalert.transport import (  # noqa: F401 - re-exported typed errors
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
)


class MatcherError(FedalertError):
    """Base of matcher errors."""
