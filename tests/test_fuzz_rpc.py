"""Every matcher RPC fuzzed over real mTLS with hypothesis-generated field values.

Promise: whatever an authenticated area sends, the matcher answers with OK
or a clear typed status (never INTERNAL, never a crash), and a refused call
leaves the database exactly as it was. Raw wire bytes that are not a valid
message are refused by gRPC itself, and the server keeps serving.
"""

from __future__ import annotations

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedalert.v1 import matcher_pb2 as pb
from tests.conftest import MatcherHandle
from tests.dbsnap import db_snapshot
from tests.helpers import add_group, publish, record

RPC_FUZZ = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CLEAR = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
         grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.FAILED_PRECONDITION}

texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="\x00\x01\u202e\ufeff=+-@", max_size=10),
    st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True),
    st.sampled_from(["", "a", "b", "c", "k1", "pnc", "name_dob", "request", "release", "closed", "x" * 65]),
    st.text(min_size=1000, max_size=3000),
)
blobs = st.one_of(st.binary(max_size=40), st.binary(min_size=16, max_size=16))
cursors = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 2**63 - 1, 2**63, 2**64 - 1]))


@pytest.fixture(scope="module")
def fuzz_matcher(fed_keys, tmp_path_factory):
    m = MatcherHandle(fed_keys, tmp_path_factory.mktemp("fuzzrpc") / "matcher.db").start()
    a, b = m.stub("a"), m.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    yield m
    m.stop()


@pytest.fixture(scope="module")
def stubs(fuzz_matcher):
    return {x: fuzz_matcher.stub(x) for x in "abc"}


def _check(matcher, fn, request):
    before = db_snapshot(matcher.db)
    try:
        fn(request, timeout=20)
    except grpc.RpcError as exc:
        assert exc.code() in CLEAR, (exc.code(), exc.details())
        assert exc.details() and "internal error" not in exc.details()
        assert db_snapshot(matcher.db) == before, "a refused call changed the database"
    # Whatever happened, the server still serves.
    assert matcher.stub("c").AckAlert(pb.AckAlertRequest(alert_id="a-probe"), timeout=10).acknowledged is False


counts = st.one_of(st.integers(0, 4), st.sampled_from([2**32 - 1, 2**31, 2049, 100000]))


@st.composite
def publish_requests(draw):
    """Packed records: well-formed groups, and raw kinds/counts/values that need not agree."""
    req = pb.PublishRequest(batch_id=draw(texts))
    for _ in range(draw(st.integers(0, 3))):
        rec = req.records.add(handle=draw(texts), key_id=draw(texts))
        if draw(st.booleans()):
            for _ in range(draw(st.integers(0, 3))):
                values = draw(st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=4))
                add_group(rec, draw(texts), values)
        else:
            rec.kinds.extend(draw(st.lists(texts, max_size=3)))
            rec.counts.extend(draw(st.lists(counts, max_size=3)))
            rec.values = draw(st.one_of(blobs, st.binary(max_size=100)))
    return req


@RPC_FUZZ
@given(st.sampled_from("abc"), publish_requests())
def test_publish_fuzz(fuzz_matcher, stubs, area, req):
    _check(fuzz_matcher, stubs[area].Publish, req)


@RPC_FUZZ
@given(st.sampled_from("abc"), texts, texts)
def test_withdraw_fuzz(fuzz_matcher, stubs, area, handle, reason):
    _check(fuzz_matcher, stubs[area].Withdraw, pb.WithdrawRequest(handle=handle, reason=reason))


@RPC_FUZZ
@given(st.sampled_from("abc"), texts)
def test_ack_fuzz(fuzz_matcher, stubs, area, alert_id):
    _check(fuzz_matcher, stubs[area].AckAlert, pb.AckAlertRequest(alert_id=alert_id))
    _check(fuzz_matcher, stubs[area].AckEnvelope, pb.AckEnvelopeRequest(envelope_id=alert_id))


@RPC_FUZZ
@given(st.sampled_from("abc"), texts, texts, texts, texts, blobs, st.booleans())
def test_send_envelope_fuzz(fuzz_matcher, stubs, area, envelope_id, match_id, to_area, kind, sealed, real_match):
    if real_match:  # aim some examples past the match check, at the later validations
        match_id = fuzz_matcher.app.engine.store.db.execute("SELECT match_id FROM matches LIMIT 1").fetchone()[0]
    req = pb.SendEnvelopeRequest(envelope_id=envelope_id, match_id=match_id, to_area=to_area, kind=kind,
                                 sealed=sealed)
    _check(fuzz_matcher, stubs[area].SendEnvelope, req)


@RPC_FUZZ
@given(st.sampled_from("abc"), cursors)
def test_count_alerts_fuzz(fuzz_matcher, stubs, area, cursor):
    _check(fuzz_matcher, stubs[area].CountAlerts, pb.CountAlertsRequest(after_cursor=cursor))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from("abc"), cursors, st.booleans())
def test_watch_streams_fuzz(fuzz_matcher, stubs, area, cursor, envelopes):
    stub = stubs[area]
    call = (stub.WatchEnvelopes(pb.WatchEnvelopesRequest(after_cursor=cursor), timeout=0.5) if envelopes
            else stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=cursor), timeout=0.5))
    try:
        for _ in call:
            pass
    except grpc.RpcError as exc:
        assert exc.code() in CLEAR | {grpc.StatusCode.DEADLINE_EXCEEDED}, (exc.code(), exc.details())


@RPC_FUZZ
@given(st.sampled_from(["Publish", "Withdraw", "AckAlert", "CountAlerts", "SendEnvelope", "AckEnvelope"]),
       st.one_of(st.binary(max_size=200), st.sampled_from([b"\x0a\x02\xff\xfe", b"\x12\x05\x0a\x03\xc3\x28x"])))
def test_raw_wire_bytes_are_refused_cleanly(fuzz_matcher, method, raw):
    """Bytes that are not a valid message (e.g. a string field with non-UTF-8)."""
    channel = fuzz_matcher._channels[0]
    call = channel.unary_unary(f"/fedalert.v1.Matcher/{method}")  # no serializer: raw bytes on the wire
    before = db_snapshot(fuzz_matcher.db)
    try:
        call(raw, timeout=20)
    except grpc.RpcError as exc:
        # gRPC refuses a message it cannot parse (INTERNAL "Exception deserializing request")
        # before any handler runs; a parsable one gets a typed status from the handler.
        assert exc.code() in CLEAR | {grpc.StatusCode.INTERNAL}, exc.code()
        if exc.code() is grpc.StatusCode.INTERNAL:
            assert "deserializ" in exc.details().lower(), exc.details()
        assert db_snapshot(fuzz_matcher.db) == before
    assert fuzz_matcher.stub("c").AckAlert(pb.AckAlertRequest(alert_id="x"), timeout=10).acknowledged is False


def test_enormous_fields_are_refused_with_a_clear_status(fuzz_matcher, stubs):
    big = "h" * (7 * 1024 * 1024)
    before = db_snapshot(fuzz_matcher.db)
    for fn, req in [
        (stubs["a"].Publish, pb.PublishRequest(batch_id="ok", records=[pb.RecordTokens(handle=big, key_id="k1")])),
        (stubs["a"].Withdraw, pb.WithdrawRequest(handle=big)),
        (stubs["a"].SendEnvelope, pb.SendEnvelopeRequest(envelope_id=big, match_id="m", to_area="b", kind="request",
                                                         sealed=b"x")),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            fn(req, timeout=30)
        assert err.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    assert db_snapshot(fuzz_matcher.db) == before
