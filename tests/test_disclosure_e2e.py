"""Disclosure end to end: node daemons, the matcher's relay over mTLS, the coordinator CLI.

Three area nodes (a, b, c) run in-process against a real matcher (real gRPC,
real mutual TLS on port 0, real SQLite files). Coordinators act through the
real `fedalert` console script in subprocesses. Area b asks area a for case
fields on their match; a approves (gender history is withheld: no consent or
exception recorded); the release is relayed, verified and kept encrypted at b.
Every value and person here is invented.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys

import grpc
import pytest
import sqlite_utils

from fedalert import audit as audit_mod
from fedalert.demo_data import overlay_text
from fedalert.node.disclosure import requests
from fedalert.node.server import NodeApp, NodeConfig
from fedalert.v1 import matcher_pb2 as pb

from tests.helpers import MatcherHandle, add_users, wait_until

pytestmark = pytest.mark.slow

TODAY = dt.date.today()
REC = (TODAY - dt.timedelta(days=10)).isoformat()
VALUES = {
    "risk_level": "INVENTED-RISK high (DASH 19)",
    "conditions": "INVENTED-COND not to enter Brackenfold Street",
    "gender_history": "INVENTED-GH history note",
}
CSV_A = (
    "record_id,forename,surname,date_of_birth,risk_level,risk_level__source,risk_level__subject,"
    "conditions,conditions__source,gender_history,gender_history__source,case_recorded\n"
    f"A1,Ambrose,Tolliver,04/07/1983,{VALUES['risk_level']},a-police,victim,{VALUES['conditions']},a-police,"
    f"{VALUES['gender_history']},a-council,{REC}\n"
    "A2,Silas,Moorcroft,01/02/1970,,,,,,,,\n"
)
CSV_B = "record_id,forename,surname,date_of_birth\nB1,Ambrose,Tolliver,04/07/1983\nB2,Verity,Larkspur,03/03/1991\n"
CSV_C = "record_id,forename,surname,date_of_birth\nC1,Hester,Nettlebed,05/05/1965\n"
RATIONALE = "The victim moved to area b; current risk and conditions are needed for safety planning at MARAC."
NOT_SOUGHT = ["--consent", "victim:not_sought:seeking consent would increase the risk to the victim",
              "--consent", "perpetrator:not_sought:would prejudice the prevention of crime"]


def _wait(pred, timeout=30.0):
    return wait_until(pred, timeout, interval=0.1)


def fedalert(*args, check=True):
    res = subprocess.run([sys.executable, "-m", "fedalert", *map(str, args)], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    if check:
        assert res.returncode == 0, res.stderr[-2000:]
    return res


def _ro(path):
    return sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10))


class Fed:
    def __init__(self, keys, root):
        self.keys, self.root = keys, root
        self.matcher = MatcherHandle(keys, root / "matcher.db").start()
        self.apps: dict[str, NodeApp] = {}
        for area in ("a", "b", "c"):
            (root / f"{area}.toml").write_text(overlay_text(area, TODAY), encoding="utf-8")
            cfg = NodeConfig(keys_dir=keys / "areas" / area, db=root / f"{area}.db", matcher=self.matcher.target,
                             overlay=root / f"{area}.toml", poll_interval=0.1)
            self.apps[area] = NodeApp(cfg).start()

    def args(self, area, keys=True):
        out = ["--db", self.root / f"{area}.db", "--overlay", self.root / f"{area}.toml"]
        return out + (["--keys", self.keys / "areas" / area] if keys else [])

    def requests(self, area):
        db = _ro(self.root / f"{area}.db")
        try:
            return requests.list_requests(db)
        finally:
            db.conn.close()

    def events(self, area):
        return [e["event"] for e in audit_mod.read_entries(self.root / f"{area}.audit.jsonl")]

    def stop(self):
        for app in self.apps.values():
            app.stop()
        self.matcher.stop()


@pytest.fixture(scope="module")
def fed(fed_keys, tmp_path_factory):
    root = tmp_path_factory.mktemp("disclose-e2e")
    f = Fed(fed_keys, root)
    try:
        for area, text in (("a", CSV_A), ("b", CSV_B), ("c", CSV_C)):
            (root / f"{area}.csv").write_text(text, encoding="utf-8")
            res = fedalert("node", "import", root / f"{area}.csv", *f.args(area, keys=False))
            assert ("3 case values stored" in res.stdout) == (area == "a"), res.stdout
        for app in f.apps.values():
            app.wake.set()
        assert _wait(lambda: f.apps["a"].store.matches(True) and f.apps["b"].store.matches(True))
        f.match_id = f.apps["b"].store.matches(True)[0]["match_id"]
        f.users = {area: add_users(root / f"{area}.db", root / "users" / area, people) for area, people in (
            ("a", {"appr-a1": ["approver"], "coord-a1": ["coordinator"]}), ("b", {"coord-b1": ["coordinator"]}),
            ("c", {"coord-c1": ["coordinator"]}))}
        yield f
    finally:
        f.stop()


@pytest.fixture(scope="module")
def flow(fed):
    """b requests, a partially approves, b receives and opens the release."""
    res = fedalert("disclose", "request", fed.match_id, *fed.args("b"), "--partner", "b-council",
                   *fed.users["b"]["coord-b1"], "--purpose", "marac", "--basis", "uk_gdpr_6_1_e",
                   "--statutory-power", "Crime and Disorder Act 1998 s115", "--art9", "uk_gdpr_9_2_g_sch1_para18",
                   "--fields", "risk_level,conditions,gender_history", "--rationale", RATIONALE,
                   "--channel", "meeting", "--json")
    request_id = json.loads(res.stdout)["request_id"]
    got = _wait(lambda: [r for r in fed.requests("a") if r.request.request_id == request_id])
    assert got and got[0].direction == "incoming" and got[0].record_id == "A1"  # a resolved its own record
    res = fedalert("disclose", "approve", request_id, *fed.args("a"), *fed.users["a"]["appr-a1"], *NOT_SOUGHT, "--json")
    decided = json.loads(res.stdout)
    row = _wait(lambda: [r for r in fed.requests("b") if r.request.request_id == request_id
                         and r.status == "released"])
    assert row, "the release did not arrive at b"
    view = json.loads(fedalert("disclose", "release-show", row[0].release_id, *fed.args("b"),
                               *fed.users["b"]["coord-b1"], "--json").stdout)
    return {"request_id": request_id, "decided": decided, "row": row[0], "view": view}


def test_request_partial_approval_release_verified_and_read(fed, flow):
    assert flow["decided"]["status"] == "partially_approved"
    assert flow["decided"]["withheld"] == ["gender_history"]
    assert flow["decided"]["envelopes"] == ["decision", "release"]
    items = {i["field"]: i for i in flow["view"]["items"]}
    assert set(items) == {"risk_level", "conditions"}
    assert items["risk_level"]["value"] == VALUES["risk_level"]
    assert items["risk_level"]["source_partner"] == "a-police" and items["risk_level"]["subject"] == "victim"
    assert items["conditions"]["recorded_on"] == REC and items["conditions"]["subject"] == "perpetrator"
    assert [w["field"] for w in flow["view"]["withheld"]] == ["gender_history"]
    # b's own view of the request, through the CLI.
    shown = json.loads(fedalert("disclose", "show", flow["request_id"], *fed.args("b", keys=False), *fed.users["b"]["coord-b1"],
                                "--json").stdout)
    assert shown["status"] == "released" and shown["fields_withheld"] == ["gender_history"]
    assert shown["fields_released"] == ["risk_level", "conditions"]


def test_both_audit_logs_verify_and_record_each_step(fed, flow):
    for area in ("a", "b"):
        res = fedalert("audit", "verify", fed.root / f"{area}.audit.jsonl")
        assert res.returncode == 0
    a, b = fed.events("a"), fed.events("b")
    for ev in ("disclosure.request_received", "disclosure.decision", "disclosure.released"):
        assert ev in a, ev
    for ev in ("disclosure.request_sent", "disclosure.decision_received", "disclosure.release_received",
               "disclosure.release_viewed"):
        assert ev in b, ev
    # Order on the requesting side follows the protocol.
    idx = [b.index(e) for e in ("disclosure.request_sent", "disclosure.decision_received",
                                "disclosure.release_received", "disclosure.release_viewed")]
    assert idx == sorted(idx)
    # No case value is written into either audit log.
    for area in ("a", "b"):
        text = (fed.root / f"{area}.audit.jsonl").read_text(encoding="utf-8")
        assert not any(v in text for v in VALUES.values())


def _raw_bytes(paths) -> bytes:
    """The files' raw bytes, read by a child process.

    Opening and closing a live SQLite file in this process would drop the
    POSIX locks the running nodes' connections hold on it (fcntl locks are
    per process), after which a closing connection may delete the -shm file
    under the others.
    """
    code = "import sys; [sys.stdout.buffer.write(open(p, 'rb').read()) for p in sys.argv[1:]]"
    return subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, check=True,
                          timeout=60).stdout


def test_release_is_encrypted_at_rest_and_the_matcher_never_sees_values(fed, flow):
    fed.apps["b"].store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blob_b = _raw_bytes(fed.root.glob("b.db*"))
    blob_m = _raw_bytes(fed.root.glob("matcher.db*"))
    for v in VALUES.values():
        assert v.encode() not in blob_b  # stored sealed, opened only for an audited view
        assert v.encode() not in blob_m
    # The sanity check that the search works: a holds the values in clear.
    fed.apps["a"].store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert VALUES["conditions"].encode() in _raw_bytes(fed.root.glob("a.db*"))
    # Nothing left in the relay queues: every envelope was delivered and acknowledged.
    m = sqlite3.connect(fed.root / "matcher.db")
    try:
        assert m.execute("SELECT count(*) FROM envelopes WHERE length(sealed) > 0").fetchone()[0] == 0
        kinds = sorted(r[0] for r in m.execute("SELECT kind FROM envelopes"))
    finally:
        m.close()
    assert kinds.count("request") >= 1 and "decision" in kinds and "release" in kinds


def test_request_on_a_match_the_area_is_not_part_of_is_refused(fed, flow):
    # At the node: area c has no such match in its inbox.
    res = fedalert("disclose", "request", fed.match_id, *fed.args("c"), "--partner", "c-council",
                   *fed.users["c"]["coord-c1"], "--purpose", "marac", "--basis", "uk_gdpr_6_1_e",
                   "--statutory-power", "Crime and Disorder Act 1998 s115", "--fields", "risk_level",
                   "--rationale", RATIONALE, "--channel", "meeting", check=False)
    assert res.returncode == 1
    assert "no match" in res.stderr and "Traceback" not in res.stderr
    assert fed.requests("c") == []
    # At the matcher's relay: c cannot send on a match between a and b, whatever it names.
    stub = fed.matcher.stub("c")
    for to in ("a", "b"):
        with pytest.raises(grpc.RpcError) as err:
            stub.SendEnvelope(pb.SendEnvelopeRequest(envelope_id="c-probe-" + to, match_id=fed.match_id, to_area=to,
                                                     kind="request", sealed=b"x" * 64), timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _rejections(fed, area):
    return [e["fields"].get("reason") for e in audit_mod.read_entries(fed.root / f"{area}.audit.jsonl")
            if e["event"] == "disclosure.release_rejected"]


def test_replayed_tampered_and_misaddressed_envelopes_at_the_relay(fed, flow, caplog):
    sealed = bytes(fed.apps["b"].store.db.execute(
        "SELECT sealed FROM disclosure_releases_received WHERE release_id = ?",
        [flow["row"].release_id]).fetchone()[0])
    stub_a = fed.matcher.stub("a")
    before = len(_rejections(fed, "b"))

    def send(eid, blob, to="b", kind="release"):
        return stub_a.SendEnvelope(pb.SendEnvelopeRequest(envelope_id=eid, match_id=fed.match_id, to_area=to,
                                                          kind=kind, sealed=blob), timeout=10)

    # Replayed: the genuine sealed release, sent again by the genuine sender under a new envelope id.
    assert not send("replay-1", sealed).duplicate
    assert _wait(lambda: len(_rejections(fed, "b")) >= before + 1)
    # Tampered: one byte flipped in the middle.
    bad = bytearray(sealed)
    bad[len(bad) // 2] ^= 0x01
    send("tamper-1", bytes(bad))
    assert _wait(lambda: len(_rejections(fed, "b")) >= before + 2)
    assert _rejections(fed, "b")[before:] == ["replayed", "tampered"]
    # The same envelope id again is a duplicate at the relay (nothing queued twice).
    assert send("replay-1", sealed).duplicate
    # Misaddressed: the relay refuses a recipient outside the match.
    with pytest.raises(grpc.RpcError) as err:
        send("misaddr-1", sealed, to="c")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Refused envelopes are acknowledged (the queue never blocks) and nothing changed at b.
    m = sqlite3.connect(fed.root / "matcher.db")
    try:
        assert _wait(lambda: m.execute("SELECT count(*) FROM envelopes WHERE length(sealed) > 0").fetchone()[0] == 0)
    finally:
        m.close()
    rows = [r for r in fed.requests("b") if r.request.request_id == flow["request_id"]]
    assert rows[0].status == "released" and rows[0].release_id == flow["row"].release_id
    # The node logs the type and rule code only, never a value.
    warned = [r.getMessage() for r in caplog.records if "refused release envelope" in r.getMessage()]
    assert any("(replayed)" in w for w in warned) and any("(tampered)" in w for w in warned)
    assert not any(v in w for w in warned for v in VALUES.values())


def test_sar_and_sharing_statement_name_the_disclosure(fed, flow):
    sar = fedalert("node", "sar", "A1", "--db", fed.root / "a.db", *fed.users["a"]["coord-a1"]).stdout
    assert flow["request_id"] in sar
    stm = fedalert("disclose", "statement", "A1", *fed.args("a", keys=False), *fed.users["a"]["coord-a1"]).stdout
    assert "we shared information with b." in stm
    assert "Risk level" in stm and "Bail or order conditions" in stm and "gender history" in stm
    assert not any(v in stm for v in VALUES.values())  # categories, never values


def test_pending_request_closes_on_both_sides_when_the_match_is_withdrawn(fed, flow):
    """Runs last (it withdraws A1): a request still waiting when its match is withdrawn is closed at both ends."""
    res = fedalert("disclose", "request", fed.match_id, *fed.args("b"), "--partner", "b-council",
                   *fed.users["b"]["coord-b1"], "--purpose", "marac", "--basis", "uk_gdpr_6_1_e",
                   "--statutory-power", "Crime and Disorder Act 1998 s115", "--fields", "risk_level",
                   "--rationale", RATIONALE, "--channel", "meeting", "--json")
    rid = json.loads(res.stdout)["request_id"]
    assert _wait(lambda: [r for r in fed.requests("a") if r.request.request_id == rid and r.status == "requested"])
    # a closes its case: the record is withdrawn, the matcher withdraws the match and tells both areas.
    with fed.apps["a"].store.transaction():
        fed.apps["a"].store.withdraw_record("A1", "case closed")
    fed.apps["a"].wake.set()
    for area in ("a", "b"):
        row = _wait(lambda: [r for r in fed.requests(area) if r.request.request_id == rid and r.status == "expired"])
        assert row, f"the pending request was not closed at {area}"
        assert "withdrawn" in row[0].status_reason
        assert "disclosure.request_closed" in fed.events(area)
    # The finished disclosure is left as it was.
    assert [r.status for r in fed.requests("b") if r.request.request_id == flow["request_id"]] == ["released"]
