"""What the node trusts: the signed directory, re-read when it changes.

- :meth:`NodeTrust.check_sender` refuses an area that the directory does not
  list or has revoked. Disclosure code must call it (or
  :meth:`NodeTrust.sender_key`) before opening or accepting an envelope
  from another area, and before sealing one to it.
- :meth:`NodeTrust.check_matcher` refuses a matcher whose certificate is not
  the one the directory pins (``matcher.cert_sha256``) or is listed as
  revoked. gRPC's Python client does not expose the server certificate, so
  the check makes its own TLS handshake (same CA, same client certificate,
  same expected name ``matcher``) and compares fingerprints. The node's
  publisher runs it before it talks to the matcher and again whenever the
  directory changes (and every few minutes).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import ssl
import threading
from pathlib import Path

from fedalert.keys import Directory
from fedalert.secretfile import read_secret
from fedalert.node.errors import NodeError

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0


class PeerRefusedError(NodeError):
    """The directory does not allow this peer (unknown or revoked area, wrong or revoked matcher)."""

    exit_code = 3


class NodeTrust:
    def __init__(self, keys_dir: Path):
        self.keys_dir = Path(keys_dir)
        self.path = self.keys_dir / "directory.json"
        self.ca = self.keys_dir / "ca.crt"
        self._lock = threading.Lock()
        self._sig = None
        self._dir: Directory | None = None
        self.directory()

    def directory(self) -> Directory:
        """The current verified directory; a newer file replaces it, an older version is refused."""
        with self._lock:
            st = os.stat(self.path)
            sig = (st.st_ino, st.st_mtime_ns, st.st_size)
            if sig != self._sig:
                new = Directory.load(self.path, self.ca)
                if self._dir is not None and new.version < self._dir.version:
                    log.error("refusing directory version %d older than %d", new.version, self._dir.version)
                else:
                    if self._dir is not None and new.version != self._dir.version:
                        log.warning("directory version %d loaded", new.version)
                    self._dir = new
                self._sig = sig
            return self._dir

    # -- areas ------------------------------------------------------------
    def check_sender(self, area: str) -> None:
        d = self.directory()
        if area not in d.areas:
            raise PeerRefusedError(f"area {area!r} is not in the federation directory (version {d.version}); "
                                   "nothing from it is accepted")
        if d.is_revoked(area):
            raise PeerRefusedError(f"area {area!r} is revoked in the federation directory (version {d.version}); "
                                   "nothing from it is accepted and nothing is sealed to it")

    def sender_key(self, area: str):
        """The Ed25519 key that signs what ``area`` releases, only while the area is an active member."""
        self.check_sender(area)
        return self.directory().signing_public(area)

    # -- matcher ----------------------------------------------------------
    def check_matcher_fingerprint(self, fingerprint: str) -> None:
        d = self.directory()
        if d.is_cert_revoked(fingerprint):
            raise PeerRefusedError("the matcher's certificate is revoked in the federation directory; "
                                   "the node will not talk to it")
        if fingerprint != d.matcher_cert_sha256:
            raise PeerRefusedError("the matcher's certificate is not the one the federation directory names; "
                                   "the node will not talk to it (fetch the latest directory.json if the "
                                   "matcher certificate was renewed)")

    def check_matcher(self, target: str, server_name: str) -> str:
        """Handshake with the matcher at ``target``, check its certificate, return its fingerprint."""
        fp = matcher_fingerprint(target, self.keys_dir, server_name)
        self.check_matcher_fingerprint(fp)
        return fp


def matcher_fingerprint(target: str, keys_dir: Path, server_name: str) -> str:
    """SHA-256 (hex) of the certificate the server at ``target`` presents (verified under the CA)."""
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    keys_dir = Path(keys_dir)
    read_secret(keys_dir / "node.key")  # refuses a key file others can read
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=str(keys_dir / "ca.crt"))
    ctx.load_cert_chain(str(keys_dir / "node.crt"), str(keys_dir / "node.key"))
    ctx.set_alpn_protocols(["h2"])
    with socket.create_connection((host, int(port)), timeout=HANDSHAKE_TIMEOUT_S) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest()


def matcher_channel(keys_dir: Path, target: str, server_name: str):
    """A mutual-TLS channel to the matcher at ``target`` with this area's certificate, and its stub.

    Call :meth:`NodeTrust.check_matcher` first where the directory's pin must hold."""
    from fedalert.transport import TlsFiles, secure_channel
    from fedalert.v1 import matcher_pb2_grpc as pb_grpc

    channel = secure_channel(target, TlsFiles.for_area(Path(keys_dir)), server_name=server_name)
    return channel, pb_grpc.MatcherStub(channel)
