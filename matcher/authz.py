"""Who is calling: the area id from the verified client certificate, only.

The matcher accepts area certificates of its own federation that the signed
directory lists and has not revoked. The directory file is re-read when it
changes on disk, so a revocation takes effect without a restart, on open
streams too (they re-check on every wake-up).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fedalert.keys import Directory
from fedalert.keys.spiffe import parse_spiffe_id
from fedalert.matcher.errors import PermissionDeniedError
from fedalert.transport import peer_cert_pem, peer_spiffe

log = logging.getLogger(__name__)


def _fingerprint(pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


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
        spiffe = peer_spiffe(context)
        try:
            federation, role, area = parse_spiffe_id(spiffe)
        except ValueError:
            raise PermissionDeniedError("client certificate has no valid fedalert SPIFFE id") from None
        d = self.directory()
        if federation != d.federation or role != "area" or area is None:
            raise PermissionDeniedError("only area nodes of this federation may call this service")
        if area not in d.areas:
            raise PermissionDeniedError(f"area {area!r} is not a member of the federation directory")
        if d.is_revoked(area) or _fingerprint(peer_cert_pem(context)) in d.revoked_fingerprints():
            raise PermissionDeniedError(f"area {area!r} has been revoked")
        return area

    def still_allowed(self, area: str) -> bool:
        d = self.directory()
        return area in d.areas and not d.is_revoked(area)
