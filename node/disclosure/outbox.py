"""Glue between the disclosure workflow and the matcher's envelope relay (no gRPC here).

The node's gRPC code only moves :class:`Outgoing` envelopes to
``SendEnvelope`` and hands each received ``Envelope`` to :func:`dispatch`.
Every envelope is also written to an outbox table in the same transaction as
the state change it reports, so a crash between commit and send loses
nothing: the sender loop sends :func:`outbox_pending` and marks each one with
:func:`outbox_sent` once the matcher accepted it (or called it a duplicate).
The coordinator CLI calls :func:`request_disclosure`, :func:`approve` and
:func:`refuse`. Keys come from the key ceremony: this area's sealing and
signing keys and the signed federation directory.

Envelope ids are derived from the payload, so sending the same thing twice
is idempotent at the matcher (``SendEnvelopeResponse.duplicate``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
from dataclasses import dataclass
from typing import Callable, Protocol as _Proto

import sqlite_utils

from fedalert.audit import AuditLog
from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure.envelopes import open_payload, seal_payload
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.receive import accept_release
from fedalert.node.disclosure.requests import get_request
from fedalert.node.disclosure.workflow import (
    decide,
    new_request,
    receive_decision,
    receive_request,
    release,
    submit_request,
)
from fedalert.node.disclosure.errors import DisclosureError, NotInMatch, PayloadError, PolicyError, ReleaseRejected
from fedalert.node.disclosure.model import (
    Consent,
    Decision,
    MatchInfo,
    Request,
    StatutoryException,
    Withheld,
    decode,
    encode,
)


class _Directory(_Proto):  # the parts of fedalert.keys.Directory used here
    def sealing_public(self, area: str): ...

    def signing_public(self, area: str): ...

    def is_revoked(self, area: str) -> bool: ...


@dataclass(frozen=True)
class AreaKeys:
    """This area's keys, loaded by the caller from the key ceremony output."""

    area: str
    sealing_key: object  # X25519PrivateKey (areas/<id>/sealing.key)
    signing_key: object  # Ed25519PrivateKey (areas/<id>/signing.key)
    directory: _Directory  # fedalert.keys.Directory (areas/<id>/directory.json, verified)

    def __repr__(self) -> str:
        return f"AreaKeys(area={self.area!r}, keys=<redacted>)"


@dataclass(frozen=True)
class Outgoing:
    """One envelope to hand to the matcher's SendEnvelope."""

    envelope_id: str
    match_id: str
    to_area: str
    kind: str
    sealed: bytes

    def __repr__(self) -> str:
        return f"Outgoing({self.kind} {self.envelope_id} to {self.to_area} match {self.match_id}, {len(self.sealed)} bytes)"


@contextlib.contextmanager
def _atomic(db: sqlite_utils.Database, audit: AuditLog, request_id: str, step: str):
    """One transaction around several steps. Audit entries cannot be taken back, so if
    the transaction rolls back after some were written, say so in the log."""
    try:
        with transaction(db):
            yield
    except Exception as exc:
        with contextlib.suppress(Exception):
            audit.append("disclosure.rolled_back", request_id=request_id, step=step, error=type(exc).__name__)
        raise


def _check_not_revoked(keys: AreaKeys, area: str) -> None:
    if keys.directory.is_revoked(area):
        raise DisclosureError(f"area {area} is revoked in the federation directory; nothing is sent to it")


def outgoing(kind: str, payload: bytes, *, match_id: str, to_area: str, keys: AreaKeys) -> Outgoing:
    """Seal *payload* for *to_area* (sealing key from the directory, signed with our key)."""
    _check_not_revoked(keys, to_area)
    sealed = seal_payload(
        payload,
        kind,
        match_id=match_id,
        sender_area=keys.area,
        recipient_area=to_area,
        recipient_key=keys.directory.sealing_public(to_area),
        signer=keys.signing_key,
    )
    digest = hashlib.sha256(kind.encode() + b"\x00" + payload).hexdigest()
    envelope_id = f"{kind}-{digest[:32]}"
    return Outgoing(envelope_id, match_id, to_area, kind, sealed)


