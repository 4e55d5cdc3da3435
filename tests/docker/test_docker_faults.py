"""Fault tests on the real compose network (matcher + areas a, b, c).

These drive the real roles through the commands of docker/compose.yaml and
docker/scripts/area.sh. Until the image's `fedalert --help` offers every role
they need (keys, matcher, node, health), the `roles_ready` fixture makes them
skip locally and FAIL under CI=true.

The promise under test (DESIGN.md section 5): alerts are durable, persisted
before acknowledgement, delivered at least once with a resume cursor,
idempotent by alert id, and matcher restarts and node outages lose nothing.
Each test uses its own record ids, so they share one network.

The disclosure test drives the relay of sealed envelopes through the same
matcher (DESIGN.md section 5, docs/PROTOCOL.md section 5): a request or a
release in flight when the matcher dies completes after its restart.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
import sqlite3

from _dockernet import ROLE_SERVICES, run, wait_for
from _synth import background, pairs, with_case_values, write_csv

ALERT_WAIT = 180  # seconds; bounded waits, no timed assertions
CATCH_UP_WAIT = 900  # a whole large import published after a restart (OPRF mode: ~40 ms of CPU a record)


def _alerted(net, area: str, record_ids: set[str], other: str) -> dict[str, list[dict]]:
    """Alerts in `area` about `record_ids` naming area `other`, grouped by record id."""
    got = collections.defaultdict(list)
    for alert in net.alerts(area):
        if alert.get("record_id") in record_ids and alert.get("other_area") == other:
            got[alert["record_id"]].append(alert)
    return got


def _wait_alerted(net, area: str, record_ids: set[str], other: str) -> dict[str, list[dict]]:
    return wait_for(lambda: (lambda g: g if set(g) == record_ids else None)(_alerted(net, area, record_ids, other)),
                    timeout=ALERT_WAIT, interval=2, what=f"alerts in area {area} for {sorted(record_ids)}")


def _assert_once_per_match(net, area: str) -> None:
    """Idempotent delivery: no alert id twice in an inbox."""
    ids = [a["alert_id"] for a in net.alerts(area)]
    dupes = [i for i, n in collections.Counter(ids).items() if n > 1]
    assert not dupes, f"area {area} holds alert(s) {dupes} more than once"


_MATCHER_DB = "/var/lib/fedalert/matcher.db"
_SQL_ONE = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=30); "
            "print(c.execute(sys.argv[2]).fetchone()[0] or 0)")


def _matcher_count(net, sql: str) -> int:
    """One number from the live matcher's database, read inside its container."""
    return int(net.exec("matcher", "python", "-c", _SQL_ONE, _MATCHER_DB, sql).stdout.decode().strip())


def _dead_matcher_count(net, tmp_path, sql: str) -> int:
    """One number from the database a killed matcher left on its volume (WAL included)."""
    out = tmp_path / "matcher-state"
    run(["docker", "cp", f"{net.cid('matcher')}:/var/lib/fedalert", str(out)])
    con = sqlite3.connect(str(out / "matcher.db"), timeout=30)
    try:
        return int(con.execute(sql).fetchone()[0] or 0)
    finally:
        con.close()


