"""Shared fixtures: real keys, real mTLS servers on port 0, real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from fedalert.keys import init_federation
from fedalert.transport import TlsFiles, secure_channel
from fedalert.v1 import matcher_pb2_grpc as pb_grpc

VECTORS = Path(__file__).parent / "vectors"


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
def other_keys(tmp_path_factory) -> Path:
    """A second, unrelated federation (another CA)."""
    out = tmp_path_factory.mktemp("other") / "keys"
    init_federation(out, "testfed", ["a", "b"])
    return out


class MatcherHandle:
    def __init__(self, keys: Path, db: Path):
        self.keys, self.db = keys, db
        self.app = None
        self._channels: list[grpc.Channel] = []

    def start(self):
        from fedalert.matcher.server import build_matcher

        self.app = build_matcher(self.keys / "matcher", self.db, "127.0.0.1:0")
        self.port = self.app.port
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stub(self, area: str, keys: Path | None = None) -> pb_grpc.MatcherStub:
        tls = TlsFiles.for_area((keys or self.keys) / "areas" / area)
        ch = secure_channel(self.target, tls, server_name="matcher")
        self._channels.append(ch)
        return pb_grpc.MatcherStub(ch)

    def stop(self):
        for ch in self._channels:
            ch.close()
        self._channels.clear()
        if self.app:
            self.app.stop()
            self.app = None

    def restart(self):
        self.stop()
        return self.restart_same_port()

    def restart_same_port(self):
        from fedalert.matcher.server import build_matcher

        self.app = build_matcher(self.keys / "matcher", self.db, f"127.0.0.1:{self.port}")
        return self


@pytest.fixture
def matcher(fed_keys, tmp_path):
    m = MatcherHandle(fed_keys, tmp_path / "matcher.db").start()
    yield m
    m.stop()
