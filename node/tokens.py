"""Keyed tokens: HMAC-SHA256 of a match key under the area's token keyset.

``token = HMAC-SHA256(key[key_id], "fedalert/v1" 0x00 key_id 0x00 kind 0x00 matchkey)[:16]``

The key id and the key kind are bound into the MAC input, so a token of one
kind or key can never equal a token of another. Only the key id and the kind
travel in clear next to the value.
"""

from __future__ import annotations

from fedalert.node.identity import Identity
from fedalert.node.matchkeys import build_match_keys

TOKEN_BYTES = 16
_PREFIX = b"fedalert/v1\x00"


def token(keyset, key_id: str, kind: str, matchkey: str) -> bytes:
    msg = _PREFIX + key_id.encode() + b"\x00" + kind.encode() + b"\x00" + matchkey.encode("utf-8")
    return keyset.mac(key_id, msg)[:TOKEN_BYTES]


def tokenise_keys(keyset, match_keys: dict[str, set[str]], key_id: str | None = None) -> dict[str, set[bytes]]:
    kid = key_id or keyset.primary_id
    head = _PREFIX + kid.encode() + b"\x00"
    mac = keyset.mac
    out: dict[str, set[bytes]] = {}
    for kind, keys in match_keys.items():
        if keys:
            prefix = head + kind.encode() + b"\x00"  # same bytes as token(), built once per kind
            out[kind] = {mac(kid, prefix + mk.encode("utf-8"))[:TOKEN_BYTES] for mk in keys}
    return out


def tokenise(keyset, identity: Identity, key_id: str | None = None) -> dict[str, set[bytes]]:
    """All tokens of one record under `key_id` (default: the primary key)."""
    return tokenise_keys(keyset, build_match_keys(identity), key_id)
