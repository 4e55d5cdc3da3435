"""The key service's OPRF keyset: key ids, one primary, rotation; each key an RFC 9497 key pair.

File ``oprf.keyset.json`` (0600), at the key custodian (``DIR/ca/``) and the
key service (``DIR/keysvc/``) only, never at a node or the matcher. Same
format and rules as the HMAC token keyset (``fedalert.keys.keyset``: key ids
``k`` + 8 hex digits, exactly one enabled primary, disabled keys kept), which
it reuses for storage, validation and leak resistance; each 32-byte secret
is a DeriveKeyPair seed::

    skS, pkS = DeriveKeyPair(seed, info = "fedalert/v1 oprf key " || key_id)   (VOPRF mode)

Binding the key id into ``info`` means a key's public key names its id: a
seed copied under another id gives another key. The public keys go into the
signed directory (``fedalert.keys.directory``, ``tokens`` section); nodes
check every proof against them.
"""

from __future__ import annotations

import base64
from pathlib import Path

from fedalert.keys import oprf
from fedalert.keys.errors import KeysetError
from fedalert.keys.keyset import ENABLED, TokenKeyset

KEYSET_FILE = "oprf.keyset.json"
INFO_PREFIX = b"fedalert/v1 oprf key "
MODE = oprf.MODE_VOPRF


def derive_token_key(seed: bytes, key_id: str) -> oprf.OprfPrivateKey:
    """The key pair of one key id from its seed (DeriveKeyPair, VOPRF mode)."""
    return oprf.derive_key_pair(seed, INFO_PREFIX + key_id.encode("ascii"), MODE)


class OprfKeyset:
    """Key ids, states and derived key pairs. repr shows ids only; not picklable."""

    __slots__ = ("_ks", "_keys")

    def __init__(self, keyset: TokenKeyset):
        self._ks = keyset
        self._keys: dict[str, oprf.OprfPrivateKey] = {}

    @classmethod
    def generate(cls) -> "OprfKeyset":
        return cls(TokenKeyset.generate())

    @classmethod
    def load(cls, path: Path) -> "OprfKeyset":
        path = Path(path)
        return cls(TokenKeyset.from_json(_read(path), source=f"OPRF keyset {path}"))

    def save(self, path: Path) -> None:
        self._ks.save(Path(path))

    # -- queries ------------------------------------------------------------------
    @property
    def primary_id(self) -> str:
        return self._ks.primary_id

    @property
    def key_ids(self) -> list[str]:
        return self._ks.key_ids

    @property
    def enabled_key_ids(self) -> list[str]:
        return self._ks.enabled_key_ids

    def status(self, key_id: str) -> str:
        return self._ks.status(key_id)

    def describe(self) -> list[dict[str, object]]:
        return [{**d, "public_b64": self.public_b64(d["key_id"])} for d in self._ks.describe()]

    def private_key(self, key_id: str) -> oprf.OprfPrivateKey:
        """The key pair of an enabled key id (KeysetError for an unknown or disabled one)."""
        if self._ks.status(key_id) != ENABLED:
            raise KeysetError(f"OPRF key {key_id} is disabled and evaluates nothing; use {self.primary_id}")
        return self._key(key_id)

    def _key(self, key_id: str) -> oprf.OprfPrivateKey:
        key = self._keys.get(key_id)
        if key is None:
            key = derive_token_key(self._ks._get(key_id)._secret, key_id)
            self._keys[key_id] = key
        return key

    def public_key(self, key_id: str) -> bytes:
        return self._key(key_id).public

    def public_b64(self, key_id: str) -> str:
        return base64.b64encode(self.public_key(key_id)).decode("ascii")

    # -- rotation (add, promote, disable: as TokenKeyset) ----------------------------
    def add_key(self) -> str:
        return self._ks.add_key()

    def promote(self, key_id: str) -> None:
        self._ks.promote(key_id)

    def disable(self, key_id: str) -> None:
        self._ks.disable(key_id)

    def export_json(self) -> bytes:
        return self._ks.export_json()

    def __repr__(self) -> str:
        return repr(self._ks).replace("TokenKeyset", "OprfKeyset", 1)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("OprfKeyset cannot be pickled or copied; use export_json() for an explicit export")


def _read(path: Path) -> bytes:
    from fedalert.secretfile import read_secret

    return read_secret(path)
