"""Signed directory: verification, tamper detection, shape checks, lookups."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509

from fedalert.keys import DirectoryError, init_federation
from fedalert.keys.directory import Directory, canonical_json, sign_body
from fedalert.keys.keyfiles import load_ec_private_key

FED = "dirfed"


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("d") / "fed"
    init_federation(out, FED, ["north", "south"])
    return out


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("o") / "fed"
    init_federation(out, FED, ["north", "south"])
    return out


def _ca(fed: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((fed / "ca" / "ca.crt").read_bytes())


def _doc(fed: Path) -> dict:
    return json.loads((fed / "ca" / "directory.json").read_bytes())


def _load(fed: Path, doc) -> Directory:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return Directory.from_bytes(data, _ca(fed))


def test_verifies_and_exposes_members(fed: Path):
    d = Directory.load(fed / "matcher" / "directory.json", fed / "matcher" / "ca.crt")
    assert d.federation == FED and d.version == 1 and d.areas == ["north", "south"]
    assert d.matcher_spiffe_id == f"spiffe://{FED}/matcher"
    assert d.spiffe_id("north") == f"spiffe://{FED}/area/north"
    assert d.revoked == [] and not d.is_revoked("north")
    assert "north" in repr(d)


def test_reformatted_file_still_verifies(fed: Path):
    """The signature covers canonical JSON of the body, not the file's whitespace or key order."""
    doc = _doc(fed)
    assert _load(fed, json.dumps(doc, indent=None, sort_keys=False).encode()).version == 1


def _mutations():
    def area_key(b):
        raw = bytearray(base64.b64decode(b["areas"]["north"]["sealing_public_b64"]))
        raw[0] ^= 1
        b["areas"]["north"]["sealing_public_b64"] = base64.b64encode(raw).decode()
    return {
        "version": lambda b: b.update(version=b["version"] + 1),
        "federation": lambda b: b.update(federation="evil"),
        "issued_at": lambda b: b.update(issued_at="2030-01-01T00:00:00Z"),
        "matcher fingerprint": lambda b: b["matcher"].update(cert_sha256="0" * 64),
        "area swapped keys": lambda b: b["areas"]["north"].update(
            signing_public_b64=b["areas"]["south"]["signing_public_b64"]),
        "area sealing key bit": area_key,
        "area removed": lambda b: b["areas"].pop("south"),
        "area added": lambda b: b["areas"].update(evil=dict(b["areas"]["north"], spiffe_id=f"spiffe://{FED}/area/evil")),
        "revocation added": lambda b: b["revoked"].append(
            {"area": "north", "cert_sha256": "0" * 64, "revoked_at": "x", "reason": "y"}),
    }


@pytest.mark.parametrize("name", list(_mutations()))
def test_any_body_tamper_is_detected(fed: Path, name):
    doc = _doc(fed)
    _mutations()[name](doc["body"])
    with pytest.raises(DirectoryError, match="does not verify"):
        _load(fed, doc)


def test_signature_tamper_and_garbage(fed: Path):
    doc = _doc(fed)
    sig = bytearray(base64.b64decode(doc["signature_b64"]))
    for i in (0, len(sig) // 2, len(sig) - 1):
        bad = bytearray(sig)
        bad[i] ^= 1
        with pytest.raises(DirectoryError):
            _load(fed, dict(doc, signature_b64=base64.b64encode(bad).decode()))
    with pytest.raises(DirectoryError, match="base64"):
        _load(fed, dict(doc, signature_b64="***"))
    with pytest.raises(DirectoryError, match="JSON"):
        _load(fed, b"{")
    with pytest.raises(DirectoryError, match="exactly"):
        _load(fed, dict(doc, extra=1))


def test_directory_of_another_federation_ca_is_refused(fed: Path, other: Path):
    with pytest.raises(DirectoryError, match="does not verify"):
        Directory.load(other / "ca" / "directory.json", fed / "ca" / "ca.crt")


def test_shape_is_checked_even_when_signed_by_the_ca(fed: Path):
    """A body the CA signed by mistake is still refused if it breaks the format."""
    ca_key = load_ec_private_key(fed / "ca" / "ca.key")
    body = _doc(fed)["body"]
    bad_bodies = [
        dict(body, version=0),
        dict(body, version=True),
        dict(body, extra="x"),
        {**body, "areas": {**body["areas"], "north": dict(body["areas"]["north"], spiffe_id=f"spiffe://{FED}/area/south")}},
        {**body, "areas": {"Bad": body["areas"]["north"]}},
        {**body, "areas": {"north": dict(body["areas"]["north"], sealing_public_b64="AAAA")}},
        {**body, "matcher": {"spiffe_id": "spiffe://other/matcher", "cert_sha256": "0" * 64}},
        dict(body, revoked=[{"area": "north"}]),
    ]
    for b in bad_bodies:
        with pytest.raises(DirectoryError):
            _load(fed, sign_body(b, ca_key))
    assert _load(fed, sign_body(body, ca_key)).areas == ["north", "south"]


def test_unknown_area_lookup(fed: Path):
    d = Directory.load(fed / "ca" / "directory.json", fed / "ca" / "ca.crt")
    for fn in (d.sealing_public, d.signing_public, d.cert_sha256):
        with pytest.raises(DirectoryError, match="not in the"):
            fn("west")
    assert not d.is_revoked("west")


def test_missing_files(fed: Path, tmp_path: Path):
    with pytest.raises(DirectoryError, match="does not exist"):
        Directory.load(tmp_path / "none.json", fed / "ca" / "ca.crt")
    with pytest.raises(DirectoryError, match="does not exist"):
        Directory.load(fed / "ca" / "directory.json", tmp_path / "none.crt")


def test_canonical_json_is_pinned():
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == b'{"a":{"c":"\\u00e9","d":[1,2]},"b":1}'


def test_body_copy_is_independent(fed: Path):
    d = Directory.load(fed / "ca" / "directory.json", fed / "ca" / "ca.crt")
    b = d.body
    b["areas"].clear()
    assert d.areas == ["north", "south"]


def test_an_unverified_directory_cannot_be_constructed(fed: Path):
    with pytest.raises(TypeError, match="verify"):
        Directory(_doc(fed)["body"])
