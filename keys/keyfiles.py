"""Private key files: PKCS#8 PEM, written 0600, read only if owner-only.

Keys are unencrypted PEM unless a passphrase is given (the custodian may
protect ``ca.key`` with one); encryption is cryptography's
``BestAvailableEncryption``.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fedalert.keys.errors import KeyFileError
from fedalert.secretfile import read_secret, write_secret


def private_key_pem(key, passphrase: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def write_private_key(path: Path, key, *, passphrase: bytes | None = None) -> None:
    """Write a private key as PKCS#8 PEM (encrypted if a passphrase is given), atomically, mode 0600."""
    write_secret(Path(path), private_key_pem(key, passphrase))


def _load(path: Path, kind, what: str, passphrase: bytes | None = None):
    data = read_secret(Path(path))
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    if encrypted and not passphrase:
        raise KeyFileError(f"{path} is encrypted; give its passphrase (--ca-passphrase-file or --ca-passphrase-env)")
    if passphrase and not encrypted:
        raise KeyFileError(f"{path} is not encrypted, but a passphrase was given; drop the passphrase option")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except (ValueError, TypeError):
        if encrypted:
            raise KeyFileError(f"cannot decrypt {path}: wrong passphrase, or the file is damaged") from None
        raise KeyFileError(f"{path} is not a PEM private key ({what} expected)") from None
    if not isinstance(key, kind):
        raise KeyFileError(f"{path} holds a {type(key).__name__.replace('_', '')}, not the {what} expected")
    return key


def load_sealing_key(path: Path) -> X25519PrivateKey:
    """An area's X25519 sealing (decryption) key."""
    return _load(path, X25519PrivateKey, "X25519 sealing key")


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An area's Ed25519 signing key."""
    return _load(path, Ed25519PrivateKey, "Ed25519 signing key")


def load_ec_private_key(path: Path, *, passphrase: bytes | None = None) -> ec.EllipticCurvePrivateKey:
    """A TLS or CA key (ECDSA P-256); ``passphrase`` if the file is encrypted."""
    key = _load(path, ec.EllipticCurvePrivateKey, "ECDSA P-256 key", passphrase)
    if not isinstance(key.curve, ec.SECP256R1):
        raise KeyFileError(f"{path} is an EC key on {key.curve.name}, not P-256")
    return key


def load_cert(path: Path) -> x509.Certificate:
    """A PEM certificate (public; no permission check)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"certificate {path} does not exist; check the path") from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise KeyFileError(f"{path} is not a PEM certificate") from None
