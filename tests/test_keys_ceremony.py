"""Key ceremony: layout, permissions, certificates, add-area, revoke, CLI."""

from __future__ import annotations

import argparse
import base64
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store

from fedalert.keys import (
    CeremonyError,
    Directory,
    KeysUsageError,
    TokenKeyset,
    add_area,
    renew_area,
    area_from_cert,
    init_federation,
    revoke_area,
)
from fedalert.keys import cli as keys_cli
from fedalert.keys.certs import cert_sha256

FED = "testfed"
AREAS = ["north", "south", "east-1"]
SECRET_FILES = {"ca.key", "matcher.key", "node.key", "sealing.key", "signing.key", "tokens.keyset.json",
                "custodian.key", "custodian-signing.key"}


@pytest.fixture()
def fed(tmp_path: Path) -> Path:
    out = tmp_path / "fed"
    init_federation(out, FED, AREAS, ["matcher.internal.test", "10.1.2.3"])
    return out


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _cert(p: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(p.read_bytes())


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_layout_is_exactly_the_contract(fed: Path):
    got = {str(p.relative_to(fed)) for p in _all_files(fed)}
    want = {"ca/ca.key", "ca/ca.crt", "ca/tokens.keyset.json", "ca/directory.json",
            "ca/custodian.crt", "ca/custodian.key", "ca/custodian-signing.key",
            "matcher/ca.crt", "matcher/matcher.crt", "matcher/matcher.key", "matcher/directory.json"}
    for a in AREAS:
        want |= {f"areas/{a}/{n}" for n in ("ca.crt", "node.crt", "node.key", "tokens.keyset.json",
                                            "sealing.key", "signing.key", "directory.json")}
    assert got == want


def test_every_secret_file_is_0600_and_every_folder_0700(fed: Path):
    for p in _all_files(fed):
        if p.name in SECRET_FILES:
            assert _mode(p) == 0o600, p
        else:
            assert _mode(p) & 0o022 == 0, p  # public files are not writable by others
    for d in [fed, *[p for p in fed.rglob("*") if p.is_dir()]]:
        assert _mode(d) == 0o700, d


def test_secret_files_are_0600_even_with_permissive_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        init_federation(tmp_path / "f", FED, ["a1"])
    finally:
        os.umask(old)
    for p in _all_files(tmp_path / "f"):
        if p.name in SECRET_FILES:
            assert _mode(p) == 0o600, p


def test_matcher_folder_holds_no_token_key_and_no_area_private_key(fed: Path):
    names = {p.name for p in (fed / "matcher").iterdir()}
    assert names == {"ca.crt", "matcher.crt", "matcher.key", "directory.json"}
    blob = b"".join(p.read_bytes() for p in _all_files(fed / "matcher"))
    keyset = json.loads((fed / "ca" / "tokens.keyset.json").read_bytes())
    for k in keyset["keys"]:
        secret = base64.b64decode(k["secret_b64"])
        assert k["secret_b64"].encode() not in blob
        assert secret not in blob and secret.hex().encode() not in blob
    for a in AREAS:
        for n in ("sealing.key", "signing.key", "node.key"):
            assert (fed / "areas" / a / n).read_bytes() not in blob


def test_token_keyset_is_the_same_for_custodian_and_every_area(fed: Path):
    ca = TokenKeyset.load(fed / "ca" / "tokens.keyset.json")
    for a in AREAS:
        assert TokenKeyset.load(fed / "areas" / a / "tokens.keyset.json") == ca


def test_ca_certificate_extensions(fed: Path):
    ca = _cert(fed / "ca" / "ca.crt")
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign
    assert ca.issuer == ca.subject
    years = (ca.not_valid_after_utc - ca.not_valid_before_utc).days / 365
    assert 9.9 < years < 10.1
    assert ca.public_key().curve.name == "secp256r1"


def _verify_chain(fed: Path, leaf: x509.Certificate, *, server_name=None):
    store = Store([_cert(fed / "ca" / "ca.crt")])
    builder = PolicyBuilder().store(store)
    if server_name is None:
        return builder.build_client_verifier().verify(leaf, [])
    return builder.build_server_verifier(server_name).verify(leaf, [])


def test_matcher_certificate_sans_and_chain(fed: Path):
    m = _cert(fed / "matcher" / "matcher.crt")
    san = m.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"spiffe://{FED}/matcher"]
    assert set(san.get_values_for_type(x509.DNSName)) == {"matcher", "localhost", "matcher.internal.test"}
    assert {str(i) for i in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "10.1.2.3"}
    eku = m.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku and x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in eku
    _verify_chain(fed, m, server_name=x509.DNSName("localhost"))
    _verify_chain(fed, m, server_name=x509.DNSName("matcher.internal.test"))
    _verify_chain(fed, m, server_name=x509.DNSName("matcher"))
    for a in AREAS:  # no area certificate can pass as the matcher by name
        with pytest.raises(Exception):
            _verify_chain(fed, _cert(fed / "areas" / a / "node.crt"), server_name=x509.DNSName("matcher"))
    with pytest.raises(Exception):
        _verify_chain(fed, m, server_name=x509.DNSName("elsewhere.test"))


