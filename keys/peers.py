"""Who is calling: the area id from the verified client certificate, only.

Shared by the two services areas call: the matcher and the OPRF key service.
Each accepts area certificates of its own federation that the signed
directory lists and has not revoked, and only the certificate whose
fingerprint the directory pins for that area: after `keys renew` the old
certificate stops working as soon as the matcher holds the new directory.
The directory file is re-read when it changes on disk, so a revocation
takes effect without a restart, on open streams too (they re-check on
every wake-up).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fedalert.keys import Directory
from fedalert.keys import IdentityError, area_from_cert
from fedalert.errors import PermissionDeniedError
from fedalert.transport import peer_cert_pem

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def _peer_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


class Authz:
    def __init__(self, directory_path: Path, ca_path: Path):
        self.directory_path = Path(directory_path)
        self.ca_path = Path(ca_path)
        self._lock = threading.Lock()
        self._mtime = None
        self._dir: Directory | None = None
        self.directory()

    def directory(self) -> Directory:
        """The current verified directory (reloaded when the file changes)."""
        with self._lock:
            mtime = os.stat(self.directory_path).st_mtime_ns
            if mtime != self._mtime:
                new = Directory.load(self.directory_path, self.ca_path)
                if self._dir is not None and new.version < self._dir.version:
                    log.error("refusing directory version %s older than %s", new.version, self._dir.version)
                else:
                    self._dir = new
                self._mtime = mtime
            return self._dir

    @property
    def federation(self) -> str:
        return self.directory().federation

    def area_of(self, context: grpc.ServicerContext) -> str:
        """The caller's area id; raises PermissionDeniedError otherwise."""
        cert = _peer_cert(peer_cert_pem(context))
        d = self.directory()
        try:
            area = area_from_cert(cert, d.federation)
        except IdentityError as exc:
            raise PermissionDeniedError(f"client certificate refused: {exc}") from None
        if area not in d.areas:
            raise PermissionDeniedError(f"area {area!r} is not a member of the federation directory")
        fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        if d.is_revoked(area) or d.is_cert_revoked(fingerprint):
            raise PermissionDeniedError(f"area {area!r} has been revoked")
        if fingerprint != d.cert_sha256(area):
            raise PermissionDeniedError(
                f"area {area!r} presented a certificate that is not the one the federation directory pins "
                "(renewed: use the new certificate)")
        return area

    def still_allowed(self, area: str) -> bool:
        d = self.directory()
        return area in d.areas and not d.is_revoked(area)
