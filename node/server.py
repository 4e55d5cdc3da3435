"""The area node daemon: health service, publisher loop, alert watcher and disclosure relay."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.keys.certs import KEYSVC_DNS_NAME, MATCHER_DNS_NAME
from fedalert.node.inbox import AlertWatcher
from fedalert.node.lifecycle import NodeLifecycle
from fedalert.node.oprf_tokens import KeyServiceError, ProofFailedError
from fedalert.node.publisher import publish_pending
from fedalert.node.disclosure import relay
from fedalert.node.rotation import publish_key_ids
from fedalert.node.store import NodeStore
from fedalert.node.trust import matcher_channel
from fedalert.serving import add_health
from fedalert.transport import TlsFiles, create_server
from fedalert.v1 import matcher_pb2 as pb
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

#: Every secret in an area's key folder. A node refuses to start if any of them
#: is readable by group or others (keys.read_secret says how to fix it).
AREA_SECRET_FILES = ("node.key", "tokens.keyset.json", "sealing.key", "signing.key")
#: In OPRF token mode an area holds no token key: tokens.keyset.json is absent
#: (or, while a federation switches from HMAC mode, optional).
TOKEN_KEY_FILE = "tokens.keyset.json"


def token_mode(keys_dir: Path) -> str:
    """'oprf' or 'hmac', as the area's signed directory says."""
    from fedalert.keys import Directory

    keys_dir = Path(keys_dir)
    return Directory.load(keys_dir / "directory.json", keys_dir / "ca.crt").token_mode


def check_key_files(keys_dir: Path) -> None:
    """Refuse (KeyFileError) unless every area secret is an owner-only regular file."""
    from fedalert.keys import read_secret

    oprf = token_mode(keys_dir) == "oprf"
    for name in AREA_SECRET_FILES:
        path = Path(keys_dir) / name
        if name == TOKEN_KEY_FILE and oprf and not path.exists():
            continue
        read_secret(path)


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
    # The information sharing protocol: the national file (default: the one
    # shipped in fedalert.node/data) and this area's overlay (partners, sign-offs).
    protocol: Path | None = None
    overlay: Path | None = None
    housekeeping_interval: float = 600.0
    # OPRF token mode: the key service (host:port) and the TLS name on its certificate.
    keysvc: str | None = None
    keysvc_name: str = KEYSVC_DNS_NAME

    def audit_path(self) -> Path:
        return self.audit or Path(self.db).with_suffix(".audit.jsonl")

    def load_protocol(self):
        from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol

        return load_protocol(self.protocol or bundled_national_path(), self.overlay)


