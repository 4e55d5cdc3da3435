"""The store's per-area queues: alerts, sealed envelopes, sealed keysets (part of MatcherStore).

A row stays until its area acknowledges it. An alert is written inside the
write transaction of the change that caused it. An acknowledged envelope or
keyset keeps its id with an empty payload, so that a replay stays a
duplicate. Every method takes the store's lock, but :meth:`push_alert`, which
runs inside the caller's ``store.write()`` transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


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


class QueuesSQL:
    """Alerts, envelopes and keysets. Needs ``self.db``, ``self.lock`` and ``self.write`` (MatcherStore)."""

    # -- alerts ----------------------------------------------------------------
    def push_alert(self, alert_id: str, area: str, match_id: str, atype: int, handle: str, other_area: str,
                   tier: str | None, kinds: list[str], score: float, now_ms: int) -> None:
        """Queue an alert for `area` (in the write transaction of the change that caused it)."""
        self.db.execute(
            "INSERT INTO alerts (alert_id, area, match_id, type, handle, other_area, tier, kinds, score, created_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [alert_id, area, match_id, atype, handle, other_area, tier or "", json.dumps(kinds), score, now_ms])

    def alerts_after(self, area: str, cursor: int, limit: int = 500) -> list[AlertRow]:
        with self.lock:
            rows = self.db.execute(
                "SELECT cursor, alert_id, area, match_id, type, handle, other_area, tier, kinds, score, created_ms"
                " FROM alerts WHERE area=? AND cursor>? ORDER BY cursor LIMIT ?", [area, cursor, limit]).fetchall()
        return [AlertRow(*r[:8], json.loads(r[8]), *r[9:]) for r in rows]

    def ack_alert(self, area: str, alert_id: str) -> bool:
        with self.lock:
            return self.db.execute("DELETE FROM alerts WHERE area=? AND alert_id=?", [area, alert_id]).rowcount > 0

    def count_alerts(self, area: str, after_cursor: int) -> tuple[int, int]:
        """(alerts queued for `area` with cursor > after_cursor, the last one's cursor or 0)."""
        with self.lock:
            count, last = self.db.execute("SELECT count(*), coalesce(max(cursor), 0) FROM alerts"
                                          " WHERE area=? AND cursor>?", [area, after_cursor]).fetchone()
        return count, last

    def pending_alerts(self, area: str) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM alerts WHERE area=?", [area]).fetchone()[0]

    # -- envelopes -----------------------------------------------------------------
    def add_envelope(self, from_area: str, envelope_id: str, match_id: str, to_area: str, kind: str,
                     sealed: bytes, now_ms: int) -> bool:
        """Store an envelope for `to_area` in a transaction of its own; True when it was a duplicate."""
        with self.write():
            dup = self.db.execute("SELECT 1 FROM envelopes WHERE from_area=? AND envelope_id=?",
                                  [from_area, envelope_id]).fetchone() is not None
            if not dup:
                self.db.execute(
                    "INSERT INTO envelopes (envelope_id, match_id, from_area, to_area, kind, sealed, created_ms)"
                    " VALUES (?,?,?,?,?,?,?)", [envelope_id, match_id, from_area, to_area, kind, sealed, now_ms])
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

    def envelopes_waiting_from(self, area: str) -> tuple[int, int]:
        """(count, bytes) of `area`'s envelopes its recipients have not collected yet."""
        with self.lock:
            return tuple(self.db.execute("SELECT count(*), coalesce(sum(length(sealed)), 0) FROM envelopes "
                                         "WHERE from_area=? AND length(sealed) > 0", [area]).fetchone())

    # -- sealed keysets (relay from the key custodian) ----------------------------------
    def put_keyset(self, area: str, key_id: str, serial: int, sealed: bytes, now_ms: int) -> bool:
        """Store one sealed keyset; True when (area, serial) was already there."""
        with self.lock:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO keyset_relay (area, serial, key_id, sealed, created_ms) VALUES (?,?,?,?,?)",
                [area, serial, key_id, sealed, now_ms])
            return cur.rowcount == 0

    def pending_keysets(self, area: str, limit: int) -> list[tuple[int, str, bytes]]:
        """(serial, key id, sealed) of `area`'s keysets not yet acknowledged, oldest first."""
        with self.lock:
            return self.db.execute(
                "SELECT serial, key_id, sealed FROM keyset_relay WHERE area=? AND length(sealed) > 0 "
                "ORDER BY serial LIMIT ?", [area, limit]).fetchall()

    def ack_keyset(self, area: str, serial: int, now_ms: int) -> bool:
        with self.lock:
            cur = self.db.execute("UPDATE keyset_relay SET sealed=X'', acked_ms=? WHERE area=? AND serial=? "
                                  "AND length(sealed) > 0", [now_ms, area, serial])
            return cur.rowcount > 0

    def drop_keysets(self, area: str) -> int:
        """Forget keysets waiting for an area (it was revoked)."""
        with self.lock:
            return self.db.execute("DELETE FROM keyset_relay WHERE area=?", [area]).rowcount
