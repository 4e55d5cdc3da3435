"""The OPRF key service over real mTLS on port 0: evaluation, retries, limits, audit, revocation, bad input.

Promises (issue 15): the area id comes from the peer certificate only; a
node's tokens equal the OPRF of its inputs under the directory's key and are
the same in every area; a batch id seen before returns the same evaluations
and counts once; a reused id with other content, invalid or identity
elements, oversized batches and unknown key ids get INVALID_ARGUMENT, a
disabled key FAILED_PRECONDITION, a batch over the rate or the daily quota
RESOURCE_EXHAUSTED, and none of them stops the service serving others; every
batch is in the hash-chained audit log with area, count and key id, never an
element; a revoked area is refused, on an open stream too.
"""

from __future__ import annotations

import shutil
import uuid

import grpc
import pytest

from fedalert.audit import read_entries, verify
from fedalert.keys import _ristretto as g
from fedalert.keys import oprf, revoke_area
from fedalert.keys.keysvc.limits import Limit, Limits
from fedalert.keys.oprf_keyset import OprfKeyset
from fedalert.node.tokens import token_input
from fedalert.serving import health_pb2, health_pb2_grpc
from fedalert.v1 import keysvc_pb2 as pb
from tests.helpers import KeysvcHandle


@pytest.fixture
def keysvc(oprf_keys, tmp_path):
    k = KeysvcHandle(oprf_keys, tmp_path / "keysvc.db").start()
    yield k
    k.stop()


def _keyset(keys) -> OprfKeyset:
    return OprfKeyset.load(keys / "keysvc" / "oprf.keyset.json")


def _direct(keys, key_id: str, x: bytes) -> bytes:
    """The OPRF output computed with the key itself (test only): Finalize(x, skS * H(x))."""
    key = _keyset(keys).private_key(key_id)
    state = oprf.blind([x], oprf.MODE_VOPRF)
    ev, proof = oprf.blind_evaluate_batch(key, state.elements)
    return oprf.finalize(state, ev, public_key=key.public, proof=proof)[0]


def _request(keys, n=3, key_id=None, batch_id=None):
    key_id = key_id or _keyset(keys).primary_id
    state = oprf.blind([f"input {i}".encode() for i in range(n)], oprf.MODE_VOPRF)
    return state, pb.EvaluateRequest(batch_id=batch_id or uuid.uuid4().hex, key_id=key_id,
                                     blinded=b"".join(state.elements))


def test_tokens_are_the_oprf_of_the_input_and_the_same_in_every_area(keysvc, oprf_keys):
    kid = _keyset(oprf_keys).primary_id
    inputs = [token_input("oprf", kid, "name_dob", f"ada\x1flovelace\x1f1815121{i}") for i in range(10)]
    a = keysvc.client("a").evaluate(kid, inputs)
    b = keysvc.client("b").evaluate(kid, list(reversed(inputs)))
    assert a == list(reversed(b))
    assert a[3] == _direct(oprf_keys, kid, inputs[3])
    assert len(set(a)) == 10 and all(len(o) == 64 for o in a)


def test_batches_larger_than_one_call_are_split_and_verified(keysvc, oprf_keys):
    client = keysvc.client("a")
    client.batch_elements = 7
    kid = _keyset(oprf_keys).primary_id
    inputs = [f"m{i}".encode() for i in range(30)]
    out = client.evaluate(kid, inputs)
    assert client.batches == 5 and out[29] == _direct(oprf_keys, kid, inputs[29])


