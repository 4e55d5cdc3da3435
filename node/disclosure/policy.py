"""Policy checks of the information sharing protocol. Pure functions, no I/O.

Every check takes the date or time explicitly (``today`` / ``now``); nothing
here reads a clock. A failed check raises a typed :class:`PolicyError` whose
``rule`` is a stable code and whose message says what to change.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from fedalert.node.disclosure.errors import (
    ConsentError,
    DecisionInvalid,
    FieldNotAllowed,
    LawfulBasisError,
    NoSuchMatch,
    NotInMatch,
    NothingToRelease,
    PartnerWithdrawn,
    PolicyError,
    ProtocolMismatch,
    ProtocolNotInForce,
    PurposeNotAllowed,
    RequestInvalid,
    SignOffLapsed,
    SpecialCategoryError,
    UnknownPartner,
)
from fedalert.node.disclosure.law import (
    ART9_CONDITIONS,
    CONSENT_STATUSES,
    GENDER_EXCEPTIONS,
    GENDER_HISTORY,
    LAWFUL_BASES,
    PARTNER_TYPES,
    RLI_CONDITIONS,
    SCH8_CONDITIONS,
    SECTORS,
    SUBJECTS,
    URGENCIES,
)
from fedalert.node.disclosure.model import (
    CaseField,
    Consent,
    MatchInfo,
    ReleasedItem,
    Request,
    StatutoryException,
    Withheld,
)
from fedalert.node.disclosure.protocol import Partner, Protocol

MIN_RATIONALE = 20  # characters; an emergency request may be brief and completed later
ACTOR_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

GENDER_WITHHELD_REASON = (
    "Gender history is released only with the subject's recorded explicit consent or a recorded statutory "
    "exception (GRA 2004 s22(4), SSI 2005/125, SI 2005/635); neither was recorded, so it was withheld. "
    "This answer is the same whether or not any such information is held."
)

SPECIAL_NOT_AVAILABLE = (
    "Not released: no value that can be shared is held (none is held, or its source or the subject's consent does "
    "not allow sharing). For special-category information this answer does not say which."
)

__all__ = [
    "GENDER_WITHHELD_REASON",
    "SPECIAL_NOT_AVAILABLE",
    "PartnerState",
    "check_area_may_share",
    "check_consents",
    "check_decision_inputs",
    "check_incoming_request",
    "check_partner_current",
    "check_protocol_in_force",
    "check_request",
    "partner_state",
    "select_release_items",
]


@dataclass(frozen=True)
class PartnerState:
    partner_id: str
    current: bool
    code: str  # ok | unknown | withdrawn | no_signoff | wrong_version | lapsed | future
    reason: str
    lapses_on: _dt.date | None = None


def partner_state(protocol: Protocol, partner_id: str, today: _dt.date) -> PartnerState:
    """Whether *partner_id* may share today under *protocol*, and if not, why."""
    p = protocol.partners.get(partner_id)
    if p is None:
        return PartnerState(
            partner_id, False, "unknown", f"partner {partner_id!r} is not in the protocol {protocol.label}"
        )
    if p.withdrawn_on is not None and p.withdrawn_on <= today:
        return PartnerState(
            partner_id, False, "withdrawn", f"partner {partner_id} withdrew from the protocol on {p.withdrawn_on}"
        )
    s = p.signoff
    if s is None:
        return PartnerState(
            partner_id,
            False,
            "no_signoff",
            f"partner {partner_id} has not signed off protocol version {protocol.version}",
        )
    if s.protocol_version != protocol.version:
        return PartnerState(
            partner_id,
            False,
            "wrong_version",
            f"partner {partner_id} signed off version {s.protocol_version}, not the current version {protocol.version}; "
            "a senior signatory must sign off the current version",
        )
    lapses = s.signed_on + _dt.timedelta(days=protocol.signoff_valid_days)
    if s.signed_on > today:
        return PartnerState(
            partner_id, False, "future", f"partner {partner_id}'s sign-off is dated {s.signed_on}, after today"
        )
    if today >= lapses:
        return PartnerState(
            partner_id,
            False,
            "lapsed",
            f"partner {partner_id}'s sign-off of {s.signed_on} lapsed on {lapses}; a senior signatory must sign off again",
            lapses,
        )
    return PartnerState(partner_id, True, "ok", "sign-off current", lapses)


def check_partner_current(protocol: Protocol, partner_id: str, today: _dt.date) -> Partner:
    st = partner_state(protocol, partner_id, today)
    if st.current:
        return protocol.partners[partner_id]
    if st.code == "unknown":
        raise UnknownPartner(st.reason)
    if st.code == "withdrawn":
        raise PartnerWithdrawn(st.reason)
    raise SignOffLapsed(st.reason)


def check_protocol_in_force(protocol: Protocol, today: _dt.date) -> list[str]:
    """Raise unless the protocol is live and effective; return warnings (review overdue)."""
    if protocol.status != "live":
        raise ProtocolNotInForce(
            f"protocol {protocol.label} has status {protocol.status}; only a live protocol allows sharing"
        )
    if today < protocol.effective:
        raise ProtocolNotInForce(
            f"protocol {protocol.label} takes effect on {protocol.effective}; no sharing before then"
        )
    warnings = []
    if today > protocol.review:
        warnings.append(
            f"protocol {protocol.label} was due for review on {protocol.review}; review it and issue a new version"
        )
    return warnings


def check_area_may_share(protocol: Protocol, today: _dt.date) -> list[str]:
    """An area may request or release only while the protocol is in force and its lead partner's sign-off is current."""
    warnings = check_protocol_in_force(protocol, today)
    lead = protocol.lead_partner()
    if lead is None:
        raise UnknownPartner(f"protocol {protocol.label} names no lead partner; this node has no area overlay loaded")
    try:
        check_partner_current(protocol, lead.id, today)
    except PolicyError as exc:
        raise type(exc)(
            f"area {protocol.area} cannot request or release: its lead partner is not current ({exc})"
        ) from None
    return warnings


