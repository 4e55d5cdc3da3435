"""RFC 9497 OPRF and VOPRF for the ristretto255-SHA512 suite: the protocol steps only.

Group arithmetic comes from libsodium (``fedalert.keys._ristretto``); this
module writes out the RFC's steps and strings:

- ``contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || "ristretto255-SHA512"``
  (mode 0x00 OPRF, 0x01 VOPRF);
- ``HashToGroup``: hash_to_ristretto255 (RFC 9380 expand_message_xmd with
  SHA-512, 64 bytes, then libsodium's from_hash), DST ``"HashToGroup-" || contextString``;
- ``HashToScalar``: expand_message_xmd to 64 bytes, reduced mod L, DST
  ``"HashToScalar-" || contextString`` (``"DeriveKeyPair" || contextString`` in DeriveKeyPair);
- ``Blind``, ``BlindEvaluate``, ``Finalize``, ``DeriveKeyPair``;
- in VOPRF mode the batched DLEQ proof: ``GenerateProof`` with
  ``ComputeCompositesFast`` (the server knows k), ``VerifyProof`` with
  ``ComputeComposites``; composite seed DST ``"Seed-" || contextString``,
  transcripts ending in ``"Composite"`` and ``"Challenge"``;
  ``Finalize`` ends its hash input with ``"Finalize"``.

Batches: one proof covers every element of a batch (RFC 9497 section 2.2.1),
so a node checks one proof per call, and the key service makes one.

Secrets: a private key is an :class:`OprfPrivateKey`, whose repr shows the
public key's fingerprint only and which refuses pickling. Blinds never leave
the caller's :class:`Blinded` object. Error messages name the element index,
never a value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fedalert.keys import _ristretto as g
from fedalert.keys.errors import KeysError

SUITE = "ristretto255-SHA512"
MODE_OPRF = 0
MODE_VOPRF = 1
ELEMENT_BYTES = g.ELEMENT_BYTES
SCALAR_BYTES = g.SCALAR_BYTES
OUTPUT_BYTES = 64  # Nh: SHA-512
PROOF_BYTES = 2 * SCALAR_BYTES
#: RFC 9497 encodes an input's length and an element's index in 2 bytes.
MAX_INPUT_BYTES = 2**16 - 1
MAX_BATCH = 2**16 - 1
_EXPAND_BYTES = 64  # hash_to_ristretto255 and HashToScalar both expand to 64 bytes


class OprfError(KeysError):
    """An OPRF step refused its input (RFC 9497 errors: InvalidInputError, VerifyError, DeriveKeyPairError)."""


class InvalidInputError(OprfError):
    """An input maps to the identity element, or an element is not a valid encoding."""


class VerifyError(OprfError):
    """The key service's batched proof does not verify under the public key the directory names."""

    exit_code = 3


def context_string(mode: int) -> bytes:
    return b"OPRFV1-" + bytes([mode]) + b"-" + SUITE.encode("ascii")


def _i2osp(n: int, length: int) -> bytes:
    return n.to_bytes(length, "big")


def _lp(data: bytes) -> bytes:
    """I2OSP(len(data), 2) || data: the RFC's length-prefixed field."""
    return _i2osp(len(data), 2) + data


_Z_PAD = hashlib.sha512(bytes(128))  # SHA-512's block is 128 bytes; the state after Z_pad is shared


