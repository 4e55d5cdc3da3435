"""STAND-IN for a fedalert role process (test double, not a real role).

Used only by the docker plumbing tests until the real roles exist.

  role.py serve PORT       accept TCP on 0.0.0.0:PORT, answer each connection
                           with this container's /keys listing, for ever
  role.py probe HOST:PORT  exit 0 when a TCP connection succeeds (healthcheck)

The serve loop is bounded only by the container's life; every connection is
served and closed within 5 s.
"""

import os
import socket
import sys


def serve(port: int) -> None:
    srv = socket.create_server(("0.0.0.0", port), reuse_port=False)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(5)
            listing = " ".join(sorted(os.listdir("/keys"))) if os.path.isdir("/keys") else ""
            conn.sendall((listing + "\n").encode())


def probe(target: str) -> int:
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3) as s:
            s.recv(4096)
        return 0
    except OSError as exc:
        print(f"probe {target}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif sys.argv[1] == "probe":
        sys.exit(probe(sys.argv[2]))
    else:
        sys.exit(f"unknown verb {sys.argv[1]}")
