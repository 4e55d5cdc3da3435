"""``fedalert node console`` and ``node serve --console``: serve the coordinator console over HTTPS.

The console binds loopback unless told otherwise, speaks only HTTPS with the
certificate and key the operator supplies, and works on the same database as
the node (the service's own connection).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import logging
from pathlib import Path

from fedalert.errors import UsageError

log = logging.getLogger("fedalert.node.console")
DEFAULT_LISTEN = "127.0.0.1:8443"


def console_args(sp, *, prefix: str) -> None:
    """--console-cert/--console-key (or --cert/--key for `node console`) and the idle timeout."""
    sp.add_argument(f"--{prefix}cert", type=Path, help="the console's HTTPS certificate (PEM), from the operator")
    sp.add_argument(f"--{prefix}key", type=Path, help="its private key (PEM, 0600)")
    sp.add_argument(f"--{prefix}idle-minutes", type=int, default=15, help="end a session after this long unused")


def start_console(cfg: dict, address: str, cert: Path | None, key: Path | None, idle_minutes: int):
    """Start the console for the node whose settings are *cfg*; returns the running server."""
    from fedalert.keys import read_secret
    from fedalert.node.console import open_console
    from fedalert.node.disclosure import ServiceConfig

    if not cert or not key:
        raise UsageError("the console needs its HTTPS certificate and key (--console-cert/--console-key, "
                         "or --cert/--key for `fedalert node console`)")
    if not cfg.get("keys_dir"):
        raise UsageError("the console needs the area's key folder (--keys) to know its area and open releases")
    if not 1 <= idle_minutes <= 240:
        raise UsageError("the idle timeout is 1 to 240 minutes")
    read_secret(Path(key))  # refuses a key file others can read
    host = address.rpartition(":")[0].strip("[]") or "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        log.warning("the console listens on %s, beyond this machine: only do this behind the area's own "
                    "network controls", address)
    svc_cfg = ServiceConfig(db=Path(cfg["db"]), audit=cfg.get("audit"), protocol=cfg.get("protocol"),
                            overlay=cfg.get("overlay"), keys_dir=Path(cfg["keys_dir"]),
                            session_idle=_dt.timedelta(minutes=idle_minutes))
    server = open_console(svc_cfg, address, Path(cert), Path(key))
    log.warning("console on %s (area %s)", server.url, server.area)
    return server


def register(nsub, conn, protocol_args) -> None:
    c = nsub.add_parser("console", help="serve the coordinator console (HTTPS) over this node's database")
    conn(c, need_keys=False)
    c.add_argument("--keys", type=Path, help="this area's folder from the key ceremony")
    c.add_argument("--audit", type=Path, help="the node's audit log (default: next to --db)")
    c.add_argument("--listen", default=DEFAULT_LISTEN, help=f"address to serve on (default {DEFAULT_LISTEN})")
    c.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    console_args(c, prefix="")
    protocol_args(c)
    c.set_defaults(func=_console)


def _console(args) -> int:
    import threading

    from fedalert.node._config import require, settings
    from fedalert.serving import write_port_file

    cfg = settings(args)
    require(cfg, "db")
    server = start_console(cfg, args.listen, args.cert, args.key, args.idle_minutes)
    write_port_file(args.port_file, server.port)
    stop = threading.Event()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5) and server.thread.is_alive():
        pass
    server.stop()
    return 0
