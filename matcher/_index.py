"""The token index: token key -> (record id, kind), kept on disk in two tables.

Keys. A row is keyed by the token's first 8 bytes read as a signed 64-bit
integer (:func:`key_of`), not by the 16-byte blob: SQLite compares and
stores integers faster (measured here: insert 4.8 vs 8.2 us, lookup 2.5 vs
5.3 us per token) and the index is smaller. The full value stays in
``records.packed`` and every verdict compares full values, so two different
tokens sharing a prefix (odds about 2**-64 per pair) can only add a
candidate that then scores as what it is.

Two tables. Token values are random, so an insert lands on a random page of
a B-tree keyed by them. Once the index outgrows SQLite's page cache, every
insert in a publish batch dirties a different page and each commit writes
all of them to the WAL (and the checkpoint writes them again). So new
tokens go to a small ``tokens_staged`` table that stays in the page cache,
and when it holds STAGED_MAX rows they are merged into the large ``tokens``
table in one sorted pass, which touches each page of ``tokens`` at most once
(a two-level log-structured merge). Lookups and deletes read both tables.
Memory stays bounded: SQLite's page cache is capped (store.CACHE_KIB) and
the index lives in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: Staged rows that trigger a merge into the main table (~25 MB of pages).
STAGED_MAX = 1_000_000
_TABLES = ("tokens", "tokens_staged")
IN_CHUNK = 500


def key_of(value: bytes) -> int:
    """The index key of a token value: its first 8 bytes as a signed 64-bit integer."""
    return int.from_bytes(value[:8], "big", signed=True)


class TokenIndex:
    """Token index over the store's ``tokens`` and ``tokens_staged`` tables.

    Every method runs inside the caller's transaction; the caller holds the
    engine lock.
    """

    def __init__(self, db, staged_max: int = STAGED_MAX):
        self.db = db
        self.staged_max = staged_max
        self.staged = db.execute("SELECT count(*) FROM tokens_staged").fetchone()[0]
        # A publish batch's new rows, per connection, in memory: looked up against
        # the index and then moved into tokens_staged in SQL, not row by row in Python.
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS batch_rows"
                   " (key INTEGER NOT NULL, record_id INTEGER NOT NULL, kind INTEGER NOT NULL)")

    def add_batch(self, rows, not_area: str) -> list[tuple[int, str, str]]:
        """Insert a batch's (key, record id, kind id) rows; return its candidates.

        Candidates are (batch record id, area, handle) of every record outside
        `not_area` that holds one of the batch's keys under the same kind and
        the same key id, each pair once. They are found before the rows go in
        (so a batch never finds itself), by joining the batch's rows with both
        index tables in SQL.
        """
        conn = self.db.conn
        conn.execute("DELETE FROM temp.batch_rows")
        conn.executemany("INSERT INTO temp.batch_rows (key, record_id, kind) VALUES (?,?,?)", rows)
        found = []
        for table in _TABLES:
            found.extend(conn.execute(
                f"SELECT DISTINCT b.record_id, r.area, r.handle FROM temp.batch_rows b"
                f" JOIN {table} t ON t.key = b.key AND t.kind = b.kind"
                f" JOIN records r ON r.id = t.record_id"
                f" JOIN records m ON m.id = b.record_id"
                f" WHERE r.area != ? AND r.key_id = m.key_id", [not_area]))
        n = conn.execute("INSERT OR IGNORE INTO tokens_staged (key, record_id, kind)"
                         " SELECT key, record_id, kind FROM temp.batch_rows ORDER BY key, record_id").rowcount
        conn.execute("DELETE FROM temp.batch_rows")
        self.staged += max(n, 0)
        return found

    def add(self, rows: list[tuple[int, int, int]]) -> None:
        """Insert (key, record id, kind id) rows; key = key_of(value)."""
        self.db.conn.executemany("INSERT OR IGNORE INTO tokens_staged (key, record_id, kind) VALUES (?,?,?)", rows)
        self.staged += len(rows)

    def remove(self, pairs: list[tuple[bytes, int]]) -> None:
        """Delete (value, record id) pairs wherever they are."""
        keyed = [(key_of(v), rid) for v, rid in pairs]
        for table in _TABLES:
            self.db.conn.executemany(f"DELETE FROM {table} WHERE key=? AND record_id=?", keyed)

    def lookup(self, keys: Iterable[int], not_area: str) -> Iterator[tuple[int, int, str, str, str]]:
        """(key, kind id, key id, area, handle) of every record outside `not_area` holding a key."""
        keys = list(keys)
        for i in range(0, len(keys), IN_CHUNK):
            chunk = keys[i:i + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for table in _TABLES:
                yield from self.db.execute(
                    f"SELECT t.key, t.kind, r.key_id, r.area, r.handle FROM {table} t"
                    f" JOIN records r ON r.id = t.record_id WHERE t.key IN ({marks}) AND r.area != ?",
                    [*chunk, not_area])

    def record_ids(self, keys: list[int]) -> Iterator[tuple[int, int, int]]:
        """(key, record id, kind id) rows holding any of `keys`."""
        for i in range(0, len(keys), IN_CHUNK):
            chunk = keys[i:i + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for table in _TABLES:
                yield from self.db.execute(f"SELECT key, record_id, kind FROM {table} WHERE key IN ({marks})", chunk)

    def needs_merge(self) -> bool:
        return self.staged >= self.staged_max

    def merge(self) -> int:
        """Move every staged row into the main table in key order; return how many."""
        n = self.db.execute("SELECT count(*) FROM tokens_staged").fetchone()[0]
        self.db.execute("INSERT OR IGNORE INTO tokens (key, record_id, kind)"
                        " SELECT key, record_id, kind FROM tokens_staged ORDER BY key, record_id")
        self.db.execute("DELETE FROM tokens_staged")
        self.staged = 0
        return n

    def count(self) -> int:
        return sum(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES)
