"""Keyed tokens: one per match key, under a key id, in HMAC or OPRF token mode.

HMAC mode (a node holds the token keyset)::

    token = HMAC-SHA256(key[key_id], "fedalert/v1" 0x00 key_id 0x00 kind 0x00 matchkey)[:16]

OPRF mode (no node holds a token key; RFC 9497 VOPRF, ristretto255-SHA512,
evaluated blind by the key service, see node/oprf_tokens.py)::

    input = "fedalert/v1/oprf" 0x00 key_id 0x00 kind 0x00 matchkey
    token = Finalize(input, skS[key_id] * HashToGroup(input))[:16]

One OPRF input per whole match-key string, never per field value. The key
id and the key kind are bound into the input in both modes, so a token of
one kind or key can never equal a token of another. Only the key id and the
kind travel in clear next to the value.

A *token source* is either a TokenKeyset (HMAC) or anything with
``mode_of(key_id) -> "hmac" | "oprf"`` and ``evaluate_tokens(key_id,
inputs, length) -> list[bytes]`` (node/oprf_tokens.TokenSource), which
during a switch of token mode serves the old key id in HMAC and the new one
in OPRF mode.
"""

from __future__ import annotations

from fedalert.node.identity import Identity
from fedalert.node.matchkeys import build_match_keys

TOKEN_BYTES = 16
HMAC = "hmac"
OPRF = "oprf"
_PREFIX = b"fedalert/v1\x00"
OPRF_PREFIX = b"fedalert/v1/oprf\x00"


def mode_of(source, key_id: str) -> str:
    fn = getattr(source, "mode_of", None)
    return fn(key_id) if fn is not None else HMAC


def token_input(mode: str, key_id: str, kind: str, matchkey: str) -> bytes:
    """The exact bytes the MAC (HMAC mode) or the OPRF (OPRF mode) is applied to."""
    prefix = OPRF_PREFIX if mode == OPRF else _PREFIX
    return prefix + key_id.encode() + b"\x00" + kind.encode() + b"\x00" + matchkey.encode("utf-8")


def _values(source, key_id: str, inputs: list[bytes]) -> list[bytes]:
    if mode_of(source, key_id) == OPRF:
        return source.evaluate_tokens(key_id, inputs, TOKEN_BYTES)
    return source.mac_many(key_id, inputs, TOKEN_BYTES)


def token(keyset, key_id: str, kind: str, matchkey: str) -> bytes:
    return _values(keyset, key_id, [token_input(mode_of(keyset, key_id), key_id, kind, matchkey)])[0]


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
    kind in that order and sorted within a kind.
    """
    return tokenise_records(keyset, [match_keys], key_id)[0]


def tokenise_records(source, records: list[dict[str, set[str]]], key_id: str | None = None
                     ) -> list[tuple[list[str], list[int], bytes]]:
    """tokenise_packed for many records with ONE call to the token source.

    In HMAC mode that is one TokenKeyset.mac_many call; in OPRF mode one
    evaluation round (cache lookup, blinded batches to the key service, one
    proof check per batch) for the whole publish batch instead of one per
    record. No Python object per token beyond its input and value.
    """
    kid = key_id or source.primary_id
    mode = mode_of(source, kid)
    head = (OPRF_PREFIX if mode == OPRF else _PREFIX) + kid.encode() + b"\x00"
    shapes, msgs = [], []
    for match_keys in records:
        kinds, counts = [], []
        for kind in sorted(match_keys):
            keys = match_keys[kind]
            if keys:
                prefix = head + kind.encode() + b"\x00"  # same bytes as token_input(), built once per kind
                kinds.append(kind)
                counts.append(len(keys))
                msgs.extend([prefix + mk.encode("utf-8") for mk in keys])
        shapes.append((kinds, counts))
    values = _values(source, kid, msgs)
    out, at = [], 0
    for kinds, counts in shapes:
        parts = []
        for n in counts:
            parts.extend(sorted(values[at:at + n]))
            at += n
        out.append((kinds, counts, b"".join(parts)))
    return out


def tokenise(keyset, identity: Identity, key_id: str | None = None) -> dict[str, set[bytes]]:
    """All tokens of one record under `key_id` (default: the primary key)."""
    return tokenise_keys(keyset, build_match_keys(identity), key_id)
