"""The key life cycle commands as real subprocesses: exit codes and messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from fedalert.keys import Directory, init_federation


def _fedalert(*args):
    return subprocess.run([sys.executable, "-m", "fedalert", *map(str, args)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_rotate_install_by_hand_and_refusals(tmp_path):
    out = tmp_path / "keys"
    init_federation(out, "clifed", ["a", "b"])
    node_a = tmp_path / "node-a"
    shutil.copytree(out / "areas" / "a", node_a)
    r = _fedalert("keys", "rotate", "--out", out)
    assert r.returncode == 0, r.stderr
    key_id = json.loads((out / "ca" / "tokens.keyset.json").read_text())["primary"]
    assert f"token key {key_id} added and made primary; keyset sealed to 2 area(s)" in r.stdout
    assert "fedalert node install-keyset" in r.stdout  # no --send: tells the custodian what to do

    # The wrong area's file: refused, exit code 3, nothing written.
    before = (node_a / "tokens.keyset.json").read_bytes()
    r = _fedalert("node", "install-keyset", out / "rotation" / key_id / "b.sealed", "--keys", node_a)
    assert r.returncode == 3 and "not this area" in r.stderr
    assert (node_a / "tokens.keyset.json").read_bytes() == before
    # The right one installs; the audit log records it; a second time is a refused replay.
    audit = tmp_path / "a.audit.jsonl"
    r = _fedalert("node", "install-keyset", out / "rotation" / key_id / "a.sealed", "--keys", node_a, "--audit", audit)
    assert r.returncode == 0, r.stderr
    assert f"primary {key_id}" in r.stdout and '"keyset_installed"' in audit.read_text()
    r = _fedalert("node", "install-keyset", out / "rotation" / key_id / "a.sealed", "--keys", node_a)
    assert r.returncode == 3 and "not newer" in r.stderr

    # send-keysets for a key id with no packages: usage error.
    r = _fedalert("keys", "send-keysets", "k00000000", "--out", out, "--send", "127.0.0.1:1")
    assert r.returncode == 2 and "no sealed keysets" in r.stderr
    # retire-key on a missing matcher database: config error, nothing created.
    r = _fedalert("matcher", "retire-key", key_id, "--db", tmp_path / "nope.db")
    assert r.returncode == 2 and not (tmp_path / "nope.db").exists()


def test_add_custodian_and_renew_matcher_commands(tmp_path):
    out = tmp_path / "keys"
    init_federation(out, "clifed", ["a"])
    r = _fedalert("keys", "add-custodian", "--out", out)
    assert r.returncode == 1 and "already has" in r.stderr
    old_fp = Directory.load(out / "ca" / "directory.json", out / "ca" / "ca.crt").matcher_cert_sha256
    r = _fedalert("keys", "renew-matcher", "--out", out, "--revoke-reason", "test: key exposed")
    assert r.returncode == 0, r.stderr
    d = Directory.load(out / "matcher" / "directory.json", out / "matcher" / "ca.crt")
    assert d.matcher_cert_sha256 != old_fp and d.is_cert_revoked(old_fp) and not d.is_revoked("")
    r = _fedalert("keys", "show", "--out", out)
    assert r.returncode == 0 and "custodian" in r.stdout
