"""Known-answer vectors for tokens in both token modes (tests/vectors/tokens.json, docs/INTERFACES.md).

OPRF mode: the token a node gets through blinding, the key service and
unblinding equals the vector (fresh random blinds each time: the output does
not depend on them). HMAC mode: the documented HMAC construction.
"""

from __future__ import annotations

import base64
import json

from fedalert.keys import TokenKeyset, oprf
from fedalert.keys.oprf_keyset import INFO_PREFIX, derive_token_key
from fedalert.node.tokens import token, token_input


def test_oprf_token_vectors(vectors):
    v = vectors("tokens.json")
    key = derive_token_key(bytes.fromhex(v["oprf_seed_hex"]), v["key_id"])
    assert key.public.hex() == v["oprf_public_key_hex"]
    mode0 = oprf.derive_key_pair(bytes.fromhex(v["oprf_seed_hex"]), INFO_PREFIX + v["key_id"].encode(), oprf.MODE_OPRF)
    for c in v["cases"]:
        x = token_input("oprf", v["key_id"], c["kind"], c["matchkey"])
        assert x.hex() == c["oprf_input_hex"]
        state = oprf.blind([x], oprf.MODE_VOPRF)
        ev, proof = oprf.blind_evaluate_batch(key, state.elements)
        out = oprf.finalize(state, ev, public_key=key.public, proof=proof)[0]
        assert out.hex() == c["voprf_output_hex"] and out[:16].hex() == c["oprf_token_hex"]
        s0 = oprf.blind([x], oprf.MODE_OPRF)
        assert oprf.finalize(s0, oprf.blind_evaluate(mode0, s0.elements))[0].hex() == c["mode0_output_hex"]


def test_hmac_token_vectors(vectors):
    v = vectors("tokens.json")
    doc = {"primary": v["key_id"], "keys": [{"key_id": v["key_id"], "status": "enabled", "created": "2026-01-01T00:00:00Z",
                                             "secret_b64": base64.b64encode(bytes.fromhex(v["hmac_secret_hex"])).decode()}]}
    ks = TokenKeyset.from_json(json.dumps(doc).encode())
    for c in v["cases"]:
        assert token_input("hmac", v["key_id"], c["kind"], c["matchkey"]).hex() == c["hmac_input_hex"]
        assert token(ks, v["key_id"], c["kind"], c["matchkey"]).hex() == c["hmac_token_hex"]
