"""Assemble the matcher: store, engine, servicer, health, over mTLS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.matcher.authz import Authz
from fedalert.matcher.engine import Engine
from fedalert.matcher.service import MatcherService
from fedalert.matcher.store import open_store
from fedalert.serving import add_health
from fedalert.transport import MAX_CONCURRENT_RPCS, MAX_WORKERS, TlsFiles, create_server
from fedalert.v1 import matcher_pb2_grpc as pb_grpc


@dataclass
class MatcherApp:
    server: grpc.Server
    port: int
    engine: Engine
    health: object

    def stop(self, grace: float = 1.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        self.engine.db.conn.close()


#: Open streams each area may hold (WatchAlerts, WatchEnvelopes).
STREAMS_PER_AREA = 2


def pool_sizes(areas: int) -> tuple[int, int]:
    """(worker threads, concurrent RPCs) for a federation of `areas` areas.

    A sync gRPC server runs each open stream on a worker thread until it
    closes. With the fixed 16 workers, 16 areas watching alerts took every
    worker and a 17th area's Publish queued forever. Size the pool so every
    area's streams fit and MAX_WORKERS threads stay free for unary calls;
    bounded, since the directory is.
    """
    streams = STREAMS_PER_AREA * max(areas, 1)
    return streams + MAX_WORKERS, streams + MAX_CONCURRENT_RPCS


def build_matcher(keys_dir: Path, db_path: Path, listen: str, audit_path: Path | None = None) -> MatcherApp:
    """Create and start a matcher bound to `listen` (use port 0 in tests)."""
    keys_dir = Path(keys_dir)
    tls = TlsFiles.for_matcher(keys_dir)
    authz = Authz(keys_dir / "directory.json", tls.ca)
    db = open_store(db_path)
    audit = AuditLog(audit_path or Path(db_path).with_suffix(".audit.jsonl"))
    engine = Engine(db, audit=audit)
    workers, concurrent = pool_sizes(len(authz.directory().areas))
    server, port = create_server(listen, tls.server_credentials(), max_workers=workers,
                                 max_concurrent_rpcs=concurrent)
    pb_grpc.add_MatcherServicer_to_server(MatcherService(engine, authz), server)
    health = add_health(server, ["fedalert.v1.Matcher"])
    server.start()
    return MatcherApp(server, port, engine, health)