def _check_match(request: Request, match: MatchInfo | None) -> None:
    if match is None or match.match_id != request.match_id:
        raise NoSuchMatch(f"no match {request.match_id!r} in this area's alert inbox; a request must come from a match")
    if match.withdrawn:
        raise NoSuchMatch(f"match {request.match_id} was withdrawn; no disclosure can be requested on it")
    if not match.involves(request.requesting_area):
        raise NotInMatch(
            f"area {request.requesting_area} is not part of match {request.match_id}; "
            "an area may request only on its own matches"
        )
    if request.holding_area != match.other(request.requesting_area) or request.holding_area == request.requesting_area:
        raise NotInMatch(
            f"area {request.holding_area} is not the other area of match {request.match_id}; "
            "address the request to the area that holds the matched record"
        )
    # The requesting area never learns the holder's handle (alerts do not carry
    # the other area's handle), so a request names it only when known; the
    # holder resolves its own record from the match id.
    if request.holding_handle and request.holding_handle != match.handle_of(request.holding_area):
        raise NotInMatch(f"record handle does not belong to area {request.holding_area} in match {request.match_id}")


def _basis_problems(protocol: Protocol, request: Request):
    """Every problem with the lawful basis and special-category conditions, in the order checked.

    A problem that makes later checks meaningless ends the list."""
    code = request.lawful_basis
    basis = LAWFUL_BASES.get(code)
    if basis is None:
        yield LawfulBasisError(f"lawful basis {code!r} is not on the fixed list; choose from {', '.join(LAWFUL_BASES)}",
                               input="lawful_basis")
        return
    purpose = protocol.purposes[request.purpose]
    if code not in purpose.lawful_bases:
        yield LawfulBasisError(
            f"lawful basis {code} ({basis.label}) is not allowed for purpose {request.purpose} by protocol "
            f"{protocol.label}; allowed: {', '.join(purpose.lawful_bases)}", input="lawful_basis"
        )
    ptype, sector = request.requesting_partner_type, request.requesting_partner_sector
    if ptype not in PARTNER_TYPES or sector not in SECTORS:
        yield RequestInvalid("the request must state the requesting partner's type and sector",
                             input="requesting_partner")
        return
    if ptype == "police" and basis.regime != "dpa2018_part3":
        yield LawfulBasisError(
            f"the requesting partner {request.requesting_partner} is police: police partners use DPA 2018 Part 3 "
            "(dpa2018_s35 with a Sch. 8 condition for sensitive fields), not UK GDPR", input="lawful_basis"
        )
    if basis.police_only and ptype != "police":
        yield LawfulBasisError(
            f"{basis.label} is for competent authorities (police); partner {request.requesting_partner} is {ptype}",
            input="lawful_basis"
        )
    if basis.blocked_for_public_authority and sector == "statutory":
        yield LawfulBasisError(
            f"{basis.label} is not available to a public authority acting on its own tasks; partner "
            f"{request.requesting_partner} is statutory: use Art. 6(1)(e) public task or 6(1)(c) legal obligation",
            input="lawful_basis"
        )
    if basis.needs_lia_ref and not request.lia_ref.strip():
        yield LawfulBasisError(f"{basis.label} needs a legitimate interests assessment reference (lia_ref)",
                               input="lia_ref")
    if basis.needs_rli_condition and request.rli_condition not in RLI_CONDITIONS:
        yield LawfulBasisError(
            f"{basis.label} needs a recognised legitimate interest condition: {', '.join(RLI_CONDITIONS)}", input="rli"
        )
    if basis.needs_statutory_power and not request.statutory_power.strip():
        yield LawfulBasisError(
            f"{basis.label} needs the statutory power relied on (statutory_power), e.g. the Act and section",
            input="statutory_power"
        )

    special = [f for f in request.fields if protocol.fields[f].special]
    if basis.regime == "uk_gdpr":
        if request.sch8_condition:
            yield SpecialCategoryError("a Sch. 8 condition applies only under DPA 2018 Part 3; use an Art. 9 condition",
                                       input="sch8")
        if special:
            cond = ART9_CONDITIONS.get(request.art9_condition)
            if cond is None:
                yield SpecialCategoryError(
                    f"field {special[0]} is special category: give an Art. 9 condition (art9_condition), one of "
                    f"{', '.join(ART9_CONDITIONS)}",
                    field=special[0], input="art9",
                )
            elif cond.needs_apd and not protocol.apd_ref:
                yield SpecialCategoryError(
                    f"{cond.label} needs an appropriate policy document; the protocol has no apd_ref", input="art9"
                )
    else:
        if request.art9_condition:
            yield SpecialCategoryError(
                "under DPA 2018 Part 3 sensitive fields need a Sch. 8 condition, not an Art. 9 condition", input="art9"
            )
        if special:
            cond = SCH8_CONDITIONS.get(request.sch8_condition)
            if cond is None:
                yield SpecialCategoryError(
                    f"field {special[0]} is sensitive: under Part 3 give a Sch. 8 condition (sch8_condition), one of "
                    f"{', '.join(SCH8_CONDITIONS)}",
                    field=special[0], input="sch8",
                )
            elif cond.needs_apd and not protocol.apd_ref:
                yield SpecialCategoryError(
                    f"{cond.label} needs an appropriate policy document; the protocol has no apd_ref", input="sch8"
                )


