"""Publication quotas over real mTLS: refused whole, nothing changed, audited."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import grpc
import pytest

from fedalert.audit import read_entries, verify
from fedalert.errors import ConfigError
from fedalert.matcher.quotas import Quota, Quotas, parse_quotas
from fedalert.v1 import matcher_pb2 as pb
from tests.conftest import MatcherHandle
from tests.dbsnap import db_snapshot
from tests.helpers import drain, publish, record


@pytest.fixture
def small_quota(fed_keys, tmp_path):
    quotas = Quotas(default=Quota(records_per_day=3, tokens_per_day=100),
                    per_area={"c": Quota(records_per_day=1000, tokens_per_day=4)})
    m = MatcherHandle(fed_keys, tmp_path / "matcher.db", quotas=quotas).start()
    yield m
    m.stop()


def _audit(m):
    return [e for e in read_entries(m.db.with_suffix(".audit.jsonl")) if e["event"] != "audit.genesis"]


def test_publish_over_record_quota_is_refused_whole_and_changes_nothing(small_quota):
    a, b = small_quota.stub("a"), small_quota.stub("b")
    publish(a, record("handleA0001", pnc="x1"), record("handleA0002", pnc="x2"), batch_id="ok-1")
    publish(b, record("handleB0003", pnc="x3"))
    before = db_snapshot(small_quota.db)
    with pytest.raises(grpc.RpcError) as err:
        publish(a, record("handleA0003", pnc="x3"), record("handleA0004", pnc="x4"), batch_id="over-1")
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    msg = err.value.details()
    assert "quota" in msg and "'a'" in msg and "2 records" in msg and "Nothing was applied" in msg
    assert db_snapshot(small_quota.db) == before
    assert drain(b) == []  # the refused x3 record raised no match
    # The refusal is attributable: area and batch id in the audit log.
    refused = [e for e in _audit(small_quota) if e["event"] == "publish.refused"]
    assert len(refused) == 1
    assert refused[0]["fields"] == {"area": "a", "batch_id": "over-1", "records": 2, "token_count": 2,
                                    "reason": "quota_records", "used": 2, "limit": 3}
    # Within the quota still works; another area has its own count.
    publish(a, record("handleA0003", pnc="x3"))
    assert len(drain(b)) == 1
    assert verify(small_quota.db.with_suffix(".audit.jsonl")).ok


def test_replay_of_an_applied_batch_is_a_duplicate_even_at_quota(small_quota):
    a = small_quota.stub("a")
    batch = [record("handleA0001", pnc="x1"), record("handleA0002", pnc="x2"), record("handleA0003", pnc="x3")]
    assert publish(a, *batch, batch_id="full").duplicate is False
    assert publish(a, *batch, batch_id="full").duplicate is True


def test_token_quota_and_per_area_override(small_quota):
    c = small_quota.stub("c")
    publish(c, record("handleC0001", pnc="x1", name_dob="n1"))
    before = db_snapshot(small_quota.db)
    with pytest.raises(grpc.RpcError) as err:
        publish(c, record("handleC0002", pnc="x2", name_dob="n2", phone="p2"))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "tokens" in err.value.details() and "quota of 4" in err.value.details()
    assert db_snapshot(small_quota.db) == before


def test_every_publication_and_withdrawal_is_attributable(matcher):
    a = matcher.stub("a")
    publish(a, record("handleA0001", pnc="x1"), batch_id="batch-attr-1")
    a.Withdraw(pb.WithdrawRequest(handle="handleA0001", reason="closed"), timeout=5)
    entries = _audit(matcher)
    pubs = [e["fields"] for e in entries if e["event"] == "publish"]
    assert pubs == [{"area": "a", "batch_id": "batch-attr-1", "records": 1, "token_count": 1, "changed": 1}]
    wds = [e["fields"] for e in entries if e["event"] == "withdraw"]
    assert wds and wds[0]["area"] == "a" and wds[0]["handle"] == "handleA0001"


def test_quotas_file_parsing():
    q = parse_quotas("""
        [default]
        records_per_day = 10
        [area.north]
        tokens_per_day = 7
    """, default=Quota(records_per_day=1, tokens_per_day=2))
    assert q.for_area("south") == Quota(10, 2)
    assert q.for_area("north") == Quota(10, 7)


@pytest.mark.parametrize("text, where", [
    ("[default]\nrecords_per_day = -1", "default.records_per_day"),
    ("[default]\nrecords_per_day = 'many'", "default.records_per_day"),
    ("[default]\nrecords = 5", "default.records"),
    ("[area.North]\nrecords_per_day = 5", "[area.North]"),
    ("[areas.north]\nrecords_per_day = 5", "[areas]"),
    ("[default\n", "not valid TOML"),
    ("area = 5", "'area' must be a table"),
    ("[area]\nnorth = 5", "[area.north] must be a table"),
])
def test_quotas_file_errors_name_the_key(text, where):
    with pytest.raises(ConfigError) as err:
        parse_quotas(text, source="q.toml")
    assert "q.toml" in str(err.value) and where in str(err.value)


def test_matcher_serve_quota_flag_end_to_end(fed_keys, tmp_path):
    """A real `fedalert matcher serve --quota-records 1` process refuses a 2-record publish."""
    from tests.conftest import MatcherHandle as _H

    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedalert", "matcher", "serve", "--keys", str(fed_keys / "matcher"),
         "--db", str(tmp_path / "m.db"), "--listen", "127.0.0.1:0", "--port-file", str(port_file),
         "--quota-records", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            if port_file.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert port_file.exists(), proc.stderr.read() if proc.poll() is not None else "no port file"
        h = _H(fed_keys, tmp_path / "m.db")
        h.port = int(port_file.read_text())
        a = h.stub("a")
        with pytest.raises(grpc.RpcError) as err:
            publish(a, record("handleA0001", pnc="x1"), record("handleA0002", pnc="x2"))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert publish(a, record("handleA0001", pnc="x1")).records_accepted == 1
        for ch in h._channels:
            ch.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    refused = [e for e in read_entries(tmp_path / "m.audit.jsonl") if e["event"] == "publish.refused"]
    assert [json.dumps(e["fields"]["area"]) for e in refused] == ['"a"']


def test_pending_envelopes_per_sender_are_bounded(fed_keys, tmp_path):
    m = MatcherHandle(fed_keys, tmp_path / "matcher.db", quotas=Quotas(pending_envelopes=2,
                                                                       pending_envelope_bytes=1000)).start()
    try:
        a, b = m.stub("a"), m.stub("b")
        publish(a, record("handleA0001", pnc="x1"))
        publish(b, record("handleB0001", pnc="x1"))
        mid = drain(a)[0].match_id

        def send(eid, size=10):
            return a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id=eid, match_id=mid, to_area="b", kind="request",
                                                         sealed=b"s" * size), timeout=10)

        send("e1")
        send("e2")
        before = db_snapshot(m.db)
        with pytest.raises(grpc.RpcError) as err:
            send("e3")
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "waiting for their recipients" in \
            err.value.details()
        assert db_snapshot(m.db) == before
        # Once b collects one, a may send again; the byte limit holds too.
        assert b.AckEnvelope(pb.AckEnvelopeRequest(envelope_id="e1"), timeout=10).acknowledged
        send("e3")
        b.AckEnvelope(pb.AckEnvelopeRequest(envelope_id="e2"), timeout=10)
        with pytest.raises(grpc.RpcError) as err:
            send("e4", size=995)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert any(e["event"] == "relay.refused" for e in _audit(m))
    finally:
        m.stop()
