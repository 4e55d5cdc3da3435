"""Mutual-TLS gRPC plumbing shared by every role.

- :func:`create_server` builds a server (bounded thread pool, message size
  limits) and binds it; it returns ``(server, port)`` so tests can bind port 0.
- :class:`TlsFiles` names a role's certificate, key and the federation CA.
- :func:`peer_cert_pem` returns the caller's verified client certificate;
  matcher.authz turns it into an area id. Handlers get the caller's area
  from there and nowhere else.
- :func:`rpc_errors` maps typed domain errors to gRPC status codes in one
  place.
"""

from __future__ import annotations

import functools
import inspect
import logging
import traceback
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
from fedalert.errors import (  # the RPC errors rpc_errors maps to status codes; re-exported
    AbortedError,
    FedalertError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    TransportError,
)
from fedalert.secretfile import read_secret

log = logging.getLogger(__name__)

#: Largest message any role accepts or sends (bytes). A publish batch of
#: MAX_BATCH_RECORDS records with their tokens stays well under it.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
#: Worker threads per server: bounded, so load cannot grow threads.
MAX_WORKERS = 16
#: Concurrent RPCs (streams included) a server accepts before refusing.
MAX_CONCURRENT_RPCS = 64

GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
SERVER_OPTIONS = GRPC_OPTIONS + [
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.so_reuseport", 0),
]


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    def __repr__(self) -> str:  # paths only; never key bytes
        return f"TlsFiles(ca={str(self.ca)!r}, cert={str(self.cert)!r}, key={str(self.key)!r})"

    @classmethod
    def for_matcher(cls, keys_dir: Path) -> "TlsFiles":
        return cls(keys_dir / "ca.crt", keys_dir / "matcher.crt", keys_dir / "matcher.key")

    @classmethod
    def for_area(cls, keys_dir: Path) -> "TlsFiles":
        return cls(keys_dir / "ca.crt", keys_dir / "node.crt", keys_dir / "node.key")

    def _read(self) -> tuple[bytes, bytes, bytes]:
        try:
            ca = self.ca.read_bytes()
            cert = self.cert.read_bytes()
        except OSError as exc:
            raise TransportError(
                f"cannot read TLS file {exc.filename}: {exc.strerror}; "
                "copy this role's folder from the key ceremony output"
            ) from None
        key = read_secret(self.key)
        return ca, cert, key

    def server_credentials(self) -> grpc.ServerCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


def create_server(address: str, credentials: grpc.ServerCredentials, *, max_workers: int = MAX_WORKERS,
                  max_concurrent_rpcs: int = MAX_CONCURRENT_RPCS, interceptors=()) -> tuple[grpc.Server, int]:
    """Create a server bound to ``address`` (``host:0`` picks a free port).

    Each open server stream holds one worker thread for as long as it is
    open, so a server that keeps a stream per client needs more workers
    than clients (see matcher.server.pool_sizes).
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc"),
        options=SERVER_OPTIONS,
        # Bounded: calls beyond this are refused (RESOURCE_EXHAUSTED), never queued without end.
        maximum_concurrent_rpcs=max_concurrent_rpcs or max(MAX_CONCURRENT_RPCS, 2 * max_workers),
        interceptors=list(interceptors),
    )
    return server, add_port(server, address, credentials)


def add_port(server: grpc.Server, address: str, credentials: grpc.ServerCredentials) -> int:
    """Bind one more mTLS address; return the port (useful with port 0)."""
    try:
        port = server.add_secure_port(address, credentials)
    except RuntimeError as exc:
        raise TransportError(f"cannot listen on {address}: {exc}") from None
    if port == 0:
        raise TransportError(f"cannot listen on {address}: the address is in use or not local")
    return port


def secure_channel(target: str, tls: TlsFiles, *, server_name: str | None = None) -> grpc.Channel:
    options = list(GRPC_OPTIONS)
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    return grpc.secure_channel(target, tls.channel_credentials(), options=options)


def peer_cert_pem(context: grpc.ServicerContext) -> bytes:
    pems = context.auth_context().get("x509_pem_cert") or []
    if len(pems) != 1:
        raise PermissionDeniedError("no verified client certificate")
    return pems[0]


_STATUS = [
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (QuotaExceededError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (AbortedError, grpc.StatusCode.ABORTED),
]


def status_for(exc: BaseException) -> grpc.StatusCode:
    for cls, code in _STATUS:
        if isinstance(exc, cls):
            return code
    if isinstance(exc, FedalertError):
        return grpc.StatusCode.FAILED_PRECONDITION
    return grpc.StatusCode.INTERNAL


def rpc_errors(method):
    """Decorator for servicer methods: typed errors -> status codes, in one place.

    Unexpected exceptions are logged with their type only (never their text,
    which could echo request content) and returned as INTERNAL.
    """

    def _fail(context, exc):
        code = status_for(exc)
        if code is grpc.StatusCode.INTERNAL:
            # Frames and type only: an exception's text could echo request content.
            log.error("internal error in %s: %s\n%s", method.__name__, type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
            context.abort(code, "internal error; see the server log")
        context.abort(code, str(exc))

    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def stream_wrapper(self, request, context):
            try:
                yield from method(self, request, context)
            except grpc.RpcError:
                raise
            except Exception as exc:  # noqa: BLE001 - mapped to a status
                _fail(context, exc)
        return stream_wrapper

    @functools.wraps(method)
    def unary_wrapper(self, request, context):
        try:
            return method(self, request, context)
        except grpc.RpcError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status
            _fail(context, exc)
    return unary_wrapper
