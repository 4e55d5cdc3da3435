"""Token key rotation end to end: add, promote, retire, with one area offline.

Real parts: a key ceremony on disk, the matcher over real mTLS on port 0 with a
real SQLite file, three NodeApp daemons (a, b, c) with their own copies of
their key folders (as an area operator would hold them), and the real
``fedalert`` CLI in subprocesses for the custodian's and operators' commands.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from fedalert.keys import TokenKeyset, init_federation
from fedalert.matcher import keyids
from fedalert.matcher.errors import KeyRetireError
from fedalert.node.importer import import_file
from fedalert.node.server import NodeApp, NodeConfig
from fedalert.node.store import NodeStore
from tests.conftest import MatcherHandle
from tests.helpers import publish, record, wait_until

pytestmark = pytest.mark.slow

AREAS = ("a", "b", "c")
CSV = {
    "a": "record_id,forename,surname,date_of_birth\nA1,Ambrose,Tolliver,04/07/1983\nA2,Silas,Moorcroft,01/02/1970\n",
    "b": "record_id,forename,surname,date_of_birth\nB1,Ambrose,Tolliver,04/07/1983\nB2,Verity,Larkspur,03/03/1991\n",
    "c": "record_id,forename,surname,date_of_birth\nC1,Ambrose,Tolliver,04/07/1983\nC2,Silas,Moorcroft,01/02/1970\n",
}


def _wait(pred, timeout=30.0):
    return wait_until(pred, timeout, interval=0.1)


def _cli(*args, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "fedalert", *map(str, args)], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, r.stderr
    return r


class Fed:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.keys = tmp_path / "ceremony"
        init_federation(self.keys, "rotfed", list(AREAS))
        # Each area operator holds a copy of its folder; the custodian keeps DIR.
        self.folders = {a: tmp_path / f"node-{a}" for a in AREAS}
        for a, folder in self.folders.items():
            shutil.copytree(self.keys / "areas" / a, folder)
        self.matcher = MatcherHandle(self.keys, tmp_path / "matcher.db").start()
        self.nodes: dict[str, NodeApp] = {}

    def start_node(self, area: str) -> NodeApp:
        cfg = NodeConfig(keys_dir=self.folders[area], db=self.tmp / f"{area}.db", matcher=self.matcher.target,
                         poll_interval=0.1)
        self.nodes[area] = NodeApp(cfg).start()
        return self.nodes[area]

    def stop_node(self, area: str) -> None:
        self.nodes.pop(area).stop()

    def import_csv(self, area: str) -> None:
        p = self.tmp / f"{area}.csv"
        p.write_text(CSV[area])
        store = NodeStore(self.tmp / f"{area}.db")
        try:
            import_file(store, p)
        finally:
            store.close()
        self.nodes[area].wake.set()

    def records_by_key(self) -> dict[tuple[str, str], int]:
        con = sqlite3.connect(f"file:{self.matcher.db}?mode=ro", uri=True, timeout=10)
        try:
            return {(k, a): n for k, a, n in con.execute(
                "SELECT key_id, area, count(*) FROM records GROUP BY key_id, area")}
        finally:
            con.close()

    def matcher_matches(self) -> list[tuple[str, str]]:
        con = sqlite3.connect(f"file:{self.matcher.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute("SELECT match_id, status FROM matches").fetchall()
        finally:
            con.close()

    def live(self, area: str) -> set[str]:
        return {m["match_id"] for m in self.nodes[area].store.matches(live_only=True)}

    def alert_types(self, area: str) -> list[str]:
        return [x["type"] for x in self.nodes[area].store.alerts()]

    def close(self) -> None:
        for a in list(self.nodes):
            self.stop_node(a)
        self.matcher.stop()


@pytest.fixture
def fed(tmp_path):
    f = Fed(tmp_path)
    yield f
    f.close()


def _matched(fed: Fed) -> dict[str, set[str]]:
    for a in AREAS:
        fed.start_node(a)
        fed.import_csv(a)
    # a-b, a-c, b-c on Ambrose Tolliver; a-c on Silas Moorcroft.
    want = {"a": 3, "b": 2, "c": 3}
    assert _wait(lambda: all(len(fed.live(a)) == want[a] for a in AREAS)), {a: fed.live(a) for a in AREAS}
    return {a: fed.live(a) for a in AREAS}


def test_add_promote_retire_with_an_area_offline(fed):
    before = _matched(fed)
    old = TokenKeyset.load(fed.keys / "ca" / "tokens.keyset.json").primary_id
    fed.stop_node("c")  # c is offline for add and promote

    # 1. add: the custodian seals the keyset; a and b's operators install it by hand.
    _cli("keys", "token-key", "add", "--out", fed.keys)
    new = [k for k in TokenKeyset.load(fed.keys / "ca" / "tokens.keyset.json").key_ids if k != old][0]
    for a in ("a", "b"):
        r = _cli("node", "install-keyset", fed.keys / "rotation" / new / f"{a}.sealed", "--keys", fed.folders[a])
        assert f"primary {old}" in r.stdout
    assert _wait(lambda: all(new in fed.nodes[a].keyset.key_ids for a in ("a", "b")))  # reloaded, no restart
    assert fed.nodes["a"].keyset.primary_id == old
    time.sleep(0.5)
    assert not any(k == new for k, _ in fed.records_by_key())  # nothing republished yet

    # 2. promote: the custodian posts the sealed keysets through the matcher.
    r = _cli("keys", "token-key", "promote", new, "--out", fed.keys, "--send", fed.matcher.target)
    assert "posted 3 sealed keyset(s)" in r.stdout
    assert _wait(lambda: fed.records_by_key().get((new, "a")) == 2 and fed.records_by_key().get((new, "b")) == 2)
    assert fed.records_by_key()[(old, "a")] == 2  # the old tokens still count

    # 3. retire is refused while c has not republished.
    r = _cli("matcher", "retire-key", old, "--db", fed.matcher.db, "--grace-days", "0", check=False)
    assert r.returncode == 1 and "c (2 record(s))" in r.stderr
    # ... and before the grace period is over.
    with pytest.raises(KeyRetireError, match="grace period"):
        keyids.retire(fed.matcher.app.engine, old, grace_days=7)

    # c comes back: it fetches the promote keyset from the matcher and republishes.
    fed.start_node("c")
    assert _wait(lambda: fed.records_by_key().get((new, "c")) == 2)
    assert fed.nodes["c"].keyset.primary_id == new
    r = _cli("matcher", "retire-key", old, "--db", fed.matcher.db, "--grace-days", "0")
    assert "6 record(s) dropped, 0 match(es) withdrawn" in r.stdout
    assert {k for k, _ in fed.records_by_key()} == {new}

    # No match lost, none duplicated, no WITHDRAWN/NEW churn, same match ids everywhere.
    time.sleep(1.5)
    for a in AREAS:
        assert fed.live(a) == before[a]
    assert set(fed.alert_types("a")) == {"new"} and len(fed.alert_types("a")) == 3
    assert set(fed.alert_types("b")) == {"new"} and len(fed.alert_types("b")) == 2
    rows = fed.matcher_matches()
    assert len(rows) == 4 and len({m for m, _ in rows}) == 4 and {s for _, s in rows} == {"live"}

    # A node on the old key cannot bring it back.
    stub = fed.matcher.stub("a")
    with pytest.raises(grpc.RpcError) as err:
        publish(stub, record("handleA0099", key_id=old, pnc="x"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "retired" in err.value.details()

    # 4. disable the old key: nodes install it, nothing is republished.
    _cli("keys", "token-key", "disable", old, "--out", fed.keys, "--send", fed.matcher.target)
    assert _wait(lambda: all(fed.nodes[a].keyset.status(old) == "disabled" for a in AREAS))
    time.sleep(0.5)
    assert fed.records_by_key() == {(new, "a"): 2, (new, "b"): 2, (new, "c"): 2}
    assert all(set(fed.alert_types(a)) == {"new"} for a in AREAS)


def test_forced_retire_while_offline_then_the_area_rematches_under_the_same_match_ids(fed):
    before = _matched(fed)
    old = TokenKeyset.load(fed.keys / "ca" / "tokens.keyset.json").primary_id
    fed.stop_node("c")
    r = _cli("keys", "rotate", "--out", fed.keys, "--send", fed.matcher.target)
    new = TokenKeyset.load(fed.keys / "ca" / "tokens.keyset.json").primary_id
    assert new != old and "posted 3" in r.stdout
    assert _wait(lambda: fed.records_by_key().get((new, "a")) == 2 and fed.records_by_key().get((new, "b")) == 2)
    res = keyids.retire(fed.matcher.app.engine, old, grace_days=0, force=True)
    assert res.lagging == {"c": 2} and res.matches_withdrawn == 3  # a-c twice, b-c once
    assert _wait(lambda: len(fed.live("a")) == 1 and len(fed.live("b")) == 1)
    ab = before["a"] & before["b"]
    assert fed.live("a") == ab == fed.live("b")  # a-b matched under both keys: untouched

    fed.start_node("c")  # installs the relayed keyset, republishes under the new key, re-matches
    assert _wait(lambda: all(fed.live(a) == before[a] for a in AREAS))
    types_a = fed.alert_types("a")
    assert types_a.count("withdrawn") == 2 and types_a.count("new") == 5
    rows = fed.matcher_matches()
    assert len(rows) == 4 and {s for _, s in rows} == {"live"}


def test_a_correction_during_the_grace_period_reaches_the_old_key_too(fed):
    """The old key id's tokens still count until retirement, so a changed record must change under it too."""
    before = _matched(fed)
    old = TokenKeyset.load(fed.keys / "ca" / "tokens.keyset.json").primary_id
    _cli("keys", "rotate", "--out", fed.keys, "--send", fed.matcher.target)
    new = TokenKeyset.load(fed.keys / "ca" / "tokens.keyset.json").primary_id
    assert _wait(lambda: all(fed.records_by_key().get((new, a)) == 2 for a in AREAS))
    # A1 was entered in error: it is another person. Only the Silas Moorcroft match (a-c) may remain.
    CSV["a_fixed"] = CSV["a"].replace("A1,Ambrose,Tolliver,04/07/1983", "A1,Bartholomew,Quince,12/12/1950")
    p = fed.tmp / "a_fixed.csv"
    p.write_text(CSV.pop("a_fixed"))
    store = NodeStore(fed.tmp / "a.db")
    try:
        import_file(store, p)
    finally:
        store.close()
    fed.nodes["a"].wake.set()
    assert _wait(lambda: len(fed.live("a")) == 1 and len(fed.live("b")) == 1)
    silas = fed.live("a")
    assert silas < before["a"] and silas <= before["c"]
    assert fed.live("b") == before["b"] & before["c"]  # b-c stands
    # Retiring the old key now changes nothing more; later publishes under both keys are accepted.
    keyids.retire(fed.matcher.app.engine, old, grace_days=0)
    store = NodeStore(fed.tmp / "a.db")
    try:
        with store.transaction():
            store.withdraw_record("A2", "closed")
    finally:
        store.close()
    fed.nodes["a"].wake.set()
    assert _wait(lambda: fed.nodes["a"].store.pending_count() == 0 and not fed.live("a"))
    assert fed.alert_types("b") == ["new", "new", "withdrawn"]
    assert {k for k, _ in fed.records_by_key()} == {new}