def _rule_problems(protocol: Protocol, request: Request):
    """Every problem with the request's own terms (purpose, channel, fields, rationale, basis), in order."""
    if request.protocol_id != protocol.id or request.protocol_version != protocol.version:
        yield ProtocolMismatch(
            f"the request is under protocol {request.protocol_id} v{request.protocol_version}, this area runs "
            f"{protocol.id} v{protocol.version}; both areas must be on the same national version"
        )
        return
    purpose = protocol.purposes.get(request.purpose)
    if purpose is None:
        yield PurposeNotAllowed(
            f"purpose {request.purpose!r} is not allowed by protocol {protocol.label}; allowed: {', '.join(protocol.purposes)}",
            input="purpose",
        )
    elif request.channel not in purpose.channels:
        yield RequestInvalid(
            f"channel {request.channel!r} is not allowed for purpose {request.purpose}; allowed: {', '.join(purpose.channels)}",
            input="channel",
        )
    if request.urgency not in URGENCIES:
        yield RequestInvalid(f"urgency {request.urgency!r} is not one of {', '.join(URGENCIES)}", input="urgency")
    if not request.fields:
        yield RequestInvalid("name at least one field wanted", input="fields")
    elif len(set(request.fields)) != len(request.fields):
        yield RequestInvalid("a field is named twice in the fields wanted", input="fields")
    if purpose is not None:
        for f in request.fields:
            if f not in purpose.fields:
                yield FieldNotAllowed(
                    f"field {f!r} is not on the whitelist for purpose {request.purpose} in protocol {protocol.label}",
                    field=f, input="fields",
                )
    need = 1 if request.channel == "emergency" else MIN_RATIONALE
    if len(request.rationale.strip()) < need:
        yield RequestInvalid(
            f"give the necessity and proportionality rationale (at least {need} characters): why these fields, "
            "why now, why less would not do", input="rationale"
        )
    for who, val in (("requester", request.requester), ("requesting_partner", request.requesting_partner)):
        if not ACTOR_ID_RE.match(val or ""):
            yield RequestInvalid(f"{who} must be an id (letters, digits, '.', '_', '@', '-'), not a free-text name",
                                 input=who)
    if purpose is not None and all(f in protocol.fields for f in request.fields):
        yield from _basis_problems(protocol, request)