def expand_message_xmd(msg: bytes, dst: bytes, len_in_bytes: int = _EXPAND_BYTES) -> bytes:
    """RFC 9380 section 5.3.1 with SHA-512 (b_in_bytes 64, s_in_bytes 128)."""
    if len(dst) > 255:
        raise OprfError("domain separation tag longer than 255 bytes")
    ell = -(-len_in_bytes // 64)
    if ell > 255 or len_in_bytes > 65535:
        raise OprfError("expand_message_xmd output too long")
    dst_prime = dst + _i2osp(len(dst), 1)
    h0 = _Z_PAD.copy()
    h0.update(msg + _i2osp(len_in_bytes, 2) + b"\x00" + dst_prime)
    b0 = h0.digest()
    b = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    out = [b]
    for i in range(2, ell + 1):
        b = hashlib.sha512(bytes(x ^ y for x, y in zip(b0, b)) + _i2osp(i, 1) + dst_prime).digest()
        out.append(b)
    return b"".join(out)[:len_in_bytes]


class _Suite:
    """The DSTs of one mode, computed once."""

    def __init__(self, mode: int):
        if mode not in (MODE_OPRF, MODE_VOPRF):
            raise OprfError(f"unsupported mode {mode!r}; fedalert uses OPRF (0) and VOPRF (1)")
        self.mode = mode
        ctx = context_string(mode)
        self.group_dst = b"HashToGroup-" + ctx
        self.scalar_dst = b"HashToScalar-" + ctx
        self.derive_dst = b"DeriveKeyPair" + ctx
        self.seed_dst = b"Seed-" + ctx
        # expand_message_xmd's tail (I2OSP(64, 2) || 0x00 || DST') for each DST, built once
        self._tails = {d: _i2osp(_EXPAND_BYTES, 2) + b"\x00" + d + _i2osp(len(d), 1)
                       for d in (self.group_dst, self.scalar_dst)}
        self._dprimes = {d: d + _i2osp(len(d), 1) for d in (self.group_dst, self.scalar_dst)}

    def _expand64(self, msg: bytes, dst: bytes) -> bytes:
        h0 = _Z_PAD.copy()
        h0.update(msg)
        h0.update(self._tails[dst])
        return hashlib.sha512(h0.digest() + b"\x01" + self._dprimes[dst]).digest()

    def hash_to_group(self, msg: bytes) -> bytes:
        return g.from_hash(self._expand64(msg, self.group_dst))

    def hash_to_scalar(self, msg: bytes, dst: bytes | None = None) -> bytes:
        if dst is None:
            return g.scalar_reduce(self._expand64(msg, self.scalar_dst))
        return g.scalar_reduce(expand_message_xmd(msg, dst))


_SUITES = {m: _Suite(m) for m in (MODE_OPRF, MODE_VOPRF)}


def suite(mode: int) -> _Suite:
    try:
        return _SUITES[mode]
    except KeyError:
        raise OprfError(f"unsupported mode {mode!r}; fedalert uses OPRF (0) and VOPRF (1)") from None


def hash_to_group(msg: bytes, mode: int) -> bytes:
    return suite(mode).hash_to_group(msg)


def hash_to_scalar(msg: bytes, mode: int) -> bytes:
    return suite(mode).hash_to_scalar(msg)


# -- keys ---------------------------------------------------------------------------


class OprfPrivateKey:
    """A key service private scalar skS and its public key pkS = skS * G. Not picklable."""

    __slots__ = ("_sk", "public")

    def __init__(self, sk: bytes):
        if not g.check_scalar(sk):
            raise OprfError("an OPRF private key must be a canonical non-zero scalar")
        self._sk = bytes(sk)
        self.public = g.scalarmult_base(self._sk)

    def __repr__(self) -> str:
        return f"<OprfPrivateKey public={self.public[:4].hex()}...>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("OPRF private keys cannot be pickled or copied")

    def export_scalar(self) -> bytes:
        """Explicit export of skS (the RFC's SerializeScalar); for test vectors only."""
        return self._sk


def derive_key_pair(seed: bytes, info: bytes, mode: int) -> OprfPrivateKey:
    """RFC 9497 section 3.2.1 DeriveKeyPair(seed, info)."""
    if len(seed) != 32:
        raise OprfError("DeriveKeyPair needs a 32-byte seed")
    if len(info) > MAX_INPUT_BYTES:
        raise OprfError("DeriveKeyPair info is too long")
    s = suite(mode)
    derive_input = seed + _lp(info)
    for counter in range(256):
        sk = s.hash_to_scalar(derive_input + _i2osp(counter, 1), s.derive_dst)
        if not g.is_zero_scalar(sk):
            return OprfPrivateKey(sk)
    raise OprfError("DeriveKeyPairError: no non-zero scalar in 256 tries")  # pragma: no cover


# -- client: Blind, Finalize ----------------------------------------------------------


@dataclass
class Blinded:
    """The client's state for one batch: inputs, blinds (secret) and the blinded elements sent."""

    inputs: list[bytes]
    blinds: list[bytes]
    elements: list[bytes]
    mode: int

    def __repr__(self) -> str:  # never the blinds
        return f"<Blinded {len(self.elements)} elements mode={self.mode}>"


def blind(inputs: list[bytes], mode: int, *, blinds: list[bytes] | None = None) -> Blinded:
    """Blind(input) for every input: blind = random scalar, blindedElement = blind * HashToGroup(input).

    ``blinds`` fixes the blinds (RFC test vectors only). Raises
    InvalidInputError naming the index when an input maps to the identity.
    """
    s = suite(mode)
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if len(x) > MAX_INPUT_BYTES:
            raise OprfError(f"input {i} is longer than {MAX_INPUT_BYTES} bytes")
    if blinds is None:
        blinds = [g.scalar_random() for _ in inputs]
    points = [s.hash_to_group(x) for x in inputs]
    elements = g.scalarmult_many(blinds, points)
    for i, e in enumerate(elements):
        if e is None:
            raise InvalidInputError(f"input {i} maps to the identity element")
    return Blinded(inputs, list(blinds), elements, mode)  # type: ignore[arg-type]


def _finalize_hash(inputs: list[bytes], unblinded: list[bytes]) -> list[bytes]:
    out = []
    for x, n in zip(inputs, unblinded):
        out.append(hashlib.sha512(_lp(x) + _lp(n) + b"Finalize").digest())
    return out


def finalize(state: Blinded, evaluated: list[bytes], *, public_key: bytes | None = None,
             proof: bytes | None = None) -> list[bytes]:
    """Finalize every element: N = blind^-1 * evaluatedElement, output = Hash(len || input || len || N || "Finalize").

    In VOPRF mode the batched proof is checked first, against ``public_key``
    (the one the signed directory names), and VerifyError is raised before
    anything is unblinded if it fails.
    """
    n = len(state.elements)
    if len(evaluated) != n:
        raise VerifyError(f"the key service returned {len(evaluated)} evaluations for {n} blinded elements")
    if state.mode == MODE_VOPRF:
        if public_key is None or proof is None:
            raise VerifyError("VOPRF mode needs the key service's public key and proof")
        if not verify_proof(g_generator(), public_key, state.elements, evaluated, proof, state.mode):
            raise VerifyError("the key service's proof does not verify under the public key in the signed directory")
    inverses = g.scalar_invert_many(state.blinds)
    unblinded = g.scalarmult_many(inverses, evaluated)
    for i, e in enumerate(unblinded):
        if e is None:
            raise VerifyError(f"evaluated element {i} is not a valid non-identity element")
    return _finalize_hash(state.inputs, unblinded)  # type: ignore[arg-type]


_GENERATOR: bytes | None = None


def g_generator() -> bytes:
    global _GENERATOR
    if _GENERATOR is None:
        _GENERATOR = g.scalarmult_base((1).to_bytes(SCALAR_BYTES, "little"))
    return _GENERATOR


# -- server: BlindEvaluate ------------------------------------------------------------


def blind_evaluate(key: OprfPrivateKey, elements: list[bytes]) -> list[bytes]:
    """BlindEvaluate without a proof (OPRF mode): skS * blindedElement for each.

    Raises InvalidInputError naming the first element that is not a valid
    encoding or is the identity (libsodium refuses both).
    """
    out = g.scalarmult_one_many(key._sk, elements)
    for i, e in enumerate(out):
        if e is None:
            raise InvalidInputError(f"blinded element {i} is not a valid non-identity ristretto255 element")
    return out  # type: ignore[return-value]


def blind_evaluate_batch(key: OprfPrivateKey, elements: list[bytes], *, r: bytes | None = None
                         ) -> tuple[list[bytes], bytes]:
    """VOPRF BlindEvaluate for a batch: the evaluations and one batched DLEQ proof."""
    evaluated = blind_evaluate(key, elements)
    proof = generate_proof(key, g_generator(), key.public, elements, evaluated, MODE_VOPRF, r=r)
    return evaluated, proof


# -- the batched DLEQ proof (RFC 9497 section 2.2) -------------------------------------


def _composite_scalars(s: _Suite, B: bytes, C: list[bytes], D: list[bytes]) -> list[bytes]:
    if len(C) != len(D) or not C:
        raise OprfError("a proof covers at least one element, and as many evaluations as blinded elements")
    if len(C) > MAX_BATCH:
        raise OprfError(f"a proof covers at most {MAX_BATCH} elements")
    seed = hashlib.sha512(_lp(B) + _lp(s.seed_dst)).digest()
    head = _lp(seed)
    return [s.hash_to_scalar(head + _i2osp(i, 2) + _lp(c) + _lp(d) + b"Composite")
            for i, (c, d) in enumerate(zip(C, D))]


def _challenge(s: _Suite, B: bytes, M: bytes, Z: bytes, t2: bytes, t3: bytes) -> bytes:
    return s.hash_to_scalar(_lp(B) + _lp(M) + _lp(Z) + _lp(t2) + _lp(t3) + b"Challenge")


def generate_proof(key: OprfPrivateKey, A: bytes, B: bytes, C: list[bytes], D: list[bytes], mode: int,
                   *, r: bytes | None = None) -> bytes:
    """GenerateProof(k, A, B, C, D) with ComputeCompositesFast (M = sum d_i C_i, Z = k * M)."""
    s = suite(mode)
    d = _composite_scalars(s, B, C, D)
    try:
        M = g.linear_combination(d, C)
    except ValueError:
        raise InvalidInputError("a blinded element is not a valid ristretto255 element") from None
    Z = g.scalarmult(key._sk, M)
    r = r if r is not None else g.scalar_random()
    t2 = g.scalarmult(r, A)
    t3 = g.scalarmult(r, M)
    if Z is None or t2 is None or t3 is None:  # M is the identity: probability ~2^-252
        raise OprfError("degenerate composite element; retry the batch")
    c = _challenge(s, B, M, Z, t2, t3)
    s_ = g.scalar_sub(r, g.scalar_mul(c, key._sk))
    return c + s_


def verify_proof(A: bytes, B: bytes, C: list[bytes], D: list[bytes], proof: bytes, mode: int) -> bool:
    """VerifyProof(A, B, C, D, proof) with ComputeComposites (M = sum d_i C_i, Z = sum d_i D_i)."""
    if len(proof) != PROOF_BYTES:
        return False
    c, s_ = proof[:SCALAR_BYTES], proof[SCALAR_BYTES:]
    if not (g.check_scalar(c) or g.is_zero_scalar(c)) or not (g.check_scalar(s_) or g.is_zero_scalar(s_)):
        return False
    s = suite(mode)
    try:
        d = _composite_scalars(s, B, C, D)
        M = g.linear_combination(d, C)
        Z = g.linear_combination(d, D)
        t2 = _sum_of_products([(s_, A), (c, B)])
        t3 = _sum_of_products([(s_, M), (c, Z)])
    except (ValueError, OprfError):
        return False
    expected = _challenge(s, B, M, Z, t2, t3)
    return hmac.compare_digest(expected, c)


def _sum_of_products(terms: list[tuple[bytes, bytes]]) -> bytes:
    """s1*P1 + s2*P2 where a zero scalar contributes nothing (libsodium refuses a zero-scalar product)."""
    return g.linear_combination(*zip(*[(k, p) for k, p in terms if not g.is_zero_scalar(k)])) \
        if any(not g.is_zero_scalar(k) for k, _ in terms) else g.IDENTITY
