"""Shared fixtures: real keys, real mTLS servers on port 0, real SQLite files."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from fedalert.keys import init_federation
from tests.helpers import MatcherHandle  # noqa: F401 - used by the matcher fixture

VECTORS = Path(__file__).parent / "vectors"

# -- secrets hygiene: every log and captured output of the session is scanned ----
_CAPTURED: dict[str, str] = {}
_SCAN_SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for line in _SCAN_SUMMARY:
        terminalreporter.write_line(line)
_CAPTURE_LIMIT = 32 * 1024 * 1024


def pytest_runtest_logreport(report):
    """Keep what pytest captured (stdout, stderr, log) of every test phase."""
    total = sum(len(v) for v in _CAPTURED.values())
    for title, content in report.sections:
        if content and total < _CAPTURE_LIMIT:
            _CAPTURED[f"{report.nodeid} [{title}]"] = content
            total += len(content)
    if report.failed and report.longrepr is not None:  # failure text can echo values too
        _CAPTURED[f"{report.nodeid} [failure]"] = str(report.longrepr)[:1_000_000]


class _LogRecorder(logging.Handler):
    """Every log record of the session, formatted with its arguments."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.size = 0
        self.lines: list[str] = []

    def emit(self, record):
        if self.size < _CAPTURE_LIMIT:
            try:
                text = self.format(record)
            except Exception:  # noqa: BLE001 - a bad record is not our finding
                return
            self.lines.append(text)
            self.size += len(text)


@pytest.fixture(scope="session", autouse=True)
def secret_leak_scan(tmp_path_factory):
    """At session end, fail loudly if any key secret of the session is in a log or output.

    Secrets: every key file (``*.key``, ``tokens.keyset.json``) under the session's
    temp folder. Places: every log-like file there, all captured test output and
    every log record (see tests/leakscan.py). Set FEDALERT_SKIP_LEAK_SCAN=1 to skip.
    """
    from tests.leakscan import scan

    recorder = _LogRecorder()
    recorder.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(recorder)
    root.setLevel(min(old_level or logging.WARNING, logging.DEBUG))
    yield
    root.removeHandler(recorder)
    root.setLevel(old_level)
    if os.environ.get("FEDALERT_SKIP_LEAK_SCAN") == "1":
        return
    texts = dict(_CAPTURED)
    texts["(log records)"] = "\n".join(recorder.lines)
    findings, n_secrets, n_places = scan([tmp_path_factory.getbasetemp()], texts)
    _SCAN_SUMMARY.append(f"secret leak scan: {n_secrets} secrets searched in {n_places} logs and outputs, "
                         f"{len(findings)} found")
    if findings:
        pytest.fail("SECRET LEAK: key material found in test logs or output:\n  "
                    + "\n  ".join(str(f) for f in findings[:50])
                    + f"\n({len(findings)} finding(s); {n_secrets} secrets searched in {n_places} places)",
                    pytrace=False)


@pytest.fixture(scope="session")
def vectors():
    def load(name: str):
        return json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return load


@pytest.fixture(scope="session")
def fed_keys(tmp_path_factory) -> Path:
    """A key ceremony for federation 'testfed' with areas a, b, c."""
    out = tmp_path_factory.mktemp("ceremony") / "keys"
    init_federation(out, "testfed", ["a", "b", "c"])
    return out


@pytest.fixture(scope="session")
def oprf_keys(tmp_path_factory) -> Path:
    """A key ceremony in OPRF token mode: federation 'oprffed', areas a, b, c, a key service folder."""
    out = tmp_path_factory.mktemp("oprf-ceremony") / "keys"
    init_federation(out, "oprffed", ["a", "b", "c"], token_mode="oprf")
    return out


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory) -> Path:
    """A second, unrelated federation (another CA)."""
    out = tmp_path_factory.mktemp("other") / "keys"
    init_federation(out, "testfed", ["a", "b"])
    return out


@pytest.fixture
def matcher(fed_keys, tmp_path):
    m = MatcherHandle(fed_keys, tmp_path / "matcher.db").start()
    yield m
    m.stop()
