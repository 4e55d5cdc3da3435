"""Adversary checks of docs/THREAT_MODEL.md not covered elsewhere, over real mTLS."""

from __future__ import annotations

import threading

import grpc
import pytest

from fedalert.keys import init_federation, revoke_area
from fedalert.v1 import matcher_pb2 as pb
from tests.conftest import MatcherHandle
from tests.dbsnap import db_snapshot
from tests.helpers import drain, publish, record


@pytest.fixture
def own_fed(tmp_path):
    """A ceremony this test may change (revocation rewrites its directory files)."""
    out = tmp_path / "keys"
    init_federation(out, "testfed", ["a", "b", "c"])
    m = MatcherHandle(out, tmp_path / "matcher.db").start()
    yield out, m
    m.stop()


def test_revoked_partner_is_refused_on_every_call_and_its_open_stream_ends(own_fed):
    keys, m = own_fed
    a, b = m.stub("a"), m.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    stream = b.WatchAlerts(pb.WatchAlertsRequest(), timeout=60)
    outcome = {}

    def read():
        try:
            for _ in stream:
                pass
        except grpc.RpcError as exc:
            outcome["code"], outcome["details"] = exc.code(), exc.details()

    t = threading.Thread(target=read)
    t.start()
    revoke_area(keys, "b", "partner left the federation")  # rewrites every directory.json, matcher's too
    t.join(30)
    assert outcome.get("code") == grpc.StatusCode.PERMISSION_DENIED and "revoked" in outcome["details"]
    before = db_snapshot(m.db)
    for call, req in [(b.Publish, pb.PublishRequest(batch_id="after", records=[record("handleB0001", pnc="x1")])),
                      (b.Withdraw, pb.WithdrawRequest(handle="handleB0001", reason="closed")),
                      (b.AckAlert, pb.AckAlertRequest(alert_id="a-1")),
                      (b.SendEnvelope, pb.SendEnvelopeRequest(envelope_id="e1", match_id="m", to_area="a",
                                                              kind="request", sealed=b"x"))]:
        with pytest.raises(grpc.RpcError) as err:
            call(req, timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert db_snapshot(m.db) == before
    # The others carry on.
    assert publish(a, record("handleA0002", pnc="x2")).records_accepted == 1


def test_compromised_node_cannot_use_or_read_a_match_it_is_not_party_to(matcher):
    a, b, c = matcher.stub("a"), matcher.stub("b"), matcher.stub("c")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    match_id = drain(a)[0].match_id
    before = db_snapshot(matcher.db)
    for to in ("a", "b", "c"):
        with pytest.raises(grpc.RpcError) as err:
            c.SendEnvelope(pb.SendEnvelopeRequest(envelope_id="e-c", match_id=match_id, to_area=to, kind="request",
                                                  sealed=b"x"), timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert db_snapshot(matcher.db) == before
    # a's real envelope to b: c can neither receive nor acknowledge it.
    a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id="e-a", match_id=match_id, to_area="b", kind="request",
                                          sealed=b"sealed-bytes"), timeout=10)
    assert c.AckEnvelope(pb.AckEnvelopeRequest(envelope_id="e-a"), timeout=10).acknowledged is False
    got_c = []
    call = c.WatchEnvelopes(pb.WatchEnvelopesRequest(), timeout=1.5)
    with pytest.raises(grpc.RpcError):
        for e in call:
            got_c.append(e)
    assert got_c == []
    # The sender area comes from a's certificate, not from the request.
    call = b.WatchEnvelopes(pb.WatchEnvelopesRequest(), timeout=5)
    env = next(iter(call))
    call.cancel()
    assert env.from_area == "a" and env.sealed == b"sealed-bytes"


def test_stolen_matcher_database_holds_only_opaque_values(matcher):
    """What a thief of the matcher's database gets: 16-byte tokens, kinds, key ids,
    area ids and the nodes' random handles; no record id and no plaintext."""
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1", name_dob="Ann Example 1990"))
    publish(b, record("handleB0001", pnc="x1"))
    db = matcher.app.engine.store.db
    # Full tokens live only packed in records (a header of kind ids and counts, then
    # 16-byte values); the index tables hold integers: a token prefix and a row id.
    from fedalert.matcher._tokens import read_runs

    packed = [read_runs(p) for (p,) in db.execute("SELECT packed FROM records")]
    assert packed and all(len(values) == 16 * sum(n for _, n in runs) for runs, values in packed)
    for table in ("tokens", "tokens_staged"):
        assert all(isinstance(x, int) for row in db.execute(f"SELECT * FROM {table}") for x in row)
    cols = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")]
            for t in ("records", "tokens", "tokens_staged", "matches")}
    assert cols["tokens"] == cols["tokens_staged"] == ["key", "record_id"]
    assert cols["records"] == ["id", "area", "handle", "key_id", "packed", "updated_ms"]
    assert [r[0] for r in db.execute("SELECT handle FROM records ORDER BY handle")] == ["handleA0001", "handleB0001"]
    assert cols["matches"] == ["match_id", "area_a", "handle_a", "area_b", "handle_b", "tier", "score", "kinds",
                               "status", "created_ms", "updated_ms"]
