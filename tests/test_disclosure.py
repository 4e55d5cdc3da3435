"""Disclosure workflow end to end on real SQLite files, real audit logs and real sealing.

area-b asks, area-a holds the matched record. Sealing uses fedalert.keys
(seal / open_sealed); tests that need it skip only if that package is absent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest
import sqlite_utils

from fedalert import audit as audit_mod
from fedalert.audit import AuditLog
from fedalert.node.disclosure import errors as E
from fedalert.node.disclosure import casefields, envelopes, lifecycle, model, receive, requests, statement, workflow
from fedalert.node import schema
from fedalert.node.disclosure.model import CaseField, Consent, MatchInfo, StatutoryException, encode
from fedalert.node.disclosure.policy import GENDER_WITHHELD_REASON

from test_disclosure_support import NOW, OVERLAY_B, protocol_a, protocol_b

MATCH_ID = "m-1"
MATCH = MatchInfo(MATCH_ID, "area-a", "h-a1", "area-b", "h-b1")
RATIONALE = "Victim moved to area B; current risk and conditions are needed to plan safety at Thursday's MARAC."
VALUES = {
    "risk_level": ("high", "victim", "area-a-police", dt.date(2026, 10, 1)),
    "current_risk_summary": (
        "INVENTED-SUMMARY threats after separation",
        "victim",
        "area-a-council",
        dt.date(2026, 10, 2),
    ),
    "conditions": (
        "INVENTED-CONDITION not to enter Southmere Road",
        "perpetrator",
        "area-a-police",
        dt.date(2026, 9, 30),
    ),
    "health": ("INVENTED-HEALTH note", "perpetrator", "area-a-health", dt.date(2026, 3, 1)),
    "contact_details": ("INVENTED-CONTACT safe number via refuge", "victim", "area-a-refuge", dt.date(2026, 10, 3)),
    "marac_contact": ("INVENTED-MARAC coordinator desk", "case", "area-a-council", dt.date(2026, 5, 5)),
}
GENDER = ("INVENTED-GENDER history value", "perpetrator", "area-a-police", dt.date(2026, 8, 1))
NOT_SOUGHT = (
    Consent("victim", "not_sought", "seeking consent would increase risk to the victim"),
    Consent("perpetrator", "not_sought", "would prejudice safety and crime prevention"),
)


class Node:
    def __init__(self, tmp_path, area, protocol):
        self.area = area
        self.protocol = protocol
        # as the node store opens it: autocommit mode, WAL, explicit transactions
        conn = sqlite3.connect(tmp_path / f"{area}.db", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        self.db = sqlite_utils.Database(conn)
        schema.migrate_disclosure(self.db)
        self.audit = AuditLog(tmp_path / f"{area}-audit.jsonl")
        self.audit_path = tmp_path / f"{area}-audit.jsonl"


@pytest.fixture
def nodes(tmp_path):
    a = Node(tmp_path, "area-a", protocol_a())
    b = Node(tmp_path, "area-b", protocol_b(tmp_path))
    for name, (value, subject, src, on) in VALUES.items():
        casefields.add_case_field(a.db, a.protocol, "rec-a1", CaseField(name, value, subject, src, on))
    casefields.add_case_field(a.db, a.protocol, "rec-a1", CaseField("gender_history", *GENDER))
    return a, b


@pytest.fixture
def sealkit():
    keys = pytest.importorskip("fedalert.keys")
    if not hasattr(keys, "seal"):
        pytest.skip("fedalert.keys has no seal yet")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    return {
        area: {"seal": X25519PrivateKey.generate(), "sign": Ed25519PrivateKey.generate()}
        for area in ("area-a", "area-b", "area-c")
    }


def ask(a, b, fields, *, now=NOW, record_b="rec-b1", record_a="rec-a1", **kw):
    """area-b requests from area-a; area-a receives. Returns the request."""
    opts = dict(
        requesting_partner="area-b-council",
        requester="coord-b1",
        purpose="marac",
        lawful_basis="uk_gdpr_6_1_e",
        rationale=RATIONALE,
        channel="meeting",
        statutory_power="Invented Safeguarding Act 2020 s1",
    )
    opts.update(kw)
    req = workflow.new_request(b.protocol, MATCH, my_area="area-b", fields=fields, now=now, **opts)
    payload = workflow.submit_request(b.db, b.audit, b.protocol, MATCH, req, record_id=record_b, now=now)
    got = workflow.receive_request(
        a.db,
        a.audit,
        a.protocol,
        payload,
        sender_area="area-b",
        my_area="area-a",
        match=MATCH,
        record_id=record_a,
        now=now,
    )
    assert got == req
    return req


def seal_release(kit, payload, *, sender="area-a", recipient="area-b", context_recipient=None, match_id=MATCH_ID):
    return envelopes.seal_payload(
        payload,
        "release",
        match_id=match_id,
        sender_area=sender,
        recipient_area=context_recipient or recipient,
        recipient_key=kit[recipient]["seal"].public_key(),
        signer=kit[sender]["sign"],
    )


def accept(b, kit, sealed, *, sender="area-a", now=NOW, match_id=MATCH_ID):
    return receive.accept_release(
        b.db,
        b.audit,
        sealed,
        match_id=match_id,
        sender_area=sender,
        my_area="area-b",
        my_key=kit["area-b"]["seal"],
        sender_key=kit[sender]["sign"].public_key(),
        now=now,
    )


def audit_text(node) -> str:
    return node.audit_path.read_text(encoding="utf-8")


def test_end_to_end_partial_release(nodes, sealkit):
    a, b = nodes
    req = ask(
        a,
        b,
        ["risk_level", "current_risk_summary", "conditions", "health", "gender_history"],
        art9_condition="uk_gdpr_9_2_g_sch1_para18",
    )
    decision, dpayload = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert decision.status == "partially_approved"
    withheld = {w.field: w.reason_code for w in decision.withheld}
    assert withheld == {"health": "not_available", "gender_history": "gender_history_protected"}
    got = workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-a", now=NOW)
    assert got == decision and requests.get_request(b.db, req.request_id).status == "partially_approved"

    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    assert [(i.field, i.source_partner, i.recorded_on) for i in rel.items] == [
        ("risk_level", "area-a-police", dt.date(2026, 10, 1)),
        ("current_risk_summary", "area-a-council", dt.date(2026, 10, 2)),
        ("conditions", "area-a-police", dt.date(2026, 9, 30)),
    ]
    assert {i.consent_status for i in rel.items} == {"not_sought"}
    assert rel.retention_until == NOW.date() + dt.timedelta(days=1095)  # the holder's local retention
    assert not rel.emergency and rel.record_complete
    assert requests.get_request(a.db, req.request_id).status == "released"

    sealed = seal_release(sealkit, payload)
    received = accept(b, sealkit, sealed)
    assert received == rel
    assert requests.get_request(b.db, req.request_id).status == "released"
    # kept sealed at rest: no value in the database file in clear
    raw = b.db.conn.execute("SELECT sealed, items FROM disclosure_releases_received").fetchone()
    assert b"INVENTED" not in raw[0] and "INVENTED" not in raw[1]
    shown = receive.read_received_release(
        b.db,
        b.audit,
        rel.release_id,
        viewer="coord-b1",
        my_area="area-b",
        my_key=sealkit["area-b"]["seal"],
        sender_key=sealkit["area-a"]["sign"].public_key(),
        now=NOW,
    )
    text = statement.render_release(shown)
    assert "INVENTED-SUMMARY" in text and "Northvale Constabulary" in text
    assert "gender history" in text.lower() and GENDER_WITHHELD_REASON in text
    assert "INVENTED-HEALTH" not in text and "INVENTED-GENDER" not in text

    for node in (a, b):
        rep = audit_mod.verify(node.audit_path)
        assert rep.ok, rep.problems
        assert "INVENTED" not in audit_text(node)  # ids and codes only
    events_a = [e["event"] for e in audit_mod.read_entries(a.audit_path)]
    assert events_a[1:] == ["disclosure.request_received", "disclosure.decision", "disclosure.released"]
    events_b = [e["event"] for e in audit_mod.read_entries(b.audit_path)]
    assert events_b[1:] == [
        "disclosure.request_sent",
        "disclosure.decision_received",
        "disclosure.release_received",
        "disclosure.release_viewed",
    ]
    assert audit_mod.read_entries(b.audit_path)[-1]["fields"]["viewer"] == "coord-b1"


def test_gender_history_withheld_answer_is_the_same_whether_held_or_not(nodes):
    a, b = nodes
    for rec in ("rec-a1", "rec-a-empty"):
        req = ask(a, b, ["risk_level", "gender_history"], art9_condition="uk_gdpr_9_2_c", record_a=rec)
        dec, _ = workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            req.request_id,
            outcome="approve_all",
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )
        w = [x for x in dec.withheld if x.field == "gender_history"]
        assert w == [dataclasses.replace(w[0], reason_code="gender_history_protected", reason=GENDER_WITHHELD_REASON)]


def test_gender_history_released_with_explicit_consent_or_exception(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level", "gender_history"], art9_condition="uk_gdpr_9_2_c")
    consents = (
        Consent("victim", "not_sought", "seeking consent would increase risk"),
        Consent("perpetrator", "given", explicit_items=("gender_history",)),
    )
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=consents,
        now=NOW,
    )
    rel, _ = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    g = [i for i in rel.items if i.field == "gender_history"]
    assert len(g) == 1 and g[0].consent_status == "given" and not g[0].exception

    req2 = ask(a, b, ["gender_history"], art9_condition="uk_gdpr_9_2_c")
    exc = (StatutoryException("gender_history", "ssi_2005_125", "needed to prevent a crime against the victim"),)
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req2.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        exceptions=exc,
        now=NOW,
    )
    rel2, _ = workflow.release(a.db, a.audit, a.protocol, req2.request_id, now=NOW)
    assert [(i.field, i.exception) for i in rel2.items] == [("gender_history", "ssi_2005_125")]
    assert "ssi_2005_125" in audit_text(a) and "INVENTED" not in audit_text(a)


def test_gender_history_consent_must_be_explicit(nodes):
    a, b = nodes
    req = ask(a, b, ["gender_history"], art9_condition="uk_gdpr_9_2_c")
    consents = (Consent("perpetrator", "given"),)  # consent, but not explicit to this item
    dec, _ = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=consents,
        now=NOW,
    )
    assert dec.status == "refused" and "Gender history" in dec.reason
    with pytest.raises(E.StatusError):
        workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)


def test_special_category_withholding_does_not_reveal_whether_a_value_exists(nodes):
    a, b = nodes
    answers = []
    for rec in ("rec-a1", "rec-a-empty"):  # rec-a1 holds health from a lapsed partner; the other holds nothing
        req = ask(a, b, ["risk_level", "health"], art9_condition="uk_gdpr_9_2_c", record_a=rec)
        dec, _ = workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            req.request_id,
            outcome="approve_all",
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )
        answers.append([w for w in dec.withheld if w.field == "health"])
    assert answers[0] == answers[1] and answers[0][0].reason_code == "not_available"


def test_special_category_under_explicit_consent_condition_needs_consent(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level", "health"], art9_condition="uk_gdpr_9_2_a")
    # make the health value come from a current partner so only consent decides
    casefields.add_case_field(
        a.db,
        a.protocol,
        "rec-a1",
        CaseField("health", "INVENTED-HEALTH-2", "victim", "area-a-council", dt.date(2026, 10, 9)),
    )
    dec, _ = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    codes = {(w.field, w.reason_code) for w in dec.withheld}
    assert ("health", "special_no_consent") in codes
    assert dec.status == "partially_approved"
    # with the victim's explicit consent, the victim's value goes; the perpetrator's does not
    req2 = ask(a, b, ["risk_level", "health"], art9_condition="uk_gdpr_9_2_a")
    consents = (Consent("victim", "given", explicit_items=("health",)), NOT_SOUGHT[1])
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req2.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=consents,
        now=NOW,
    )
    rel, _ = workflow.release(a.db, a.audit, a.protocol, req2.request_id, now=NOW)
    assert [(i.field, i.subject, i.value) for i in rel.items if i.field == "health"] == [
        ("health", "victim", "INVENTED-HEALTH-2")
    ]
    assert [w.reason_code for w in rel.withheld if w.field == "health"] == ["not_available"]


def test_consent_must_be_recorded_outside_an_emergency(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level", "conditions"])
    with pytest.raises(E.ConsentError, match="record consent for the victim"):
        workflow.decide(a.db, a.audit, a.protocol, req.request_id, outcome="approve_all", decided_by="coord-a1", now=NOW)
    with pytest.raises(E.ConsentError, match="why the information is shared without consent"):
        workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            req.request_id,
            outcome="approve_all",
            decided_by="coord-a1",
            consents=(Consent("victim", "not_sought", ""),),
            now=NOW,
        )
    assert requests.get_request(a.db, req.request_id).status == "requested"  # nothing half-written


def test_refuse_and_approve_some(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level", "conditions"])
    with pytest.raises(E.DecisionInvalid, match="reason"):
        workflow.decide(a.db, a.audit, a.protocol, req.request_id, outcome="refuse", decided_by="coord-a1", now=NOW)
    dec, payload = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="refuse",
        decided_by="coord-a1",
        reason="Not proportionate: the MARAC has already shared this in person.",
        now=NOW,
    )
    assert dec.status == "refused" and dec.approved_fields == ()
    workflow.receive_decision(b.db, b.audit, payload, sender_area="area-a", now=NOW)
    assert requests.get_request(b.db, req.request_id).status == "refused"
    with pytest.raises(E.StatusError, match="from refused"):
        workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    with pytest.raises(E.StatusError):
        workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            req.request_id,
            outcome="approve_all",
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )

    req2 = ask(a, b, ["risk_level", "conditions", "current_risk_summary"])
    with pytest.raises(E.DecisionInvalid, match="not requested"):
        workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            req2.request_id,
            outcome="approve_some",
            fields=["health"],
            reason="only the risk level is needed",
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )
    dec2, _ = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req2.request_id,
        outcome="approve_some",
        fields=["risk_level"],
        reason="only the risk level is needed now",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert dec2.status == "partially_approved" and dec2.approved_fields == ("risk_level",)
    rel, _ = workflow.release(a.db, a.audit, a.protocol, req2.request_id, now=NOW)
    assert [i.field for i in rel.items] == ["risk_level"]
    assert {w.field: w.reason_code for w in rel.withheld} == {
        "conditions": "not_approved",
        "current_risk_summary": "not_approved",
    }


def test_only_the_holding_area_decides(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level"])
    with pytest.raises(E.DecisionInvalid, match="only the holding area"):
        workflow.decide(
            b.db,
            b.audit,
            b.protocol,
            req.request_id,
            outcome="approve_all",
            decided_by="coord-b1",
            consents=NOT_SOUGHT,
            now=NOW,
        )


def test_partner_lapsing_after_approval_is_caught_at_release(nodes):
    a, b = nodes
    req = ask(a, b, ["conditions"])
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    # police signed 2026-05-02; by 2027-05-03 the sign-off has lapsed
    later = dt.datetime(2027, 5, 3, 9, 0, tzinfo=dt.timezone.utc)
    with pytest.raises(E.NothingToRelease, match="conditions: partner_not_current"):
        workflow.release(a.db, a.audit, a.protocol, req.request_id, now=later)
    assert requests.get_request(a.db, req.request_id).status == "approved"


def test_withdrawn_partner_fields_are_never_released(nodes, tmp_path):
    a, b = nodes
    text = protocol_a().sources[1]
    overlay = (
        open(text, encoding="utf-8")
        .read()
        .replace(
            'signed_on = 2026-05-10\nsigned_version = "2026.1"',
            'signed_on = 2026-05-10\nsigned_version = "2026.1"\nwithdrawn_on = 2026-11-01',
        )
    )
    p = tmp_path / "a-withdrawn.toml"
    p.write_text(overlay, encoding="utf-8")
    from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol

    a.protocol = load_protocol(bundled_national_path(), p)
    req = ask(a, b, ["risk_level", "contact_details"])
    dec, _ = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert {(w.field, w.reason_code) for w in dec.withheld} == {("contact_details", "partner_withdrawn")}
    rel, _ = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    assert [i.field for i in rel.items] == ["risk_level"]


def test_lapsed_lead_partner_blocks_release(nodes, tmp_path):
    a, b = nodes
    req = ask(a, b, ["risk_level"])
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    lead_lapsed = dataclasses.replace(
        a.protocol,
        partners={
            k: (
                dataclasses.replace(v, signoff=dataclasses.replace(v.signoff, signed_on=dt.date(2025, 5, 4)))
                if v.lead
                else v
            )
            for k, v in a.protocol.partners.items()
        },
    )
    with pytest.raises(E.SignOffLapsed, match="cannot request or release"):
        workflow.release(a.db, a.audit, lead_lapsed, req.request_id, now=NOW)


def _approved_release(a, b, fields=("risk_level",)):
    req = ask(a, b, list(fields))
    _, dpayload = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-a", now=NOW)
    return req


def test_tampered_release_is_refused_and_audited(nodes, sealkit):
    a, b = nodes
    req = _approved_release(a, b)
    _, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    sealed = bytearray(seal_release(sealkit, payload))
    sealed[60] ^= 0x01
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, bytes(sealed))
    assert exc.value.reason == "tampered"
    # signed by someone else (area-c's key) while claiming to be area-a
    forged = envelopes.seal_payload(
        payload,
        "release",
        match_id=MATCH_ID,
        sender_area="area-a",
        recipient_area="area-b",
        recipient_key=sealkit["area-b"]["seal"].public_key(),
        signer=sealkit["area-c"]["sign"],
    )
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, forged)
    assert exc.value.reason == "tampered"
    # a request envelope replayed as a release fails the kind binding
    as_request = envelopes.seal_payload(
        payload,
        "request",
        match_id=MATCH_ID,
        sender_area="area-a",
        recipient_area="area-b",
        recipient_key=sealkit["area-b"]["seal"].public_key(),
        signer=sealkit["area-a"]["sign"],
    )
    with pytest.raises(E.ReleaseRejected):
        accept(b, sealkit, as_request)
    assert requests.get_request(b.db, req.request_id).status == "approved"
    assert b.db.conn.execute("SELECT count(*) FROM disclosure_releases_received").fetchone()[0] == 0
    reasons = [
        e["fields"].get("reason")
        for e in audit_mod.read_entries(b.audit_path)
        if e["event"] == "disclosure.release_rejected"
    ]
    assert reasons == ["tampered", "tampered", "tampered"]


def test_replayed_release_is_refused(nodes, sealkit):
    a, b = nodes
    req = _approved_release(a, b)
    _, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    sealed = seal_release(sealkit, payload)
    accept(b, sealkit, sealed)
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, sealed)
    assert exc.value.reason == "replayed"
    resealed = seal_release(sealkit, payload)  # same payload, fresh envelope
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, resealed)
    assert exc.value.reason == "replayed"


def test_misaddressed_releases_are_refused(nodes, sealkit):
    a, b = nodes
    req = _approved_release(a, b)
    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    # sealed for area-c's context: area-b cannot open it
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, payload, context_recipient="area-c"))
    assert exc.value.reason == "tampered"
    # well sealed to area-b, but the payload is addressed to area-c
    wrong_to = encode(dataclasses.replace(rel, to_area="area-c"))
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, wrong_to))
    assert exc.value.reason == "misaddressed"
    # genuinely from area-c, but the request went to area-a
    from_c = encode(dataclasses.replace(rel, from_area="area-c"))
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, from_c, sender="area-c"), sender="area-c")
    assert exc.value.reason == "misaddressed"
    # the relay relabels the envelope with another match id: it no longer opens
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, payload), match_id="m-2")
    assert exc.value.reason == "tampered"
    # sealed under match m-2 but the payload answers match m-1
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, payload, match_id="m-2"), match_id="m-2")
    assert exc.value.reason == "misaddressed"
    # answers no request of ours
    stray = encode(dataclasses.replace(rel, request_id="req-unknown"))
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, stray))
    assert exc.value.reason == "misaddressed"
    # carries a field that was never requested: over-disclosure is refused
    extra = dataclasses.replace(rel.items[0], field="contact_details", label="Safe contact details")
    over = encode(dataclasses.replace(rel, items=rel.items + (extra,)))
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, over))
    assert exc.value.reason == "unexpected"
    assert accept(b, sealkit, seal_release(sealkit, payload)) == rel  # the genuine one still goes through


def test_release_before_decision_is_refused(nodes, sealkit):
    a, b = nodes
    req = ask(a, b, ["risk_level"])
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    _, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    with pytest.raises(E.ReleaseRejected) as exc:
        accept(b, sealkit, seal_release(sealkit, payload))
    assert exc.value.reason == "unexpected" and "deliver the decision" in str(exc.value)


def test_replayed_request_and_decision_are_refused(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level"])
    with pytest.raises(E.PayloadError, match="already on file"):
        workflow.receive_request(
            a.db,
            a.audit,
            a.protocol,
            encode(req),
            sender_area="area-b",
            my_area="area-a",
            match=MATCH,
            record_id="rec-a1",
            now=NOW,
        )
    _, dpayload = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    with pytest.raises(E.ReleaseRejected, match="did not come from the area asked"):
        workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-c", now=NOW)
    workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-a", now=NOW)
    with pytest.raises(E.StatusError):
        workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-a", now=NOW)


def test_incoming_request_from_wrong_sender_is_refused_and_audited(nodes):
    a, b = nodes
    req = workflow.new_request(
        b.protocol,
        MATCH,
        my_area="area-b",
        requesting_partner="area-b-council",
        requester="coord-b1",
        purpose="marac",
        lawful_basis="uk_gdpr_6_1_e",
        fields=["risk_level"],
        rationale=RATIONALE,
        channel="meeting",
        statutory_power="Invented Act s1",
        now=NOW,
    )
    with pytest.raises(E.NotInMatch):
        workflow.receive_request(
            a.db,
            a.audit,
            a.protocol,
            encode(req),
            sender_area="area-c",
            my_area="area-a",
            match=MATCH,
            record_id="rec-a1",
            now=NOW,
        )
    assert requests.list_requests(a.db) == []
    last = audit_mod.read_entries(a.audit_path)[-1]
    assert last["event"] == "disclosure.request_refused_on_receipt" and last["fields"]["rule"] == "not_in_match"


def test_request_on_no_match_or_other_areas_match(nodes):
    a, b = nodes
    kw = dict(
        my_area="area-b",
        requesting_partner="area-b-council",
        requester="coord-b1",
        purpose="marac",
        lawful_basis="uk_gdpr_6_1_e",
        fields=["risk_level"],
        rationale=RATIONALE,
        channel="meeting",
        statutory_power="Invented Act s1",
        now=NOW,
    )
    with pytest.raises(E.NoSuchMatch):
        workflow.new_request(b.protocol, None, **kw)
    with pytest.raises(E.NotInMatch):
        workflow.new_request(b.protocol, MatchInfo("m-9", "area-a", "h1", "area-c", "h2"), **kw)


def test_emergency_release_goes_first_and_is_flagged_until_completed(nodes, sealkit):
    a, b = nodes
    req = ask(
        a,
        b,
        ["risk_level", "contact_details"],
        purpose="emergency",
        channel="emergency",
        lawful_basis="uk_gdpr_6_1_d",
        rationale="risk to life tonight",
        urgency="immediate",
        statutory_power="",
    )
    _, dpayload = workflow.decide(
        a.db, a.audit, a.protocol, req.request_id, outcome="approve_all", decided_by="coord-a1", now=NOW
    )
    workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-a", now=NOW)
    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    assert rel.emergency and not rel.record_complete
    assert rel.complete_by == NOW + dt.timedelta(hours=48)  # area-a's overlay shortens 72 to 48
    assert {i.consent_status for i in rel.items} == {"pending"}
    accept(b, sealkit, seal_release(sealkit, payload))

    (o,) = lifecycle.overdue_emergency_releases(a.db, now=NOW + dt.timedelta(hours=1))
    assert o.request_id == req.request_id and not o.overdue
    (o,) = lifecycle.overdue_emergency_releases(a.db, now=NOW + dt.timedelta(hours=49))
    assert o.overdue
    with pytest.raises(E.DecisionInvalid, match="full necessity"):
        lifecycle.complete_emergency_record(
            a.db,
            a.audit,
            req.request_id,
            rationale="short",
            consents=NOT_SOUGHT,
            completed_by="coord-a1",
            now=NOW + dt.timedelta(hours=49),
        )
    with pytest.raises(E.ConsentError, match="victim"):
        lifecycle.complete_emergency_record(
            a.db,
            a.audit,
            req.request_id,
            rationale=RATIONALE,
            consents=(),
            completed_by="coord-a1",
            now=NOW + dt.timedelta(hours=49),
        )
    late = lifecycle.complete_emergency_record(
        a.db,
        a.audit,
        req.request_id,
        rationale=RATIONALE,
        consents=NOT_SOUGHT[:1],
        completed_by="coord-a1",
        now=NOW + dt.timedelta(hours=49),
    )
    assert late is True
    assert lifecycle.overdue_emergency_releases(a.db, now=NOW + dt.timedelta(hours=50)) == []
    last = audit_mod.read_entries(a.audit_path)[-1]
    assert last["event"] == "disclosure.emergency_completed" and last["fields"]["late"] is True


def test_retention_end_deletes_and_audits(nodes, sealkit):
    a, b = nodes
    req = _approved_release(a, b)
    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    accept(b, sealkit, seal_release(sealkit, payload))
    assert receive.expire_releases(b.db, b.audit, now=NOW + dt.timedelta(days=1095)) == []  # last retained day
    after = NOW + dt.timedelta(days=1096)
    assert receive.expire_releases(b.db, b.audit, now=after) == [rel.release_id]
    assert b.db.conn.execute("SELECT sealed FROM disclosure_releases_received").fetchone()[0] is None
    assert requests.get_request(b.db, req.request_id).status == "expired"
    with pytest.raises(E.NotFound, match="deleted"):
        receive.read_received_release(
            b.db,
            b.audit,
            rel.release_id,
            viewer="coord-b1",
            my_area="area-b",
            my_key=sealkit["area-b"]["seal"],
            sender_key=sealkit["area-a"]["sign"].public_key(),
            now=NOW,
        )
    last = audit_mod.read_entries(b.audit_path)[-1]
    assert last["event"] == "disclosure.release_deleted" and last["fields"]["release_id"] == rel.release_id
    assert receive.expire_releases(b.db, b.audit, now=after) == []  # idempotent


def test_legal_hold_stops_deletion(nodes, sealkit):
    a, b = nodes
    req = _approved_release(a, b)
    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    accept(b, sealkit, seal_release(sealkit, payload))
    receive.set_legal_hold(
        b.db, b.audit, rel.release_id, hold=True, reason="court proceedings pending (invented)", by="coord-b1", now=NOW
    )
    assert receive.expire_releases(b.db, b.audit, now=NOW + dt.timedelta(days=2000)) == []
    receive.set_legal_hold(b.db, b.audit, rel.release_id, hold=False, reason="", by="coord-b1", now=NOW)
    assert receive.expire_releases(b.db, b.audit, now=NOW + dt.timedelta(days=2000)) == [rel.release_id]


def test_area_withdrawal_closes_pending_requests(nodes):
    a, b = nodes
    pending = ask(a, b, ["risk_level"])
    approved = _approved_release(a, b)
    rel, _ = workflow.release(a.db, a.audit, a.protocol, approved.request_id, now=NOW)
    closed = lifecycle.close_for_area_withdrawal(a.db, a.audit, "area-b", now=NOW)
    assert [r.request.request_id for r in closed] == [pending.request_id]
    assert closed[0].status == "expired" and "withdrew" in closed[0].status_reason
    assert requests.get_request(a.db, approved.request_id).status == "released"  # already released: protocol terms apply
    with pytest.raises(E.StatusError):
        workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            pending.request_id,
            outcome="approve_all",
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )


def test_partner_withdrawal_closes_its_pending_requests(nodes):
    a, b = nodes
    r1 = ask(a, b, ["risk_level"])
    closed = lifecycle.close_for_partner_withdrawal(b.db, b.audit, "area-b-council", now=NOW)
    assert [r.request.request_id for r in closed] == [r1.request_id]
    assert lifecycle.close_for_partner_withdrawal(b.db, b.audit, "area-b-police", now=NOW) == []


def test_list_and_show(nodes):
    a, b = nodes
    r1 = ask(a, b, ["risk_level"])
    r2 = ask(a, b, ["conditions"])
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        r2.request_id,
        outcome="refuse",
        decided_by="coord-a1",
        reason="Refused: not relevant to the current risk (invented)",
        now=NOW,
    )
    assert [r.request.request_id for r in requests.list_requests(a.db, status="requested")] == [r1.request_id]
    assert [r.direction for r in requests.list_requests(b.db)] == ["outgoing", "outgoing"]
    row = requests.get_request(a.db, r2.request_id)
    assert row.status == "refused" and row.decision.reason.startswith("Refused")
    with pytest.raises(E.NotFound):
        requests.get_request(a.db, "req-nope")


def test_case_field_validation(nodes):
    a, _ = nodes
    with pytest.raises(E.PolicyError, match="catalogue"):
        casefields.add_case_field(
            a.db, a.protocol, "r", CaseField("shoe_size", "9", "victim", "area-a-police", dt.date(2026, 1, 1))
        )
    with pytest.raises(E.PolicyError, match="not a partner"):
        casefields.add_case_field(
            a.db, a.protocol, "r", CaseField("risk_level", "high", "victim", "area-z-police", dt.date(2026, 1, 1))
        )
    with pytest.raises(E.PolicyError, match="subject"):
        casefields.add_case_field(
            a.db, a.protocol, "r", CaseField("risk_level", "high", "neighbour", "area-a-police", dt.date(2026, 1, 1))
        )


def test_migration_is_idempotent_and_runs_inside_a_callers_transaction(tmp_path):
    import sqlite3

    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    schema.migrate_disclosure(db)
    conn.execute("ROLLBACK")
    assert "disclosure_requests" not in db.table_names()  # it did not commit by itself
    schema.migrate_disclosure(db)
    schema.migrate_disclosure(db)
    assert {
        "disclosure_requests",
        "disclosure_decisions",
        "disclosure_releases_sent",
        "disclosure_releases_received",
        "disclosure_case_fields",
        "disclosure_breaches",
        "disclosure_complaints",
    } <= set(db.table_names())


def test_sealed_payload_round_trip_binds_kind_and_parties(sealkit):
    k = sealkit
    blob = envelopes.seal_payload(
        b"{}",
        "decision",
        match_id=MATCH_ID,
        sender_area="area-a",
        recipient_area="area-b",
        recipient_key=k["area-b"]["seal"].public_key(),
        signer=k["area-a"]["sign"],
    )
    assert (
        envelopes.open_payload(
            blob,
            "decision",
            match_id=MATCH_ID,
            sender_area="area-a",
            my_area="area-b",
            my_key=k["area-b"]["seal"],
            sender_key=k["area-a"]["sign"].public_key(),
        )
        == b"{}"
    )
    with pytest.raises(E.ReleaseRejected):
        envelopes.open_payload(
            blob,
            "request",
            match_id=MATCH_ID,
            sender_area="area-a",
            my_area="area-b",
            my_key=k["area-b"]["seal"],
            sender_key=k["area-a"]["sign"].public_key(),
        )
    with pytest.raises(E.ReleaseRejected):
        envelopes.open_payload(
            blob,
            "decision",
            match_id=MATCH_ID,
            sender_area="area-a",
            my_area="area-c",
            my_key=k["area-c"]["seal"],
            sender_key=k["area-a"]["sign"].public_key(),
        )


def test_overlay_b_in_support_is_valid(tmp_path):
    assert protocol_b(tmp_path, OVERLAY_B).lead_partner().id == "area-b-council"


def test_unwritable_audit_log_rolls_the_change_back(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level"])
    with open(a.audit_path, "ab") as f:
        f.write(b'{"seq": 99, "torn')  # a crash mid-write: the log refuses further appends
    with pytest.raises(audit_mod.AuditLogDamaged):
        workflow.decide(
            a.db,
            a.audit,
            a.protocol,
            req.request_id,
            outcome="approve_all",
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )
    row = requests.get_request(a.db, req.request_id)
    assert row.status == "requested" and row.decision is None


def test_cli_parsers_for_consent_and_exception():
    assert model.parse_consent("victim:not_sought:seeking consent would increase risk") == Consent(
        "victim", "not_sought", "seeking consent would increase risk"
    )
    assert model.parse_consent("perpetrator:given:explicit=gender_history, health") == Consent(
        "perpetrator", "given", "", ("gender_history", "health")
    )
    assert model.parse_consent("victim:given") == Consent("victim", "given", "")
    with pytest.raises(E.DisclosureError, match="SUBJECT:STATUS"):
        model.parse_consent("victim")
    assert model.parse_exception("gender_history:ssi_2005_125:needed: to prevent a crime") == StatutoryException(
        "gender_history", "ssi_2005_125", "needed: to prevent a crime"
    )
    with pytest.raises(E.DisclosureError, match="FIELD:PROVISION:NOTE"):
        model.parse_exception("gender_history:ssi_2005_125")


def test_decision_approving_unrequested_fields_is_refused(nodes):
    a, b = nodes
    req = ask(a, b, ["risk_level"])
    dec, _ = workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    forged = encode(dataclasses.replace(dec, approved_fields=("risk_level", "contact_details")))
    with pytest.raises(E.PayloadError, match="contact_details"):
        workflow.receive_decision(b.db, b.audit, forged, sender_area="area-a", now=NOW)
    assert requests.get_request(b.db, req.request_id).status == "requested"
