"""Private reader of canonical CSV files for eval-linkage.

Rows are read and checked by the importer itself (fedalert.node.importer.
read_file_rows, which calls fedalert.node.rowcheck.check_row), so an
evaluation measures exactly what `fedalert node import --skip-bad` would
store: a bad value is blanked with a warning and the row still counts, a row
the importer would refuse is left out with a warning, and an error about the
file itself refuses the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from fedalert.node.errors import CsvFormatError
from fedalert.node.identity import Identity
from fedalert.node.importer import ImportReport, read_file_rows


def read_area(path: Path, warn: Callable[[str], None]) -> dict[str, Identity]:
    """Read one area file: record_id -> Identity. Raises CsvFormatError for a file that cannot be read."""
    report = ImportReport()
    out: dict[str, Identity] = {}
    try:
        for row in read_file_rows(path, report):
            out[row.record_id] = row.identity
    except OSError as exc:
        raise CsvFormatError(f"cannot read {path}: {exc.strerror}; give a UTF-8 CSV file") from None
    if report.file_error:
        first = next(e for e in report.errors if e.field in ("(file)", "(header)"))
        raise CsvFormatError(f"{path.name}: {first}; give a UTF-8 CSV file with the canonical header")
    for note in report.notes:
        warn(f"{path.name}: {note}")
    for e in report.errors:
        warn(f"{path.name} row {e.row} {e.field}: {e.reason}; row left out (node import refuses it)")
    for w in report.warnings:
        warn(f"{path.name} row {w.row} {w.field}: {w.reason}; {w.action}")
    if report.more_errors or report.more_warnings:
        warn(f"{path.name}: {report.more_errors} more refused row problem(s) and {report.more_warnings} more "
             "warning(s) not listed")
    return out


def read_truth(path: Path) -> dict[str, str]:
    """TRUTH.csv with columns record_id, person_id -> {record_id: person_id}."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvFormatError(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"record_id", "person_id"} <= set(reader.fieldnames or []):
        raise CsvFormatError(f"{path}: the truth file needs the columns record_id,person_id")
    return {r["record_id"].strip(): r["person_id"].strip() for r in reader if (r.get("record_id") or "").strip()}
