"""OPRF figures for bench/federation.py: libsodium's raw rate and the key service's rate, same run.

* ``raw_scalarmult_rate``: variable-base ristretto255 scalar multiplications
  per CPU-second, one thread, straight through the library handle
  (crypto_scalarmult_ristretto255, the physical limit of one core here);
* ``keysvc_rate``: a real key service process over mTLS, fed by two areas at
  once with full batches (the node's batch size), evaluations per CPU-second
  of the key service process (so per core it uses), and per wall second.

The key service does at least two multiplications per element (the
evaluation and its share of the batched proof), so its ceiling is 50% of
the raw rate.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path


def raw_scalarmult_rate(n: int = 20000) -> dict:
    from fedalert.keys import _ristretto as g

    scalars = [g.scalar_random() for _ in range(n)]
    points = [g.from_hash(os.urandom(64)) for _ in range(n)]
    c0, t0 = time.process_time(), time.perf_counter()
    g.scalarmult_many(scalars, points)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return {"mults": n, "per_cpu_s": round(n / cpu, 1), "us_per_mult": round(cpu / n * 1e6, 1),
            "wall_s": round(wall, 3), "libsodium": g.version()}


def keysvc_rate(workdir: Path, batches_per_area: int = 6, batch: int = 4096) -> dict:
    """Start a key service (OPRF ceremony of its own), evaluate from two areas, return rates."""
    from _fedrun import proc_cpu_s

    from fedalert.keys import init_federation, oprf
    from fedalert.keys.oprf_keyset import OprfKeyset
    from fedalert.procs import start
    from fedalert.transport import TlsFiles, secure_channel
    from fedalert.v1 import keysvc_pb2 as pb
    from fedalert.v1 import keysvc_pb2_grpc as pb_grpc

    workdir.mkdir(parents=True, exist_ok=True)
    keys = workdir / "keys"
    init_federation(keys, "rate", ["r1", "r2"], token_mode="oprf")
    proc = start("keysvc", ["keysvc", "serve", "--keys", str(keys / "keysvc"), "--db", str(workdir / "keysvc.db"),
                            "--listen", "127.0.0.1:0", "--rate", "1e9", "--burst", "1000000000",
                            "--quota", "1000000000"], workdir / "keysvc.port", workdir / "keysvc.log")
    kid = OprfKeyset.load(keys / "keysvc" / "oprf.keyset.json").primary_id
    elements = b"".join(oprf.blind([f"x{i}".encode() for i in range(batch)], oprf.MODE_VOPRF).elements)
    errors: list[BaseException] = []

    def area(name):
        ch = secure_channel(f"127.0.0.1:{proc.port}", TlsFiles.for_area(keys / "areas" / name), server_name="keysvc")
        try:
            stub = pb_grpc.KeyServiceStub(ch)
            for _ in range(batches_per_area):
                stub.Evaluate(pb.EvaluateRequest(batch_id=uuid.uuid4().hex, key_id=kid, blinded=elements), timeout=300)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            ch.close()

    try:
        # one warm-up batch (key derivation, connections), not measured
        area_threads = [threading.Thread(target=area, args=(a,)) for a in ("r1", "r2")]
        cpu0, t0 = proc_cpu_s(proc.popen.pid), time.perf_counter()
        for t in area_threads:
            t.start()
        for t in area_threads:
            t.join(900)
        cpu, wall = proc_cpu_s(proc.popen.pid) - cpu0, time.perf_counter() - t0
    finally:
        proc.stop()
    if errors:
        raise errors[0]
    n = 2 * batches_per_area * batch
    return {"evaluations": n, "batch": batch, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "per_cpu_s": round(n / cpu, 1), "per_wall_s": round(n / wall, 1), "cores_used": round(cpu / wall, 2)}
