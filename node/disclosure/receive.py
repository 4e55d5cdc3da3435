"""Receiving side of a disclosure: accept a sealed release, read it, delete it at retention end."""

from __future__ import annotations

import datetime as _dt

import sqlite_utils

from fedalert.audit import AuditLog
from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure.envelopes import open_payload
from fedalert.node.disclosure.requests import items_meta, load_row, set_status, utc
from fedalert.node.disclosure.errors import DisclosureError, NotFound, PayloadError, ReleaseRejected
from fedalert.node.disclosure.law import GENDER_HISTORY
from fedalert.node.disclosure.model import Release, decode
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.policy import ACTOR_ID_RE

# --- receiving a release ----------------------------------------------------


def accept_release(
    db: sqlite_utils.Database,
    audit: AuditLog,
    sealed: bytes,
    *,
    match_id: str,
    sender_area: str,
    my_area: str,
    my_key,
    sender_key,
    now: _dt.datetime,
) -> Release:
    """Open, verify and store a release envelope (kept sealed at rest).

    *match_id* and *sender_area* are the relay envelope's (the sender set by
    the matcher from the mTLS certificate).

    Refuses with :class:`ReleaseRejected`: ``tampered`` (seal fails or payload
    malformed), ``misaddressed`` (not for this area, not from the area asked,
    not for a request of ours), ``replayed`` (already received), or
    ``unexpected`` (fields not requested, gender history without a recorded
    basis, no decision yet). Every refusal is audited.
    """
    now = utc(now)
    try:
        payload = open_payload(
            sealed,
            "release",
            match_id=match_id,
            sender_area=sender_area,
            my_area=my_area,
            my_key=my_key,
            sender_key=sender_key,
        )
        rel = decode("release", payload)
        if rel.match_id != match_id:
            raise ReleaseRejected(
                "misaddressed", f"release {rel.release_id} names match {rel.match_id}, not {match_id}"
            )
        _check_received(db, rel, sender_area=sender_area, my_area=my_area)
    except (ReleaseRejected, PayloadError) as exc:
        reason = exc.reason if isinstance(exc, ReleaseRejected) else "tampered"
        audit.append("disclosure.release_rejected", sender_area=sender_area, reason=reason)
        if isinstance(exc, PayloadError):
            raise ReleaseRejected("tampered", f"release from area {sender_area} refused: {exc}") from None
        raise
    row = load_row(db, rel.request_id)
    with transaction(db):
        set_status(db, row, "released", "", now)
        st.execute(
            db,
            "INSERT INTO disclosure_releases_received (release_id, request_id, from_area, received_at, released_at, "
            "retention_until, items, withheld, sealed) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                rel.release_id,
                rel.request_id,
                sender_area,
                st.ts(now),
                st.ts(rel.released_at),
                rel.retention_until.isoformat(),
                st.dumps(items_meta(rel.items)),
                st.dumps([w.__dict__ for w in rel.withheld]),
                bytes(sealed),
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
        raise ReleaseRejected(
            "misaddressed", f"release {rel.release_id} is addressed to area {rel.to_area}, not {my_area}"
        )
    if rel.from_area != sender_area:
        raise ReleaseRejected(
            "misaddressed",
            f"release {rel.release_id} claims to be from area {rel.from_area} but area {sender_area} sent it",
        )
    if st.one(db, "SELECT 1 FROM disclosure_releases_received WHERE release_id = ?", [rel.release_id]):
        raise ReleaseRejected("replayed", f"release {rel.release_id} was already received; the copy is ignored")
    row = st.one(db, "SELECT * FROM disclosure_requests WHERE request_id = ?", [rel.request_id])
    if row is None or row["direction"] != "outgoing":
        raise ReleaseRejected("misaddressed", f"release {rel.release_id} answers no request made by this area")
    if row["holding_area"] != sender_area or row["match_id"] != rel.match_id:
        raise ReleaseRejected(
            "misaddressed", f"release {rel.release_id} does not come from the area asked in request {rel.request_id}"
        )
    if row["status"] in ("released", "expired"):
        raise ReleaseRejected("replayed", f"request {rel.request_id} already has a release; the new one is ignored")
    if row["status"] not in ("approved", "partially_approved"):
        raise ReleaseRejected(
            "unexpected",
            f"request {rel.request_id} is {row['status']}; a release needs an approval first (deliver the decision)",
        )
    req = decode("request", row["payload"].encode("utf-8"))
    for item in rel.items:
        if item.field not in req.fields:
            raise ReleaseRejected(
                "unexpected", f"release {rel.release_id} carries field {item.field!r}, which was not requested"
            )
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
    now = utc(now)
    if not ACTOR_ID_RE.match(viewer or ""):
        raise DisclosureError("viewer must be the coordinator's id")
    r = st.one(
        db,
        "SELECT v.*, q.match_id FROM disclosure_releases_received v "
        "JOIN disclosure_requests q ON q.request_id = v.request_id WHERE v.release_id = ?",
        [release_id],
    )
    if r is None:
        raise NotFound(f"no received release {release_id!r}")
    if r["sealed"] is None:
        raise NotFound(f"release {release_id} was deleted on {r['deleted_at']} at the end of its retention period")
    payload = open_payload(
        r["sealed"],
        "release",
        match_id=r["match_id"],
        sender_area=r["from_area"],
        my_area=my_area,
        my_key=my_key,
        sender_key=sender_key,
    )
    rel = decode("release", payload)
    audit.append(
        "disclosure.release_viewed", release_id=release_id, request_id=rel.request_id, viewer=viewer, at=st.ts(now)
    )
    return rel


# --- retention, emergency completion, withdrawal ------------------------------


def expire_releases(db: sqlite_utils.Database, audit: AuditLog, *, now: _dt.datetime) -> list[str]:
    """Delete received releases whose retention has ended (not under legal hold). Returns release ids."""
    now = utc(now)
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
            row = load_row(db, r["request_id"])
            if row["status"] == "released":
                set_status(db, row, "expired", "retention period ended; the release was deleted", now)
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
        audit.append("disclosure.legal_hold", release_id=release_id, hold=hold, by=by, at=st.ts(utc(now)))
