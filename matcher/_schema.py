"""The matcher's schema: named, transactional migrations (fedalert/migrations.py).

Applied in order by :class:`fedalert.matcher.store.MatcherStore` when it
opens a file: the core tables (``MIGRATIONS``), then the token key ids
(``KEYIDS_MIGRATIONS``) and the keyset relay (``KEYRELAY_MIGRATIONS``). Their
names are recorded in ``_migrations``; a migration, once released, is never
edited, and a schema change is a new migration appended to its list (the
matcher's estimated model, for one, gets a list of its own here).
"""

from __future__ import annotations

import sqlite_utils

from fedalert.migrations import Migration, run_script


def _m001_initial(db: sqlite_utils.Database) -> None:
    run_script(db, 
        """
        CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            area TEXT NOT NULL,
            handle TEXT NOT NULL,
            key_id TEXT NOT NULL,
            kinds TEXT NOT NULL,          -- JSON list of kind names published
            packed BLOB NOT NULL,         -- packed (kind id, token) list
            updated_ms INTEGER NOT NULL,
            UNIQUE (area, handle, key_id)
        );
        CREATE TABLE tokens (
            value BLOB NOT NULL,
            record_id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            PRIMARY KEY (value, record_id)
        ) WITHOUT ROWID;
        CREATE TABLE matches (
            match_id TEXT PRIMARY KEY,
            area_a TEXT NOT NULL, handle_a TEXT NOT NULL,
            area_b TEXT NOT NULL, handle_b TEXT NOT NULL,
            tier TEXT, score REAL NOT NULL, kinds TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('live', 'withdrawn')),
            created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
            UNIQUE (area_a, handle_a, area_b, handle_b)
        );
        CREATE INDEX matches_b ON matches (area_b, handle_b);
        CREATE TABLE alerts (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            alert_id TEXT NOT NULL UNIQUE,
            area TEXT NOT NULL,
            match_id TEXT NOT NULL,
            type INTEGER NOT NULL,
            handle TEXT NOT NULL,
            other_area TEXT NOT NULL,
            tier TEXT NOT NULL,
            kinds TEXT NOT NULL,
            score REAL NOT NULL,
            created_ms INTEGER NOT NULL
        );
        CREATE INDEX alerts_area ON alerts (area, cursor);
        CREATE TABLE batches (
            area TEXT NOT NULL, batch_id TEXT NOT NULL, applied_ms INTEGER NOT NULL,
            records INTEGER NOT NULL, tokens INTEGER NOT NULL,
            PRIMARY KEY (area, batch_id)
        ) WITHOUT ROWID;
        CREATE TABLE envelopes (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            envelope_id TEXT NOT NULL,
            match_id TEXT NOT NULL,
            from_area TEXT NOT NULL,
            to_area TEXT NOT NULL,
            kind TEXT NOT NULL,
            sealed BLOB NOT NULL,
            created_ms INTEGER NOT NULL,
            UNIQUE (from_area, envelope_id)
        );
        CREATE INDEX envelopes_to ON envelopes (to_area, cursor);
        """
    )


def _m002_area_activity(db: sqlite_utils.Database) -> None:
    # Per-area, per-day publication counters (quotas and probing flags).
    run_script(db, 
        """
        CREATE TABLE activity (
            area TEXT NOT NULL, day TEXT NOT NULL,
            records INTEGER NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0,
            withdrawn INTEGER NOT NULL DEFAULT 0, matches INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (area, day)
        ) WITHOUT ROWID;
        """
    )


def _m003_token_index(db: sqlite_utils.Database) -> None:
    # The token index keyed by the token's first 8 bytes as a signed 64-bit
    # integer, in two tables: ``tokens`` (large, merged in sorted runs) and
    # ``tokens_staged`` (new tokens). matcher/_index.py explains both. The
    # full 16-byte values stay in records.packed, which scoring compares, so
    # a prefix collision (odds ~2**-64 per pair) can only add a candidate.
    # Rebuilt from records.packed, the source of truth.
    from fedalert.matcher._index import key_of
    from fedalert.matcher._tokens import unpack_v1 as unpack  # the stored form of that time

    run_script(db,
        """
        DROP TABLE tokens;
        CREATE TABLE tokens (
            key INTEGER NOT NULL,
            record_id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            PRIMARY KEY (key, record_id)
        ) WITHOUT ROWID;
        CREATE TABLE tokens_staged (
            key INTEGER NOT NULL,
            record_id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            PRIMARY KEY (key, record_id)
        ) WITHOUT ROWID;
        """
    )
    rows = []
    for rid, packed in db.execute("SELECT id, packed FROM records"):
        rows.extend((key_of(v), rid, kid) for kid, v in unpack(packed))
    rows.sort()
    db.conn.executemany("INSERT OR IGNORE INTO tokens (key, record_id, kind) VALUES (?,?,?)", rows)


