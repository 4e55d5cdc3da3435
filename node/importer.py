"""CSV import: every row checked, then all of it written in one transaction, or none of it.

Each row goes through fedalert.node.rowcheck.check_row, the one validation
that eval-linkage shares: a bad value is blanked with a warning and its row
imported; a row is refused only when its record_id is missing, invalid or
repeated in the file, or when it cannot identify anyone. A file with a
refused row is refused whole with a report (row, field, reason), unless
``skip_bad`` is set, in which case the other rows are imported and the
report lists what was left out. An error about the file itself (not UTF-8,
CSV syntax, no header, no record_id column, duplicate columns, more than
MAX_COLUMNS columns, a line longer than MAX_LINE_CHARS, more than MAX_ROWS
rows, a file over MAX_FILE_BYTES) refuses it whole even with ``skip_bad``.
Re-importing an unchanged file changes nothing; a changed row bumps that
record's version so it is republished. Memory does not grow with the file or
with the number of problems in it (fedalert.node._import_report keeps the
first KEEP of each in full and counts the rest).

Optional case-field columns carry the case values a coordinator may later
disclose under the protocol. A column named after a protocol field (for
example ``risk_level`` or ``gender_history``) holds the value;
``<field>__source`` names the partner agency that supplied it (a partner in
the area's overlay), ``<field>__recorded`` the date it was recorded and
``<field>__subject`` whom it is about (victim, perpetrator, child, case;
default perpetrator). ``case_source``, ``case_recorded`` and ``case_subject``
give row-wide defaults. When a file has case columns, each imported record's
case values are replaced by the row's, in the same transaction. Case values
never leave the node except in an approved, sealed release.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fedalert.echo import echo
from fedalert.node._import_report import FILE_LEVEL_FIELDS, KEEP, ImportReport, write_report
from fedalert.node.errors import ImportRejectedError, RowError
from fedalert.node.identity import Identity
from fedalert.node.records import identity_to_json, row_hash
from fedalert.node.rowcheck import (
    CASE_DEFAULTS,
    CASE_SUFFIXES,
    COLUMNS,
    MAX_ALIASES,
    MAX_CASE_CHARS,
    MAX_FIELD_CHARS,
    RECORD_ID,
    CaseColumns,
    RowWarning,
    check_row,
)

__all__ = [
    "COLUMNS", "FILE_LEVEL_FIELDS", "KEEP", "MAX_ALIASES", "MAX_CASE_CHARS", "MAX_COLUMNS", "MAX_FIELD_CHARS",
    "MAX_FILE_BYTES", "MAX_LINE_CHARS", "MAX_ROWS", "ImportReport", "ImportResult", "ParsedFile", "ParsedRow",
    "import_file", "import_records", "parse_csv", "read_file_rows", "read_rows", "write_report",
]

MAX_ROWS = 2_000_000
#: Largest CSV file imported (import_file streams it; parse_csv holds it in memory): 2M rows of real exports fit.
MAX_FILE_BYTES = 2 * 1024**3
#: Most columns a header may have. The canonical columns and every case-field column are under 70; an
#: export may carry others, which are ignored. Above this the file is refused before any row is read.
MAX_COLUMNS = 1000
#: Longest physical line read (so one row's memory is bounded however it was built).
MAX_LINE_CHARS = 1 << 20
#: Unknown column names a warning lists; the rest are counted.
SHOWN_COLUMNS = 20


@dataclass
class ParsedRow:
    row: int
    record_id: str
    identity: Identity
    case_fields: list | None = None  # None: the file has no case columns (leave stored values alone)


class _Reported:
    """The first errors and warnings of `self.report` (an ImportReport), and its file-level notes."""

    report: ImportReport

    @property
    def errors(self) -> list[RowError]:
        return self.report.errors

    @property
    def warnings(self) -> list[RowWarning]:
        return self.report.warnings

    @property
    def notes(self) -> list[str]:
        return self.report.notes


@dataclass
class ParsedFile(_Reported):
    rows: list[ParsedRow] = field(default_factory=list)
    report: ImportReport = field(default_factory=ImportReport)
    sha256: str = ""
    bad_ids: set[str] = field(default_factory=set)  # record ids of refused rows: never withdrawn


@dataclass
class ImportResult(_Reported):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    withdrawn: int = 0
    case_values: int = 0
    no_fixed_abode: int = 0  # rows written that say "no fixed abode"
    report: ImportReport = field(default_factory=ImportReport)

    def counts(self) -> dict:
        return {k: getattr(self, k) for k in ("added", "updated", "unchanged", "rejected", "withdrawn")}


class _LineTooLong(Exception):
    def __init__(self, line: int):
        self.line = line


def _bounded_lines(text: io.TextIOBase) -> Iterator[str]:
    """The physical lines of `text`; _LineTooLong for one over MAX_LINE_CHARS (never read whole)."""
    n = 0
    while line := text.readline(MAX_LINE_CHARS + 1):
        n += 1
        if len(line) > MAX_LINE_CHARS:
            raise _LineTooLong(n)
        yield line


def _shown(names: list[str]) -> str:
    """Column names for a message: the first SHOWN_COLUMNS, each echoed (cut, escaped), then a count."""
    shown = ", ".join(echo(n) for n in names[:SHOWN_COLUMNS])
    return shown + (f" and {len(names) - SHOWN_COLUMNS} more" if len(names) > SHOWN_COLUMNS else "")


class _MemorySeen:
    """Record ids seen so far, for a file held in memory (parse_csv)."""

    def __init__(self, bad_ids: set[str]):
        self.first: dict[str, int] = {}
        self.bad_ids = bad_ids

    def first_row(self, record_id: str) -> int | None:
        return self.first.get(record_id)

    def add(self, record_id: str, row: int) -> None:
        self.first[record_id] = row

    def bad(self, record_id: str) -> None:
        self.bad_ids.add(record_id)


def parse_csv(data: bytes, *, dob_format: str | None = None, protocol=None) -> ParsedFile:
    """Validate a canonical CSV held in memory. Never raises for bad rows.

    *protocol* (``fedalert.node.disclosure.protocol.Protocol``, with the area's overlay)
    is needed only when the file has case-field columns: it names the fields
    and the partners that may supply values. A file on disk is better
    imported with :func:`import_file`, which streams it."""
    parsed = ParsedFile(sha256=hashlib.sha256(data).hexdigest())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.report.error(_utf8_error(data, exc))
        return parsed
    lines = _bounded_lines(io.StringIO(text, newline=""))
    parsed.rows.extend(read_rows(lines, parsed.report, _MemorySeen(parsed.bad_ids), dob_format=dob_format, protocol=protocol))
    return parsed


def read_file_rows(path: Path, report: ImportReport, *, dob_format: str | None = None,
                   protocol=None) -> Iterator[ParsedRow]:
    """The good rows of a CSV file on disk, streamed and checked exactly as :func:`import_file` checks
    them, for a reader that keeps what it needs (eval-linkage). Problems go to `report`. Raises OSError."""
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            yield from read_rows(_bounded_lines(text), report, _MemorySeen(set()), dob_format=dob_format,
                                 protocol=protocol)
        except UnicodeDecodeError:
            report.error(_utf8_error_in_file(Path(path)))


def _utf8_error(data: bytes, exc: UnicodeDecodeError, first_line: int = 1) -> RowError:
    line = first_line + data[: exc.start].count(b"\n")
    return RowError(line, "(file)", f"not UTF-8: byte 0x{data[exc.start]:02x} on line {line}")


def _header(header: list[str], report: ImportReport, protocol) -> tuple[list[str], CaseColumns | None] | None:
    """The stripped header and its case columns, or None (a header error, reported)."""
    if len(header) > MAX_COLUMNS:
        report.error(RowError(1, "(header)", f"{len(header)} columns; at most {MAX_COLUMNS} are read "
                              "(leave out the columns fedalert does not use)"))
        return None
    header = [h.strip() for h in header]
    if "record_id" not in header:
        report.error(RowError(1, "(header)", "missing the required column record_id"))
        return None
    dupes = [h for h, n in Counter(header).items() if n > 1]  # in header order
    if dupes:
        report.error(RowError(1, "(header)", f"duplicate column(s): {_shown(dupes)}"))
        return None
    columns = set(header)
    catalogue = list(protocol.fields) if protocol is not None else _national_fields()
    case_cols = tuple(f for f in catalogue if f in columns)
    if case_cols and (protocol is None or not protocol.partners):
        report.error(RowError(1, "(header)", f"case-field columns ({', '.join(case_cols)}) need this area's "
                              "protocol overlay (--overlay), which lists the partners that supply values"))
        return None
    known = set(COLUMNS) | set(CASE_DEFAULTS) | set(catalogue) | {f + s for f in catalogue for s in CASE_SUFFIXES}
    unknown = [h for h in header if h not in known]
    if unknown:
        report.notes.append(f"unknown column(s) ignored: {_shown(unknown)}")
    return header, (CaseColumns(case_cols, protocol) if case_cols else None)


def read_rows(lines: Iterable[str], report: ImportReport, seen, *, dob_format: str | None = None,
              protocol=None) -> Iterator[ParsedRow]:
    """Check rows as they are read: good rows are yielded, problems go to `report`.

    `lines` are the file's text lines (newlines kept). Holds no row after
    yielding it. `seen` keeps the record ids so far, wherever the caller
    likes: ``first_row(record_id) -> row | None``, ``add(record_id, row)``
    and ``bad(record_id)`` (a refused row's id, never withdrawn)."""
    reader = csv.reader(lines, strict=True)  # strict: an unterminated quote is an error
    try:
        first = next(reader, None)
        if first is None:
            report.error(RowError(1, "(file)", "the file is empty: expected a header row"))
            return
        got = _header(first, report, protocol)
        if got is None:
            return
        header, case = got
        n_rows = 0
        for values in reader:
            row_no = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if n_rows + report.bad_rows >= MAX_ROWS:
                report.error(RowError(row_no, "(file)", f"more than {MAX_ROWS} rows; split the file"))
                break
            if len(values) != len(header):
                report.refuse(row_no, "(row)", f"has {len(values)} fields, the header has {len(header)}")
                continue
            outcome = check_row(row_no, dict(zip(header, values)), dob_format=dob_format, case=case)
            if outcome.ok and (first_row := seen.first_row(outcome.record_id)) is not None:
                outcome.errors.append(RowError(row_no, "record_id", f"duplicate: record_id already used on row "
                                               f"{first_row}", outcome.record_id))
            report.add(outcome)
            if not outcome.ok:
                if RECORD_ID.match(outcome.record_id):
                    seen.bad(outcome.record_id)
                continue
            seen.add(outcome.record_id, row_no)
            n_rows += 1
            yield ParsedRow(row_no, outcome.record_id, outcome.identity, outcome.case_fields)
    except csv.Error as exc:
        report.error(RowError(reader.line_num, "(file)", f"CSV syntax error: {echo(exc)}"))
    except _LineTooLong as exc:
        report.error(RowError(exc.line, "(file)", f"line {exc.line} is longer than {MAX_LINE_CHARS} characters"))


@functools.lru_cache(maxsize=1)
def _national_fields() -> tuple[str, ...]:
    from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol

    return tuple(load_protocol(bundled_national_path()).fields)


def _refuse(report: ImportReport, skip_bad: bool) -> bool:
    """``skip_bad`` skips refused rows only: with a file-level error nothing is imported and nothing is
    withdrawn (the rows after an undecodable byte or a CSV syntax error were never read, so
    ``withdraw_missing`` would take them for records that left the export)."""
    return bool(report.n_errors) and (not skip_bad or report.file_error)


def _rejected(report: ImportReport) -> ImportRejectedError:
    return ImportRejectedError(report.errors, rows=report.bad_rows, total=report.n_errors, report=report)


def import_records(store, parsed: ParsedFile, *, file_name: str, skip_bad: bool = False,
                   withdraw_missing: bool = False, progress: Callable[[int, int], None] | None = None,
                   audit=None, protocol=None) -> ImportResult:
    """Write a validated file to the store in one transaction (all or nothing)."""
    result = ImportResult(report=parsed.report, rejected=parsed.report.bad_rows)
    if _refuse(parsed.report, skip_bad):
        raise _rejected(parsed.report)
    total = len(parsed.rows)
    with store.transaction():
        for i, row in enumerate(parsed.rows, 1):
            _write_rows(store, [row], result, protocol)
            if progress and (i % 1000 == 0 or i == total):
                progress(i, total)
        if withdraw_missing:
            # A record on a refused row is still in the export: never withdraw it.
            present = {r.record_id for r in parsed.rows} | parsed.bad_ids
            for record_id in sorted(store.active_record_ids() - present):
                store.withdraw_record(record_id, "not in export")
                result.withdrawn += 1
        store.log_import(file_name, parsed.sha256, result.counts())
    if audit is not None:
        audit.append("import", file_sha256=parsed.sha256, case_values=result.case_values, **result.counts())
    return result


def import_file(store, path: Path, *, dob_format: str | None = None, protocol=None, skip_bad: bool = False,
                withdraw_missing: bool = False, progress: Callable[[int, int | None], None] | None = None,
                audit=None) -> ImportResult:
    """Import a CSV file, streamed: rows are validated and written as they are read, in one transaction.

    Same rules as :func:`parse_csv` + :func:`import_records` (a refused row
    and nothing is written, unless `skip_bad`; the same report; re-import is
    idempotent), but memory does not grow with the file: no row is held
    after it is written, the record ids seen so far (for duplicates and
    `withdraw_missing`) live in a temporary SQLite table, and the report
    keeps the first KEEP problems of each kind. Once a row is refused without
    `skip_bad`, the rest of the file is only validated, to count every
    problem, and the transaction is rolled back. An error about the file
    itself refuses the whole file even with `skip_bad`, and withdraws nothing.
    `progress(rows, None)` is called every ROW_BATCH rows and `progress(n, n)` at the end.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportRejectedError([RowError(1, "(file)", f"the file is {size} bytes, over the limit of "
                                            f"{MAX_FILE_BYTES}; split it into smaller exports")])
    report = ImportReport()
    result = ImportResult(report=report)
    try:
        with open(path, "rb") as raw, store.transaction():
            hashed = _HashingReader(raw)
            text = io.TextIOWrapper(io.BufferedReader(hashed, 1 << 16), encoding="utf-8-sig", newline="")
            seen = _SeenIds(store.db)
            batch: list[ParsedRow] = []
            done = 0
            for row in read_rows(_bounded_lines(text), report, seen, dob_format=dob_format, protocol=protocol):
                if report.n_errors and not skip_bad:
                    batch.clear()  # nothing will be written; keep validating to count every problem
                    continue
                batch.append(row)
                if len(batch) >= ROW_BATCH:
                    done += _write_rows(store, batch, result, protocol)
                    batch.clear()
                    if progress:
                        progress(done, None)
            if _refuse(report, skip_bad):
                raise _rejected(report)  # rolls back every batch written so far
            done += _write_rows(store, batch, result, protocol)
            hashed.drain()
            sha256 = hashed.hexdigest()
            result.rejected = report.bad_rows
            if withdraw_missing:
                for record_id in seen.active_not_seen():  # a refused row's record is still in the export
                    store.withdraw_record(record_id, "not in export")
                    result.withdrawn += 1
            store.log_import(path.name, sha256, result.counts())
            seen.clear()
            if progress:
                progress(done, done)
    except UnicodeDecodeError:
        # Rolled back. Report the exact line, as parse_csv does for a file in memory.
        parsed = ParsedFile(sha256=_file_sha256(path))
        parsed.report.error(_utf8_error_in_file(path))
        return import_records(store, parsed, file_name=path.name, skip_bad=skip_bad,
                              withdraw_missing=withdraw_missing, audit=audit, protocol=protocol)
    if audit is not None:
        audit.append("import", file_sha256=sha256, case_values=result.case_values, **result.counts())
    return result


#: Rows written per batch by import_file.
ROW_BATCH = 500


def _write_rows(store, rows: list[ParsedRow], result: ImportResult, protocol) -> int:
    jsons = [identity_to_json(row.identity) for row in rows]
    outcomes = store.upsert_records([(row.record_id, ij, row_hash(ij)) for row, ij in zip(rows, jsons)])
    for row, outcome in zip(rows, outcomes):
        setattr(result, outcome, getattr(result, outcome) + 1)
        result.no_fixed_abode += row.identity.no_fixed_abode
        if row.case_fields is not None:
            from fedalert.node.disclosure.casefields import replace_case_fields

            replace_case_fields(store.db, protocol, row.record_id, row.case_fields)
            result.case_values += len(row.case_fields)
    return len(rows)


class _HashingReader(io.RawIOBase):
    """A binary file that hashes (SHA-256) every byte read through it."""

    def __init__(self, raw):
        self.raw, self.sha = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = self.raw.readinto(buf)
        if n:
            self.sha.update(memoryview(buf)[:n])
        return n or 0

    def drain(self) -> None:
        """Hash the rest of the file (when reading stopped early)."""
        while chunk := self.raw.read(1 << 20):
            self.sha.update(chunk)

    def hexdigest(self) -> str:
        return self.sha.hexdigest()


class _SeenIds:
    """Record ids seen in this import, with their first row: a temporary table, not a dict in memory.

    A refused row's id is kept with no row (it is no duplicate, and it is never withdrawn)."""

    def __init__(self, db):
        self.db = db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS import_seen (record_id TEXT PRIMARY KEY, row INTEGER)")
        db.execute("DELETE FROM temp.import_seen")

    def first_row(self, record_id: str) -> int | None:
        row = self.db.execute("SELECT row FROM temp.import_seen WHERE record_id=?", [record_id]).fetchone()
        return row[0] if row else None

    def add(self, record_id: str, row: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO temp.import_seen (record_id, row) VALUES (?,?)", [record_id, row])

    def bad(self, record_id: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO temp.import_seen (record_id, row) VALUES (?, NULL)", [record_id])

    def active_not_seen(self) -> list[str]:
        """Active records of the store that this import did not see, on a good or a refused row (sorted)."""
        rows = self.db.execute("SELECT record_id FROM records WHERE status='active' AND record_id NOT IN"
                               " (SELECT record_id FROM temp.import_seen) ORDER BY record_id")
        return [r[0] for r in rows]

    def clear(self) -> None:
        self.db.execute("DELETE FROM temp.import_seen")


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _utf8_error_in_file(path: Path) -> RowError:
    """The first line of a file that is not UTF-8, found line by line (the file is not read whole)."""
    with open(path, "rb") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _utf8_error(line, exc, first_line=line_no)
    return RowError(1, "(file)", "not UTF-8")
