"""Named, transactional schema migrations for the SQLite stores.

Each store declares an ordered list of ``(name, function)``. :func:`migrate`
applies, in one transaction each, those not yet recorded in the
``_migrations`` table. A failed migration rolls back and leaves the recorded
state as it was.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlite_utils

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open a SQLite file for a long-running service: WAL, busy timeout, FKs."""
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return sqlite_utils.Database(conn)


def run_script(db: sqlite_utils.Database, sql: str) -> None:
    """Run several statements inside the caller's transaction.

    (sqlite3's executescript() would COMMIT first, breaking atomic migrations.)
    """
    stmt = ""
    for line in sql.splitlines(keepends=True):
        stmt += line
        if sqlite3.complete_statement(stmt):
            db.execute(stmt)
            stmt = ""
    if stmt.strip():
        raise ValueError("incomplete SQL statement at the end of a migration script")


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration]) -> list[str]:
    """Apply pending migrations in order; return the names applied now."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for name, fn in migrations:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, _dt.datetime.now(_dt.timezone.utc).isoformat()],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()]


def backup(src: str | Path, dst: str | Path) -> None:
    """Online, consistent copy of a live SQLite file (WAL included) to `dst`."""
    dst = Path(dst)
    if dst.exists():
        raise FileExistsError(f"{dst} exists; choose a new backup file name")
    source = sqlite3.connect(f"file:{Path(src)}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(str(dst))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
