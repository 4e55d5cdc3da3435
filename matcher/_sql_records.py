"""The store's records, key kinds and token index (part of MatcherStore).

A record is one (area, handle, key id) with its packed token set
(matcher/_tokens.py); kinds are stored as 2-byte ids, named in the ``kinds``
table; the token index (matcher/_index.py) maps each token's key to the
records holding it. This mixin decides which tokens get index rows (the
covered kinds get none, see ``_index.COVERED_KINDS``), in one place for
adding, deleting and looking up alike.

Methods marked "in a write transaction" run inside the caller's
``store.write()`` (the readers among them see that transaction's own
changes, as rescoring needs); the others take the store's lock themselves.
"""

from __future__ import annotations

import json
from collections import defaultdict

from fedalert.matcher import _index
from fedalert.matcher._index import TokenIndex, keys_json
from fedalert.matcher._tokens import RecordIn, pack_runs, packed_keys, stored_kind_ids, unpack
from fedalert.matcher.errors import InvalidRequestError

#: Distinct key kind names the matcher accepts over its life (the stored form holds 2-byte kind ids).
MAX_KINDS = 1024

#: A record's token sets per key id: key id -> (kind names it published, its (kind id, value) pairs).
RecordTokens = dict[str, tuple[set[str], set[tuple[int, bytes]]]]


