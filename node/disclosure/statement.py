"""Plain-language outputs: the sharing statement, the subject-access listing, a release view.

The sharing statement and the SAR listing show categories, sources, dates,
recipients, purposes and bases, never case values. :func:`render_release`
shows values and is for the receiving coordinator only.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass

import sqlite_utils

from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure.law import (
    ART9_CONDITIONS,
    CHANNELS,
    GENDER_EXCEPTIONS,
    LAWFUL_BASES,
    PURPOSES,
    SCH8_CONDITIONS,
)
from fedalert.node.disclosure.model import Release, decode


def _d(x: _dt.date | _dt.datetime | str) -> str:
    if isinstance(x, str):
        x = st.parse_ts(x) if "T" in x else _dt.date.fromisoformat(x)
    return f"{x.day} {x:%B %Y}"


def _basis_text(basis: str, art9: str, sch8: str) -> str:
    text = LAWFUL_BASES[basis].label if basis in LAWFUL_BASES else basis
    if art9:
        text += "; for special-category information " + (
            ART9_CONDITIONS[art9].label if art9 in ART9_CONDITIONS else art9
        )
    if sch8:
        text += "; for sensitive information " + (SCH8_CONDITIONS[sch8].label if sch8 in SCH8_CONDITIONS else sch8)
    return text


def _consent_text(consents: list[dict]) -> str:
    if not consents:
        return "not yet recorded (emergency share; the record must be completed)"
    parts = []
    for c in consents:
        words = {"given": "consent given", "refused": "consent refused", "not_sought": "consent not sought"}[
            c["status"]
        ]
        parts.append(f"{c['subject']}: {words}" + (f" ({c['reason']})" if c.get("reason") else ""))
    return "; ".join(parts)


@dataclass(frozen=True)
class SharingEvent:
    direction: str  # sent | received
    request_id: str
    release_id: str
    other_area: str
    at: _dt.datetime
    purpose: str
    basis: str
    channel: str
    requester: str
    approved_by: str
    items: list[dict]
    withheld: list[dict]
    consents: list[dict]
    deleted_at: str | None = None


def sharing_events(db: sqlite_utils.Database, record_id: str) -> list[SharingEvent]:
    """Everything released about *record_id* by this area, and received by this area about the matched person."""
    out: list[SharingEvent] = []
    for r in st.rows(
        db,
        "SELECT s.*, q.payload AS req, d.payload AS dec FROM disclosure_releases_sent s "
        "JOIN disclosure_requests q ON q.request_id = s.request_id "
        "LEFT JOIN disclosure_decisions d ON d.request_id = s.request_id WHERE q.record_id = ? ORDER BY s.released_at",
        [record_id],
    ):
        req = decode("request", r["req"].encode())
        consents = [c.__dict__ for c in decode("decision", r["dec"].encode()).consents] if r["dec"] else []
        if r["completion"]:
            consents = json.loads(r["completion"])["consents"]
        out.append(
            SharingEvent(
                "sent",
                req.request_id,
                r["release_id"],
                r["to_area"],
                st.parse_ts(r["released_at"]),
                req.purpose,
                _basis_text(req.lawful_basis, req.art9_condition, req.sch8_condition),
                req.channel,
                req.requester,
                r["approved_by"],
                json.loads(r["items"]),
                json.loads(r["withheld"]),
                consents,
            )
        )
    for r in st.rows(
        db,
        "SELECT v.*, q.payload AS req, d.payload AS dec FROM disclosure_releases_received v "
        "JOIN disclosure_requests q ON q.request_id = v.request_id "
        "LEFT JOIN disclosure_decisions d ON d.request_id = v.request_id WHERE q.record_id = ? ORDER BY v.received_at",
        [record_id],
    ):
        req = decode("request", r["req"].encode())
        dec = decode("decision", r["dec"].encode()) if r["dec"] else None
        out.append(
            SharingEvent(
                "received",
                req.request_id,
                r["release_id"],
                r["from_area"],
                st.parse_ts(r["released_at"]),
                req.purpose,
                _basis_text(req.lawful_basis, req.art9_condition, req.sch8_condition),
                req.channel,
                req.requester,
                dec.decided_by if dec else "",
                json.loads(r["items"]),
                json.loads(r["withheld"]),
                [c.__dict__ for c in dec.consents] if dec else [],
                r["deleted_at"],
            )
        )
    return out


def sharing_statement(db: sqlite_utils.Database, record_id: str, *, area: str, today: _dt.date) -> str:
    """A plain-language statement of what this area shared about a case: what, with whom, when, why, on what basis."""
    sent = [e for e in sharing_events(db, record_id) if e.direction == "sent"]
    lines = [f"Information sharing statement for case {record_id} ({area}), prepared {_d(today)}.", ""]
    if not sent:
        lines.append("No information about this case has been shared with another area.")
        return "\n".join(lines) + "\n"
    for e in sent:
        lines.append(f"On {_d(e.at)} we shared information with {e.other_area}.")
        lines.append(f"  Why: {PURPOSES.get(e.purpose, e.purpose)}, {CHANNELS.get(e.channel, e.channel)}.")
        lines.append(f"  Legal basis: {e.basis}.")
        lines.append(f"  Asked for by {e.requester}; decided by {e.approved_by}.")
        lines.append("  What was shared:")
        for i in e.items:
            extra = f"; under {GENDER_EXCEPTIONS[i['exception']]}" if i.get("exception") in GENDER_EXCEPTIONS else ""
            lines.append(f"    - {i['label']} (from {i['source_name']}, recorded {_d(i['recorded_on'])}{extra})")
        shown_withheld = [w for w in e.withheld if w["reason_code"] != "not_approved"]
        if shown_withheld:
            lines.append("  Not shared:")
            for w in shown_withheld:
                lines.append(f"    - {w['field'].replace('_', ' ')}: {w['reason']}")
        lines.append(f"  Consent: {_consent_text(e.consents)}.")
        lines.append("")
    return "\n".join(lines)


def sar_listing(db: sqlite_utils.Database, record_id: str) -> str:
    """For ``fedalert node sar RECORD``: every request, decision and release about a record.

    The coordinator applies exemptions (third-party data, crime prejudice,
    neither-confirm-nor-deny) before anything goes to the requester.
    """
    lines = [f"Subject access listing for record {record_id}", ""]
    reqs = st.rows(db, "SELECT * FROM disclosure_requests WHERE record_id = ? ORDER BY created_at", [record_id])
    if not reqs:
        lines.append("No disclosure requests, decisions or releases concern this record.")
        return "\n".join(lines) + "\n"
    events = {e.request_id: e for e in sharing_events(db, record_id)}
    for r in reqs:
        req = decode("request", r["payload"].encode())
        who = f"from {req.requesting_area}" if r["direction"] == "incoming" else f"to {req.holding_area}"
        lines.append(
            f"- Request {req.request_id} {who} on {_d(req.created_at)}: {PURPOSES.get(req.purpose, req.purpose)}; "
            f"fields asked: {', '.join(req.fields)}; status {r['status']}"
            + (f" ({r['status_reason']})" if r["status_reason"] else "")
        )
        e = events.get(req.request_id)
        if e is not None:
            verb = "Released to" if e.direction == "sent" else "Received from"
            lines.append(f"    {verb} {e.other_area} on {_d(e.at)} (release {e.release_id}); basis: {e.basis}")
            for i in e.items:
                lines.append(
                    f"      {i['label']}: from {i['source_name']} ({i['source_partner']}), recorded {_d(i['recorded_on'])}"
                )
            if e.deleted_at:
                lines.append(f"    Deleted at the end of its retention period on {_d(e.deleted_at)}")
    lines.append("")
    lines.append(
        "Before answering: apply the third-party exemption and the crime-prejudice restriction where they apply; "
        "under DPA 2018 Part 3, consider neither confirming nor denying where confirming would tip someone off. "
        "Record the reasons for any exemption. The deadline is one month."
    )
    return "\n".join(lines) + "\n"


def render_release(rel: Release) -> str:
    """A release as the receiving coordinator sees it (contains the released values)."""
    lines = [
        f"Release {rel.release_id} from {rel.from_area} to {rel.to_area} on {_d(rel.released_at)}",
        f"Request {rel.request_id}, match {rel.match_id}; approved by {rel.approved_by}",
        f"Purpose: {PURPOSES.get(rel.purpose, rel.purpose)}; channel: {CHANNELS.get(rel.channel, rel.channel)}",
        f"Basis: {_basis_text(rel.lawful_basis, rel.art9_condition, rel.sch8_condition)}",
        f"Protocol: {rel.protocol_id} v{rel.protocol_version}; keep until {_d(rel.retention_until)}, then it is deleted",
    ]
    if rel.emergency and not rel.record_complete:
        lines.append(f"EMERGENCY release: the full record is due by {rel.complete_by:%Y-%m-%d %H:%M} UTC")
    lines.append("")
    for i in rel.items:
        lines.append(
            f"{i.label} [{i.subject}; from {i.source_name}, recorded {_d(i.recorded_on)}; consent {i.consent_status}]"
        )
        lines.append(f"    {i.value}")
    if rel.withheld:
        lines.append("")
        lines.append("Withheld:")
        for w in rel.withheld:
            lines.append(f"  - {w.field.replace('_', ' ')}: {w.reason}")
    return "\n".join(lines) + "\n"


def render_request_list(rows) -> str:
    """One line per request for ``fedalert disclose list`` (rows from disclosure.list_requests)."""
    if not rows:
        return "No disclosure requests.\n"
    out = [f"{'request':<22} {'dir':<4} {'status':<19} {'match':<14} {'other area':<12} {'purpose':<17} "
           f"{'release':<22} fields"]
    for r in rows:
        q = r.request
        other = q.holding_area if r.direction == "outgoing" else q.requesting_area
        out.append(
            f"{q.request_id:<22} {'out' if r.direction == 'outgoing' else 'in':<4} {r.status:<19} {q.match_id:<14} "
            f"{other:<12} {q.purpose:<17} {r.release_id or '-':<22} {', '.join(q.fields)}"
        )
    return "\n".join(out) + "\n"


def render_request(row) -> str:
    """The full record of one request for ``fedalert disclose show`` (no case values)."""
    q = row.request
    lines = [
        f"Request {q.request_id} ({'made by this area' if row.direction == 'outgoing' else 'received'}); status {row.status}"
        + (f" ({row.status_reason})" if row.status_reason else ""),
        f"Match {q.match_id}: {q.requesting_area} asks {q.holding_area}"
        + (f" (record handle {q.holding_handle})" if q.holding_handle else "")
        + (f"; this area's record {row.record_id}" if row.record_id else ""),
        f"Requester {q.requester} for partner {q.requesting_partner} ({q.requesting_partner_type}, {q.requesting_partner_sector})",
        f"Purpose: {PURPOSES.get(q.purpose, q.purpose)}; channel: {CHANNELS.get(q.channel, q.channel)}; urgency: {q.urgency}",
        f"Basis: {_basis_text(q.lawful_basis, q.art9_condition, q.sch8_condition)}",
    ]
    if q.statutory_power:
        lines.append(f"Statutory power: {q.statutory_power}")
    if q.lia_ref:
        lines.append(f"Legitimate interests assessment: {q.lia_ref}")
    lines += [
        f"Fields wanted: {', '.join(q.fields)}",
        f"Rationale: {q.rationale}",
        f"Protocol: {q.protocol_id} v{q.protocol_version}; made {_d(q.created_at)} {q.created_at:%H:%M} UTC",
    ]
    d = row.decision
    if d is not None:
        lines.append(
            f"Decision by {d.decided_by} on {_d(d.decided_at)}: {d.outcome} -> {d.status}"
            + (f"; reason: {d.reason}" if d.reason else "")
        )
        if d.approved_fields:
            lines.append(f"  Approved: {', '.join(d.approved_fields)}")
        for w in d.withheld:
            lines.append(f"  Withheld {w.field}: {w.reason}")
        for c in d.consents:
            lines.append(f"  Consent ({c.subject}): {c.status}" + (f", {c.reason}" if c.reason else ""))
        for e in d.exceptions:
            lines.append(
                f"  Statutory exception for {e.field}: {GENDER_EXCEPTIONS.get(e.provision, e.provision)}; {e.note}"
            )
    if row.release_id:
        lines.append(f"Release: {row.release_id}")
    return "\n".join(lines) + "\n"