def test_area_certificates_bind_the_area_id_and_chain_to_the_ca(fed: Path):
    for a in AREAS:
        c = _cert(fed / "areas" / a / "node.crt")
        assert area_from_cert(c, FED) == a
        san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert set(san.get_values_for_type(x509.DNSName)) == {f"area-{a}", "localhost"}
        assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        client = _verify_chain(fed, c)
        assert client.chain[0] == c and client.chain[-1] == _cert(fed / "ca" / "ca.crt")
        assert x509.UniformResourceIdentifier(f"spiffe://{FED}/area/{a}") in client.subjects
        _verify_chain(fed, c, server_name=x509.DNSName(f"area-{a}"))
        assert 364 <= (c.not_valid_after_utc - c.not_valid_before_utc).days <= 366


def test_certificates_from_another_federation_do_not_chain(fed: Path, tmp_path: Path):
    other = tmp_path / "other"
    init_federation(other, FED, ["north"])  # same name, different CA
    with pytest.raises(Exception):
        _verify_chain(fed, _cert(other / "areas" / "north" / "node.crt"))


def test_directory_lists_members_with_matching_fingerprints_and_keys(fed: Path):
    d = Directory.load(fed / "ca" / "directory.json", fed / "ca" / "ca.crt")
    assert d.federation == FED and d.version == 1 and d.areas == sorted(AREAS)
    assert d.matcher_cert_sha256 == cert_sha256(_cert(fed / "matcher" / "matcher.crt"))
    from fedalert.keys import load_sealing_key, load_signing_key
    from cryptography.hazmat.primitives import serialization as s
    raw = (s.Encoding.Raw, s.PublicFormat.Raw)
    for a in AREAS:
        folder = fed / "areas" / a
        assert d.cert_sha256(a) == cert_sha256(_cert(folder / "node.crt"))
        assert d.sealing_public(a).public_bytes(*raw) == load_sealing_key(folder / "sealing.key").public_key().public_bytes(*raw)
        assert d.signing_public(a).public_bytes(*raw) == load_signing_key(folder / "signing.key").public_key().public_bytes(*raw)
        assert not d.is_revoked(a)
    copies = {(p.parent.name, p.read_bytes()) for p in fed.rglob("directory.json")}
    assert len({b for _, b in copies}) == 1 and len(copies) == 2 + len(AREAS)


