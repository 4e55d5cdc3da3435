"""Run one OpenMined PSI (ECDH) between two item sets; print timings as JSON.

Runs under a separate interpreter (bench/.psi-venv): openmined.psi pins
protobuf==6.30.2, which cannot share an environment with fedalert's
protobuf>=7. Input: a JSON file {"client": [str...], "server": [str...]}.
Both parties run in this one process with no network between them, which
favours PSI; the messages are still serialised and parsed as they would be
on the wire.

Usage: python bench/_psi_run.py ITEMS.json
"""

from __future__ import annotations

import json
import sys
import time


def main(path: str) -> int:
    import private_set_intersection.python as psi

    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    client_items, server_items = data["client"], data["server"]
    t0 = time.perf_counter()
    client = psi.client.CreateWithNewKey(True)
    server = psi.server.CreateWithNewKey(True)
    setup = server.CreateSetupMessage(1e-9, len(client_items), server_items, psi.DataStructure.RAW)
    setup = psi.ServerSetup.FromString(setup.SerializeToString()) if hasattr(psi.ServerSetup, "FromString") else setup
    request = client.CreateRequest(client_items)
    request_bytes = request.SerializeToString()
    response = server.ProcessRequest(psi.Request.FromString(request_bytes)
                                     if hasattr(psi.Request, "FromString") else request)
    response_bytes = response.SerializeToString()
    response = psi.Response.FromString(response_bytes) if hasattr(psi.Response, "FromString") else response
    found = client.GetIntersection(setup, response)
    t1 = time.perf_counter()
    print(json.dumps({
        "psi_protocol_s": t1 - t0,
        "client_items": len(client_items),
        "server_items": len(server_items),
        "intersection": len(found),
        "wire_bytes": len(request_bytes) + len(response_bytes) + len(setup.SerializeToString()),
        "library": f"openmined.psi {getattr(psi, '__version__', '?')}",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
