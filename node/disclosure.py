"""Disclosure workflow under the protocol: request, decision, release, receipt.

Plain domain functions over a sqlite-utils database and an audit log. No
gRPC here: the node's servicers and CLI call these, seal the returned payload
bytes into matcher envelopes (kinds ``request``, ``decision``, ``release``)
with :func:`envelope_context`, and hand received envelopes back in.

Every function takes the time explicitly (``now``, a UTC datetime); nothing
here reads a clock. Every state change is one transaction and one audit entry
carrying ids and codes only (never a case value or a name). The audit entry
is appended inside the transaction, before COMMIT: if the log cannot be
written (for example it is damaged), the change is rolled back.

Flow (A requests, B holds the matched record)::

    A: new_request() -> submit_request() -> payload  --"request"-->  B: receive_request()
    B: decide() -> payload                           --"decision"--> A: receive_decision()
    B: release() -> (Release, payload) -> seal       --"release"-->  A: accept_release() (opens, checks, stores sealed)
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets
from dataclasses import dataclass

import sqlite_utils

from fedalert.audit import AuditLog
from fedalert.node import _disclosure_store as st
from fedalert.node._disclosure_errors import (
    ConsentError,
    DecisionInvalid,
    DisclosureError,
    NotFound,
    PayloadError,
    PolicyError,
    ReleaseRejected,
    StatusError,
)
from fedalert.node._disclosure_law import GENDER_HISTORY, SUBJECTS
from fedalert.node._disclosure_model import (
    PENDING,
    CaseField,
    Consent,
    Decision,
    MatchInfo,
    Release,
    ReleasedItem,
    Request,
    StatutoryException,
    Withheld,
    check_transition,
    decode,
    encode,
)
from fedalert.node._disclosure_register import (  # noqa: F401 (public surface)
    Breach,
    BreachClock,
    Complaint,
    acknowledge_complaint,
    breach_clock,
    close_breach,
    close_complaint,
    decide_not_to_report,
    get_breach,
    get_complaint,
    list_breaches,
    list_complaints,
    notify_ico,
    notify_partners,
    record_breach,
    record_complaint,
    record_victim_notice,
)
from fedalert.node._disclosure_statement import (
    render_release,
    render_request,
    render_request_list,
    sar_listing,
    sharing_statement,
)
from fedalert.node._disclosure_store import migrate_disclosure, transaction
from fedalert.node.policy import (
    ACTOR_ID_RE,
    MIN_RATIONALE,
    check_area_may_share,
    check_consents,
    check_decision_inputs,
    check_incoming_request,
    check_request,
    nothing_to_release,
    select_release_items,
)
from fedalert.node.protocol import Protocol

__all__ = [
    "Breach",
    "BreachClock",
    "Complaint",
    "acknowledge_complaint",
    "breach_clock",
    "close_breach",
    "close_complaint",
    "decide_not_to_report",
    "get_breach",
    "get_complaint",
    "list_breaches",
    "list_complaints",
    "notify_ico",
    "notify_partners",
    "record_breach",
    "record_complaint",
    "record_victim_notice",
    "OverdueRelease",
    "RequestRow",
    "render_release",
    "render_request",
    "render_request_list",
    "sar_listing",
    "sharing_statement",
    "accept_release",
    "add_case_field",
    "case_fields",
    "close_for_area_withdrawal",
    "close_for_partner_withdrawal",
    "complete_emergency_record",
    "decide",
    "envelope_context",
    "expire_releases",
    "get_request",
    "list_requests",
    "migrate_disclosure",
    "new_request",
    "open_payload",
    "parse_consent",
    "parse_exception",
    "overdue_emergency_releases",
    "read_received_release",
    "receive_decision",
    "receive_request",
    "release",
    "seal_payload",
    "set_legal_hold",
    "submit_request",
]


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _utc(now: _dt.datetime) -> _dt.datetime:
    if now.tzinfo is None:
        raise DisclosureError("pass 'now' as a timezone-aware UTC datetime")
    return now.astimezone(_dt.timezone.utc)


# --- envelopes --------------------------------------------------------------


def envelope_context(kind: str, sender_area: str, recipient_area: str) -> bytes:
    """Seal context binding kind, sender and recipient: a payload cannot be
    replayed as another kind or readdressed without failing to open."""
    if kind not in ("request", "decision", "release"):
        raise PayloadError(f"unknown envelope kind {kind!r}")
    return b"fedalert/v1/disclosure\x00" + kind.encode() + b"\x00" + sender_area.encode() + b"\x00" + recipient_area.encode()


def seal_payload(payload: bytes, kind: str, *, sender_area: str, recipient_area: str, recipient_key, signer) -> bytes:
    """Seal a payload for the relay (uses fedalert.keys.seal)."""
    from fedalert.keys import seal

    return seal(payload, recipient=recipient_key, signer=signer, context=envelope_context(kind, sender_area, recipient_area))


def open_payload(blob: bytes, kind: str, *, sender_area: str, my_area: str, my_key, sender_key) -> bytes:
    """Open a sealed payload; any tamper, wrong sender, wrong recipient or wrong kind
    raises :class:`ReleaseRejected` with reason ``tampered``."""
    from fedalert.keys import SealError, open_sealed

    try:
        return open_sealed(blob, recipient=my_key, sender=sender_key, context=envelope_context(kind, sender_area, my_area))
    except SealError as exc:
        raise ReleaseRejected("tampered", f"{kind} envelope from area {sender_area} refused: {exc}") from None


# --- helpers for the coordinator CLI ---------------------------------------


def parse_consent(spec: str) -> Consent:
    """Parse ``SUBJECT:STATUS[:REASON]`` as typed on the command line.

    For ``given``, the third part may be ``explicit=field1,field2`` to record
    explicit consent to those items (needed for gender history and Art. 9(2)(a)).
    Examples: ``victim:not_sought:seeking consent would increase risk``,
    ``perpetrator:given:explicit=gender_history``.
    """
    parts = spec.split(":", 2)
    if len(parts) < 2:
        raise DisclosureError(f"consent {spec!r}: write SUBJECT:STATUS[:REASON], e.g. victim:not_sought:would increase risk")
    subject, status = parts[0].strip(), parts[1].strip()
    rest = parts[2].strip() if len(parts) == 3 else ""
    if status == "given" and rest.startswith("explicit="):
        items = tuple(x.strip() for x in rest[len("explicit="):].split(",") if x.strip())
        return Consent(subject, status, "", items)
    return Consent(subject, status, rest)


def parse_exception(spec: str) -> StatutoryException:
    """Parse ``FIELD:PROVISION:NOTE``, e.g. ``gender_history:ssi_2005_125:needed to prevent a crime``."""
    parts = spec.split(":", 2)
    if len(parts) != 3:
        raise DisclosureError(f"exception {spec!r}: write FIELD:PROVISION:NOTE, e.g. gender_history:gra2004_s22_4_crime:why")
    return StatutoryException(parts[0].strip(), parts[1].strip(), parts[2].strip())


# --- case fields --------------------------------------------------------------


def add_case_field(db: sqlite_utils.Database, protocol: Protocol, record_id: str, cf: CaseField) -> None:
    """Store one case value with its source partner and recorded date."""
    if cf.field not in protocol.fields:
        raise PolicyError(f"field {cf.field!r} is not in the protocol's field catalogue", field=cf.field)
    if cf.subject not in SUBJECTS:
        raise PolicyError(f"subject {cf.subject!r} is not one of {', '.join(SUBJECTS)}", field=cf.field)
    if cf.source_partner not in protocol.partners:
        raise PolicyError(f"source partner {cf.source_partner!r} is not a partner of this area", field=cf.field)
    if not isinstance(cf.recorded_on, _dt.date) or not cf.value.strip():
        raise PolicyError("a case value needs text and a recorded date", field=cf.field)
    with transaction(db):
        st.execute(
            db,
            "INSERT INTO disclosure_case_fields (record_id, field, value, subject, source_partner, recorded_on) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [record_id, cf.field, cf.value, cf.subject, cf.source_partner, cf.recorded_on.isoformat()],
        )


def case_fields(db: sqlite_utils.Database, record_id: str) -> list[CaseField]:
    return [
        CaseField(r["field"], r["value"], r["subject"], r["source_partner"], _dt.date.fromisoformat(r["recorded_on"]))
        for r in st.rows(db, "SELECT * FROM disclosure_case_fields WHERE record_id = ? ORDER BY id", [record_id])
    ]


# --- requests ---------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    request: Request
    direction: str  # outgoing | incoming
    status: str
    status_reason: str
    record_id: str | None
    decision: Decision | None
    release_id: str | None
    updated_at: _dt.datetime


def new_request(
    protocol: Protocol,
    match: MatchInfo | None,
    *,
    my_area: str,
    requesting_partner: str,
    requester: str,
    purpose: str,
    lawful_basis: str,
    fields: list[str] | tuple[str, ...],
    rationale: str,
    channel: str,
    urgency: str = "routine",
    now: _dt.datetime,
    art9_condition: str = "",
    sch8_condition: str = "",
    lia_ref: str = "",
    rli_condition: str = "",
    statutory_power: str = "",
) -> Request:
    """Build and check a request from a match (raises PolicyError with a clear reason)."""
    now = _utc(now)
    partner = protocol.partners.get(requesting_partner)
    holding = match.other(my_area) if match is not None and match.involves(my_area) else ""
    req = Request(
        request_id=_new_id("req"),
        match_id=match.match_id if match is not None else "",
        requesting_area=my_area,
        holding_area=holding,
        holding_handle=match.handle_of(holding) if holding else "",
        requesting_partner=requesting_partner,
        requester=requester,
        purpose=purpose,
        lawful_basis=lawful_basis,
        fields=tuple(fields),
        rationale=rationale,
        channel=channel,
        urgency=urgency,
        created_at=now,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        requesting_partner_type=partner.type if partner else "",
        requesting_partner_sector=partner.sector if partner else "",
        requester_signoff_on=partner.signoff.signed_on if partner and partner.signoff else None,
        art9_condition=art9_condition,
        sch8_condition=sch8_condition,
        lia_ref=lia_ref,
        rli_condition=rli_condition,
        statutory_power=statutory_power,
    )
    check_request(protocol, req, match, my_area=my_area, today=now.date())
    return req


def _audit_request(audit: AuditLog, event: str, req: Request, **extra) -> None:
    audit.append(
        event,
        request_id=req.request_id,
        match_id=req.match_id,
        requesting_area=req.requesting_area,
        holding_area=req.holding_area,
        requesting_partner=req.requesting_partner,
        requester=req.requester,
        purpose=req.purpose,
        lawful_basis=req.lawful_basis,
        art9_condition=req.art9_condition,
        sch8_condition=req.sch8_condition,
        channel=req.channel,
        urgency=req.urgency,
        field_names=list(req.fields),
        protocol=f"{req.protocol_id}@{req.protocol_version}",
        **extra,
    )


def _insert_request(db, req: Request, direction: str, record_id: str | None, now: _dt.datetime) -> None:
    if st.one(db, "SELECT 1 FROM disclosure_requests WHERE request_id = ?", [req.request_id]):
        raise PayloadError(f"request {req.request_id} is already on file (a replay or a duplicate); ignored")
    st.execute(
        db,
        "INSERT INTO disclosure_requests (request_id, direction, match_id, requesting_area, holding_area, "
        "requesting_partner, record_id, status, payload, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            req.request_id, direction, req.match_id, req.requesting_area, req.holding_area, req.requesting_partner,
            record_id, "requested", encode(req).decode("utf-8"), st.ts(req.created_at), st.ts(now),
        ],
    )


def submit_request(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol: Protocol,
    match: MatchInfo | None,
    req: Request,
    *,
    record_id: str | None,
    now: _dt.datetime,
) -> bytes:
    """Re-check, store and audit an outgoing request; return the payload to seal as kind ``request``."""
    now = _utc(now)
    check_request(protocol, req, match, my_area=req.requesting_area, today=now.date())
    with transaction(db):
        _insert_request(db, req, "outgoing", record_id, now)
        _audit_request(audit, "disclosure.request_sent", req)
    return encode(req)


def receive_request(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol: Protocol,
    payload: bytes,
    *,
    sender_area: str,
    my_area: str,
    match: MatchInfo | None,
    record_id: str | None,
    now: _dt.datetime,
) -> Request:
    """Check and store a request received from *sender_area* (from the envelope, never the payload)."""
    now = _utc(now)
    req = decode("request", payload)
    try:
        check_incoming_request(protocol, req, match, my_area=my_area, sender_area=sender_area, today=now.date())
    except PolicyError as exc:
        audit.append(
            "disclosure.request_refused_on_receipt",
            request_id=req.request_id,
            match_id=req.match_id,
            sender_area=sender_area,
            rule=exc.rule,
        )
        raise
    with transaction(db):
        _insert_request(db, req, "incoming", record_id, now)
        _audit_request(audit, "disclosure.request_received", req, sender_area=sender_area)
    return req


def _load(db, request_id: str) -> dict:
    row = st.one(db, "SELECT * FROM disclosure_requests WHERE request_id = ?", [request_id])
    if row is None:
        raise NotFound(f"no disclosure request {request_id!r} on this node")
    return row


def _set_status(db, row: dict, new: str, reason: str, now: _dt.datetime) -> None:
    check_transition(row["status"], new, request_id=row["request_id"])
    n = st.execute(
        db,
        "UPDATE disclosure_requests SET status = ?, status_reason = ?, updated_at = ? WHERE request_id = ? AND status = ?",
        [new, reason, st.ts(now), row["request_id"], row["status"]],
    )
    if n != 1:
        raise StatusError(f"request {row['request_id']} changed while being updated; try again")


def decide(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol: Protocol,
    request_id: str,
    *,
    outcome: str,
    decided_by: str,
    now: _dt.datetime,
    fields: list[str] | tuple[str, ...] = (),
    reason: str = "",
    consents: list[Consent] | tuple[Consent, ...] = (),
    exceptions: list[StatutoryException] | tuple[StatutoryException, ...] = (),
) -> tuple[Decision, bytes]:
    """The holding coordinator's decision. Returns the Decision and the payload to seal as ``decision``.

    Fields the protocol forbids releasing (gender history without consent or
    exception, values from a lapsed or withdrawn partner) are listed as
    withheld with a reason; if nothing is left the decision is a refusal.
    """
    now = _utc(now)
    row = _load(db, request_id)
    if row["direction"] != "incoming":
        raise DecisionInvalid(f"request {request_id} was made by this area; only the holding area decides")
    req = decode("request", row["payload"].encode("utf-8"))
    check_transition(row["status"], "refused", request_id=request_id)  # must still be 'requested'
    exceptions = tuple(exceptions)
    approved = check_decision_inputs(
        req, outcome=outcome, fields=tuple(fields), reason=reason, exceptions=exceptions, decided_by=decided_by
    )
    consent_map = check_consents(tuple(consents), req)
    withheld: list[Withheld] = []
    if outcome == "refuse":
        status = "refused"
        withheld = [Withheld(f, "refused", "the request was refused") for f in req.fields]
    else:
        check_area_may_share(protocol, now.date())
        items, withheld = select_release_items(
            protocol,
            req,
            approved,
            consent_map,
            exceptions,
            case_fields(db, row["record_id"]) if row["record_id"] else [],
            now.date(),
            emergency=req.channel == "emergency",
        )
        released_fields = {i.field for i in items}
        if not released_fields:
            status = "refused"
            reason = (reason + " " if reason else "") + "Nothing can be released under the protocol: " + "; ".join(
                f"{w.field}: {w.reason}" for w in withheld
            )
        elif released_fields == set(req.fields) and not withheld:
            status = "approved"
        else:
            status = "partially_approved"
    decision = Decision(
        request_id=request_id,
        decided_by=decided_by,
        decided_at=now,
        outcome=outcome,
        status=status,
        approved_fields=approved if status != "refused" else (),
        reason=reason.strip(),
        consents=tuple(consents),
        exceptions=exceptions,
        withheld=tuple(withheld),
    )
    with transaction(db):
        _set_status(db, row, status, decision.reason, now)
        st.execute(
            db,
            "INSERT INTO disclosure_decisions (request_id, decided_by, decided_at, payload) VALUES (?,?,?,?)",
            [request_id, decided_by, st.ts(now), encode(decision).decode("utf-8")],
        )
        audit.append(
            "disclosure.decision",
            request_id=request_id,
            match_id=req.match_id,
            decided_by=decided_by,
            outcome=outcome,
            status=status,
            approved_field_names=list(decision.approved_fields),
            withheld_field_names=[w.field for w in withheld],
            withheld_reasons=[w.reason_code for w in withheld],
            consent=[f"{c.subject}:{c.status}" for c in decision.consents],
            exceptions=[f"{e.field}:{e.provision}" for e in exceptions],
        )
    return decision, encode(decision)


def receive_decision(
    db: sqlite_utils.Database, audit: AuditLog, payload: bytes, *, sender_area: str, now: _dt.datetime
) -> Decision:
    """Record the holding area's decision on one of this area's requests."""
    now = _utc(now)
    decision = decode("decision", payload)
    row = _load(db, decision.request_id)
    if row["direction"] != "outgoing" or row["holding_area"] != sender_area:
        raise ReleaseRejected(
            "misaddressed", f"decision for request {decision.request_id} did not come from the area asked; refused"
        )
    if decision.status not in ("approved", "partially_approved", "refused"):
        raise PayloadError(f"decision status {decision.status!r} is not a decision")
    asked = decode("request", row["payload"].encode("utf-8")).fields
    extra = [f for f in decision.approved_fields if f not in asked]
    if extra:
        raise PayloadError(f"decision for request {decision.request_id} approves field {extra[0]!r}, which was not requested")
    with transaction(db):
        _set_status(db, row, decision.status, decision.reason, now)
        st.execute(
            db,
            "INSERT INTO disclosure_decisions (request_id, decided_by, decided_at, payload) VALUES (?,?,?,?)",
            [decision.request_id, decision.decided_by, st.ts(decision.decided_at), payload.decode("utf-8")],
        )
        audit.append(
            "disclosure.decision_received",
            request_id=decision.request_id,
            sender_area=sender_area,
            status=decision.status,
            approved_field_names=list(decision.approved_fields),
            withheld_field_names=[w.field for w in decision.withheld],
        )
    return decision


def _decision(db, request_id: str) -> Decision | None:
    r = st.one(db, "SELECT payload FROM disclosure_decisions WHERE request_id = ?", [request_id])
    return decode("decision", r["payload"].encode("utf-8")) if r else None


def release(
    db: sqlite_utils.Database,
    audit: AuditLog,
    protocol: Protocol,
    request_id: str,
    *,
    now: _dt.datetime,
) -> tuple[Release, bytes]:
    """Build the release of an approved request, record it and return (Release, payload to seal as ``release``).

    The rules are checked again at release time (a partner may have lapsed
    since the decision). Only approved fields are included, each with source
    partner and recorded date; the payload's values are not kept here.
    """
    now = _utc(now)
    row = _load(db, request_id)
    if row["direction"] != "incoming":
        raise StatusError(f"request {request_id} was made by this area; only the holding area releases")
    check_transition(row["status"], "released", request_id=request_id)
    req = decode("request", row["payload"].encode("utf-8"))
    decision = _decision(db, request_id)
    if decision is None:
        raise StatusError(f"request {request_id} has no recorded decision; decide before releasing")
    check_area_may_share(protocol, now.date())
    consent_map = {c.subject: c for c in decision.consents}
    emergency = req.channel == "emergency"
    items, withheld = select_release_items(
        protocol,
        req,
        decision.approved_fields,
        consent_map,
        decision.exceptions,
        case_fields(db, row["record_id"]) if row["record_id"] else [],
        now.date(),
        emergency=emergency,
    )
    if not items:
        raise nothing_to_release(request_id, withheld)
    complete = _record_complete(req, items)
    rel = Release(
        release_id=_new_id("rel"),
        request_id=request_id,
        match_id=req.match_id,
        from_area=req.holding_area,
        to_area=req.requesting_area,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        purpose=req.purpose,
        lawful_basis=req.lawful_basis,
        art9_condition=req.art9_condition,
        sch8_condition=req.sch8_condition,
        channel=req.channel,
        approved_by=decision.decided_by,
        released_at=now,
        retention_until=now.date() + _dt.timedelta(days=protocol.purposes[req.purpose].retention_days),
        items=tuple(items),
        withheld=tuple(withheld),
        consents=decision.consents,
        emergency=emergency,
        record_complete=complete,
        complete_by=None if complete else now + _dt.timedelta(hours=protocol.emergency_completion_hours),
    )
    with transaction(db):
        _set_status(db, row, "released", "", now)
        st.execute(
            db,
            "INSERT INTO disclosure_releases_sent (release_id, request_id, to_area, released_at, approved_by, "
            "retention_until, items, withheld, emergency, record_complete, complete_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                rel.release_id, request_id, rel.to_area, st.ts(now), rel.approved_by, rel.retention_until.isoformat(),
                st.dumps(_items_meta(rel.items)), st.dumps([w.__dict__ for w in rel.withheld]), int(emergency),
                int(complete), st.ts(rel.complete_by) if rel.complete_by else None,
            ],
        )
        audit.append(
            "disclosure.released",
            request_id=request_id,
            release_id=rel.release_id,
            match_id=rel.match_id,
            to_area=rel.to_area,
            approved_by=rel.approved_by,
            field_names=sorted({i.field for i in items}),
            source_partners=sorted({i.source_partner for i in items}),
            withheld_field_names=[w.field for w in withheld],
            retention_until=rel.retention_until.isoformat(),
            emergency=emergency,
            record_complete=complete,
        )
    return rel, encode(rel)


def _record_complete(req: Request, items: list[ReleasedItem]) -> bool:
    return len(req.rationale.strip()) >= MIN_RATIONALE and all(i.consent_status != "pending" for i in items)


def _items_meta(items) -> list[dict]:
    """Per-item metadata kept on file: never the value."""
    return [
        {
            "field": i.field,
            "label": i.label,
            "category": i.category,
            "subject": i.subject,
            "source_partner": i.source_partner,
            "source_name": i.source_name,
            "recorded_on": i.recorded_on.isoformat(),
            "consent_status": i.consent_status,
            "exception": i.exception,
        }
        for i in items
    ]


# --- receiving a release ----------------------------------------------------


def accept_release(
    db: sqlite_utils.Database,
    audit: AuditLog,
    sealed: bytes,
    *,
    sender_area: str,
    my_area: str,
    my_key,
    sender_key,
    now: _dt.datetime,
) -> Release:
    """Open, verify and store a release envelope (kept sealed at rest).

    Refuses with :class:`ReleaseRejected`: ``tampered`` (seal fails or payload
    malformed), ``misaddressed`` (not for this area, not from the area asked,
    not for a request of ours), ``replayed`` (already received), or
    ``unexpected`` (fields not requested, gender history without a recorded
    basis, no decision yet). Every refusal is audited.
    """
    now = _utc(now)
    try:
        payload = open_payload(sealed, "release", sender_area=sender_area, my_area=my_area, my_key=my_key, sender_key=sender_key)
        rel = decode("release", payload)
        _check_received(db, rel, sender_area=sender_area, my_area=my_area)
    except (ReleaseRejected, PayloadError) as exc:
        reason = exc.reason if isinstance(exc, ReleaseRejected) else "tampered"
        audit.append("disclosure.release_rejected", sender_area=sender_area, reason=reason)
        if isinstance(exc, PayloadError):
            raise ReleaseRejected("tampered", f"release from area {sender_area} refused: {exc}") from None
        raise
    row = _load(db, rel.request_id)
    with transaction(db):
        _set_status(db, row, "released", "", now)
        st.execute(
            db,
            "INSERT INTO disclosure_releases_received (release_id, request_id, from_area, received_at, released_at, "
            "retention_until, items, withheld, sealed) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                rel.release_id, rel.request_id, sender_area, st.ts(now), st.ts(rel.released_at),
                rel.retention_until.isoformat(), st.dumps(_items_meta(rel.items)),
                st.dumps([w.__dict__ for w in rel.withheld]), bytes(sealed),
            ],
        )
        audit.append(
            "disclosure.release_received",
            request_id=rel.request_id,
            release_id=rel.release_id,
            sender_area=sender_area,
            field_names=sorted({i.field for i in rel.items}),
            withheld_field_names=[w.field for w in rel.withheld],
            retention_until=rel.retention_until.isoformat(),
        )
    return rel


def _check_received(db, rel: Release, *, sender_area: str, my_area: str) -> None:
    if rel.to_area != my_area:
        raise ReleaseRejected("misaddressed", f"release {rel.release_id} is addressed to area {rel.to_area}, not {my_area}")
    if rel.from_area != sender_area:
        raise ReleaseRejected(
            "misaddressed", f"release {rel.release_id} claims to be from area {rel.from_area} but area {sender_area} sent it"
        )
    if st.one(db, "SELECT 1 FROM disclosure_releases_received WHERE release_id = ?", [rel.release_id]):
        raise ReleaseRejected("replayed", f"release {rel.release_id} was already received; the copy is ignored")
    row = st.one(db, "SELECT * FROM disclosure_requests WHERE request_id = ?", [rel.request_id])
    if row is None or row["direction"] != "outgoing":
        raise ReleaseRejected("misaddressed", f"release {rel.release_id} answers no request made by this area")
    if row["holding_area"] != sender_area or row["match_id"] != rel.match_id:
        raise ReleaseRejected("misaddressed", f"release {rel.release_id} does not come from the area asked in request {rel.request_id}")
    if row["status"] in ("released", "expired"):
        raise ReleaseRejected("replayed", f"request {rel.request_id} already has a release; the new one is ignored")
    if row["status"] not in ("approved", "partially_approved"):
        raise ReleaseRejected(
            "unexpected", f"request {rel.request_id} is {row['status']}; a release needs an approval first (deliver the decision)"
        )
    req = decode("request", row["payload"].encode("utf-8"))
    for item in rel.items:
        if item.field not in req.fields:
            raise ReleaseRejected("unexpected", f"release {rel.release_id} carries field {item.field!r}, which was not requested")
        if item.field == GENDER_HISTORY and not item.exception and item.consent_status != "given":
            raise ReleaseRejected(
                "unexpected", f"release {rel.release_id} carries gender history without recorded consent or exception"
            )


def read_received_release(
    db: sqlite_utils.Database,
    audit: AuditLog,
    release_id: str,
    *,
    viewer: str,
    my_area: str,
    my_key,
    sender_key,
    now: _dt.datetime,
) -> Release:
    """Open a stored release for display (re-verifies the sender's signature).

    Each viewing is audited with the viewer's id (consultation logging, as
    DPA 2018 Part 3 s62 requires for police data): who looked, when, at which release.
    """
    now = _utc(now)
    if not ACTOR_ID_RE.match(viewer or ""):
        raise DisclosureError("viewer must be the coordinator's id")
    r = st.one(db, "SELECT * FROM disclosure_releases_received WHERE release_id = ?", [release_id])
    if r is None:
        raise NotFound(f"no received release {release_id!r}")
    if r["sealed"] is None:
        raise NotFound(f"release {release_id} was deleted on {r['deleted_at']} at the end of its retention period")
    payload = open_payload(r["sealed"], "release", sender_area=r["from_area"], my_area=my_area, my_key=my_key, sender_key=sender_key)
    rel = decode("release", payload)
    audit.append("disclosure.release_viewed", release_id=release_id, request_id=rel.request_id, viewer=viewer, at=st.ts(now))
    return rel


# --- retention, emergency completion, withdrawal ------------------------------


def expire_releases(db: sqlite_utils.Database, audit: AuditLog, *, now: _dt.datetime) -> list[str]:
    """Delete received releases whose retention has ended (not under legal hold). Returns release ids."""
    now = _utc(now)
    due = st.rows(
        db,
        "SELECT release_id, request_id, retention_until FROM disclosure_releases_received "
        "WHERE sealed IS NOT NULL AND legal_hold = 0 AND retention_until < ?",
        [now.date().isoformat()],
    )
    done = []
    for r in due:
        with transaction(db):
            st.execute(
                db,
                "UPDATE disclosure_releases_received SET sealed = NULL, deleted_at = ? WHERE release_id = ? AND sealed IS NOT NULL",
                [st.ts(now), r["release_id"]],
            )
            row = _load(db, r["request_id"])
            if row["status"] == "released":
                _set_status(db, row, "expired", "retention period ended; the release was deleted", now)
            audit.append(
                "disclosure.release_deleted",
                release_id=r["release_id"],
                request_id=r["request_id"],
                retention_until=r["retention_until"],
                reason="retention_ended",
            )
        done.append(r["release_id"])
    return done


def set_legal_hold(
    db: sqlite_utils.Database, audit: AuditLog, release_id: str, *, hold: bool, reason: str, by: str, now: _dt.datetime
) -> None:
    if hold and len(reason.strip()) < 10:
        raise DisclosureError("a legal hold needs a reason (at least 10 characters)")
    with transaction(db):
        n = st.execute(
            db,
            "UPDATE disclosure_releases_received SET legal_hold = ?, legal_hold_reason = ? WHERE release_id = ? AND sealed IS NOT NULL",
            [int(hold), reason.strip(), release_id],
        )
        if n != 1:
            raise NotFound(f"no stored release {release_id!r} to hold")
        audit.append("disclosure.legal_hold", release_id=release_id, hold=hold, by=by, at=st.ts(_utc(now)))


@dataclass(frozen=True)
class OverdueRelease:
    release_id: str
    request_id: str
    released_at: _dt.datetime
    complete_by: _dt.datetime
    overdue: bool


def overdue_emergency_releases(db: sqlite_utils.Database, *, now: _dt.datetime) -> list[OverdueRelease]:
    """Emergency releases whose full record is not yet complete; ``overdue`` once past the deadline."""
    now = _utc(now)
    out = []
    for r in st.rows(db, "SELECT * FROM disclosure_releases_sent WHERE record_complete = 0 ORDER BY complete_by"):
        cb = st.parse_ts(r["complete_by"])
        out.append(OverdueRelease(r["release_id"], r["request_id"], st.parse_ts(r["released_at"]), cb, now > cb))
    return out


def complete_emergency_record(
    db: sqlite_utils.Database,
    audit: AuditLog,
    request_id: str,
    *,
    rationale: str,
    consents: list[Consent] | tuple[Consent, ...],
    completed_by: str,
    now: _dt.datetime,
) -> bool:
    """Complete the full record of an emergency release. Returns True if completed late."""
    now = _utc(now)
    r = st.one(db, "SELECT * FROM disclosure_releases_sent WHERE request_id = ?", [request_id])
    if r is None:
        raise NotFound(f"no release was sent for request {request_id!r}")
    if r["record_complete"]:
        raise StatusError(f"the record of request {request_id} is already complete")
    if len(rationale.strip()) < MIN_RATIONALE:
        raise DecisionInvalid(f"give the full necessity and proportionality rationale (at least {MIN_RATIONALE} characters)")
    req = decode("request", _load(db, request_id)["payload"].encode("utf-8"))
    cmap = check_consents(tuple(consents), req)
    subjects = {i["subject"] for i in json.loads(r["items"]) if i["subject"] != "case"}
    missing = sorted(subjects - set(cmap))
    if missing:
        raise ConsentError(f"record consent for the {missing[0]} (given, refused, or not sought with a reason)")
    late = now > st.parse_ts(r["complete_by"])
    completion = {
        "rationale": rationale.strip(),
        "consents": [c.__dict__ | {"explicit_items": list(c.explicit_items)} for c in consents],
        "completed_by": completed_by,
    }
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_releases_sent SET record_complete = 1, completion = ?, completed_at = ? WHERE request_id = ?",
            [st.dumps(completion), st.ts(now), request_id],
        )
        audit.append(
            "disclosure.emergency_completed",
            request_id=request_id,
            release_id=r["release_id"],
            completed_by=completed_by,
            late=late,
            consent=[f"{c.subject}:{c.status}" for c in consents],
        )
    return late


def close_for_area_withdrawal(
    db: sqlite_utils.Database, audit: AuditLog, area: str, *, now: _dt.datetime
) -> list[RequestRow]:
    """An area left the federation: close every pending request with it. Returns the closed rows
    (the caller tells the other areas; token purge is the publisher's job)."""
    return _close_pending(
        db, audit, "requesting_area = ? OR holding_area = ?", [area, area], f"area {area} withdrew from the federation", now
    )


def close_for_partner_withdrawal(
    db: sqlite_utils.Database, audit: AuditLog, partner_id: str, *, now: _dt.datetime
) -> list[RequestRow]:
    """A partner agency withdrew: close pending requests it made. Its fields are no longer
    released because the protocol marks it withdrawn (see policy.partner_state)."""
    return _close_pending(
        db, audit, "requesting_partner = ?", [partner_id], f"partner {partner_id} withdrew from the protocol", now
    )


def _close_pending(db, audit, where: str, params: list, reason: str, now: _dt.datetime) -> list[RequestRow]:
    now = _utc(now)
    marks = ",".join("?" * len(PENDING))
    pending = st.rows(db, f"SELECT * FROM disclosure_requests WHERE ({where}) AND status IN ({marks})", params + list(PENDING))
    closed = []
    with transaction(db):
        for row in pending:
            _set_status(db, row, "expired", reason, now)
            audit.append("disclosure.request_closed", request_id=row["request_id"], match_id=row["match_id"], reason=reason[:200])
    for row in pending:
        closed.append(get_request(db, row["request_id"]))
    return closed


# --- queries ----------------------------------------------------------------


def _row(db, r: dict) -> RequestRow:
    rel = st.one(db, "SELECT release_id FROM disclosure_releases_sent WHERE request_id = ?", [r["request_id"]]) or st.one(
        db, "SELECT release_id FROM disclosure_releases_received WHERE request_id = ?", [r["request_id"]]
    )
    return RequestRow(
        request=decode("request", r["payload"].encode("utf-8")),
        direction=r["direction"],
        status=r["status"],
        status_reason=r["status_reason"],
        record_id=r["record_id"],
        decision=_decision(db, r["request_id"]),
        release_id=rel["release_id"] if rel else None,
        updated_at=st.parse_ts(r["updated_at"]),
    )


def get_request(db: sqlite_utils.Database, request_id: str) -> RequestRow:
    return _row(db, _load(db, request_id))


def list_requests(
    db: sqlite_utils.Database, *, direction: str | None = None, status: str | None = None, record_id: str | None = None
) -> list[RequestRow]:
    clauses, params = [], []
    for col, val in (("direction", direction), ("status", status), ("record_id", record_id)):
        if val is not None:
            clauses.append(f"{col} = ?")
            params.append(val)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return [_row(db, r) for r in st.rows(db, f"SELECT * FROM disclosure_requests{where} ORDER BY created_at, request_id", params)]
