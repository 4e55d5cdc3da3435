"""The signed federation directory: who is in the federation and their public keys.

File ``directory.json``::

    {"body": {"federation": "demo", "version": 3, "issued_at": "2026-11-25T22:50:00Z",
              "matcher": {"spiffe_id": "spiffe://demo/matcher", "cert_sha256": "<hex>"},
              "areas": {"north": {"spiffe_id": "spiffe://demo/area/north", "cert_sha256": "<hex>",
                                  "sealing_public_b64": "...", "signing_public_b64": "...",
                                  "added_at": "..."}},
              "revoked": [{"area": "east", "cert_sha256": "<hex>", "revoked_at": "...", "reason": "..."}]},
     "signature_b64": "..."}

The signature is ECDSA P-256 / SHA-256 (DER, base64) by the federation CA key
over the canonical JSON of ``body``: ``json.dumps(body, sort_keys=True,
separators=(",", ":"))`` (ASCII, non-ASCII escaped), UTF-8 encoded.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from fedalert.keys.errors import DirectoryError, KeysUsageError
from fedalert.keys.spiffe import (
    area_spiffe_id,
    check_area_id,
    check_federation,
    custodian_spiffe_id,
    matcher_spiffe_id,
)

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def canonical_json(body: dict) -> bytes:
    """The exact bytes the CA signs."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_body(body: dict, ca_key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign a directory body and return the directory.json file content."""
    signature = ca_key.sign(canonical_json(body), ec.ECDSA(hashes.SHA256()))
    doc = {"body": body, "signature_b64": base64.b64encode(signature).decode("ascii")}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _b64_key(value, where: str, cls):
    if not isinstance(value, str):
        raise DirectoryError(f"directory field {where} is missing or not a string")
    try:
        raw = base64.b64decode(value, validate=True)
        return cls.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise DirectoryError(f"directory field {where} is not a valid base64 32-byte public key") from None


_VERIFIED = object()


