"""Sealed keyset packages and the custodian identity (keys/keydelivery.py, keys/custody.py)."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from fedalert.keys import Directory, TokenKeyset, init_federation, load_sealing_key, load_signing_key, revoke_area
from fedalert.keys import rotation
from fedalert.keys.custody import add_custodian, custodian_signer
from fedalert.keys.directory import sign_body
from fedalert.keys.errors import CeremonyError, DirectoryError, SealError
from fedalert.keys.keydelivery import KeysetPackage, KeysetPackageError, open_package, seal_keyset
from fedalert.keys.keyfiles import load_ec_private_key
from fedalert.keys.spiffe import identity_from_cert, parse_spiffe_id
from fedalert.node.rotation import install_file, installed_serial


@pytest.fixture
def fed(tmp_path) -> Path:
    out = tmp_path / "keys"
    init_federation(out, "rotfed", ["a", "b", "c"])
    return out


def _dir(fed: Path) -> Directory:
    return Directory.load(fed / "ca" / "directory.json", fed / "ca" / "ca.crt")


def _node_folder(fed: Path, area: str, tmp_path: Path) -> Path:
    """What the area operator holds: a copy of areas/<id>/ (the custodian keeps its own)."""
    dest = tmp_path / f"node-{area}"
    shutil.copytree(fed / "areas" / area, dest)
    return dest


def test_custodian_identity_is_made_by_the_ceremony(fed):
    assert parse_spiffe_id("spiffe://rotfed/custodian") == ("rotfed", "custodian", None)
    cert = x509.load_pem_x509_certificate((fed / "ca" / "custodian.crt").read_bytes())
    assert identity_from_cert(cert, "rotfed") == ("custodian", None)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == []  # can never pose as a server
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    d = _dir(fed)
    assert d.has_custodian
    assert d.custodian_signing_public().public_bytes_raw() == custodian_signer(fed).public_key().public_bytes_raw()
    # The matcher and the areas never get the custodian's private keys.
    for folder in [fed / "matcher", *(fed / "areas").iterdir()]:
        assert not any(p.name.startswith("custodian") for p in folder.iterdir())


def test_directory_without_custodian_still_loads_and_add_custodian_fills_it(tmp_path):
    out = tmp_path / "keys"
    init_federation(out, "oldfed", ["a"])
    # Make it look like a federation from before custodians: drop the entry and the files, re-sign.
    d = _dir(out)
    body = d.body
    del body["custodian"]
    ca_key = load_ec_private_key(out / "ca" / "ca.key")
    (out / "ca" / "directory.json").write_bytes(sign_body(body, ca_key))
    for n in ("custodian.crt", "custodian.key", "custodian-signing.key"):
        (out / "ca" / n).unlink()
    old = _dir(out)
    assert not old.has_custodian
    with pytest.raises(DirectoryError, match="add-custodian"):
        old.custodian_signing_public()
    with pytest.raises(CeremonyError, match="add-custodian"):
        rotation.rotate(out)
    assert TokenKeyset.load(out / "ca" / "tokens.keyset.json").key_ids == old_keyset_ids(out)  # nothing changed
    add_custodian(out)
    new = _dir(out)
    assert new.has_custodian and new.version == old.version + 1
    with pytest.raises(CeremonyError, match="already has"):
        add_custodian(out)


def old_keyset_ids(out: Path) -> list[str]:
    return TokenKeyset.load(out / "areas" / "a" / "tokens.keyset.json").key_ids


def test_rotate_seals_to_every_active_area_and_never_to_the_matcher(fed, tmp_path):
    revoke_area(fed, "c", "test: area withdrawn")
    before = {p: p.read_bytes() for p in (fed / "matcher").iterdir()}
    revoked_keyset = (fed / "areas" / "c" / "tokens.keyset.json").read_bytes()
    key_id, paths = rotation.rotate(fed)
    assert (fed / "areas" / "c" / "tokens.keyset.json").read_bytes() == revoked_keyset
    assert sorted(p.name for p in paths) == ["a.sealed", "b.sealed"]  # not the revoked area
    assert all(p.parent == fed / "rotation" / key_id for p in paths)
    assert {p: p.read_bytes() for p in (fed / "matcher").iterdir()} == before
    ks = TokenKeyset.load(fed / "ca" / "tokens.keyset.json")
    assert ks.primary_id == key_id and len(ks.key_ids) == 2
    # No secret of the keyset is visible in the package file.
    text = paths[0].read_bytes()
    secrets = [base64.b64decode(k["secret_b64"]) for k in json.loads(ks.export_json())["keys"]]
    for s in secrets:
        assert s not in text and base64.b64encode(s) not in text
    pkg = KeysetPackage.from_json(text)
    assert (pkg.federation, pkg.area, pkg.key_id, pkg.serial) == ("rotfed", "a", key_id, 1)
    # Serials only grow.
    key2, paths2 = rotation.rotate(fed)
    assert KeysetPackage.from_json(paths2[0].read_bytes()).serial == 2


def test_node_opens_its_own_package_only(fed, tmp_path):
    key_id, paths = rotation.rotate(fed)
    a = _node_folder(fed, "a", tmp_path)
    b = _node_folder(fed, "b", tmp_path)
    # b cannot install a's package (wrong area), even renamed.
    with pytest.raises(KeysetPackageError, match="not this area"):
        install_file(b, fed / "rotation" / key_id / "a.sealed")
    res = install_file(a, fed / "rotation" / key_id / "a.sealed")
    assert res.primary == key_id and installed_serial(a) == 1
    assert TokenKeyset.load(a / "tokens.keyset.json") == TokenKeyset.load(fed / "ca" / "tokens.keyset.json")
    assert (a / "tokens.keyset.json").stat().st_mode & 0o777 == 0o600
    # Replaying the same (or an older) package is refused: no rollback.
    with pytest.raises(KeysetPackageError, match="not newer"):
        install_file(a, fed / "rotation" / key_id / "a.sealed")


@pytest.mark.parametrize("field, value", [("key_id", "k00000000"), ("serial", 99), ("area", "b")])
def test_changed_clear_field_breaks_the_seal(fed, tmp_path, field, value):
    key_id, _ = rotation.rotate(fed)
    pkg = KeysetPackage.from_json((fed / "rotation" / key_id / "a.sealed").read_bytes())
    forged = dataclasses.replace(pkg, **{field: value})
    d = _dir(fed)
    target_area = forged.area
    with pytest.raises(SealError):
        open_package(forged, federation="rotfed", area=target_area,
                     recipient=load_sealing_key(fed / "areas" / target_area / "sealing.key"),
                     custodian=d.custodian_signing_public())


def test_package_signed_by_anyone_but_the_custodian_is_refused(fed):
    d = _dir(fed)
    ks = TokenKeyset.load(fed / "ca" / "tokens.keyset.json")
    # A matcher cannot forge one (no custodian key); nor can another area with its own signing key.
    for signer in (Ed25519PrivateKey.generate(), load_signing_key(fed / "areas" / "b" / "signing.key")):
        pkg = seal_keyset(ks, federation="rotfed", area="a", key_id=ks.primary_id, serial=5,
                          recipient=d.sealing_public("a"), signer=signer)
        with pytest.raises(SealError):
            open_package(pkg, federation="rotfed", area="a",
                         recipient=load_sealing_key(fed / "areas" / "a" / "sealing.key"),
                         custodian=d.custodian_signing_public())


def test_malformed_package_files_are_refused_clearly(fed, tmp_path):
    key_id, _ = rotation.rotate(fed)
    good = json.loads((fed / "rotation" / key_id / "a.sealed").read_text())
    cases = {
        "not json": b"{",
        "extra field": json.dumps({**good, "x": 1}).encode(),
        "bad serial": json.dumps({**good, "serial": -1}).encode(),
        "bad key id": json.dumps({**good, "key_id": "../../x"}).encode(),
        "bad base64": json.dumps({**good, "sealed_b64": "!!"}).encode(),
    }
    for label, data in cases.items():
        with pytest.raises(KeysetPackageError):
            KeysetPackage.from_json(data, source=label)
