"""Shared parts of the disclosure workflow: ids, envelopes, case fields, request rows.

Private to fedalert.node; the public surface is fedalert.node.disclosure.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from dataclasses import dataclass

import sqlite_utils

from fedalert.node import _disclosure_store as st
from fedalert.node._disclosure_errors import (
    DisclosureError,
    NotFound,
    PayloadError,
    PolicyError,
    ReleaseRejected,
    StatusError,
)
from fedalert.node._disclosure_law import SUBJECTS
from fedalert.node._disclosure_model import (
    CaseField,
    Consent,
    Decision,
    Request,
    StatutoryException,
    check_transition,
    decode,
)
from fedalert.node._disclosure_store import transaction
from fedalert.node.protocol import Protocol


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _utc(now: _dt.datetime) -> _dt.datetime:
    if now.tzinfo is None:
        raise DisclosureError("pass 'now' as a timezone-aware UTC datetime")
    return now.astimezone(_dt.timezone.utc)


# --- envelopes --------------------------------------------------------------


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
        raise DisclosureError(
            f"consent {spec!r}: write SUBJECT:STATUS[:REASON], e.g. victim:not_sought:would increase risk"
        )
    subject, status = parts[0].strip(), parts[1].strip()
    rest = parts[2].strip() if len(parts) == 3 else ""
    if status == "given" and rest.startswith("explicit="):
        items = tuple(x.strip() for x in rest[len("explicit=") :].split(",") if x.strip())
        return Consent(subject, status, "", items)
    return Consent(subject, status, rest)


def parse_exception(spec: str) -> StatutoryException:
    """Parse ``FIELD:PROVISION:NOTE``, e.g. ``gender_history:ssi_2005_125:needed to prevent a crime``."""
    parts = spec.split(":", 2)
    if len(parts) != 3:
        raise DisclosureError(
            f"exception {spec!r}: write FIELD:PROVISION:NOTE, e.g. gender_history:gra2004_s22_4_crime:why"
        )
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


def replace_case_fields(db: sqlite_utils.Database, protocol: Protocol, record_id: str, items) -> None:
    """Replace every case value of a record (an import of a full export). Joins the caller's transaction."""
    with transaction(db):
        st.execute(db, "DELETE FROM disclosure_case_fields WHERE record_id = ?", [record_id])
        for cf in items:
            add_case_field(db, protocol, record_id, cf)


def case_fields(db: sqlite_utils.Database, record_id: str) -> list[CaseField]:
    return [
        CaseField(r["field"], r["value"], r["subject"], r["source_partner"], _dt.date.fromisoformat(r["recorded_on"]))
        for r in st.rows(db, "SELECT * FROM disclosure_case_fields WHERE record_id = ? ORDER BY id", [record_id])
    ]


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


def _decision(db, request_id: str) -> Decision | None:
    r = st.one(db, "SELECT payload FROM disclosure_decisions WHERE request_id = ?", [request_id])
    return decode("decision", r["payload"].encode("utf-8")) if r else None


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
    return [
        _row(db, r)
        for r in st.rows(db, f"SELECT * FROM disclosure_requests{where} ORDER BY created_at, request_id", params)
    ]
