"""The matcher's SQLite store: token index, record kinds, matches, queues.

It holds tokens (opaque 16-byte values), key kinds, key ids, area ids and
random record handles. It never holds a name, a date or an identifier.

Layout notes (see docs/ARCHITECTURE.md, "Matcher storage"):
- ``tokens`` and ``tokens_staged`` are WITHOUT ROWID tables keyed by
  (key, record_id), key being the token's first 8 bytes as an integer: the
  table is its own index; no second index (matcher/_index.py).
- ``records`` keeps, per (area, handle, key_id), the packed token set (a
  header of (kind id, count) runs, then the values; matcher/_tokens.py), so
  that a replace deletes exactly the old tokens and a pair can be re-scored
  from the two packed sets alone.
"""

from __future__ import annotations

import sqlite_utils

from fedalert.migrations import Migration, migrate, open_db, run_script


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


MIGRATIONS: list[Migration] = [
    ("001_initial", _m001_initial),
    ("002_area_activity", _m002_area_activity),
    ("003_token_index", _m003_token_index),
    ("004_index_without_kind", _m004_index_without_kind),
    ("005_packed_runs", _m005_packed_runs),
]

#: SQLite page cache of the matcher's connection (KiB). Fixed, so memory
#: stays flat however large the index grows; big enough to hold the staged
#: tokens and the upper levels of the main index.
CACHE_KIB = 64 * 1024
#: WAL pages before an automatic checkpoint (SQLite's default is 1,000, 4 MiB).
#: A publish batch dirties most pages of the staged token table (random keys),
#: so with the default every commit was followed by a checkpoint copying those
#: pages back; checkpointing every 64 MiB copies a page rewritten by several
#: batches once. Measured on the 2 x 10,000-record job: COMMIT 5.4 s -> 2.7 s.
WAL_CHECKPOINT_PAGES = 16 * 1024
#: The WAL file is cut back to this after a checkpoint (a merge can grow it far beyond).
WAL_LIMIT_BYTES = 64 * 1024 * 1024


def open_store(path) -> sqlite_utils.Database:
    db = open_db(path)
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    migrate(db, MIGRATIONS)
    return db
