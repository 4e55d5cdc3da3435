"""Secret-leak scanner for the test session (used by tests/conftest.py).

It finds every key file the session created (any ``*.key`` or
``tokens.keyset.json`` under the pytest base temp folder: every key ceremony,
the demo's, the CLI tests'), derives each secret in the forms a leak would
take (raw, hex lower/upper, base64, urlsafe base64, padded or not; for
private keys also the DER and each PEM body line), and searches for them in
every log-like file under that folder and in the output pytest captured.

Findings name the file and the key file, never the secret itself.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

#: Files that are logs, reports, exports or captured output (scanned).
LOG_SUFFIXES = {".log", ".jsonl", ".txt", ".out", ".err", ".csv", ".md", ".json"}
#: Files that are key material or stores (not scanned; they hold keys on purpose
#: or are binary databases).
KEY_NAMES = {"tokens.keyset.json", "oprf.keyset.json"}
MAX_SCAN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Secret:
    source: str          # key file and which secret, for the message
    needles: tuple[bytes, ...]


@dataclass(frozen=True)
class Finding:
    where: str
    source: str
    form: int            # index of the needle form (no secret text in messages)

    def __str__(self) -> str:
        return f"{self.where}: contains secret from {self.source} (encoding #{self.form})"


def _forms(raw: bytes) -> list[bytes]:
    out = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        out += [enc, enc.rstrip(b"=")]
    # Leaked inside a longer base64 run, the encoding depends on the alignment;
    # the padded-free prefix of whole 3-byte groups is what survives at offset 0.
    return list(dict.fromkeys(f for f in out if len(f) >= 16))


def secrets_of_key_file(path: Path) -> list[Secret]:
    """The secrets a key file holds (empty if it cannot be parsed)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    out: list[Secret] = []
    if path.name in KEY_NAMES:
        try:
            doc = json.loads(data)
            for k in doc.get("keys", []):
                raw = base64.b64decode(k["secret_b64"])
                needles = _forms(raw)
                if path.name == "oprf.keyset.json":  # the seed, and the private scalar it derives
                    from fedalert.keys.oprf_keyset import derive_token_key

                    needles += _forms(derive_token_key(raw, k["key_id"]).export_scalar())
                out.append(Secret(f"{path} key {k.get('key_id')}", tuple(needles)))
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        return out
    # A PEM private key: its body lines, its DER, and the raw private scalar.
    needles: list[bytes] = []
    body = [ln.strip() for ln in data.splitlines() if ln and not ln.startswith(b"-----")]
    needles += [ln for ln in body if len(ln) >= 32]
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None  # encrypted (passphrase) or not a key: the PEM body is still scanned
    if key is not None:
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        needles += _forms(der)
        if isinstance(key, (x25519.X25519PrivateKey, ed25519.Ed25519PrivateKey)):
            raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
            needles += _forms(raw)
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            needles += _forms(key.private_numbers().private_value.to_bytes(32, "big"))
    if needles:
        out.append(Secret(str(path), tuple(dict.fromkeys(needles))))
    return out


def is_key_file(path: Path) -> bool:
    return path.name in KEY_NAMES or path.suffix == ".key"


def collect_secrets(roots: list[Path]) -> list[Secret]:
    out: list[Secret] = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                if is_key_file(p) and not p.is_symlink():
                    out.extend(secrets_of_key_file(p))
    # The same key is in many folders (every area holds the federation keyset):
    # search for it once, named by the first file found.
    unique: dict[tuple[bytes, ...], Secret] = {}
    for s in out:
        unique.setdefault(s.needles, s)
    return list(unique.values())


def log_files(roots: list[Path]) -> list[Path]:
    out = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                if is_key_file(p) or p.is_symlink():
                    continue
                if p.suffix in LOG_SUFFIXES and name != "directory.json":
                    out.append(p)
    return out


def scan_blob(where: str, blob: bytes, secrets: list[Secret]) -> list[Finding]:
    found = []
    for s in secrets:
        for i, needle in enumerate(s.needles):
            if needle in blob:
                found.append(Finding(where, s.source, i))
                break
    return found


def scan(roots: list[Path], texts: dict[str, str] | None = None,
         secrets: list[Secret] | None = None) -> tuple[list[Finding], int, int]:
    """Scan log files under `roots` and the given captured `texts`.

    Returns (findings, number of secrets, number of places scanned).
    """
    secrets = collect_secrets(roots) if secrets is None else secrets
    findings: list[Finding] = []
    places = 0
    for p in log_files(roots):
        try:
            with open(p, "rb") as fh:
                blob = fh.read(MAX_SCAN_BYTES)
        except OSError:
            continue
        places += 1
        findings += scan_blob(str(p), blob, secrets)
    for where, text in (texts or {}).items():
        places += 1
        findings += scan_blob(where, text.encode("utf-8", "surrogateescape"), secrets)
    return findings, len(secrets), places
