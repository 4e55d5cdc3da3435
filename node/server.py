"""The area node daemon: health service, publisher loop and alert watcher."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.keys.certs import MATCHER_DNS_NAME
from fedalert.node.inbox import AlertWatcher
from fedalert.node.lifecycle import NodeLifecycle
from fedalert.node.publisher import publish_pending
from fedalert.node.rotation import publish_key_ids
from fedalert.node.store import NodeStore
from fedalert.serving import add_health
from fedalert.transport import TlsFiles, create_server, secure_channel
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

#: Every secret in an area's key folder. A node refuses to start if any of them
#: is readable by group or others (keys.read_secret says how to fix it).
AREA_SECRET_FILES = ("node.key", "tokens.keyset.json", "sealing.key", "signing.key")


def check_key_files(keys_dir: Path) -> None:
    """Refuse (KeyFileError) unless every area secret is an owner-only regular file."""
    from fedalert.keys import read_secret

    for name in AREA_SECRET_FILES:
        read_secret(Path(keys_dir) / name)


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
    poll_interval: float = 1.0

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
        check_key_files(keys)  # before anything is opened or created
        self.store = NodeStore(self.cfg.db)
        self.audit = AuditLog(self.cfg.audit_path())
        self.channel, self.stub = connect(self.cfg)
        # Keyset reload and rotation, matcher certificate check, expiry warnings.
        self.lifecycle = NodeLifecycle(keys, self.store, self.audit, self.channel, self.cfg.matcher,
                                       self.cfg.matcher_name, keyset_poll_s=max(1.0, 10 * self.cfg.poll_interval))
        self.server, self.port = create_server(self.cfg.listen, TlsFiles.for_area(keys).server_credentials())
        self.health = add_health(self.server, ["fedalert.v1.Node"])
        self.watcher = AlertWatcher(self.store, self.stub, self.audit)
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.publisher = threading.Thread(target=self._publish_loop, name="publisher", daemon=True)

    @property
    def keyset(self):
        """The token keyset in use now (reloaded when the file is replaced)."""
        return self.lifecycle.keyset

    def start(self) -> "NodeApp":
        self.server.start()
        self.lifecycle.start()
        self.publisher.start()  # starts the alert watcher once the matcher's certificate checks out
        return self

    def _gate_matcher(self) -> bool:
        """Talk to the matcher only while the directory allows it; stop the alert stream otherwise."""
        allowed = self.lifecycle.matcher_allowed()
        if allowed and not self.watcher.is_alive() and not self.stopping.is_set():
            if self.watcher.ident is not None:  # a stopped watcher cannot restart: make a new one
                self.watcher = AlertWatcher(self.store, self.stub, self.audit)
            self.watcher.start()
        elif not allowed and self.lifecycle.matcher_state == "refused" and self.watcher.is_alive():
            self.watcher.stop()
        return allowed

    def _publish_loop(self) -> None:
        backoff = self.cfg.poll_interval
        while not self.stopping.is_set():
            try:
                if not self._gate_matcher():
                    self.wake.wait(backoff)
                    self.wake.clear()
                    backoff = min(backoff * 2, 10.0)
                    continue
                self.lifecycle.key_round()
                if self.store.pending_count():
                    keyset = self.keyset
                    stats = publish_pending(self.store, self.stub, keyset, audit=self.audit,
                                            key_ids=publish_key_ids(self.store, keyset))
                    log.info("published %d records (%d tokens), %d withdrawals",
                             stats.records, stats.tokens, stats.withdrawn)
                backoff = self.cfg.poll_interval
            except grpc.RpcError as exc:
                # The matcher's message says why (e.g. over the daily quota); it never echoes tokens.
                log.warning("publish failed (%s: %s); will retry", exc.code().name, exc.details())
                backoff = min(backoff * 2, 10.0)
            except Exception:  # noqa: BLE001 - keep publishing alive
                log.exception("publisher error")
                backoff = min(backoff * 2, 10.0)
            self.wake.wait(backoff)
            self.wake.clear()

    def stop(self, grace: float = 1.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.publisher.join(timeout=grace + 5)
        self.watcher.stop()
        self.lifecycle.stop()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        if self.watcher.ident is not None:
            self.watcher.join(timeout=grace + 5)
        self.channel.close()
        self.store.close()
