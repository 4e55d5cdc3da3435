"""Post sealed keyset packages to the matcher as the key custodian.

The custodian connects with its own client certificate
(``DIR/ca/custodian.crt``); the matcher accepts keyset posts from that
certificate only and relays each package to its area. The matcher is checked
by the TLS name ``matcher`` (only the matcher certificate carries it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedalert.keys.certs import MATCHER_DNS_NAME
from fedalert.keys.custody import custodian_tls_paths
from fedalert.keys.keydelivery import KeysetPackage

RPC_TIMEOUT_S = 30.0


@dataclass
class SendResult:
    sent: int = 0
    duplicates: int = 0


def send_packages(out: Path, paths: list[Path], matcher: str, *, server_name: str = MATCHER_DNS_NAME) -> SendResult:
    """Post every package file in ``paths`` to the matcher at ``matcher`` (host:port)."""
    from fedalert.transport import TlsFiles, secure_channel
    from fedalert.v1 import matcher_pb2 as pb
    from fedalert.v1 import matcher_pb2_grpc as pb_grpc

    packages = [KeysetPackage.from_json(Path(p).read_bytes(), source=str(p)) for p in paths]
    ca, cert, key = custodian_tls_paths(out)
    res = SendResult()
    with secure_channel(matcher, TlsFiles(ca, cert, key), server_name=server_name) as channel:
        stub = pb_grpc.KeyRelayStub(channel)
        for pkg in packages:
            msg = pb.SealedKeyset(federation=pkg.federation, area=pkg.area, key_id=pkg.key_id, serial=pkg.serial,
                                  sealed=pkg.sealed)
            reply = stub.PostKeyset(pb.PostKeysetRequest(keyset=msg), timeout=RPC_TIMEOUT_S)
            res.sent += 1
            res.duplicates += int(reply.duplicate)
    return res
