"""The token index: value -> (record id, kind), kept on disk in two tables.

A token value is a random 16-byte string, so inserting one lands on a random
page of a B-tree keyed by value. Once the index outgrows SQLite's page cache,
every insert in a publish batch dirties a different page, and each commit
writes all of them to the WAL (and the checkpoint writes them again): at
millions of tokens a 25,000-token batch costs ~100 MB of writes.

So new tokens go to a small ``tokens_staged`` table that stays in the page
cache, and when it holds STAGED_MAX rows they are merged into the large
``tokens`` table in one sorted pass, which touches each page of ``tokens``
at most once (a log-structured merge with two levels). Lookups and deletes
read both tables. Memory stays bounded: SQLite's cache is capped
(store.CACHE_KIB) and the index lives in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: Staged rows that trigger a merge into the main table (~30 MB of pages).
STAGED_MAX = 1_000_000
_TABLES = ("tokens", "tokens_staged")
IN_CHUNK = 500


class TokenIndex:
    """Token index over the store's ``tokens`` and ``tokens_staged`` tables.

    Every method runs inside the caller's transaction; the caller holds the
    engine lock.
    """

    def __init__(self, db, staged_max: int = STAGED_MAX):
        self.db = db
        self.staged_max = staged_max
        self.staged = db.execute("SELECT count(*) FROM tokens_staged").fetchone()[0]

    def add(self, rows: list[tuple[bytes, int, int]]) -> None:
        """Insert (value, record id, kind id) rows (sorted by the caller, or not)."""
        self.db.conn.executemany("INSERT OR IGNORE INTO tokens_staged (value, record_id, kind) VALUES (?,?,?)",
                                 rows)
        self.staged += len(rows)

    def remove(self, pairs: list[tuple[bytes, int]]) -> None:
        """Delete (value, record id) pairs wherever they are."""
        for table in _TABLES:
            self.db.conn.executemany(f"DELETE FROM {table} WHERE value=? AND record_id=?", pairs)

    def lookup(self, values: Iterable[bytes], not_area: str) -> Iterator[tuple[bytes, int, str, str, str]]:
        """(value, kind id, key id, area, handle) of every record outside `not_area` holding a value."""
        values = list(values)
        for i in range(0, len(values), IN_CHUNK):
            chunk = values[i:i + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for table in _TABLES:
                yield from self.db.execute(
                    f"SELECT t.value, t.kind, r.key_id, r.area, r.handle FROM {table} t"
                    f" JOIN records r ON r.id = t.record_id WHERE t.value IN ({marks}) AND r.area != ?",
                    [*chunk, not_area])

    def record_ids(self, values: list[bytes]) -> Iterator[tuple[bytes, int, int]]:
        """(value, record id, kind id) rows holding any of `values`."""
        for i in range(0, len(values), IN_CHUNK):
            chunk = values[i:i + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for table in _TABLES:
                yield from self.db.execute(
                    f"SELECT value, record_id, kind FROM {table} WHERE value IN ({marks})", chunk)

    def needs_merge(self) -> bool:
        return self.staged >= self.staged_max

    def merge(self) -> int:
        """Move every staged row into the main table in key order; return how many."""
        n = self.db.execute("SELECT count(*) FROM tokens_staged").fetchone()[0]
        self.db.execute("INSERT OR IGNORE INTO tokens (value, record_id, kind)"
                        " SELECT value, record_id, kind FROM tokens_staged ORDER BY value, record_id")
        self.db.execute("DELETE FROM tokens_staged")
        self.staged = 0
        return n

    def count(self) -> int:
        return sum(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES)
