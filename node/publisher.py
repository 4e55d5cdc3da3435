"""Publish what changed: token sets of new/updated records, withdrawals.

Only records whose version is ahead of what the matcher acknowledged are
sent, in batches. A batch keeps one id across retries, so the matcher can
tell a retry from a new publish. After a crash or restart, the versions in
the store say exactly what is still to send.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from fedalert.node.records import identity_from_json
from fedalert.node.matchkeys import build_match_keys
from fedalert.node.tokens import OPRF, TOKEN_BYTES, mode_of, tokenise_records
from fedalert.v1 import matcher_pb2 as pb

log = logging.getLogger(__name__)

#: Records per Publish. Each batch is one matcher transaction and commit, and a
#: commit rewrites most pages of the matcher's staged token table, so fewer,
#: larger batches cost less per token (1,000 is the matcher's limit; ~80 tokens
#: a record, 16 bytes each: ~1.3 MB a batch).
BATCH_RECORDS = 1000
#: In OPRF token mode a record's tokens cost the node and the key service ~0.5 ms of CPU each
#: (~40 ms a record), far more than the matcher's commit: smaller batches reach the matcher
#: (and raise alerts) sooner at no cost to throughput.
OPRF_BATCH_RECORDS = 250
RPC_TIMEOUT_S = 60.0
_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}


@dataclass
class PublishStats:
    records: int = 0
    tokens: int = 0
    withdrawn: int = 0
    batches: int = 0


def build_batch(keyset, pending, key_ids=None) -> tuple[pb.PublishRequest, list[tuple[str, int]], int]:
    """Tokenise pending active records into one PublishRequest, under each of `key_ids`
    (default: the primary only; during a key rotation also the previous key, see node/rotation.py).

    One call to the token source per key id for the whole batch
    (tokens.tokenise_records): in OPRF mode that is one evaluation round at
    the key service, not one per record."""
    match_keys = [build_match_keys(identity_from_json(p.identity_json)) for p in pending]
    ids = key_ids or [keyset.primary_id]
    by_key = {key_id: tokenise_records(keyset, match_keys, key_id) for key_id in ids}
    records, n_bytes = [], 0
    for i, p in enumerate(pending):
        for key_id in ids:
            kinds, counts, values = by_key[key_id][i]
            records.append(pb.RecordTokens(handle=p.handle, key_id=key_id, kinds=kinds, counts=counts, values=values))
            n_bytes += len(values)
    sent = [(p.record_id, p.version) for p in pending]
    return pb.PublishRequest(batch_id=uuid.uuid4().hex, records=records), sent, n_bytes // TOKEN_BYTES


def _call(fn, request, retries: int):
    for attempt in range(retries + 1):
        try:
            return fn(request, timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            if exc.code() not in _RETRYABLE or attempt == retries:
                raise
            log.info("publish retry %d after %s", attempt + 1, exc.code().name)
    raise AssertionError("unreachable")


@dataclass
class _InFlight:
    request: pb.PublishRequest
    sent: list[tuple[str, int]]
    tokens: int
    future: object


def publish_pending(store, stub, keyset, *, batch_records: int | None = None, retries: int = 2,
                    progress: Callable[[int, int], None] | None = None, audit=None,
                    key_ids: list[str] | None = None) -> PublishStats:
    """Send every pending change; stops when nothing is pending (bounded).

    Records go out under each of `key_ids` (default: the primary only; during
    a key rotation also the previous key, see node/rotation.py).

    At most one Publish is in flight: the next batch is tokenised while the
    matcher applies the previous one, so the node's hashing and the
    matcher's indexing overlap. A batch is marked published only once the
    matcher has acknowledged it; if anything fails, what was not
    acknowledged stays pending and is sent again (the matcher ignores an
    unchanged record).
    """
    key_ids = list(key_ids or [keyset.primary_id])
    if batch_records is None:
        batch_records = OPRF_BATCH_RECORDS if mode_of(keyset, key_ids[0]) == OPRF else BATCH_RECORDS
    batch_records = max(1, batch_records // len(key_ids))  # a batch stays within the matcher's record limit
    stats = PublishStats()
    total = store.pending_count()
    max_rounds = total // max(batch_records, 1) + 10
    inflight: _InFlight | None = None

    def finish(batch: _InFlight) -> None:
        try:
            batch.future.result()
        except grpc.RpcError as exc:
            if exc.code() not in _RETRYABLE:
                raise
            _call(stub.Publish, batch.request, retries)  # same batch id: the matcher tells a retry
        store.mark_published(batch.sent)
        stats.records += len(batch.sent)
        stats.tokens += batch.tokens
        stats.batches += 1
        if audit is not None:
            audit.append("publish", batch_id=batch.request.batch_id, records=len(batch.sent),
                         token_count=batch.tokens, key_id=keyset.primary_id, key_ids=key_ids)

    for _ in range(max_rounds):
        busy = {rid for rid, _ in inflight.sent} if inflight else set()
        pending = [p for p in store.pending(batch_records + len(busy)) if p.record_id not in busy][:batch_records]
        if not pending:
            break
        active = [p for p in pending if p.status == "active"]
        gone = [p for p in pending if p.status == "withdrawn"]
        nxt = None
        if active:
            try:
                req, sent, n_tokens = build_batch(keyset, active, key_ids)
            except BaseException:
                # e.g. the key service is down: the batch already sent still counts (and is marked
                # published), so that the next round does not send it again under a new batch id.
                if inflight is not None:
                    finish(inflight)
                raise
            nxt = (req, sent, n_tokens)
        if inflight is not None:
            finish(inflight)
            inflight = None
        if nxt is not None:
            req, sent, n_tokens = nxt
            inflight = _InFlight(req, sent, n_tokens, stub.Publish.future(req, timeout=RPC_TIMEOUT_S))
        for p in gone:
            _call(stub.Withdraw, pb.WithdrawRequest(handle=p.handle, reason=p.withdraw_reason or "withdrawn"), retries)
            store.mark_published([(p.record_id, p.version)])
            stats.withdrawn += 1
            if audit is not None:
                audit.append("withdraw", handle=p.handle, reason=p.withdraw_reason or "withdrawn")
        if progress:
            progress(stats.records + stats.withdrawn, total)
    if inflight is not None:
        finish(inflight)
        if progress:
            progress(stats.records + stats.withdrawn, total)
    return stats