def test_a_batch_id_seen_before_returns_the_same_evaluations_and_counts_once(keysvc, oprf_keys):
    stub = keysvc.stub("a")
    _, req = _request(oprf_keys, 5)
    first = stub.Evaluate(req, timeout=10)
    again = stub.Evaluate(req, timeout=10)
    assert not first.duplicate and again.duplicate
    assert again.evaluated == first.evaluated and again.count == 5
    usage = keysvc.app.store.usage()["a"]
    (day,) = usage.values()
    assert day["evaluations"] == 5 and day["batches"] == 1 and day["duplicates"] == 1
    # The same batch id from another area is that area's own batch.
    assert not keysvc.stub("b").Evaluate(req, timeout=10).duplicate
    # Same id, other content: refused, nothing counted.
    _, other = _request(oprf_keys, 5, batch_id=req.batch_id)
    with pytest.raises(grpc.RpcError) as e:
        stub.Evaluate(other, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "used before" in e.value.details()
    assert keysvc.app.store.usage()["a"][next(iter(usage))]["evaluations"] == 5


def _status(stub, req):
    try:
        stub.Evaluate(req, timeout=10)
    except grpc.RpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


def test_bad_input_gets_a_clear_status_and_the_service_keeps_serving(keysvc, oprf_keys):
    from fedalert.keys.keysvc.service import MAX_BATCH

    stub = keysvc.stub("c")
    ks = _keyset(oprf_keys)
    _, good = _request(oprf_keys, 2)
    cases = {
        "identity": good.blinded[:32] + g.IDENTITY,
        "not canonical": good.blinded[:32] + b"\xff" * 32,
        "not an element": good.blinded[:32] + bytes([1]) + bytes(31),
        "short": good.blinded[:40],
        "empty": b"",
        "oversized": good.blinded[:32] * (MAX_BATCH + 1),
    }
    for name, blinded in cases.items():
        code, details = _status(stub, pb.EvaluateRequest(batch_id=uuid.uuid4().hex, key_id=ks.primary_id,
                                                         blinded=blinded))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (name, code, details)
        if name in ("identity", "not canonical", "not an element"):
            assert "element 1" in details, details
    for kid in ("k00000000", "K1", "", "k" + "0" * 40):
        code, _ = _status(stub, pb.EvaluateRequest(batch_id=uuid.uuid4().hex, key_id=kid, blinded=good.blinded))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, kid
    for bid in ("", "x" * 65, "bad id", "\u202e"):
        code, _ = _status(stub, pb.EvaluateRequest(batch_id=bid, key_id=ks.primary_id, blinded=good.blinded))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, bid
    assert stub.Evaluate(good, timeout=10).count == 2  # still serving
    (day,) = keysvc.app.store.usage()["c"].values()
    assert day["invalid"] == 3 and day["evaluations"] == 2  # the three element refusals were counted, not evaluated


def test_a_disabled_key_is_refused_with_failed_precondition(oprf_keys, tmp_path):
    keys = tmp_path / "keys"
    shutil.copytree(oprf_keys, keys)
    from fedalert.keys import rotation

    old = _keyset(keys).primary_id
    new, _ = rotation.rotate(keys)
    k = KeysvcHandle(keys, tmp_path / "k.db").start()
    try:
        stub = k.stub("a")
        assert stub.Evaluate(_request(keys, 1, key_id=old)[1], timeout=10).count == 1  # old still enabled
        rotation.disable_token_key(keys, old)  # the running service reloads its keyset file
        code, details = _status(stub, _request(keys, 1, key_id=old)[1])
        assert code == grpc.StatusCode.FAILED_PRECONDITION and new in details
        assert stub.Evaluate(_request(keys, 1, key_id=new)[1], timeout=10).count == 1
    finally:
        k.stop()


def test_rate_limit_and_daily_quota_per_area(oprf_keys, tmp_path):
    limits = Limits(default=Limit(evaluations_per_day=10, rate_per_s=None),
                    per_area={"b": Limit(evaluations_per_day=None, rate_per_s=0.001, burst=4)})
    k = KeysvcHandle(oprf_keys, tmp_path / "k.db", limits=limits, audit_path=tmp_path / "audit.jsonl").start()
    try:
        a = k.stub("a")
        assert a.Evaluate(_request(oprf_keys, 6)[1], timeout=10).count == 6
        _, over = _request(oprf_keys, 6)
        code, details = _status(a, over)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "daily quota" in details
        assert a.Evaluate(_request(oprf_keys, 4)[1], timeout=10).count == 4  # exactly at the quota
        b = k.stub("b")
        assert b.Evaluate(_request(oprf_keys, 4)[1], timeout=10).count == 4  # the burst
        code, details = _status(b, _request(oprf_keys, 1)[1])
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "rate limit" in details
        code, details = _status(b, _request(oprf_keys, 5)[1])
        assert "never fits" in details
        assert k.stub("c").Evaluate(_request(oprf_keys, 3)[1], timeout=10).count == 3  # others unaffected
        refused = [e for e in read_entries(tmp_path / "audit.jsonl") if e["event"] == "evaluate.refused"]
        assert [(e["fields"]["area"], e["fields"]["reason"]) for e in refused] == [("a", "quota"), ("b", "rate"),
                                                                                   ("b", "rate")]
    finally:
        k.stop()


def test_every_batch_is_audited_with_area_count_and_key_id_never_an_element(keysvc, oprf_keys, tmp_path):
    audit = keysvc.app.evaluator.audit.path
    state, req = _request(oprf_keys, 4)
    resp = keysvc.stub("a").Evaluate(req, timeout=10)
    entries = [e for e in read_entries(audit) if e["event"] == "evaluate"]
    assert entries[-1]["fields"] == {"area": "a", "batch_id": req.batch_id, "key_id": req.key_id, "count": 4,
                                     "duplicate": False}
    text = audit.read_bytes()
    for blob in (req.blinded, resp.evaluated):
        for i in range(0, len(blob), 32):
            el = blob[i:i + 32]
            assert el.hex().encode() not in text and el not in text
    assert verify(audit).ok


def test_area_id_comes_from_the_certificate_only(keysvc, oprf_keys, other_keys):
    from fedalert.transport import TlsFiles, secure_channel
    from fedalert.v1 import keysvc_pb2_grpc

    _, req = _request(oprf_keys, 1)
    # Another federation's CA: no TLS session.
    stub = keysvc.stub("a", keys=other_keys)
    with pytest.raises(grpc.RpcError) as e:
        stub.Evaluate(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    # The matcher's certificate is not an area.
    ch = secure_channel(keysvc.target, TlsFiles.for_matcher(oprf_keys / "matcher"), server_name="keysvc")
    try:
        code, details = _status(keysvc_pb2_grpc.KeyServiceStub(ch), req)
    finally:
        ch.close()
    assert code == grpc.StatusCode.PERMISSION_DENIED and "matcher" in details


def test_a_revoked_area_is_refused_on_an_open_stream_too(oprf_keys, tmp_path):
    keys = tmp_path / "keys"
    shutil.copytree(oprf_keys, keys)
    k = KeysvcHandle(keys, tmp_path / "k.db").start()
    try:
        import queue

        q: queue.Queue = queue.Queue()

        def requests():
            while True:
                item = q.get(timeout=20)
                if item is None:
                    return
                yield item

        stream = k.stub("a").EvaluateStream(requests(), timeout=30)
        q.put(_request(keys, 2)[1])
        assert next(stream).count == 2
        revoke_area(keys, "a", "compromised")  # rewrites keysvc/directory.json; the service reloads it
        q.put(_request(keys, 2)[1])
        with pytest.raises(grpc.RpcError) as e:
            next(stream)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED and "revoked" in e.value.details()
        q.put(None)
        code, _ = _status(k.stub("a"), _request(keys, 1)[1])
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert k.stub("b").Evaluate(_request(keys, 1)[1], timeout=10).count == 1
    finally:
        k.stop()


def test_health_is_served(keysvc):
    stub = health_pb2_grpc.HealthStub(keysvc.channel("a"))
    for name in ("", "fedalert.v1.KeyService"):
        assert stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10).status == \
            health_pb2.HealthCheckResponse.SERVING


def test_report_counts_evaluations_and_flags_probing(keysvc, oprf_keys, capsys):
    import json

    from fedalert.cli import main

    stub = keysvc.stub("a")
    stub.Evaluate(_request(oprf_keys, 3)[1], timeout=10)
    _status(stub, pb.EvaluateRequest(batch_id="x1", key_id=_keyset(oprf_keys).primary_id, blinded=g.IDENTITY))
    with pytest.raises(SystemExit) as e:
        main(["keysvc", "report", "--db", str(keysvc.db), "--json"])
    assert e.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["areas"]["a"]["recent"]["evaluations"] == 3
    assert [f["kind"] for f in report["flags"] if f["area"] == "a"] == ["invalid"]
    with pytest.raises(SystemExit):
        main(["keysvc", "report", "--db", str(keysvc.db)])
    assert "FLAGS (1)" in capsys.readouterr().out


def test_volume_far_above_the_baseline_is_flagged():
    import datetime as _dt

    from fedalert.keys.keysvc.report import find_flags
    from fedalert.keys.keysvc.store import COUNTERS

    today = _dt.date(2026, 3, 10)
    day = lambda n: {**{c: 0 for c in COUNTERS}, "evaluations": n}  # noqa: E731
    usage = {"a": {(today - _dt.timedelta(days=i)).isoformat(): day(1000) for i in range(1, 6)},
             "b": {(today - _dt.timedelta(days=i)).isoformat(): day(1000) for i in range(1, 6)}}
    usage["a"][today.isoformat()] = day(200_000)
    usage["b"][today.isoformat()] = day(1200)
    flags = find_flags(usage, today)
    assert [(f["area"], f["kind"]) for f in flags] == [("a", "volume")]


def test_key_service_refuses_key_files_others_can_read(oprf_keys, tmp_path):
    import os

    from fedalert.keys import KeyFileError
    from fedalert.keys.keysvc.server import build_keysvc

    for name in ("keysvc.key", "oprf.keyset.json"):
        keys = tmp_path / name / "keys"
        shutil.copytree(oprf_keys, keys)
        os.chmod(keys / "keysvc" / name, 0o644)
        with pytest.raises(KeyFileError, match="chmod 600"):
            build_keysvc(keys / "keysvc", tmp_path / name / "k.db", "127.0.0.1:0")
        assert not (tmp_path / name / "k.db").exists()  # refused before anything was created
