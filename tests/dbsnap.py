"""Snapshot of a SQLite file's whole content, read through a second connection.

Used to prove that a refused call changed nothing: compare the snapshot
before and after. Reads committed state only (WAL included).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def db_snapshot(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        h = hashlib.sha256()
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for t in tables:
            h.update(f"\x00table {t}\x00".encode())
            n = len(conn.execute(f'PRAGMA table_info("{t}")').fetchall())
            order = ", ".join(str(i) for i in range(1, n + 1))
            for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY {order}'):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()
