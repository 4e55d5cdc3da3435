"""`fedalert node sync` drains (issue 12, item 5): it fetches every alert queued for the area when it
started, bounded by --timeout, and says how many remain (exit 4) when the timeout cuts it short.

A real matcher over mutual TLS on port 0 holds thousands of queued alerts (more than the 500 one
stream read returns, and more than the old two-second fetch took); `fedalert node sync` runs as a
real subprocess with a real node database.
"""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest

from fedalert.matcher.service import MatcherService
from fedalert.node.store import NodeStore
from fedalert.v1 import matcher_pb2 as pb
from tests.helpers import MatcherHandle, publish, record

pytestmark = pytest.mark.slow

QUEUED = 2500  # alerts queued for each of areas a and b


def _queue_alerts(matcher, n: int, areas=("a", "b")) -> None:
    """n cross-area matches between two areas (one PNC token each): n alerts queued for each area."""
    for area in areas:
        stub = matcher.stub(area)
        for start in range(0, n, 1000):
            publish(stub, *[record(f"{area}-h{i:05d}", pnc=f"p{i}") for i in range(start, min(n, start + 1000))])


def _sync(fed_keys, matcher, area, db, *extra, timeout=300):
    return subprocess.run([sys.executable, "-m", "fedalert", "node", "sync", "--keys", str(fed_keys / "areas" / area),
                           "--db", str(db), "--matcher", matcher.target, *map(str, extra)],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _stored(db) -> int:
    store = NodeStore(db)
    try:
        return store.status()["alerts"]
    finally:
        store.close()


def test_count_alerts_counts_the_callers_queue_after_a_cursor(matcher):
    _queue_alerts(matcher, 3)
    a, c = matcher.stub("a"), matcher.stub("c")
    got = a.CountAlerts(pb.CountAlertsRequest(), timeout=10)
    cursors = sorted(r[0] for r in matcher.app.engine.store.db.execute("SELECT cursor FROM alerts WHERE area='a'"))
    assert (got.queued, got.last_cursor) == (3, cursors[-1])
    assert a.CountAlerts(pb.CountAlertsRequest(after_cursor=cursors[0]), timeout=10).queued == 2
    assert c.CountAlerts(pb.CountAlertsRequest(), timeout=10) == pb.CountAlertsResponse(queued=0, last_cursor=0)
    with pytest.raises(grpc.RpcError) as err:
        a.CountAlerts(pb.CountAlertsRequest(after_cursor=2**63), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_sync_fetches_every_queued_alert_and_stops_at_the_timeout_saying_how_many_remain(matcher, fed_keys,
                                                                                         tmp_path):
    _queue_alerts(matcher, QUEUED)
    queues = matcher.app.engine.queues
    assert queues.pending_alerts("a") == queues.pending_alerts("b") == QUEUED

    # b drains its whole queue in one run.
    res = _sync(fed_keys, matcher, "b", tmp_path / "b.db")
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"{QUEUED} new alerts ({QUEUED} fetched)" in res.stdout
    assert _stored(tmp_path / "b.db") == QUEUED and queues.pending_alerts("b") == 0

    # a with a timeout far too short for 2,500 store-then-acknowledge round trips: cut short, exit 4,
    # and the count it gives is what the matcher still holds.
    res = _sync(fed_keys, matcher, "a", tmp_path / "a.db", "--timeout", "0.3")
    assert res.returncode == 4, res.stderr[-2000:]
    left = queues.pending_alerts("a")
    assert 0 < left and _stored(tmp_path / "a.db") + left == QUEUED
    assert f"--timeout 0.3 s ran out with {left} alert(s) still queued for this area" in res.stderr
    assert "Traceback" not in res.stderr
    # Run again: the rest.
    res = _sync(fed_keys, matcher, "a", tmp_path / "a.db")
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"{left} new alerts ({left} fetched)" in res.stdout
    assert _stored(tmp_path / "a.db") == QUEUED and queues.pending_alerts("a") == 0

    # Nothing queued: returns at once (no wait for an idle stream).
    res = _sync(fed_keys, matcher, "a", tmp_path / "a.db")
    assert res.returncode == 0 and "0 new alerts (0 fetched)" in res.stdout


def test_sync_against_a_matcher_without_count_alerts_reads_until_idle(fed_keys, tmp_path, monkeypatch):
    """An older matcher (stood in for by a real one whose CountAlerts answers UNIMPLEMENTED, as a
    server without the method does) still gets drained: the stream is read until it is idle."""
    def unimplemented(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")

    monkeypatch.setattr(MatcherService, "CountAlerts", unimplemented)  # before the server binds its methods
    matcher = MatcherHandle(fed_keys, tmp_path / "old-matcher.db").start()
    try:
        with pytest.raises(grpc.RpcError) as err:
            matcher.stub("c").CountAlerts(pb.CountAlertsRequest(), timeout=10)
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
        _queue_alerts(matcher, 800, areas=("b", "c"))
        res = _sync(fed_keys, matcher, "c", tmp_path / "c.db")
        assert res.returncode == 0, res.stderr[-2000:]
        assert "800 new alerts (800 fetched)" in res.stdout and "does not count its queue" in res.stdout
        assert _stored(tmp_path / "c.db") == 800 and matcher.app.engine.queues.pending_alerts("c") == 0
    finally:
        matcher.stop()
