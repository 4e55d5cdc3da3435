"""The key custodian's own identity, and matcher certificate renewal.

The custodian sends sealed token keysets through the matcher, so it needs:

- a client certificate with URI SAN ``spiffe://<fed>/custodian`` (EKU clientAuth
  only, no DNS name), pinned in the directory by fingerprint, so that the
  matcher accepts keyset posts from it and from nobody else;
- an Ed25519 signing key whose public half is in the directory, so that every
  node can check that a keyset really comes from the custodian (the matcher
  relays it and can neither open nor forge it).

Files (all in ``DIR/ca/``, custodian only)::

    custodian.crt          0644   client certificate
    custodian.key          0600   its TLS key (ECDSA P-256)
    custodian-signing.key  0600   Ed25519 key that signs sealed keysets

``init_federation`` makes them; :func:`add_custodian` adds them to a federation
made before they existed. :func:`renew_matcher` re-issues the matcher's
certificate and, with a reason, revokes the old one by fingerprint.
"""

from __future__ import annotations

import base64
import datetime as _dt
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedalert.keys import certs
from fedalert.keys import ceremony as c
from fedalert.keys.errors import CeremonyError, KeysUsageError
from fedalert.keys.keyfiles import load_signing_key, write_private_key
from fedalert.secretfile import write_public
from fedalert.keys.spiffe import custodian_spiffe_id

CUSTODIAN_CERT = "custodian.crt"
CUSTODIAN_KEY = "custodian.key"
CUSTODIAN_SIGNING_KEY = "custodian-signing.key"


def write_custodian(ca_dir: Path, federation: str, ca_cert, ca_key, *, days: int, now: _dt.datetime) -> dict:
    """Write the custodian's files into ``ca_dir`` and return its directory entry."""
    tls_key = certs.new_ec_key()
    cert = certs.make_custodian_cert(federation, tls_key.public_key(), ca_cert, ca_key, days=days, now=now)
    signing = Ed25519PrivateKey.generate()
    write_private_key(ca_dir / CUSTODIAN_KEY, tls_key)
    write_private_key(ca_dir / CUSTODIAN_SIGNING_KEY, signing)
    write_public(ca_dir / CUSTODIAN_CERT, certs.cert_pem(cert))
    raw = signing.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "spiffe_id": custodian_spiffe_id(federation),
        "cert_sha256": certs.cert_sha256(cert),
        "signing_public_b64": base64.b64encode(raw).decode("ascii"),
    }


def add_custodian(out: Path, *, days: int = certs.LEAF_DAYS, replace: bool = False,
                  now: _dt.datetime | None = None, ca_passphrase: bytes | None = None) -> None:
    """Give an existing federation a custodian identity (or, with ``replace``, a new one)."""
    out = Path(out)
    with c.custodian_lock(out):
        cust = c._Custodian(out, ca_passphrase)
        d = cust.directory
        if d.has_custodian and not replace:
            raise CeremonyError("this federation already has a key custodian identity; use --replace to re-issue it")
        t = (now or c._utcnow()).replace(microsecond=0)
        entry = write_custodian(out / c.CA_DIR, d.federation, cust.ca_cert, cust.ca_key, days=days, now=t)
        body = d.body
        body["custodian"] = entry
        cust.republish(body, t)


def custodian_signer(out: Path) -> Ed25519PrivateKey:
    path = Path(out) / c.CA_DIR / CUSTODIAN_SIGNING_KEY
    if not path.exists():
        raise CeremonyError(f"{path} not found: this federation has no custodian identity yet; "
                            "run 'fedalert keys add-custodian --out DIR' first")
    return load_signing_key(path)


def custodian_tls_paths(out: Path) -> tuple[Path, Path, Path]:
    """(ca.crt, custodian.crt, custodian.key) for connecting to the matcher as the custodian."""
    ca_dir = Path(out) / c.CA_DIR
    return ca_dir / c.CA_CERT, ca_dir / CUSTODIAN_CERT, ca_dir / CUSTODIAN_KEY


def renew_matcher(out: Path, *, hosts: list[str] = (), days: int = certs.LEAF_DAYS, revoke_reason: str | None = None,
                  now: _dt.datetime | None = None, ca_passphrase: bytes | None = None) -> None:
    """New matcher TLS key and certificate; the directory pins the new fingerprint.

    Nodes refuse a matcher whose certificate is not the one the directory
    names, so the old certificate stops working as soon as the nodes hold the
    new directory. With ``revoke_reason`` the old fingerprint is also listed in
    ``revoked`` (an entry with an empty area: a non-area certificate).
    """
    out = Path(out)
    if revoke_reason is not None:
        revoke_reason = revoke_reason.strip()
        if not revoke_reason or "\n" in revoke_reason or len(revoke_reason) > 200:
            raise KeysUsageError("give a revocation reason of one line, at most 200 characters")
    for h in hosts:
        certs.parse_host(h)
    with c.custodian_lock(out):
        cust = c._Custodian(out, ca_passphrase)
        m_dir = out / c.MATCHER_DIR
        if not m_dir.is_dir():
            raise CeremonyError(f"{m_dir} not found; renew on the custodian's copy of the ceremony output")
        t = (now or c._utcnow()).replace(microsecond=0)
        old_fp = cust.directory.matcher_cert_sha256
        key = certs.new_ec_key()
        cert = certs.make_matcher_cert(cust.directory.federation, key.public_key(), cust.ca_cert, cust.ca_key,
                                       hosts=list(hosts), days=days, now=t)
        write_private_key(m_dir / c.MATCHER_KEY, key)
        write_public(m_dir / c.MATCHER_CERT, certs.cert_pem(cert))
        body = cust.directory.body
        body["matcher"]["cert_sha256"] = certs.cert_sha256(cert)
        if revoke_reason:
            body["revoked"].append({"area": "", "cert_sha256": old_fp, "revoked_at": c._iso(t),
                                    "reason": revoke_reason})
        cust.republish(body, t)

