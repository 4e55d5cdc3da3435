"""A matcher with more areas than the old fixed worker pool: every area streams, and publishing still works.

With 16 fixed worker threads, 16 areas each holding a WatchAlerts stream
took every worker and the next Publish queued forever (found by
bench/federation.py at 32 areas).
"""

from __future__ import annotations

import grpc
import pytest

from fedalert.keys import init_federation
from fedalert.matcher.server import build_matcher, pool_sizes
from fedalert.matcher.streams import UNARY_RESERVE
from fedalert.transport import TlsFiles, secure_channel
from fedalert.v1 import matcher_pb2 as pb
from fedalert.v1 import matcher_pb2_grpc as pb_grpc
from tests.helpers import drain, publish, record

AREAS = [f"x{i:02d}" for i in range(18)]


def test_pool_leaves_workers_for_unary_calls():
    streams, workers, concurrent = pool_sizes(40)
    assert streams >= 80 and workers == streams + UNARY_RESERVE and concurrent > workers
    assert pool_sizes(40, max_streams=10)[0] == 10  # an operator's explicit cap is kept


@pytest.mark.slow
def test_publish_works_while_every_area_holds_its_streams(tmp_path):
    keys = tmp_path / "keys"
    init_federation(keys, "bigfed", AREAS)
    app = build_matcher(keys / "matcher", tmp_path / "matcher.db", "127.0.0.1:0")
    channels, calls = [], []
    try:
        stubs = {}
        for area in AREAS:
            ch = secure_channel(f"127.0.0.1:{app.port}", TlsFiles.for_area(keys / "areas" / area),
                                server_name="matcher")
            channels.append(ch)
            stubs[area] = pb_grpc.MatcherStub(ch)
            # Both streams a node may hold, left open for the whole test.
            calls.append(stubs[area].WatchAlerts(pb.WatchAlertsRequest(), timeout=60))
            calls.append(stubs[area].WatchEnvelopes(pb.WatchEnvelopesRequest(), timeout=60))
        for area in AREAS:  # every stream is really open (its first wake-up needs a worker)
            grpc.channel_ready_future(channels[AREAS.index(area)]).result(timeout=20)
        first, last = AREAS[0], AREAS[-1]
        publish(stubs[first], record("handleF0001", name_dob="p1", pnc="x1"))
        publish(stubs[last], record("handleL0001", name_dob="p1", pnc="x1"))
        # The open stream of `last` delivers its alert.
        got = next(iter(calls[-2]))
        assert got.other_area == first and got.tier == "high"
        assert len(drain(stubs[first])) == 1
    finally:
        for c in calls:
            c.cancel()
        for ch in channels:
            ch.close()
        app.stop()