def _check_request_rules(protocol: Protocol, request: Request) -> None:
    for problem in _rule_problems(protocol, request):
        raise problem


def check_request(
    protocol: Protocol, request: Request, match: MatchInfo | None, *, my_area: str, today: _dt.date
) -> list[str]:
    """Check an outgoing request on the requesting node. Returns warnings; raises PolicyError."""
    if request.requesting_area != my_area:
        raise NotInMatch(f"this node is area {my_area}; it cannot make a request as area {request.requesting_area}")
    warnings = check_area_may_share(protocol, today)
    _check_match(request, match)
    partner = check_partner_current(protocol, request.requesting_partner, today)
    if (partner.type, partner.sector) != (request.requesting_partner_type, request.requesting_partner_sector):
        raise RequestInvalid(
            f"partner {partner.id} is {partner.type}/{partner.sector} in the protocol, not "
            f"{request.requesting_partner_type}/{request.requesting_partner_sector}"
        )
    if partner.signoff is None or request.requester_signoff_on != partner.signoff.signed_on:
        raise RequestInvalid(f"requester_signoff_on must be partner {partner.id}'s sign-off date from the protocol")
    _check_request_rules(protocol, request)
    return warnings


def request_problems(
    protocol: Protocol, request: Request, match: MatchInfo | None, *, my_area: str, today: _dt.date
) -> list[PolicyError]:
    """Every problem :func:`check_request` would raise about a request, not only the first
    (for a form that shows all its errors at once). Empty when check_request passes."""
    out: list[PolicyError] = []
    for check in (lambda: check_area_may_share(protocol, today), lambda: _check_match(request, match)):
        try:
            check()
        except PolicyError as exc:
            out.append(exc)
    try:
        partner = check_partner_current(protocol, request.requesting_partner, today)
    except PolicyError as exc:
        exc.input = "requesting_partner"
        out.append(exc)
        return out + [p for p in _rule_problems(protocol, request) if p.input != "requesting_partner"]
    del partner
    out += list(_rule_problems(protocol, request))
    if not out:
        try:
            check_request(protocol, request, match, my_area=my_area, today=today)
        except PolicyError as exc:
            out.append(exc)
    return out


def check_incoming_request(
    protocol: Protocol,
    request: Request,
    match: MatchInfo | None,
    *,
    my_area: str,
    sender_area: str,
    today: _dt.date,
) -> list[str]:
    """Check a request received from *sender_area* (taken from the envelope, never the payload)."""
    if request.requesting_area != sender_area:
        raise NotInMatch(
            f"the request says it is from area {request.requesting_area} but area {sender_area} sent it; refused"
        )
    if request.holding_area != my_area:
        raise NotInMatch(
            f"the request is addressed to area {request.holding_area}, this node is area {my_area}; refused"
        )
    warnings = check_area_may_share(protocol, today)
    _check_match(request, match)
    so = request.requester_signoff_on
    if so is None or so > today or today >= so + _dt.timedelta(days=protocol.signoff_valid_days):
        raise SignOffLapsed(
            f"area {sender_area}'s requesting partner {request.requesting_partner} has no current sign-off of "
            f"protocol version {protocol.version}; refused"
        )
    _check_request_rules(protocol, request)
    return warnings