def _m004_index_without_kind(db: sqlite_utils.Database) -> None:
    # The index rows lose their kind column: the kind is bound into the token's
    # MAC, so (key, record id) is enough to propose candidates, and scoring
    # compares the (kind, value) pairs in records.packed. Rows of covered kinds
    # (matcher/_index.py, COVERED_KINDS) are dropped: the index no longer holds
    # them. Copied in SQL, in key order, so a large index migrates without
    # passing through Python.
    # The covered kinds of this version, written out: a later change to
    # _index.COVERED_KINDS needs its own migration.
    names = ["edit_dob", "edit_forename", "edit_surname"]
    covered = ",".join("?" * len(names))
    for table in ("tokens", "tokens_staged"):
        run_script(db,
            f"""
            CREATE TABLE {table}_new (
                key INTEGER NOT NULL,
                record_id INTEGER NOT NULL,
                PRIMARY KEY (key, record_id)
            ) WITHOUT ROWID;
            """
        )
        db.execute(f"INSERT OR IGNORE INTO {table}_new (key, record_id) SELECT key, record_id FROM {table}"
                   f" WHERE kind NOT IN (SELECT id FROM kinds WHERE name IN ({covered})) ORDER BY key, record_id",
                   names)
        run_script(db, f"DROP TABLE {table};\nALTER TABLE {table}_new RENAME TO {table};\n")


def _m005_packed_runs(db: sqlite_utils.Database) -> None:
    # records.packed changes form: from one 18-byte entry per token (2-byte kind
    # id + value, sorted) to a header of (kind id, count) runs and the values
    # (matcher/_tokens.py, pack_runs), runs in kind-name order as nodes send
    # them, so the matcher stores what arrives without rebuilding it per
    # token. The kinds column goes: the header names the kinds. Converted in
    # slices of 5,000 records.
    from fedalert.matcher._tokens import pack_runs, unpack_v1

    names = {kid: name for kid, name in db.execute("SELECT id, name FROM kinds")}
    last = 0
    while True:
        rows = db.execute("SELECT id, packed FROM records WHERE id > ? ORDER BY id LIMIT 5000", [last]).fetchall()
        if not rows:
            break
        updates = []
        for rid, packed in rows:
            by_kind: dict[int, list[bytes]] = {}
            for kid, value in unpack_v1(packed):
                by_kind.setdefault(kid, []).append(value)
            kids = sorted(by_kind, key=lambda k: names.get(k, ""))
            updates.append((pack_runs(kids, [len(by_kind[k]) for k in kids],
                                      b"".join(b"".join(sorted(by_kind[k])) for k in kids)), rid))
        db.conn.executemany("UPDATE records SET packed = ? WHERE id = ?", updates)
        last = rows[-1][0]
    db.execute("ALTER TABLE records DROP COLUMN kinds")


#: The core tables, in order.
MIGRATIONS: list[Migration] = [
    ("001_initial", _m001_initial),
    ("002_area_activity", _m002_area_activity),
    ("003_token_index", _m003_token_index),
    ("004_index_without_kind", _m004_index_without_kind),
    ("005_packed_runs", _m005_packed_runs),
]


# -- token key ids (fedalert.matcher.keyids) ------------------------------
def _m_key_ids(db) -> None:
    run_script(db, """
        CREATE TABLE key_ids (
            key_id TEXT PRIMARY KEY,
            first_seen_ms INTEGER NOT NULL,
            retired_ms INTEGER,
            retired_records INTEGER,
            retired_withdrawn INTEGER,
            forced INTEGER
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO key_ids (key_id, first_seen_ms)
            SELECT key_id, min(updated_ms) FROM records GROUP BY key_id;
        """)


KEYIDS_MIGRATIONS = [("keyids_001_key_ids", _m_key_ids)]


# -- keyset relay (fedalert.matcher.keyrelay) ----------------------------
def _m_keyset_relay(db) -> None:
    run_script(db, """
        CREATE TABLE keyset_relay (
            area TEXT NOT NULL,
            serial INTEGER NOT NULL,
            key_id TEXT NOT NULL,
            sealed BLOB NOT NULL,          -- emptied once the area acknowledged it
            created_ms INTEGER NOT NULL,
            acked_ms INTEGER,
            PRIMARY KEY (area, serial)
        ) WITHOUT ROWID;
        """)


KEYRELAY_MIGRATIONS = [("keyrelay_001_keyset_relay", _m_keyset_relay)]


#: Every migration of the matcher's store, in the order they are applied.
ALL_MIGRATIONS: list[Migration] = [*MIGRATIONS, *KEYIDS_MIGRATIONS, *KEYRELAY_MIGRATIONS]
