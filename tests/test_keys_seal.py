"""Sealed envelopes: round trip, every single-byte tamper, wrong keys, wrong context, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fedalert.keys import (
    Directory,
    KeyFileError,
    SealError,
    init_federation,
    load_sealing_key,
    load_signing_key,
    open_sealed,
    seal,
)
from fedalert.keys.seal import MIN_BLOB, VERSION

CTX = b"disclosure:match-0001:req-7"
PAYLOAD = b'{"forename":"Testy","surname":"McFakeperson"}'


@pytest.fixture(scope="module")
def parties():
    return {
        "rcpt": X25519PrivateKey.generate(),
        "signer": Ed25519PrivateKey.generate(),
        "other_rcpt": X25519PrivateKey.generate(),
        "other_signer": Ed25519PrivateKey.generate(),
    }


def _seal(p, payload=PAYLOAD, context=CTX):
    return seal(payload, recipient=p["rcpt"].public_key(), signer=p["signer"], context=context)


def _open(p, blob, context=CTX, *, rcpt=None, sender=None):
    return open_sealed(blob, recipient=rcpt or p["rcpt"], sender=sender or p["signer"].public_key(), context=context)


@pytest.mark.parametrize("payload", [b"", b"x", PAYLOAD, bytes(range(256)) * 40])
def test_round_trip(parties, payload):
    blob = _seal(parties, payload)
    assert blob[0] == VERSION
    assert len(blob) == MIN_BLOB + len(payload)
    assert _open(parties, blob) == payload


def test_round_trip_empty_context(parties):
    blob = _seal(parties, context=b"")
    assert _open(parties, blob, context=b"") == PAYLOAD


def test_sealing_is_randomised_and_hides_the_payload(parties):
    a, b = _seal(parties), _seal(parties)
    assert a != b
    for blob in (a, b):
        assert b"McFakeperson" not in blob and b"Testy" not in blob


def test_every_single_byte_tamper_is_detected(parties):
    blob = _seal(parties, b"short payload")
    for i in range(len(blob)):
        for flip in (0x01, 0x80):
            bad = bytearray(blob)
            bad[i] ^= flip
            with pytest.raises(SealError):
                _open(parties, bytes(bad))


def test_wrong_recipient(parties):
    blob = _seal(parties)
    with pytest.raises(SealError, match="another recipient"):
        _open(parties, blob, rcpt=parties["other_rcpt"])


def test_wrong_sender(parties):
    blob = _seal(parties)
    with pytest.raises(SealError, match="expected sender"):
        _open(parties, blob, sender=parties["other_signer"].public_key())


def test_wrong_context(parties):
    blob = _seal(parties)
    for ctx in (b"", CTX + b"x", CTX[:-1], b"disclosure:match-0002:req-7"):
        with pytest.raises(SealError):
            _open(parties, blob, context=ctx)


def test_bytes_cannot_move_between_ciphertext_and_context(parties):
    blob = _seal(parties, b"abc", context=b"ctx")
    # Move the last ciphertext byte into the context: the signed bytes stay the same
    # without the context length, so this checks that the length is bound in.
    ct_end = len(blob) - 64
    moved = blob[: ct_end - 1] + blob[ct_end:]
    with pytest.raises(SealError):
        _open(parties, moved, context=blob[ct_end - 1 : ct_end] + b"ctx")


def test_truncation_and_extension(parties):
    blob = _seal(parties, b"payload")
    for n in range(len(blob)):
        with pytest.raises(SealError):
            _open(parties, blob[:n])
    with pytest.raises(SealError):
        _open(parties, blob + b"\x00")
    with pytest.raises(SealError, match="truncated"):
        _open(parties, blob[: MIN_BLOB - 1])


def test_unknown_version_is_named(parties):
    blob = bytearray(_seal(parties))
    blob[0] = 2
    with pytest.raises(SealError, match="version 2"):
        _open(parties, bytes(blob))


def test_resigned_by_someone_else_is_refused(parties):
    """An attacker who strips the signature and signs with their own key is refused."""
    blob = _seal(parties)
    body = blob[:-64]
    from fedalert.keys.seal import _signed_part, _HEADER
    forged = body + parties["other_signer"].sign(_signed_part(body[:_HEADER], body[_HEADER:], CTX))
    with pytest.raises(SealError, match="expected sender"):
        _open(parties, forged)


def test_wrong_key_types_are_refused(parties):
    with pytest.raises(SealError):
        seal(PAYLOAD, recipient=parties["rcpt"], signer=parties["signer"], context=CTX)
    with pytest.raises(SealError):
        seal(PAYLOAD, recipient=parties["rcpt"].public_key(), signer=parties["signer"].public_key(), context=CTX)
    with pytest.raises(SealError):
        seal(PAYLOAD, recipient=parties["rcpt"].public_key(), signer=parties["signer"], context="text")


def test_error_messages_carry_no_payload(parties):
    blob = _seal(parties)
    for kwargs in ({"rcpt": parties["other_rcpt"]}, {"sender": parties["other_signer"].public_key()}):
        with pytest.raises(SealError) as exc:
            _open(parties, blob, **kwargs)
        assert "McFakeperson" not in str(exc.value)
        assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_area_to_area_with_ceremony_keys_and_directory(tmp_path: Path):
    out = tmp_path / "fed"
    init_federation(out, "sealfed", ["north", "south", "east"])
    d = Directory.load(out / "areas" / "south" / "directory.json", out / "areas" / "south" / "ca.crt")
    north_signing = load_signing_key(out / "areas" / "north" / "signing.key")
    south_sealing = load_sealing_key(out / "areas" / "south" / "sealing.key")
    east_sealing = load_sealing_key(out / "areas" / "east" / "sealing.key")
    blob = seal(PAYLOAD, recipient=d.sealing_public("south"), signer=north_signing, context=CTX)
    assert open_sealed(blob, recipient=south_sealing, sender=d.signing_public("north"), context=CTX) == PAYLOAD
    with pytest.raises(SealError):
        open_sealed(blob, recipient=east_sealing, sender=d.signing_public("north"), context=CTX)
    with pytest.raises(SealError):
        open_sealed(blob, recipient=south_sealing, sender=d.signing_public("east"), context=CTX)
    with pytest.raises(KeyFileError, match="Ed25519"):
        load_signing_key(out / "areas" / "north" / "sealing.key")
    with pytest.raises(KeyFileError, match="X25519"):
        load_sealing_key(out / "areas" / "north" / "node.key")


def test_low_order_ephemeral_key_is_refused_even_if_signed(parties):
    """A sender-signed envelope whose ephemeral key is the all-zero point yields no key."""
    from fedalert.keys.seal import _signed_part
    header = bytes([VERSION]) + bytes(32) + bytes(12)
    ct = bytes(16 + 3)
    blob = header + ct + parties["signer"].sign(_signed_part(header, ct, CTX))
    with pytest.raises(SealError, match="invalid ephemeral key"):
        _open(parties, blob)


def test_non_bytes_payload_is_refused(parties):
    with pytest.raises(SealError, match="bytes"):
        seal("text", recipient=parties["rcpt"].public_key(), signer=parties["signer"], context=CTX)