def check_consents(consents: tuple[Consent, ...], request: Request) -> dict[str, Consent]:
    """Validate per-subject consent records; return them keyed by subject."""
    out: dict[str, Consent] = {}
    for c in consents:
        if c.subject not in SUBJECTS or c.subject == "case":
            raise ConsentError(f"consent subject {c.subject!r} is not one of victim, perpetrator, child")
        if c.subject in out:
            raise ConsentError(f"consent for {c.subject} is recorded twice")
        if c.status not in CONSENT_STATUSES:
            raise ConsentError(f"consent status {c.status!r} is not one of {', '.join(CONSENT_STATUSES)}")
        if c.status in ("refused", "not_sought") and len(c.reason.strip()) < 10:
            raise ConsentError(
                f"consent for {c.subject} is {c.status}: record why the information is shared without consent "
                "(e.g. seeking consent would increase risk)"
            )
        if c.explicit_items and c.status != "given":
            raise ConsentError(f"explicit consent to items needs consent status 'given' for {c.subject}")
        for item in c.explicit_items:
            if item not in request.fields:
                raise ConsentError(f"explicit consent names field {item!r}, which was not requested")
        out[c.subject] = c
    return out


def check_decision_inputs(
    request: Request,
    *,
    outcome: str,
    fields: tuple[str, ...],
    reason: str,
    exceptions: tuple[StatutoryException, ...],
    decided_by: str,
) -> tuple[str, ...]:
    """Validate an approver's choice; return the fields the approver approved."""
    if not ACTOR_ID_RE.match(decided_by or ""):
        raise DecisionInvalid("decided_by must be the approving coordinator's id")
    if outcome == "refuse":
        if len(reason.strip()) < 10:
            raise DecisionInvalid("a refusal needs a reason the requester can act on (at least 10 characters)")
        if fields:
            raise DecisionInvalid("a refusal approves no fields")
        return ()
    if outcome == "approve_all":
        if fields and set(fields) != set(request.fields):
            raise DecisionInvalid("approve_all approves exactly the requested fields; use approve_some to choose")
        approved = tuple(request.fields)
    elif outcome == "approve_some":
        extra = [f for f in fields if f not in request.fields]
        if extra:
            raise DecisionInvalid(f"field {extra[0]!r} was not requested and cannot be approved", field=extra[0])
        if not fields or set(fields) == set(request.fields):
            raise DecisionInvalid(
                "approve_some approves some but not all requested fields; otherwise use approve_all or refuse"
            )
        if len(reason.strip()) < 10:
            raise DecisionInvalid("say why the other fields are not approved (reason, at least 10 characters)")
        approved = tuple(f for f in request.fields if f in fields)
    else:
        raise DecisionInvalid(f"outcome {outcome!r} is not one of approve_all, approve_some, refuse")
    for e in exceptions:
        if e.field != GENDER_HISTORY:
            raise DecisionInvalid("a statutory exception is recorded only for gender history")
        if e.provision not in GENDER_EXCEPTIONS:
            raise DecisionInvalid(f"statutory exception {e.provision!r} is not one of {', '.join(GENDER_EXCEPTIONS)}")
        if len(e.note.strip()) < 10:
            raise DecisionInvalid("record why the statutory exception applies (note, at least 10 characters)")
        if GENDER_HISTORY not in approved:
            raise DecisionInvalid("a gender history exception was recorded but the field is not approved")
    return approved


