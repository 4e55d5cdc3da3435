"""The node's envelope relay against a real matcher over mTLS: delivery guarantees.

- A refused envelope (a DisclosureError in dispatch) is acknowledged, so it
  never blocks the queue.
- Any other failure while handling an envelope leaves it unacknowledged; the
  watcher re-opens the stream from the last good cursor and it is delivered
  again (at least once).
- The sender holds back the later envelopes of a match the matcher refuses,
  and keeps sending the others.
"""

from __future__ import annotations

import sqlite3

from fedalert.node.disclosure import casefields, outbox, requests, workflow
from fedalert.node.disclosure import relay
from fedalert.node.store import NodeStore
from fedalert.v1 import matcher_pb2 as pb
from tests.helpers import drain, publish, record, wait_until


_wait = wait_until


def _match(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", name_dob="p1", pnc="x1"))
    publish(b, record("handleB0001", name_dob="p1", pnc="x1"))
    return a, b, drain(b)[0].match_id


class FlakyReceiver(relay.Receiver):
    """Fault injection (a stand-in for a busy database): the first call fails, later calls refuse."""

    def __init__(self, store):
        self.store = store
        self.calls: list[str] = []

    def handle(self, env):
        self.calls.append(env.envelope_id)
        if len(self.calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return None  # what Receiver.handle returns for a refused envelope


def _pending(matcher, area):
    con = sqlite3.connect(matcher.db)
    try:
        return con.execute("SELECT count(*) FROM envelopes WHERE to_area=? AND length(sealed) > 0",
                           [area]).fetchone()[0]
    finally:
        con.close()


def test_failed_handling_is_redelivered_and_refused_envelopes_are_acknowledged(matcher, tmp_path):
    a, b, match_id = _match(matcher)
    for eid in ("env-1", "env-2"):
        a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id=eid, match_id=match_id, to_area="b", kind="notice",
                                              sealed=b"opaque" * 10), timeout=10)
    store = NodeStore(tmp_path / "b.db")
    receiver = FlakyReceiver(store)
    watcher = relay.EnvelopeWatcher(receiver, b)
    watcher.start()
    try:
        assert _wait(lambda: _pending(matcher, "b") == 0)
    finally:
        watcher.stop()
        watcher.join(10)
    # env-1 failed once (not acknowledged), came again, then both were refused and acknowledged, in order.
    assert receiver.calls == ["env-1", "env-1", "env-2"]
    assert store.envelope_cursor() > 0
    store.close()


def test_real_receiver_refuses_garbage_and_acknowledges_it(matcher, fed_keys, tmp_path, caplog):
    a, b, match_id = _match(matcher)
    a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id="junk-1", match_id=match_id, to_area="b", kind="release",
                                          sealed=b"not a sealed box" * 4), timeout=10)
    store = NodeStore(tmp_path / "b.db")
    from fedalert.audit import AuditLog
    from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol

    audit = AuditLog(tmp_path / "b.audit.jsonl")
    receiver = relay.Receiver(store, audit, load_protocol(bundled_national_path()),
                              relay.load_area_keys(fed_keys / "areas" / "b"))
    got = relay.drain_envelopes(receiver, b, idle_timeout=1.5)
    assert got == [None] and _pending(matcher, "b") == 0
    assert any("ReleaseRejected (tampered)" in r.getMessage() for r in caplog.records)
    store.close()


def test_sender_holds_back_a_refused_match_and_sends_the_rest(matcher, fed_keys, tmp_path):
    a, b, match_id = _match(matcher)
    store = NodeStore(tmp_path / "a.db")
    keys = relay.load_area_keys(fed_keys / "areas" / "a")
    assert keys.area == "a"  # read from the node certificate
    now = relay.utcnow()
    # Two envelopes on a match the matcher does not know, then one on the real match.
    from fedalert.node.disclosure.outbox import _outbox_put

    envs = [outbox.outgoing("request", b'{"n":%d}' % i, match_id=m, to_area="b", keys=keys)
            for i, m in ((1, "m-unknown"), (2, "m-unknown"), (3, match_id))]
    for i, env in enumerate(envs):
        _outbox_put(store.db, env, f"req-{i}", now)
    warned: set = set()
    stats = relay.send_outbox(store.db, a, _warned=warned)
    assert (stats.sent, stats.held) == (1, 2)
    assert [e.match_id for e in outbox.outbox_pending(store.db)] == ["m-unknown", "m-unknown"]
    assert warned == {envs[0].envelope_id}  # logged once, the second one was held behind it
    assert _pending(matcher, "b") == 1
    store.close()


def test_housekeeping_warns_about_overdue_emergency_records_and_deletes_expired_releases(tmp_path, caplog):
    """Domain fixtures of test_disclosure (area-b asks area-a); real SQLite, real audit, real sealing."""
    import datetime as dt

    import pytest

    pytest.importorskip("fedalert.keys")
    from test_disclosure import Node, VALUES, accept, ask, seal_release  # noqa: F401
    from test_disclosure_support import NOW, protocol_a, protocol_b
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from fedalert.node.disclosure.model import CaseField

    a, b = Node(tmp_path, "area-a", protocol_a()), Node(tmp_path, "area-b", protocol_b(tmp_path))
    for name, (value, subject, src, on) in VALUES.items():
        casefields.add_case_field(a.db, a.protocol, "rec-a1", CaseField(name, value, subject, src, on))
    kit = {x: {"seal": X25519PrivateKey.generate(), "sign": Ed25519PrivateKey.generate()}
           for x in ("area-a", "area-b", "area-c")}
    req = ask(a, b, ["risk_level"], purpose="emergency", channel="emergency", lawful_basis="uk_gdpr_6_1_d",
              rationale="risk to life tonight", urgency="immediate", statutory_power="")
    _, dpayload = workflow.decide(a.db, a.audit, a.protocol, req.request_id, outcome="approve_all", decided_by="coord-a1",
                           now=NOW)
    workflow.receive_decision(b.db, b.audit, dpayload, sender_area="area-a", now=NOW)
    rel, payload = workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    accept(b, kit, seal_release(kit, payload))

    caplog.set_level("WARNING", logger="fedalert.node.disclosure.relay")
    deleted, overdue = relay.housekeeping(a.db, a.audit, now=NOW + dt.timedelta(hours=1))
    assert (deleted, overdue) == ([], [])
    deleted, overdue = relay.housekeeping(a.db, a.audit, now=NOW + dt.timedelta(hours=49))
    assert [o.release_id for o in overdue] == [rel.release_id]
    assert any(f"emergency release {rel.release_id}" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    # At the receiving side, the release is deleted once its retention has ended.
    later = dt.datetime.combine(rel.retention_until + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    assert relay.housekeeping(b.db, b.audit, now=NOW)[0] == []
    assert relay.housekeeping(b.db, b.audit, now=later)[0] == [rel.release_id]
    assert requests.get_request(b.db, req.request_id).status == "expired"
