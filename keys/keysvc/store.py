"""The key service's state (SQLite): batch ids seen, and evaluations per area and UTC day.

Holds no input, no blinded or evaluated element and no key: a batch is
remembered by its area, id, key id, element count and a SHA-256 digest of
(key id, blinded elements), so that a retry with the same content is
recognised (and not counted twice) and a reused id with other content is
refused. Batch ids are forgotten after ``BATCH_RETENTION_DAYS``; counts stay
for the report.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fedalert.migrations import migrate, open_db, run_script

BATCH_RETENTION_DAYS = 7
#: Columns of ``usage`` that count something per area and day.
COUNTERS = ("evaluations", "batches", "duplicates", "refused_rate", "refused_quota", "invalid")


def _m001(db) -> None:
    run_script(db, """
CREATE TABLE batches (
  area TEXT NOT NULL, batch_id TEXT NOT NULL, key_id TEXT NOT NULL, digest BLOB NOT NULL,
  count INTEGER NOT NULL, day TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (area, batch_id)) WITHOUT ROWID;
CREATE INDEX batches_created ON batches (created_ms);
CREATE TABLE usage (
  area TEXT NOT NULL, day TEXT NOT NULL,
  evaluations INTEGER NOT NULL DEFAULT 0, batches INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0, refused_rate INTEGER NOT NULL DEFAULT 0,
  refused_quota INTEGER NOT NULL DEFAULT 0, invalid INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (area, day)) WITHOUT ROWID;
""")


MIGRATIONS = [("001_batches_and_usage", _m001)]


def day_of(now_s: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now_s))


@dataclass(frozen=True)
class SeenBatch:
    key_id: str
    digest: bytes
    count: int


class KeysvcStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = open_db(self.path)
        migrate(self.db, MIGRATIONS)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    def find_batch(self, area: str, batch_id: str) -> SeenBatch | None:
        with self._lock:
            row = self.db.execute("SELECT key_id, digest, count FROM batches WHERE area=? AND batch_id=?",
                                  [area, batch_id]).fetchone()
        return SeenBatch(row[0], bytes(row[1]), row[2]) if row else None

    def evaluations_on(self, area: str, day: str) -> int:
        with self._lock:
            row = self.db.execute("SELECT evaluations FROM usage WHERE area=? AND day=?", [area, day]).fetchone()
        return row[0] if row else 0

    def record_batch(self, area: str, batch_id: str, key_id: str, digest: bytes, count: int, now_s: float) -> None:
        """Remember a new batch and count its evaluations, in one transaction."""
        day = day_of(now_s)
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [area, batch_id, key_id, digest, count, day, int(now_s * 1000)])
                self._bump(area, day, evaluations=count, batches=1)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def count(self, area: str, now_s: float, what: str, n: int = 1) -> None:
        """Add to one counter (duplicates, refused_rate, refused_quota, invalid)."""
        if what not in COUNTERS:
            raise ValueError(what)
        with self._lock:
            self._bump(area, day_of(now_s), **{what: n})

    def _bump(self, area: str, day: str, **add: int) -> None:
        cols = list(add)
        self.db.execute(
            f"INSERT INTO usage (area, day, {', '.join(cols)}) VALUES (?, ?, {', '.join('?' for _ in cols)}) "
            f"ON CONFLICT (area, day) DO UPDATE SET {', '.join(f'{c} = {c} + excluded.{c}' for c in cols)}",
            [area, day, *add.values()])

    def usage(self) -> dict[str, dict[str, dict[str, int]]]:
        """area -> day -> counters."""
        with self._lock:
            rows = self.db.execute(f"SELECT area, day, {', '.join(COUNTERS)} FROM usage ORDER BY area, day").fetchall()
        out: dict[str, dict[str, dict[str, int]]] = {}
        for row in rows:
            out.setdefault(row[0], {})[row[1]] = dict(zip(COUNTERS, row[2:]))
        return out

    def prune(self, now_s: float, days: int = BATCH_RETENTION_DAYS) -> int:
        with self._lock:
            cur = self.db.execute("DELETE FROM batches WHERE created_ms < ?", [int((now_s - days * 86400) * 1000)])
        return cur.rowcount

