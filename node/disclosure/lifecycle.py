"""Life cycle after release: emergency record completion, and closing requests on withdrawal."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass

import sqlite_utils

from fedalert.audit import AuditLog
from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure.requests import RequestRow, get_request, load_row, set_status, utc
from fedalert.node.disclosure.errors import ConsentError, DecisionInvalid, NotFound, StatusError
from fedalert.node.disclosure.model import PENDING, Consent, decode
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.policy import MIN_RATIONALE, check_consents


@dataclass(frozen=True)
class OverdueRelease:
    release_id: str
    request_id: str
    released_at: _dt.datetime
    complete_by: _dt.datetime
    overdue: bool


def overdue_emergency_releases(db: sqlite_utils.Database, *, now: _dt.datetime) -> list[OverdueRelease]:
    """Emergency releases whose full record is not yet complete; ``overdue`` once past the deadline."""
    now = utc(now)
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
    now = utc(now)
    r = st.one(db, "SELECT * FROM disclosure_releases_sent WHERE request_id = ?", [request_id])
    if r is None:
        raise NotFound(f"no release was sent for request {request_id!r}")
    if r["record_complete"]:
        raise StatusError(f"the record of request {request_id} is already complete")
    if len(rationale.strip()) < MIN_RATIONALE:
        raise DecisionInvalid(
            f"give the full necessity and proportionality rationale (at least {MIN_RATIONALE} characters)"
        )
    req = decode("request", load_row(db, request_id)["payload"].encode("utf-8"))
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
        db,
        audit,
        "requesting_area = ? OR holding_area = ?",
        [area, area],
        f"area {area} withdrew from the federation",
        now,
    )


def close_for_partner_withdrawal(
    db: sqlite_utils.Database, audit: AuditLog, partner_id: str, *, now: _dt.datetime
) -> list[RequestRow]:
    """A partner agency withdrew: close pending requests it made. Its fields are no longer
    released because the protocol marks it withdrawn (see policy.partner_state)."""
    return _close_pending(
        db, audit, "requesting_partner = ?", [partner_id], f"partner {partner_id} withdrew from the protocol", now
    )


def close_for_withdrawn_matches(db: sqlite_utils.Database, audit: AuditLog, *, now: _dt.datetime) -> list[RequestRow]:
    """Close pending requests whose match this node's inbox shows as withdrawn.

    The matcher withdraws a match when a record is withdrawn, when an area
    is revoked (it tells both areas) and when rescoring drops the pair, so
    this also covers an area leaving the federation without anyone running
    ``close-withdrawn``. A node database without an alert inbox (the
    disclosure tables alone) has nothing to close.
    """
    if not st.one(db, "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'matches'"):
        return []
    return _close_pending(
        db,
        audit,
        "match_id IN (SELECT match_id FROM matches WHERE status = 'withdrawn')",
        [],
        "the match was withdrawn (a record was closed, an area left the federation, or the records no longer match)",
        now,
    )


def _close_pending(db, audit, where: str, params: list, reason: str, now: _dt.datetime) -> list[RequestRow]:
    now = utc(now)
    marks = ",".join("?" * len(PENDING))
    pending = st.rows(
        db, f"SELECT * FROM disclosure_requests WHERE ({where}) AND status IN ({marks})", params + list(PENDING)
    )
    closed = []
    with transaction(db):
        for row in pending:
            set_status(db, row, "expired", reason, now)
            audit.append(
                "disclosure.request_closed", request_id=row["request_id"], match_id=row["match_id"], reason=reason[:200]
            )
    for row in pending:
        closed.append(get_request(db, row["request_id"]))
    return closed
