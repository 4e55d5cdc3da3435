"""Key life cycle at the matcher, in one place for ``build_matcher``.

- key ids: retired key ids are refused at publish; first-seen times are kept
  for the retirement grace period (:mod:`fedalert.matcher.keyids`);
- the custodian's sealed keysets are relayed to the areas
  (:mod:`fedalert.matcher.keyrelay`);
- revocations in the directory are enforced and revoked areas purged
  (:mod:`fedalert.matcher.revocation`);
- the matcher's own certificate and the CA are watched for expiry
  (:mod:`fedalert.keys.expiry`).
"""

from __future__ import annotations

import logging

from fedalert.keys.expiry import ExpiryMonitor
from fedalert.matcher import keyids, keyrelay
from fedalert.matcher.revocation import DirectoryWatcher
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger("fedalert.matcher")


class Lifecycle:
    def __init__(self, engine, authz, tls):
        self.engine, self.authz = engine, authz
        self.key_guard = keyids.KeyIdGuard(engine.store, engine.clock)
        self.watcher = DirectoryWatcher(authz, engine)
        self.expiry = ExpiryMonitor({"matcher": tls.cert, "federation CA": tls.ca}, role="matcher", logger=log)

    def add_services(self, server) -> None:
        pb_grpc.add_KeyRelayServicer_to_server(keyrelay.KeyRelayService(self.engine, self.authz), server)

    def start(self) -> None:
        self.watcher.check_now()  # a revocation that arrived while the matcher was down
        self.watcher.start()
        self.expiry.start()

    def stop(self) -> None:
        self.watcher.stop()
        self.expiry.stop()
