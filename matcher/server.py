"""Assemble the matcher: store, engine, servicer, health, over mTLS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.matcher.authz import Authz
from fedalert.matcher.engine import Engine
from fedalert.matcher.lifecycle import Lifecycle
from fedalert.matcher.quotas import QuotaGuard, Quotas
from fedalert.matcher.service import MatcherService
from fedalert.matcher.store import MatcherStore
from fedalert.matcher.streams import DEFAULT_MAX_LIFETIME_S, DEFAULT_MAX_STREAMS, UNARY_RESERVE, StreamRegistry
from fedalert.serving import add_health
from fedalert.transport import MAX_CONCURRENT_RPCS, TlsFiles, add_port, create_server
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


@dataclass
class MatcherApp:
    server: grpc.Server
    port: int
    engine: Engine
    health: object
    lifecycle: Lifecycle | None = None
    streams: StreamRegistry | None = None

    def stop(self, grace: float = 1.0) -> None:
        if self.lifecycle is not None:
            self.lifecycle.stop()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        self.engine.store.close()  # folds the WAL back into the file


#: Open streams each area may hold (WatchAlerts, WatchEnvelopes).
STREAMS_PER_AREA = 2
STREAM_HEADROOM = 8


def pool_sizes(areas: int, max_streams: int | None = None) -> tuple[int, int, int]:
    """(stream cap, worker threads, concurrent RPCs) for a federation of `areas` areas.

    A sync gRPC server runs each open stream on a worker thread until it
    closes. By default the stream cap fits every area's streams (so a large
    federation is never refused); an operator's explicit cap is kept as
    given. The workers are the cap plus a reserve that streams can never take
    (matcher/streams.py); all of it is bounded, since the directory is.
    """
    # Headroom: a reconnecting node briefly holds a new stream beside its old one.
    streams = max_streams or max(DEFAULT_MAX_STREAMS, STREAMS_PER_AREA * max(areas, 1) + STREAM_HEADROOM)
    workers = streams + UNARY_RESERVE
    return streams, workers, max(MAX_CONCURRENT_RPCS, 2 * workers)


def build_matcher(keys_dir: Path, db_path: Path, listen: str, audit_path: Path | None = None, *,
                  extra_listen: list[str] = (), quotas: Quotas | None = None,
                  max_streams: int | None = None,
                  stream_lifetime_s: float = DEFAULT_MAX_LIFETIME_S) -> MatcherApp:
    """Create and start a matcher bound to `listen` (use port 0 in tests).

    Worker threads are the stream cap plus UNARY_RESERVE: streams can never
    hold the threads unary calls need (see matcher/streams.py and pool_sizes).
    """
    keys_dir = Path(keys_dir)
    tls = TlsFiles.for_matcher(keys_dir)
    tls.server_credentials()  # reads matcher.key now: a loose key file is refused before anything is created
    authz = Authz(keys_dir / "directory.json", tls.ca)
    store = MatcherStore(db_path)
    audit = AuditLog(audit_path or Path(db_path).with_suffix(".audit.jsonl"))
    engine = Engine(store, audit=audit)
    engine.quota_guard = QuotaGuard(quotas, audit)
    lifecycle = Lifecycle(engine, authz, tls)  # key ids, keyset relay, revocation, cert expiry
    max_streams, workers, concurrent = pool_sizes(len(authz.directory().areas), max_streams)
    streams = StreamRegistry(max_streams, max_lifetime_s=stream_lifetime_s, on_supersede=engine.queues.notify)
    creds = tls.server_credentials()
    server, port = create_server(listen, creds, max_workers=workers, max_concurrent_rpcs=concurrent)
    for address in extra_listen:  # e.g. a loopback-only port for container health checks
        add_port(server, address, creds)
    pb_grpc.add_MatcherServicer_to_server(
        MatcherService(engine, authz, streams, key_guard=lifecycle.key_guard), server)
    lifecycle.add_services(server)
    health = add_health(server, ["fedalert.v1.Matcher", "fedalert.v1.KeyRelay"])
    server.start()
    lifecycle.start()
    return MatcherApp(server, port, engine, health, lifecycle, streams)
