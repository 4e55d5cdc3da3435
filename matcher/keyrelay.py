"""Relay of sealed token keysets from the key custodian to the areas.

The matcher stores each sealed keyset (opaque bytes: sealed to the area's
X25519 key, signed by the custodian) until that area acknowledges it. It
cannot open or forge one: it holds no area sealing key and no custodian key.

Who may do what:
- ``PostKeyset``: only the custodian certificate, i.e. SPIFFE id
  ``spiffe://<fed>/custodian`` *and* the fingerprint the signed directory pins;
  only to an area that the directory lists and has not revoked.
- ``FetchKeysets`` / ``AckKeyset``: an area, for its own keysets only.

Storage is one table of the matcher's store (``keyset_relay``, migration
``KEYRELAY_MIGRATIONS`` in matcher/_schema.py), read and written through
:class:`~fedalert.matcher.store.MatcherStore`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fedalert.keys import IdentityError
from fedalert.keys.spiffe import ROLE_CUSTODIAN, identity_from_cert
from fedalert.matcher.errors import InvalidRequestError, PermissionDeniedError
from fedalert.transport import peer_cert_pem, rpc_errors
from fedalert.v1 import matcher_pb2 as pb
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

MAX_SEALED_BYTES = 64 * 1024
_KEY_ID = re.compile(r"k[0-9a-f]{8}")
FETCH_LIMIT = 20


class KeyRelayService(pb_grpc.KeyRelayServicer):
    def __init__(self, engine, authz, clock=time.time):
        self.engine = engine
        self.authz = authz
        self.clock = clock

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _require_custodian(self, context) -> None:
        pem = peer_cert_pem(context)
        d = self.authz.directory()
        cert = x509.load_pem_x509_certificate(pem)
        try:
            role, _ = identity_from_cert(cert, d.federation)
        except IdentityError as exc:
            raise PermissionDeniedError(f"client certificate refused: {exc}") from None
        if role != ROLE_CUSTODIAN:
            raise PermissionDeniedError("only the key custodian may post keysets")
        fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        if not d.has_custodian or fingerprint != d.custodian_cert_sha256 or d.is_cert_revoked(fingerprint):
            raise PermissionDeniedError("this custodian certificate is not the one the directory names")

    @rpc_errors
    def PostKeyset(self, request, context):
        self._require_custodian(context)
        k = request.keyset
        d = self.authz.directory()
        if k.federation != d.federation:
            raise InvalidRequestError(f"keyset is for federation {k.federation!r}, this matcher serves {d.federation!r}")
        if k.area not in d.areas or d.is_revoked(k.area):
            raise InvalidRequestError(f"area {k.area!r} is not an active member of the directory")
        if not _KEY_ID.fullmatch(k.key_id) or not (1 <= k.serial < 2**63):
            raise InvalidRequestError("key_id must be 'k' + 8 hex digits and serial a positive integer")
        if not (1 <= len(k.sealed) <= MAX_SEALED_BYTES):
            raise InvalidRequestError(f"sealed keyset must be 1..{MAX_SEALED_BYTES} bytes")
        dup = self.engine.store.put_keyset(k.area, k.key_id, k.serial, bytes(k.sealed), self._now_ms())
        if not dup:
            self.engine.audit_event("keyset_relay", area=k.area, key_id=k.key_id, serial=k.serial,
                                    sealed_bytes=len(k.sealed))
        return pb.PostKeysetResponse(duplicate=dup)

    @rpc_errors
    def FetchKeysets(self, request, context):
        area = self.authz.area_of(context)
        fed = self.authz.federation
        rows = self.engine.store.pending_keysets(area, FETCH_LIMIT)
        return pb.FetchKeysetsResponse(keysets=[
            pb.SealedKeyset(federation=fed, area=area, key_id=key_id, serial=serial, sealed=sealed)
            for serial, key_id, sealed in rows])

    @rpc_errors
    def AckKeyset(self, request, context):
        area = self.authz.area_of(context)
        ok = self.engine.store.ack_keyset(area, request.serial, self._now_ms())
        if ok:
            self.engine.audit_event("keyset_delivered", area=area, serial=request.serial)
        return pb.AckKeysetResponse(acknowledged=ok)
