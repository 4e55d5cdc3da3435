"""Relay glue: request_disclosure / approve / refuse produce sealed envelopes; dispatch handles them.

Real key-ceremony keys and the signed directory; no gRPC (the node's relay
code only forwards Outgoing envelopes and passes received ones to dispatch).
"""

from __future__ import annotations

import dataclasses

import pytest

keys = pytest.importorskip("fedalert.keys")
if not hasattr(keys, "init_federation"):
    pytest.skip("fedalert.keys has no key ceremony yet", allow_module_level=True)

from fedalert import audit as audit_mod  # noqa: E402
from fedalert.node.disclosure import errors as E  # noqa: E402
from fedalert.node.disclosure import errors, model, outbox, requests, workflow  # noqa: E402

from test_disclosure import MATCH, NOT_SOUGHT, NOW, RATIONALE, nodes  # noqa: E402,F401

REQ = dict(
    requesting_partner="area-b-council",
    requester="coord-b1",
    purpose="marac",
    lawful_basis="uk_gdpr_6_1_e",
    rationale=RATIONALE,
    channel="meeting",
    statutory_power="Invented Safeguarding Act 2020 s1",
)


@pytest.fixture(scope="module")
def area_keys(tmp_path_factory):
    out = tmp_path_factory.mktemp("ceremony") / "keys"
    keys.init_federation(out, "testfed", ["area-a", "area-b", "area-c"])

    def load(area):
        d = out / "areas" / area
        return outbox.AreaKeys(
            area=area,
            sealing_key=keys.load_sealing_key(d / "sealing.key"),
            signing_key=keys.load_signing_key(d / "signing.key"),
            directory=keys.Directory.load(d / "directory.json", d / "ca.crt"),
        )

    return {a: load(a) for a in ("area-a", "area-b", "area-c")}


def deliver(node, k, env, *, record="rec-a1", from_area=None, match_id=None):
    return outbox.dispatch(
        node.db,
        node.audit,
        node.protocol,
        k,
        kind=env.kind,
        match_id=match_id or env.match_id,
        from_area=from_area or ("area-b" if k.area == "area-a" else "area-a"),
        sealed=env.sealed,
        match_lookup=lambda m: MATCH if m == MATCH.match_id else None,
        record_lookup=lambda h: {"h-a1": record, "h-b1": "rec-b1"}.get(h),
        now=NOW,
    )


