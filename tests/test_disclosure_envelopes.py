"""All three envelope kinds through real key-ceremony keys and the signed directory.

This is the wiring the node's relay uses: seal with the recipient's sealing
key from the directory and our own signing key; open with our sealing key and
the sender's signing key from the directory. Area ids come from the envelope
(in production: from the sender's mTLS certificate), never from the payload.
"""

from __future__ import annotations

import pytest

keys = pytest.importorskip("fedalert.keys")
if not hasattr(keys, "init_federation"):
    pytest.skip("fedalert.keys has no key ceremony yet", allow_module_level=True)

from fedalert import audit as audit_mod  # noqa: E402
from fedalert.node.disclosure import errors as E  # noqa: E402
from fedalert.node.disclosure import envelopes, receive, workflow  # noqa: E402

from test_disclosure import MATCH, MATCH_ID, NOT_SOUGHT, NOW, RATIONALE, nodes  # noqa: E402,F401


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory):
    out = tmp_path_factory.mktemp("ceremony") / "keys"
    keys.init_federation(out, "testfed", ["area-a", "area-b", "area-c"])

    def area(name):
        d = out / "areas" / name
        return {
            "seal": keys.load_sealing_key(d / "sealing.key"),
            "sign": keys.load_signing_key(d / "signing.key"),
            "dir": keys.Directory.load(d / "directory.json", d / "ca.crt"),
        }

    return {a: area(a) for a in ("area-a", "area-b", "area-c")}


def send(ceremony, kind, payload, sender, recipient):
    return envelopes.seal_payload(
        payload,
        kind,
        match_id=MATCH_ID,
        sender_area=sender,
        recipient_area=recipient,
        recipient_key=ceremony[sender]["dir"].sealing_public(recipient),
        signer=ceremony[sender]["sign"],
    )


def open_(ceremony, kind, blob, sender, me):
    return envelopes.open_payload(
        blob,
        kind,
        match_id=MATCH_ID,
        sender_area=sender,
        my_area=me,
        my_key=ceremony[me]["seal"],
        sender_key=ceremony[me]["dir"].signing_public(sender),
    )


def test_request_decision_release_over_sealed_envelopes(nodes, ceremony):  # noqa: F811
    a, b = nodes
    req = workflow.new_request(
        b.protocol,
        MATCH,
        my_area="area-b",
        requesting_partner="area-b-council",
        requester="coord-b1",
        purpose="marac",
        lawful_basis="uk_gdpr_6_1_e",
        fields=["risk_level", "conditions"],
        rationale=RATIONALE,
        channel="meeting",
        statutory_power="Invented Act s1",
        now=NOW,
    )
    blob = send(
        ceremony,
        "request",
        workflow.submit_request(b.db, b.audit, b.protocol, MATCH, req, record_id="rec-b1", now=NOW),
        "area-b",
        "area-a",
    )
    workflow.receive_request(
        a.db,
        a.audit,
        a.protocol,
        open_(ceremony, "request", blob, "area-b", "area-a"),
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
    blob = send(ceremony, "decision", dpayload, "area-a", "area-b")
    workflow.receive_decision(
        b.db, b.audit, open_(ceremony, "decision", blob, "area-a", "area-b"), sender_area="area-a", now=NOW
    )

    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    blob = send(ceremony, "release", payload, "area-a", "area-b")
    # area-c cannot open what was sealed for area-b
    with pytest.raises(E.ReleaseRejected):
        open_(ceremony, "release", blob, "area-a", "area-c")
    got = receive.accept_release(
        b.db,
        b.audit,
        blob,
        match_id=MATCH_ID,
        sender_area="area-a",
        my_area="area-b",
        my_key=ceremony["area-b"]["seal"],
        sender_key=ceremony["area-b"]["dir"].signing_public("area-a"),
        now=NOW,
    )
    assert got == rel
    shown = receive.read_received_release(
        b.db,
        b.audit,
        rel.release_id,
        viewer="coord-b1",
        my_area="area-b",
        my_key=ceremony["area-b"]["seal"],
        sender_key=ceremony["area-b"]["dir"].signing_public("area-a"),
        now=NOW,
    )
    assert [i.field for i in shown.items] == ["risk_level", "conditions"]
    assert audit_mod.verify(a.audit_path).ok and audit_mod.verify(b.audit_path).ok
