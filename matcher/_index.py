"""The token index: token key -> record id, kept on disk in two tables.

Keys. A row is keyed by the token's first 8 bytes read as a signed 64-bit
integer (:func:`key_of`), not by the 16-byte blob: SQLite compares and
stores integers faster (measured here: insert 4.8 vs 8.2 us, lookup 2.5 vs
5.3 us per token) and the index is smaller. The full value stays in
``records.packed`` and every verdict compares full (kind, value) pairs, so
two different tokens sharing a prefix (odds about 2**-64 per pair) can only
add a candidate that then scores as what it is.

No kind column. The kind is bound into the MAC input (node/tokens.py), so
two equal values are the same kind; a row needs only (key, record id). A
node that labelled a value with the wrong kind gains nothing: the index only
proposes candidates, and scoring compares (kind, value) pairs.

Covered kinds. Some kinds need no rows at all: a shared token of such a
kind always comes with a shared token of another kind, so the pair is found
through that one and scored on every token as before (see COVERED_KINDS).
They are about half of all tokens (the deletion and digit neighbourhoods
of the full name and DOB), so leaving them out halves the index.

Rows go in and come out as one JSON array of keys per record, expanded by
SQLite's ``json_each``: the matcher makes no Python object per token and
SQLite binds one row per record, not one per token (measured on the
2 x 10,000-record job: 4.5 s of the matcher's 14.5 s CPU went on building
and binding per-token rows).

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

from collections.abc import Iterable

#: Staged rows that trigger a merge into the main table (~25 MB of pages).
STAGED_MAX = 1_000_000
_TABLES = ("tokens", "tokens_staged")

#: Kinds the index leaves out -> the kind that covers each. Two records that
#: share a token of the first always share a token of the second, because
#: node/matchkeys.py builds both from the same fields of the same name and
#: date: ``edit_forename`` (forename within one edit + surname + DOB) comes
#: with ``surname_dob`` (the same surname + DOB), ``edit_surname`` with
#: ``forename_dob``, ``edit_dob`` (names + DOB within one digit) with
#: ``full_name`` (the same names). So every pair that shares any token still
#: becomes a candidate, and its verdict, which compares every (kind, value)
#: pair in records.packed, is unchanged. tests/test_covered_kinds.py checks
#: the implication on the key builder and the unchanged matches end to end.
COVERED_KINDS = {"edit_forename": "surname_dob", "edit_surname": "forename_dob", "edit_dob": "full_name"}


def key_of(value: bytes) -> int:
    """The index key of a token value: its first 8 bytes as a signed 64-bit integer."""
    return int.from_bytes(value[:8], "big", signed=True)


#: The candidate lookup over one index table (see TokenIndex._found).
FOUND_SQL = ("SELECT DISTINCT b.record_id, r.area, r.handle FROM temp.batch_rows b"
             " CROSS JOIN {table} t ON t.key = b.key"
             " CROSS JOIN records r ON r.id = t.record_id"
             " CROSS JOIN records m ON m.id = b.record_id"
             " WHERE r.area != ? AND r.key_id = m.key_id")


def keys_json(keys: Iterable[int]) -> str:
    """A record's index keys as the JSON array the index statements expand."""
    return "[" + ",".join(map(str, keys)) + "]"


class TokenIndex:
    """Token index over the store's ``tokens`` and ``tokens_staged`` tables.

    Records come as (record id, keys) pairs, keys being :func:`keys_json` of
    the record's index keys. Every method runs inside the caller's
    transaction; the caller holds the engine lock.
    """

    def __init__(self, db, staged_max: int = STAGED_MAX):
        self.db = db
        self.staged_max = staged_max
        self.staged = db.execute("SELECT count(*) FROM tokens_staged").fetchone()[0]
        # The rows being added or looked up, per connection, in memory: joined with
        # the index and then moved into tokens_staged in SQL, not row by row in Python.
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS batch_rows (key INTEGER NOT NULL, record_id INTEGER NOT NULL)")

    def _load(self, records: list[tuple[int, str]]) -> None:
        conn = self.db.conn
        conn.execute("DELETE FROM temp.batch_rows")
        conn.executemany("INSERT INTO temp.batch_rows (key, record_id) SELECT value, ? FROM json_each(?)", records)

    def _found(self, not_area: str) -> list[tuple[int, str, str]]:
        """(loaded record id, area, handle) of every record outside `not_area`, under the
        same key id, holding one of the loaded rows' keys; each pair once."""
        # CROSS JOIN fixes the loop order: each batch row probes the index by key, and only a
        # hit reads `records`. (Left to itself the planner may read `records` for every batch
        # row first, or even scan the index and probe the batch.)
        found = []
        for table in _TABLES:
            found.extend(self.db.conn.execute(FOUND_SQL.format(table=table), [not_area]))
        return found

    def add_batch(self, records: list[tuple[int, str]], not_area: str) -> list[tuple[int, str, str]]:
        """Index a batch of records; return their candidates.

        Candidates are (batch record id, area, handle) of every record outside
        `not_area` that holds one of the batch's keys under the same key id,
        each pair once. They are found before the rows go in (so a batch never
        finds itself), by joining the batch's rows with both index tables.
        """
        self._load(records)
        found = self._found(not_area)
        n = self.db.conn.execute("INSERT OR IGNORE INTO tokens_staged (key, record_id)"
                                 " SELECT key, record_id FROM temp.batch_rows ORDER BY key, record_id").rowcount
        self.db.conn.execute("DELETE FROM temp.batch_rows")
        self.staged += max(n, 0)
        return found

    def candidates(self, records: list[tuple[int, str]], not_area: str) -> list[tuple[int, str, str]]:
        """The candidates :meth:`add_batch` would return for records already indexed."""
        self._load(records)
        found = self._found(not_area)
        self.db.conn.execute("DELETE FROM temp.batch_rows")
        return found

    def remove(self, records: list[tuple[int, str]]) -> None:
        """Delete each record's rows for the given keys, wherever they are."""
        for table in _TABLES:
            self.db.conn.executemany(
                f"DELETE FROM {table} WHERE record_id = ? AND key IN (SELECT value FROM json_each(?))", records)

    def needs_merge(self) -> bool:
        return self.staged >= self.staged_max

    def merge(self) -> int:
        """Move every staged row into the main table in key order; return how many."""
        n = self.db.execute("SELECT count(*) FROM tokens_staged").fetchone()[0]
        self.db.execute("INSERT OR IGNORE INTO tokens (key, record_id)"
                        " SELECT key, record_id FROM tokens_staged ORDER BY key, record_id")
        self.db.execute("DELETE FROM tokens_staged")
        self.staged = 0
        return n

    def count(self) -> int:
        return sum(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES)
