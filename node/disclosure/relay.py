"""The node's side of the disclosure relay: send the outbox, receive envelopes.

The disclosure workflow (:mod:`.outbox`) writes every sealed
envelope to an outbox in the same transaction as the state change it reports.
Here:

- :func:`send_outbox` hands each pending envelope, oldest first, to the
  matcher's ``SendEnvelope`` and marks it sent once the matcher has it (a
  duplicate counts: envelope ids come from the payload, so a resend is
  harmless). Order matters (a decision must arrive before its release), so a
  transient failure stops the round; a permanent refusal (for example the
  match was withdrawn) holds back that match's later envelopes only.
- :class:`EnvelopeWatcher` keeps ``WatchEnvelopes`` open with the last cursor,
  hands each envelope to :func:`.outbox.dispatch` and then acknowledges it.
  A refused envelope (a ``DisclosureError``: tampered, replayed, misaddressed,
  a policy rule) is acknowledged too, so one bad envelope never blocks the
  queue; only its type and rule code are logged. Any other failure (the
  database is busy, a bug) leaves it unacknowledged and re-opens the stream
  from the last good cursor, so it is delivered again.
- :func:`housekeeping` deletes received releases whose retention ended and
  warns about overdue emergency records.

Each thread uses its own node store, so its own SQLite connection (the CLI
writes from another process as well); the busy timeout serialises writers.
The inbox lookups and the envelope cursor go through the node store
(:class:`fedalert.node.store.NodeStore`); the outbox is the disclosure
domain's own table.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass
from pathlib import Path

import grpc

from fedalert.node.disclosure.errors import DisclosureError
from fedalert.node.disclosure.lifecycle import close_for_withdrawn_matches, overdue_emergency_releases
from fedalert.node.disclosure.model import MatchInfo
from fedalert.node.disclosure.outbox import AreaKeys, Dispatched, dispatch, outbox_pending, outbox_sent
from fedalert.node.disclosure.receive import expire_releases
from fedalert.node.errors import NodeError
from fedalert.node.inbox import STREAM_DEADLINE_S, StreamWatcher
from fedalert.node.store import NodeStore
from fedalert.node.trust import NodeTrust
from fedalert.v1 import matcher_pb2 as pb

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 10.0
ACK_TIMEOUT_S = 10.0
#: Codes after which resending the same envelope cannot succeed until something changes.
_PERMANENT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
              grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE}


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


# --- keys ---------------------------------------------------------------------


class TrustDirectory:
    """The directory as the disclosure code needs it, backed by :class:`NodeTrust`
    (re-read when the file changes; an unknown or revoked area is refused)."""

    def __init__(self, trust: NodeTrust):
        self.trust = trust

    def sealing_public(self, area: str):
        self.trust.check_sender(area)
        return self.trust.directory().sealing_public(area)

    def signing_public(self, area: str):
        return self.trust.sender_key(area)

    def is_revoked(self, area: str) -> bool:
        d = self.trust.directory()
        return area not in d.areas or d.is_revoked(area)


def own_area(keys_dir: Path) -> str:
    """This node's area id, read from its certificate (never from config)."""
    from cryptography import x509

    from fedalert.keys import area_from_cert

    keys_dir = Path(keys_dir)
    trust = NodeTrust(keys_dir)
    cert = x509.load_pem_x509_certificate((keys_dir / "node.crt").read_bytes())
    return area_from_cert(cert, trust.directory().federation)


def load_area_keys(keys_dir: Path, trust: NodeTrust | None = None) -> AreaKeys:
    """This area's sealing and signing keys plus the live directory, from the key ceremony folder."""
    from fedalert.keys import load_sealing_key, load_signing_key

    keys_dir = Path(keys_dir)
    trust = trust or NodeTrust(keys_dir)
    return AreaKeys(
        area=own_area(keys_dir),
        sealing_key=load_sealing_key(keys_dir / "sealing.key"),
        signing_key=load_signing_key(keys_dir / "signing.key"),
        directory=TrustDirectory(trust),
    )


# --- lookups from the alert inbox ------------------------------------------------


def match_lookup(store: NodeStore, my_area: str):
    """``match_id -> MatchInfo`` from this node's alert inbox (the node store's matches).

    The node knows its own handle only: alerts never carry the other area's
    handle, so that end is left empty."""

    def lookup(match_id: str) -> MatchInfo | None:
        m = store.match(match_id)
        if m is None:
            return None
        return MatchInfo(m["match_id"], my_area, m["handle"], m["other_area"], "", withdrawn=m["status"] != "live")

    return lookup


def record_lookup(store: NodeStore):
    """``handle -> record_id`` for this node's own records."""

    def lookup(handle: str) -> str | None:
        row = store.record_by_handle(handle)
        return row["record_id"] if row else None

    return lookup


# --- sending --------------------------------------------------------------------


@dataclass
class SendStats:
    sent: int = 0
    duplicates: int = 0
    held: int = 0


