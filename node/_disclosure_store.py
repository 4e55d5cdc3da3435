"""SQLite tables of the disclosure domain (all SQL of the domain lives here).

:func:`migrate_disclosure` creates the tables; the node store runs it as one
named migration (``("0xx_disclosure", migrate_disclosure)``) inside its
migration transaction, so it uses plain DDL and never commits by itself.

Case values are kept in ``disclosure_case_fields`` (the node's own data).
Releases received from other areas are stored **as the sealed envelope they
arrived in** (encrypted to this area's sealing key and signed by the sender),
so they are encrypted at rest and re-verifiable; only metadata without values
sits in clear. Releases sent keep metadata only (no values).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from typing import Iterator

import sqlite_utils

_DDL = [
    """CREATE TABLE IF NOT EXISTS disclosure_case_fields (
        id INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        subject TEXT NOT NULL,
        source_partner TEXT NOT NULL,
        recorded_on TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS idx_dcf_record ON disclosure_case_fields (record_id)",
    """CREATE TABLE IF NOT EXISTS disclosure_requests (
        request_id TEXT PRIMARY KEY,
        direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
        match_id TEXT NOT NULL,
        requesting_area TEXT NOT NULL,
        holding_area TEXT NOT NULL,
        requesting_partner TEXT NOT NULL,
        record_id TEXT,
        status TEXT NOT NULL CHECK (status IN
            ('requested', 'approved', 'partially_approved', 'refused', 'released', 'expired')),
        status_reason TEXT NOT NULL DEFAULT '',
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS idx_dreq_match ON disclosure_requests (match_id)",
    "CREATE INDEX IF NOT EXISTS idx_dreq_status ON disclosure_requests (status)",
    "CREATE INDEX IF NOT EXISTS idx_dreq_record ON disclosure_requests (record_id)",
    """CREATE TABLE IF NOT EXISTS disclosure_decisions (
        request_id TEXT PRIMARY KEY REFERENCES disclosure_requests (request_id),
        decided_by TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        payload TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS disclosure_releases_sent (
        release_id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE REFERENCES disclosure_requests (request_id),
        to_area TEXT NOT NULL,
        released_at TEXT NOT NULL,
        approved_by TEXT NOT NULL,
        retention_until TEXT NOT NULL,
        items TEXT NOT NULL,
        withheld TEXT NOT NULL,
        emergency INTEGER NOT NULL,
        record_complete INTEGER NOT NULL,
        complete_by TEXT,
        completion TEXT,
        completed_at TEXT,
        payload_sealed BLOB
    )""",
    """CREATE TABLE IF NOT EXISTS disclosure_releases_received (
        release_id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE REFERENCES disclosure_requests (request_id),
        from_area TEXT NOT NULL,
        received_at TEXT NOT NULL,
        released_at TEXT NOT NULL,
        retention_until TEXT NOT NULL,
        items TEXT NOT NULL,
        withheld TEXT NOT NULL,
        sealed BLOB,
        legal_hold INTEGER NOT NULL DEFAULT 0,
        legal_hold_reason TEXT NOT NULL DEFAULT '',
        deleted_at TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS disclosure_outbox (
        envelope_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        match_id TEXT NOT NULL,
        to_area TEXT NOT NULL,
        request_id TEXT NOT NULL,
        sealed BLOB,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_doutbox_unsent ON disclosure_outbox (sent_at)",
    """CREATE TABLE IF NOT EXISTS disclosure_breaches (
        breach_id TEXT PRIMARY KEY,
        aware_at TEXT NOT NULL,
        reported_by TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        ico_notified_at TEXT,
        not_reporting_reason TEXT NOT NULL DEFAULT '',
        delay_reason TEXT NOT NULL DEFAULT '',
        partners_notified TEXT NOT NULL DEFAULT '[]',
        victim_notice TEXT NOT NULL DEFAULT '',
        closed_at TEXT,
        closed_by TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE IF NOT EXISTS disclosure_complaints (
        complaint_id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        channel TEXT NOT NULL,
        summary TEXT NOT NULL,
        acknowledged_at TEXT,
        outcome TEXT NOT NULL DEFAULT '',
        told_about_ico INTEGER NOT NULL DEFAULT 0,
        closed_at TEXT
    )""",
]


def migrate_disclosure(db: sqlite_utils.Database) -> None:
    """Create the disclosure tables (idempotent, plain DDL, no commit)."""
    for stmt in _DDL:
        db.execute(stmt)


#: Named migrations for the node store's migration list (append, never edit).
DISCLOSURE_MIGRATIONS = [("disclosure_001_tables", migrate_disclosure)]


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction; joins an enclosing one if already open."""
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def ts(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_ts(s: str | None) -> _dt.datetime | None:
    if s is None:
        return None
    return _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def rows(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> list[dict]:
    cur = db.execute(sql, list(params))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def one(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> dict | None:
    r = rows(db, sql, params)
    return r[0] if r else None


def execute(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> int:
    return db.execute(sql, list(params)).rowcount


def dumps(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
