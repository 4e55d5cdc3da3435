"""Revocation end to end: matcher and nodes refuse a revoked party at once.

Real parts: a key ceremony on disk; the matcher over real mTLS on port 0 with a
real SQLite file, holding its own copy of matcher/ (the custodian sends it a
new directory.json by copying the file, as an operator would); node daemons
with their own copies of their folders.
"""

from __future__ import annotations

import collections

import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import grpc
import pytest

from fedalert.keys import init_federation, revoke_area
from fedalert.keys.custody import renew_matcher
from fedalert.node.importer import import_file
from fedalert.node.server import NodeApp, NodeConfig
from fedalert.node.store import NodeStore
from fedalert.node.trust import NodeTrust, PeerRefusedError
from fedalert.v1 import matcher_pb2 as pb
from tests.conftest import MatcherHandle
from tests.helpers import drain, publish, record, wait_until


def _wait(pred, timeout=20.0):
    return wait_until(pred, timeout, interval=0.1)


@pytest.fixture
def ceremony(tmp_path) -> Path:
    out = tmp_path / "ceremony"
    init_federation(out, "revfed", ["a", "b", "c"])
    return out


@pytest.fixture
def view(ceremony, tmp_path) -> Path:
    """What the operators hold: copies of matcher/ and areas/<id>/."""
    v = tmp_path / "held"
    shutil.copytree(ceremony / "matcher", v / "matcher")
    shutil.copytree(ceremony / "areas", v / "areas")
    return v


def _send_directory(ceremony: Path, *folders: Path) -> None:
    for f in folders:
        shutil.copyfile(ceremony / "ca" / "directory.json", f / "directory.json")


@pytest.fixture
def matcher(view, tmp_path):
    m = MatcherHandle(view, tmp_path / "matcher.db").start()
    yield m
    m.stop()


def _watch_alerts(stub):
    """Hold an alert stream open in a thread; the dict gets the status code it ends with."""
    ended = {}

    def watch():
        call = stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=0), timeout=30)
        try:
            for _ in call:
                pass
        except grpc.RpcError as exc:
            ended["code"] = exc.code()

    t = threading.Thread(target=watch)
    t.start()
    time.sleep(0.5)  # let the stream open before the directory changes
    return t, ended


def _types(alerts):
    return [pb.AlertType.Name(x.type) for x in alerts]


