"""The Matcher gRPC servicer: thin handlers over the engine and queues."""

from __future__ import annotations

import logging
import re
import threading
import time

from fedalert.matcher._tokens import validate_records
from fedalert.matcher.authz import Authz
from fedalert.matcher.engine import Engine
from fedalert.matcher.errors import InvalidRequestError, PermissionDeniedError
from fedalert.matcher.streams import StreamRegistry
from fedalert.transport import rpc_errors
from fedalert.v1 import matcher_pb2 as pb
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

#: How often an idle stream wakes to re-check revocation and liveness (s).
STREAM_RECHECK_S = 1.0
#: Cursors are SQLite integers: anything above this cannot name a row.
MAX_CURSOR = 2**63 - 1
_BATCH_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_REASON = re.compile(r"^[A-Za-z0-9_. -]{1,64}$")
#: Publish batches validated and waiting for the engine at once. The engine
#: applies one batch at a time; admitting more only holds more batches'
#: token sets in memory (seen at 32 areas: 24 batches waiting, matcher RSS 530 MB).
PUBLISH_SLOTS = 2


def _alert_pb(a) -> pb.Alert:
    return pb.Alert(cursor=a.cursor, alert_id=a.alert_id, match_id=a.match_id, type=a.type, handle=a.handle,
                    other_area=a.other_area, tier=a.tier, key_kinds=a.kinds, score=a.score,
                    created_unix_ms=a.created_ms)


def _envelope_pb(e) -> pb.Envelope:
    return pb.Envelope(cursor=e.cursor, envelope_id=e.envelope_id, match_id=e.match_id, from_area=e.from_area,
                       to_area=e.to_area, kind=e.kind, sealed=e.sealed, created_unix_ms=e.created_ms)


class MatcherService(pb_grpc.MatcherServicer):
    def __init__(self, engine: Engine, authz: Authz, streams: StreamRegistry | None = None, key_guard=None):
        self.engine = engine
        self.authz = authz
        self.streams = streams or StreamRegistry(on_supersede=engine.queues.notify)
        self.key_guard = key_guard  # matcher.keyids.KeyIdGuard: refuses retired key ids
        self._publish_slots = threading.BoundedSemaphore(PUBLISH_SLOTS)

    @rpc_errors
    def Publish(self, request, context):
        area = self.authz.area_of(context)
        if not _BATCH_ID.match(request.batch_id):
            raise InvalidRequestError("batch_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
        with self._publish_slots:
            records = validate_records(request.records)
            if self.key_guard is not None:
                records = self.key_guard.before_publish(records)
            res = self.engine.publish(area, request.batch_id, records)
        return pb.PublishResponse(records_accepted=res.records, tokens_accepted=res.tokens, duplicate=res.duplicate)

    @rpc_errors
    def Withdraw(self, request, context):
        area = self.authz.area_of(context)
        if request.reason and not _REASON.match(request.reason):
            raise InvalidRequestError("reason must be a short code: 1-64 characters of A-Z a-z 0-9 _ . - and space")
        n = self.engine.withdraw(area, request.handle, request.reason or "unspecified")
        return pb.WithdrawResponse(matches_withdrawn=n)

    @rpc_errors
    def AckAlert(self, request, context):
        area = self.authz.area_of(context)
        return pb.AckAlertResponse(acknowledged=self.engine.queues.ack_alert(area, request.alert_id))

    @rpc_errors
    def CountAlerts(self, request, context):
        area = self.authz.area_of(context)
        if request.after_cursor > MAX_CURSOR:
            raise InvalidRequestError(f"after_cursor must be at most {MAX_CURSOR}")
        queued, last = self.engine.queues.count_alerts(area, request.after_cursor)
        return pb.CountAlertsResponse(queued=queued, last_cursor=last)

    @rpc_errors
    def WatchAlerts(self, request, context):
        area = self.authz.area_of(context)
        with self.streams.open_slot(area, "alerts", context.cancel) as slot:
            yield from self._stream(context, area, request.after_cursor,
                                    self.engine.queues.alerts_after, _alert_pb, slot)

    @rpc_errors
    def SendEnvelope(self, request, context):
        area = self.authz.area_of(context)
        if not self.authz.still_allowed(request.to_area):  # revoked (or unknown): nothing is relayed to it
            raise PermissionDeniedError(f"area {request.to_area!r} is not an active member; nothing is relayed to it")
        parties = self.engine.match_parties(request.match_id)
        if self.engine.quota_guard is not None and parties is not None and area in parties:
            # bounds the matcher's disk use per sender (matcher/quotas.py)
            self.engine.quota_guard.check_envelope(self.engine.store, area, request.envelope_id, len(request.sealed))
        dup = self.engine.queues.push_envelope(
            area, request.envelope_id, request.match_id, request.to_area, request.kind, request.sealed,
            parties, int(time.time() * 1000))
        if not dup:
            self.engine.audit_event("relay", envelope_id=request.envelope_id, match_id=request.match_id,
                                   from_area=area, to_area=request.to_area, kind=request.kind,
                                   sealed_bytes=len(request.sealed))
        return pb.SendEnvelopeResponse(duplicate=dup)

    @rpc_errors
    def WatchEnvelopes(self, request, context):
        area = self.authz.area_of(context)
        with self.streams.open_slot(area, "envelopes", context.cancel) as slot:
            yield from self._stream(context, area, request.after_cursor,
                                    self.engine.queues.envelopes_after, _envelope_pb, slot)

    @rpc_errors
    def AckEnvelope(self, request, context):
        area = self.authz.area_of(context)
        return pb.AckEnvelopeResponse(acknowledged=self.engine.queues.ack_envelope(area, request.envelope_id))

    def _stream(self, context, area, cursor, fetch, to_pb, slot):
        if cursor > MAX_CURSOR:
            raise InvalidRequestError(f"after_cursor must be at most {MAX_CURSOR}")
        queues = self.engine.queues
        while context.is_active() and slot.live():
            gen = queues.generation()
            rows = fetch(area, cursor)
            for row in rows:
                yield to_pb(row)
                cursor = row.cursor
            if rows:
                continue
            queues.wait(gen, STREAM_RECHECK_S)
            self.authz.area_of(context)  # revoked, or its certificate renewed: the open stream ends too
        slot.raise_if_superseded()  # else: lifetime reached or client gone; end with OK