def request_disclosure(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol,
    keys: AreaKeys,
    match: MatchInfo | None,
    *,
    record_id: str | None,
    now: _dt.datetime,
    **request_fields,
) -> tuple[Request, Outgoing]:
    """``fedalert disclose request``: check, store, audit, seal. *request_fields* are
    :func:`fedalert.node.disclosure.workflow.new_request`'s keyword arguments (requesting_partner,
    requester, purpose, lawful_basis, fields, rationale, channel, urgency, conditions...)."""
    req = new_request(protocol, match, my_area=keys.area, now=now, **request_fields)
    _check_not_revoked(keys, req.holding_area)  # before anything is stored
    with _atomic(db, audit, req.request_id, "request"):
        payload = submit_request(db, audit, protocol, match, req, record_id=record_id, now=now)
        env = outgoing("request", payload, match_id=req.match_id, to_area=req.holding_area, keys=keys)
        _outbox_put(db, env, req.request_id, now)
    return req, env


def approve(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol,
    keys: AreaKeys,
    request_id: str,
    *,
    decided_by: str,
    now: _dt.datetime,
    fields: list[str] | tuple[str, ...] = (),
    reason: str = "",
    consents: list[Consent] | tuple[Consent, ...] = (),
    exceptions: list[StatutoryException] | tuple[StatutoryException, ...] = (),
) -> tuple[Decision, list[Outgoing]]:
    """``fedalert disclose approve``: decide (all fields, or *fields* only), then release.

    Returns the decision and the envelopes to send in order: the decision,
    then the release (none if the rules left nothing to release, in which case
    the decision is a refusal listing why)."""
    req = get_request(db, request_id).request
    _check_not_revoked(keys, req.requesting_area)
    outcome = "approve_some" if fields and set(fields) != set(req.fields) else "approve_all"
    with _atomic(db, audit, request_id, "approve"):  # decision, release and their envelopes commit together
        decision, dpayload = decide(
            db,
            audit,
            protocol,
            request_id,
            outcome=outcome,
            decided_by=decided_by,
            now=now,
            fields=tuple(fields) if outcome == "approve_some" else (),
            reason=reason,
            consents=consents,
            exceptions=exceptions,
        )
        out = [outgoing("decision", dpayload, match_id=req.match_id, to_area=req.requesting_area, keys=keys)]
        if decision.status != "refused":
            _, rpayload = release(db, audit, protocol, request_id, now=now)
            out.append(outgoing("release", rpayload, match_id=req.match_id, to_area=req.requesting_area, keys=keys))
        for env in out:
            _outbox_put(db, env, request_id, now)
    return decision, out


def refuse(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol,
    keys: AreaKeys,
    request_id: str,
    *,
    reason: str,
    decided_by: str,
    now: _dt.datetime,
) -> tuple[Decision, Outgoing]:
    """``fedalert disclose refuse``: record the refusal and seal it for the requester."""
    req = get_request(db, request_id).request
    _check_not_revoked(keys, req.requesting_area)
    with _atomic(db, audit, request_id, "refuse"):
        decision, dpayload = decide(
            db, audit, protocol, request_id, outcome="refuse", decided_by=decided_by, reason=reason, now=now
        )
        env = outgoing("decision", dpayload, match_id=req.match_id, to_area=req.requesting_area, keys=keys)
        _outbox_put(db, env, request_id, now)
    return decision, env


@dataclass(frozen=True)
class Dispatched:
    kind: str
    request_id: str
    status: str