def _records_of(db: Path, area: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM records WHERE area=?", [area]).fetchone()[0]
    finally:
        con.close()


def test_revoked_area_is_refused_on_open_streams_and_withdrawn(matcher, ceremony, view, tmp_path):
    a, b, c = matcher.stub("a"), matcher.stub("b"), matcher.stub("c")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    publish(c, record("handleC0001", pnc="x1"))
    first_a, first_b = drain(a), drain(b)
    assert len(first_a) == len(first_b) == 2

    # c holds a live alert stream open while it is revoked.
    t, ended = _watch_alerts(c)
    revoke_area(ceremony, "c", "test: area withdrew from the federation")
    _send_directory(ceremony, view / "matcher")
    t.join(15)
    assert not t.is_alive() and ended["code"] == grpc.StatusCode.PERMISSION_DENIED

    with pytest.raises(grpc.RpcError) as err:
        publish(c, record("handleC0002", pnc="x2"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Nothing is relayed to the revoked area either, not even for a match it was in.
    ac = next(x.match_id for x in first_a if x.other_area == "c")
    with pytest.raises(grpc.RpcError) as err:
        a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id="e1", match_id=ac, to_area="c", kind="request",
                                              sealed=b"opaque"), timeout=5)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and "not an active member" in err.value.details()

    # Withdrawal: c's tokens are purged and a and b are told about their matches with c.
    assert _wait(lambda: _records_of(matcher.db, "c") == 0)
    wa = drain(a, after=first_a[-1].cursor)
    wb = drain(b, after=first_b[-1].cursor)
    assert _types(wa) == ["ALERT_TYPE_WITHDRAWN"] and wa[0].other_area == "c"
    assert _types(wb) == ["ALERT_TYPE_WITHDRAWN"] and wb[0].other_area == "c"
    ab = {x.match_id for x in first_a if x.other_area == "b"}
    assert wa[0].match_id not in ab  # the a-b match stands
    audit = [json.loads(line) for line in matcher.db.with_suffix(".audit.jsonl").read_text().splitlines()]
    revoked = [e for e in audit if e["event"] == "area_revoked"]
    assert len(revoked) == 1 and revoked[0]["fields"]["area"] == "c" and revoked[0]["fields"]["matches_withdrawn"] == 2


def test_revocation_that_arrives_while_the_matcher_is_down_is_enforced_at_start(matcher, ceremony, view):
    a, c = matcher.stub("a"), matcher.stub("c")
    publish(a, record("handleA0001", pnc="x1"))
    publish(c, record("handleC0001", pnc="x1"))
    seen = drain(a)
    assert len(seen) == 1
    matcher.stop()
    revoke_area(ceremony, "c", "test: revoked during maintenance")
    _send_directory(ceremony, view / "matcher")
    matcher.restart_same_port()
    assert _records_of(matcher.db, "c") == 0
    a = matcher.stub("a")
    assert _types(drain(a, after=seen[-1].cursor)) == ["ALERT_TYPE_WITHDRAWN"]


def test_node_refuses_revoked_and_unknown_areas_after_reloading_its_directory(ceremony, view):
    trust = NodeTrust(view / "areas" / "a")
    trust.check_sender("b")
    assert trust.sender_key("b") is not None
    revoke_area(ceremony, "b", "test: key exposed")
    _send_directory(ceremony, view / "areas" / "a")  # no restart: the file is re-read
    with pytest.raises(PeerRefusedError, match="revoked"):
        trust.check_sender("b")
    with pytest.raises(PeerRefusedError, match="revoked"):
        trust.sender_key("b")
    with pytest.raises(PeerRefusedError, match="not in the federation"):
        trust.check_sender("zz")
    trust.check_sender("c")
    # An older directory is never taken back.
    older = json.loads((view / "areas" / "b" / "directory.json").read_text())
    (view / "areas" / "a" / "directory.json").write_text(json.dumps(older))
    with pytest.raises(PeerRefusedError):
        trust.check_sender("b")


def test_node_refuses_a_matcher_whose_certificate_was_revoked(matcher, ceremony, view, tmp_path):
    folder = view / "areas" / "a"
    app = NodeApp(NodeConfig(keys_dir=folder, db=tmp_path / "a.db", matcher=matcher.target,
                             poll_interval=0.1)).start()
    try:
        csv = tmp_path / "a.csv"
        csv.write_text("record_id,forename,surname,date_of_birth\nA1,Ambrose,Tolliver,04/07/1983\n")
        store = NodeStore(tmp_path / "a.db")
        import_file(store, csv)
        app.wake.set()
        assert _wait(lambda: app.store.pending_count() == 0 and app.lifecycle.matcher_state == "allowed")

        # The custodian re-issues the matcher certificate and revokes the old one; node a hears first.
        renew_matcher(ceremony, revoke_reason="test: matcher key exposed")
        _send_directory(ceremony, folder)
        csv.write_text("record_id,forename,surname,date_of_birth\nA1,Ambrose,Tolliver,04/07/1983\n"
                       "A2,Silas,Moorcroft,01/02/1970\n")
        import_file(store, csv)
        app.wake.set()
        assert _wait(lambda: app.lifecycle.matcher_state == "refused")
        time.sleep(1.0)
        assert app.store.pending_count() == 1  # nothing more was sent to the revoked matcher
        assert not app.watcher.is_alive()  # and the alert stream is closed
        audit = app.cfg.audit_path().read_text()
        assert '"matcher_refused"' in audit

        # The matcher gets its new certificate: the node talks to it again, by itself.
        matcher.stop()
        for n in ("matcher.crt", "matcher.key", "directory.json"):
            shutil.copyfile(ceremony / "matcher" / n, view / "matcher" / n)
        matcher.restart_same_port()
        assert _wait(lambda: app.store.pending_count() == 0, timeout=40)
        assert app.lifecycle.matcher_state == "allowed" and app.watcher.is_alive()
        store.close()
    finally:
        app.stop()


def test_a_revoked_node_does_not_hammer_the_matcher(matcher, ceremony, view, tmp_path, caplog):
    import logging

    app = NodeApp(NodeConfig(keys_dir=view / "areas" / "c", db=tmp_path / "c.db", matcher=matcher.target,
                             poll_interval=0.1)).start()
    try:
        assert _wait(lambda: app.watcher.is_alive())
        caplog.set_level(logging.ERROR, logger="fedalert.node.inbox")
        revoke_area(ceremony, "c", "test: revoked")
        _send_directory(ceremony, view / "matcher")  # only the matcher knows so far
        assert _wait(lambda: any("matcher refused this area" in r.getMessage() for r in caplog.records))
        time.sleep(1.5)
        refused = [r for r in caplog.records if "matcher refused this area" in r.getMessage()]
        # One refusal per stream watcher (alerts, envelopes), then a long wait: no tight reconnect loop.
        per_watcher = collections.Counter(r.name for r in refused)
        assert per_watcher and max(per_watcher.values()) == 1, per_watcher
    finally:
        app.stop()


def test_renewed_area_certificate_replaces_the_old_one_at_the_matcher(matcher, ceremony, view):
    """After `keys renew`, the matcher pins the new certificate: the old one is refused, streams included."""
    from fedalert.keys import renew_area

    old_b = matcher.stub("b")  # b's certificate as held before the renewal
    publish(old_b, record("handleB0001", pnc="x1"))
    t, ended = _watch_alerts(old_b)
    renew_area(ceremony, "b")
    _send_directory(ceremony, view / "matcher")
    t.join(15)
    assert not t.is_alive() and ended["code"] == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        publish(old_b, record("handleB0002", pnc="x2"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and "renewed" in err.value.details()
    # The renewed certificate (the custodian's copy of areas/b) works, and b's data is untouched.
    new_b = matcher.stub("b", keys=ceremony)
    publish(new_b, record("handleB0002", pnc="x2"))
    a = matcher.stub("a")
    publish(a, record("handleA0001", pnc="x1"))
    assert [x.other_area for x in drain(a)] == ["b"]
    assert _records_of(matcher.db, "b") == 2
