"""Sealed envelopes: encrypted to one area, signed by another.

Construction (version 1)::

    eph            = fresh X25519 key pair
    shared         = X25519(eph.private, recipient.public)
    key            = HKDF-SHA256(shared, length=32,
                                 salt=eph.public || recipient.public,
                                 info=b"fedalert/v1/seal" || context)
    nonce          = 12 random bytes
    ciphertext     = ChaCha20Poly1305(key).encrypt(nonce, payload, aad=context)
    signed         = version || eph.public || nonce || ciphertext || context || u32be(len(context))
    signature      = Ed25519(sender.private).sign(signed)
    blob           = version || eph.public || nonce || ciphertext || signature

The length of the context closes the signed message so that bytes cannot be
moved between the ciphertext and the context. :func:`open_sealed` checks the
sender's signature first (tamper, wrong sender, wrong context), then decrypts
(wrong recipient, wrong context). Every failure raises SealError with a plain
message and nothing else about the failure.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fedalert.keys.errors import SealError

VERSION = 1
_VERSION_BYTE = bytes([VERSION])
_PUB = 32
_NONCE = 12
_TAG = 16
_SIG = 64
_HEADER = 1 + _PUB + _NONCE
MIN_BLOB = _HEADER + _TAG + _SIG
INFO_PREFIX = b"fedalert/v1/seal"
_RAW = serialization.Encoding.Raw
_RAWPUB = serialization.PublicFormat.Raw


def _derive(shared: bytes, eph_pub: bytes, recipient_pub: bytes, context: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=eph_pub + recipient_pub,
        info=INFO_PREFIX + context,
    ).derive(shared)


def _signed_part(header: bytes, ciphertext: bytes, context: bytes) -> bytes:
    return header + ciphertext + context + struct.pack(">I", len(context))


def _check_context(context: bytes) -> bytes:
    if not isinstance(context, (bytes, bytearray)):
        raise SealError("seal context must be bytes")
    if len(context) > 4096:
        raise SealError("seal context is longer than 4096 bytes")
    return bytes(context)


def seal(payload: bytes, *, recipient: X25519PublicKey, signer: Ed25519PrivateKey, context: bytes) -> bytes:
    """Encrypt ``payload`` to ``recipient`` and sign it with ``signer``, bound to ``context``."""
    if not isinstance(recipient, X25519PublicKey):
        raise SealError("recipient must be an X25519 public key (the recipient area's sealing key)")
    if not isinstance(signer, Ed25519PrivateKey):
        raise SealError("signer must be an Ed25519 private key (this area's signing key)")
    context = _check_context(context)
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise SealError("payload to seal must be bytes")
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(_RAW, _RAWPUB)
    recipient_pub = recipient.public_bytes(_RAW, _RAWPUB)
    try:
        shared = eph.exchange(recipient)
    except ValueError:
        raise SealError("recipient sealing key is invalid (low-order point); check the directory") from None
    key = _derive(shared, eph_pub, recipient_pub, context)
    nonce = os.urandom(_NONCE)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, bytes(payload), context)
    header = _VERSION_BYTE + eph_pub + nonce
    signature = signer.sign(_signed_part(header, ciphertext, context))
    return header + ciphertext + signature


def open_sealed(blob: bytes, *, recipient: X25519PrivateKey, sender: Ed25519PublicKey, context: bytes) -> bytes:
    """Verify and decrypt a sealed envelope; raise SealError on any failure."""
    if not isinstance(recipient, X25519PrivateKey):
        raise SealError("recipient must be an X25519 private key (this area's sealing key)")
    if not isinstance(sender, Ed25519PublicKey):
        raise SealError("sender must be an Ed25519 public key (the sending area's signing key)")
    context = _check_context(context)
    if not isinstance(blob, (bytes, bytearray)):
        raise SealError("sealed envelope must be bytes")
    blob = bytes(blob)
    if len(blob) < MIN_BLOB:
        raise SealError("sealed envelope is truncated; ask the sender to send it again")
    if blob[0] != VERSION:
        raise SealError(f"sealed envelope has version {blob[0]}, this software reads version {VERSION}; upgrade fedalert")
    header = blob[:_HEADER]
    eph_pub = blob[1 : 1 + _PUB]
    nonce = blob[1 + _PUB : _HEADER]
    ciphertext = blob[_HEADER:-_SIG]
    signature = blob[-_SIG:]
    try:
        sender.verify(signature, _signed_part(header, ciphertext, context))
    except InvalidSignature:
        raise SealError(
            "sealed envelope failed its signature check: it was altered, is not from the expected "
            "sender, or belongs to another context; do not use it"
        ) from None
    try:
        shared = recipient.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    except ValueError:
        raise SealError("sealed envelope carries an invalid ephemeral key; do not use it") from None
    recipient_pub = recipient.public_key().public_bytes(_RAW, _RAWPUB)
    key = _derive(shared, eph_pub, recipient_pub, context)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, context)
    except InvalidTag:
        raise SealError(
            "sealed envelope cannot be decrypted with this area's sealing key: it was sealed for "
            "another recipient or another context"
        ) from None
