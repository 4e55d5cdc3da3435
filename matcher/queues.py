"""Durable per-area queues: alerts and sealed envelopes.

The rows are the store's (matcher/_sql_queues.py); this adds what is not
storage: alert ids, the checks on an envelope, and the wake-ups. An alert is
written inside the store's write transaction of the change that caused it,
so it is on disk before the RPC that caused it returns. A row stays until its
area acknowledges it. Readers wait on one condition variable, woken after
each commit.
"""

from __future__ import annotations

import secrets
import threading

from fedalert.matcher.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from fedalert.matcher.store import AlertRow, EnvelopeRow, MatcherStore

__all__ = ["AlertRow", "EnvelopeRow", "ENVELOPE_KINDS", "MAX_ENVELOPE_BYTES", "Queues"]

MAX_ENVELOPE_BYTES = 1024 * 1024
ENVELOPE_KINDS = ("request", "decision", "release", "notice")


class Queues:
    def __init__(self, store: MatcherStore):
        self.store = store
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
        """Queue an alert for `area` (inside the store's write transaction of the change that caused it)."""
        alert_id = "a-" + secrets.token_hex(10)
        self.store.push_alert(alert_id, area, match_id, atype, handle, other_area, tier, kinds, score, now_ms)
        return alert_id

    def alerts_after(self, area: str, cursor: int, limit: int = 500) -> list[AlertRow]:
        return self.store.alerts_after(area, cursor, limit)

    def ack_alert(self, area: str, alert_id: str) -> bool:
        return self.store.ack_alert(area, alert_id)

    def count_alerts(self, area: str, after_cursor: int) -> tuple[int, int]:
        """(alerts queued for `area` with cursor > after_cursor, the last one's cursor or 0)."""
        return self.store.count_alerts(area, after_cursor)

    def pending_alerts(self, area: str) -> int:
        return self.store.pending_alerts(area)

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
        dup = self.store.add_envelope(from_area, envelope_id, match_id, to_area, kind, sealed, now_ms)
        self.notify()
        return dup

    def envelopes_after(self, area: str, cursor: int, limit: int = 100) -> list[EnvelopeRow]:
        return self.store.envelopes_after(area, cursor, limit)

    def ack_envelope(self, area: str, envelope_id: str) -> bool:
        """Delivered: drop the payload but keep the id so a replay stays a duplicate."""
        return self.store.ack_envelope(area, envelope_id)
