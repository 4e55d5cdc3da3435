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


class RowError:
    """One bad CSV row: row number (the file's line number), field and reason."""

    __slots__ = ("row", "field", "reason", "record_id")

    def __init__(self, row: int, field: str, reason: str, record_id: str | None = None) -> None:
        self.row, self.field, self.reason, self.record_id = row, field, reason, record_id

    def __repr__(self) -> str:
        return f"RowError(row={self.row}, field={self.field!r}, reason={self.reason!r})"

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


class ImportRejectedError(NodeError):
    """A CSV file had a refused row or was itself unreadable, so nothing was imported.

    ``errors`` are the first errors in full (the importer keeps at most a
    thousand); ``total`` counts them all and ``rows`` the rows refused;
    ``report`` is the importer's whole report (warnings included) when there
    is one, for the report file."""

    def __init__(self, errors: list[RowError], *, rows: int | None = None, total: int | None = None,
                 report=None) -> None:
        self.errors = list(errors)
        self.total = len(self.errors) if total is None else total
        self.report = report
        rows = len({e.row for e in self.errors}) if rows is None else rows
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {self.total - 5} more)" if self.total > 5 else ""
        what = f"{rows} refused row(s)" if rows else "the file cannot be read"
        super().__init__(
            f"file refused, nothing imported: {what}: {shown}{more}. "
            "Fix the rows, or use --skip-bad to import the other rows and write a report."
        )


class SyncIncompleteError(NodeError):
    """`node sync` stopped at its --timeout with alerts still queued for the area: run it again."""

    exit_code = 4


class CsvFormatError(NodeError):
    """A CSV file cannot be read at all (not UTF-8, no header, duplicate ids)."""

    exit_code = 2
