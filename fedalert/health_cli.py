"""``fedalert health``: ask a role's gRPC health service, over mutual TLS.

Used by container health checks and operators. The caller presents the
certificate in ``--tls-dir`` (a matcher/ or areas/<id>/ folder of the
ceremony). Exit 0 when SERVING, 1 otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fedalert.errors import FedalertError, UsageError


class NotServingError(FedalertError):
    """The target answered but is not SERVING, or did not answer in time."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="check a role's gRPC health service over mutual TLS")
    p.add_argument("--target", required=True, help="host:port of the role")
    p.add_argument("--tls-dir", type=Path, required=True, help="a ceremony role folder (matcher/ or areas/<id>/)")
    p.add_argument("--service", default="", help="service name (default: the whole server)")
    p.add_argument("--server-name", help="TLS name to expect on the target's certificate")
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(func=_health)


def _tls(folder: Path):
    from fedalert.transport import TlsFiles

    if (folder / "node.crt").exists():
        return TlsFiles.for_area(folder)
    if (folder / "matcher.crt").exists():
        return TlsFiles.for_matcher(folder)
    if (folder / "keysvc.crt").exists():
        return TlsFiles(folder / "ca.crt", folder / "keysvc.crt", folder / "keysvc.key")
    raise UsageError(f"{folder} holds none of node.crt, matcher.crt, keysvc.crt; give a ceremony role folder")


def check(target: str, tls_dir: Path, service: str = "", server_name: str | None = None,
          timeout: float = 3.0) -> str:
    """Return the health status name of `service` at `target`."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from fedalert.transport import secure_channel

    with secure_channel(target, _tls(Path(tls_dir)), server_name=server_name) as ch:
        try:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service),
                                                         timeout=timeout)
        except grpc.RpcError as exc:
            raise NotServingError(f"{target}: {exc.code().name}: {exc.details()}") from None
    return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


def _health(args) -> int:
    status = check(args.target, args.tls_dir, args.service, args.server_name, args.timeout)
    print(status)
    if status != "SERVING":
        raise NotServingError(f"{args.target} is {status}")
    return 0
