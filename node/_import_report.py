"""What an import found, in bounded memory: the first KEEP problems in full, counts of all.

An export with two million bad rows must not cost two million messages of
memory (it once cost 628 MB). :class:`ImportReport` keeps the first KEEP row
errors and the first KEEP warnings as they are, counts every one of them
(and the warnings per field, for the one-line summary an operator sees), and
says how many more there were. Every value a message echoes is already cut
to 64 characters and escaped (fedalert.echo).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

from fedalert.audit import neutralise_cell
from fedalert.node.errors import RowError
from fedalert.node.rowcheck import RowOutcome, RowWarning

#: Row errors, and separately warnings, kept in full (in memory and in the report file).
KEEP = 1000
#: Errors about the file or its header rather than one row.
FILE_LEVEL_FIELDS = ("(file)", "(header)")
REFUSED = "row refused"
FILE_REFUSED = "file refused"


class ImportReport:
    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self.errors: list[RowError] = []  # the first `keep`
        self.warnings: list[RowWarning] = []  # the first `keep`
        self.notes: list[str] = []  # about the file as a whole (unknown columns); few, each bounded
        self.n_errors = 0
        self.n_warnings = 0
        self.bad_rows = 0  # rows refused
        self.warned_rows = 0  # rows imported with at least one warning
        self.by_field: Counter[str] = Counter()  # warnings per field (fields are columns: bounded)
        self.file_error = False

    def error(self, e: RowError) -> None:
        self.n_errors += 1
        self.file_error = self.file_error or e.field in FILE_LEVEL_FIELDS
        if len(self.errors) < self.keep:
            self.errors.append(e)

    def refuse(self, row: int, field: str, reason: str, record_id: str | None = None) -> None:
        """One row refused for a reason found outside check_row (field count, duplicate id)."""
        self.bad_rows += 1
        self.error(RowError(row, field, reason, record_id))

    def add(self, outcome: RowOutcome) -> None:
        if outcome.errors:
            self.bad_rows += 1
            for e in outcome.errors:
                self.error(e)
            return
        if outcome.warnings:
            self.warned_rows += 1
        for w in outcome.warnings:
            self.n_warnings += 1
            self.by_field[w.field] += 1
            if len(self.warnings) < self.keep:
                self.warnings.append(w)

    @property
    def more_errors(self) -> int:
        return self.n_errors - len(self.errors)

    @property
    def more_warnings(self) -> int:
        return self.n_warnings - len(self.warnings)

    def summary(self) -> str:
        """One line for the operator: how many values were changed, in which fields ("" if none)."""
        if not self.n_warnings:
            return ""
        fields = ", ".join(f"{f} {n}" for f, n in self.by_field.most_common())
        return (f"{self.n_warnings} value(s) blanked or cleaned in {self.warned_rows} row(s), "
                f"each row still imported: {fields}")

    def __bool__(self) -> bool:
        return bool(self.n_errors or self.n_warnings or self.notes)


def write_report(report: ImportReport, out: Path) -> None:
    """Write the report as CSV, created 0600: row, record_id, field, reason, action.

    Refused rows first, then warnings, then one line per kind that says how
    many more there were beyond the first KEEP. Cells that look like
    formulas are neutralised."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older report may have been made readable to others
    with open(fd, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "record_id", "field", "reason", "action"])
        for e in report.errors:
            action = FILE_REFUSED if e.field in FILE_LEVEL_FIELDS else REFUSED
            w.writerow([e.row, neutralise_cell(e.record_id or ""), e.field, neutralise_cell(e.reason), action])
        for note in report.notes:
            w.writerow(["", "", "(header)", neutralise_cell(note), "ignored"])
        for x in report.warnings:
            w.writerow([x.row, neutralise_cell(x.record_id or ""), x.field, neutralise_cell(x.reason), x.action])
        if report.more_errors:
            w.writerow(["", "", "(more)", f"{report.more_errors} more error(s) not listed; "
                        f"the first {report.keep} are", ""])
        if report.more_warnings:
            w.writerow(["", "", "(more)", f"{report.more_warnings} more warning(s) not listed; "
                        f"the first {report.keep} are", ""])
