"""Errors of the area node (fedalert.node).

Each message tells the operator what is wrong and what to do. Messages never
carry key material; a field value appears only where the operator typed it
and needs to see it to fix the row (for example an impossible date).
"""

from __future__ import annotations

from fedalert.errors import FedalertError


class NodeError(FedalertError):
    """Base of every error the area node raises on purpose."""


class FieldValueError(NodeError, ValueError):
    """One field value cannot be used (bad date, malformed identifier).

    ``reason`` is a plain-words explanation ("31/02/1990 is not a real date");
    ``field`` names the field when the caller knows it. The importer turns
    this into a row error naming row, field and reason.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)


class CsvFormatError(NodeError):
    """A CSV file cannot be read at all (not UTF-8, no header, duplicate ids)."""

    exit_code = 2
