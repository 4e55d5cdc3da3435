"""Sealed token keysets: how a new keyset travels from the custodian to one area.

A *keyset package* is the whole token keyset, sealed (``fedalert.keys.seal``)
to the area's X25519 sealing key and signed by the custodian's Ed25519 key.
The matcher relays packages but cannot open them (it holds no area sealing
key) and cannot forge them (it holds no custodian key). A package file
``DIR/rotation/<key_id>/<area>.sealed`` is JSON::

    {"format": "fedalert-keyset/1", "federation": "demo", "area": "north",
     "key_id": "k1a2b3c4d", "serial": 7, "sealed_b64": "..."}

The clear fields are bound into the seal's context, so changing any of them
breaks the signature::

    context = b"fedalert/v1/keyset\\x00" + canonical JSON [federation, area, key_id, serial]

The sealed payload repeats them next to the keyset, and :func:`open_package`
checks both copies. ``serial`` increases with every keyset the custodian
seals (``DIR/ca/keyset.serial``); a node refuses a serial at or below the one
it installed last, so an old keyset cannot be replayed to roll a node back.
``key_id`` names the key the change was about and must be in the keyset.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from fedalert.keys.errors import KeysetError, SealError
from fedalert.keys.keyset import TokenKeyset
from fedalert.keys.seal import open_sealed, seal
from fedalert.keys.spiffe import check_area_id, check_federation

FORMAT = "fedalert-keyset/1"
CONTEXT_PREFIX = b"fedalert/v1/keyset\x00"
MAX_PACKAGE_BYTES = 64 * 1024
_KEY_ID_CHARS = set("0123456789abcdefk")


class KeysetPackageError(SealError):
    """A keyset package is malformed, not for this area, replayed, or fails its seal (exit code 3)."""


def context(federation: str, area: str, key_id: str, serial: int) -> bytes:
    return CONTEXT_PREFIX + json.dumps([federation, area, key_id, serial], separators=(",", ":")).encode("ascii")


@dataclass(frozen=True)
class KeysetPackage:
    federation: str
    area: str
    key_id: str
    serial: int
    sealed: bytes

    def __repr__(self) -> str:  # the sealed bytes are opaque, but keep reprs short and boring
        return f"<KeysetPackage {self.federation}/{self.area} key {self.key_id} serial {self.serial}>"

    def to_json(self) -> bytes:
        doc = {"format": FORMAT, "federation": self.federation, "area": self.area, "key_id": self.key_id,
               "serial": self.serial, "sealed_b64": base64.b64encode(self.sealed).decode("ascii")}
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("ascii")

    @classmethod
    def from_json(cls, data: bytes, *, source: str = "keyset package") -> "KeysetPackage":
        if len(data) > MAX_PACKAGE_BYTES:
            raise KeysetPackageError(f"{source} is larger than {MAX_PACKAGE_BYTES} bytes; it is not a keyset package")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise KeysetPackageError(f"{source} is not valid JSON; is it a .sealed keyset file?") from None
        want = {"format", "federation", "area", "key_id", "serial", "sealed_b64"}
        if not isinstance(doc, dict) or set(doc) != want:
            raise KeysetPackageError(f"{source} must be an object with exactly the fields {sorted(want)}")
        if doc["format"] != FORMAT:
            raise KeysetPackageError(f"{source}: format {doc['format']!r} is not {FORMAT!r}; upgrade fedalert")
        try:
            sealed = base64.b64decode(doc["sealed_b64"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise KeysetPackageError(f"{source}: field sealed_b64 is not valid base64") from None
        return cls.checked(doc["federation"], doc["area"], doc["key_id"], doc["serial"], sealed, source=source)

    @classmethod
    def checked(cls, federation, area, key_id, serial, sealed, *, source: str = "keyset package") -> "KeysetPackage":
        """Build a package from clear fields (file or RPC), checking each one."""
        from fedalert.keys.errors import KeysUsageError

        try:
            check_federation(federation)
            check_area_id(area)
        except KeysUsageError as exc:
            raise KeysetPackageError(f"{source}: {exc}") from None
        if not isinstance(key_id, str) or len(key_id) != 9 or key_id[0] != "k" or not set(key_id) <= _KEY_ID_CHARS:
            raise KeysetPackageError(f"{source}: field key_id must be 'k' followed by 8 hex digits")
        if not isinstance(serial, int) or isinstance(serial, bool) or not (1 <= serial < 2**63):
            raise KeysetPackageError(f"{source}: field serial must be a positive integer")
        if not isinstance(sealed, (bytes, bytearray)) or not sealed or len(sealed) > MAX_PACKAGE_BYTES:
            raise KeysetPackageError(f"{source}: the sealed keyset must be 1..{MAX_PACKAGE_BYTES} bytes")
        return cls(federation, area, key_id, serial, bytes(sealed))


def seal_keyset(keyset: TokenKeyset, *, federation: str, area: str, key_id: str, serial: int,
                recipient: X25519PublicKey, signer: Ed25519PrivateKey) -> KeysetPackage:
    """Seal ``keyset`` to one area's sealing key, signed by the custodian."""
    if key_id not in keyset.key_ids:
        raise KeysetError(f"token key {key_id} is not in the keyset being sealed")
    payload = {"format": FORMAT, "federation": federation, "area": area, "key_id": key_id, "serial": serial,
               "keyset": json.loads(keyset.export_json())}
    blob = seal(json.dumps(payload, sort_keys=True).encode("ascii"), recipient=recipient, signer=signer,
                context=context(federation, area, key_id, serial))
    return KeysetPackage.checked(federation, area, key_id, serial, blob)


def open_package(pkg: KeysetPackage, *, federation: str, area: str, recipient: X25519PrivateKey,
                 custodian: Ed25519PublicKey, installed_serial: int = 0) -> TokenKeyset:
    """Verify and open a package meant for ``area`` of ``federation``; return the keyset.

    Refuses a package for another federation or area, one whose serial is not
    above ``installed_serial`` (a replay), a tampered one, or one not signed
    by the custodian.
    """
    if pkg.federation != federation:
        raise KeysetPackageError(f"keyset package is for federation {pkg.federation!r}, not {federation!r}")
    if pkg.area != area:
        raise KeysetPackageError(f"keyset package is for area {pkg.area!r}, not this area {area!r}; "
                                 "install the file named after this area")
    if pkg.serial <= installed_serial:
        raise KeysetPackageError(
            f"keyset package serial {pkg.serial} is not newer than the installed keyset (serial {installed_serial}); "
            "an old keyset is never installed again")
    raw = open_sealed(pkg.sealed, recipient=recipient, sender=custodian,
                      context=context(pkg.federation, pkg.area, pkg.key_id, pkg.serial))
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise KeysetPackageError("the opened keyset package is not JSON; ask the custodian to seal it again") from None
    inner = {k: payload.get(k) for k in ("format", "federation", "area", "key_id", "serial")} \
        if isinstance(payload, dict) else None
    if inner != {"format": FORMAT, "federation": pkg.federation, "area": pkg.area, "key_id": pkg.key_id,
                 "serial": pkg.serial}:
        raise KeysetPackageError("the opened keyset package does not agree with its clear fields; do not use it")
    keyset = TokenKeyset.from_json(json.dumps(payload.get("keyset")).encode("ascii"), source="sealed keyset")
    if pkg.key_id not in keyset.key_ids:
        raise KeysetPackageError(f"the sealed keyset does not hold key {pkg.key_id}; do not use it")
    return keyset


def package_path(out: Path, key_id: str, area: str) -> Path:
    return Path(out) / "rotation" / key_id / f"{area}.sealed"