def send_outbox(db, stub, *, now=utcnow, timeout: float = SEND_TIMEOUT_S, _warned: set | None = None) -> SendStats:
    """Send every pending envelope in order. Raises grpc.RpcError on a transient failure."""
    stats = SendStats()
    held: set[tuple[str, str]] = set()
    for env in outbox_pending(db):
        lane = (env.match_id, env.to_area)
        if lane in held:
            stats.held += 1
            continue
        try:
            resp = stub.SendEnvelope(pb.SendEnvelopeRequest(
                envelope_id=env.envelope_id, match_id=env.match_id, to_area=env.to_area, kind=env.kind,
                sealed=env.sealed), timeout=timeout)
        except grpc.RpcError as exc:
            if exc.code() not in _PERMANENT:
                raise
            held.add(lane)
            stats.held += 1
            if _warned is None or env.envelope_id not in _warned:
                log.warning("matcher refused %s envelope %s for match %s (%s); it stays in the outbox",
                            env.kind, env.envelope_id, env.match_id, exc.code().name)
                if _warned is not None:
                    _warned.add(env.envelope_id)
            continue
        outbox_sent(db, env.envelope_id, now=now())
        stats.sent += 1
        stats.duplicates += int(resp.duplicate)
    return stats


# --- receiving ------------------------------------------------------------------


class Receiver:
    """Dispatch one relayed envelope into the disclosure workflow (no gRPC).

    *store* is a node store of this thread's own (one SQLite connection each)."""

    def __init__(self, store: NodeStore, audit, protocol, keys: AreaKeys, *, now=utcnow):
        self.store, self.audit, self.protocol, self.keys, self.now = store, audit, protocol, keys, now
        self.match_lookup = match_lookup(store, keys.area)
        self.record_lookup = record_lookup(store)

    def handle(self, env: pb.Envelope) -> Dispatched | None:
        """Dispatch; None when the envelope was refused (logged, to be acknowledged anyway)."""
        try:
            return dispatch(self.store.db, self.audit, self.protocol, self.keys, kind=env.kind,
                            match_id=env.match_id, from_area=env.from_area, sealed=bytes(env.sealed),
                            match_lookup=self.match_lookup, record_lookup=self.record_lookup, now=self.now())
        except (DisclosureError, NodeError) as exc:
            code = getattr(exc, "rule", "") or getattr(exc, "reason", "") or ""
            log.warning("refused %s envelope %s from area %s: %s%s", env.kind, env.envelope_id, env.from_area,
                        type(exc).__name__, f" ({code})" if isinstance(code, str) and code else "")
            return None


def receive_one(receiver: Receiver, stub, env: pb.Envelope) -> Dispatched | None:
    """Dispatch, acknowledge, then remember the cursor. Other errors propagate (no ack)."""
    got = receiver.handle(env)
    stub.AckEnvelope(pb.AckEnvelopeRequest(envelope_id=env.envelope_id), timeout=ACK_TIMEOUT_S)
    receiver.store.save_envelope_cursor(env.cursor)
    return got


def drain_envelopes(receiver: Receiver, stub, idle_timeout: float = 2.0) -> list[Dispatched | None]:
    """Receive envelopes until the stream is idle for *idle_timeout* (CLI flush, tests)."""
    out = []
    call = stub.WatchEnvelopes(pb.WatchEnvelopesRequest(after_cursor=receiver.store.envelope_cursor()),
                               timeout=idle_timeout)
    try:
        for env in call:
            out.append(receive_one(receiver, stub, env))
    except grpc.RpcError as exc:
        if exc.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED):
            raise
    finally:
        call.cancel()
    return out


class EnvelopeWatcher(StreamWatcher):
    """Background thread: keep the envelope stream open and dispatch what arrives."""

    what = "envelope stream"

    def __init__(self, receiver: Receiver, stub, on_envelope=None):
        super().__init__("envelope-watcher")
        self.receiver, self.stub, self.on_envelope = receiver, stub, on_envelope

    def open_stream(self):
        return self.stub.WatchEnvelopes(pb.WatchEnvelopesRequest(after_cursor=self.receiver.store.envelope_cursor()),
                                        timeout=STREAM_DEADLINE_S)

    def handle(self, env) -> None:
        got = receive_one(self.receiver, self.stub, env)
        if self.on_envelope is not None:
            self.on_envelope(env, got)


# --- housekeeping -----------------------------------------------------------------


def housekeeping(db, audit, *, now: _dt.datetime) -> tuple[list[str], list]:
    """Delete releases past retention; warn about overdue emergency records; close pending requests
    on withdrawn matches. Returns (deleted, overdue)."""
    closed = close_for_withdrawn_matches(db, audit, now=now)
    for row in closed:
        log.info("closed disclosure request %s: its match %s was withdrawn",
                 row.request.request_id, row.request.match_id)
    deleted = expire_releases(db, audit, now=now)
    if deleted:
        log.info("deleted %d received release(s) at the end of their retention period", len(deleted))
    overdue = [o for o in overdue_emergency_releases(db, now=now) if o.overdue]
    for o in overdue:
        log.warning("emergency release %s (request %s) is overdue: its full record was due %s UTC",
                    o.release_id, o.request_id, o.complete_by.strftime("%Y-%m-%d %H:%M"))
    return deleted, overdue
