"""Certificate expiry is shown ahead of time: keys show flags it, matcher and nodes log it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import subprocess
import sys

import pytest

from fedalert.keys import init_federation
from fedalert.keys.expiry import expiry_warnings


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    out = tmp_path_factory.mktemp("short") / "keys"
    init_federation(out, "expfed", ["a"], days=10)  # member certificates expire in 10 days; the CA in 10 years
    return out


def _show(out, *extra):
    r = subprocess.run([sys.executable, "-m", "fedalert", "keys", "show", "--out", str(out), *extra],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_keys_show_flags_certificates_expiring_within_30_days(short, fed_keys):
    text = _show(short)
    flagged = [line.split()[0] for line in text.splitlines() if re.search(r"EXPIRES IN \d DAYS", line)]
    assert flagged == ["matcher", "custodian", "area"]
    assert "EXPIRES" not in next(line for line in text.splitlines() if line.startswith("CA"))
    info = json.loads(_show(short, "--json"))
    assert info["areas"]["a"]["cert"]["expiry"] == "soon" and info["ca"]["expiry"] == "ok"
    assert "EXPIRES" not in _show(fed_keys)  # a year-long ceremony is not flagged


def test_expired_and_expiring_lines_say_what_to_do(short):
    certs = {"node": short / "areas" / "a" / "node.crt", "federation CA": short / "ca" / "ca.crt"}
    assert expiry_warnings(certs, now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)) == []
    soon = expiry_warnings(certs)
    assert len(soon) == 1 and soon[0].startswith("node certificate expires in 9 day(s)") and "keys renew" in soon[0]
    later = expiry_warnings(certs, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=11))
    assert len(later) == 1 and "EXPIRED" in later[0]


def test_matcher_and_node_warn_at_start(short, tmp_path, caplog):
    from fedalert.matcher.server import build_matcher
    from fedalert.node.server import NodeApp, NodeConfig

    caplog.set_level(logging.WARNING)
    app = build_matcher(short / "matcher", tmp_path / "m.db", "127.0.0.1:0")
    node = NodeApp(NodeConfig(keys_dir=short / "areas" / "a", db=tmp_path / "a.db",
                              matcher=f"127.0.0.1:{app.port}")).start()
    try:
        def seen(prefix):
            return any(r.levelno == logging.WARNING and r.getMessage().startswith(prefix) for r in caplog.records)

        import time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (seen("matcher: matcher certificate expires in")
                                                    and seen("node: node certificate expires in")):
            time.sleep(0.05)
        assert seen("matcher: matcher certificate expires in")
        assert seen("node: node certificate expires in")
        assert not seen("matcher: federation CA")
    finally:
        node.stop()
        app.stop()
