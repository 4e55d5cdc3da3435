"""Fallback PSI: a plain two-party ECDH PSI on X25519 from `cryptography`.

Used only when openmined.psi is not available, and labelled as such in the
output. Protocol (semi-honest, Meadows/Huberman style): each party maps its
items to curve points u = SHA-256(item) and raises them to its secret
scalar; they exchange and raise the other's values to their own scalar;
equal doubly-raised values are the intersection. X25519 scalar
multiplication commutes, so X(a, X(b, u)) = X(b, X(a, u)).
"""

from __future__ import annotations

import hashlib
import random
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey


def _raise(key: X25519PrivateKey, u: bytes) -> bytes:
    return key.exchange(X25519PublicKey.from_public_bytes(u))


def run_x25519_psi(client_items: list[str], server_items: list[str]) -> dict:
    t0 = time.perf_counter()
    a, b = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    # Client -> server: H(x)^a (shuffled by the server's reply order not needed here).
    req = [_raise(a, hashlib.sha256(x.encode()).digest()) for x in client_items]
    # Server -> client: (H(x)^a)^b in order, and H(y)^b shuffled.
    resp = [_raise(b, v) for v in req]
    srv = [_raise(b, hashlib.sha256(y.encode()).digest()) for y in server_items]
    random.shuffle(srv)
    # Client: (H(y)^b)^a, then compare.
    mine = {_raise(a, v) for v in srv}
    found = [i for i, v in enumerate(resp) if v in mine]
    t1 = time.perf_counter()
    return {"psi_protocol_s": t1 - t0, "client_items": len(client_items), "server_items": len(server_items),
            "intersection": len(found), "wire_bytes": 32 * (2 * len(req) + len(srv)),
            "library": "X25519 ECDH PSI on cryptography (fallback: openmined.psi not available)"}
