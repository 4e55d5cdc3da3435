"""Test helpers (not fixtures): token batches, alert streams, and a real matcher on port 0."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import grpc

from fedalert.transport import TlsFiles, secure_channel
from fedalert.v1 import matcher_pb2 as pb
from fedalert.v1 import matcher_pb2_grpc as pb_grpc


def wait_until(pred, timeout: float = 20.0, interval: float = 0.05):
    """Poll `pred` until it returns something truthy (returned) or `timeout` seconds pass (None).

    Bounded in time; for waiting on background threads and processes, not a
    timing assertion.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(interval)
    return None


def tok(label: str) -> bytes:
    """A 16-byte stand-in token value derived from a label (tests only)."""
    return hashlib.sha256(label.encode()).digest()[:16]


def add_group(rec: pb.RecordTokens, kind: str, values: list[bytes]) -> pb.RecordTokens:
    """Append one kind's token values to a packed RecordTokens (kinds, counts, values)."""
    rec.kinds.append(kind)
    rec.counts.append(len(values))
    rec.values += b"".join(values)
    return rec


def record(handle: str, key_id: str = "k1", **kinds: str) -> pb.RecordTokens:
    """A RecordTokens with one token per kind, value derived from the label."""
    rec = pb.RecordTokens(handle=handle, key_id=key_id)
    for kind, label in kinds.items():
        add_group(rec, kind, [tok(f"{key_id}/{kind}/{label}")])
    return rec


def publish(stub, *records: pb.RecordTokens, batch_id: str | None = None) -> pb.PublishResponse:
    return stub.Publish(pb.PublishRequest(batch_id=batch_id or uuid.uuid4().hex, records=records), timeout=10)


def drain(stub, after: int = 0, idle: float = 1.0) -> list[pb.Alert]:
    """Read alerts from WatchAlerts until the stream is idle for `idle` seconds."""
    out = []
    call = stub.WatchAlerts(pb.WatchAlertsRequest(after_cursor=after), timeout=idle)
    try:
        for a in call:
            out.append(a)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
    return out


class MatcherHandle:
    def __init__(self, keys: Path, db: Path, **opts):
        self.keys, self.db, self.opts = keys, db, opts
        self.app = None
        self._channels: list[grpc.Channel] = []

    def start(self):
        from fedalert.matcher.server import build_matcher

        self.app = build_matcher(self.keys / "matcher", self.db, "127.0.0.1:0", **self.opts)
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

        self.app = build_matcher(self.keys / "matcher", self.db, f"127.0.0.1:{self.port}", **self.opts)
        return self


class KeysvcHandle:
    """A real OPRF key service on 127.0.0.1:0 over mTLS (keys from an OPRF-mode ceremony)."""

    def __init__(self, keys: Path, db: Path, **opts):
        self.keys, self.db, self.opts = keys, db, opts
        self.app = None
        self._channels: list[grpc.Channel] = []

    def start(self):
        from fedalert.keys.keysvc.server import build_keysvc

        self.app = build_keysvc(self.keys / "keysvc", self.db, "127.0.0.1:0", **self.opts)
        self.port = self.app.port
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def channel(self, area: str, keys: Path | None = None) -> grpc.Channel:
        tls = TlsFiles.for_area((keys or self.keys) / "areas" / area)
        ch = secure_channel(self.target, tls, server_name="keysvc")
        self._channels.append(ch)
        return ch

    def stub(self, area: str, keys: Path | None = None):
        from fedalert.v1 import keysvc_pb2_grpc

        return keysvc_pb2_grpc.KeyServiceStub(self.channel(area, keys))

    def client(self, area: str):
        """The node's key service client for `area` (blind, evaluate, verify, unblind)."""
        from fedalert.node.oprf_tokens import KeyServiceClient
        from fedalert.node.trust import NodeTrust

        return KeyServiceClient(self.channel(area), NodeTrust(self.keys / "areas" / area).directory)

    def stop(self):
        for ch in self._channels:
            ch.close()
        self._channels.clear()
        if self.app:
            self.app.stop()
            self.app = None


def add_users(db: Path, folder: Path, users: dict[str, list[str]]) -> dict[str, list[str]]:
    """Named accounts on a node's database for tests (an administrator first, then *users*).

    Each user's password and TOTP secret go to 0600 files under *folder*;
    returns user -> the CLI arguments that log in as them
    (``--user U --password-file P --totp-secret-file S``)."""
    import datetime as dt

    from fedalert.keys import write_secret
    from fedalert.node.disclosure import DisclosureService, ServiceConfig, totp_code

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    out: dict[str, list[str]] = {}

    def files(user: str, password: str, secret: str | None = None) -> list[str]:
        pw, ts = folder / f"{user}.password", folder / f"{user}.totp"
        write_secret(pw, password.encode())
        if secret is not None:
            write_secret(ts, secret.encode())
        return ["--user", user, "--password-file", str(pw), "--totp-secret-file", str(ts)]

    with DisclosureService(ServiceConfig(db=Path(db))) as svc:
        admin = f"admin-{uuid.uuid4().hex[:6]}"
        creds = svc.add_user(None, admin, ["admin"], f"{admin} password")
        out[admin] = files(admin, f"{admin} password", creds.totp_secret)
        now = dt.datetime.now(dt.timezone.utc)
        actor = svc.login(admin, f"{admin} password", totp_code(creds.totp_secret, now))[1]
        for user, roles in users.items():
            password = f"{user} password 1"
            creds = svc.add_user(actor, user, roles, password)
            out[user] = files(user, password, creds.totp_secret)
    return out
