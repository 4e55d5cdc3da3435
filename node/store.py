"""The area node's SQLite store: its own records, what it published, its inbox.

Records hold the area's own plaintext (it never leaves the node except as
tokens, or through an approved disclosure). Each record has a random handle,
the only name the matcher ever sees for it.

Publishing is driven by versions: every change bumps ``records.version``;
the publisher sends records whose ``version > published_version`` and then
records the version it sent, so a restart resumes exactly where it stopped.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass


from fedalert.migrations import migrate, open_db
from fedalert.node.schema import MIGRATIONS

ENVELOPE_CURSOR_KEY = "envelope_cursor"


def new_handle() -> str:
    """A random record handle: 128 bits, URL-safe, meaningless outside this node."""
    return "h" + secrets.token_urlsafe(16)


@dataclass(frozen=True)
class PendingRecord:
    record_id: str
    handle: str
    identity_json: str
    status: str
    version: int
    withdraw_reason: str | None


class NodeStore:
    """Data access for the node. Safe to share between threads."""

    def __init__(self, path, *, clock=time.time):
        self.db = open_db(path)
        self.clock = clock
        self.lock = threading.RLock()
        migrate(self.db, MIGRATIONS)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def close(self) -> None:
        self.db.conn.close()

    # -- transactions ----------------------------------------------------
    def transaction(self):
        store = self

        class _Tx:
            def __enter__(self_inner):
                store.lock.acquire()
                store.db.execute("BEGIN IMMEDIATE")
                return store

            def __exit__(self_inner, exc_type, exc, tb):
                try:
                    store.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
                finally:
                    store.lock.release()
                return False

        return _Tx()

    # -- records ---------------------------------------------------------
    def get_record(self, record_id: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM records WHERE record_id = ?", [record_id]))
        return rows[0] if rows else None

    def record_by_handle(self, handle: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM records WHERE handle = ?", [handle]))
        return rows[0] if rows else None

    def upsert_record(self, record_id: str, identity_json: str, row_hash: str) -> str:
        """Insert or update one record inside a transaction. Returns added|updated|unchanged."""
        now = self.now_ms()
        row = self.db.execute("SELECT row_hash, status FROM records WHERE record_id=?", [record_id]).fetchone()
        if row is None:
            self.db.execute(
                "INSERT INTO records (record_id, handle, identity, row_hash, status, version, created_ms, updated_ms)"
                " VALUES (?,?,?,?,'active',1,?,?)", [record_id, new_handle(), identity_json, row_hash, now, now])
            return "added"
        if row[0] == row_hash and row[1] == "active":
            return "unchanged"
        self.db.execute(
            "UPDATE records SET identity=?, row_hash=?, status='active', withdraw_reason=NULL,"
            " version=version+1, updated_ms=? WHERE record_id=?", [identity_json, row_hash, now, record_id])
        return "updated"

    def upsert_records(self, rows: list[tuple[str, str, str]]) -> list[str]:
        """:meth:`upsert_record` for many (record_id, identity_json, row_hash) rows with distinct
        record ids, inside a transaction: one lookup per 500 ids, one executemany per change kind.
        Returns each row's outcome (added|updated|unchanged), in order."""
        now = self.now_ms()
        known: dict[str, tuple[str, str]] = {}
        for i in range(0, len(rows), 500):
            ids = [r[0] for r in rows[i:i + 500]]
            q = f"SELECT record_id, row_hash, status FROM records WHERE record_id IN ({','.join('?' * len(ids))})"
            known.update((rid, (h, st)) for rid, h, st in self.db.execute(q, ids))
        inserts, updates, outcomes = [], [], []
        for record_id, identity_json, row_hash in rows:
            old = known.get(record_id)
            if old is None:
                inserts.append((record_id, new_handle(), identity_json, row_hash, now, now))
                outcomes.append("added")
            elif old == (row_hash, "active"):
                outcomes.append("unchanged")
            else:
                updates.append((identity_json, row_hash, now, record_id))
                outcomes.append("updated")
        if inserts:
            self.db.conn.executemany(
                "INSERT INTO records (record_id, handle, identity, row_hash, status, version, created_ms, updated_ms)"
                " VALUES (?,?,?,?,'active',1,?,?)", inserts)
        if updates:
            self.db.conn.executemany(
                "UPDATE records SET identity=?, row_hash=?, status='active', withdraw_reason=NULL,"
                " version=version+1, updated_ms=? WHERE record_id=?", updates)
        return outcomes

    def withdraw_record(self, record_id: str, reason: str) -> bool:
        cur = self.db.execute(
            "UPDATE records SET status='withdrawn', withdraw_reason=?, version=version+1, updated_ms=?"
            " WHERE record_id=? AND status='active'", [reason, self.now_ms(), record_id])
        return cur.rowcount > 0

    def active_record_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT record_id FROM records WHERE status='active'")}

    def mark_all_dirty(self) -> int:
        """Force a republish of every active record (after a key rotation)."""
        with self.transaction():
            return self.db.execute(
                "UPDATE records SET version=version+1 WHERE status='active'").rowcount

    def pending(self, limit: int) -> list[PendingRecord]:
        with self.lock:
            rows = self.db.execute(
                "SELECT record_id, handle, identity, status, version, withdraw_reason FROM records"
                " WHERE version > published_version ORDER BY updated_ms, record_id LIMIT ?", [limit]).fetchall()
        return [PendingRecord(*r) for r in rows]

    def pending_count(self) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM records WHERE version > published_version").fetchone()[0]

    def mark_published(self, sent: Iterable[tuple[str, int]]) -> None:
        with self.transaction():
            self.db.conn.executemany(
                "UPDATE records SET published_version=? WHERE record_id=? AND published_version < ?",
                [(v, rid, v) for rid, v in sent])

    def log_import(self, file_name: str, sha256: str, counts: dict) -> None:
        self.db.execute(
            "INSERT INTO imports (file_name, file_sha256, added, updated, unchanged, rejected, withdrawn, at_ms)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [file_name, sha256, counts["added"], counts["updated"], counts["unchanged"], counts["rejected"],
             counts["withdrawn"], self.now_ms()])

    def status(self) -> dict:
        q = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        last = self.db.execute("SELECT file_name, at_ms FROM imports ORDER BY id DESC LIMIT 1").fetchone()
        return {
            "records_active": q("SELECT count(*) FROM records WHERE status='active'"),
            "records_withdrawn": q("SELECT count(*) FROM records WHERE status='withdrawn'"),
            "pending_publish": q("SELECT count(*) FROM records WHERE version > published_version"),
            "alerts": q("SELECT count(*) FROM alerts"),
            "matches_live": q("SELECT count(*) FROM matches WHERE status='live'"),
            "alert_cursor": self.alert_cursor(),
            "last_import": {"file": last[0], "at_ms": last[1]} if last else None,
        }

    # -- inbox -----------------------------------------------------------
    def save_alert(self, alert: dict) -> bool:
        """Store an alert and update the match view. False if already stored (redelivery)."""
        with self.transaction():
            if self.db.execute("SELECT 1 FROM alerts WHERE alert_id=?", [alert["alert_id"]]).fetchone():
                return False
            # Plain SQL: sqlite-utils' insert() would commit our transaction early.
            self.db.execute(
                "INSERT INTO alerts (alert_id, cursor, match_id, type, handle, other_area, tier, kinds, score,"
                " created_ms, received_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [alert["alert_id"], alert["cursor"], alert["match_id"], alert["type"], alert["handle"],
                 alert["other_area"], alert["tier"], json.dumps(alert["kinds"]), alert["score"],
                 alert["created_ms"], self.now_ms()])
            status = "withdrawn" if alert["type"] == "withdrawn" else "live"
            self.db.execute(
                "INSERT INTO matches (match_id, handle, other_area, tier, kinds, status, updated_ms)"
                " VALUES (?,?,?,?,?,?,?) ON CONFLICT(match_id) DO UPDATE SET tier=excluded.tier,"
                " kinds=excluded.kinds, status=excluded.status, updated_ms=excluded.updated_ms"
                " WHERE excluded.updated_ms >= matches.updated_ms",
                [alert["match_id"], alert["handle"], alert["other_area"], alert["tier"],
                 json.dumps(alert["kinds"]), status, alert["created_ms"]])
            self.set_kv("alert_cursor", str(max(alert["cursor"], self.alert_cursor())))
            return True

    def alert_cursor(self) -> int:
        return int(self.get_kv("alert_cursor") or 0)

    def alerts(self) -> list[dict]:
        rows = self.db.query(
            "SELECT a.*, r.record_id FROM alerts a LEFT JOIN records r ON r.handle = a.handle ORDER BY a.cursor")
        return [{**r, "kinds": json.loads(r["kinds"])} for r in rows]

    def matches(self, live_only: bool = False) -> list[dict]:
        q = "SELECT m.*, r.record_id FROM matches m LEFT JOIN records r ON r.handle = m.handle"
        if live_only:
            q += " WHERE m.status = 'live'"
        return [{**r, "kinds": json.loads(r["kinds"])} for r in self.db.query(q + " ORDER BY m.match_id")]

    def match(self, match_id: str) -> dict | None:
        rows = list(self.db.query(
            "SELECT m.*, r.record_id FROM matches m LEFT JOIN records r ON r.handle = m.handle"
            " WHERE m.match_id = ?", [match_id]))
        return {**rows[0], "kinds": json.loads(rows[0]["kinds"])} if rows else None

    def inbox_rows(self) -> list[dict]:
        """One row per match for the coordinator's inbox: the match, this area's record and its
        state, and the latest alert's score and time of arrival."""
        rows = self.db.query(
            "SELECT m.*, r.record_id, r.status AS record_status,"
            " (SELECT a.score FROM alerts a WHERE a.match_id = m.match_id ORDER BY a.cursor DESC LIMIT 1) AS score,"
            " (SELECT max(a.received_ms) FROM alerts a WHERE a.match_id = m.match_id) AS received_ms"
            " FROM matches m LEFT JOIN records r ON r.handle = m.handle")
        return [{**r, "kinds": json.loads(r["kinds"]), "score": r["score"] or 0.0,
                 "received_ms": r["received_ms"] or r["updated_ms"]} for r in rows]

    # -- disclosure relay ------------------------------------------------
    def envelope_cursor(self) -> int:
        """The cursor of the last envelope handled and acknowledged (the relay resumes after it)."""
        return int(self.get_kv(ENVELOPE_CURSOR_KEY) or 0)

    def save_envelope_cursor(self, cursor: int) -> None:
        """Remember an envelope cursor; it only ever moves forward."""
        self.db.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"
            " WHERE CAST(excluded.value AS INTEGER) > CAST(kv.value AS INTEGER)", [ENVELOPE_CURSOR_KEY, str(cursor)])

    # -- key/value -------------------------------------------------------
    def get_kv(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key=?", [key]).fetchone()
        return row[0] if row else None

    def set_kv(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        [key, value])
