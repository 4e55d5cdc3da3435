"""The signed federation directory: who is in the federation and their public keys.

File ``directory.json``::

    {"body": {"federation": "demo", "version": 3, "issued_at": "2026-11-25T22:50:00Z",
              "matcher": {"spiffe_id": "spiffe://demo/matcher", "cert_sha256": "<hex>"},
              "areas": {"north": {"spiffe_id": "spiffe://demo/area/north", "cert_sha256": "<hex>",
                                  "sealing_public_b64": "...", "signing_public_b64": "...",
                                  "added_at": "..."}},
              "revoked": [{"area": "east", "cert_sha256": "<hex>", "revoked_at": "...", "reason": "..."}],
              "tokens": {"mode": "oprf", "suite": "ristretto255-SHA512", "primary": "k1a2b3c4d",
                         "keys": {"k1a2b3c4d": {"public_b64": "<32 bytes>", "status": "enabled"}},
                         "keysvc": {"spiffe_id": "spiffe://demo/keysvc", "cert_sha256": "<hex>"},
                         "hmac_key_ids": []}},
     "signature_b64": "..."}

``tokens`` is optional: without it (directories made before OPRF mode, or
``keys init --token-mode hmac``) the federation is in HMAC token mode and
every node holds the token keyset. In OPRF mode it names the key service
(pinned by certificate fingerprint), every OPRF key id with its public key
pkS (nodes check every batched proof against it) and state, the primary key
id, and during a switch from HMAC mode (``keys token-mode oprf``) the HMAC
key ids the nodes still publish under until ``keys token-mode finish``.

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
    keysvc_spiffe_id,
    matcher_spiffe_id,
)

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^k[0-9a-f]{8}$")
TOKEN_MODE_HMAC = "hmac"
TOKEN_MODE_OPRF = "oprf"
OPRF_SUITE = "ristretto255-SHA512"


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

    __slots__ = ("_body", "_sealing", "_signing", "_custodian_signing", "_oprf_public")

    def __init__(self, body: dict, *, _verified: object = None) -> None:
        # Only load()/from_bytes() construct a Directory, after verifying the signature.
        if _verified is not _VERIFIED:
            raise TypeError("use Directory.load(path, ca_cert_path) or Directory.from_bytes(); they verify the signature")
        self._body = body
        self._sealing: dict[str, X25519PublicKey] = {}
        self._signing: dict[str, Ed25519PublicKey] = {}
        self._custodian_signing: Ed25519PublicKey | None = None
        self._oprf_public: dict[str, bytes] = {}
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
        if set(b) - {"custodian", "tokens"} != expected:
            raise DirectoryError(f"directory body must have exactly the fields {sorted(expected)} "
                                 "(and optionally custodian, tokens)")
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
        if "tokens" in b:
            self._check_tokens(b["tokens"], fed)
        revoked = b["revoked"]
        if not isinstance(revoked, list):
            raise DirectoryError("directory field revoked must be a list")
        for i, r in enumerate(revoked):
            if not isinstance(r, dict) or set(r) != {"area", "cert_sha256", "revoked_at", "reason"} \
                    or not all(isinstance(v, str) for v in r.values()):
                raise DirectoryError(f"directory field revoked[{i}] must have string fields area, cert_sha256, revoked_at, reason")

    def _check_tokens(self, t, fed: str) -> None:
        bad = "directory field tokens"
        if not isinstance(t, dict) or t.get("mode") not in (TOKEN_MODE_HMAC, TOKEN_MODE_OPRF):
            raise DirectoryError(f"{bad} must be an object whose mode is 'hmac' or 'oprf'")
        if t["mode"] == TOKEN_MODE_HMAC:
            if set(t) != {"mode"}:
                raise DirectoryError(f"{bad}: in hmac mode it holds only the mode")
            return
        if set(t) != {"mode", "suite", "primary", "keys", "keysvc", "hmac_key_ids"} or t["suite"] != OPRF_SUITE:
            raise DirectoryError(f"{bad}: in oprf mode it must hold exactly mode, suite ({OPRF_SUITE}), primary, "
                                 "keys, keysvc and hmac_key_ids")
        ks = t["keysvc"]
        if not isinstance(ks, dict) or set(ks) != {"spiffe_id", "cert_sha256"} \
                or ks["spiffe_id"] != keysvc_spiffe_id(fed) or not _HEX64.fullmatch(str(ks["cert_sha256"])):
            raise DirectoryError(f"{bad}.keysvc must hold this federation's keysvc spiffe_id and cert_sha256")
        keys = t["keys"]
        if not isinstance(keys, dict) or not keys:
            raise DirectoryError(f"{bad}.keys must name at least one OPRF key id")
        for kid, entry in keys.items():
            if not _KEY_ID.fullmatch(str(kid)) or not isinstance(entry, dict) \
                    or set(entry) != {"public_b64", "status"} or entry["status"] not in ("enabled", "disabled"):
                raise DirectoryError(f"{bad}.keys.{kid}: a key id ('k' + 8 hex digits) with public_b64 and "
                                     "status enabled|disabled")
            try:
                raw = base64.b64decode(str(entry["public_b64"]), validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32 or raw == bytes(32):
                raise DirectoryError(f"{bad}.keys.{kid}.public_b64 must be a base64 32-byte ristretto255 element")
            self._oprf_public[kid] = raw
        if t["primary"] not in keys or keys[t["primary"]]["status"] != "enabled":
            raise DirectoryError(f"{bad}.primary must name an enabled key in tokens.keys")
        hk = t["hmac_key_ids"]
        if not isinstance(hk, list) or not all(isinstance(k, str) and _KEY_ID.fullmatch(k) for k in hk) \
                or set(hk) & set(keys):
            raise DirectoryError(f"{bad}.hmac_key_ids must list HMAC key ids, none of them an OPRF key id")

    # -- token mode ------------------------------------------------------------------
    @property
    def token_mode(self) -> str:
        """'oprf' (a key service evaluates tokens) or 'hmac' (every node holds the token keyset)."""
        return self._body.get("tokens", {}).get("mode", TOKEN_MODE_HMAC)

    def _require_oprf(self) -> dict:
        if self.token_mode != TOKEN_MODE_OPRF:
            raise DirectoryError(f"the {self.federation} directory (version {self.version}) is in HMAC token mode; "
                                 "it names no key service")
        return self._body["tokens"]

    @property
    def oprf_primary(self) -> str:
        return self._require_oprf()["primary"]

    @property
    def oprf_key_ids(self) -> list[str]:
        """Every OPRF key id the directory lists, enabled or disabled."""
        return list(self._require_oprf()["keys"])

    def oprf_key_status(self, key_id: str) -> str | None:
        entry = self._require_oprf()["keys"].get(key_id)
        return entry["status"] if entry else None

    def oprf_public(self, key_id: str) -> bytes:
        """pkS of an OPRF key id (32 bytes); DirectoryError if the directory does not list it."""
        self._require_oprf()
        try:
            return self._oprf_public[key_id]
        except KeyError:
            raise DirectoryError(f"OPRF key id {key_id!r} is not in the directory (version {self.version}); "
                                 "fetch the latest directory.json") from None

    @property
    def keysvc_cert_sha256(self) -> str:
        return self._require_oprf()["keysvc"]["cert_sha256"]

    @property
    def hmac_key_ids(self) -> list[str]:
        """HMAC key ids still published under during a switch to OPRF mode (empty otherwise)."""
        return list(self._require_oprf()["hmac_key_ids"]) if self.token_mode == TOKEN_MODE_OPRF else []

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
