"""The federation token keyset: HMAC-SHA256 keys with stable ids and one primary.

File format (JSON, written 0600)::

    {"primary": "k1a2b3c4d",
     "keys": [{"key_id": "k1a2b3c4d", "status": "enabled",
               "created": "2026-11-25T22:50:00Z", "secret_b64": "..."}]}

Rules: key ids are unique and look like ``k`` + 8 hex digits; every secret is
32 bytes; exactly one key is primary and the primary is enabled. Disabled keys
are kept (the matcher may still hold tokens under them) but compute nothing.

Rotation is add, then promote, then disable::

    new = ks.add_key()      # enabled, not primary: nodes can start using it
    ks.promote(new)         # new tokens are made under it
    ks.disable(old)         # after republishing and the grace period

Secrets are hard to leak: repr and str list key ids only, pickling and copying
are refused, error messages never carry secret bytes, and export is an
explicit call (:meth:`TokenKeyset.export_json`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import hmac
import json
import os
import re
import secrets as _secrets
from pathlib import Path

from fedalert.keys.errors import KeysetError
from fedalert.secretfile import read_secret, write_secret

KEY_BYTES = 32
MAC_BYTES = 32
_SHA256_BLOCK = 64
_IPAD = bytes(i ^ 0x36 for i in range(256))  # byte -> byte XOR 0x36, for bytes.translate
_OPAD = bytes(i ^ 0x5C for i in range(256))
ENABLED = "enabled"
DISABLED = "disabled"
_KEY_ID_RE = re.compile(r"^k[0-9a-f]{8}$")


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Key:
    __slots__ = ("key_id", "status", "created", "_secret")

    def __init__(self, key_id: str, status: str, created: str, secret: bytes) -> None:
        self.key_id = key_id
        self.status = status
        self.created = created
        self._secret = secret

    def __repr__(self) -> str:
        return f"<token key {self.key_id} {self.status}>"

    def __reduce_ex__(self, protocol):  # pragma: no cover - defensive
        raise TypeError("token keys cannot be pickled or copied")


class TokenKeyset:
    """A set of token keys with exactly one enabled primary. Not picklable."""

    __slots__ = ("_keys", "_primary")

    def __init__(self, keys: list[_Key], primary: str) -> None:
        by_id: dict[str, _Key] = {}
        for k in keys:
            if k.key_id in by_id:
                raise KeysetError(f"token keyset lists key id {k.key_id} twice; each key id must be unique")
            by_id[k.key_id] = k
        if primary not in by_id:
            raise KeysetError(f"token keyset primary {primary!r} is not one of its keys")
        if by_id[primary].status != ENABLED:
            raise KeysetError(f"token keyset primary {primary} is disabled; the primary key must be enabled")
        self._keys = by_id
        self._primary = primary

    # -- construction -------------------------------------------------------------
    @classmethod
    def generate(cls) -> "TokenKeyset":
        """A new keyset with one fresh enabled primary key."""
        key = _Key(_new_key_id(set()), ENABLED, _now_iso(), os.urandom(KEY_BYTES))
        return cls([key], key.key_id)

    @classmethod
    def from_json(cls, data: bytes, *, source: str = "token keyset") -> "TokenKeyset":
        """Parse the JSON file format. Errors name the field, never a secret."""
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise KeysetError(f"{source} is not valid JSON; restore it from the key custodian") from None
        if not isinstance(doc, dict):
            raise KeysetError(f"{source}: top level must be an object with 'primary' and 'keys'")
        primary = doc.get("primary")
        entries = doc.get("keys")
        if not isinstance(primary, str):
            raise KeysetError(f"{source}: field 'primary' is missing or not a string")
        if not isinstance(entries, list) or not entries:
            raise KeysetError(f"{source}: field 'keys' is missing or empty")
        keys = []
        for i, entry in enumerate(entries):
            where = f"{source}: keys[{i}]"
            if not isinstance(entry, dict):
                raise KeysetError(f"{where} is not an object")
            key_id = entry.get("key_id")
            if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
                raise KeysetError(f"{where}: field 'key_id' must be 'k' followed by 8 hex digits")
            status = entry.get("status")
            if status not in (ENABLED, DISABLED):
                raise KeysetError(f"{where} ({key_id}): field 'status' must be 'enabled' or 'disabled'")
            created = entry.get("created")
            if not isinstance(created, str):
                raise KeysetError(f"{where} ({key_id}): field 'created' is missing or not a string")
            raw = entry.get("secret_b64")
            if not isinstance(raw, str):
                raise KeysetError(f"{where} ({key_id}): field 'secret_b64' is missing or not a string")
            try:
                secret = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise KeysetError(f"{where} ({key_id}): field 'secret_b64' is not valid base64") from None
            if len(secret) != KEY_BYTES:
                raise KeysetError(f"{where} ({key_id}): secret must be {KEY_BYTES} bytes, found {len(secret)}")
            keys.append(_Key(key_id, status, created, secret))
        return cls(keys, primary)

    @classmethod
    def load(cls, path: Path) -> "TokenKeyset":
        """Load a keyset file; the file must be owner-only (see read_secret)."""
        return cls.from_json(read_secret(Path(path)), source=f"token keyset {path}")

    def save(self, path: Path) -> None:
        """Write the keyset atomically with mode 0600."""
        write_secret(Path(path), self.export_json())

    def export_json(self) -> bytes:
        """Explicit export of the whole keyset, secrets included, in the file format."""
        doc = {
            "primary": self._primary,
            "keys": [
                {
                    "key_id": k.key_id,
                    "status": k.status,
                    "created": k.created,
                    "secret_b64": base64.b64encode(k._secret).decode("ascii"),
                }
                for k in self._keys.values()
            ],
        }
        return (json.dumps(doc, indent=2) + "\n").encode("ascii")

    # -- queries ------------------------------------------------------------------
    @property
    def primary_id(self) -> str:
        return self._primary

    @property
    def key_ids(self) -> list[str]:
        """All key ids, enabled and disabled, oldest first."""
        return list(self._keys)

    @property
    def enabled_key_ids(self) -> list[str]:
        return [k for k, v in self._keys.items() if v.status == ENABLED]

    def status(self, key_id: str) -> str:
        return self._get(key_id).status

    def created(self, key_id: str) -> str:
        return self._get(key_id).created

    def describe(self) -> list[dict[str, object]]:
        """Key ids, statuses, creation times and which is primary; never secrets."""
        return [
            {"key_id": k.key_id, "status": k.status, "created": k.created, "primary": k.key_id == self._primary}
            for k in self._keys.values()
        ]

    def mac(self, key_id: str, message: bytes) -> bytes:
        """HMAC-SHA256 of ``message`` under key ``key_id`` (32 bytes). Disabled keys refuse."""
        key = self._get(key_id)
        if key.status != ENABLED:
            raise KeysetError(f"token key {key_id} is disabled and computes no tokens; use {self._primary}")
        return hmac.digest(key._secret, bytes(message), "sha256")

    def mac_many(self, key_id: str, messages: list[bytes], length: int = MAC_BYTES) -> list[bytes]:
        """HMAC-SHA256 of each message under key ``key_id``, each cut to ``length`` bytes.

        The same values as :meth:`mac`, made faster for many messages: the key
        is checked once and the keyed inner and outer SHA-256 states of
        RFC 2104 (key XOR ipad, key XOR opad) are computed once and copied per
        message, instead of hashing the padded key twice per message.
        """
        key = self._get(key_id)
        if key.status != ENABLED:
            raise KeysetError(f"token key {key_id} is disabled and computes no tokens; use {self._primary}")
        secret = key._secret
        if len(secret) > _SHA256_BLOCK:  # RFC 2104: a key longer than a block is hashed first
            secret = hashlib.sha256(secret).digest()
        block = secret.ljust(_SHA256_BLOCK, b"\0")
        inner0 = hashlib.sha256(block.translate(_IPAD))
        outer0 = hashlib.sha256(block.translate(_OPAD))
        out = []
        for m in messages:
            inner = inner0.copy()
            inner.update(m)
            outer = outer0.copy()
            outer.update(inner.digest())
            out.append(outer.digest()[:length])
        return out

    # -- rotation -----------------------------------------------------------------
    def add_key(self, *, enabled: bool = True) -> str:
        """Add a fresh key (not primary) and return its id."""
        key = _Key(_new_key_id(set(self._keys)), ENABLED if enabled else DISABLED, _now_iso(), os.urandom(KEY_BYTES))
        self._keys[key.key_id] = key
        return key.key_id

    def promote(self, key_id: str) -> None:
        """Make an enabled key the primary."""
        key = self._get(key_id)
        if key.status != ENABLED:
            raise KeysetError(f"token key {key_id} is disabled; enable it before making it primary")
        self._primary = key_id

    def enable(self, key_id: str) -> None:
        self._get(key_id).status = ENABLED

    def disable(self, key_id: str) -> None:
        """Disable a key that is not the primary (it is kept, but computes nothing)."""
        key = self._get(key_id)
        if key_id == self._primary:
            raise KeysetError(f"token key {key_id} is the primary; promote another key before disabling it")
        key.status = DISABLED

    def delete(self, key_id: str) -> None:
        """Remove a disabled key for good (after the matcher dropped its tokens)."""
        key = self._get(key_id)
        if key.status != DISABLED:
            raise KeysetError(f"token key {key_id} is enabled; disable it (and wait out the grace period) before deleting")
        del self._keys[key_id]

    # -- leak resistance ----------------------------------------------------------
    def _get(self, key_id: str) -> _Key:
        try:
            return self._keys[key_id]
        except (KeyError, TypeError):
            shown = key_id if isinstance(key_id, str) and _KEY_ID_RE.fullmatch(key_id) else "(malformed id)"
            raise KeysetError(
                f"token key {shown} is not in this keyset (key ids: {', '.join(self._keys)}); "
                "update the keyset from the key custodian"
            ) from None

    def __repr__(self) -> str:
        parts = [f"{k.key_id}{'*' if k.key_id == self._primary else ''}:{k.status}" for k in self._keys.values()]
        return f"<TokenKeyset primary={self._primary} keys=[{', '.join(parts)}]>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("TokenKeyset cannot be pickled or copied; use export_json() for an explicit export")

    def __reduce__(self):
        raise TypeError("TokenKeyset cannot be pickled or copied; use export_json() for an explicit export")

    def __getstate__(self):
        raise TypeError("TokenKeyset cannot be pickled or copied; use export_json() for an explicit export")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenKeyset):
            return NotImplemented
        if self._primary != other._primary or list(self._keys) != list(other._keys):
            return False
        return all(
            a.status == b.status and hmac.compare_digest(a._secret, b._secret)
            for a, b in zip(self._keys.values(), other._keys.values())
        )

    __hash__ = None  # type: ignore[assignment]


def _new_key_id(taken: set[str]) -> str:
    for _ in range(100):
        key_id = "k" + _secrets.token_hex(4)
        if key_id not in taken:
            return key_id
    raise KeysetError("could not draw a fresh key id")  # pragma: no cover