def test_request_approve_release_round_trip(nodes, area_keys):  # noqa: F811
    a, b = nodes
    req, env = outbox.request_disclosure(
        b.db,
        b.audit,
        b.protocol,
        area_keys["area-b"],
        MATCH,
        record_id="rec-b1",
        now=NOW,
        fields=["risk_level", "conditions", "gender_history"],
        art9_condition="uk_gdpr_9_2_c",
        **REQ,
    )
    assert (env.kind, env.to_area, env.match_id) == ("request", "area-a", "m-1")
    assert "redacted" in repr(area_keys["area-b"]) and "bytes" in repr(env)
    got = deliver(a, area_keys["area-a"], env)
    assert got == outbox.Dispatched("request", req.request_id, "requested")
    assert requests.get_request(a.db, req.request_id).record_id == "rec-a1"  # handle mapped to our record

    decision, envs = outbox.approve(
        a.db,
        a.audit,
        a.protocol,
        area_keys["area-a"],
        req.request_id,
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert decision.status == "partially_approved"  # gender history withheld
    assert [e.kind for e in envs] == ["decision", "release"]
    assert deliver(b, area_keys["area-b"], envs[0]).status == "partially_approved"
    assert deliver(b, area_keys["area-b"], envs[1]) == outbox.Dispatched("release", req.request_id, "released")
    assert requests.get_request(b.db, req.request_id).status == "released"
    for n in (a, b):
        assert audit_mod.verify(n.audit_path).ok


def test_approve_some_and_refuse(nodes, area_keys):  # noqa: F811
    a, b = nodes
    r1, env1 = outbox.request_disclosure(
        b.db,
        b.audit,
        b.protocol,
        area_keys["area-b"],
        MATCH,
        record_id="rec-b1",
        now=NOW,
        fields=["risk_level", "conditions"],
        **REQ,
    )
    r2, env2 = outbox.request_disclosure(
        b.db, b.audit, b.protocol, area_keys["area-b"], MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
    )
    deliver(a, area_keys["area-a"], env1)
    deliver(a, area_keys["area-a"], env2)
    dec, envs = outbox.approve(
        a.db,
        a.audit,
        a.protocol,
        area_keys["area-a"],
        r1.request_id,
        fields=["risk_level"],
        reason="conditions are not needed for this meeting",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert dec.outcome == "approve_some" and len(envs) == 2
    dec2, env = outbox.refuse(
        a.db,
        a.audit,
        a.protocol,
        area_keys["area-a"],
        r2.request_id,
        reason="Already shared at the joint meeting (invented)",
        decided_by="coord-a1",
        now=NOW,
    )
    assert dec2.status == "refused" and env.kind == "decision"
    assert deliver(b, area_keys["area-b"], env).status == "refused"


def test_nothing_releasable_sends_only_the_decision(nodes, area_keys):  # noqa: F811
    a, b = nodes
    req, env = outbox.request_disclosure(
        b.db,
        b.audit,
        b.protocol,
        area_keys["area-b"],
        MATCH,
        record_id="rec-b1",
        now=NOW,
        fields=["gender_history"],
        art9_condition="uk_gdpr_9_2_c",
        **REQ,
    )
    deliver(a, area_keys["area-a"], env)
    dec, envs = outbox.approve(
        a.db,
        a.audit,
        a.protocol,
        area_keys["area-a"],
        req.request_id,
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert dec.status == "refused" and [e.kind for e in envs] == ["decision"]


def test_envelope_ids_are_idempotent_and_relabelling_fails(nodes, area_keys):  # noqa: F811
    a, b = nodes
    req, env = outbox.request_disclosure(
        b.db, b.audit, b.protocol, area_keys["area-b"], MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
    )
    again = outbox.outgoing("request", model.encode(req), match_id="m-1", to_area="area-a", keys=area_keys["area-b"])
    assert again.envelope_id == env.envelope_id and again.sealed != env.sealed  # same id, fresh seal
    with pytest.raises(E.ReleaseRejected) as exc:
        deliver(a, area_keys["area-a"], env, match_id="m-2")
    assert exc.value.reason == "tampered"
    with pytest.raises(E.ReleaseRejected):
        deliver(a, area_keys["area-a"], env, from_area="area-c")  # not signed by area-c
    with pytest.raises(E.PayloadError, match="not handled"):
        deliver(a, area_keys["area-a"], dataclasses.replace(env, kind="notice"))
    assert requests.list_requests(a.db) == []


class RevokingDirectory:
    """Stand-in for a re-issued directory that revokes one area (named as such: the
    real revocation path is covered by the keys package's tests)."""

    def __init__(self, real, revoked):
        self.real, self.revoked = real, revoked

    def sealing_public(self, area):
        return self.real.sealing_public(area)

    def signing_public(self, area):
        return self.real.signing_public(area)

    def is_revoked(self, area):
        return area == self.revoked


def test_revoked_areas_are_neither_sent_to_nor_heard(nodes, area_keys):  # noqa: F811
    a, b = nodes
    kb = dataclasses.replace(area_keys["area-b"], directory=RevokingDirectory(area_keys["area-b"].directory, "area-a"))
    with pytest.raises(E.DisclosureError, match="revoked"):
        outbox.request_disclosure(
            b.db, b.audit, b.protocol, kb, MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
        )
    assert requests.list_requests(b.db) == []  # refused before anything was stored or audited
    _, env = outbox.request_disclosure(
        b.db, b.audit, b.protocol, area_keys["area-b"], MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
    )
    ka = dataclasses.replace(area_keys["area-a"], directory=RevokingDirectory(area_keys["area-a"].directory, "area-b"))
    with pytest.raises(E.ReleaseRejected, match="revoked"):
        deliver(a, ka, env)


def test_outbox_holds_every_envelope_until_sent(nodes, area_keys):  # noqa: F811
    a, b = nodes
    req, env = outbox.request_disclosure(
        b.db, b.audit, b.protocol, area_keys["area-b"], MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
    )
    assert [(e.envelope_id, e.sealed) for e in outbox.outbox_pending(b.db)] == [(env.envelope_id, env.sealed)]
    outbox.outbox_sent(b.db, env.envelope_id, now=NOW)
    assert outbox.outbox_pending(b.db) == []
    assert b.db.conn.execute("SELECT sealed FROM disclosure_outbox").fetchone()[0] is None  # sealed copy dropped
    deliver(a, area_keys["area-a"], env)
    _, envs = outbox.approve(
        a.db,
        a.audit,
        a.protocol,
        area_keys["area-a"],
        req.request_id,
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    assert [e.envelope_id for e in outbox.outbox_pending(a.db)] == [e.envelope_id for e in envs]


def test_failed_release_rolls_back_the_decision_too(nodes, area_keys, monkeypatch):  # noqa: F811
    a, b = nodes
    req, env = outbox.request_disclosure(
        b.db, b.audit, b.protocol, area_keys["area-b"], MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
    )
    deliver(a, area_keys["area-a"], env)
    from fedalert.node.disclosure import outbox as relay

    real = relay.outgoing

    def failing(kind, *args, **kw):  # stand-in for a sealing failure on the second envelope
        if kind == "release":
            raise errors.DisclosureError("sealing failed (simulated)")
        return real(kind, *args, **kw)

    monkeypatch.setattr(relay, "outgoing", failing)
    with pytest.raises(errors.DisclosureError, match="simulated"):
        outbox.approve(
            a.db,
            a.audit,
            a.protocol,
            area_keys["area-a"],
            req.request_id,
            decided_by="coord-a1",
            consents=NOT_SOUGHT,
            now=NOW,
        )
    row = requests.get_request(a.db, req.request_id)
    assert row.status == "requested" and row.decision is None and outbox.outbox_pending(a.db) == []
    events = [e["event"] for e in audit_mod.read_entries(a.audit_path)]
    assert events[-3:] == ["disclosure.decision", "disclosure.released", "disclosure.rolled_back"]
    assert audit_mod.read_entries(a.audit_path)[-1]["fields"]["step"] == "approve"


def test_request_refused_on_receipt_gets_a_sealed_refusal_back(nodes, area_keys):  # noqa: F811
    """A request the holder's protocol refuses on receipt is answered, so the requester is not left waiting."""
    a, b = nodes
    r, env = outbox.request_disclosure(
        b.db, b.audit, b.protocol, area_keys["area-b"], MATCH, record_id="rec-b1", now=NOW, fields=["risk_level"], **REQ
    )
    # The holder no longer knows the match (withdrawn there): its protocol check refuses the request.
    got = outbox.dispatch(a.db, a.audit, a.protocol, area_keys["area-a"], kind=env.kind, match_id=env.match_id,
                     from_area="area-b", sealed=env.sealed, match_lookup=lambda m: None,
                     record_lookup=lambda h: None, now=NOW)
    assert got.status == "refused"
    assert requests.list_requests(a.db) == []  # nothing of the refused request is kept
    back = outbox.outbox_pending(a.db)
    assert [(e.kind, e.to_area) for e in back] == [("decision", "area-b")]
    entries = audit_mod.read_entries(a.audit_path)
    assert entries[-1]["event"] == "disclosure.refusal_sent_on_receipt" and entries[-1]["fields"]["rule"] == "no_match"
    # The requester hears the refusal, with the rule, and its request is closed.
    assert deliver(b, area_keys["area-b"], back[0]).status == "refused"
    mine = requests.get_request(b.db, r.request_id)
    assert mine.status == "refused" and "no_match" in mine.status_reason


def test_request_from_outside_the_match_gets_no_reply(nodes, area_keys):  # noqa: F811
    """A request sent by an area that is not a party to the match is refused with nothing sent back."""
    from fedalert.node.disclosure.model import encode

    a, b = nodes
    req = workflow.new_request(b.protocol, MATCH, my_area="area-b", now=NOW, fields=["risk_level"], **REQ)
    sealed = outbox.outgoing("request", encode(req), match_id=MATCH.match_id, to_area="area-a",
                        keys=area_keys["area-c"]).sealed  # area-c relays area-b's request as its own
    with pytest.raises(E.NotInMatch):
        outbox.dispatch(a.db, a.audit, a.protocol, area_keys["area-a"], kind="request", match_id=MATCH.match_id,
                   from_area="area-c", sealed=sealed, match_lookup=lambda m: MATCH,
                   record_lookup=lambda h: "rec-a1", now=NOW)
    assert outbox.outbox_pending(a.db) == [] and requests.list_requests(a.db) == []