def dispatch(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol,
    keys: AreaKeys,
    *,
    kind: str,
    match_id: str,
    from_area: str,
    sealed: bytes,
    match_lookup: Callable[[str], MatchInfo | None],
    record_lookup: Callable[[str], str | None],
    now: _dt.datetime,
) -> Dispatched:
    """Handle one envelope from the relay. *kind*, *match_id* and *from_area* are the
    envelope's (from_area set by the matcher from the sender's certificate).

    *match_lookup(match_id)* returns this area's MatchInfo from the alert inbox;
    *record_lookup(handle)* maps one of our record handles to the record id.
    Raises a DisclosureError (PolicyError, ReleaseRejected, PayloadError, StatusError)
    when the envelope is refused; the caller logs it and acknowledges the envelope
    anyway, so one bad envelope never blocks the queue.
    """
    if keys.directory.is_revoked(from_area):
        raise ReleaseRejected("misaddressed", f"area {from_area} is revoked in the federation directory; refused")
    sender_key = keys.directory.signing_public(from_area)
    if kind == "release":
        rel = accept_release(
            db,
            audit,
            sealed,
            match_id=match_id,
            sender_area=from_area,
            my_area=keys.area,
            my_key=keys.sealing_key,
            sender_key=sender_key,
            now=now,
        )
        return Dispatched(kind, rel.request_id, "released")
    if kind not in ("request", "decision"):
        raise PayloadError(f"envelope kind {kind!r} is not handled by the disclosure workflow")
    payload = open_payload(
        sealed,
        kind,
        match_id=match_id,
        sender_area=from_area,
        my_area=keys.area,
        my_key=keys.sealing_key,
        sender_key=sender_key,
    )
    if kind == "request":
        req = decode("request", payload)
        if req.match_id != match_id:
            raise ReleaseRejected(
                "misaddressed", f"request {req.request_id} names match {req.match_id}, not {match_id}"
            )
        match = match_lookup(match_id)
        handle = req.holding_handle or (match.handle_of(keys.area) if match is not None else "")
        try:
            req = receive_request(
                db,
                audit,
                protocol,
                payload,
                sender_area=from_area,
                my_area=keys.area,
                match=match,
                record_id=record_lookup(handle) if handle else None,
                now=now,
            )
        except PolicyError as exc:
            if isinstance(exc, NotInMatch):
                raise  # not from a party to this match: nothing goes back
            _refuse_on_receipt(db, audit, keys, req, exc, match_id=match_id, to_area=from_area, now=now)
            return Dispatched(kind, req.request_id, "refused")
        return Dispatched(kind, req.request_id, "requested")
    pending = decode("decision", payload)
    if get_request(db, pending.request_id).request.match_id != match_id:
        raise ReleaseRejected("misaddressed", f"decision for request {pending.request_id} came under another match")
    decision = receive_decision(db, audit, payload, sender_area=from_area, now=now)
    return Dispatched(kind, decision.request_id, decision.status)


def _refuse_on_receipt(db, audit: AuditLog, keys: AreaKeys, req: Request, exc: PolicyError, *, match_id: str,
                       to_area: str, now: _dt.datetime) -> None:
    """A request this area's protocol refuses on receipt: seal a refusal back, so the requester is not left waiting.

    Nothing of the request is stored here (it was never valid under this
    area's protocol); the refusal names the rule and its message, which
    carry policy terms only, never case values.
    """
    decision = Decision(
        request_id=req.request_id,
        decided_by=f"protocol check at {keys.area}",
        decided_at=now,
        outcome="refuse",
        status="refused",
        approved_fields=(),
        reason=f"Refused on receipt under the holding area's protocol ({exc.rule}): {exc}",
        withheld=tuple(Withheld(f, "refused", "refused on receipt") for f in req.fields),
    )
    env = outgoing("decision", encode(decision), match_id=match_id, to_area=to_area, keys=keys)
    with _atomic(db, audit, req.request_id, "refuse_on_receipt"):
        audit.append("disclosure.refusal_sent_on_receipt", request_id=req.request_id, match_id=match_id,
                     to_area=to_area, rule=exc.rule)
        _outbox_put(db, env, req.request_id, now)


# --- outbox: envelopes are stored in the same transaction as the state change ---


def _outbox_put(db: sqlite_utils.Database, env: Outgoing, request_id: str, now: _dt.datetime) -> None:
    st.execute(
        db,
        "INSERT OR IGNORE INTO disclosure_outbox (envelope_id, kind, match_id, to_area, request_id, sealed, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        [env.envelope_id, env.kind, env.match_id, env.to_area, request_id, env.sealed, st.ts(now)],
    )


def outbox_pending(db: sqlite_utils.Database) -> list[Outgoing]:
    """Envelopes not yet accepted by the matcher, oldest first. Send each, then :func:`outbox_sent`."""
    return [
        Outgoing(r["envelope_id"], r["match_id"], r["to_area"], r["kind"], r["sealed"])
        for r in st.rows(db, "SELECT * FROM disclosure_outbox WHERE sent_at IS NULL ORDER BY created_at, rowid")
    ]


def outbox_sent(db: sqlite_utils.Database, envelope_id: str, *, now: _dt.datetime) -> None:
    """The matcher accepted the envelope (or reported a duplicate): drop the sealed copy."""
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_outbox SET sent_at = ?, sealed = NULL WHERE envelope_id = ? AND sent_at IS NULL",
            [st.ts(now), envelope_id],
        )
