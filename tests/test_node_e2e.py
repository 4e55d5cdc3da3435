"""A node daemon against a real matcher over mTLS: import -> publish -> alerts."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from fedalert.node.importer import import_file
from fedalert.node.server import NodeApp, NodeConfig
from fedalert.node.store import NodeStore
from tests.helpers import wait_until


_wait = wait_until


CSV_A = "record_id,forename,surname,date_of_birth\nA1,Ambrose,Tolliver,04/07/1983\nA2,Silas,Moorcroft,01/02/1970\n"
CSV_B = "record_id,forename,surname,date_of_birth\nB1,Ambrose,Tolliver,04/07/1983\nB2,Verity,Larkspur,03/03/1991\n"


@pytest.fixture
def nodes(matcher, fed_keys, tmp_path):
    apps = {}
    for area in ("a", "b"):
        cfg = NodeConfig(keys_dir=fed_keys / "areas" / area, db=tmp_path / f"{area}.db",
                         matcher=matcher.target, poll_interval=0.1)
        apps[area] = NodeApp(cfg).start()
    yield apps
    for app in apps.values():
        app.stop()


def _import(app, tmp_path, text, name):
    p = tmp_path / name
    p.write_text(text)
    store = NodeStore(app.cfg.db)
    try:
        import_file(store, p)
    finally:
        store.close()
    app.wake.set()


def test_import_publish_alert_both_sides_then_withdraw(nodes, tmp_path):
    _import(nodes["a"], tmp_path, CSV_A, "a.csv")
    _import(nodes["b"], tmp_path, CSV_B, "b.csv")
    assert _wait(lambda: nodes["a"].store.matches(live_only=True) and nodes["b"].store.matches(live_only=True))
    ma, mb = nodes["a"].store.matches(True), nodes["b"].store.matches(True)
    assert len(ma) == len(mb) == 1 and ma[0]["match_id"] == mb[0]["match_id"]
    assert ma[0]["record_id"] == "A1" and mb[0]["record_id"] == "B1"
    assert ma[0]["tier"] == "high" and "name_dob" in ma[0]["kinds"]
    # The coordinator's listing says in plain words what agreed.
    out = subprocess.run([sys.executable, "-m", "fedalert", "node", "matches", "--db", str(nodes["a"].cfg.db), "--json"],
                         capture_output=True, text=True, timeout=60, check=True)
    listed = json.loads(out.stdout)
    assert listed[0]["evidence"] == "forename same, surname same, date of birth same"
    # Everything is published and nothing is pending.
    assert nodes["a"].store.pending_count() == 0
    # Withdraw B1: both sides learn that the match is withdrawn.
    with nodes["b"].store.transaction():
        nodes["b"].store.withdraw_record("B1", "closed")
    nodes["b"].wake.set()
    assert _wait(lambda: not nodes["a"].store.matches(True) and not nodes["b"].store.matches(True))
    types = [a["type"] for a in nodes["a"].store.alerts()]
    assert types == ["new", "withdrawn"]


def test_publisher_resumes_after_matcher_outage(nodes, matcher, tmp_path):
    matcher.stop()
    _import(nodes["a"], tmp_path, CSV_A, "a.csv")
    _import(nodes["b"], tmp_path, CSV_B, "b.csv")
    time.sleep(0.5)
    assert nodes["a"].store.pending_count() == 2  # nothing could be sent
    matcher.restart_same_port()
    assert _wait(lambda: nodes["a"].store.matches(True) and nodes["b"].store.matches(True), timeout=30)
    assert nodes["a"].store.pending_count() == 0


def test_node_refuses_another_area_posing_as_the_matcher(fed_keys, tmp_path):
    """An area certificate also names 127.0.0.1; the node must still refuse it as 'matcher'."""
    import grpc

    from fedalert.serving import add_health
    from fedalert.transport import TlsFiles, create_server
    from fedalert.node.server import connect

    server, port = create_server("127.0.0.1:0", TlsFiles.for_area(fed_keys / "areas" / "c").server_credentials())
    add_health(server, [])
    server.start()
    try:
        cfg = NodeConfig(keys_dir=fed_keys / "areas" / "a", db=tmp_path / "a.db", matcher=f"127.0.0.1:{port}")
        channel, stub = connect(cfg)
        from fedalert.v1 import matcher_pb2 as pb

        with channel, pytest.raises(grpc.RpcError) as err:
            stub.Publish(pb.PublishRequest(batch_id="x"), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(0)
