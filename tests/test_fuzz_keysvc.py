"""The key service's RPCs fuzzed over real mTLS with hypothesis-generated field values.

Promise: whatever an authenticated area sends (any batch id, key id and
blinded bytes, over the unary call and the stream), the key service answers
OK or a clear typed status (never INTERNAL, never a crash), and keeps
serving every area.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedalert.keys import _ristretto as g
from fedalert.keys import oprf
from fedalert.keys.oprf_keyset import OprfKeyset
from fedalert.v1 import keysvc_pb2 as pb
from tests.helpers import KeysvcHandle

RPC_FUZZ = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CLEAR = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED,
         grpc.StatusCode.PERMISSION_DENIED}


@pytest.fixture(scope="module")
def fuzz_keysvc(oprf_keys, tmp_path_factory):
    k = KeysvcHandle(oprf_keys, tmp_path_factory.mktemp("fuzzkeysvc") / "k.db").start()
    yield k
    k.stop()


@pytest.fixture(scope="module")
def good(oprf_keys):
    kid = OprfKeyset.load(oprf_keys / "keysvc" / "oprf.keyset.json").primary_id
    return kid, oprf.blind([b"probe"], oprf.MODE_VOPRF).elements[0]


texts = st.one_of(st.text(max_size=80), st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True),
                  st.from_regex(r"k[0-9a-f]{8}", fullmatch=True), st.sampled_from(["", "k00000000", "x" * 65]))


@st.composite
def blinded(draw, good_element):
    parts = draw(st.lists(st.one_of(st.just(good_element), st.just(g.IDENTITY), st.binary(min_size=32, max_size=32),
                                    st.just(b"\xff" * 32)), max_size=6))
    tail = draw(st.one_of(st.just(b""), st.binary(max_size=40)))
    return b"".join(parts) + tail


def _check(k, call, good, wire=False):
    kid, element = good
    try:
        call()
    except grpc.RpcError as exc:
        if wire and exc.code() is grpc.StatusCode.INTERNAL:
            # gRPC itself refuses bytes it cannot parse, before any handler runs (as for the matcher).
            assert exc.details() == "Exception deserializing request!", exc.details()
        else:
            assert exc.code() in CLEAR, (exc.code(), exc.details())
            assert exc.details() and "internal error" not in exc.details()
    # Whatever happened, the service still serves (another area, a good batch).
    resp = k.stub("c").Evaluate(pb.EvaluateRequest(batch_id=uuid.uuid4().hex, key_id=kid, blinded=element), timeout=10)
    assert resp.count == 1


def test_evaluate_fuzzed(fuzz_keysvc, good):
    stub = fuzz_keysvc.stub("a")

    @RPC_FUZZ
    @given(st.data())
    def run(data):
        req = pb.EvaluateRequest(batch_id=data.draw(texts), key_id=data.draw(st.one_of(texts, st.just(good[0]))),
                                 blinded=data.draw(blinded(good[1])))
        _check(fuzz_keysvc, lambda: stub.Evaluate(req, timeout=20), good)

    run()


def test_evaluate_stream_fuzzed(fuzz_keysvc, good):
    stub = fuzz_keysvc.stub("b")

    @RPC_FUZZ
    @given(st.lists(st.tuples(texts, st.one_of(texts, st.just(good[0])), blinded(good[1])), max_size=4))
    def run(items):
        reqs = [pb.EvaluateRequest(batch_id=b, key_id=k, blinded=x) for b, k, x in items]
        _check(fuzz_keysvc, lambda: list(stub.EvaluateStream(iter(reqs), timeout=20)), good)

    run()


def test_raw_bytes_that_are_no_message_are_refused_and_the_service_keeps_serving(fuzz_keysvc, good):
    ch = fuzz_keysvc.channel("a")
    raw = ch.unary_unary("/fedalert.v1.KeyService/Evaluate", request_serializer=None, response_deserializer=None)

    @RPC_FUZZ
    @given(st.binary(max_size=200))
    def run(blob):
        _check(fuzz_keysvc, lambda: raw(blob, timeout=20), good, wire=True)

    run()
