"""Append-only, hash-chained audit log (JSON lines).

Each line is one entry::

    {"seq": 3, "ts": "2026-11-25T22:50:01.123456Z", "event": "disclosure.request",
     "fields": {...}, "prev": "<hash of entry 2>", "hash": "<sha256 of this entry>"}

``hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
the entry without its ``hash`` member. Entry 0 is the *genesis* entry: event
``audit.genesis``, ``prev`` of 64 zeros, and a random ``log_id`` in its fields,
so every later hash is bound to this one log. Sequence numbers make deletion,
insertion and reordering visible even when an attacker recomputes hashes from
the point of change onward; recomputing the *whole* chain is only detectable
against a head hash recorded elsewhere (``verify(path, expect_head=...)``).

Audit fields must never carry personal data or key material: callers pass
handles, ids, enum values and counts. :func:`check_fields` enforces a simple
guard (value types, a length cap, and refusal of field names that denote
identifiers or secrets); it cannot prove a string is not personal data, so the
rule for callers stays: ids, not names.
"""

from __future__ import annotations

import csv
import datetime as _dt
import fcntl
import hashlib
import json
import math
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from fedalert.errors import FedalertError

FORMAT = "fedalert-audit/1"
GENESIS_EVENT = "audit.genesis"
ZERO_HASH = "0" * 64
MAX_STR = 256
_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ENTRY_KEYS = ("seq", "ts", "event", "fields", "prev", "hash")

#: Field names that would denote a personal identifier or secret. Pass a
#: record handle or id instead.
FORBIDDEN_FIELD_NAMES = frozenset(
    {
        "name",
        "names",
        "forename",
        "middle_names",
        "surname",
        "full_name",
        "alias",
        "dob",
        "date_of_birth",
        "birth_date",
        "address",
        "postcode",
        "phone",
        "mobile",
        "email",
        "pnc_id",
        "pnc",
        "chi_number",
        "chi",
        "ni_number",
        "nino",
        "key",
        "secret",
        "password",
        "passphrase",
        "private_key",
        "token_key",
        "plaintext",
        "token",
        "tokens",
        "payload",
        "identity",
    }
)


class AuditError(FedalertError):
    """The audit log cannot be written or read as asked."""


class AuditFieldError(AuditError):
    """An audit field would carry something an audit log must never hold."""


class AuditLogDamaged(AuditError):
    """The log ends in a partial entry; appending would bury the damage."""

    exit_code = 3


@dataclass
class VerifyReport:
    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)
    log_id: str | None = None
    head: str | None = None  # hash of the last well-formed entry
    head_seq: int | None = None


def canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def entry_hash(entry: dict) -> str:
    body = {k: entry[k] for k in ("seq", "ts", "event", "fields", "prev")}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _fmt_ts(ts: _dt.datetime) -> str:
    if ts.tzinfo is None:
        raise AuditError("audit clock returned a naive datetime; give it a timezone (UTC)")
    return ts.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_scalar(name: str, value: object) -> None:
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditFieldError(f"audit field {name!r}: only finite numbers are allowed")
        return
    if isinstance(value, str):
        if len(value) > MAX_STR:
            raise AuditFieldError(
                f"audit field {name!r}: text longer than {MAX_STR} characters; "
                "audit entries hold ids and short codes, not free text"
            )
        if "-----BEGIN" in value or "PRIVATE KEY" in value:
            raise AuditFieldError(f"audit field {name!r}: looks like key material; never log keys")
        return
    raise AuditFieldError(
        f"audit field {name!r}: type {type(value).__name__} is not allowed "
        "(use str, int, float, bool, None or a list of those)"
    )


def check_fields(fields: dict) -> None:
    """Raise :class:`AuditFieldError` unless *fields* are safe to log."""
    for name, value in fields.items():
        if not isinstance(name, str) or not _FIELD_RE.match(name):
            raise AuditFieldError(f"audit field name {name!r}: use lower_snake_case, at most 64 characters")
        if name in FORBIDDEN_FIELD_NAMES:
            raise AuditFieldError(
                f"audit field {name!r} would carry a personal identifier or secret; "
                "log a record handle or id instead"
            )
        if isinstance(value, (list, tuple)):
            if len(value) > 200:
                raise AuditFieldError(f"audit field {name!r}: list longer than 200 items")
            for item in value:
                _check_scalar(name, item)
        else:
            _check_scalar(name, value)


def _read_last_line(fd: int, size: int) -> tuple[bytes, bool]:
    """Return (last line without its newline, whether the file ends with a newline)."""
    if size == 0:
        return b"", True
    ends_nl = os.pread(fd, 1, size - 1) == b"\n"
    end = size - 1 if ends_nl else size
    buf = b""
    pos = end
    while pos > 0:
        start = max(0, pos - 4096)
        buf = os.pread(fd, pos - start, start) + buf
        pos = start
        nl = buf.rfind(b"\n")
        if nl != -1:
            return buf[nl + 1 :], ends_nl
    return buf, ends_nl


