"""Disclosure requests on file: rows, status changes, queries, and the ids and times they use.

A request is stored once per node, in the direction it travels
(``outgoing``: this area asked; ``incoming``: this area holds the record).
Every status change goes through :func:`set_status`, which checks the state
machine (:func:`fedalert.node.disclosure.model.check_transition`) and refuses
a row that changed underneath it.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from dataclasses import dataclass

import sqlite_utils

from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure.errors import DisclosureError, NotFound, StatusError
from fedalert.node.disclosure.model import Decision, Request, check_transition, decode


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def utc(now: _dt.datetime) -> _dt.datetime:
    if now.tzinfo is None:
        raise DisclosureError("pass 'now' as a timezone-aware UTC datetime")
    return now.astimezone(_dt.timezone.utc)


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


def load_row(db, request_id: str) -> dict:
    row = st.one(db, "SELECT * FROM disclosure_requests WHERE request_id = ?", [request_id])
    if row is None:
        raise NotFound(f"no disclosure request {request_id!r} on this node")
    return row


def set_status(db, row: dict, new: str, reason: str, now: _dt.datetime) -> None:
    check_transition(row["status"], new, request_id=row["request_id"])
    n = st.execute(
        db,
        "UPDATE disclosure_requests SET status = ?, status_reason = ?, updated_at = ? WHERE request_id = ? AND status = ?",
        [new, reason, st.ts(now), row["request_id"], row["status"]],
    )
    if n != 1:
        raise StatusError(f"request {row['request_id']} changed while being updated; try again")


def decision_of(db, request_id: str) -> Decision | None:
    r = st.one(db, "SELECT payload FROM disclosure_decisions WHERE request_id = ?", [request_id])
    return decode("decision", r["payload"].encode("utf-8")) if r else None


def items_meta(items) -> list[dict]:
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


# --- queries ----------------------------------------------------------------


def _row(db, r: dict) -> RequestRow:
    rel = st.one(
        db, "SELECT release_id FROM disclosure_releases_sent WHERE request_id = ?", [r["request_id"]]
    ) or st.one(db, "SELECT release_id FROM disclosure_releases_received WHERE request_id = ?", [r["request_id"]])
    return RequestRow(
        request=decode("request", r["payload"].encode("utf-8")),
        direction=r["direction"],
        status=r["status"],
        status_reason=r["status_reason"],
        record_id=r["record_id"],
        decision=decision_of(db, r["request_id"]),
        release_id=rel["release_id"] if rel else None,
        updated_at=st.parse_ts(r["updated_at"]),
    )


def get_request(db: sqlite_utils.Database, request_id: str) -> RequestRow:
    return _row(db, load_row(db, request_id))


def list_requests(
    db: sqlite_utils.Database, *, direction: str | None = None, status: str | None = None, record_id: str | None = None
) -> list[RequestRow]:
    clauses, params = [], []
    for col, val in (("direction", direction), ("status", status), ("record_id", record_id)):
        if val is not None:
            clauses.append(f"{col} = ?")
            params.append(val)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return [
        _row(db, r)
        for r in st.rows(db, f"SELECT * FROM disclosure_requests{where} ORDER BY created_at, request_id", params)
    ]
