"""Token keyset: format, MAC, rotation (add -> promote -> disable), leak resistance, secret files."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import pickle
import stat
from pathlib import Path

import pytest

from fedalert.keys import KeyFileError, KeysetError, TokenKeyset, read_secret, write_secret

# Known-answer vector: a fixed test key (not used anywhere real); the MAC was
# computed independently with `openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f`.
VECTOR_SECRET = bytes(range(32))
VECTOR_ID = "k00c0ffee"
VECTOR_MESSAGE = b"fedalert/v1\x00k00c0ffee\x00name_dob\x00jane|doe|1980-01-02"
VECTOR_MAC_HEX = "c2d377169e37f7a41c2eed212442f5eea51806124ea5c8c835cbd488a260e46f"


def _vector_json(**over) -> bytes:
    entry = {"key_id": VECTOR_ID, "status": "enabled", "created": "2026-01-01T00:00:00Z",
             "secret_b64": base64.b64encode(VECTOR_SECRET).decode()}
    entry.update(over)
    return json.dumps({"primary": VECTOR_ID, "keys": [entry]}).encode()


def _secret_strings(ks: TokenKeyset) -> list[str]:
    doc = json.loads(ks.export_json())
    out = []
    for k in doc["keys"]:
        raw = base64.b64decode(k["secret_b64"])
        out += [k["secret_b64"], raw.hex(), raw.hex()[:16], repr(raw)[2:20]]
    return out


def test_known_answer_mac():
    ks = TokenKeyset.from_json(_vector_json())
    got = ks.mac(VECTOR_ID, VECTOR_MESSAGE)
    assert len(got) == 32
    assert got == hmac.new(VECTOR_SECRET, VECTOR_MESSAGE, hashlib.sha256).digest()
    assert got.hex() == VECTOR_MAC_HEX


def test_generate_save_load_roundtrip(tmp_path: Path):
    ks = TokenKeyset.generate()
    assert ks.key_ids == [ks.primary_id] and ks.primary_id.startswith("k") and len(ks.primary_id) == 9
    p = tmp_path / "ks.json"
    ks.save(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    back = TokenKeyset.load(p)
    assert back == ks
    assert back.mac(ks.primary_id, b"m") == ks.mac(ks.primary_id, b"m")
    other = TokenKeyset.generate()
    assert other != ks


def test_rotation_add_then_promote_then_disable(tmp_path: Path):
    ks = TokenKeyset.generate()
    old = ks.primary_id
    old_token = ks.mac(old, b"x")

    new = ks.add_key()                     # 1. add: enabled, not yet primary
    assert new != old and ks.primary_id == old and ks.key_ids == [old, new]
    assert ks.status(new) == "enabled"
    assert ks.mac(old, b"x") == old_token  # old tokens are unchanged
    assert ks.mac(new, b"x") != old_token  # the new key makes different tokens

    ks.promote(new)                        # 2. promote
    assert ks.primary_id == new
    assert ks.mac(old, b"x") == old_token  # old key still usable during republish

    ks.disable(old)                        # 3. disable (after the grace period)
    assert ks.status(old) == "disabled" and ks.enabled_key_ids == [new]
    with pytest.raises(KeysetError, match="disabled"):
        ks.mac(old, b"x")

    p = tmp_path / "ks.json"
    ks.save(p)
    back = TokenKeyset.load(p)
    assert back.primary_id == new and back.status(old) == "disabled" and back == ks
    back.delete(old)
    assert back.key_ids == [new]


def test_rotation_rules():
    ks = TokenKeyset.generate()
    first = ks.primary_id
    with pytest.raises(KeysetError, match="primary"):
        ks.disable(first)
    off = ks.add_key(enabled=False)
    assert ks.status(off) == "disabled"
    with pytest.raises(KeysetError, match="disabled"):
        ks.promote(off)
    with pytest.raises(KeysetError, match="enabled"):
        ks.delete(first)
    ks.enable(off)
    ks.promote(off)
    assert ks.primary_id == off
    with pytest.raises(KeysetError, match="not in this keyset"):
        ks.mac("kdeadbeef", b"x")
    with pytest.raises(KeysetError, match="malformed"):
        ks.mac("<script>", b"x")


@pytest.mark.parametrize("doc,field", [
    ({"primary": "k00c0ffee", "keys": []}, "keys"),
    ({"primary": 5, "keys": [1]}, "primary"),
    ({"primary": "kffffffff", "keys": None}, "keys"),
])
def test_malformed_keysets_name_the_field(doc, field):
    with pytest.raises(KeysetError, match=field):
        TokenKeyset.from_json(json.dumps(doc).encode())


def test_malformed_key_entries_name_the_field_and_never_the_secret():
    short = base64.b64encode(b"s3cr3t-bytes-0123456789").decode()
    cases = [
        (_vector_json(secret_b64=short), "32 bytes"),
        (_vector_json(secret_b64=short + "!!"), "secret_b64"),
        (_vector_json(status="on"), "status"),
        (_vector_json(key_id="bad"), "key_id"),
        (_vector_json(status="disabled"), "primary"),
        (b"{not json " + base64.b64encode(VECTOR_SECRET), "JSON"),
    ]
    for data, field in cases:
        with pytest.raises(KeysetError, match=field) as exc:
            TokenKeyset.from_json(data)
        text = str(exc.value) + repr(exc.value)
        for secret in (short, base64.b64encode(VECTOR_SECRET).decode(), VECTOR_SECRET.hex()):
            assert secret not in text
    dup = json.loads(_vector_json())
    dup["keys"].append(dict(dup["keys"][0]))
    with pytest.raises(KeysetError, match="twice"):
        TokenKeyset.from_json(json.dumps(dup).encode())


def test_repr_and_str_show_key_ids_only():
    ks = TokenKeyset.generate()
    ks.add_key()
    for text in (repr(ks), str(ks), f"{ks}", repr([ks]), repr({"k": ks})):
        for kid in ks.key_ids:
            assert kid in text
        for s in _secret_strings(ks):
            assert s not in text
    assert not hasattr(ks, "__dict__")


def test_pickling_and_copying_are_refused():
    ks = TokenKeyset.generate()
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="export_json"):
            pickle.dumps(ks, protocol=proto)
    with pytest.raises(TypeError):
        copy.copy(ks)
    with pytest.raises(TypeError):
        copy.deepcopy(ks)


def test_exceptions_never_carry_secret_bytes():
    ks = TokenKeyset.generate()
    old = ks.primary_id
    new = ks.add_key()
    ks.promote(new)
    ks.disable(old)
    texts = []
    for op in (lambda: ks.mac(old, b"x"), lambda: ks.disable(new), lambda: ks.promote(old),
               lambda: ks.mac("kffffffff", b"x"), lambda: ks.delete(new)):
        with pytest.raises(KeysetError) as exc:
            op()
        texts.append(str(exc.value) + repr(exc.value) + repr(exc.value.args))
    for t in texts:
        for s in _secret_strings(ks):
            assert s not in t


def test_export_is_explicit_and_complete():
    ks = TokenKeyset.generate()
    ks.add_key()
    doc = json.loads(ks.export_json())
    assert doc["primary"] == ks.primary_id
    assert [k["key_id"] for k in doc["keys"]] == ks.key_ids
    assert all(len(base64.b64decode(k["secret_b64"])) == 32 for k in doc["keys"])
    assert TokenKeyset.from_json(ks.export_json()) == ks


# -- secret files ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602, 0o610])
def test_read_secret_refuses_group_or_other_access(tmp_path: Path, mode):
    p = tmp_path / "s.key"
    write_secret(p, b"secret-material")
    os.chmod(p, mode)  # simulate a careless copy
    with pytest.raises(KeyFileError, match="chmod 600") as exc:
        read_secret(p)
    assert f"{mode:04o}" in str(exc.value) and "secret-material" not in str(exc.value)


def test_keyset_load_refuses_0644(tmp_path: Path):
    p = tmp_path / "ks.json"
    TokenKeyset.generate().save(p)
    os.chmod(p, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        TokenKeyset.load(p)


def test_read_secret_accepts_owner_only(tmp_path: Path):
    p = tmp_path / "s.key"
    write_secret(p, b"abc")
    assert read_secret(p) == b"abc"
    os.chmod(p, 0o400)
    assert read_secret(p) == b"abc"


def test_read_secret_missing_and_symlink(tmp_path: Path):
    with pytest.raises(KeyFileError, match="does not exist"):
        read_secret(tmp_path / "nope")
    target = tmp_path / "t"
    write_secret(target, b"x")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(KeyFileError):
        read_secret(link)


def test_write_secret_is_atomic_0600_and_replaces_a_loose_file(tmp_path: Path):
    p = tmp_path / "s.key"
    p.write_bytes(b"old")
    os.chmod(p, 0o644)
    old = os.umask(0)
    try:
        write_secret(p, b"new")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert p.read_bytes() == b"new"
    assert [x.name for x in tmp_path.iterdir()] == ["s.key"]  # no temp file left


def test_write_secret_into_missing_folder_fails_cleanly(tmp_path: Path):
    with pytest.raises(KeyFileError, match="does not exist"):
        write_secret(tmp_path / "no" / "s.key", b"x")
