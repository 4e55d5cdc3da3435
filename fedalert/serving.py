"""Run a gRPC role until SIGTERM/SIGINT: health service, port file, shutdown."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)


def add_health(server: grpc.Server, services: list[str]) -> health.HealthServicer:
    """Register grpc.health.v1 and mark the overall server and `services` SERVING."""
    servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    for name in ["", *services]:
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return servicer


def write_port_file(path: Path | None, port: int) -> None:
    """Atomically write the bound port (for callers that bound port 0)."""
    if path is None:
        return
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)


def run_until_signal(server: grpc.Server, health_servicer: health.HealthServicer | None,
                     on_stop=None, grace: float = 5.0) -> None:
    """Block until SIGTERM or SIGINT, then stop the server gracefully."""
    stop = threading.Event()

    def _handler(signum, _frame):
        log.info("signal %s: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    while not stop.wait(0.5):
        pass
    if health_servicer is not None:
        health_servicer.enter_graceful_shutdown()
    if on_stop:
        on_stop()
    server.stop(grace).wait(grace + 1)
    log.info("stopped")
