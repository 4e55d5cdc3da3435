"""Key life cycle inside the running node, one round per publisher wake-up.

Before the node publishes or reads alerts it checks the matcher's certificate
against the signed directory (:class:`~fedalert.node.trust.NodeTrust`): a
revoked or unexpected matcher is refused and the alert stream is stopped.
Then it fetches sealed keysets waiting at the matcher, installs them, reloads
the keyset file if it changed on disk (relay or by hand), and marks every
record for republishing when the primary key id changed. It also logs a
WARNING at start and daily when its certificate or the CA expires soon.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import grpc

from fedalert.keys.errors import KeysError
from fedalert.keys.expiry import ExpiryMonitor
from fedalert.node.rotation import KeysetHolder, fetch_and_install, republish_if_rotated
from fedalert.node.trust import NodeTrust, PeerRefusedError
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger("fedalert.node")

RECHECK_MATCHER_S = 300.0


class NodeLifecycle:
    def __init__(self, keys_dir: Path, store, audit, channel, matcher_target: str, matcher_name: str,
                 clock=time.monotonic, keyset_poll_s: float = 10.0, token_source=None):
        keys_dir = Path(keys_dir)
        self.store, self.audit, self.clock = store, audit, clock
        self.target, self.name = matcher_target, matcher_name
        self.trust = NodeTrust(keys_dir)
        # HMAC mode: the keyset file (reloaded on change). OPRF mode: the directory's key ids, read
        # through the token source (node/oprf_tokens.py); no keyset is relayed to the node.
        self.token_source = token_source
        self.keysets = KeysetHolder(keys_dir) if token_source is None else None
        self.keys_dir = keys_dir
        self.relay = pb_grpc.KeyRelayStub(channel)
        self.expiry = ExpiryMonitor({"node": keys_dir / "node.crt", "federation CA": keys_dir / "ca.crt"},
                                    role="node", logger=log)
        self.keyset_poll_s = keyset_poll_s
        self._fetched_at: float | None = None
        self._checked_version: int | None = None
        self._checked_at = 0.0
        self.matcher_state = "unknown"  # unknown | allowed | refused

    def start(self) -> None:
        self.expiry.start()

    def stop(self) -> None:
        self.expiry.stop()

    @property
    def keyset(self):
        return self.token_source if self.token_source is not None else self.keysets.current()

    def matcher_allowed(self) -> bool:
        """True when the matcher's certificate is the directory's and not revoked (re-checked on change)."""
        try:
            d = self.trust.directory()
        except KeysError as exc:
            log.error("cannot read the federation directory: %s", exc)
            return self.matcher_state == "allowed"
        fresh = d.version == self._checked_version and self.clock() - self._checked_at < RECHECK_MATCHER_S
        if fresh and self.matcher_state == "allowed":
            return True  # a refusal is re-checked every round (the matcher may get its new certificate)
        try:
            self.trust.check_matcher(self.target, self.name)
        except PeerRefusedError as exc:
            if self.matcher_state != "refused":
                log.error("%s", exc)
                if self.audit is not None:
                    self.audit.append("matcher_refused", directory_version=d.version)
            self.matcher_state = "refused"
        except OSError as exc:  # matcher down or TLS failure: unknown, try again next round
            log.info("matcher check failed (%s); will retry", type(exc).__name__)
            self.matcher_state = "unknown"
            return False
        else:
            self.matcher_state = "allowed"
        self._checked_version, self._checked_at = d.version, self.clock()
        return self.matcher_state == "allowed"

    def key_round(self) -> None:
        """Install relayed keysets (every keyset_poll_s), reload the keyset file, republish after a rotation."""
        now = self.clock()
        if self.token_source is not None:  # OPRF mode: the directory names the key ids
            republish_if_rotated(self.store, self.token_source, self.audit)
            return
        if self._fetched_at is None or now - self._fetched_at >= self.keyset_poll_s:
            try:
                fetch_and_install(self.relay, self.keys_dir, self.audit)
                self._fetched_at = now
            except grpc.RpcError as exc:
                log.info("keyset fetch failed (%s); will retry", exc.code().name)
        republish_if_rotated(self.store, self.keysets.current(), self.audit)
