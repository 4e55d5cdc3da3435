"""Durable per-area queues: alerts and sealed envelopes.

Rows are written inside the engine's transaction, so they are on disk before
the RPC that caused them returns. A row stays until its area acknowledges it.
Readers wait on one condition variable, woken after each commit.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass

from fedalert.matcher.errors import InvalidRequestError, NotFoundError, PermissionDeniedError

MAX_ENVELOPE_BYTES = 1024 * 1024
ENVELOPE_KINDS = ("request", "decision", "release", "notice")


@dataclass(frozen=True)
class AlertRow:
    cursor: int
    alert_id: str
    area: str
    match_id: str
    type: int
    handle: str
    other_area: str
    tier: str
    kinds: list[str]
    score: float
    created_ms: int


@dataclass(frozen=True)
class EnvelopeRow:
    cursor: int
    envelope_id: str
    match_id: str
    from_area: str
    to_area: str
    kind: str
    sealed: bytes
    created_ms: int


class Queues:
    def __init__(self, db, lock: threading.RLock, clock):
        self.db = db
        self.lock = lock
        self.clock = clock
        self.changed = threading.Condition(threading.Lock())
        self._generation = 0

    # -- wake-ups ----------------------------------------------------------
    def notify(self) -> None:
        with self.changed:
            self._generation += 1
            self.changed.notify_all()

    def generation(self) -> int:
        with self.changed:
            return self._generation

    def wait(self, seen_generation: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self._generation != seen_generation, timeout=timeout)
            return self._generation

    # -- alerts ------------------------------------------------------------
    def push_alert(self, area, match_id, atype, handle, other_area, tier, kinds, score, now_ms) -> str:
        alert_id = "a-" + secrets.token_hex(10)
        self.db.execute(
            "INSERT INTO alerts (alert_id, area, match_id, type, handle, other_area, tier, kinds, score, created_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [alert_id, area, match_id, atype, handle, other_area, tier or "", json.dumps(kinds), score, now_ms])
        return alert_id

    def alerts_after(self, area: str, cursor: int, limit: int = 500) -> list[AlertRow]:
        with self.lock:
            rows = self.db.execute(
                "SELECT cursor, alert_id, area, match_id, type, handle, other_area, tier, kinds, score, created_ms"
                " FROM alerts WHERE area=? AND cursor>? ORDER BY cursor LIMIT ?", [area, cursor, limit]).fetchall()
        return [AlertRow(*r[:8], json.loads(r[8]), *r[9:]) for r in rows]

    def ack_alert(self, area: str, alert_id: str) -> bool:
        with self.lock:
            cur = self.db.execute("DELETE FROM alerts WHERE area=? AND alert_id=?", [area, alert_id])
            return cur.rowcount > 0

    def count_alerts(self, area: str, after_cursor: int) -> tuple[int, int]:
        """(alerts queued for `area` with cursor > after_cursor, the last one's cursor or 0)."""
        with self.lock:
            return tuple(self.db.execute("SELECT count(*), coalesce(max(cursor), 0) FROM alerts"
                                         " WHERE area=? AND cursor>?", [area, after_cursor]).fetchone())

    def pending_alerts(self, area: str) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM alerts WHERE area=?", [area]).fetchone()[0]

    # -- envelopes ---------------------------------------------------------
    def push_envelope(self, from_area, envelope_id, match_id, to_area, kind, sealed, parties, now_ms) -> bool:
        """Store an envelope for `to_area`; True when it was a duplicate."""
        if kind not in ENVELOPE_KINDS:
            raise InvalidRequestError(f"envelope kind must be one of {', '.join(ENVELOPE_KINDS)}")
        if not (1 <= len(envelope_id) <= 64):
            raise InvalidRequestError("envelope_id must be 1-64 characters")
        if not sealed or len(sealed) > MAX_ENVELOPE_BYTES:
            raise InvalidRequestError(f"sealed payload must be 1..{MAX_ENVELOPE_BYTES} bytes")
        if parties is None:
            raise NotFoundError("no such match")
        if from_area not in parties or to_area not in parties or from_area == to_area:
            raise PermissionDeniedError("sender and recipient must be the two areas of the match")
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                dup = self.db.execute("SELECT 1 FROM envelopes WHERE from_area=? AND envelope_id=?",
                                      [from_area, envelope_id]).fetchone() is not None
                if not dup:
                    self.db.execute(
                        "INSERT INTO envelopes (envelope_id, match_id, from_area, to_area, kind, sealed, created_ms)"
                        " VALUES (?,?,?,?,?,?,?)", [envelope_id, match_id, from_area, to_area, kind, sealed, now_ms])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        self.notify()
        return dup

    def envelopes_after(self, area: str, cursor: int, limit: int = 100) -> list[EnvelopeRow]:
        with self.lock:
            rows = self.db.execute(
                "SELECT cursor, envelope_id, match_id, from_area, to_area, kind, sealed, created_ms FROM envelopes"
                " WHERE to_area=? AND cursor>? AND length(sealed) > 0 ORDER BY cursor LIMIT ?",
                [area, cursor, limit]).fetchall()
        return [EnvelopeRow(*r) for r in rows]

    def ack_envelope(self, area: str, envelope_id: str) -> bool:
        """Delivered: drop the payload but keep the id so a replay stays a duplicate."""
        with self.lock:
            cur = self.db.execute(
                "UPDATE envelopes SET sealed=X'' WHERE to_area=? AND envelope_id=? AND length(sealed) > 0",
                [area, envelope_id])
            return cur.rowcount > 0
