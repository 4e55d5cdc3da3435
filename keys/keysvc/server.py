"""Assemble the key service: OPRF keyset, store, limits, servicer, health, over mTLS."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import grpc

from fedalert.audit import AuditLog
from fedalert.keys.errors import KeysError
from fedalert.keys.keysvc.limits import Limits
from fedalert.keys.keysvc.service import Evaluator, KeyServiceServicer, KeysetHolder
from fedalert.keys.keysvc.store import KeysvcStore
from fedalert.keys.oprf_keyset import KEYSET_FILE
from fedalert.keys.peers import Authz
from fedalert.serving import add_health
from fedalert.transport import MAX_CONCURRENT_RPCS, TlsFiles, add_port, create_server
from fedalert.v1 import keysvc_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = "fedalert.v1.KeyService"
#: Worker threads beyond one per area (an area's stream holds one while open).
WORKER_RESERVE = 8


def tls_files(keys_dir: Path) -> TlsFiles:
    keys_dir = Path(keys_dir)
    return TlsFiles(keys_dir / "ca.crt", keys_dir / "keysvc.crt", keys_dir / "keysvc.key")


@dataclass
class KeysvcApp:
    server: grpc.Server
    port: int
    evaluator: Evaluator
    store: KeysvcStore
    health: object

    def stop(self, grace: float = 1.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1)
        self.store.close()


def build_keysvc(keys_dir: Path, db_path: Path, listen: str, audit_path: Path | None = None, *,
                 limits: Limits | None = None, extra_listen: list[str] = (), workers: int | None = None
                 ) -> KeysvcApp:
    """Create and start a key service bound to `listen` (port 0 in tests)."""
    keys_dir = Path(keys_dir)
    tls = tls_files(keys_dir)
    creds = tls.server_credentials()  # reads keysvc.key now: a loose key file is refused before anything else
    authz = Authz(keys_dir / "directory.json", tls.ca)
    d = authz.directory()
    if d.token_mode != "oprf":
        raise KeysError(f"the {d.federation} directory (version {d.version}) is in HMAC token mode: no key service "
                        "is needed (or copy the directory made by 'fedalert keys token-mode oprf')")
    holder = KeysetHolder(keys_dir / KEYSET_FILE, directory=authz.directory)
    store = KeysvcStore(db_path)
    audit = AuditLog(audit_path or Path(db_path).with_suffix(".audit.jsonl"))
    evaluator = Evaluator(holder, store, limits, audit, workers=workers or os.cpu_count() or 2)
    n_workers = max(16, len(d.areas) + WORKER_RESERVE)
    server, port = create_server(listen, creds, max_workers=n_workers,
                                 max_concurrent_rpcs=max(MAX_CONCURRENT_RPCS, 2 * n_workers))
    for address in extra_listen:
        add_port(server, address, creds)
    pb_grpc.add_KeyServiceServicer_to_server(KeyServiceServicer(evaluator, authz), server)
    health = add_health(server, [SERVICE_NAME])
    store.prune(evaluator.clock())
    server.start()
    return KeysvcApp(server, port, evaluator, store, health)
