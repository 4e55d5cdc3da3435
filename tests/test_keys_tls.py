"""Ceremony certificates in a real mutual-TLS gRPC handshake on 127.0.0.1, port 0.

Uses only grpc and the standard health service, so it checks the key material
itself: the matcher certificate serves for ``localhost``; area certificates
are accepted as clients and carry their SPIFFE id to the server; certificates
of another CA and expired certificates are refused by the handshake.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from fedalert.keys import add_area, area_from_cert, init_federation, read_secret

FED = "tlsfed"
RPC_TIMEOUT = 10


class _RecordingHealth(health.HealthServicer):
    def __init__(self):
        super().__init__()
        self.peers: list[bytes] = []
        self._lock = threading.Lock()

    def Check(self, request, context):
        pems = context.auth_context().get("x509_pem_cert") or []
        with self._lock:
            self.peers.extend(pems)
        return super().Check(request, context)


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tls") / "fed"
    init_federation(out, FED, ["north", "south"])
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    add_area(out, "stale", days=1, now=past)  # expired certificate under the same CA
    return out


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tls-other") / "fed"
    init_federation(out, FED, ["north"])
    return out


def _serve(folder: Path, cert: str, key: str):
    servicer = _RecordingHealth()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    creds = grpc.ssl_server_credentials(
        [(read_secret(folder / key), (folder / cert).read_bytes())],
        root_certificates=(folder / "ca.crt").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", creds)
    assert port
    server.start()
    return server, port, servicer


@pytest.fixture(scope="module")
def matcher_server(fed: Path):
    server, port, servicer = _serve(fed / "matcher", "matcher.crt", "matcher.key")
    yield port, servicer
    server.stop(None)


def _check(port: int, client: Path, *, host: str = "localhost", override: str | None = None):
    creds = grpc.ssl_channel_credentials(
        root_certificates=(client / "ca.crt").read_bytes(),
        private_key=read_secret(client / "node.key"),
        certificate_chain=(client / "node.crt").read_bytes(),
    )
    options = [("grpc.ssl_target_name_override", override)] if override else []
    with grpc.secure_channel(f"{host}:{port}", creds, options=options) as ch:
        return health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT)


def test_area_client_reaches_matcher_and_is_identified(fed: Path, matcher_server):
    port, servicer = matcher_server
    for area in ("north", "south"):
        reply = _check(port, fed / "areas" / area)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        pem = servicer.peers[-1]
        assert area_from_cert(x509.load_pem_x509_certificate(pem), FED) == area


def test_matcher_is_reachable_by_ip_127_0_0_1(fed: Path, matcher_server):
    port, _ = matcher_server
    assert _check(port, fed / "areas" / "north", host="127.0.0.1").status == health_pb2.HealthCheckResponse.SERVING


def test_client_from_another_ca_is_refused(other: Path, matcher_server):
    port, _ = matcher_server
    with pytest.raises(grpc.RpcError) as exc:
        _check(port, other / "areas" / "north")
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE


def test_expired_client_certificate_is_refused(fed: Path, matcher_server):
    port, _ = matcher_server
    with pytest.raises(grpc.RpcError) as exc:
        _check(port, fed / "areas" / "stale")
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE


def test_area_node_serves_health_over_tls_under_its_own_name(fed: Path):
    server, port, _ = _serve(fed / "areas" / "north", "node.crt", "node.key")
    try:
        south = fed / "areas" / "south"
        assert _check(port, south).status == health_pb2.HealthCheckResponse.SERVING
        assert _check(port, south, override="area-north").status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError):
            _check(port, south, override="area-south")  # north's cert does not name area-south
    finally:
        server.stop(None)


def test_area_cannot_pose_as_matcher_when_the_client_checks_the_matcher_name(fed: Path):
    """Area certificates also say localhost; a client that verifies 'matcher' is safe."""
    server, port, _ = _serve(fed / "areas" / "south", "node.crt", "node.key")  # south poses as the matcher
    try:
        north = fed / "areas" / "north"
        assert _check(port, north).status == health_pb2.HealthCheckResponse.SERVING  # 'localhost' alone: fooled
        with pytest.raises(grpc.RpcError) as exc:
            _check(port, north, override="matcher")
        assert exc.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(None)


def test_matcher_answers_to_the_matcher_name(fed: Path, matcher_server):
    port, _ = matcher_server
    reply = _check(port, fed / "areas" / "north", override="matcher")
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
