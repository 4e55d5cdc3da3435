"""Area nodes in OPRF token mode: no token key at the node, tokens from the key service, verified.

Promises (issue 15): the node's keys folder has no token key; two areas that
hold the same person match through tokens the key service evaluated blind;
the node checks every batched proof against the directory's public key, and
a proof that fails stops publishing with an ERROR and publishes nothing; a
republish is answered from the node's encrypted cache without asking the
key service again; an OPRF key rotation republishes under both key ids,
tokens of the new key are new.
"""

from __future__ import annotations

import logging
import shutil

import pytest

from fedalert.audit import read_entries
from fedalert.keys import rotation
from fedalert.keys.oprf_keyset import OprfKeyset
from fedalert.node.importer import import_file
from fedalert.node.server import NodeApp, NodeConfig
from fedalert.node.store import NodeStore
from fedalert.node.token_cache import cache_paths
from tests.helpers import KeysvcHandle, MatcherHandle, wait_until

CSV_A = "record_id,forename,surname,date_of_birth\nA1,Ambrose,Tolliver,04/07/1983\nA2,Silas,Moorcroft,01/02/1970\n"
CSV_B = "record_id,forename,surname,date_of_birth\nB1,Ambrose,Tolliver,04/07/1983\nB2,Verity,Larkspur,03/03/1991\n"


@pytest.fixture
def fed(oprf_keys, tmp_path):
    keys = tmp_path / "keys"
    shutil.copytree(oprf_keys, keys)  # tests here rotate and swap keys
    m = MatcherHandle(keys, tmp_path / "matcher.db").start()
    k = KeysvcHandle(keys, tmp_path / "keysvc.db").start()
    apps: dict[str, NodeApp] = {}

    def start(area):
        cfg = NodeConfig(keys_dir=keys / "areas" / area, db=tmp_path / f"{area}.db", matcher=m.target,
                         keysvc=k.target, poll_interval=0.1)
        apps[area] = NodeApp(cfg).start()
        return apps[area]

    yield keys, m, k, apps, start
    for app in apps.values():
        app.stop()
    k.stop()
    m.stop()


def _import(app, tmp_path, text, name):
    p = tmp_path / name
    p.write_text(text)
    store = NodeStore(app.cfg.db)
    try:
        import_file(store, p)
    finally:
        store.close()
    app.wake.set()


def _live(app):
    return app.store.matches(live_only=True)


