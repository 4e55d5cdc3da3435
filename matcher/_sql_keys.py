"""The store's token key ids: first seen, retired, and who still publishes under each (part of MatcherStore).

The policy (grace period, caught-up check) is fedalert.matcher.keyids'; this
only reads and writes the ``key_ids`` table and counts records per key id.
Every method takes the store's lock.
"""

from __future__ import annotations

#: One ``key_ids`` row: (key id, first seen ms, retired ms, records dropped, matches withdrawn, forced).
KeyIdRow = tuple[str, int, int | None, int | None, int | None, int | None]


class KeyIdsSQL:
    """Key ids. Needs ``self.db`` and ``self.lock`` (MatcherStore)."""

    def retired_key_ids(self, key_ids: list[str]) -> set[str]:
        """Those of `key_ids` that are retired here."""
        with self.lock:
            q = f"SELECT key_id FROM key_ids WHERE retired_ms IS NOT NULL AND key_id IN ({','.join('?' * len(key_ids))})"
            return {r[0] for r in self.db.execute(q, key_ids)}

    def note_key_ids(self, key_ids: list[str], now_ms: int) -> None:
        """Record when each key id was first seen (a key id seen before keeps its time)."""
        with self.lock:
            self.db.conn.executemany("INSERT OR IGNORE INTO key_ids (key_id, first_seen_ms) VALUES (?, ?)",
                                     [(k, now_ms) for k in key_ids])

    def key_id_rows(self) -> list[KeyIdRow]:
        """Every known key id, in the order they were first seen."""
        with self.lock:
            return self.db.execute(
                "SELECT key_id, first_seen_ms, retired_ms, retired_records, retired_withdrawn, forced "
                "FROM key_ids ORDER BY first_seen_ms, key_id").fetchall()

    def key_ids_in_records(self) -> set[str]:
        """Key ids some stored record is published under."""
        with self.lock:
            return {r[0] for r in self.db.execute("SELECT DISTINCT key_id FROM records")}

    def records_per_key_and_area(self) -> list[tuple[str, str, int]]:
        """(key id, area, records) for every key id and area that hold records."""
        with self.lock:
            return self.db.execute("SELECT key_id, area, count(*) FROM records GROUP BY key_id, area").fetchall()

    def lagging_areas(self, key_id: str) -> dict[str, int]:
        """Areas with records published only under `key_id` (not republished under another key id)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT r.area, count(*) FROM records r WHERE r.key_id = ? AND NOT EXISTS ("
                " SELECT 1 FROM records o WHERE o.area = r.area AND o.handle = r.handle AND o.key_id != r.key_id)"
                " GROUP BY r.area ORDER BY r.area", [key_id]).fetchall()
        return {a: n for a, n in rows}

    def mark_key_retired(self, key_id: str, now_ms: int, forced: bool) -> None:
        """Mark `key_id` retired from now on: publishes under it are refused from here."""
        with self.lock:
            self.db.execute("INSERT INTO key_ids (key_id, first_seen_ms, retired_ms, forced) VALUES (?,?,?,?) "
                            "ON CONFLICT(key_id) DO UPDATE SET retired_ms=excluded.retired_ms, forced=excluded.forced",
                            [key_id, now_ms, now_ms, int(forced)])

    def note_retirement(self, key_id: str, records: int, withdrawn: int) -> None:
        """Record what retiring `key_id` dropped."""
        with self.lock:
            self.db.execute("UPDATE key_ids SET retired_records=?, retired_withdrawn=? WHERE key_id=?",
                            [records, withdrawn, key_id])