def select_release_items(
    protocol: Protocol,
    request: Request,
    approved: tuple[str, ...],
    consents: dict[str, Consent],
    exceptions: tuple[StatutoryException, ...],
    case_fields: list[CaseField],
    today: _dt.date,
    *,
    emergency: bool,
) -> tuple[list[ReleasedItem], list[Withheld]]:
    """Filter case values down to what may be released, and say what was withheld and why.

    Rules: only approved fields; gender history only with explicit consent or a
    statutory exception (and the same answer whether or not a value exists);
    nothing from a partner who withdrew or whose sign-off is not current;
    special fields under Art. 9(2)(a) only with the subject's explicit consent.
    Outside an emergency every person-subject of a released value needs a
    consent record (checked by the caller before release).
    """
    items: list[ReleasedItem] = []
    withheld: list[Withheld] = []
    basis_needs_consent = ART9_CONDITIONS.get(request.art9_condition)
    by_field: dict[str, list[CaseField]] = {}
    for cf in case_fields:
        by_field.setdefault(cf.field, []).append(cf)
    exc_by_field = {e.field: e for e in exceptions}
    for name in request.fields:
        spec = protocol.fields[name]
        if name not in approved:
            withheld.append(Withheld(name, "not_approved", "not approved by the holding area's coordinator"))
            continue
        values = by_field.get(name, [])
        if name == GENDER_HISTORY and name not in exc_by_field:
            consented = {s for s, c in consents.items() if c.status == "given" and GENDER_HISTORY in c.explicit_items}
            if not values and not consented:
                withheld.append(Withheld(name, "gender_history_protected", GENDER_WITHHELD_REASON))
                continue
            if any(v.subject not in consented for v in values):
                withheld.append(Withheld(name, "gender_history_protected", GENDER_WITHHELD_REASON))
                values = [v for v in values if v.subject in consented]
                if not values:
                    continue
        if spec.category == "special":
            # Whether special-category information exists is itself special-category
            # information: one answer for "none held", "source cannot share" and
            # "no consent for that subject", so a withholding never reveals a value.
            explicit = basis_needs_consent is not None and basis_needs_consent.needs_consent
            consented = {s for s, c in consents.items() if c.status == "given" and name in c.explicit_items}
            if explicit and not consented:
                withheld.append(
                    Withheld(
                        name,
                        "special_no_consent",
                        f"{spec.label} relies on explicit consent " "(Art. 9(2)(a)), which was not recorded",
                    )
                )
                continue
            releasable = [
                v
                for v in values
                if partner_state(protocol, v.source_partner, today).current and (not explicit or v.subject in consented)
            ]
            if len(releasable) < len(values) or not values:
                withheld.append(Withheld(name, "not_available", SPECIAL_NOT_AVAILABLE))
            values = releasable
            if not values:
                continue
        if not values:
            withheld.append(Withheld(name, "not_held", "no value is held for this field"))
            continue
        for v in values:
            st = partner_state(protocol, v.source_partner, today)
            if not st.current:
                code = "partner_withdrawn" if st.code == "withdrawn" else "partner_not_current"
                withheld.append(
                    Withheld(name, code, f"a value supplied by partner {v.source_partner} was withheld: {st.reason}")
                )
                continue
            consent = consents.get(v.subject)
            if v.subject == "case":
                cstatus = "not_applicable"
            elif consent is None:
                if not emergency:
                    raise ConsentError(
                        f"record consent for the {v.subject} (given, refused, or not sought with a reason) before "
                        f"releasing {name}"
                    )
                cstatus = "pending"
            else:
                cstatus = consent.status
            exc = exc_by_field.get(name)
            items.append(
                ReleasedItem(
                    field=name,
                    label=spec.label,
                    category=spec.category,
                    subject=v.subject,
                    value=v.value,
                    source_partner=v.source_partner,
                    source_name=protocol.partners[v.source_partner].name,
                    recorded_on=v.recorded_on,
                    consent_status=cstatus,
                    exception=exc.provision if (exc and name == GENDER_HISTORY) else "",
                )
            )
    return items, withheld


def nothing_to_release(request_id: str, withheld: list[Withheld]) -> NothingToRelease:
    reasons = "; ".join(f"{w.field}: {w.reason_code}" for w in withheld) or "no fields approved"
    return NothingToRelease(f"request {request_id}: nothing can be released ({reasons})")
