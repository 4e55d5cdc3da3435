"""CSV import: validate every row, then write all of it or none of it.

A file with any bad row is refused whole with a report (row, field, reason),
unless ``skip_bad`` is set, in which case the good rows are imported and the
report lists what was left out. Re-importing an unchanged file changes
nothing; a changed row bumps that record's version so it is republished.

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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fedalert.audit import neutralise_cell
from fedalert.node import normalise
from fedalert.node.errors import FieldValueError, ImportRejectedError, RowError
from fedalert.node.identity import Identity, Name
from fedalert.node.records import identity_to_json, row_hash


COLUMNS = (
    "record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
    "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address",
)
MAX_FIELD_CHARS = 512
MAX_CASE_CHARS = 4000
CASE_SUFFIXES = ("__source", "__recorded", "__subject")
CASE_DEFAULTS = ("case_source", "case_recorded", "case_subject")
DEFAULT_SUBJECT = "perpetrator"
MAX_ALIASES = 20
MAX_ROWS = 2_000_000
#: Largest CSV file imported (import_file streams it; parse_csv holds it in memory): 2M rows of real exports fit.
MAX_FILE_BYTES = 2 * 1024**3
_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

IDENTIFIER_CHECKS: dict[str, Callable[[str], str]] = {
    "pnc_id": normalise.normalise_pnc,
    "chi_number": normalise.normalise_chi,
    "ni_number": normalise.normalise_ni,
    "phone": normalise.normalise_phone,
    "email": normalise.normalise_email,
    "postcode": normalise.normalise_postcode,
}


@dataclass
class ParsedRow:
    row: int
    record_id: str
    identity: Identity
    case_fields: list | None = None  # None: the file has no case columns (leave stored values alone)


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    withdrawn: int = 0
    case_values: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def counts(self) -> dict:
        return {k: getattr(self, k) for k in ("added", "updated", "unchanged", "rejected", "withdrawn")}


def _split_name(full: str) -> Name:
    words = full.split()
    if len(words) < 2:
        raise FieldValueError(f"alias {full!r} needs at least a forename and a surname")
    return Name(forename=words[0], middle_names=" ".join(words[1:-1]), surname=words[-1])


class _Row:
    """Collects the errors of one row; in lenient mode blanks bad values instead."""

    def __init__(self, row_no: int, values: dict, lenient: bool, parsed: ParsedFile):
        self.row_no, self.values, self.lenient, self.parsed = row_no, values, lenient, parsed
        self.record_id = (values.get("record_id") or "").strip()
        self.errors: list[RowError] = []

    def fail(self, column: str, reason: str) -> None:
        if self.lenient and column != "record_id":
            self.parsed.warnings.append(f"row {self.row_no}, {column}: {reason}; value ignored")
        else:
            self.errors.append(RowError(self.row_no, column, reason, self.record_id or None))

    def text(self, column: str, limit: int = MAX_FIELD_CHARS) -> str:
        value = (self.values.get(column) or "").strip()
        if len(value) > limit:
            self.fail(column, f"longer than {limit} characters")
            return ""
        if _CONTROL.search(value):
            self.fail(column, "contains control characters")
            return ""
        return value

    def checked(self, column: str, check: Callable[[str], object]):
        value = self.text(column)
        if not value:
            return None
        try:
            return check(value)
        except FieldValueError as exc:
            self.fail(column, exc.reason)
            return None


def _parse_row(row_no: int, values: dict, dob_format: str | None, lenient: bool, parsed: ParsedFile):
    r = _Row(row_no, values, lenient, parsed)
    if not _RECORD_ID.match(r.record_id):
        r.fail("record_id", "required: 1-64 characters of letters, digits and . _ / -, starting with a letter or digit")
    names = [Name(r.text("forename"), r.text("middle_names"), r.text("surname"))]
    alias_text = r.text("aliases")
    aliases = [a.strip() for a in alias_text.split(";") if a.strip()] if alias_text else []
    if len(aliases) > MAX_ALIASES:
        r.fail("aliases", f"at most {MAX_ALIASES} aliases per record")
        aliases = []
    for alias in aliases:
        try:
            names.append(_split_name(alias))
        except FieldValueError as exc:
            r.fail("aliases", exc.reason)
    dob = r.checked("date_of_birth", lambda v: normalise.parse_date(v, dob_format))
    dobs = [dob] if dob else []
    alias_dobs_text = r.text("alias_dobs")
    for part in [p.strip() for p in alias_dobs_text.split(";") if p.strip()] if alias_dobs_text else []:
        try:
            dobs.append(normalise.parse_date(part, dob_format))
        except FieldValueError as exc:
            r.fail("alias_dobs", exc.reason)
    ids = {col: (r.text(col) if r.checked(col, check) is not None else "") for col, check in IDENTIFIER_CHECKS.items()}
    has_name = bool(names[0].forename and names[0].surname) or len(names) > 1
    if not r.errors and not (has_name or any(ids[c] for c in ("pnc_id", "chi_number", "ni_number"))):
        r.fail("surname", "the row has nothing to match on: give a forename and surname, or a strong identifier")
    identity = Identity(names=[n for n in names if n.forename or n.surname] or names[:1], dobs=dobs,
                        address=r.text("address"), **ids)
    return r, identity


def _case_columns(header: list[str], catalogue) -> list[str]:
    """The protocol fields that have a value column in this header."""
    return [f for f in catalogue if f in header]


def _parse_case_fields(r: _Row, fields: list[str], protocol, dob_format: str | None) -> list:
    from fedalert.node.disclosure.law import SUBJECTS
    from fedalert.node.disclosure.model import CaseField

    out = []
    for name in fields:
        value = r.text(name, MAX_CASE_CHARS)
        if not value:
            continue
        src_col = f"{name}__source" if r.text(f"{name}__source") else "case_source"
        source = r.text(src_col)
        rec_col = f"{name}__recorded" if r.text(f"{name}__recorded") else "case_recorded"
        recorded_text = r.text(rec_col)
        subj_col = f"{name}__subject" if r.text(f"{name}__subject") else "case_subject"
        subject = r.text(subj_col) or DEFAULT_SUBJECT
        ok = True
        if not source:
            r.fail(f"{name}__source", f"a {name} value needs the partner agency that supplied it "
                                      f"({name}__source or case_source)")
            ok = False
        elif source not in protocol.partners:
            known = ", ".join(sorted(protocol.partners)) or "none (give --overlay)"
            r.fail(src_col, f"{source!r} is not a partner in this area's protocol overlay; partners: {known}")
            ok = False
        recorded = None
        if not recorded_text:
            r.fail(f"{name}__recorded", f"a {name} value needs the date it was recorded "
                                        f"({name}__recorded or case_recorded)")
            ok = False
        else:
            try:
                recorded = normalise.parse_date(recorded_text, dob_format)
            except FieldValueError as exc:
                r.fail(rec_col, exc.reason)
                ok = False
        if subject not in SUBJECTS:
            r.fail(subj_col, f"{subject!r} is not one of {', '.join(SUBJECTS)}")
            ok = False
        if ok:
            out.append(CaseField(name, value, subject, source, recorded))
    return out


def parse_csv(data: bytes, *, dob_format: str | None = None, lenient: bool = False,
              protocol=None) -> ParsedFile:
    """Validate a canonical CSV held in memory. Never raises for bad rows.

    *protocol* (``fedalert.node.disclosure.protocol.Protocol``, with the area's overlay)
    is needed only when the file has case-field columns: it names the fields
    and the partners that may supply values. A file on disk is better
    imported with :func:`import_file`, which streams it."""
    parsed = ParsedFile(sha256=hashlib.sha256(data).hexdigest())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.errors.append(_utf8_error(data, exc))
        return parsed
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)  # strict: an unterminated quote is an error
    parsed.rows.extend(_rows(reader, parsed, dob_format, lenient, protocol, seen.get, seen.__setitem__))
    return parsed


def _utf8_error(data: bytes, exc: UnicodeDecodeError, first_line: int = 1) -> RowError:
    line = first_line + data[: exc.start].count(b"\n")
    return RowError(line, "(file)", f"not UTF-8: byte 0x{data[exc.start]:02x} on line {line}")


def _rows(reader, parsed: ParsedFile, dob_format: str | None, lenient: bool, protocol,
          first_row: Callable[[str], int | None], remember: Callable[[str, int], None]):
    """Validate rows as the reader yields them: good rows are yielded, bad ones go to parsed.errors.

    Holds no row after yielding it. Duplicate record ids are found through
    `first_row` (record id -> row it was first seen on, or None) and
    `remember`, so the caller decides where the ids seen so far are kept."""
    try:
        header = next(reader, None)
        if header is None:
            parsed.errors.append(RowError(1, "(file)", "the file is empty: expected a header row"))
            return
        header = [h.strip() for h in header]
        if "record_id" not in header:
            parsed.errors.append(RowError(1, "(header)", "missing the required column record_id"))
            return
        dupes = {h for h in header if header.count(h) > 1}
        if dupes:
            parsed.errors.append(RowError(1, "(header)", f"duplicate column(s): {', '.join(sorted(dupes))}"))
            return
        catalogue = list(protocol.fields) if protocol is not None else _national_fields()
        case_cols = _case_columns(header, catalogue)
        case_known = {f"{f}{sfx}" for f in catalogue for sfx in CASE_SUFFIXES} | set(catalogue) | set(CASE_DEFAULTS)
        if case_cols and (protocol is None or not protocol.partners):
            parsed.errors.append(RowError(1, "(header)", "case-field columns ("
                                          + ", ".join(case_cols) + ") need this area's protocol overlay "
                                          "(--overlay), which lists the partners that supply values"))
            return
        unknown = [h for h in header if h not in COLUMNS and h not in case_known]
        if unknown:
            parsed.warnings.append(f"unknown column(s) ignored: {', '.join(unknown)}")
        n_rows = 0
        for values in reader:
            row_no = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if n_rows + len(parsed.errors) >= MAX_ROWS:
                parsed.errors.append(RowError(row_no, "(file)", f"more than {MAX_ROWS} rows; split the file"))
                break
            if len(values) != len(header):
                parsed.errors.append(RowError(row_no, "(row)", f"has {len(values)} fields, the header has {len(header)}"))
                continue
            r, identity = _parse_row(row_no, dict(zip(header, values)), dob_format, lenient, parsed)
            cases = _parse_case_fields(r, case_cols, protocol, dob_format) if case_cols else None
            if not r.errors:
                first = first_row(r.record_id)
                if first is not None:
                    r.fail("record_id", f"duplicate: record_id already used on row {first}")
            if r.errors:
                parsed.errors.extend(r.errors)
                continue
            remember(r.record_id, row_no)
            n_rows += 1
            yield ParsedRow(row_no, r.record_id, identity, cases)
    except csv.Error as exc:
        parsed.errors.append(RowError(reader.line_num, "(file)", f"CSV syntax error: {exc}"))


@functools.lru_cache(maxsize=1)
def _national_fields() -> tuple[str, ...]:
    from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol

    return tuple(load_protocol(bundled_national_path()).fields)


#: Errors about the file or its header rather than one row. ``skip_bad`` skips bad
#: rows only: with one of these nothing is imported and nothing is withdrawn (the
#: rows after an undecodable byte or a CSV syntax error were never read, so
#: ``withdraw_missing`` would take them for records that left the export).
FILE_LEVEL_FIELDS = ("(file)", "(header)")


def _refuse(errors, skip_bad: bool) -> bool:
    return bool(errors) and (not skip_bad or any(e.field in FILE_LEVEL_FIELDS for e in errors))


def import_records(store, parsed: ParsedFile, *, file_name: str, skip_bad: bool = False,
                   withdraw_missing: bool = False, progress: Callable[[int, int], None] | None = None,
                   audit=None, protocol=None) -> ImportResult:
    """Write a validated file to the store in one transaction (all or nothing)."""
    result = ImportResult(warnings=list(parsed.warnings), errors=list(parsed.errors))
    result.rejected = len({e.row for e in parsed.errors})
    if _refuse(parsed.errors, skip_bad):
        raise ImportRejectedError(parsed.errors)
    total = len(parsed.rows)
    with store.transaction():
        for i, row in enumerate(parsed.rows, 1):
            ij = identity_to_json(row.identity)
            outcome = store.upsert_record(row.record_id, ij, row_hash(ij))
            setattr(result, outcome, getattr(result, outcome) + 1)
            if row.case_fields is not None:
                from fedalert.node.disclosure.casefields import replace_case_fields

                replace_case_fields(store.db, protocol, row.record_id, row.case_fields)
                result.case_values += len(row.case_fields)
            if progress and (i % 1000 == 0 or i == total):
                progress(i, total)
        if withdraw_missing:
            # A record on a bad row is still in the export: never withdraw it.
            present = {r.record_id for r in parsed.rows} | {e.record_id for e in parsed.errors if e.record_id}
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

    Same rules as :func:`parse_csv` + :func:`import_records` (one bad row and
    nothing is written, unless `skip_bad`; the same row/field/reason
    report; re-import is idempotent), but memory does not grow with the
    file: no row is held after it is written, and the record ids seen so far
    (for duplicates and `withdraw_missing`) live in a temporary SQLite table.
    Once a bad row is found without `skip_bad`, the rest of the file is only
    validated, to report every bad row, and the transaction is rolled back.
    An error about the file itself or its header (not UTF-8, CSV syntax,
    too many rows, a bad header) refuses the whole file even with
    `skip_bad`, and withdraws nothing.
    `progress(rows, None)` is called every ROW_BATCH rows and `progress(n, n)` at the end.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportRejectedError([RowError(1, "(file)", f"the file is {size} bytes, over the limit of "
                                            f"{MAX_FILE_BYTES}; split it into smaller exports")])
    parsed = ParsedFile()
    result = ImportResult()
    try:
        with open(path, "rb") as raw, store.transaction():
            hashed = _HashingReader(raw)
            text = io.TextIOWrapper(io.BufferedReader(hashed, 1 << 16), encoding="utf-8-sig", newline="")
            seen = _SeenIds(store.db)
            batch: list[ParsedRow] = []
            done = 0
            reader = csv.reader(text, strict=True)  # strict: an unterminated quote is an error
            for row in _rows(reader, parsed, dob_format, False, protocol, seen.first_row, seen.add):
                if parsed.errors and not skip_bad:
                    batch.clear()  # nothing will be written; keep validating to report every bad row
                    continue
                batch.append(row)
                if len(batch) >= ROW_BATCH:
                    done += _write_rows(store, batch, result, protocol)
                    batch.clear()
                    if progress:
                        progress(done, None)
            if _refuse(parsed.errors, skip_bad):
                raise ImportRejectedError(parsed.errors)  # rolls back every batch written so far
            done += _write_rows(store, batch, result, protocol)
            hashed.drain()
            parsed.sha256 = hashed.hexdigest()
            result.warnings, result.errors = list(parsed.warnings), list(parsed.errors)
            result.rejected = len({e.row for e in parsed.errors})
            if withdraw_missing:
                # A record on a bad row is still in the export: never withdraw it.
                keep = {e.record_id for e in parsed.errors if e.record_id}
                for record_id in seen.active_not_seen(keep):
                    store.withdraw_record(record_id, "not in export")
                    result.withdrawn += 1
            store.log_import(path.name, parsed.sha256, result.counts())
            seen.clear()
            if progress:
                progress(done, done)
    except UnicodeDecodeError:
        # Rolled back. Report the exact line, as parse_csv does for a file in memory.
        parsed = ParsedFile(sha256=_file_sha256(path), errors=[_utf8_error_in_file(path)])
        return import_records(store, parsed, file_name=path.name, skip_bad=skip_bad,
                              withdraw_missing=withdraw_missing, audit=audit, protocol=protocol)
    if audit is not None:
        audit.append("import", file_sha256=parsed.sha256, case_values=result.case_values, **result.counts())
    return result


#: Rows written per batch by import_file.
ROW_BATCH = 500


def _write_rows(store, rows: list[ParsedRow], result: ImportResult, protocol) -> int:
    jsons = [identity_to_json(row.identity) for row in rows]
    outcomes = store.upsert_records([(row.record_id, ij, row_hash(ij)) for row, ij in zip(rows, jsons)])
    for row, outcome in zip(rows, outcomes):
        setattr(result, outcome, getattr(result, outcome) + 1)
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
    """Record ids seen in this import, with their first row: a temporary table, not a dict in memory."""

    def __init__(self, db):
        self.db = db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS import_seen (record_id TEXT PRIMARY KEY, row INTEGER NOT NULL)")
        db.execute("DELETE FROM temp.import_seen")

    def first_row(self, record_id: str) -> int | None:
        row = self.db.execute("SELECT row FROM temp.import_seen WHERE record_id=?", [record_id]).fetchone()
        return row[0] if row else None

    def add(self, record_id: str, row: int) -> None:
        self.db.execute("INSERT INTO temp.import_seen (record_id, row) VALUES (?,?)", [record_id, row])

    def active_not_seen(self, keep: set[str]) -> list[str]:
        """Active records of the store that this import did not see (sorted), except `keep`."""
        rows = self.db.execute("SELECT record_id FROM records WHERE status='active' AND record_id NOT IN"
                               " (SELECT record_id FROM temp.import_seen) ORDER BY record_id")
        return [r[0] for r in rows if r[0] not in keep]

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


def write_report(errors: list[RowError], out: Path) -> None:
    """Write the bad-row report as CSV (values that look like formulas neutralised)."""
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "record_id", "field", "reason"])
        for e in errors:
            w.writerow([e.row, neutralise_cell(e.record_id or ""), e.field, neutralise_cell(e.reason)])
