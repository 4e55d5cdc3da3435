"""Test helpers (not fixtures): build token batches and drain alert streams."""

from __future__ import annotations

import hashlib
import uuid

import grpc

from fedalert.v1 import matcher_pb2 as pb


def tok(label: str) -> bytes:
    """A 16-byte stand-in token value derived from a label (tests only)."""
    return hashlib.sha256(label.encode()).digest()[:16]


def record(handle: str, key_id: str = "k1", **kinds: str) -> pb.RecordTokens:
    """A RecordTokens with one token per kind, value derived from the label."""
    rec = pb.RecordTokens(handle=handle, key_id=key_id)
    for kind, label in kinds.items():
        rec.tokens.add(kind=kind, value=tok(f"{key_id}/{kind}/{label}"))
    return rec


def publish(stub, *records: pb.RecordTokens, batch_id: str | None = None) -> pb.PublishResponse:
    return stub.Publish(pb.PublishRequest(batch_id=batch_id or uuid.uuid4().hex, records=records), timeout=10)


def drain(stub, after: int = 0, idle: float = 1.0) -> list[pb.Alert]:
    """Read alerts from WatchAlerts until the stream is idle for `idle` seconds."""
    out = []
    call = stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=after), timeout=idle)
    try:
        for a in call:
            out.append(a)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
    return out
