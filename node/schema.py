"""Every table of the node's SQLite database, as named migrations (append, never edit).

The node store (:mod:`fedalert.node.store`) applies them when it opens the
database, each in its own transaction (:func:`fedalert.migrations.migrate`).
The schema lives here, below every user of the database, so that the store
and the disclosure package (``fedalert.node.disclosure``, whose queries run
against the ``disclosure_*`` tables) both import it without importing each
other.

Case values are kept in ``disclosure_case_fields`` (the node's own data).
Releases received from other areas are stored **as the sealed envelope they
arrived in** (encrypted to this area's sealing key and signed by the sender),
so they are encrypted at rest and re-verifiable; only metadata without values
sits in clear. Releases sent keep metadata only (no values).
"""

from __future__ import annotations

import sqlite_utils

from fedalert.migrations import Migration, run_script


def _m001_initial(db: sqlite_utils.Database) -> None:
    run_script(db, 
        """
        CREATE TABLE records (
            record_id TEXT PRIMARY KEY,
            handle TEXT NOT NULL UNIQUE,
            identity TEXT NOT NULL,
            row_hash TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
            withdraw_reason TEXT,
            version INTEGER NOT NULL,
            published_version INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL
        );
        CREATE INDEX records_pending ON records (status) WHERE version > published_version;
        CREATE TABLE alerts (
            alert_id TEXT PRIMARY KEY,
            cursor INTEGER NOT NULL,
            match_id TEXT NOT NULL,
            type TEXT NOT NULL,
            handle TEXT NOT NULL,
            other_area TEXT NOT NULL,
            tier TEXT NOT NULL,
            kinds TEXT NOT NULL,
            score REAL NOT NULL,
            created_ms INTEGER NOT NULL,
            received_ms INTEGER NOT NULL
        );
        CREATE INDEX alerts_match ON alerts (match_id);
        CREATE TABLE matches (
            match_id TEXT PRIMARY KEY,
            handle TEXT NOT NULL,
            other_area TEXT NOT NULL,
            tier TEXT NOT NULL,
            kinds TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('live', 'withdrawn')),
            updated_ms INTEGER NOT NULL
        );
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL, file_sha256 TEXT NOT NULL,
            added INTEGER NOT NULL, updated INTEGER NOT NULL, unchanged INTEGER NOT NULL,
            rejected INTEGER NOT NULL, withdrawn INTEGER NOT NULL, at_ms INTEGER NOT NULL
        );
        CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


_DISCLOSURE_DDL = [
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
    for stmt in _DISCLOSURE_DDL:
        db.execute(stmt)


def _m002_accounts(db: sqlite_utils.Database) -> None:
    """People who work the node (CLI and console), their sessions, and the triage of alerts.

    Passwords are Argon2id hashes; a session is kept as the SHA-256 of its
    cookie or CLI token, never the token itself. Triage is per match (the
    alert inbox shows one row per match)."""
    run_script(db, """
        CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            roles TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            totp_secret TEXT NOT NULL,
            totp_last_step INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_at TEXT,
            disabled_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_login_at TEXT
        );
        CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (user_id),
            area TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('console', 'cli')),
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX sessions_user ON sessions (user_id);
        CREATE TABLE alert_triage (
            match_id TEXT PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('new', 'under_review', 'referred_to_marac', 'no_further_action')),
            assignee TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            updated_by TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """)


#: Append only; a released name is never edited (a node records the names it applied).
MIGRATIONS: list[Migration] = [
    ("001_initial", _m001_initial),
    ("disclosure_001_tables", migrate_disclosure),
    ("002_accounts", _m002_accounts),
]
