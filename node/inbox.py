"""The alert inbox: watch the matcher's alert stream, store, then acknowledge.

An alert is written to the node's store before it is acknowledged, so a
crash in between only causes a redelivery, which the store ignores (alerts
are idempotent by id). The stream is re-opened with the last stored cursor
after any failure, with bounded backoff.
"""

from __future__ import annotations

import logging
import threading

import grpc

from fedalert.v1 import matcher_pb2 as pb

log = logging.getLogger(__name__)

STREAM_DEADLINE_S = 300.0
ACK_TIMEOUT_S = 10.0
#: Wait before re-opening the stream after the matcher refused this area.
REFUSED_RETRY_S = 30.0
_TYPES = {pb.ALERT_TYPE_NEW: "new", pb.ALERT_TYPE_UPGRADED: "upgraded", pb.ALERT_TYPE_WITHDRAWN: "withdrawn",
          pb.ALERT_TYPE_DOWNGRADED: "downgraded"}


def alert_to_dict(a: pb.Alert) -> dict:
    return {
        "alert_id": a.alert_id, "cursor": a.cursor, "match_id": a.match_id, "type": _TYPES.get(a.type, "unknown"),
        "handle": a.handle, "other_area": a.other_area, "tier": a.tier, "kinds": list(a.key_kinds),
        "score": a.score, "created_ms": a.created_unix_ms,
    }


def receive(store, stub, alert: pb.Alert, audit=None) -> bool:
    """Store one alert (idempotent) and acknowledge it. True if it was new."""
    new = store.save_alert(alert_to_dict(alert))
    if new and audit is not None:
        audit.append("alert", alert_id=alert.alert_id, match_id=alert.match_id,
                     type=_TYPES.get(alert.type, "unknown"), tier=alert.tier, other_area=alert.other_area)
    stub.AckAlert(pb.AckAlertRequest(alert_id=alert.alert_id), timeout=ACK_TIMEOUT_S)
    return new


def drain_once(store, stub, audit=None, idle_timeout: float = 2.0) -> int:
    """Read alerts until the stream is idle for `idle_timeout`; return how many were new."""
    new = 0
    call = stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=store.alert_cursor()), timeout=idle_timeout)
    try:
        for alert in call:
            new += receive(store, stub, alert, audit)
    except grpc.RpcError as exc:
        # DEADLINE_EXCEEDED: idle, as intended. ABORTED: another client of this
        # area (e.g. the running node) opened a newer stream; it gets the rest.
        if exc.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED):
            raise
    return new


class AlertWatcher(threading.Thread):
    """Background thread that keeps the inbox up to date until stopped."""

    def __init__(self, store, stub, audit=None, on_alert=None):
        super().__init__(name="alert-watcher", daemon=True)
        self.store, self.stub, self.audit, self.on_alert = store, stub, audit, on_alert
        self.stopping = threading.Event()
        self._call = None

    def stop(self) -> None:
        self.stopping.set()
        if self._call is not None:
            self._call.cancel()

    def run(self) -> None:
        backoff = 0.2
        while not self.stopping.is_set():
            try:
                self._call = self.stub.WatchAlerts(
                    pb.WatchAlertsRequest(after_cursor=self.store.alert_cursor()), timeout=STREAM_DEADLINE_S)
                for alert in self._call:
                    if receive(self.store, self.stub, alert, self.audit) and self.on_alert:
                        self.on_alert(alert)
                    backoff = 0.2
            except grpc.RpcError as exc:
                if self.stopping.is_set():
                    break
                code = exc.code()
                if code == grpc.StatusCode.PERMISSION_DENIED:
                    # Revoked (or not yet in the matcher's directory): say so, and do not hammer the matcher.
                    log.error("matcher refused this area: %s", exc.details())
                    self.stopping.wait(REFUSED_RETRY_S)
                elif code != grpc.StatusCode.DEADLINE_EXCEEDED:
                    log.info("alert stream interrupted (%s); reconnecting", code.name)
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
            except Exception:  # noqa: BLE001 - keep the watcher alive; log type only
                log.exception("alert watcher error")
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