class RecordsSQL:
    """Records, kinds and the token index. Needs ``self.db`` and ``self.lock`` (MatcherStore)."""

    index: TokenIndex

    def _open_records(self, staged_max: int) -> None:
        self.index = TokenIndex(self.db, staged_max)
        self._kind_ids: dict[str, int] = {r[1]: r[0] for r in self.db.execute("SELECT id, name FROM kinds")}
        self._kind_names: dict[int, str] = {v: k for k, v in self._kind_ids.items()}
        self._unindexed: frozenset[int] = frozenset()  # ids of COVERED_KINDS (no index rows)
        self._refresh_unindexed()

    # -- kinds ---------------------------------------------------------------
    @property
    def kind_names(self) -> dict[int, str]:
        """Kind id -> kind name, for every kind this store has met (read-only for callers)."""
        return self._kind_names

    def _kind_id(self, name: str) -> int:
        kid = self._kind_ids.get(name)
        if kid is None:  # new to this store object; another process on the file may have added it already
            row = self.db.execute("SELECT id FROM kinds WHERE name = ?", [name]).fetchone()
            if row is None:
                known = self.db.execute("SELECT count(*) FROM kinds").fetchone()[0]
                if known >= MAX_KINDS:
                    # Kind ids are 2 bytes in the stored form; fedalert builds 26 kinds. A node
                    # inventing kind names would otherwise grow this table without bound.
                    raise InvalidRequestError(f"the matcher already knows {known} key kinds, its limit; "
                                              f"a record of a new kind is refused")
                self.db.execute("INSERT INTO kinds (name) VALUES (?)", [name])
                row = self.db.execute("SELECT id FROM kinds WHERE name = ?", [name]).fetchone()
            kid = row[0]
            self._kind_ids[name] = kid
            self._kind_names[kid] = name
            self._refresh_unindexed()
        return kid

    def reload_kinds(self) -> None:
        """Read kinds another process (a second store on the file) added."""
        for kid, name in self.db.execute("SELECT id, name FROM kinds"):
            self._kind_ids[name], self._kind_names[kid] = kid, name
        self._refresh_unindexed()

    def _refresh_unindexed(self) -> None:
        covered = _index.COVERED_KINDS
        self._unindexed = frozenset(kid for name, kid in self._kind_ids.items() if name in covered)

    def _index_keys(self, packed: bytes) -> str:
        """The index keys of a stored record (packed form), covered kinds left out, as JSON: the one
        place that decides which tokens get index rows, for adding, deleting and looking up alike."""
        return keys_json(packed_keys(packed, self._unindexed))

    # -- records -------------------------------------------------------------
    def replace_batch(self, area: str, records: list[RecordIn], now: int
                      ) -> tuple[list[tuple[str, str]], dict[str, set[tuple[str, str]]]]:
        """Store a batch's new token sets with set-at-a-time SQL (in a write transaction).

        Returns the changed records as (handle, key id) and, per changed
        handle, the other-area records sharing a token with it. Each record's
        tokens arrive as they came off the wire (kinds, counts, values) and are
        stored nearly so (_tokens.pack_runs: a header of kind ids and counts,
        then the values); a record's index keys (covered kinds left out, see
        _index.COVERED_KINDS) are read from the values with one struct.unpack
        and go to SQLite as one JSON array, and the candidate lookup and the
        insert run in SQL over the whole batch (_index.py), so no Python loop
        runs per token here.
        """
        changed: list[RecordIn] = []
        deletes: list[tuple[int, str]] = []
        rows: list[tuple[int, str]] = []
        handle_of: dict[int, str] = {}
        kind_ids = self._kind_ids
        stored = {(h, k): (rid, packed) for h, k, rid, packed in self.db.execute(
            "SELECT handle, key_id, id, packed FROM records WHERE area=? AND handle IN (SELECT value FROM json_each(?))",
            [area, json.dumps([rec.handle for rec in records])])}
        # New rows get their ids here (the caller's BEGIN IMMEDIATE shuts out every other writer), so
        # that the index rows can name them before one executemany inserts them all.
        next_id = self.db.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0]
        inserts, updates = [], []
        for rec in records:
            kinds, counts, values = rec.runs
            if not kind_ids.keys() >= set(kinds):
                for k in set(kinds) - kind_ids.keys():
                    self._kind_id(k)
            new = pack_runs([kind_ids[k] for k in kinds], counts, values)
            row = stored.get((rec.handle, rec.key_id))
            if row and row[1] == new:
                continue
            if row:
                rid = row[0]
                deletes.append((rid, self._index_keys(row[1])))
                updates.append((new, now, rid))
            else:
                next_id += 1
                rid = next_id
                inserts.append((rid, area, rec.handle, rec.key_id, new, now))
            rows.append((rid, self._index_keys(new)))
            handle_of[rid] = rec.handle
            changed.append(rec)
        conn = self.db.conn
        conn.executemany("UPDATE records SET packed=?, updated_ms=? WHERE id=?", updates)
        conn.executemany("INSERT INTO records (id, area, handle, key_id, packed, updated_ms) VALUES (?,?,?,?,?,?)",
                         inserts)
        if deletes:
            self.index.remove(deletes)
        found: dict[str, set[tuple[str, str]]] = defaultdict(set)
        if rows:
            for rid, other_area, other_handle in self.index.add_batch(rows, area):
                found[handle_of[rid]].add((other_area, other_handle))
        return [(rec.handle, rec.key_id) for rec in changed], found

    def records_of(self, area: str, handle: str) -> RecordTokens:
        """The token sets of (area, handle), per key id (empty if it holds none; in a write transaction)."""
        rows = self.db.execute("SELECT key_id, packed FROM records WHERE area=? AND handle=?", [area, handle]).fetchall()
        kids = {k: stored_kind_ids(packed) for k, packed in rows}
        if not self._kind_names.keys() >= {kid for ids in kids.values() for kid in ids}:
            self.reload_kinds()  # kinds another process (a second store on the file) added
        names = self._kind_names
        return {k: ({names[kid] for kid in kids[k]}, unpack(packed)) for k, packed in rows}

    def candidates_of(self, area: str, handle: str) -> set[tuple[str, str]]:
        """Other-area (area, handle) pairs sharing a token with any record of (area, handle),
        under the same key id: the lookup :meth:`replace_batch` makes on publish (in a write transaction)."""
        rows = self.db.execute("SELECT id, packed FROM records WHERE area=? AND handle=?", [area, handle]).fetchall()
        found = self.index.candidates([(rid, self._index_keys(packed)) for rid, packed in rows], area)
        return {(a, h) for _, a, h in found}

    def delete_records(self, area: str, handle: str) -> int:
        """Drop every record of (area, handle) and its index rows (in a write transaction); return how many."""
        rows = self.db.execute("SELECT id, packed FROM records WHERE area=? AND handle=?", [area, handle]).fetchall()
        self._delete(rows)
        return len(rows)

    def delete_key_records(self, key_id: str) -> list[tuple[str, str]]:
        """Drop every record under `key_id` and its index rows (in a write transaction);
        return their (area, handle)."""
        self.reload_kinds()  # another process (the running matcher) may have added kinds since this store opened
        rows = self.db.execute("SELECT id, area, handle, packed FROM records WHERE key_id=?", [key_id]).fetchall()
        self._delete([(rid, packed) for rid, _, _, packed in rows])
        return [(area, handle) for _, area, handle, _ in rows]

    def _delete(self, rows: list[tuple[int, bytes]]) -> None:
        for rid, packed in rows:
            self.index.remove([(rid, self._index_keys(packed))])
            self.db.execute("DELETE FROM records WHERE id=?", [rid])

    def handles_of_area(self, area: str) -> list[str]:
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT DISTINCT handle FROM records WHERE area=?", [area])]

    def area_has_records(self, area: str) -> bool:
        with self.lock:
            return self.db.execute("SELECT 1 FROM records WHERE area=? LIMIT 1", [area]).fetchone() is not None

    # -- the index's upkeep -----------------------------------------------------
    def index_needs_merge(self) -> bool:
        return self.index.needs_merge()

    def merge_index(self) -> int:
        """Fold the staged tokens into the main index (in a write transaction); return how many."""
        return self.index.merge() if self.index.needs_merge() else 0

    # -- batches ---------------------------------------------------------------
    def batch_applied(self, area: str, batch_id: str) -> bool:
        """True when (area, batch id) was applied before (in a write transaction)."""
        return self.db.execute("SELECT 1 FROM batches WHERE area=? AND batch_id=?", [area, batch_id]).fetchone() is not None

    def record_batch(self, area: str, batch_id: str, now: int, records: int, tokens: int) -> None:
        """Note a batch as applied (in a write transaction): a replay of its id is a duplicate."""
        self.db.execute("INSERT INTO batches (area, batch_id, applied_ms, records, tokens) VALUES (?,?,?,?,?)",
                        [area, batch_id, now, records, tokens])
