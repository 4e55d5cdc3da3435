"""Assemble the matcher: store, engine, servicer, health, over mTLS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.matcher.authz import Authz
from fedalert.matcher.engine import Engine
from fedalert.matcher.quotas import QuotaGuard, Quotas
from fedalert.matcher.service import MatcherService
from fedalert.matcher.store import open_store
from fedalert.matcher.streams import DEFAULT_MAX_LIFETIME_S, DEFAULT_MAX_STREAMS, UNARY_RESERVE, StreamRegistry
from fedalert.serving import add_health
from fedalert.transport import TlsFiles, create_server
from fedalert.v1 import matcher_pb2_grpc as pb_grpc


@dataclass
class MatcherApp:
    server: grpc.Server
    port: int
    engine: Engine
    health: object
    streams: StreamRegistry | None = None

    def stop(self, grace: float = 1.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        self.engine.db.conn.close()


def build_matcher(keys_dir: Path, db_path: Path, listen: str, audit_path: Path | None = None, *,
                  quotas: Quotas | None = None, max_streams: int = DEFAULT_MAX_STREAMS,
                  stream_lifetime_s: float = DEFAULT_MAX_LIFETIME_S) -> MatcherApp:
    """Create and start a matcher bound to `listen` (use port 0 in tests).

    Worker threads are ``max_streams + UNARY_RESERVE``: streams can never hold
    the threads unary calls need (see matcher/streams.py).
    """
    keys_dir = Path(keys_dir)
    tls = TlsFiles.for_matcher(keys_dir)
    tls.server_credentials()  # reads matcher.key now: a loose key file is refused before anything is created
    authz = Authz(keys_dir / "directory.json", tls.ca)
    db = open_store(db_path)
    audit = AuditLog(audit_path or Path(db_path).with_suffix(".audit.jsonl"))
    engine = Engine(db, audit=audit)
    engine.quota_guard = QuotaGuard(quotas, audit)
    streams = StreamRegistry(max_streams, max_lifetime_s=stream_lifetime_s, on_supersede=engine.queues.notify)
    server, port = create_server(listen, tls.server_credentials(), max_workers=max_streams + UNARY_RESERVE)
    pb_grpc.add_MatcherServicer_to_server(MatcherService(engine, authz, streams), server)
    health = add_health(server, ["fedalert.v1.Matcher"])
    server.start()
    return MatcherApp(server, port, engine, health, streams)
