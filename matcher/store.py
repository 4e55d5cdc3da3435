"""The matcher's store: one object owns its SQLite file, its write lock, its
migrations and every SQL statement the matcher runs.

It holds tokens (opaque 16-byte values), key kinds, key ids, area ids and
random record handles. It never holds a name, a date or an identifier.

:class:`MatcherStore` is the only way the matcher reads or writes its state:
the engine, the queues, key ids, the keyset relay, quotas, probing and the
operator commands call its methods, named for what they do
(``replace_batch``, ``live_counterparts``, ``push_alert``...), and none of
them holds a connection or writes SQL. The methods take and return plain
Python values (str, int, bytes, tuples, the row dataclasses), so a store over
another database could stand in its place. The SQL sits in private mixins,
one per concern: ``_sql_records`` (records, kinds, the token index of
``_index``), ``_sql_matches`` (matches, activity), ``_sql_queues`` (alerts,
envelopes, keysets), ``_sql_keys`` (key ids); the schema and its migrations
are in ``_schema``. A new concern (the matcher's estimated model, say) is one
more migration list and one more mixin.

Transactions. ``with store.write() as tx:`` holds the store's lock and one
SQLite ``BEGIN IMMEDIATE`` transaction; it commits on leaving the block and
rolls back on an exception. Every change of a publish, withdrawal or
retirement, and the alerts it causes, is written inside one such block, so an
alert is durable before the call that caused it returns. ``tx.after_commit``
queues work (audit entries) that runs after the commit, in order, still under
the lock, and never if the transaction rolled back. Methods documented "in a
write transaction" must run inside such a block; the other methods take the
lock themselves (a single statement commits on its own).

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

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from fedalert.matcher._index import STAGED_MAX
from fedalert.matcher._schema import ALL_MIGRATIONS, MIGRATIONS  # noqa: F401 - MIGRATIONS: tests build old stores
from fedalert.matcher._sql_keys import KeyIdsSQL
from fedalert.matcher._sql_matches import MatchesSQL
from fedalert.matcher._sql_queues import AlertRow, EnvelopeRow, QueuesSQL
from fedalert.matcher._sql_records import RecordsSQL
from fedalert.migrations import migrate, open_db

__all__ = ["AlertRow", "EnvelopeRow", "MatcherStore", "Transaction"]

log = logging.getLogger(__name__)

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


class Transaction:
    """An open write transaction (see the module doc)."""

    __slots__ = ("_after",)

    def __init__(self) -> None:
        self._after: list[Callable[[], object]] = []

    def after_commit(self, fn: Callable[[], object]) -> None:
        """Run `fn` once this transaction has committed (in order; never on rollback)."""
        self._after.append(fn)


class MatcherStore(RecordsSQL, MatchesSQL, QueuesSQL, KeyIdsSQL):
    """The matcher's state in one SQLite file. Thread-safe: one writer at a time.

    Opening applies every pending migration. ``db`` is the SQLite connection
    (sqlite_utils), for this class's mixins and for tests of the SQLite layout
    only: no other matcher module touches it.
    """

    def __init__(self, path: str | Path, *, staged_max: int = STAGED_MAX):
        self.path = Path(path)
        self.db = open_db(self.path)
        self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        migrate(self.db, ALL_MIGRATIONS)
        self.lock = threading.RLock()
        self._tx: Transaction | None = None
        self._open_records(staged_max)

    @contextlib.contextmanager
    def write(self) -> Iterator[Transaction]:
        """One write transaction under the store's lock (see the module doc)."""
        with self.lock:
            if self._tx is not None:
                raise RuntimeError("a write transaction is already open on this store")
            self.db.execute("BEGIN IMMEDIATE")
            tx = self._tx = Transaction()
            try:
                yield tx
            except BaseException:
                self._tx = None
                self.db.execute("ROLLBACK")
                raise
            self._tx = None
            self.db.execute("COMMIT")
            for fn in tx._after:
                fn()

    def close(self, *, checkpoint: bool = True) -> None:
        """Close the file; with `checkpoint`, first fold the WAL back into it (a clean shutdown)."""
        with self.lock:
            if checkpoint:
                try:  # leave no WAL behind (it may hold up to WAL_LIMIT_BYTES between checkpoints)
                    self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint at shutdown failed (%s); SQLite replays the WAL on next open",
                                type(exc).__name__)
            self.db.conn.close()
