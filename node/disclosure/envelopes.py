"""Sealed envelopes between areas: the seal context, sealing and opening.

Payloads travel between areas inside sealed envelopes of kind ``request``,
``decision`` and ``release`` (:mod:`.model` gives their canonical JSON). The
seal (``fedalert.keys.seal``) binds kind, sender, recipient and match id, so
a payload cannot be replayed as another kind, readdressed, or relabelled to
another match without failing to open.
"""

from __future__ import annotations

from fedalert.node.disclosure.errors import PayloadError, ReleaseRejected


ENVELOPE_KINDS = ("request", "decision", "release", "notice")


def envelope_context(kind: str, sender_area: str, recipient_area: str, match_id: str) -> bytes:
    """Seal context binding kind, sender, recipient and match: a payload cannot be
    replayed as another kind, readdressed, or relabelled to another match
    without failing to open. All four travel in clear on the relay envelope."""
    if kind not in ENVELOPE_KINDS:
        raise PayloadError(f"unknown envelope kind {kind!r}; expected one of {', '.join(ENVELOPE_KINDS)}")
    parts = (kind, sender_area, recipient_area, match_id)
    if not all(isinstance(x, str) and x and "\x00" not in x for x in parts):
        raise PayloadError("envelope kind, areas and match id must be non-empty text")
    return b"fedalert/v1/disclosure\x00" + b"\x00".join(x.encode("utf-8") for x in parts)


def seal_payload(
    payload: bytes, kind: str, *, match_id: str, sender_area: str, recipient_area: str, recipient_key, signer
) -> bytes:
    """Seal a payload for the relay (fedalert.keys.seal) under :func:`envelope_context`."""
    from fedalert.keys import seal

    ctx = envelope_context(kind, sender_area, recipient_area, match_id)
    return seal(payload, recipient=recipient_key, signer=signer, context=ctx)


def open_payload(blob: bytes, kind: str, *, match_id: str, sender_area: str, my_area: str, my_key, sender_key) -> bytes:
    """Open a sealed payload. *kind*, *match_id* and *sender_area* come from the relay
    envelope (the sender from the matcher, which takes it from the mTLS certificate).
    Any tamper, wrong sender, recipient, kind or match raises :class:`ReleaseRejected`
    with reason ``tampered``."""
    from fedalert.keys import SealError, open_sealed

    ctx = envelope_context(kind, sender_area, my_area, match_id)
    try:
        return open_sealed(blob, recipient=my_key, sender=sender_key, context=ctx)
    except SealError as exc:
        raise ReleaseRejected("tampered", f"{kind} envelope from area {sender_area} refused: {exc}") from None
