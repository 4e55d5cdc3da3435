"""Every role serves grpc.health.v1 over mTLS; `fedalert health` reads it."""

import subprocess
import sys

import pytest

from fedalert.health_cli import NotServingError, check


def test_matcher_health_over_mtls(matcher, fed_keys):
    assert check(matcher.target, fed_keys / "areas" / "a") == "SERVING"
    assert check(matcher.target, fed_keys / "matcher", service="fedalert.v1.Matcher") == "SERVING"


def test_unknown_service_and_dead_port_are_not_serving(matcher, fed_keys):
    with pytest.raises(NotServingError):
        check(matcher.target, fed_keys / "areas" / "a", service="no.such.Service")
    port = matcher.port
    matcher.stop()
    with pytest.raises(NotServingError):
        check(f"127.0.0.1:{port}", fed_keys / "areas" / "a", timeout=1.0)
    matcher.restart_same_port()


def test_node_health_and_cli_exit_codes(fed_keys, matcher, tmp_path):
    from fedalert.node.server import NodeApp, NodeConfig

    app = NodeApp(NodeConfig(keys_dir=fed_keys / "areas" / "b", db=tmp_path / "b.db", matcher=matcher.target)).start()
    try:
        target = f"127.0.0.1:{app.port}"
        ok = subprocess.run([sys.executable, "-m", "fedalert", "health", "--target", target,
                             "--tls-dir", str(fed_keys / "areas" / "a")], capture_output=True, text=True, timeout=30)
        assert ok.returncode == 0 and ok.stdout.strip() == "SERVING"
    finally:
        app.stop()
    bad = subprocess.run([sys.executable, "-m", "fedalert", "health", "--target", target, "--timeout", "1",
                          "--tls-dir", str(fed_keys / "areas" / "a")], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "UNAVAILABLE" in bad.stderr
