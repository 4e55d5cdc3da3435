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
    """kind -> set of tokens, for every kind with match keys."""
    kinds, counts, values = tokenise_packed(keyset, match_keys, key_id)
    out: dict[str, set[bytes]] = {}
    at = 0
    for kind, n in zip(kinds, counts):
        out[kind] = {values[i:i + TOKEN_BYTES] for i in range(at, at + n * TOKEN_BYTES, TOKEN_BYTES)}
        at += n * TOKEN_BYTES
    return out


def tokenise_packed(keyset, match_keys: dict[str, set[str]], key_id: str | None = None
                    ) -> tuple[list[str], list[int], bytes]:
    """The record's tokens as the wire carries them (RecordTokens in proto/fedalert/v1/matcher.proto).

    Returns (kinds, counts, values): the kinds that have match keys, sorted;
    how many tokens each has; and every token, TOKEN_BYTES each, grouped by
    kind in that order and sorted within a kind. One HMAC call per record
    (TokenKeyset.mac_many), no Python object per token beyond its message and
    MAC.
    """
    kid = key_id or keyset.primary_id
    head = _PREFIX + kid.encode() + b"\x00"
    kinds, counts, msgs = [], [], []
    for kind in sorted(match_keys):
        keys = match_keys[kind]
        if keys:
            prefix = head + kind.encode() + b"\x00"  # same bytes as token(), built once per kind
            kinds.append(kind)
            counts.append(len(keys))
            msgs.extend([prefix + mk.encode("utf-8") for mk in keys])
    macs = keyset.mac_many(kid, msgs, TOKEN_BYTES)
    parts, at = [], 0
    for n in counts:
        parts.extend(sorted(macs[at:at + n]))
        at += n
    return kinds, counts, b"".join(parts)


def tokenise(keyset, identity: Identity, key_id: str | None = None) -> dict[str, set[bytes]]:
    """All tokens of one record under `key_id` (default: the primary key)."""
    return tokenise_keys(keyset, build_match_keys(identity), key_id)
