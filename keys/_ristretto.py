"""The ristretto255 group and its scalars, from libsodium (through pysodium's ctypes handle).

Only libsodium does group arithmetic here; this module passes bytes in and
out. Each call goes straight to the C function through the library handle
that pysodium loaded (``pysodium.sodium``), with the argument checks done
once per batch instead of once per element: at ~60 us a scalar
multiplication, the Python wrapper's per-call checks would otherwise cost a
few per cent. ctypes releases the GIL during every call, so batches can run
on several threads.

Encodings are libsodium's (RFC 9496): a group element is 32 bytes (its
canonical encoding), a scalar 32 bytes little-endian, reduced mod L. The
identity element encodes as 32 zero bytes.
"""

from __future__ import annotations

import ctypes

import pysodium

_lib = pysodium.sodium

ELEMENT_BYTES = 32
SCALAR_BYTES = 32
HASH_BYTES = 64  # crypto_core_ristretto255_HASHBYTES: input of from_hash / scalar_reduce
IDENTITY = bytes(ELEMENT_BYTES)
#: The group order L (RFC 9496): scalars are integers mod L.
ORDER = 2**252 + 27742317777372353535851937790883648493

_scalarmult = _lib.crypto_scalarmult_ristretto255
_scalarmult_base = _lib.crypto_scalarmult_ristretto255_base
_add = _lib.crypto_core_ristretto255_add
_from_hash = _lib.crypto_core_ristretto255_from_hash
_is_valid = _lib.crypto_core_ristretto255_is_valid_point
_scalar_reduce = _lib.crypto_core_ristretto255_scalar_reduce
_scalar_invert = _lib.crypto_core_ristretto255_scalar_invert
_scalar_mul = _lib.crypto_core_ristretto255_scalar_mul
_scalar_sub = _lib.crypto_core_ristretto255_scalar_sub
_scalar_random = _lib.crypto_core_ristretto255_scalar_random


def version() -> str:
    return pysodium.sodium.sodium_version_string().decode("ascii")


def _buf() -> ctypes.Array:
    return ctypes.create_string_buffer(ELEMENT_BYTES)


def scalarmult(scalar: bytes, element: bytes) -> bytes | None:
    """scalar * element, or None when the element is not a valid encoding or the result is the identity.

    libsodium refuses (returns -1) both cases, so a valid non-zero scalar
    times a valid non-identity element always succeeds in a prime-order group.
    """
    out = _buf()
    if _scalarmult(out, scalar, element) != 0:
        return None
    return out.raw


def scalarmult_many(scalars, elements) -> list[bytes | None]:
    """[s * e for s, e in zip(scalars, elements)], None where scalarmult would give None."""
    out = _buf()
    res: list[bytes | None] = []
    append = res.append
    for s, e in zip(scalars, elements):
        append(out.raw if _scalarmult(out, s, e) == 0 else None)
    return res


def scalarmult_one_many(scalar: bytes, elements) -> list[bytes | None]:
    """[scalar * e for e in elements] (one scalar, many elements: the key service's evaluation)."""
    out = _buf()
    res: list[bytes | None] = []
    append = res.append
    for e in elements:
        append(out.raw if _scalarmult(out, scalar, e) == 0 else None)
    return res


def scalarmult_base(scalar: bytes) -> bytes:
    """scalar * G (libsodium's fixed-base fast path). Raises ValueError for the zero scalar."""
    out = _buf()
    if _scalarmult_base(out, scalar) != 0:
        raise ValueError("scalar is zero")
    return out.raw


def add(p: bytes, q: bytes) -> bytes:
    """p + q. Raises ValueError if either is not a valid encoding."""
    out = _buf()
    if _add(out, p, q) != 0:
        raise ValueError("not a valid ristretto255 encoding")
    return out.raw


def linear_combination(scalars, elements) -> bytes:
    """sum(s_i * e_i); the identity encoding for an empty sum or a zero total.

    Raises ValueError when an element is invalid, or when a term is the
    identity (libsodium refuses to return it: only with a zero scalar, which
    the composites below never draw except with probability 2^-252).
    """
    out = _buf()
    acc: bytes | None = None
    for s, e in zip(scalars, elements):
        if _scalarmult(out, s, e) != 0:
            raise ValueError("invalid element or zero term in a linear combination")
        if acc is None:
            acc = out.raw
        elif _add(out, acc, out.raw) != 0:
            raise ValueError("not a valid ristretto255 encoding")
        else:
            acc = out.raw
    return acc if acc is not None else IDENTITY


def from_hash(uniform: bytes) -> bytes:
    """Map 64 uniform bytes to a group element (RFC 9496 one-way map, as hash_to_ristretto255 uses)."""
    out = _buf()
    _from_hash(out, uniform)
    return out.raw


def is_valid(element: bytes) -> bool:
    """True for a canonical encoding of a non-identity element."""
    return len(element) == ELEMENT_BYTES and _is_valid(element) == 1


def scalar_reduce(wide: bytes) -> bytes:
    """A 64-byte little-endian integer mod L."""
    out = _buf()
    _scalar_reduce(out, wide)
    return out.raw


def scalar_random() -> bytes:
    """A uniformly random non-zero scalar (libsodium's CSPRNG)."""
    out = _buf()
    _scalar_random(out)
    return out.raw


def scalar_invert(s: bytes) -> bytes:
    out = _buf()
    if _scalar_invert(out, s) != 0:
        raise ValueError("zero has no inverse")
    return out.raw


def scalar_mul(a: bytes, b: bytes) -> bytes:
    out = _buf()
    _scalar_mul(out, a, b)
    return out.raw


def scalar_sub(a: bytes, b: bytes) -> bytes:
    out = _buf()
    _scalar_sub(out, a, b)
    return out.raw


def scalar_invert_many(scalars: list[bytes]) -> list[bytes]:
    """The inverse of every scalar, with one libsodium inversion (Montgomery's batch trick).

    libsodium's inversion is an exponentiation (~40 us); a product chain of
    scalar multiplications (~1 us each) shares one inversion among many.
    """
    n = len(scalars)
    if n == 0:
        return []
    prefix = [scalars[0]]
    for s in scalars[1:]:
        prefix.append(scalar_mul(prefix[-1], s))
    inv = scalar_invert(prefix[-1])
    out: list[bytes] = [b""] * n
    for i in range(n - 1, 0, -1):
        out[i] = scalar_mul(inv, prefix[i - 1])
        inv = scalar_mul(inv, scalars[i])
    out[0] = inv
    return out


def is_zero_scalar(s: bytes) -> bool:
    return s == bytes(SCALAR_BYTES)


def check_scalar(s: bytes) -> bool:
    """True for a canonical (reduced, non-zero) 32-byte scalar."""
    return len(s) == SCALAR_BYTES and 0 < int.from_bytes(s, "little") < ORDER
