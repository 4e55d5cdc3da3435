"""Bounded streams over real mTLS: one per area and kind, a server cap, a lifetime,
and unary calls never starved by open streams."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from fedalert.v1 import matcher_pb2 as pb
from tests.conftest import MatcherHandle
from tests.helpers import publish, record


def _wait_for(cond, what: str, tries: int = 200) -> None:
    """Poll a condition (bounded: `tries` x 50 ms); not a timing assertion."""
    for _ in range(tries):
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _outcome(call) -> grpc.StatusCode:
    """Read a stream to its end; return its final status code."""
    try:
        for _ in call:
            pass
    except grpc.RpcError as exc:
        return exc.code()
    return call.code()


@pytest.fixture
def capped(fed_keys, tmp_path):
    m = MatcherHandle(fed_keys, tmp_path / "matcher.db", max_streams=2).start()
    yield m
    m.stop()


def test_a_newer_stream_from_the_same_area_supersedes_the_older(capped):
    a = capped.stub("a")
    reg = capped.app.streams
    first = a.WatchAlerts(pb.WatchAlertsRequest(), timeout=30)
    _wait_for(lambda: reg.count("a", "alerts") == 1, "first stream")
    second = a.WatchAlerts(pb.WatchAlertsRequest(), timeout=30)
    code = _outcome(first)
    assert code == grpc.StatusCode.ABORTED
    assert "replaced by a newer one" in first.details()
    assert reg.count("a", "alerts") == 1
    # The newer stream is the live one: it gets the next alert.
    b = capped.stub("b")
    got = []
    t = threading.Thread(target=lambda: got.append(next(iter(second))))
    t.start()
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    t.join(20)
    second.cancel()
    assert len(got) == 1 and got[0].other_area == "b"


def test_alert_and_envelope_streams_are_separate_kinds(capped):
    a = capped.stub("a")
    alerts = a.WatchAlerts(pb.WatchAlertsRequest(), timeout=30)
    envs = a.WatchEnvelopes(pb.WatchEnvelopesRequest(), timeout=30)
    _wait_for(lambda: capped.app.streams.count("a") == 2, "both streams")
    alerts.cancel()
    envs.cancel()


def test_server_stream_cap_refuses_with_resource_exhausted(capped):
    a, b, c = capped.stub("a"), capped.stub("b"), capped.stub("c")
    sa = a.WatchAlerts(pb.WatchAlertsRequest(), timeout=30)
    sb = b.WatchAlerts(pb.WatchAlertsRequest(), timeout=30)
    _wait_for(lambda: capped.app.streams.count() == 2, "two streams")
    sc = c.WatchAlerts(pb.WatchAlertsRequest(), timeout=30)
    assert _outcome(sc) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "maximum of 2 streams" in sc.details()
    sa.cancel()
    sb.cancel()
    _wait_for(lambda: capped.app.streams.count() == 0, "streams to close")


def test_many_streams_cannot_starve_unary_calls(capped):
    """Areas open 40 streams at once (more than the server's worker threads);
    the server keeps one per area, refuses or ends the rest, and unary calls
    are still served."""
    stubs = {x: capped.stub(x) for x in "abc"}
    calls = [stubs["abc"[i % 3]].WatchAlerts(pb.WatchAlertsRequest(), timeout=30) for i in range(40)]
    workers = capped.app.streams.max_streams + 8
    assert len(calls) > workers
    # Unary calls from every area go through while all that is happening.
    for area, stub in stubs.items():
        resp = publish(stub, record(f"handle{area.upper()}0001", pnc=f"x-{area}"))
        assert resp.records_accepted == 1
        assert stub.AckAlert(pb.AckAlertRequest(alert_id="a-none"), timeout=10).acknowledged is False
    _wait_for(lambda: capped.app.streams.count() <= 2, "at most the cap of live streams")
    for c in calls:
        c.cancel()
    codes = {_outcome(c) for c in calls}
    assert codes <= {grpc.StatusCode.ABORTED, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED}
    _wait_for(lambda: capped.app.streams.count() == 0, "streams to close")


def test_streams_end_cleanly_after_their_lifetime(fed_keys, tmp_path):
    m = MatcherHandle(fed_keys, tmp_path / "matcher.db", stream_lifetime_s=0.5).start()
    try:
        a, b = m.stub("a"), m.stub("b")
        publish(a, record("handleA0001", pnc="x1"))
        publish(b, record("handleB0001", pnc="x1"))
        call = a.WatchAlerts(pb.WatchAlertsRequest(), timeout=60)
        got = list(call)  # ends by itself, well before the client deadline
        assert call.code() == grpc.StatusCode.OK
        assert len(got) == 1
        _wait_for(lambda: m.app.streams.count() == 0, "the stream slot to be released")
    finally:
        m.stop()


def test_stream_cursor_beyond_range_is_invalid(matcher):
    call = matcher.stub("a").WatchAlerts(pb.WatchAlertsRequest(after_cursor=2**64 - 1), timeout=10)
    assert _outcome(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert "after_cursor" in call.details()


def test_a_stream_stuck_on_a_client_that_never_reads_is_reaped(matcher):
    """A superseded stream whose thread is blocked sending to a client that
    never reads (flow control) is cancelled, so it cannot pin a thread."""
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    match_id = matcher.app.engine.store.db.execute("SELECT match_id FROM matches").fetchone()[0]
    from fedalert.matcher.queues import MAX_ENVELOPE_BYTES

    for i in range(8):
        a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id=f"e{i}", match_id=match_id, to_area="b", kind="release",
                                              sealed=bytes([i]) * MAX_ENVELOPE_BYTES), timeout=30)
    reg = matcher.app.streams
    stuck = b.WatchEnvelopes(pb.WatchEnvelopesRequest(), timeout=120)  # never read
    _wait_for(lambda: reg.count("b", "envelopes") == 1, "the first stream")
    time.sleep(1.0)  # let the server fill the flow-control window and block (not an assertion)
    fresh = matcher.stub("b").WatchEnvelopes(pb.WatchEnvelopesRequest(), timeout=120)  # another connection
    first = next(iter(fresh))
    assert first.envelope_id == "e0"
    _wait_for(lambda: reg.count("b", "envelopes") == 1, "the stuck stream to be reaped", tries=300)
    fresh.cancel()
    stuck.cancel()


def test_node_keeps_receiving_alerts_across_stream_lifetimes_and_a_rival_reader(fed_keys, tmp_path):
    """Real node daemons against a matcher whose streams end every 0.5 s; a rival
    reader of area a (like `fedalert node sync`) supersedes a's stream meanwhile.
    Every alert still reaches both nodes."""
    from fedalert.node.importer import import_file
    from fedalert.node.server import NodeApp, NodeConfig
    from fedalert.node.store import NodeStore

    m = MatcherHandle(fed_keys, tmp_path / "matcher.db", stream_lifetime_s=0.5).start()
    apps = {}
    try:
        for area in ("a", "b"):
            cfg = NodeConfig(keys_dir=fed_keys / "areas" / area, db=tmp_path / f"{area}.db", matcher=m.target,
                             poll_interval=0.1)
            apps[area] = NodeApp(cfg).start()
        time.sleep(1.5)  # several stream lifetimes pass before anything is published (not an assertion)
        rival = m.stub("a").WatchAlerts(pb.WatchAlertsRequest(), timeout=1.0)  # supersedes the node's stream
        try:
            assert list(rival) == []
        except grpc.RpcError as exc:  # idle until its deadline, or superseded in turn by the node
            assert exc.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED)
        for area, row in (("a", "A1,Ambrose,Tolliver,04/07/1983"), ("b", "B1,Ambrose,Tolliver,04/07/1983")):
            p = tmp_path / f"{area}.csv"
            p.write_text("record_id,forename,surname,date_of_birth\n" + row + "\n")
            store = NodeStore(apps[area].cfg.db)
            import_file(store, p)
            store.close()
            apps[area].wake.set()
        _wait_for(lambda: apps["a"].store.matches(True) and apps["b"].store.matches(True), "alerts on both nodes",
                  tries=600)
    finally:
        for app in apps.values():
            app.stop()
        m.stop()
