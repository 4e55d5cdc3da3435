"""The real console entry point (`python -m fedalert keys ...`) in a subprocess: exit codes, output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TIMEOUT = 60


def _fedalert(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fedalert", *args], capture_output=True, text=True, timeout=TIMEOUT)


def test_init_show_verify_and_exit_codes(tmp_path: Path):
    out = tmp_path / "keys"
    r = _fedalert("keys", "init", "--federation", "procfed", "--areas", "a1,b2", "--out", str(out),
                  "--token-mode", "hmac")
    assert r.returncode == 0, r.stderr
    assert (out / "areas" / "b2" / "node.key").exists()

    r = _fedalert("keys", "add-area", "--out", str(out), "--area", "a1")
    assert r.returncode == 1 and "already in the" in r.stderr

    r = _fedalert("keys", "add-area", "--out", str(out), "--area", "Bad_Id")
    assert r.returncode == 2 and "invalid area id" in r.stderr

    r = _fedalert("keys", "show", "--out", str(out))
    assert r.returncode == 0 and "spiffe://procfed/area/a1" in r.stdout
    keyset = json.loads((out / "ca" / "tokens.keyset.json").read_text())
    assert keyset["keys"][0]["secret_b64"] not in r.stdout + r.stderr

    d = out / "matcher" / "directory.json"
    r = _fedalert("keys", "verify-directory", str(d), "--ca", str(out / "matcher" / "ca.crt"))
    assert r.returncode == 0 and "directory OK" in r.stdout
    doc = json.loads(d.read_text())
    doc["body"]["areas"].pop("b2")
    d.write_text(json.dumps(doc))
    r = _fedalert("keys", "verify-directory", str(d), "--ca", str(out / "matcher" / "ca.crt"))
    assert r.returncode == 3 and "does not verify" in r.stderr


def test_loose_key_file_is_refused_with_a_fix(tmp_path: Path):
    out = tmp_path / "keys"
    assert _fedalert("keys", "init", "--federation", "procfed", "--areas", "a1", "--out", str(out)).returncode == 0
    (out / "ca" / "ca.key").chmod(0o644)
    r = _fedalert("keys", "add-area", "--out", str(out), "--area", "c3")
    assert r.returncode == 1 and "chmod 600" in r.stderr
    assert not (out / "areas" / "c3").exists()