def test_matcher_sigkill_mid_publish_loses_no_alert(federation, tmp_path):
    """SIGKILL the matcher while area a publishes a large import, restart it.

    The test shows the kill landed mid-publish: the database the dead matcher
    left holds some of a's batches but not all. After the restart every record
    of a reaches the matcher exactly once, and every planted pair alerts both
    areas, once, under one match id.
    """
    planted = pairs("kill", 1000, 5, "a", "b")
    n_background = 2_000  # 9 publish batches of 250 (the node's batch in OPRF mode)
    a_rows = background("kill", "a", 20_000, n_background) + [p.left for p in planted]
    federation.area("import", "b", str(write_csv(tmp_path / "b.csv", [p.right for p in planted])))
    a_csv = write_csv(tmp_path / "a.csv", a_rows)
    base_records = _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'")
    # batches is WITHOUT ROWID: "since" is by the matcher's own apply time.
    base_ms = _matcher_count(federation, "SELECT coalesce(max(applied_ms), 0) FROM batches")
    sent_since = f"SELECT sum(records) FROM batches WHERE area='a' AND applied_ms > {base_ms}"

    federation.area("import", "a", str(a_csv), timeout=600)
    # Kill as soon as the matcher has taken a's first batch (bounded wait).
    wait_for(lambda: _matcher_count(federation, sent_since) > 0, timeout=ALERT_WAIT, interval=0.2,
             what="the matcher's first batch from area a")
    run(["docker", "kill", "--signal", "KILL", federation.cid("matcher")])
    at_death = _dead_matcher_count(federation, tmp_path, sent_since)
    assert 0 < at_death < len(a_rows), f"kill should land mid-publish: {at_death} of {len(a_rows)} records received"

    federation.compose("start", "matcher")
    federation.wait_healthy("matcher")
    wait_for(lambda: _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'")
             >= base_records + len(a_rows), timeout=CATCH_UP_WAIT, interval=2, what="all of a's records at the matcher")
    assert _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'") == base_records + len(a_rows)
    got_a = _wait_alerted(federation, "a", {p.left["record_id"] for p in planted}, "b")
    got_b = _wait_alerted(federation, "b", {p.right["record_id"] for p in planted}, "a")
    for got in (got_a, got_b):
        for rid, alerts in got.items():
            assert len({a["match_id"] for a in alerts}) == 1, f"{rid}: one match, not {alerts}"
            assert [a["type"] for a in alerts] == ["new"], f"{rid}: one alert, not {alerts}"
    assert {a["match_id"] for g in got_a.values() for a in g} == {a["match_id"] for g in got_b.values() for a in g}
    _assert_once_per_match(federation, "a")
    _assert_once_per_match(federation, "b")


def test_key_service_stopped_mid_publish_nodes_resume_without_loss_or_duplication(federation, tmp_path):
    """Stop the OPRF key service while area a publishes a large import, start it again.

    The matcher holds some of a's records when the key service stops and no
    more while it is down (no token can be made: nothing is published under
    a guess); after the restart every record of a reaches the matcher exactly
    once and every planted pair alerts both areas once.
    """
    planted = pairs("ksvc", 7000, 4, "a", "c")
    a_rows = background("ksvc", "a", 30_000, 1_500) + [p.left for p in planted]
    federation.area("import", "c", str(write_csv(tmp_path / "c.csv", [p.right for p in planted])))
    base_records = _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'")
    federation.area("import", "a", str(write_csv(tmp_path / "a.csv", a_rows)), timeout=600)
    wait_for(lambda: _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'") > base_records,
             timeout=ALERT_WAIT, interval=0.5, what="area a's first records at the matcher")
    federation.compose("stop", "keysvc", timeout=60)
    at_stop = _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'")
    assert at_stop < base_records + len(a_rows), "the key service should stop mid-publish"
    import time

    time.sleep(8)  # down for a while: a's node retries, publishes nothing new it cannot tokenise
    in_flight = _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'")
    assert in_flight < base_records + len(a_rows)
    federation.compose("start", "keysvc")
    federation.wait_healthy("keysvc")
    wait_for(lambda: _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'")
             >= base_records + len(a_rows), timeout=CATCH_UP_WAIT, interval=2, what="all of a's records at the matcher")
    assert _matcher_count(federation, "SELECT count(*) FROM records WHERE area='a'") == base_records + len(a_rows)
    got_a = _wait_alerted(federation, "a", {p.left["record_id"] for p in planted}, "c")
    for rid, alerts in got_a.items():
        assert [x["type"] for x in alerts] == ["new"], (rid, alerts)
    _assert_once_per_match(federation, "a")
    _assert_once_per_match(federation, "c")


def test_area_stopped_then_catches_up(federation, tmp_path):
    # c is known to be publishing: it gets an alert with b first.
    bc = pairs("stop", 3000, 1, "b", "c")
    ac = pairs("stop", 3100, 2, "a", "c")
    federation.area("import", "b", str(write_csv(tmp_path / "b.csv", [p.left for p in bc])))
    federation.area("import", "c", str(write_csv(tmp_path / "c.csv", [p.right for p in bc + ac])))
    _wait_alerted(federation, "c", {p.right["record_id"] for p in bc}, "b")

    federation.compose("stop", "area-c")
    # While c is down, a publishes people c already published: the matcher must
    # queue c's alerts durably.
    federation.area("import", "a", str(write_csv(tmp_path / "a.csv", [p.left for p in ac])))
    _wait_alerted(federation, "a", {p.left["record_id"] for p in ac}, "c")

    federation.compose("start", "area-c")
    federation.wait_healthy("area-c")
    _wait_alerted(federation, "c", {p.right["record_id"] for p in ac}, "a")
    _assert_once_per_match(federation, "c")


