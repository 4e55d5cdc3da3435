"""The area node daemon: health service, publisher loop and alert watcher."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.keys import TokenKeyset
from fedalert.keys.certs import MATCHER_DNS_NAME
from fedalert.node.inbox import AlertWatcher
from fedalert.node.publisher import publish_pending
from fedalert.node.store import NodeStore
from fedalert.serving import add_health
from fedalert.transport import TlsFiles, create_server, secure_channel
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


@dataclass
class NodeConfig:
    keys_dir: Path
    db: Path
    matcher: str
    listen: str = "127.0.0.1:0"
    audit: Path | None = None
    # TLS name checked on the matcher's certificate. Only the matcher's cert
    # carries DNS 'matcher' (area certs also name localhost/127.0.0.1).
    matcher_name: str = MATCHER_DNS_NAME
    # How often the publisher checks for new records while idle (s). The
    # check is one count over a partial index (records_pending), so polling
    # often is cheap, and a new record is published within this delay.
    poll_interval: float = 0.05

    def audit_path(self) -> Path:
        return self.audit or Path(self.db).with_suffix(".audit.jsonl")


def connect(cfg: NodeConfig) -> tuple[grpc.Channel, pb_grpc.MatcherStub]:
    channel = secure_channel(cfg.matcher, TlsFiles.for_area(Path(cfg.keys_dir)), server_name=cfg.matcher_name)
    return channel, pb_grpc.MatcherStub(channel)


@dataclass
class NodeApp:
    cfg: NodeConfig
    store: NodeStore = field(init=False)
    port: int = field(init=False, default=0)

    def __post_init__(self):
        keys = Path(self.cfg.keys_dir)
        self.keyset = TokenKeyset.load(keys / "tokens.keyset.json")
        self.store = NodeStore(self.cfg.db)
        self.audit = AuditLog(self.cfg.audit_path())
        self.channel, self.stub = connect(self.cfg)
        self.server, self.port = create_server(self.cfg.listen, TlsFiles.for_area(keys).server_credentials())
        self.health = add_health(self.server, ["fedalert.v1.Node"])
        self.watcher = AlertWatcher(self.store, self.stub, self.audit)
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.publisher = threading.Thread(target=self._publish_loop, name="publisher", daemon=True)

    def start(self) -> "NodeApp":
        self.server.start()
        self.watcher.start()
        self.publisher.start()
        return self

    def _publish_loop(self) -> None:
        backoff = self.cfg.poll_interval
        while not self.stopping.is_set():
            try:
                if self.store.pending_count():
                    stats = publish_pending(self.store, self.stub, self.keyset, audit=self.audit)
                    log.info("published %d records (%d tokens), %d withdrawals",
                             stats.records, stats.tokens, stats.withdrawn)
                backoff = self.cfg.poll_interval
            except grpc.RpcError as exc:
                log.warning("publish failed (%s); will retry", exc.code().name)
                backoff = min(backoff * 2, 10.0)
            except Exception:  # noqa: BLE001 - keep publishing alive
                log.exception("publisher error")
                backoff = min(backoff * 2, 10.0)
            self.wake.wait(backoff)
            self.wake.clear()

    def stop(self, grace: float = 1.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.watcher.stop()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        self.publisher.join(timeout=grace + 5)
        self.watcher.join(timeout=grace + 5)
        self.channel.close()
        self.store.close()