def connect(cfg: NodeConfig) -> tuple[grpc.Channel, pb_grpc.MatcherStub]:
    return matcher_channel(Path(cfg.keys_dir), cfg.matcher, cfg.matcher_name)


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
        self.keysvc_channel = self.tokens = None
        if token_mode(keys) == "oprf":  # no token key here: the key service evaluates blinded match keys
            from fedalert.node.oprf_tokens import open_token_source
            from fedalert.node.trust import NodeTrust

            self.tokens, self.keysvc_channel = open_token_source(keys, self.cfg.db, self.cfg.keysvc,
                                                                 self.cfg.keysvc_name, NodeTrust(keys))
        # Keyset reload and rotation, matcher certificate check, expiry warnings.
        self.lifecycle = NodeLifecycle(keys, self.store, self.audit, self.channel, self.cfg.matcher,
                                       self.cfg.matcher_name, keyset_poll_s=max(1.0, 10 * self.cfg.poll_interval),
                                       token_source=self.tokens)
        self._halted: int | None = None  # directory version at which a failed proof stopped publishing
        self._halt_logged = 0.0
        self.server, self.port = create_server(self.cfg.listen, TlsFiles.for_area(keys).server_credentials())
        self.health = add_health(self.server, ["fedalert.v1.Node"])
        self.watcher = AlertWatcher(self.store, self.stub, self.audit, on_alert=self._on_alert)
        self.stopping = threading.Event()
        self.sweep_now = threading.Event()  # a match was withdrawn: run housekeeping at once
        self.wake = threading.Event()
        self.publisher = threading.Thread(target=self._publish_loop, name="publisher", daemon=True)
        # Disclosure relay: the protocol, this area's keys, one SQLite connection per thread.
        self.protocol = self.cfg.load_protocol()
        self.area_keys = relay.load_area_keys(keys, self.lifecycle.trust)
        self._send_store = NodeStore(self.cfg.db)
        self._recv_store = NodeStore(self.cfg.db)
        self.receiver = relay.Receiver(self._recv_store, self.audit, self.protocol, self.area_keys)
        self.envelopes = relay.EnvelopeWatcher(self.receiver, self.stub)
        self.sender = threading.Thread(target=self._send_loop, name="envelope-sender", daemon=True)
        self.send_wake = threading.Event()

    @property
    def keyset(self):
        """The token keyset in use now (reloaded when the file is replaced)."""
        return self.lifecycle.keyset

    def start(self) -> "NodeApp":
        self.server.start()
        self.lifecycle.start()
        self.publisher.start()  # starts the alert watcher once the matcher's certificate checks out
        self.sender.start()
        return self

    def _gate_matcher(self) -> bool:
        """Talk to the matcher only while the directory allows it; stop the alert stream otherwise."""
        allowed = self.lifecycle.matcher_allowed()
        if allowed and not self.watcher.is_alive() and not self.stopping.is_set():
            if self.watcher.ident is not None:  # a stopped watcher cannot restart: make a new one
                self.watcher = AlertWatcher(self.store, self.stub, self.audit, on_alert=self._on_alert)
            self.watcher.start()
        if allowed and not self.envelopes.is_alive() and not self.stopping.is_set():
            if self.envelopes.ident is not None:
                self.envelopes = relay.EnvelopeWatcher(self.receiver, self.stub)
            self.envelopes.start()
        elif not allowed and self.lifecycle.matcher_state == "refused":
            if self.watcher.is_alive():
                self.watcher.stop()
            if self.envelopes.is_alive():
                self.envelopes.stop()
        return allowed

    def _on_alert(self, alert) -> None:
        if alert.type == pb.ALERT_TYPE_WITHDRAWN:
            self.sweep_now.set()
            self.send_wake.set()

    def _send_loop(self) -> None:
        """Send the disclosure outbox (written by the CLI) in order; retry with backoff; housekeeping."""
        backoff = self.cfg.poll_interval
        warned: set[str] = set()
        next_housekeeping = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() >= next_housekeeping or self.sweep_now.is_set():
                    self.sweep_now.clear()
                    next_housekeeping = time.monotonic() + self.cfg.housekeeping_interval
                    relay.housekeeping(self._send_store.db, self.audit, now=relay.utcnow())
                if self.lifecycle.matcher_state == "allowed":
                    stats = relay.send_outbox(self._send_store.db, self.stub, _warned=warned)
                    if stats.sent:
                        log.info("sent %d disclosure envelope(s)", stats.sent)
                backoff = self.cfg.poll_interval
            except grpc.RpcError as exc:
                log.warning("envelope send failed (%s); will retry", exc.code().name)
                backoff = min(backoff * 2, 10.0)
            except Exception as exc:  # noqa: BLE001 - keep sending alive; type only
                log.error("envelope sender error (%s)", type(exc).__name__)
                backoff = min(backoff * 2, 10.0)
            self.send_wake.wait(backoff)
            self.send_wake.clear()

    def _publish_loop(self) -> None:
        backoff = self.cfg.poll_interval
        while not self.stopping.is_set():
            try:
                if not self._gate_matcher():
                    self.wake.wait(backoff)
                    self.wake.clear()
                    backoff = min(backoff * 2, 10.0)
                    continue
                if self._publishing_halted():
                    self.wake.wait(min(backoff * 2, 10.0))
                    self.wake.clear()
                    continue
                self.lifecycle.key_round()
                if self.store.pending_count():
                    keyset = self.keyset
                    stats = publish_pending(self.store, self.stub, keyset, audit=self.audit,
                                            key_ids=publish_key_ids(self.store, keyset))
                    log.info("published %d records (%d tokens), %d withdrawals",
                             stats.records, stats.tokens, stats.withdrawn)
                backoff = self.cfg.poll_interval
            except ProofFailedError as exc:
                # Never publish tokens that cannot be trusted: stop until the directory changes.
                version = self.lifecycle.trust.directory().version
                log.error("publishing stopped: %s", exc)
                self.audit.append("oprf.proof_failed", directory_version=version)
                self._halt_logged = time.monotonic()
                self._halted = version  # last: once set, the stop is logged and audited
                backoff = min(backoff * 2, 10.0)
            except KeyServiceError as exc:
                # Key service down, over its limits, or a disabled key: nothing is published, retried later.
                log.warning("publish waits for the key service: %s; will retry", exc)
                backoff = min(backoff * 2, 10.0)
            except grpc.RpcError as exc:
                # The matcher's message says why (e.g. over the daily quota); it never echoes tokens.
                log.warning("publish failed (%s: %s); will retry", exc.code().name, exc.details())
                backoff = min(backoff * 2, 10.0)
            except Exception:  # noqa: BLE001 - keep publishing alive
                log.exception("publisher error")
                backoff = min(backoff * 2, 10.0)
            self.wake.wait(backoff)
            self.wake.clear()

    def _publishing_halted(self) -> bool:
        """After a failed proof, publish nothing until the directory changes (ERROR every 10 minutes)."""
        if self._halted is None:
            return False
        version = self.lifecycle.trust.directory().version
        if version != self._halted:
            log.warning("directory version %d loaded after a failed proof: publishing resumes", version)
            self._halted = None
            return False
        if time.monotonic() - self._halt_logged >= 600:
            self._halt_logged = time.monotonic()
            log.error("publishing is still stopped: the key service's proof did not verify under directory "
                      "version %d", version)
        return True

    @property
    def publishing_halted(self) -> bool:
        return self._halted is not None

    def stop(self, grace: float = 1.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.send_wake.set()
        self.publisher.join(timeout=grace + 5)
        self.sender.join(timeout=grace + 5)
        self.watcher.stop()
        self.envelopes.stop()
        self.lifecycle.stop()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        for t in (self.watcher, self.envelopes):
            if t.ident is not None:
                t.join(timeout=grace + 5)
        self.channel.close()
        if self.keysvc_channel is not None:
            self.keysvc_channel.close()
            self.tokens.cache.close()
        self.store.close()
        self._send_store.close()
        self._recv_store.close()