class Directory:
    """A verified federation directory. Build with :meth:`load` or :meth:`from_bytes`."""

    __slots__ = ("_body", "_sealing", "_signing", "_custodian_signing")

    def __init__(self, body: dict, *, _verified: object = None) -> None:
        # Only load()/from_bytes() construct a Directory, after verifying the signature.
        if _verified is not _VERIFIED:
            raise TypeError("use Directory.load(path, ca_cert_path) or Directory.from_bytes(); they verify the signature")
        self._body = body
        self._sealing: dict[str, X25519PublicKey] = {}
        self._signing: dict[str, Ed25519PublicKey] = {}
        self._custodian_signing: Ed25519PublicKey | None = None
        self._check_shape()

    # -- loading ------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, ca_cert_path: Path) -> "Directory":
        """Load ``directory.json`` and verify its signature against the CA certificate file."""
        path, ca_cert_path = Path(path), Path(ca_cert_path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DirectoryError(f"directory {path} does not exist; copy directory.json from the key custodian") from None
        try:
            ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        except FileNotFoundError:
            raise DirectoryError(f"CA certificate {ca_cert_path} does not exist; copy ca.crt from the key custodian") from None
        except ValueError:
            raise DirectoryError(f"{ca_cert_path} is not a PEM certificate") from None
        return cls.from_bytes(data, ca_cert, source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, ca_cert: x509.Certificate, *, source: str = "directory") -> "Directory":
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise DirectoryError(f"{source} is not valid JSON; fetch a fresh copy from the key custodian") from None
        if not isinstance(doc, dict) or set(doc) != {"body", "signature_b64"}:
            raise DirectoryError(f"{source} must be an object with exactly 'body' and 'signature_b64'")
        body, sig_b64 = doc["body"], doc["signature_b64"]
        if not isinstance(body, dict) or not isinstance(sig_b64, str):
            raise DirectoryError(f"{source}: 'body' must be an object and 'signature_b64' a string")
        try:
            signature = base64.b64decode(sig_b64, validate=True)
        except (binascii.Error, ValueError):
            raise DirectoryError(f"{source}: 'signature_b64' is not valid base64") from None
        public = ca_cert.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise DirectoryError("the CA certificate does not hold an ECDSA key; is it the federation CA?")
        try:
            public.verify(signature, canonical_json(body), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise DirectoryError(
                f"{source}: signature does not verify under the federation CA; the directory was altered "
                "or comes from another federation. Do not use it; fetch a fresh copy from the key custodian"
            ) from None
        return cls(body, _verified=_VERIFIED)

    def _check_shape(self) -> None:
        b = self._body
        expected = {"federation", "version", "issued_at", "matcher", "areas", "revoked"}
        # "custodian" (the key custodian's client certificate and keyset-signing key) is optional:
        # directories made before it existed stay valid.
        if set(b) - {"custodian"} != expected:
            raise DirectoryError(f"directory body must have exactly the fields {sorted(expected)} (and optionally custodian)")
        try:
            fed = check_federation(b["federation"])
        except KeysUsageError:
            raise DirectoryError("directory field federation is not a valid federation name") from None
        if not isinstance(b["version"], int) or isinstance(b["version"], bool) or b["version"] < 1:
            raise DirectoryError("directory field version must be a positive integer")
        if not isinstance(b["issued_at"], str):
            raise DirectoryError("directory field issued_at must be a string")
        m = b["matcher"]
        if not isinstance(m, dict) or m.get("spiffe_id") != matcher_spiffe_id(fed) \
                or not _HEX64.fullmatch(str(m.get("cert_sha256", ""))):
            raise DirectoryError("directory field matcher must hold this federation's matcher spiffe_id and cert_sha256")
        if "custodian" in b:
            cu = b["custodian"]
            if not isinstance(cu, dict) or set(cu) != {"spiffe_id", "cert_sha256", "signing_public_b64"} \
                    or cu.get("spiffe_id") != custodian_spiffe_id(fed) or not _HEX64.fullmatch(str(cu.get("cert_sha256", ""))):
                raise DirectoryError("directory field custodian must hold this federation's custodian spiffe_id, "
                                     "cert_sha256 and signing_public_b64")
            self._custodian_signing = _b64_key(cu["signing_public_b64"], "custodian.signing_public_b64", Ed25519PublicKey)
        areas = b["areas"]
        if not isinstance(areas, dict):
            raise DirectoryError("directory field areas must be an object")
        for area, entry in areas.items():
            try:
                check_area_id(area)
            except KeysUsageError:
                raise DirectoryError(f"directory lists an invalid area id {area!r}") from None
            where = f"areas.{area}"
            if not isinstance(entry, dict):
                raise DirectoryError(f"directory field {where} must be an object")
            if entry.get("spiffe_id") != area_spiffe_id(fed, area):
                raise DirectoryError(f"directory field {where}.spiffe_id does not match the area id")
            if not _HEX64.fullmatch(str(entry.get("cert_sha256", ""))):
                raise DirectoryError(f"directory field {where}.cert_sha256 must be 64 hex digits")
            if not isinstance(entry.get("added_at"), str):
                raise DirectoryError(f"directory field {where}.added_at must be a string")
            self._sealing[area] = _b64_key(entry.get("sealing_public_b64"), f"{where}.sealing_public_b64", X25519PublicKey)
            self._signing[area] = _b64_key(entry.get("signing_public_b64"), f"{where}.signing_public_b64", Ed25519PublicKey)
        revoked = b["revoked"]
        if not isinstance(revoked, list):
            raise DirectoryError("directory field revoked must be a list")
        for i, r in enumerate(revoked):
            if not isinstance(r, dict) or set(r) != {"area", "cert_sha256", "revoked_at", "reason"} \
                    or not all(isinstance(v, str) for v in r.values()):
                raise DirectoryError(f"directory field revoked[{i}] must have string fields area, cert_sha256, revoked_at, reason")

    # -- queries ------------------------------------------------------------------
    @property
    def body(self) -> dict:
        """A deep copy of the signed body."""
        return json.loads(canonical_json(self._body))

    @property
    def federation(self) -> str:
        return self._body["federation"]

    @property
    def version(self) -> int:
        return self._body["version"]

    @property
    def issued_at(self) -> str:
        return self._body["issued_at"]

    @property
    def areas(self) -> list[str]:
        """All area ids listed, revoked ones included, sorted."""
        return sorted(self._body["areas"])

    @property
    def active_areas(self) -> list[str]:
        return [a for a in self.areas if not self.is_revoked(a)]

    @property
    def matcher_spiffe_id(self) -> str:
        return self._body["matcher"]["spiffe_id"]

    @property
    def matcher_cert_sha256(self) -> str:
        return self._body["matcher"]["cert_sha256"]

    @property
    def revoked(self) -> list[dict]:
        return [dict(r) for r in self._body["revoked"]]

    def _entry(self, area: str) -> dict:
        try:
            return self._body["areas"][area]
        except (KeyError, TypeError):
            raise DirectoryError(
                f"area {area!r} is not in the {self.federation} directory (version {self.version}); "
                "ask the key custodian to add it, or fetch the latest directory"
            ) from None

    def cert_sha256(self, area: str) -> str:
        return self._entry(area)["cert_sha256"]

    def spiffe_id(self, area: str) -> str:
        return self._entry(area)["spiffe_id"]

    def sealing_public(self, area: str) -> X25519PublicKey:
        self._entry(area)
        return self._sealing[area]

    def signing_public(self, area: str) -> Ed25519PublicKey:
        self._entry(area)
        return self._signing[area]

    @property
    def has_custodian(self) -> bool:
        return self._custodian_signing is not None

    def _require_custodian(self) -> None:
        if self._custodian_signing is None:
            raise DirectoryError(
                f"the {self.federation} directory (version {self.version}) names no key custodian; the custodian "
                "runs 'fedalert keys add-custodian' and sends everyone the new directory.json"
            )

    @property
    def custodian_cert_sha256(self) -> str:
        self._require_custodian()
        return self._body["custodian"]["cert_sha256"]

    def custodian_signing_public(self) -> Ed25519PublicKey:
        """The custodian's Ed25519 key that signs sealed keysets."""
        self._require_custodian()
        return self._custodian_signing

    def is_revoked(self, area: str) -> bool:
        """True if any revocation entry names ``area`` (entries with an empty area revoke a
        non-area certificate, the matcher's or the custodian's, by fingerprint only)."""
        return bool(area) and any(r["area"] == area for r in self._body["revoked"])

    def is_cert_revoked(self, cert_sha256: str) -> bool:
        """True if a revocation entry names this certificate fingerprint (hex SHA-256 of DER)."""
        return any(r["cert_sha256"] == cert_sha256.lower() for r in self._body["revoked"])

    def __repr__(self) -> str:
        return f"<Directory {self.federation} v{self.version} areas={self.areas} revoked={len(self._body['revoked'])}>"
