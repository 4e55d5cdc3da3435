"""Secrets hygiene: the leak scanner works, key files stay 0600, a node
refuses to start with a key file others can read."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.leakscan import collect_secrets, scan, secrets_of_key_file


def _token_secret(area_dir: Path) -> bytes:
    doc = json.loads((area_dir / "tokens.keyset.json").read_bytes())
    return base64.b64decode(doc["keys"][0]["secret_b64"])


def _pem_body_line(path: Path) -> str:
    return [ln for ln in path.read_text().splitlines() if not ln.startswith("-----")][0]


def _sealing_raw(area_dir: Path) -> bytes:
    from cryptography.hazmat.primitives import serialization

    from fedalert.keys import load_sealing_key

    return load_sealing_key(area_dir / "sealing.key").private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


@pytest.mark.parametrize("encode", [
    lambda k: k.hex(),
    lambda k: k.hex().upper(),
    lambda k: base64.b64encode(k).decode(),
    lambda k: base64.urlsafe_b64encode(k).decode().rstrip("="),
], ids=["hex", "HEX", "base64", "urlsafe"])
def test_scanner_finds_a_planted_token_key(fed_keys, tmp_path, encode):
    """Proof the session scan can fail: a token key planted in a log is found."""
    secrets = collect_secrets([fed_keys])
    planted = tmp_path / "planted.log"
    planted.write_text("INFO something harmless\nDEBUG keyset=" + encode(_token_secret(fed_keys / "areas" / "b"))
                       + " end\n")
    try:
        findings, n_secrets, n_places = scan([tmp_path], secrets=secrets)
        assert n_places == 1 and n_secrets >= 3 * 4
        assert len(findings) == 1
        assert "tokens.keyset.json" in findings[0].source
        # The finding names where, never the secret itself.
        assert encode(_token_secret(fed_keys / "areas" / "b")) not in str(findings[0])
    finally:
        planted.unlink()  # else the session-end scan would (rightly) fail the run


def test_scanner_finds_private_keys_in_every_form(fed_keys, tmp_path):
    secrets = collect_secrets([fed_keys])
    area = fed_keys / "areas" / "a"
    leaks = {
        "pem.log": "key follows\n" + _pem_body_line(area / "node.key") + "\n",
        "raw_hex.txt": _sealing_raw(area).hex(),
        "raw_b64.jsonl": json.dumps({"x": base64.b64encode(_sealing_raw(area)).decode()}),
        "ca.out": _pem_body_line(fed_keys / "ca" / "ca.key"),
    }
    try:
        for name, text in leaks.items():
            (tmp_path / name).write_text(text)
        findings, _, _ = scan([tmp_path], secrets=secrets)
        assert {Path(f.where).name for f in findings} == set(leaks)
        # Captured output (not a file) is scanned too.
        found, _, _ = scan([], texts={"test x [Captured stderr call]": "oops " + _sealing_raw(area).hex()},
                           secrets=secrets)
        assert [f.where for f in found] == ["test x [Captured stderr call]"]
    finally:
        for name in leaks:
            (tmp_path / name).unlink(missing_ok=True)


def test_scanner_is_quiet_on_clean_logs_and_public_files(fed_keys, tmp_path):
    secrets = collect_secrets([fed_keys])
    (tmp_path / "clean.log").write_text((fed_keys / "areas" / "a" / "node.crt").read_text()
                                        + (fed_keys / "areas" / "a" / "directory.json").read_text())
    findings, _, places = scan([tmp_path], secrets=secrets)
    assert places == 1 and findings == []


def test_every_key_file_of_a_ceremony_yields_secrets(fed_keys):
    names = {Path(s.source.split(" key ")[0]).name for s in collect_secrets([fed_keys])}
    assert names == {"ca.key", "tokens.keyset.json", "matcher.key", "node.key", "sealing.key", "signing.key",
                     "custodian.key", "custodian-signing.key"}
    assert all(len(s.needles) >= 5 for s in secrets_of_key_file(fed_keys / "areas" / "a" / "signing.key"))


def test_ceremony_key_files_are_owner_only(fed_keys):
    secret_files = [p for p in fed_keys.rglob("*") if p.name.endswith(".key") or p.name == "tokens.keyset.json"]
    # ca/: CA key, custodian TLS and signing keys, keyset; matcher/: its TLS key; each of 3 areas: 4.
    assert len(secret_files) == 4 + 1 + 3 * 4
    for p in secret_files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


@pytest.mark.parametrize("name", ["node.key", "tokens.keyset.json", "sealing.key", "signing.key"])
def test_node_serve_refuses_a_key_file_others_can_read(fed_keys, tmp_path, name):
    """A real `fedalert node serve` process exits non-zero and says to chmod 600."""
    keys = tmp_path / "area-a"
    shutil.copytree(fed_keys / "areas" / "a", keys)
    os.chmod(keys / name, 0o640)
    db = tmp_path / "node.db"
    res = subprocess.run(
        [sys.executable, "-m", "fedalert", "node", "serve", "--keys", str(keys), "--db", str(db),
         "--matcher", "127.0.0.1:9", "--listen", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stderr
    assert f"chmod 600 {keys / name}" in res.stderr
    assert "group or others" in res.stderr
    assert not db.exists()  # refused before anything was created
    found, _, _ = scan([], texts={"stdout": res.stdout, "stderr": res.stderr},
                       secrets=collect_secrets([keys]))
    assert found == []


@pytest.mark.parametrize("command", ["sync", "serve"])
def test_node_commands_refuse_a_loose_sealing_key(fed_keys, tmp_path, command):
    keys = tmp_path / "area-b"
    shutil.copytree(fed_keys / "areas" / "b", keys)
    os.chmod(keys / "sealing.key", 0o604)
    res = subprocess.run(
        [sys.executable, "-m", "fedalert", "node", command, "--keys", str(keys), "--db", str(tmp_path / "n.db"),
         "--matcher", "127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and f"chmod 600 {keys / 'sealing.key'}" in res.stderr
    assert not (tmp_path / "n.db").exists()


def test_matcher_serve_refuses_a_loose_matcher_key(fed_keys, tmp_path):
    keys = tmp_path / "matcher"
    shutil.copytree(fed_keys / "matcher", keys)
    os.chmod(keys / "matcher.key", 0o644)
    res = subprocess.run(
        [sys.executable, "-m", "fedalert", "matcher", "serve", "--keys", str(keys), "--db", str(tmp_path / "m.db"),
         "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and f"chmod 600 {keys / 'matcher.key'}" in res.stderr
    assert not (tmp_path / "m.db").exists()
