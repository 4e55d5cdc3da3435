"""Breach and complaint registers.

A breach starts a 72-hour clock from the moment the controller became aware
of it (UK GDPR Art. 33). The clock is shown until the breach is closed; a
breach closes only with either an ICO notification time or a recorded
decision not to report, and a notification after the deadline needs the
reason for the delay. Partner controllers notified are recorded, and so is
the check that telling a victim is safe.

A complaint is acknowledged within 30 days and closed with an outcome, and
only once the complainant has been told of their right to complain to the
ICO (DPA 2018 s164A).

``summary`` texts stay in the node's database; audit entries carry ids only.
All times are passed in (``now``, ``aware_at``); nothing reads a clock.
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets
from dataclasses import dataclass

import sqlite_utils

from fedalert.audit import AuditLog
from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure.errors import NotFound, RegisterError
from fedalert.node.disclosure._sql import transaction

BREACH_CLOCK = _dt.timedelta(hours=72)
COMPLAINT_ACK = _dt.timedelta(days=30)
COMPLAINT_CHANNELS = ("electronic_form", "email", "letter", "phone", "in_person")


def _utc(t: _dt.datetime) -> _dt.datetime:
    if not isinstance(t, _dt.datetime) or t.tzinfo is None:
        raise RegisterError("times must be timezone-aware UTC datetimes")
    return t.astimezone(_dt.timezone.utc)


@dataclass(frozen=True)
class Breach:
    breach_id: str
    aware_at: _dt.datetime
    reported_by: str
    summary: str
    status: str
    ico_notified_at: _dt.datetime | None
    not_reporting_reason: str
    delay_reason: str
    partners_notified: tuple[str, ...]
    victim_notice: str
    closed_at: _dt.datetime | None

    @property
    def deadline(self) -> _dt.datetime:
        return self.aware_at + BREACH_CLOCK


@dataclass(frozen=True)
class BreachClock:
    deadline: _dt.datetime
    remaining: _dt.timedelta  # negative once overdue
    overdue: bool
    stopped: bool  # ICO notified or decided not to report
    text: str


def breach_clock(b: Breach, now: _dt.datetime) -> BreachClock:
    """The 72-hour clock of a breach at *now*, in plain words."""
    now = _utc(now)
    stopped = b.ico_notified_at is not None or bool(b.not_reporting_reason)
    if b.ico_notified_at is not None:
        late = b.ico_notified_at > b.deadline
        text = f"ICO notified {b.ico_notified_at:%Y-%m-%d %H:%M} UTC" + (
            " (after the 72-hour deadline)" if late else ""
        )
        return BreachClock(b.deadline, b.deadline - b.ico_notified_at, late, True, text)
    if b.not_reporting_reason:
        return BreachClock(
            b.deadline, b.deadline - now, False, True, "decided not to report to the ICO (reason recorded)"
        )
    remaining = b.deadline - now
    if remaining.total_seconds() < 0:
        over = -remaining
        h = int(over.total_seconds() // 3600)
        m = int(over.total_seconds() % 3600 // 60)
        return BreachClock(
            b.deadline,
            remaining,
            True,
            stopped,
            f"OVERDUE by {h}h {m:02d}m: notify the ICO now and record why it is late",
        )
    h = int(remaining.total_seconds() // 3600)
    m = int(remaining.total_seconds() % 3600 // 60)
    return BreachClock(
        b.deadline,
        remaining,
        False,
        stopped,
        f"{h}h {m:02d}m left to notify the ICO (deadline {b.deadline:%Y-%m-%d %H:%M} UTC)",
    )


def _breach(r: dict) -> Breach:
    return Breach(
        breach_id=r["breach_id"],
        aware_at=st.parse_ts(r["aware_at"]),
        reported_by=r["reported_by"],
        summary=r["summary"],
        status=r["status"],
        ico_notified_at=st.parse_ts(r["ico_notified_at"]),
        not_reporting_reason=r["not_reporting_reason"],
        delay_reason=r["delay_reason"],
        partners_notified=tuple(json.loads(r["partners_notified"])),
        victim_notice=r["victim_notice"],
        closed_at=st.parse_ts(r["closed_at"]),
    )


def get_breach(db: sqlite_utils.Database, breach_id: str) -> Breach:
    r = st.one(db, "SELECT * FROM disclosure_breaches WHERE breach_id = ?", [breach_id])
    if r is None:
        raise NotFound(f"no breach {breach_id!r} in the register")
    return _breach(r)


def list_breaches(db: sqlite_utils.Database, *, open_only: bool = False) -> list[Breach]:
    sql = "SELECT * FROM disclosure_breaches" + (" WHERE status = 'open'" if open_only else "") + " ORDER BY aware_at"
    return [_breach(r) for r in st.rows(db, sql)]


def record_breach(
    db: sqlite_utils.Database,
    audit: AuditLog,
    *,
    aware_at: _dt.datetime,
    reported_by: str,
    summary: str,
    now: _dt.datetime,
) -> Breach:
    """Open a breach; the 72-hour clock runs from *aware_at*."""
    aware_at, now = _utc(aware_at), _utc(now)
    if aware_at > now:
        raise RegisterError("aware_at cannot be in the future")
    if len(summary.strip()) < 10:
        raise RegisterError("describe the breach (what happened, which data categories), at least 10 characters")
    bid = f"breach-{secrets.token_hex(6)}"
    with transaction(db):
        st.execute(
            db,
            "INSERT INTO disclosure_breaches (breach_id, aware_at, reported_by, summary, status) VALUES (?,?,?,?, 'open')",
            [bid, st.ts(aware_at), reported_by, summary.strip()],
        )
        audit.append(
            "breach.recorded",
            breach_id=bid,
            aware_at=st.ts(aware_at),
            reported_by=reported_by,
            deadline=st.ts(aware_at + BREACH_CLOCK),
        )
    return get_breach(db, bid)


def _open(db, breach_id: str) -> Breach:
    b = get_breach(db, breach_id)
    if b.status != "open":
        raise RegisterError(f"breach {breach_id} is closed")
    return b


def notify_ico(
    db: sqlite_utils.Database, audit: AuditLog, breach_id: str, *, at: _dt.datetime, delay_reason: str = ""
) -> Breach:
    """Record the ICO notification. After the 72-hour deadline a delay reason is required."""
    at = _utc(at)
    b = _open(db, breach_id)
    if b.ico_notified_at is not None:
        raise RegisterError(f"breach {breach_id}: the ICO notification is already recorded")
    if at < b.aware_at:
        raise RegisterError("the ICO cannot be notified before the breach was known")
    if at > b.deadline and len(delay_reason.strip()) < 10:
        raise RegisterError(
            f"breach {breach_id}: notified after the 72-hour deadline ({b.deadline:%Y-%m-%d %H:%M} UTC); "
            "record the reasons for the delay (delay_reason)"
        )
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_breaches SET ico_notified_at = ?, delay_reason = ? WHERE breach_id = ?",
            [st.ts(at), delay_reason.strip(), breach_id],
        )
        audit.append("breach.ico_notified", breach_id=breach_id, at=st.ts(at), late=at > b.deadline)
    return get_breach(db, breach_id)


def decide_not_to_report(
    db: sqlite_utils.Database, audit: AuditLog, breach_id: str, *, reason: str, by: str, now: _dt.datetime
) -> Breach:
    """Record a decision not to report (e.g. unlikely to result in a risk), with its reason."""
    b = _open(db, breach_id)
    if b.ico_notified_at is not None:
        raise RegisterError(f"breach {breach_id} was already reported to the ICO")
    if len(reason.strip()) < 20:
        raise RegisterError("record why the breach is not reported (at least 20 characters)")
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_breaches SET not_reporting_reason = ? WHERE breach_id = ?",
            [reason.strip(), breach_id],
        )
        audit.append("breach.not_reported", breach_id=breach_id, by=by, at=st.ts(_utc(now)))
    return get_breach(db, breach_id)


def notify_partners(
    db: sqlite_utils.Database, audit: AuditLog, breach_id: str, *, partners: list[str], now: _dt.datetime
) -> Breach:
    b = _open(db, breach_id)
    merged = sorted(set(b.partners_notified) | set(partners))
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_breaches SET partners_notified = ? WHERE breach_id = ?",
            [json.dumps(merged), breach_id],
        )
        audit.append("breach.partners_notified", breach_id=breach_id, partners=sorted(partners), at=st.ts(_utc(now)))
    return get_breach(db, breach_id)


def record_victim_notice(
    db: sqlite_utils.Database, audit: AuditLog, breach_id: str, *, safe_to_notify: bool, note: str, now: _dt.datetime
) -> Breach:
    """Record the check whether telling the victim is safe, and what was done."""
    _open(db, breach_id)
    if len(note.strip()) < 10:
        raise RegisterError("record what was checked and decided about telling the victim")
    text = ("safe to notify: " if safe_to_notify else "not safe to notify: ") + note.strip()
    with transaction(db):
        st.execute(db, "UPDATE disclosure_breaches SET victim_notice = ? WHERE breach_id = ?", [text, breach_id])
        audit.append("breach.victim_notice", breach_id=breach_id, safe_to_notify=safe_to_notify, at=st.ts(_utc(now)))
    return get_breach(db, breach_id)


def close_breach(db: sqlite_utils.Database, audit: AuditLog, breach_id: str, *, by: str, now: _dt.datetime) -> Breach:
    now = _utc(now)
    b = _open(db, breach_id)
    if b.ico_notified_at is None and not b.not_reporting_reason:
        raise RegisterError(
            f"breach {breach_id}: record the ICO notification or a decision not to report before closing"
        )
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_breaches SET status = 'closed', closed_at = ?, closed_by = ? WHERE breach_id = ?",
            [st.ts(now), by, breach_id],
        )
        audit.append("breach.closed", breach_id=breach_id, by=by, at=st.ts(now))
    return get_breach(db, breach_id)


# --- complaints -------------------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    complaint_id: str
    received_at: _dt.datetime
    channel: str
    summary: str
    acknowledged_at: _dt.datetime | None
    outcome: str
    told_about_ico: bool
    closed_at: _dt.datetime | None

    @property
    def acknowledge_by(self) -> _dt.datetime:
        return self.received_at + COMPLAINT_ACK

    def ack_overdue(self, now: _dt.datetime) -> bool:
        return self.acknowledged_at is None and _utc(now) > self.acknowledge_by


def _complaint(r: dict) -> Complaint:
    return Complaint(
        r["complaint_id"],
        st.parse_ts(r["received_at"]),
        r["channel"],
        r["summary"],
        st.parse_ts(r["acknowledged_at"]),
        r["outcome"],
        bool(r["told_about_ico"]),
        st.parse_ts(r["closed_at"]),
    )


def get_complaint(db: sqlite_utils.Database, complaint_id: str) -> Complaint:
    r = st.one(db, "SELECT * FROM disclosure_complaints WHERE complaint_id = ?", [complaint_id])
    if r is None:
        raise NotFound(f"no complaint {complaint_id!r} in the register")
    return _complaint(r)


def list_complaints(db: sqlite_utils.Database) -> list[Complaint]:
    return [_complaint(r) for r in st.rows(db, "SELECT * FROM disclosure_complaints ORDER BY received_at")]


def record_complaint(
    db: sqlite_utils.Database, audit: AuditLog, *, received_at: _dt.datetime, channel: str, summary: str
) -> Complaint:
    received_at = _utc(received_at)
    if channel not in COMPLAINT_CHANNELS:
        raise RegisterError(f"channel {channel!r} is not one of {', '.join(COMPLAINT_CHANNELS)}")
    if len(summary.strip()) < 10:
        raise RegisterError("summarise the complaint (at least 10 characters)")
    cid = f"complaint-{secrets.token_hex(6)}"
    with transaction(db):
        st.execute(
            db,
            "INSERT INTO disclosure_complaints (complaint_id, received_at, channel, summary) VALUES (?,?,?,?)",
            [cid, st.ts(received_at), channel, summary.strip()],
        )
        audit.append("complaint.recorded", complaint_id=cid, channel=channel, received_at=st.ts(received_at))
    return get_complaint(db, cid)


def acknowledge_complaint(
    db: sqlite_utils.Database, audit: AuditLog, complaint_id: str, *, at: _dt.datetime
) -> Complaint:
    at = _utc(at)
    c = get_complaint(db, complaint_id)
    if c.acknowledged_at is not None:
        raise RegisterError(f"complaint {complaint_id} is already acknowledged")
    with transaction(db):
        st.execute(
            db, "UPDATE disclosure_complaints SET acknowledged_at = ? WHERE complaint_id = ?", [st.ts(at), complaint_id]
        )
        audit.append("complaint.acknowledged", complaint_id=complaint_id, late=at > c.acknowledge_by)
    return get_complaint(db, complaint_id)


def close_complaint(
    db: sqlite_utils.Database,
    audit: AuditLog,
    complaint_id: str,
    *,
    outcome: str,
    told_about_ico: bool,
    now: _dt.datetime,
) -> Complaint:
    now = _utc(now)
    c = get_complaint(db, complaint_id)
    if c.closed_at is not None:
        raise RegisterError(f"complaint {complaint_id} is already closed")
    if c.acknowledged_at is None:
        raise RegisterError(f"complaint {complaint_id} was never acknowledged; acknowledge it first")
    if not told_about_ico:
        raise RegisterError("tell the complainant of their right to complain to the ICO before closing")
    if len(outcome.strip()) < 10:
        raise RegisterError("record the outcome (at least 10 characters)")
    with transaction(db):
        st.execute(
            db,
            "UPDATE disclosure_complaints SET outcome = ?, told_about_ico = 1, closed_at = ? WHERE complaint_id = ?",
            [outcome.strip(), st.ts(now), complaint_id],
        )
        audit.append("complaint.closed", complaint_id=complaint_id)
    return get_complaint(db, complaint_id)