def _sql(m, sql, args=()):
    """Rows from the running matcher's database, read-only (as test_rotation_e2e does)."""
    import sqlite3

    con = sqlite3.connect(f"file:{m.db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_no_node_holds_a_token_key_and_areas_match_through_the_key_service(fed, tmp_path):
    keys, m, k, apps, start = fed
    for area in ("a", "b", "c"):
        names = {p.name for p in (keys / "areas" / area).iterdir()}
        assert not names & {"tokens.keyset.json", "oprf.keyset.json"}, names
    a, b = start("a"), start("b")
    _import(a, tmp_path, CSV_A, "a.csv")
    _import(b, tmp_path, CSV_B, "b.csv")
    assert wait_until(lambda: _live(a) and _live(b), timeout=60)
    ma, mb = _live(a), _live(b)
    assert ma[0]["match_id"] == mb[0]["match_id"] and {ma[0]["record_id"], mb[0]["record_id"]} == {"A1", "B1"}
    assert ma[0]["tier"] == "high"
    # Tokens are published under the OPRF primary key id; the node's keys folder is still keyless.
    kid = OprfKeyset.load(keys / "keysvc" / "oprf.keyset.json").primary_id
    assert {r[0] for r in _sql(m, "SELECT DISTINCT key_id FROM records")} == {kid}
    assert not (keys / "areas" / "a" / "tokens.keyset.json").exists()
    # The cache sits beside the store, owner-only, and holds no match key in clear.
    db_path, key_path = cache_paths(a.cfg.db)
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    assert b"tolliver" not in db_path.read_bytes().lower()


def test_a_republish_is_answered_from_the_cache(fed, tmp_path):
    keys, m, k, apps, start = fed
    a = start("a")
    _import(a, tmp_path, CSV_A, "a.csv")
    assert wait_until(lambda: a.store.pending_count() == 0 and a.tokens.client.batches > 0, timeout=60)
    asked = a.tokens.client.batches
    cached = a.tokens.cache.count()
    store = NodeStore(a.cfg.db)
    try:
        assert store.mark_all_dirty() == 2
    finally:
        store.close()
    a.wake.set()
    assert wait_until(lambda: a.store.pending_count() == 0, timeout=60)
    assert a.tokens.client.batches == asked and a.tokens.cache.count() == cached
    (usage,) = k.app.store.usage()["a"].values()
    assert usage["batches"] == asked


def test_a_proof_that_fails_stops_publishing_with_an_error(fed, tmp_path, caplog):
    keys, m, k, apps, start = fed
    # The key service evaluates under a key the directory does not name (a split federation): a fresh
    # seed under the directory's own key id (the key service cannot change the signed directory).
    from fedalert.keys import write_secret
    from fedalert.keys.keysvc.server import build_keysvc

    k.stop()
    rogue_keys = OprfKeyset.generate()
    directory_kid = OprfKeyset.load(keys / "ca" / "oprf.keyset.json").primary_id
    doc = rogue_keys.export_json().decode().replace(rogue_keys.primary_id, directory_kid)
    write_secret(keys / "keysvc" / "oprf.keyset.json", doc.encode())
    rogue = build_keysvc(keys / "keysvc", tmp_path / "rogue.db", f"127.0.0.1:{k.port}")  # same address
    try:
        caplog.set_level(logging.ERROR)
        a = start("a")
        _import(a, tmp_path, CSV_A, "a.csv")
        assert wait_until(lambda: a.publishing_halted, timeout=60)
        assert a.store.pending_count() == 2
        assert _sql(m, "SELECT count(*) FROM records")[0][0] == 0
        assert any("publishing stopped" in r.getMessage() and "does not verify" in r.getMessage()
                   for r in caplog.records if r.levelno == logging.ERROR)
        assert any(e["event"] == "oprf.proof_failed" for e in read_entries(a.cfg.audit_path()))
        assert a.tokens.cache.count() == 0  # nothing untrusted is kept either
    finally:
        rogue.stop()


def test_oprf_rotation_republishes_under_both_key_ids(fed, tmp_path):
    keys, m, k, apps, start = fed
    a, b = start("a"), start("b")
    _import(a, tmp_path, CSV_A, "a.csv")
    _import(b, tmp_path, CSV_B, "b.csv")
    assert wait_until(lambda: _live(a) and _live(b), timeout=60)
    match_id = _live(a)[0]["match_id"]
    old = OprfKeyset.load(keys / "ca" / "oprf.keyset.json").primary_id
    new, _ = rotation.rotate(keys)  # re-signs every directory copy; the key service reloads its keyset

    def both():
        rows = _sql(m, "SELECT area, key_id, count(*) FROM records GROUP BY area, key_id")
        return {(r[0], r[1]): r[2] for r in rows} == {("a", old): 2, ("a", new): 2, ("b", old): 2, ("b", new): 2}

    for app in (a, b):
        app.wake.set()
    assert wait_until(both, timeout=90)
    assert _live(a)[0]["match_id"] == match_id  # the same match, not a new one
    tokens = dict(_sql(m, "SELECT key_id, count(*) FROM records GROUP BY key_id"))
    assert set(tokens) == {old, new}


def test_switching_an_hmac_federation_to_oprf_keeps_its_matches(tmp_path):
    """The documented migration: a rotation that switches mode, with the dual-key publish.

    HMAC federation, two areas matched; the custodian starts the switch; the
    nodes (restarted with --keysvc) publish under the new OPRF key id and
    the old HMAC one; the matcher retires the HMAC key id; the custodian
    finishes the switch; the match lives on under the same match id and the
    nodes publish only under the OPRF key id, with no HMAC keyset left.
    """
    from fedalert.keys import init_federation, tokenmode
    from fedalert.matcher.keyids import retire

    keys = tmp_path / "keys"
    init_federation(keys, "mig", ["a", "b"], token_mode="hmac")
    m = MatcherHandle(keys, tmp_path / "matcher.db").start()
    apps: dict[str, NodeApp] = {}

    def start(area, keysvc=None):
        cfg = NodeConfig(keys_dir=keys / "areas" / area, db=tmp_path / f"{area}.db", matcher=m.target,
                         keysvc=keysvc, poll_interval=0.1)
        apps[area] = NodeApp(cfg).start()
        return apps[area]

    k = None
    try:
        a, b = start("a"), start("b")
        _import(a, tmp_path, CSV_A, "a.csv")
        _import(b, tmp_path, CSV_B, "b.csv")
        assert wait_until(lambda: _live(a) and _live(b), timeout=60)
        match_id = _live(a)[0]["match_id"]
        hmac_id = __import__("json").loads((keys / "ca" / "tokens.keyset.json").read_bytes())["primary"]
        new, kept = tokenmode.switch_to_oprf(keys)
        assert kept == [hmac_id]
        for app in apps.values():
            app.stop()
        k = KeysvcHandle(keys, tmp_path / "keysvc.db").start()
        a, b = start("a", k.target), start("b", k.target)

        def published():
            rows = _sql(m, "SELECT area, key_id, count(*) FROM records GROUP BY area, key_id")
            return {(r[0], r[1]): r[2] for r in rows}

        want_both = {(x, kid): 2 for x in ("a", "b") for kid in (hmac_id, new)}
        assert wait_until(lambda: published() == want_both, timeout=90), published()
        assert _live(a)[0]["match_id"] == match_id
        res = retire(m.app.engine, hmac_id, force=True)  # grace period skipped in a test
        assert res is not None
        tokenmode.finish_switch(keys)
        assert not list(keys.rglob("tokens.keyset.json"))
        for app in apps.values():
            app.stop()
        a, b = start("a", k.target), start("b", k.target)
        _import(a, tmp_path, CSV_A + "A3,Nella,Quarrington,05/05/1975\n", "a2.csv")
        assert wait_until(lambda: published().get(("a", new)) == 3, timeout=60), published()
        assert published().get(("a", hmac_id)) is None
        assert _live(a)[0]["match_id"] == _live(b)[0]["match_id"] == match_id
    finally:
        for app in apps.values():
            app.stop()
        if k is not None:
            k.stop()
        m.stop()


def test_node_sync_in_oprf_mode_publishes_through_the_key_service(fed, tmp_path):
    import subprocess
    import sys

    keys, m, k, apps, start = fed
    store = NodeStore(tmp_path / "s.db")
    try:
        p = tmp_path / "s.csv"
        p.write_text(CSV_A)
        import_file(store, p)
    finally:
        store.close()
    base = [sys.executable, "-m", "fedalert", "node", "sync", "--keys", str(keys / "areas" / "c"),
            "--db", str(tmp_path / "s.db"), "--matcher", m.target]
    res = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "--keysvc" in res.stderr  # OPRF mode needs the key service
    res = subprocess.run(base + ["--keysvc", k.target], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "published 2 records" in res.stdout
    kid = OprfKeyset.load(keys / "keysvc" / "oprf.keyset.json").primary_id
    assert _sql(m, "SELECT count(*) FROM records WHERE area='c' AND key_id=?", [kid])[0][0] == 2
