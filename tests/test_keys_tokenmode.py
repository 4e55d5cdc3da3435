"""Token mode in the ceremony: OPRF (the CLI default) and HMAC; rotation of the OPRF key; the switch.

Promises: in OPRF mode no area folder and no matcher folder holds a token
key; the key service folder holds the OPRF keyset (0600) and its own
certificate; the signed directory names the key service and every OPRF key
id with the public key the key service's secret derives; rotation edits the
key service's keyset and the directory only; the switch from HMAC mode keeps
the HMAC key id for the dual-key publish, and finishing it removes every
HMAC keyset under the ceremony folder.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from fedalert.cli import main as cli_main
from fedalert.keys import Directory, DirectoryError, init_federation, rotation, tokenmode
from fedalert.keys.ceremony import add_area
from fedalert.keys.certs import cert_sha256
from fedalert.keys.directory import sign_body
from fedalert.keys.errors import CeremonyError, KeysUsageError
from fedalert.keys.keyfiles import load_cert, load_ec_private_key
from fedalert.keys.oprf_keyset import OprfKeyset
from fedalert.keys.spiffe import ROLE_KEYSVC, identity_from_cert, parse_spiffe_id


def _run(argv) -> int:
    with pytest.raises(SystemExit) as e:
        cli_main([str(a) for a in argv])
    return e.value.code


def _dir(out: Path, role: str = "ca") -> Directory:
    folder = out / role
    return Directory.load(folder / "directory.json", folder / "ca.crt")


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_cli_init_defaults_to_oprf_and_no_node_or_matcher_holds_a_token_key(tmp_path):
    out = tmp_path / "f"
    assert _run(["keys", "init", "--federation", "tm", "--areas", "a1,b2", "--out", out,
                 "--keysvc-host", "keys.example"]) == 0
    for folder in [out / "matcher", out / "areas" / "a1", out / "areas" / "b2"]:
        names = {p.name for p in folder.iterdir()}
        assert "tokens.keyset.json" not in names and "oprf.keyset.json" not in names, (folder, names)
    assert not (out / "ca" / "tokens.keyset.json").exists()
    ks = out / "keysvc"
    assert {p.name for p in ks.iterdir()} == {"ca.crt", "keysvc.crt", "keysvc.key", "oprf.keyset.json",
                                              "directory.json"}
    assert _mode(ks) == 0o700 and _mode(ks / "keysvc.key") == 0o600 and _mode(ks / "oprf.keyset.json") == 0o600
    keyset = OprfKeyset.load(ks / "oprf.keyset.json")
    d = _dir(out, "areas/a1")
    assert d.token_mode == "oprf" and d.oprf_primary == keyset.primary_id
    assert d.oprf_public(keyset.primary_id) == keyset.public_key(keyset.primary_id)
    cert = load_cert(ks / "keysvc.crt")
    assert d.keysvc_cert_sha256 == cert_sha256(cert)
    assert identity_from_cert(cert, "tm") == (ROLE_KEYSVC, None)
    assert parse_spiffe_id("spiffe://tm/keysvc") == ("tm", "keysvc", None)
    # The key service's TLS key and every copy of the directory agree.
    assert _dir(out, "keysvc").version == _dir(out, "matcher").version == d.version == 1
    load_ec_private_key(ks / "keysvc.key")
    # A new area in OPRF mode gets no token key either.
    add_area(out, "c3")
    assert not (out / "areas" / "c3" / "tokens.keyset.json").exists()
    assert _dir(out, "keysvc").version == 2


def test_show_lists_oprf_key_ids_never_a_secret(tmp_path, capsys):
    out = tmp_path / "f"
    init_federation(out, "tm", ["a1"], token_mode="oprf")
    assert _run(["keys", "show", "--out", out]) == 0
    assert _run(["keys", "show", "--out", out, "--json"]) == 0
    text = capsys.readouterr().out
    doc = json.loads((out / "ca" / "oprf.keyset.json").read_bytes())
    secret = doc["keys"][0]["secret_b64"]
    assert secret not in text and base64.b64decode(secret).hex() not in text
    assert "token mode  oprf" in text and doc["primary"] in text
    sk = OprfKeyset.load(out / "ca" / "oprf.keyset.json").private_key(doc["primary"]).export_scalar()
    assert sk.hex() not in text and base64.b64encode(sk).decode() not in text


def test_oprf_rotation_edits_the_key_service_keyset_and_the_directory_only(tmp_path):
    out = tmp_path / "f"
    init_federation(out, "tm", ["a1", "b2"], token_mode="oprf")
    old = _dir(out).oprf_primary
    area_files = {p: p.read_bytes() for p in (out / "areas").rglob("*") if p.is_file() and p.name != "directory.json"}
    new, sealed = rotation.rotate(out)
    assert sealed == [] and not (out / "rotation").exists()
    d = _dir(out, "areas/b2")
    assert d.oprf_primary == new and d.oprf_key_status(old) == "enabled" and d.version == 2
    ks = OprfKeyset.load(out / "keysvc" / "oprf.keyset.json")
    assert ks.primary_id == new and set(ks.enabled_key_ids) == {old, new}
    assert d.oprf_public(new) == ks.public_key(new) != ks.public_key(old)
    rotation.disable_token_key(out, old)
    assert _dir(out, "keysvc").oprf_key_status(old) == "disabled"
    assert OprfKeyset.load(out / "keysvc" / "oprf.keyset.json").enabled_key_ids == [new]
    assert {p: p.read_bytes() for p in area_files} == area_files  # no area file but the directory changed


def test_oprf_rotation_needs_the_ca_passphrase_when_the_ca_key_is_encrypted(tmp_path):
    from fedalert.keys import KeyFileError

    out = tmp_path / "f"
    init_federation(out, "tm", ["a1"], token_mode="oprf", ca_passphrase=b"correct horse battery")
    before = (out / "ca" / "oprf.keyset.json").read_bytes()
    with pytest.raises(KeyFileError):
        rotation.rotate(out)
    assert (out / "ca" / "oprf.keyset.json").read_bytes() == before
    rotation.rotate(out, ca_passphrase=b"correct horse battery")
    assert _dir(out).version == 2


def test_switch_from_hmac_keeps_the_hmac_key_id_until_finish(tmp_path):
    out = tmp_path / "f"
    init_federation(out, "tm", ["a1", "b2"], token_mode="hmac")
    hmac_id = json.loads((out / "ca" / "tokens.keyset.json").read_bytes())["primary"]
    assert _dir(out).token_mode == "hmac"
    new, kept = tokenmode.switch_to_oprf(out)
    assert kept == [hmac_id] and new != hmac_id
    d = _dir(out, "areas/a1")
    assert d.token_mode == "oprf" and d.oprf_primary == new and d.hmac_key_ids == [hmac_id]
    assert (out / "areas" / "a1" / "tokens.keyset.json").exists()  # nodes still need it for the dual publish
    assert (out / "keysvc" / "oprf.keyset.json").exists()
    with pytest.raises(CeremonyError, match="already in OPRF"):
        tokenmode.switch_to_oprf(out)
    removed = tokenmode.finish_switch(out)
    assert {p.parent.name for p in removed} == {"ca", "a1", "b2"}
    assert not list(out.rglob("tokens.keyset.json"))
    assert _dir(out, "areas/b2").hmac_key_ids == []


def test_directory_tokens_section_is_checked(tmp_path):
    out = tmp_path / "f"
    init_federation(out, "tm", ["a1"], token_mode="oprf")
    key = load_ec_private_key(out / "ca" / "ca.key")
    ca = load_cert(out / "ca" / "ca.crt")
    body = _dir(out).body
    kid = body["tokens"]["primary"]

    def load(b):
        return Directory.from_bytes(sign_body(b, key), ca)

    assert load(body).oprf_primary == kid
    for mutate, msg in [
        (lambda t: t["keys"][kid].update(public_b64=base64.b64encode(bytes(32)).decode()), "public_b64"),
        (lambda t: t["keys"][kid].update(status="gone"), "status"),
        (lambda t: t.update(primary="k00000000"), "primary"),
        (lambda t: t.update(suite="P256-SHA256"), "suite"),
        (lambda t: t["keysvc"].update(spiffe_id="spiffe://other/keysvc"), "keysvc"),
        (lambda t: t.update(hmac_key_ids=[kid]), "hmac_key_ids"),
        (lambda t: t.update(mode="rsa"), "mode"),
    ]:
        b = json.loads(json.dumps(body))
        mutate(b["tokens"])
        with pytest.raises(DirectoryError, match=msg):
            load(b)
    b = json.loads(json.dumps(body))
    b["tokens"] = {"mode": "hmac"}
    assert load(b).token_mode == "hmac"
    with pytest.raises(DirectoryError, match="HMAC token mode"):
        load(b).oprf_primary


def test_keysvc_host_names_are_checked(tmp_path):
    for bad in ("matcher", "area-x", "bad host"):
        with pytest.raises(KeysUsageError):
            init_federation(tmp_path / f"f-{bad.replace(' ', '_')}", "tm", ["a1"], token_mode="oprf",
                            keysvc_hosts=[bad])
    with pytest.raises(KeysUsageError, match="token mode"):
        init_federation(tmp_path / "g", "tm", ["a1"], token_mode="rsa")


def test_a_console_certificate_never_carries_the_matcher_or_key_service_name(tmp_path):
    """Nodes find the matcher and the key service by their reserved DNS names; a console's
    server certificate (signed by the same CA) must not be able to answer to either."""
    from fedalert.keys.ceremony import issue_console_cert

    init_federation(tmp_path / "f", "tm", ["a1"], token_mode="oprf")
    for bad in ("matcher", "keysvc", "KeySvc", "area-a1"):
        with pytest.raises(KeysUsageError, match="invalid console host"):
            issue_console_cert(tmp_path / "f", "a1", tmp_path / f"c-{bad}", hosts=[bad])
    cert, _ = issue_console_cert(tmp_path / "f", "a1", tmp_path / "ok", hosts=["console.north.example"])
    assert cert.exists()


def test_each_role_may_name_its_own_reserved_host_and_no_other(tmp_path):
    """--matcher-host matcher and --keysvc-host keysvc are allowed (the docker network uses them);
    each role's reserved name on another role's certificate is refused."""
    from cryptography import x509

    init_federation(tmp_path / "ok", "tm", ["a1"], ["matcher"], token_mode="oprf", keysvc_hosts=["keysvc"])
    cert = x509.load_pem_x509_certificate((tmp_path / "ok" / "matcher" / "matcher.crt").read_bytes())
    assert "matcher" in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
    with pytest.raises(KeysUsageError, match="invalid matcher host 'keysvc'"):
        init_federation(tmp_path / "bad", "tm", ["a1"], ["keysvc"], token_mode="oprf")
