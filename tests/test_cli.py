"""The console script: every role is there, and a command loads only its own role.

Real subprocesses of ``python -m fedalert``.
"""

from __future__ import annotations

import subprocess
import sys

from fedalert.cli import GC_THRESHOLDS, ROLES

TIMEOUT = 60


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=TIMEOUT)


def test_help_lists_every_role():
    out = _run("-m", "fedalert", "--help")
    assert out.returncode == 0
    for role in ROLES:
        assert role in out.stdout


def test_a_role_after_options_gets_its_own_help():
    out = _run("-m", "fedalert", "-v", "node", "import", "--help")
    assert out.returncode == 0 and "--skip-bad" in out.stdout


def test_an_unknown_role_is_a_usage_error_naming_the_roles():
    out = _run("-m", "fedalert", "nodes", "import")
    assert out.returncode == 2 and "invalid choice" in out.stderr and "'node'" in out.stderr


def test_the_node_commands_load_neither_grpc_nor_the_certificate_code():
    # A record import is a short-lived process; it should not pay for the services' imports.
    probe = ("import sys; from fedalert.cli import build_parser; build_parser('node');"
             "print(sorted(m for m in ('grpc', 'cryptography.x509', 'fedalert.keys.ceremony') if m in sys.modules))")
    out = _run("-c", probe)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    # The whole parser does load them, so the check above can tell.
    full = _run("-c", probe.replace("build_parser('node')", "build_parser()"))
    assert full.stdout.strip() != "[]"



def test_every_command_runs_with_the_tuned_collector():
    # The command's own function reports the collector thresholds it runs under.
    probe = ("import gc; from fedalert import cli; import fedalert.node.cli as node_cli;"
             "node_cli._status = lambda args: print(list(gc.get_threshold())) or 0;"
             "cli.main(['node', 'status', '--db', 'unused.db'])")
    out = _run("-c", probe)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(list(GC_THRESHOLDS))
    assert list(GC_THRESHOLDS) != [700, 10, 10]  # not CPython's default
