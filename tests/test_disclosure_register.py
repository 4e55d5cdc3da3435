"""Breach register (72-hour clock) and complaints register."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlite_utils

from fedalert import audit as audit_mod
from fedalert.audit import AuditLog
from fedalert.node.disclosure import registers as R
from fedalert.node.disclosure.errors import NotFound, RegisterError
from fedalert.node.schema import migrate_disclosure

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)


@pytest.fixture
def env(tmp_path):
    db = sqlite_utils.Database(tmp_path / "n.db")
    migrate_disclosure(db)
    return db, AuditLog(tmp_path / "audit.jsonl"), tmp_path / "audit.jsonl"


def test_breach_clock_runs_72_hours_from_awareness(env):
    db, audit, _ = env
    b = R.record_breach(
        db,
        audit,
        aware_at=T0,
        reported_by="coord-a1",
        summary="Release viewed by an unauthorised officer (invented scenario)",
        now=T0 + 2 * H,
    )
    assert b.deadline == T0 + 72 * H and b.status == "open"
    c = R.breach_clock(b, T0 + 10 * H)
    assert not c.overdue and c.remaining == 62 * H and "62h 00m left" in c.text
    c = R.breach_clock(b, T0 + 72 * H)
    assert not c.overdue and c.remaining == dt.timedelta(0)
    c = R.breach_clock(b, T0 + 73 * H + dt.timedelta(minutes=5))
    assert c.overdue and "OVERDUE by 1h 05m" in c.text


def test_late_notification_needs_a_delay_reason_and_closing_needs_an_outcome(env):
    db, audit, path = env
    b = R.record_breach(db, audit, aware_at=T0, reported_by="coord-a1", summary="Misdirected email (invented)", now=T0)
    with pytest.raises(RegisterError, match="record the ICO notification or a decision"):
        R.close_breach(db, audit, b.breach_id, by="dpo-a", now=T0 + H)
    with pytest.raises(RegisterError, match="reasons for the delay"):
        R.notify_ico(db, audit, b.breach_id, at=T0 + 80 * H)
    b = R.notify_ico(
        db, audit, b.breach_id, at=T0 + 80 * H, delay_reason="Scale of the incident was unclear until day 3"
    )
    c = R.breach_clock(b, T0 + 100 * H)
    assert c.stopped and c.overdue and "after the 72-hour deadline" in c.text
    b = R.notify_partners(db, audit, b.breach_id, partners=["area-b", "area-c"], now=T0 + 81 * H)
    b = R.record_victim_notice(
        db,
        audit,
        b.breach_id,
        safe_to_notify=False,
        note="Contact would alert the perpetrator; IDAA advised",
        now=T0 + 82 * H,
    )
    assert b.partners_notified == ("area-b", "area-c") and b.victim_notice.startswith("not safe")
    b = R.close_breach(db, audit, b.breach_id, by="dpo-a", now=T0 + 90 * H)
    assert b.status == "closed"
    with pytest.raises(RegisterError, match="closed"):
        R.notify_partners(db, audit, b.breach_id, partners=["area-d"], now=T0 + 91 * H)
    rep = audit_mod.verify(path)
    assert rep.ok
    assert "Misdirected" not in path.read_text()  # summaries stay in the database
    events = [e["event"] for e in audit_mod.read_entries(path)][1:]
    assert events == [
        "breach.recorded",
        "breach.ico_notified",
        "breach.partners_notified",
        "breach.victim_notice",
        "breach.closed",
    ]


def test_on_time_notification_and_decision_not_to_report(env):
    db, audit, _ = env
    b = R.record_breach(
        db, audit, aware_at=T0, reported_by="coord-a1", summary="Lost unencrypted note (invented)", now=T0
    )
    b = R.notify_ico(db, audit, b.breach_id, at=T0 + 30 * H)
    assert not R.breach_clock(b, T0 + 200 * H).overdue
    b2 = R.record_breach(
        db, audit, aware_at=T0, reported_by="coord-a1", summary="Email to wrong partner inbox (invented)", now=T0
    )
    with pytest.raises(RegisterError, match="why the breach is not reported"):
        R.decide_not_to_report(db, audit, b2.breach_id, reason="minor", by="dpo-a", now=T0 + H)
    b2 = R.decide_not_to_report(
        db,
        audit,
        b2.breach_id,
        reason="Recipient is a signed-up partner and deleted it within the hour",
        by="dpo-a",
        now=T0 + H,
    )
    assert R.breach_clock(b2, T0 + 100 * H).stopped and not R.breach_clock(b2, T0 + 100 * H).overdue
    assert R.close_breach(db, audit, b2.breach_id, by="dpo-a", now=T0 + 2 * H).status == "closed"
    assert [x.breach_id for x in R.list_breaches(db, open_only=True)] == [b.breach_id]


def test_breach_input_checks(env):
    db, audit, _ = env
    with pytest.raises(RegisterError, match="future"):
        R.record_breach(db, audit, aware_at=T0 + H, reported_by="x", summary="something happened here", now=T0)
    with pytest.raises(RegisterError, match="timezone"):
        R.record_breach(
            db, audit, aware_at=T0.replace(tzinfo=None), reported_by="x", summary="something happened", now=T0
        )
    with pytest.raises(NotFound):
        R.get_breach(db, "breach-nope")


def test_complaints_acknowledge_within_30_days_and_close_after_ico_notice(env):
    db, audit, _ = env
    c = R.record_complaint(
        db,
        audit,
        received_at=T0,
        channel="electronic_form",
        summary="Complainant says data was shared without reason (invented)",
    )
    assert c.acknowledge_by == T0 + dt.timedelta(days=30)
    assert not c.ack_overdue(T0 + dt.timedelta(days=30)) and c.ack_overdue(T0 + dt.timedelta(days=31))
    with pytest.raises(RegisterError, match="acknowledge it first"):
        R.close_complaint(db, audit, c.complaint_id, outcome="upheld in part", told_about_ico=True, now=T0)
    c = R.acknowledge_complaint(db, audit, c.complaint_id, at=T0 + dt.timedelta(days=3))
    with pytest.raises(RegisterError, match="right to complain to the ICO"):
        R.close_complaint(
            db, audit, c.complaint_id, outcome="Not upheld; sharing was lawful", told_about_ico=False, now=T0
        )
    c = R.close_complaint(
        db,
        audit,
        c.complaint_id,
        outcome="Not upheld; sharing was lawful",
        told_about_ico=True,
        now=T0 + dt.timedelta(days=20),
    )
    assert c.closed_at is not None and c.told_about_ico
    with pytest.raises(RegisterError, match="channel"):
        R.record_complaint(db, audit, received_at=T0, channel="carrier_pigeon", summary="something long enough")
