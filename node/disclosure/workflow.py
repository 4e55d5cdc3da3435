"""The disclosure workflow under the protocol: request, decision, release.

Plain domain functions over a sqlite-utils database and an audit log. No
gRPC here: :mod:`.outbox` calls these, seals the returned payload bytes into
matcher envelopes (kinds ``request``, ``decision``, ``release``) with
:func:`fedalert.node.disclosure.envelopes.seal_payload`, opens received ones
and hands them back in (releases: :func:`fedalert.node.disclosure.receive.accept_release`
opens them itself).

Every function takes the time explicitly (``now``, a UTC datetime); nothing
here reads a clock. Every state change is one transaction and one audit entry
carrying ids and codes only (never a case value or a name). The audit entry
is appended inside the transaction, before COMMIT: if the log cannot be
written (for example it is damaged), the change is rolled back.

Flow (area A requests, area B holds the matched record)::

    A: new_request() -> submit_request() -> payload  --"request"-->  B: receive_request()
    B: decide() -> payload                           --"decision"--> A: receive_decision()
    B: release() -> (Release, payload) -> seal       --"release"-->  A: accept_release() (opens, checks, stores sealed)
"""

from __future__ import annotations

import datetime as _dt

import sqlite_utils

from fedalert.audit import AuditLog
from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.casefields import case_fields
from fedalert.node.disclosure.errors import DecisionInvalid, PayloadError, PolicyError, ReleaseRejected, StatusError
from fedalert.node.disclosure.model import (
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
from fedalert.node.disclosure.policy import (
    MIN_RATIONALE,
    check_area_may_share,
    check_consents,
    check_decision_inputs,
    check_incoming_request,
    check_request,
    nothing_to_release,
    select_release_items,
)
from fedalert.node.disclosure.protocol import Protocol
from fedalert.node.disclosure.requests import decision_of, items_meta, load_row, new_id, set_status, utc


def new_request(protocol: Protocol, match: MatchInfo | None, *, now: _dt.datetime, my_area: str, **kw) -> Request:
    """Build and check a request from a match (raises PolicyError with a clear reason)."""
    req = draft_request(protocol, match, now=now, my_area=my_area, **kw)
    check_request(protocol, req, match, my_area=my_area, today=utc(now).date())
    return req


def draft_request(
    protocol: Protocol,
    match: MatchInfo | None,
    *,
    match_id: str = "",
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
    """A request from a match, not yet checked (:func:`new_request` checks it; a form
    checks it with :func:`fedalert.node.disclosure.policy.request_problems`)."""
    now = utc(now)
    partner = protocol.partners.get(requesting_partner)
    holding = match.other(my_area) if match is not None and match.involves(my_area) else ""
    req = Request(
        request_id=new_id("req"),
        match_id=match.match_id if match is not None else match_id,
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
            req.request_id,
            direction,
            req.match_id,
            req.requesting_area,
            req.holding_area,
            req.requesting_partner,
            record_id,
            "requested",
            encode(req).decode("utf-8"),
            st.ts(req.created_at),
            st.ts(now),
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
    now = utc(now)
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
    now = utc(now)
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
    now = utc(now)
    row = load_row(db, request_id)
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
            reason = (
                (reason + " " if reason else "")
                + "Nothing can be released under the protocol: "
                + "; ".join(f"{w.field}: {w.reason}" for w in withheld)
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
        set_status(db, row, status, decision.reason, now)
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
    now = utc(now)
    decision = decode("decision", payload)
    row = load_row(db, decision.request_id)
    if row["direction"] != "outgoing" or row["holding_area"] != sender_area:
        raise ReleaseRejected(
            "misaddressed", f"decision for request {decision.request_id} did not come from the area asked; refused"
        )
    if decision.status not in ("approved", "partially_approved", "refused"):
        raise PayloadError(f"decision status {decision.status!r} is not a decision")
    asked = decode("request", row["payload"].encode("utf-8")).fields
    extra = [f for f in decision.approved_fields if f not in asked]
    if extra:
        raise PayloadError(
            f"decision for request {decision.request_id} approves field {extra[0]!r}, which was not requested"
        )
    with transaction(db):
        set_status(db, row, decision.status, decision.reason, now)
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
    now = utc(now)
    row = load_row(db, request_id)
    if row["direction"] != "incoming":
        raise StatusError(f"request {request_id} was made by this area; only the holding area releases")
    check_transition(row["status"], "released", request_id=request_id)
    req = decode("request", row["payload"].encode("utf-8"))
    decision = decision_of(db, request_id)
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
        release_id=new_id("rel"),
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
        set_status(db, row, "released", "", now)
        st.execute(
            db,
            "INSERT INTO disclosure_releases_sent (release_id, request_id, to_area, released_at, approved_by, "
            "retention_until, items, withheld, emergency, record_complete, complete_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                rel.release_id,
                request_id,
                rel.to_area,
                st.ts(now),
                rel.approved_by,
                rel.retention_until.isoformat(),
                st.dumps(items_meta(rel.items)),
                st.dumps([w.__dict__ for w in rel.withheld]),
                int(emergency),
                int(complete),
                st.ts(rel.complete_by) if rel.complete_by else None,
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
