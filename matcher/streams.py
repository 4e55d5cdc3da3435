"""Bounded server-streaming: at most one live stream per area and kind, a
per-server cap, and a maximum lifetime.

In the sync gRPC server every open stream holds one worker thread for as
long as it is open. Without a bound, a few areas opening many WatchAlerts or
WatchEnvelopes streams would hold every worker and starve the unary calls
(Publish, Withdraw, Ack...). So:

- An area has at most ``per_area`` live streams of each kind (default 1). A
  new stream from the same area and kind *supersedes* the oldest: that one
  ends with ABORTED ("superseded"), and its thread is freed within one
  wake-up interval. A restarted node therefore never waits for its old,
  half-open stream to time out.
- The server holds at most ``max_streams`` streams in all; one more is
  refused with RESOURCE_EXHAUSTED. The matcher sizes its thread pool as
  ``max_streams + UNARY_RESERVE`` so that unary calls always have threads.
- A stream ends cleanly (status OK) after ``max_lifetime_s``; clients
  reconnect from their last cursor. This bounds how long any one stream
  can pin a thread and makes revocation and restarts take effect.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fedalert.matcher.errors import QuotaExceededError
from fedalert.errors import AbortedError

#: Streams the matcher serves at once, over all areas and kinds.
DEFAULT_MAX_STREAMS = 32
#: Worker threads kept free of streams, for unary calls.
UNARY_RESERVE = 8
#: A stream ends (status OK) after this long; clients reconnect. Shorter than
#: the node's own client deadline (fedalert.node.inbox.STREAM_DEADLINE_S).
DEFAULT_MAX_LIFETIME_S = 240.0


class StreamSupersededError(AbortedError):
    """A newer stream of the same kind from the same area replaced this one."""


@dataclass(eq=False)
class Slot:
    area: str
    kind: str
    deadline: float
    seq: int
    cancel: Callable[[], object] | None = None  # ends the RPC from outside its thread
    superseded: threading.Event = field(default_factory=threading.Event)
    superseded_at: float = 0.0
    cancelled: bool = False

    def live(self, now: float | None = None) -> bool:
        """True while the stream should keep going (not superseded, not expired)."""
        return not self.superseded.is_set() and (now if now is not None else time.monotonic()) < self.deadline

    def raise_if_superseded(self) -> None:
        if self.superseded.is_set():
            raise StreamSupersededError(
                f"this {self.kind} stream was replaced by a newer one from area {self.area!r}; "
                "each area keeps one stream of each kind (reconnect only if this client is the current one)")


class StreamRegistry:
    """Admission control for server streams (thread-safe).

    A slot is counted from ``open`` until ``close`` (when the stream's thread
    has really left the handler), superseded or not, so the cap always bounds
    the threads streams hold. A stream that does not end by itself within
    ``REAP_GRACE_S`` of being superseded or of its lifetime (its thread is
    blocked sending to a client that stopped reading) is cancelled by one
    reaper thread, which runs only while streams are open.
    """

    REAP_GRACE_S = 2.0
    REAP_INTERVAL_S = 0.5

    def __init__(self, max_streams: int = DEFAULT_MAX_STREAMS, *, per_area: int = 1,
                 max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S, on_supersede=None):
        if max_streams < 1 or per_area < 1:
            raise ValueError("max_streams and per_area must be at least 1")
        self.max_streams = max_streams
        self.per_area = per_area
        self.max_lifetime_s = max_lifetime_s
        self.on_supersede = on_supersede  # called (no lock held) to wake superseded streams
        self._lock = threading.Lock()
        self._live: list[Slot] = []
        self._seq = itertools.count()
        self._reaper: threading.Thread | None = None

    def open(self, area: str, kind: str, cancel: Callable[[], object] | None = None) -> Slot:
        """Admit a stream, superseding the area's oldest of this kind if needed."""
        now = time.monotonic()
        with self._lock:
            mine = [s for s in self._live if s.area == area and s.kind == kind and not s.superseded.is_set()]
            victims = mine[: max(0, len(mine) - self.per_area + 1)]
            for s in victims:
                s.superseded_at = now
                s.superseded.set()
            if len(self._live) >= self.max_streams:
                raise QuotaExceededError(
                    f"the matcher is serving its maximum of {self.max_streams} streams; "
                    "retry in a few seconds (each area needs at most one stream of each kind)")
            slot = Slot(area, kind, now + self.max_lifetime_s, next(self._seq), cancel)
            self._live.append(slot)
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="stream-reaper", daemon=True)
                self._reaper.start()
        if victims and self.on_supersede is not None:
            self.on_supersede()
        return slot

    def close(self, slot: Slot) -> None:
        with self._lock:
            if slot in self._live:
                self._live.remove(slot)

    def count(self, area: str | None = None, kind: str | None = None) -> int:
        """Streams holding a thread now (superseded ones until they have ended)."""
        with self._lock:
            return sum(1 for s in self._live if (area is None or s.area == area) and (kind is None or s.kind == kind))

    def open_slot(self, area: str, kind: str, cancel: Callable[[], object] | None = None) -> "_SlotContext":
        return _SlotContext(self, area, kind, cancel)

    def _reap(self) -> None:
        """Cancel streams stuck past their end; exit when no stream is open."""
        while True:
            time.sleep(self.REAP_INTERVAL_S)
            now = time.monotonic()
            with self._lock:
                if not self._live:
                    self._reaper = None
                    return
                stuck = [s for s in self._live if not s.cancelled and s.cancel is not None and (
                    (s.superseded.is_set() and now - s.superseded_at > self.REAP_GRACE_S)
                    or now > s.deadline + self.REAP_GRACE_S)]
                for s in stuck:
                    s.cancelled = True
            for s in stuck:
                try:
                    s.cancel()
                except Exception:  # noqa: BLE001 - the RPC may already be over
                    pass


class _SlotContext:
    def __init__(self, registry: StreamRegistry, area: str, kind: str, cancel=None):
        self.registry, self.area, self.kind, self.cancel = registry, area, kind, cancel

    def __enter__(self) -> Slot:
        self.slot = self.registry.open(self.area, self.kind, self.cancel)
        return self.slot

    def __exit__(self, *exc) -> bool:
        self.registry.close(self.slot)
        return False