def test_area_network_disconnected_then_reconnected(federation, tmp_path):
    net = federation.network_name("federation")
    ab_old = pairs("net", 4000, 2, "a", "b")   # b publishes before the cut, a during it
    ab_new = pairs("net", 4100, 2, "a", "b")   # a publishes before the cut, b imports during it
    canary = pairs("net", 4200, 1, "a", "b")   # b's alert for it shows b's import was published
    federation.area("import", "a", str(write_csv(tmp_path / "a1.csv", [p.left for p in ab_new + canary])))
    federation.area("import", "b", str(write_csv(tmp_path / "b1.csv", [p.right for p in ab_old + canary])))
    _wait_alerted(federation, "b", {canary[0].right["record_id"]}, "a")
    cid = federation.cid("area-b")
    run(["docker", "network", "disconnect", net, cid])
    try:
        federation.area("import", "a", str(write_csv(tmp_path / "a2.csv", [p.left for p in ab_old])))
        federation.area("import", "b", str(write_csv(tmp_path / "b2.csv", [p.right for p in ab_new])))
        _wait_alerted(federation, "a", {p.left["record_id"] for p in ab_old}, "b")
    finally:
        run(["docker", "network", "connect", "--alias", "area-b", net, cid])
    # After reconnection b receives the queued alerts and publishes what it imported offline.
    _wait_alerted(federation, "b", {p.right["record_id"] for p in ab_old + ab_new}, "a")
    _wait_alerted(federation, "a", {p.left["record_id"] for p in ab_new}, "b")
    _assert_once_per_match(federation, "a")
    _assert_once_per_match(federation, "b")


def test_every_container_restarted_state_survives(federation, tmp_path):
    ac = pairs("restart", 5000, 2, "a", "c")
    federation.area("import", "a", str(write_csv(tmp_path / "a.csv", [p.left for p in ac[:1]])))
    federation.area("import", "c", str(write_csv(tmp_path / "c.csv", [p.right for p in ac[:1]])))
    _wait_alerted(federation, "c", {ac[0].right["record_id"]}, "a")
    before = {area: {a["alert_id"] for a in federation.alerts(area)} for area in ("a", "b", "c")}
    ca_before = federation.exec("area-a", "sha256sum", "/keys/ca.crt").stdout

    federation.compose("stop", timeout=180)
    federation.compose("up", "-d", timeout=240)  # the keys job re-runs and must not redo the ceremony
    federation.wait_healthy(*ROLE_SERVICES)

    for area, ids in before.items():
        after = {a["alert_id"] for a in federation.alerts(area)}
        assert ids <= after, f"area {area} lost alerts {sorted(ids - after)} over a restart"
    assert federation.exec("area-a", "sha256sum", "/keys/ca.crt").stdout == ca_before
    # The matcher kept a's tokens: a person c imports only now still matches a's record.
    federation.area("import", "a", str(write_csv(tmp_path / "a2.csv", [p.left for p in ac])))
    federation.area("import", "c", str(write_csv(tmp_path / "c2.csv", [p.right for p in ac])))
    _wait_alerted(federation, "c", {p.right["record_id"] for p in ac}, "a")
    _wait_alerted(federation, "a", {p.left["record_id"] for p in ac}, "c")
    for area in ("a", "b", "c"):
        _assert_once_per_match(federation, area)


# --- disclosure in flight ----------------------------------------------------------

DISCLOSE_FIELDS = ["risk_level", "current_risk_summary", "conditions", "gender_history"]
SEND_FAILED = "envelope send failed"  # the node's log line when the matcher did not take an envelope
_NODE_DB = "/var/lib/fedalert/node.db"


def _requests(net, area: str, request_id: str) -> list[dict]:
    return [r for r in json.loads(net.area("requests", area) or "[]") if r["request_id"] == request_id]


def _node_log(net, service: str) -> str:
    proc = run(["docker", "logs", net.cid(service)], timeout=60)
    return (proc.stdout + proc.stderr).decode(errors="replace")


def _outbox_pending(net, area: str) -> int:
    return int(net.exec(f"area-{area}", "python", "-c", _SQL_ONE, _NODE_DB,
                        "SELECT count(*) FROM disclosure_outbox WHERE sent_at IS NULL").stdout.decode().strip())


