"""Node tokens: the batched tokeniser gives exactly the documented HMAC construction."""

from __future__ import annotations

import hashlib
import hmac

from fedalert.keys import TokenKeyset
from fedalert.node.tokens import token, tokenise_keys


def test_tokenise_keys_matches_the_documented_construction():
    ks = TokenKeyset.generate()
    kid = ks.primary_id
    keys = {"name_dob": {"ada\x1flovelace\x1f18151210", "ada\x1flovelace\x1f18151012"},
            "pnc": {"1991/0012345K"}, "email": set()}
    got = tokenise_keys(ks, keys)
    assert set(got) == {"name_dob", "pnc"}  # an empty kind gives nothing
    secret = ks._get(kid)._secret  # test-only peek, to recompute independently
    for kind, values in keys.items():
        for mk in values:
            msg = b"fedalert/v1\x00" + kid.encode() + b"\x00" + kind.encode() + b"\x00" + mk.encode()
            expected = hmac.new(secret, msg, hashlib.sha256).digest()[:16]
            assert expected in got[kind]
            assert token(ks, kid, kind, mk) == expected
    assert all(len(v) == 16 for vals in got.values() for v in vals)


def test_other_key_id_gives_other_tokens():
    ks = TokenKeyset.generate()
    other = ks.add_key()
    keys = {"pnc": {"1991/0012345K"}}
    assert tokenise_keys(ks, keys) != tokenise_keys(ks, keys, other)
