"""The packed token form: what the node sends, what the matcher stores, the fast HMAC.

Each fast path is checked against the plain construction it replaces.
"""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from fedalert.keys import TokenKeyset
from fedalert.keys.errors import KeysetError
from fedalert.matcher._tokens import (RecordIn, pack_runs, packed_keys, read_runs, stored_kind_ids, unpack,
                                      validate_records)
from fedalert.node.tokens import tokenise_keys, tokenise_packed
from fedalert.v1 import matcher_pb2 as pb


def test_mac_many_is_hmac_sha256():
    ks = TokenKeyset.generate()
    kid = ks.primary_id
    secret = ks._get(kid)._secret  # test-only peek, to recompute independently
    msgs = [b"", b"x", bytes(range(256)) * 3] + [random.randbytes(n) for n in range(0, 130, 7)]
    assert ks.mac_many(kid, msgs) == [hmac.new(secret, m, hashlib.sha256).digest() for m in msgs]
    assert ks.mac_many(kid, msgs, 16) == [ks.mac(kid, m)[:16] for m in msgs]


def test_mac_many_refuses_a_disabled_key():
    ks = TokenKeyset.generate()
    old = ks.primary_id
    ks.promote(ks.add_key())
    ks.disable(old)
    with pytest.raises(KeysetError, match="disabled"):
        ks.mac_many(old, [b"m"])


def test_tokenise_packed_is_the_token_sets_grouped_by_kind():
    ks = TokenKeyset.generate()
    keys = {"name_dob": {"a\x1fb\x1f19900101", "a\x1fb\x1f19900102", "c\x1fd\x1f19900101"},
            "pnc": {"1991/0012345K"}, "email": set()}
    kinds, counts, values = tokenise_packed(ks, keys)
    assert kinds == ["name_dob", "pnc"] and counts == [3, 1] and len(values) == 4 * 16
    sets = tokenise_keys(ks, keys)
    nd = [values[i:i + 16] for i in range(0, 48, 16)]
    assert nd == sorted(sets["name_dob"]) and values[48:] in sets["pnc"]


def test_stored_form_holds_every_pair_and_the_runs_in_order():
    rng = random.Random(7)
    for _ in range(200):
        groups = {rng.randint(1, 65535): sorted(rng.randbytes(16) for _ in range(rng.randint(1, 9)))
                  for _ in range(rng.randint(0, 25))}
        kids = list(groups)
        rng.shuffle(kids)  # any run order: stored as given
        values = b"".join(b"".join(groups[k]) for k in kids)
        blob = pack_runs(kids, [len(groups[k]) for k in kids], values)
        pairs = {(kid, v) for kid, vals in groups.items() for v in vals}
        assert unpack(blob) == pairs
        assert read_runs(blob) == ([(k, len(groups[k])) for k in kids], values)
        assert stored_kind_ids(blob) == kids
        assert packed_keys(blob) == [int.from_bytes(v[:8], "big", signed=True) for k in kids for v in groups[k]]
        skip = frozenset(kids[::3])
        assert packed_keys(blob, skip) == [int.from_bytes(v[:8], "big", signed=True)
                                           for k in kids if k not in skip for v in groups[k]]


def test_validated_record_carries_every_pair_once():
    a, b, c = (bytes([i]) * 16 for i in (3, 1, 2))
    rec = pb.RecordTokens(handle="handleA0001", key_id="k1", kinds=["pnc", "name_dob"], counts=[1, 2],
                          values=a + c + b)  # a kind's values in any order
    (got,) = validate_records([rec])
    assert got.tokens == frozenset({("pnc", a), ("name_dob", c), ("name_dob", b)})
    assert got.n_tokens == 3 and got.kinds == {"pnc", "name_dob"}
    assert got.groups == RecordIn("handleA0001", "k1", got.tokens).groups | {"name_dob": c + b}
    assert got.runs == (("pnc", "name_dob"), (1, 2), a + c + b)  # kept as sent
    assert RecordIn("handleA0001", "k1", got.tokens).runs == (("name_dob", "pnc"), (2, 1), b + c + a)
    # The same value under two kinds is two pairs, as it was with one message per token:
    (two,) = validate_records([pb.RecordTokens(handle="handleA0002", key_id="k1", kinds=["pnc", "ni"],
                                               counts=[1, 1], values=a + a)])
    assert two.tokens == frozenset({("pnc", a), ("ni", a)})