def _in_flight_then_kill_matcher(net, area: str, queue) -> object:
    """Freeze the matcher, run `queue` (it writes envelopes to `area`'s outbox), wait
    until `area`'s node has tried to hand them over and failed, SIGKILL the frozen
    matcher and start it again. Returns what `queue` returned."""
    failures_before = _node_log(net, f"area-{area}").count(SEND_FAILED)
    run(["docker", "pause", net.cid("matcher")])
    try:
        result = queue()
        assert _outbox_pending(net, area) > 0, f"area {area} queued no envelope"
        wait_for(lambda: _node_log(net, f"area-{area}").count(SEND_FAILED) > failures_before, timeout=ALERT_WAIT,
                 interval=2, what=f"area {area}'s node to try the frozen matcher")
        # Still in flight: the matcher never acknowledged the envelope(s).
        assert _outbox_pending(net, area) > 0, f"area {area}'s envelopes left the outbox while the matcher was frozen"
    finally:
        run(["docker", "kill", "--signal", "KILL", net.cid("matcher")], check=False)
    net.compose("start", "matcher")
    net.wait_healthy("matcher")
    return result


def test_disclosure_in_flight_survives_matcher_restart(federation, tmp_path):
    """A request, then a release, each in flight when the matcher is SIGKILLed.

    Area a asks b for four fields on a high-tier match while the matcher is
    frozen, then killed and restarted: the request reaches b once. b approves
    while the matcher is frozen again, then killed and restarted: gender
    history is withheld (no consent or statutory exception), a ends with the
    request released and opens the release, and both audit logs verify.
    """
    today = _dt.date.today()
    (pair,) = pairs("disc", 6000, 1, "a", "b")
    federation.area("import", "a", str(write_csv(tmp_path / "a.csv", [with_case_values(pair.left, "a", today)])))
    federation.area("import", "b", str(write_csv(tmp_path / "b.csv", [with_case_values(pair.right, "b", today)])))
    _wait_alerted(federation, "a", {pair.left["record_id"]}, "b")
    _wait_alerted(federation, "b", {pair.right["record_id"]}, "a")
    (match,) = [m for m in json.loads(federation.area("matches", "a"))
                if m["record_id"] == pair.left["record_id"] and m["other_area"] == "b"]
    assert match["tier"] == "high", match

    # 1. The request is in flight when the matcher dies.
    sent = _in_flight_then_kill_matcher(
        federation, "a", lambda: json.loads(federation.area("request", "a", match["match_id"],
                                                            ",".join(DISCLOSE_FIELDS))))
    request_id = sent["request_id"]
    assert sent["to_area"] == "b"
    got = wait_for(lambda: _requests(federation, "b", request_id), timeout=ALERT_WAIT, interval=2,
                   what=f"request {request_id} in area b")
    assert len(got) == 1 and got[0]["direction"] == "incoming" and got[0]["status"] == "requested", got
    assert got[0]["record_id"] == pair.right["record_id"] and got[0]["fields"] == DISCLOSE_FIELDS, got
    assert _outbox_pending(federation, "a") == 0

    # 2. The release is in flight when the matcher dies.
    decided = _in_flight_then_kill_matcher(
        federation, "b", lambda: json.loads(federation.area("approve", "b", request_id)))
    assert decided["status"] == "partially_approved" and decided["withheld"] == ["gender_history"], decided
    done = wait_for(lambda: [r for r in _requests(federation, "a", request_id) if r["status"] == "released"],
                    timeout=ALERT_WAIT, interval=2, what=f"request {request_id} released in area a")
    assert len(done) == 1 and done[0]["release_id"], done
    assert _outbox_pending(federation, "b") == 0
    (held,) = _requests(federation, "b", request_id)
    assert held["status"] == "released" and held["fields_withheld"] == ["gender_history"], held

    release = json.loads(federation.area("release-show", "a", done[0]["release_id"]))
    assert release["request_id"] == request_id and release["from_area"] == "b"
    assert sorted(i["field"] for i in release["items"]) == sorted(DISCLOSE_FIELDS[:3]), release["items"]
    assert [w["field"] for w in release["withheld"]] == ["gender_history"], release["withheld"]
    # The values are b's (invented) case values for its own record, sealed and relayed intact.
    by_field = {i["field"]: i for i in release["items"]}
    assert by_field["conditions"]["value"] == with_case_values(pair.right, "b", today)["conditions"]
    assert by_field["conditions"]["source_partner"] == "b-police"

    for area in ("a", "b"):
        federation.area("audit-verify", area)  # exits non-zero (run() fails) unless the chain verifies