class AuditLog:
    """An append-only hash-chained log at *path*.

    Thread-safe within a process and safe between processes (``flock``).
    Each append is flushed and fsynced before it returns.
    """

    def __init__(self, path: str | os.PathLike, *, clock: Callable[[], _dt.datetime] | None = None):
        self.path = Path(path)
        self._clock = clock or _utc_now
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def append(self, event: str, **fields: object) -> str:
        """Append one entry and return its hash."""
        if not isinstance(event, str) or not _EVENT_RE.match(event) or len(event) > 64:
            raise AuditFieldError(f"audit event {event!r}: use dotted lower_snake_case, e.g. 'disclosure.request'")
        if event == GENESIS_EVENT:
            raise AuditFieldError(f"audit event {GENESIS_EVENT!r} is written by the log itself")
        check_fields(fields)
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
        try:
            return self._append(event, fields)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path} ({exc.strerror or type(exc).__name__}); nothing was done. "
                "Check the node's audit setting ([node] audit, FEDALERT_NODE_AUDIT or --audit) and the "
                "file's folder and permissions"
            ) from None

    def _append(self, event: str, fields: dict) -> str:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size == 0:
                    genesis = self._entry(
                        0, GENESIS_EVENT, {"log_id": secrets.token_hex(16), "format": FORMAT}, ZERO_HASH
                    )
                    self._write(fd, genesis)
                    _fsync_dir(self.path.parent)
                    seq, prev = 1, genesis["hash"]
                else:
                    seq, prev = self._tail_state(size)
                entry = self._entry(seq, event, fields, prev)
                self._write(fd, entry)
                return entry["hash"]
            finally:
                os.close(fd)  # closing releases the flock

    def _entry(self, seq: int, event: str, fields: dict, prev: str) -> dict:
        entry = {"seq": seq, "ts": _fmt_ts(self._clock()), "event": event, "fields": fields, "prev": prev}
        entry["hash"] = entry_hash(entry)
        return entry

    @staticmethod
    def _write(fd: int, entry: dict) -> None:
        data = canonical_json(entry) + b"\n"
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)

    def _tail_state(self, size: int) -> tuple[int, str]:
        rfd = os.open(self.path, os.O_RDONLY)
        try:
            line, ends_nl = _read_last_line(rfd, size)
        finally:
            os.close(rfd)
        try:
            last = json.loads(line)
            if not ends_nl:
                raise ValueError("no newline")
            seq, h = last["seq"], last["hash"]
            if not isinstance(seq, int) or not isinstance(h, str):
                raise ValueError("bad types")
        except (ValueError, KeyError, TypeError):
            raise AuditLogDamaged(
                f"audit log {self.path} ends in a partial or malformed entry (probably a crash mid-write); "
                f"nothing was appended. Run `fedalert audit verify {self.path}` and have the log's "
                "custodian preserve it and start a new log"
            ) from None
        return seq + 1, h


