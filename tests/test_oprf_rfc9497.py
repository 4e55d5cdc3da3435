"""RFC 9497 Appendix A test vectors for ristretto255-SHA512, OPRF and VOPRF modes (batch vector included).

The vectors live in tests/vectors/rfc9497_ristretto255.json (source named there).
Every step is checked: DeriveKeyPair, Blind (with the vector's blind),
BlindEvaluate, the proof (with the vector's proof randomness), VerifyProof
and Finalize. Then the negative cases: a changed proof, evaluation or public
key fails verification; invalid and identity elements are refused.
"""

from __future__ import annotations

import pytest

from fedalert.keys import _ristretto as g
from fedalert.keys import oprf


def _cases(vectors, mode):
    (suite,) = [s for s in vectors("rfc9497_ristretto255.json")["suites"] if s["mode"] == mode]
    for v in suite["vectors"]:
        split = {k: [bytes.fromhex(x) for x in v[k].split(",")]
                 for k in ("Input", "Blind", "BlindedElement", "EvaluationElement", "Output")}
        yield suite, v, split


@pytest.mark.parametrize("mode", [oprf.MODE_OPRF, oprf.MODE_VOPRF])
def test_derive_key_pair_and_group_dst(vectors, mode):
    for suite, _, _ in list(_cases(vectors, mode))[:1]:
        key = oprf.derive_key_pair(bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), mode)
        assert key.export_scalar().hex() == suite["skSm"]
        if "pkSm" in suite:
            assert key.public.hex() == suite["pkSm"]
        assert oprf.suite(mode).group_dst.hex() == suite["groupDST"]


def test_oprf_mode_vectors(vectors):
    n = 0
    for suite, v, x in _cases(vectors, oprf.MODE_OPRF):
        key = oprf.derive_key_pair(bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), oprf.MODE_OPRF)
        state = oprf.blind(x["Input"], oprf.MODE_OPRF, blinds=x["Blind"])
        assert state.elements == x["BlindedElement"]
        evaluated = oprf.blind_evaluate(key, state.elements)
        assert evaluated == x["EvaluationElement"]
        assert oprf.finalize(state, evaluated) == x["Output"]
        n += 1
    assert n == 2


def test_voprf_mode_vectors_including_the_batch(vectors):
    batches = []
    for suite, v, x in _cases(vectors, oprf.MODE_VOPRF):
        key = oprf.derive_key_pair(bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), oprf.MODE_VOPRF)
        state = oprf.blind(x["Input"], oprf.MODE_VOPRF, blinds=x["Blind"])
        assert state.elements == x["BlindedElement"]
        evaluated, proof = oprf.blind_evaluate_batch(key, state.elements, r=bytes.fromhex(v["Proof"]["r"]))
        assert evaluated == x["EvaluationElement"]
        assert proof.hex() == v["Proof"]["proof"]
        assert oprf.verify_proof(oprf.g_generator(), key.public, state.elements, evaluated, proof, oprf.MODE_VOPRF)
        assert oprf.finalize(state, evaluated, public_key=key.public, proof=proof) == x["Output"]
        batches.append(v["Batch"])
    assert sorted(batches) == [1, 1, 2]


def _batch_vector(vectors):
    for suite, v, x in _cases(vectors, oprf.MODE_VOPRF):
        if v["Batch"] == 2:
            key = oprf.derive_key_pair(bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), oprf.MODE_VOPRF)
            return key, x, bytes.fromhex(v["Proof"]["proof"])
    raise AssertionError("no batch vector")


def test_a_wrong_proof_evaluation_or_key_fails_verification(vectors):
    key, x, proof = _batch_vector(vectors)
    G, C, D = oprf.g_generator(), x["BlindedElement"], x["EvaluationElement"]
    mode = oprf.MODE_VOPRF
    assert oprf.verify_proof(G, key.public, C, D, proof, mode)
    for i in (0, 31, 32, 63):  # a flipped bit in c or in s
        bad = bytearray(proof)
        bad[i] ^= 1
        assert not oprf.verify_proof(G, key.public, C, D, bytes(bad), mode)
    assert not oprf.verify_proof(G, key.public, C, [D[1], D[0]], proof, mode)  # evaluations swapped
    other = oprf.derive_key_pair(bytes(32), b"other", mode)
    assert not oprf.verify_proof(G, other.public, C, D, proof, mode)  # another key
    # A key service that evaluated with another key produces a proof that fails under the directory's key.
    evil, evil_proof = oprf.blind_evaluate_batch(other, C)
    assert not oprf.verify_proof(G, key.public, C, evil, evil_proof, mode)
    state = oprf.blind(x["Input"], mode, blinds=x["Blind"])
    with pytest.raises(oprf.VerifyError):
        oprf.finalize(state, evil, public_key=key.public, proof=evil_proof)
    assert not oprf.verify_proof(G, key.public, C, D, proof[:63], mode)  # truncated


def test_invalid_and_identity_elements_are_refused(vectors):
    key, x, _ = _batch_vector(vectors)
    good = x["BlindedElement"][0]
    not_canonical = b"\xff" * 32
    for bad in (g.IDENTITY, not_canonical, bytes([1]) + bytes(31)):
        with pytest.raises(oprf.InvalidInputError, match="blinded element 1"):
            oprf.blind_evaluate(key, [good, bad])


def test_random_blinds_give_the_same_output(vectors):
    """Unlinkable blinds: two blindings of one input differ, and both finalize to the same output."""
    key, x, _ = _batch_vector(vectors)
    inputs = [b"alpha", b"beta", b"alpha"]
    s1, s2 = oprf.blind(inputs, oprf.MODE_VOPRF), oprf.blind(inputs, oprf.MODE_VOPRF)
    assert s1.elements[0] != s2.elements[0] and s1.elements[0] != s1.elements[2]
    out = []
    for s in (s1, s2):
        ev, pr = oprf.blind_evaluate_batch(key, s.elements)
        out.append(oprf.finalize(s, ev, public_key=key.public, proof=pr))
    assert out[0] == out[1] and out[0][0] == out[0][2] and out[0][0] != out[0][1]


def test_private_key_repr_and_pickling_never_show_the_scalar(vectors):
    import pickle

    key, _, _ = _batch_vector(vectors)
    sk = key.export_scalar()
    assert sk.hex() not in repr(key) and sk.hex() not in str(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    state = oprf.blind([b"x"], oprf.MODE_VOPRF)
    assert state.blinds[0].hex() not in repr(state)


def test_scalar_batch_inversion_matches_libsodium():
    scalars = [g.scalar_random() for _ in range(17)]
    assert g.scalar_invert_many(scalars) == [g.scalar_invert(s) for s in scalars]
    assert g.scalar_invert_many([]) == []
