"""The alert inbox: watch the matcher's alert stream, store, then acknowledge.

An alert is written to the node's store before it is acknowledged, so a
crash in between only causes a redelivery, which the store ignores (alerts
are idempotent by id). The stream is re-opened with the last stored cursor
after any failure, with bounded backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

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


#: How long `fedalert node sync` may spend fetching alerts, by default (--timeout).
SYNC_TIMEOUT_S = 300.0
#: Against a matcher that cannot count its queue: the stream is taken as drained once idle this long.
IDLE_S = 2.0


@dataclass
class DrainResult:
    received: int = 0  # alerts read from the stream (and acknowledged)
    new: int = 0  # of them, not stored before
    queued_at_start: int | None = None  # None: the matcher does not count its queue (an older matcher)
    remaining: int | None = 0  # still queued for this area when the fetch stopped; None: not known
    complete: bool = True  # every alert queued at the start was fetched
    taken_over: bool = False  # another reader of this area (the running node) took the stream


def drain(store, stub, audit=None, *, timeout: float = SYNC_TIMEOUT_S, clock=time.monotonic) -> DrainResult:
    """Fetch every alert that is queued for this area now, for at most `timeout` seconds.

    Asks the matcher how many alerts wait after the stored cursor and the
    last one's cursor (CountAlerts), then reads WatchAlerts (store, then
    acknowledge, one by one) until that cursor is stored, reopening the
    stream if the matcher ends it. Alerts that arrive meanwhile, after that
    cursor, are left for the next fetch. If `timeout` runs out first, the
    result says how many are still queued. If the running node opens its
    own stream meanwhile (ABORTED here), it receives the rest. Against a
    matcher without CountAlerts, reads until the stream is idle for IDLE_S.
    """
    deadline = clock() + timeout
    res = DrainResult()
    try:
        count = stub.CountAlerts(pb.CountAlertsRequest(after_cursor=store.alert_cursor()), timeout=ACK_TIMEOUT_S)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise
        return _drain_until_idle(store, stub, audit, deadline, clock)
    res.queued_at_start, target = count.queued, count.last_cursor
    while count.queued and store.alert_cursor() < target and not res.taken_over:
        left = deadline - clock()
        if left <= 0:
            break
        call = stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=store.alert_cursor()), timeout=left)
        try:
            for alert in call:
                res.received += 1
                res.new += receive(store, stub, alert, audit)
                if alert.cursor >= target:
                    break
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.ABORTED:  # the running node opened its stream: it gets the rest
                res.taken_over = True
            elif exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
        finally:
            call.cancel()
        # the matcher ended the stream (its lifetime): reopen from the stored cursor while time is left
    if store.alert_cursor() < target and not res.taken_over:
        res.remaining = stub.CountAlerts(pb.CountAlertsRequest(after_cursor=store.alert_cursor()),
                                         timeout=ACK_TIMEOUT_S).queued
        res.complete = res.remaining == 0
    return res


def _drain_until_idle(store, stub, audit, deadline: float, clock) -> DrainResult:
    """For a matcher without CountAlerts: read until no alert came for IDLE_S, or the deadline."""
    res = DrainResult(queued_at_start=None, remaining=None)
    call = stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=store.alert_cursor()),
                            timeout=max(0.0, deadline - clock()))
    last = [clock()]
    done = threading.Event()

    def watchdog() -> None:
        while not done.wait(0.1):
            if clock() - last[0] > IDLE_S:
                call.cancel()  # idle: everything that was queued has come
                return

    threading.Thread(target=watchdog, name="sync-idle", daemon=True).start()
    try:
        for alert in call:
            res.received += 1
            res.new += receive(store, stub, alert, audit)
            last[0] = clock()
    except grpc.RpcError as exc:
        code = exc.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            res.complete = False  # --timeout cut it short; how many remain is not known
        elif code == grpc.StatusCode.ABORTED:
            res.taken_over = True
        elif code != grpc.StatusCode.CANCELLED:
            raise
    finally:
        done.set()
    return res


class StreamWatcher(threading.Thread):
    """Keep one matcher server stream open until stopped (alerts, envelopes).

    Each item goes to :meth:`handle`; a stream that ends (lifetime reached or
    deadline) is reopened at once from the stored cursor; other failures are
    retried with bounded backoff. A refusal (PERMISSION_DENIED: revoked, or
    not yet in the matcher's directory) is logged once and retried only after
    REFUSED_RETRY_S, so a refused node never hammers the matcher. A failure
    while handling an item is logged by type only (a message could echo
    content) and the item is left unacknowledged, to be delivered again.
    """

    what = "stream"

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self._call = None
        self._log = logging.getLogger(type(self).__module__)

    def open_stream(self):
        raise NotImplementedError

    def handle(self, item) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        if self._call is not None:
            self._call.cancel()

    def run(self) -> None:
        backoff = 0.2
        while not self.stopping.is_set():
            try:
                self._call = self.open_stream()
                for item in self._call:
                    self.handle(item)
                    backoff = 0.2
                continue  # the server ended the stream: reopen from the stored cursor
            except grpc.RpcError as exc:
                if self.stopping.is_set():
                    break
                code = exc.code()
                if code == grpc.StatusCode.PERMISSION_DENIED:
                    self._log.error("matcher refused this area's %s: %s", self.what, exc.details())
                    self.stopping.wait(REFUSED_RETRY_S)
                    continue
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                self._log.info("%s interrupted (%s); reconnecting", self.what, code.name)
            except Exception as exc:  # noqa: BLE001 - keep receiving; type only (messages may echo content)
                if self.stopping.is_set():
                    break
                self._log.error("%s item not processed (%s); it will be delivered again", self.what,
                                type(exc).__name__)
                if self._call is not None:
                    self._call.cancel()
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, 5.0)


class AlertWatcher(StreamWatcher):
    """Background thread that keeps the inbox up to date until stopped."""

    what = "alert stream"

    def __init__(self, store, stub, audit=None, on_alert=None):
        super().__init__("alert-watcher")
        self.store, self.stub, self.audit, self.on_alert = store, stub, audit, on_alert

    def open_stream(self):
        return self.stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=self.store.alert_cursor()),
                                     timeout=STREAM_DEADLINE_S)

    def handle(self, alert) -> None:
        if receive(self.store, self.stub, alert, self.audit) and self.on_alert:
            self.on_alert(alert)