def _fsync_dir(path: Path) -> None:
    try:
        dfd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _iter_lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """Yield (line number from 1, raw line, ended with newline)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            ends = raw.endswith(b"\n")
            yield n, raw.rstrip(b"\n"), ends


def read_entries(path: str | os.PathLike) -> list[dict]:
    """Return the well-formed entries of a log (for export and review)."""
    out = []
    for _n, raw, _ends in _iter_lines(Path(path)):
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and all(k in entry for k in _ENTRY_KEYS):
            out.append(entry)
    return out


def verify(
    path: str | os.PathLike, *, expect_head: str | None = None, expect_log_id: str | None = None
) -> VerifyReport:
    """Check the whole chain; report every problem found, by line and seq.

    Raises :class:`AuditError` only if the file cannot be read at all.
    """
    p = Path(path)
    if not p.is_file():
        raise AuditError(f"audit log {p} does not exist or is not a file; check the path")
    problems: list[str] = []
    count = 0
    log_id = None
    head = None
    head_seq = None
    expected_seq = 0
    prev = ZERO_HASH
    lines = list(_iter_lines(p))
    if not lines:
        problems.append("the log is empty: no genesis entry")
    for idx, (n, raw, ends) in enumerate(lines):
        is_last = idx == len(lines) - 1
        where = f"line {n}"
        try:
            entry = json.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError
        except ValueError:
            if is_last and not ends:
                problems.append(f"{where}: torn last line (a partial write, probably a crash); not repaired")
            else:
                problems.append(f"{where}: not a JSON object; the line was damaged or inserted")
            continue
        missing = [k for k in _ENTRY_KEYS if k not in entry]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}; the entry was edited or inserted")
            continue
        count += 1
        seq = entry["seq"]
        where = f"line {n} (seq {seq})"
        if is_last and not ends:
            problems.append(f"{where}: last line has no newline (a partial write or an edit)")
        try:
            computed = entry_hash(entry)
        except (TypeError, ValueError):
            computed = None
        if computed != entry["hash"]:
            problems.append(f"{where}: hash does not match the content; the entry was edited")
        if seq != expected_seq:
            if isinstance(seq, int) and isinstance(expected_seq, int) and seq > expected_seq:
                why = f"seq {seq} where {expected_seq} was expected; {seq - expected_seq} entr{'y' if seq - expected_seq == 1 else 'ies'} deleted, or entries reordered"
            else:
                why = f"seq {seq} where {expected_seq} was expected; an entry was inserted, duplicated or reordered"
            problems.append(f"{where}: {why}")
        if entry["prev"] != prev:
            problems.append(
                f"{where}: prev does not match the hash of the entry before it; "
                "an entry was deleted, inserted or reordered here"
            )
        if idx == 0:
            if entry["event"] != GENESIS_EVENT or seq != 0 or entry["prev"] != ZERO_HASH:
                problems.append(f"{where}: the first entry is not the genesis entry; the start of the log was removed")
            else:
                lid = entry["fields"].get("log_id") if isinstance(entry["fields"], dict) else None
                log_id = lid if isinstance(lid, str) else None
                if log_id is None:
                    problems.append(f"{where}: the genesis entry has no log_id")
        elif entry["event"] == GENESIS_EVENT:
            problems.append(f"{where}: a second genesis entry; logs were spliced together")
        # resynchronise on the entry's own claims so one change is reported once
        prev = entry["hash"] if isinstance(entry["hash"], str) else prev
        expected_seq = seq + 1 if isinstance(seq, int) else expected_seq + 1
        head, head_seq = entry["hash"], seq
    if expect_log_id is not None and log_id != expect_log_id:
        problems.append(f"log id is {log_id}, expected {expect_log_id}: this is a different log")
    if expect_head is not None and head != expect_head:
        known = any(e.get("hash") == expect_head for e in read_entries(p))
        if known:
            problems.append(
                f"the expected head {expect_head[:16]}... is not the last entry; entries were appended after it "
                "(not tampering by itself; check the later entries)"
            )
        else:
            problems.append(
                f"the expected head {expect_head[:16]}... is not in the log; the log was truncated or rewritten"
            )
    return VerifyReport(ok=not problems, entries=count, problems=problems, log_id=log_id, head=head, head_seq=head_seq)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value: str) -> str:
    """Stop spreadsheets from running a cell as a formula (CSV injection).

    A cell whose first character, or first character after leading blanks,
    could start a formula (= + - @, their full-width forms, tab, CR, LF) is
    (blanks are everything str.isspace() calls white space, separators included)
    prefixed with an apostrophe, which spreadsheets show as text.
    """
    if value and (value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START)):
        return "'" + value
    return value


def _cell_text(v: object) -> str:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if v is None:
        return ""
    return str(v)


def _fields_text(fields: object) -> str:
    if not isinstance(fields, dict):
        return str(fields)
    parts = []
    for k in sorted(fields):
        v = fields[k]
        if isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        parts.append(f"{k}={v}")
    return "; ".join(parts)


def _md_cell(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    for ch in "`<>[]":
        text = text.replace(ch, "\\" + ch)
    return text


def export(path: str | os.PathLike, out: str | os.PathLike, fmt: str = "csv") -> VerifyReport:
    """Write a reviewer-friendly copy of the log to *out* (``csv`` or ``md``).

    The chain is verified first and the result returned; the export is written
    either way, and a Markdown export states the verification result on top.
    The file is written atomically (temporary file, then rename).
    """
    if fmt not in ("csv", "md"):
        raise AuditError(f"export format {fmt!r} is not known; use 'csv' or 'md'")
    report = verify(path)
    entries = read_entries(path)
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            # one column per field name, so a reviewer can filter and sort
            names = sorted({k for e in entries if isinstance(e["fields"], dict) for k in e["fields"]})
            w = csv.writer(f)
            w.writerow(["seq", "time_utc", "event", *names, "hash"])
            for e in entries:
                fl = e["fields"] if isinstance(e["fields"], dict) else {}
                vals = [_cell_text(fl[k]) if k in fl else "" for k in names]
                row = [str(e["seq"]), str(e["ts"]), str(e["event"]), *vals, str(e["hash"])]
                w.writerow([neutralise_cell(c) for c in row])
        else:
            f.write(f"# Audit log export: {_md_cell(Path(path).name)}\n\n")
            f.write(f"- Log id: {_md_cell(str(report.log_id))}\n- Entries: {report.entries}\n")
            if report.ok:
                f.write("- Chain verification: **passed**\n")
            else:
                f.write("- Chain verification: **FAILED**\n")
                for prob in report.problems:
                    f.write(f"  - {_md_cell(prob)}\n")
            f.write("\n| seq | time (UTC) | event | details | hash |\n|---:|---|---|---|---|\n")
            for e in entries:
                f.write(
                    f"| {_md_cell(str(e['seq']))} | {_md_cell(str(e['ts']))} | {_md_cell(str(e['event']))} | "
                    f"{_md_cell(_fields_text(e['fields']))} | {_md_cell(str(e['hash'])[:16])} |\n"
                )
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return report
