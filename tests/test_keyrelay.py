"""The matcher's keyset relay over real mTLS: who may post and fetch, and what the matcher can see."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from fedalert.keys import TokenKeyset, init_federation, revoke_area
from fedalert.keys import rotation
from fedalert.keys.keydelivery import KeysetPackage
from fedalert.keys.send import send_packages
from fedalert.transport import TlsFiles, secure_channel
from fedalert.v1 import matcher_pb2 as pb
from fedalert.v1 import matcher_pb2_grpc as pb_grpc
from tests.conftest import MatcherHandle


@pytest.fixture
def fed(tmp_path) -> Path:
    out = tmp_path / "keys"
    init_federation(out, "relayfed", ["a", "b"])
    return out


@pytest.fixture
def matcher(fed, tmp_path):
    m = MatcherHandle(fed, tmp_path / "matcher.db").start()
    yield m
    m.stop()


def _relay(matcher, tls: TlsFiles) -> pb_grpc.KeyRelayStub:
    ch = secure_channel(matcher.target, tls, server_name="matcher")
    matcher._channels.append(ch)
    return pb_grpc.KeyRelayStub(ch)


def _msg(pkg: KeysetPackage) -> pb.PostKeysetRequest:
    return pb.PostKeysetRequest(keyset=pb.SealedKeyset(federation=pkg.federation, area=pkg.area, key_id=pkg.key_id,
                                                       serial=pkg.serial, sealed=pkg.sealed))


def test_only_the_custodian_posts_and_each_area_fetches_only_its_own(matcher, fed):
    key_id, paths = rotation.rotate(fed)
    pkg_a = KeysetPackage.from_json((fed / "rotation" / key_id / "a.sealed").read_bytes())
    for tls in (TlsFiles.for_area(fed / "areas" / "a"), TlsFiles.for_matcher(fed / "matcher")):
        with pytest.raises(grpc.RpcError) as err:
            _relay(matcher, tls).PostKeyset(_msg(pkg_a), timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The custodian can: through the real CLI.
    r = subprocess.run([sys.executable, "-m", "fedalert", "keys", "send-keysets", key_id, "--out", str(fed),
                        "--send", matcher.target], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "posted 2 sealed keyset(s)" in r.stdout and "(0 already there)" in r.stdout
    assert send_packages(fed, paths, matcher.target).duplicates == 2  # idempotent by (area, serial)

    relay_a = _relay(matcher, TlsFiles.for_area(fed / "areas" / "a"))
    got = relay_a.FetchKeysets(pb.FetchKeysetsRequest(), timeout=5).keysets
    assert [(k.area, k.key_id, k.serial) for k in got] == [("a", key_id, 1)]
    assert got[0].sealed == pkg_a.sealed
    relay_b = _relay(matcher, TlsFiles.for_area(fed / "areas" / "b"))
    assert relay_b.AckKeyset(pb.AckKeysetRequest(serial=1), timeout=5).acknowledged is True  # its own serial 1
    assert len(relay_a.FetchKeysets(pb.FetchKeysetsRequest(), timeout=5).keysets) == 1  # b's ack left a's alone
    assert relay_a.AckKeyset(pb.AckKeysetRequest(serial=1), timeout=5).acknowledged is True
    assert relay_a.FetchKeysets(pb.FetchKeysetsRequest(), timeout=5).keysets == []


def test_matcher_cannot_see_the_keyset_it_relays(matcher, fed, tmp_path):
    key_id, paths = rotation.rotate(fed)
    send_packages(fed, paths, matcher.target)
    ks = json.loads(TokenKeyset.load(fed / "ca" / "tokens.keyset.json").export_json())
    secrets = [base64.b64decode(k["secret_b64"]) for k in ks["keys"]]
    matcher.stop()
    dump = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("matcher.db"))
    for s in secrets:
        assert s not in dump and base64.b64encode(s) not in dump
    assert b"keyset_relay" in matcher.db.with_suffix(".audit.jsonl").read_bytes()
    # And the matcher's own folder never held a keyset.
    assert not any("keyset" in p.name for p in (fed / "matcher").iterdir())


def test_keysets_for_a_revoked_area_are_refused(matcher, fed):
    key_id, _ = rotation.rotate(fed)
    pkg_b = KeysetPackage.from_json((fed / "rotation" / key_id / "b.sealed").read_bytes())
    revoke_area(fed, "b", "test: revoked")  # rewrites fed/matcher/directory.json: the matcher reloads it
    with pytest.raises(grpc.RpcError) as err:
        send_packages(fed, [fed / "rotation" / key_id / "b.sealed"], matcher.target)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "not an active member" in err.value.details()
    assert pkg_b.area == "b"


def test_custodian_certificate_cannot_act_as_an_area(matcher, fed):
    from fedalert.keys.custody import custodian_tls_paths
    from tests.helpers import publish, record

    ch = secure_channel(matcher.target, TlsFiles(*custodian_tls_paths(fed)), server_name="matcher")
    matcher._channels.append(ch)
    with pytest.raises(grpc.RpcError) as err:
        publish(pb_grpc.MatcherStub(ch), record("handleA0001", pnc="x1"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and "custodian" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        pb_grpc.KeyRelayStub(ch).FetchKeysets(pb.FetchKeysetsRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