@pytest.mark.parametrize("bad", [["North"], ["a_b"], ["-a"], [""], ["a" * 33], ["ok", "ok"], []])
def test_init_refuses_bad_area_ids_and_writes_nothing(tmp_path: Path, bad):
    with pytest.raises(KeysUsageError):
        init_federation(tmp_path / "f", FED, bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fedname", ["", "Upper", "has/slash", "-lead", "a" * 64, "spiffe://x"])
def test_init_refuses_bad_federation_names(tmp_path: Path, fedname):
    with pytest.raises(KeysUsageError):
        init_federation(tmp_path / "f", fedname, ["a"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("host", ["bad host!", "", "-x.test", "area-north", "a..b"])
def test_init_refuses_bad_matcher_host(tmp_path: Path, host):
    with pytest.raises(KeysUsageError, match="matcher host"):
        init_federation(tmp_path / "f", FED, ["a"], [host])
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_a_non_empty_folder_and_accepts_an_empty_one(fed: Path, tmp_path: Path):
    before = {p: p.read_bytes() for p in _all_files(fed)}
    with pytest.raises(CeremonyError, match="add-area"):
        init_federation(fed, FED, ["x"])
    assert {p: p.read_bytes() for p in _all_files(fed)} == before
    empty = tmp_path / "empty"
    empty.mkdir()
    init_federation(empty, FED, ["x"])
    assert (empty / "areas" / "x" / "node.key").exists()


def test_init_refuses_a_symlinked_output(tmp_path: Path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(CeremonyError, match="symbolic link"):
        init_federation(tmp_path / "link", FED, ["a"])
    assert list(real.iterdir()) == []


def test_add_area_bumps_version_and_rewrites_every_copy(fed: Path):
    add_area(fed, "west")
    folder = fed / "areas" / "west"
    assert {p.name for p in folder.iterdir()} == {"ca.crt", "node.crt", "node.key", "tokens.keyset.json",
                                                  "sealing.key", "signing.key", "directory.json"}
    for p in folder.iterdir():
        if p.name in SECRET_FILES:
            assert _mode(p) == 0o600
    assert _mode(folder) == 0o700
    copies = list(fed.rglob("directory.json"))
    assert len(copies) == 3 + len(AREAS)
    assert len({p.read_bytes() for p in copies}) == 1
    for p in copies:
        d = Directory.load(p, fed / "ca" / "ca.crt")
        assert d.version == 2 and "west" in d.areas
    assert area_from_cert(_cert(folder / "node.crt"), FED) == "west"
    assert d.cert_sha256("west") == cert_sha256(_cert(folder / "node.crt"))
    assert TokenKeyset.load(folder / "tokens.keyset.json") == TokenKeyset.load(fed / "ca" / "tokens.keyset.json")
    _verify_chain(fed, _cert(folder / "node.crt"))
    assert not list((fed / "areas").glob(".*")), "staging folder left behind"
    add_area(fed, "west2")
    assert Directory.load(fed / "matcher" / "directory.json", fed / "ca" / "ca.crt").version == 3


def test_add_area_refuses_existing_and_invalid_ids(fed: Path):
    before = {p: p.read_bytes() for p in _all_files(fed)}
    with pytest.raises(CeremonyError, match="already in the"):
        add_area(fed, "north")
    with pytest.raises(KeysUsageError, match="invalid area id"):
        add_area(fed, "Bad_Id")
    assert {p: p.read_bytes() for p in _all_files(fed)} == before


def test_add_area_needs_the_custodian_folder(fed: Path):
    with pytest.raises(CeremonyError, match="custodian"):
        add_area(fed / "matcher", "west")


def test_revoke_area_re_signs_with_revocation(fed: Path):
    revoke_area(fed, "south", "certificate key lost")
    for p in fed.rglob("directory.json"):
        d = Directory.load(p, fed / "ca" / "ca.crt")
        assert d.version == 2 and d.is_revoked("south") and not d.is_revoked("north")
    [entry] = d.revoked
    assert entry["area"] == "south" and entry["reason"] == "certificate key lost"
    assert d.is_cert_revoked(cert_sha256(_cert(fed / "areas" / "south" / "node.crt")))
    assert not d.is_cert_revoked(cert_sha256(_cert(fed / "areas" / "north" / "node.crt")))
    assert d.active_areas == sorted(set(AREAS) - {"south"})
    with pytest.raises(CeremonyError, match="already revoked"):
        revoke_area(fed, "south", "again")
    with pytest.raises(CeremonyError, match="not in the"):
        revoke_area(fed, "nowhere", "x")
    with pytest.raises(KeysUsageError):
        revoke_area(fed, "north", "")
    with pytest.raises(CeremonyError, match="revoked"):
        add_area(fed, "south")


# -- CLI ------------------------------------------------------------------------------

def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fedalert")
    keys_cli.register(parser.add_subparsers(dest="role", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_init_add_show_verify_revoke(tmp_path: Path, capsys):
    out = tmp_path / "f"
    assert _run(["keys", "init", "--federation", FED, "--areas", "a1,b2", "--out", str(out),
                 "--matcher-host", "m.test", "--days", "30", "--token-mode", "hmac"]) == 0
    m = _cert(out / "matcher" / "matcher.crt")
    assert 29 <= (m.not_valid_after_utc - m.not_valid_before_utc).days <= 31
    assert _run(["keys", "add-area", "--out", str(out), "--area", "c3"]) == 0
    assert _run(["keys", "revoke", "--out", str(out), "--area", "b2", "--reason", "left the federation"]) == 0
    capsys.readouterr()
    assert _run(["keys", "show", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    ks = TokenKeyset.load(out / "ca" / "tokens.keyset.json")
    assert ks.primary_id in text and "REVOKED" in text and "spiffe://testfed/area/c3" in text
    assert _run(["keys", "show", "--out", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["directory_version"] == 3 and info["areas"]["b2"]["revoked"] is True
    assert _run(["keys", "verify-directory", str(out / "areas" / "a1" / "directory.json"),
                 "--ca", str(out / "areas" / "a1" / "ca.crt")]) == 0
    assert "version 3" in capsys.readouterr().out


def test_cli_show_prints_no_secret(fed: Path, capsys):
    _run(["keys", "show", "--out", str(fed)])
    _run(["keys", "show", "--out", str(fed), "--json"])
    text = capsys.readouterr().out
    doc = json.loads((fed / "ca" / "tokens.keyset.json").read_bytes())
    for k in doc["keys"]:
        assert k["secret_b64"] not in text
        assert base64.b64decode(k["secret_b64"]).hex() not in text
    for p in _all_files(fed):
        if p.name.endswith(".key"):
            body = b"".join(p.read_bytes().splitlines()[1:-1]).decode()
            assert body[:40] not in text


def test_cli_verify_directory_fails_with_exit_code_3_on_tamper(fed: Path):
    from fedalert.keys import DirectoryError
    p = fed / "matcher" / "directory.json"
    doc = json.loads(p.read_bytes())
    doc["body"]["version"] = 99
    p.write_text(json.dumps(doc))
    with pytest.raises(DirectoryError) as exc:
        _run(["keys", "verify-directory", str(p), "--ca", str(fed / "matcher" / "ca.crt")])
    assert exc.value.exit_code == 3


# -- token key rotation on the ceremony output ----------------------------------------

def _keysets(fed: Path) -> dict[str, TokenKeyset]:
    out = {"ca": TokenKeyset.load(fed / "ca" / "tokens.keyset.json")}
    for a in AREAS:
        out[a] = TokenKeyset.load(fed / "areas" / a / "tokens.keyset.json")
    return out


def test_token_key_rotation_add_promote_disable_reaches_every_area_never_matcher(fed: Path, capsys):
    old = _keysets(fed)["ca"].primary_id
    assert _run(["keys", "token-key", "add", "--out", str(fed)]) == 0
    ks = _keysets(fed)
    new = [k for k in ks["ca"].key_ids if k != old][0]
    assert all(k == ks["ca"] and k.primary_id == old for k in ks.values())

    assert _run(["keys", "token-key", "promote", new, "--out", str(fed)]) == 0
    ks = _keysets(fed)
    assert all(k == ks["ca"] and k.primary_id == new for k in ks.values())

    assert _run(["keys", "token-key", "disable", old, "--out", str(fed)]) == 0
    ks = _keysets(fed)
    assert all(k == ks["ca"] and k.status(old) == "disabled" for k in ks.values())

    assert {p.name for p in (fed / "matcher").iterdir()} == {"ca.crt", "matcher.crt", "matcher.key", "directory.json"}
    for p in _all_files(fed):
        if p.name in SECRET_FILES:
            assert _mode(p) == 0o600, p
    capsys.readouterr()
    _run(["keys", "show", "--out", str(fed)])
    text = capsys.readouterr().out
    assert f"{new}  enabled" in text and f"{old}  disabled" in text


def test_token_key_refusals_change_nothing(fed: Path):
    from fedalert.keys import KeysetError
    before = {p: p.read_bytes() for p in _all_files(fed)}
    primary = _keysets(fed)["ca"].primary_id
    with pytest.raises(KeysetError, match="primary"):
        _run(["keys", "token-key", "disable", primary, "--out", str(fed)])
    with pytest.raises(KeysetError, match="not in this keyset"):
        _run(["keys", "token-key", "promote", "kffffffff", "--out", str(fed)])
    with pytest.raises(KeysUsageError):
        _run(["keys", "token-key", "promote", "--out", str(fed)])
    after = {p: p.read_bytes() for p in _all_files(fed)}
    assert after == before


def test_concurrent_ceremony_commands_are_refused(fed: Path):
    from fedalert.keys.ceremony import custodian_lock
    with custodian_lock(fed):
        with pytest.raises(CeremonyError, match="another key ceremony"):
            add_area(fed, "west")
    add_area(fed, "west")


def test_renew_area_reissues_tls_keeps_sealing_and_signing(fed: Path):
    folder = fed / "areas" / "north"
    old_cert = _cert(folder / "node.crt")
    old_key = (folder / "node.key").read_bytes()
    sealing, signing = (folder / "sealing.key").read_bytes(), (folder / "signing.key").read_bytes()
    assert _run(["keys", "renew", "--out", str(fed), "--area", "north", "--days", "90"]) == 0
    new_cert = _cert(folder / "node.crt")
    assert new_cert != old_cert and (folder / "node.key").read_bytes() != old_key
    assert _mode(folder / "node.key") == 0o600
    assert (folder / "sealing.key").read_bytes() == sealing and (folder / "signing.key").read_bytes() == signing
    assert area_from_cert(new_cert, FED) == "north"
    _verify_chain(fed, new_cert)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    assert load_pem_private_key((folder / "node.key").read_bytes(), None).public_key() == new_cert.public_key()
    for p in fed.rglob("directory.json"):
        d = Directory.load(p, fed / "ca" / "ca.crt")
        assert d.version == 2 and d.cert_sha256("north") == cert_sha256(new_cert) and not d.is_revoked("north")
    revoke_area(fed, "south", "gone")
    with pytest.raises(CeremonyError, match="revoked"):
        renew_area(fed, "south")
    with pytest.raises(CeremonyError, match="not in the"):
        renew_area(fed, "nowhere")


# -- CA key passphrase ----------------------------------------------------------------

def test_ca_key_with_passphrase(tmp_path: Path, monkeypatch):
    from fedalert.keys import KeyFileError
    from fedalert.keys import write_secret
    out = tmp_path / "f"
    pw = tmp_path / "pw"
    write_secret(pw, b"correct horse battery staple\n")
    assert _run(["keys", "init", "--federation", FED, "--areas", "a1", "--out", str(out),
                 "--ca-passphrase-file", str(pw)]) == 0
    pem = (out / "ca" / "ca.key").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert _mode(out / "ca" / "ca.key") == 0o600
    before = {p: p.read_bytes() for p in _all_files(out)}
    with pytest.raises(KeyFileError, match="encrypted; give its passphrase"):
        _run(["keys", "add-area", "--out", str(out), "--area", "b2"])
    monkeypatch.setenv("FEDALERT_TEST_PW", "wrong passphrase here")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        _run(["keys", "add-area", "--out", str(out), "--area", "b2", "--ca-passphrase-env", "FEDALERT_TEST_PW"])
    assert {p: p.read_bytes() for p in _all_files(out)} == before
    monkeypatch.setenv("FEDALERT_TEST_PW", "correct horse battery staple")
    assert _run(["keys", "add-area", "--out", str(out), "--area", "b2", "--ca-passphrase-env", "FEDALERT_TEST_PW"]) == 0
    assert _run(["keys", "revoke", "--out", str(out), "--area", "a1", "--reason", "test",
                 "--ca-passphrase-file", str(pw)]) == 0
    assert Directory.load(out / "ca" / "directory.json", out / "ca" / "ca.crt").version == 3
    import os as _os
    _os.chmod(pw, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        _run(["keys", "renew", "--out", str(out), "--area", "b2", "--ca-passphrase-file", str(pw)])


def test_passphrase_rules(fed: Path, tmp_path: Path, monkeypatch):
    from fedalert.keys import KeyFileError
    with pytest.raises(KeysUsageError, match="at least 12"):
        init_federation(tmp_path / "f", FED, ["a"], ca_passphrase=b"short")
    assert not (tmp_path / "f").exists()
    with pytest.raises(KeyFileError, match="not encrypted"):
        add_area(fed, "west", ca_passphrase=b"a long enough passphrase")
    monkeypatch.delenv("FEDALERT_TEST_UNSET", raising=False)
    with pytest.raises(KeysUsageError, match="not set"):
        _run(["keys", "add-area", "--out", str(fed), "--area", "west", "--ca-passphrase-env", "FEDALERT_TEST_UNSET"])
