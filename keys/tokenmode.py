"""Token mode of a federation: OPRF (a key service holds the token keys) or HMAC (every node does).

OPRF mode, the default of ``fedalert keys init`` (``--token-mode oprf``):

- ``DIR/keysvc/`` is the key service's folder: ``ca.crt``, ``keysvc.crt`` and
  ``keysvc.key`` (its SPIFFE identity ``spiffe://<fed>/keysvc``, DNS
  ``keysvc``), ``oprf.keyset.json`` (0600) and ``directory.json``. The master
  copy of the OPRF keyset is ``DIR/ca/oprf.keyset.json``.
- No area folder and no matcher folder holds a token key.
- The signed directory's ``tokens`` section names the key service (pinned by
  fingerprint), every OPRF key id with its public key and state, the primary.

Rotation (``keys rotate``, ``keys token-key add|promote|disable``) edits the
OPRF keyset at ``ca/`` and ``keysvc/`` and re-signs the directory with the new
public keys and primary: the key service reloads its keyset file, the nodes
their directory, and they republish under the new and the previous key id
(the key service holds both) until the previous one is disabled. Nothing is
sealed to or relayed to the nodes.

Switching an existing HMAC federation (``keys token-mode oprf``): the
key service folder and a first OPRF key id are made, the directory enters
OPRF mode with ``hmac_key_ids`` = the HMAC keyset's enabled key ids. Nodes,
which still hold the HMAC keyset, publish under the new OPRF key id and
under the HMAC one (the dual-key publish of a rotation); once the matcher
retired the HMAC key id, ``keys token-mode finish`` empties ``hmac_key_ids``
and deletes ``tokens.keyset.json`` from ``ca/`` and every area folder, and
each node operator deletes theirs.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
from pathlib import Path

from fedalert.keys import certs
from fedalert.keys.errors import CeremonyError, KeysUsageError
from fedalert.keys.keyfiles import write_private_key
from fedalert.keys.oprf_keyset import KEYSET_FILE as OPRF_KEYSET, OprfKeyset
from fedalert.secretfile import make_private_dir, write_public
from fedalert.keys.spiffe import keysvc_spiffe_id

KEYSVC_DIR = "keysvc"
KEYSVC_CERT = "keysvc.crt"
KEYSVC_KEY = "keysvc.key"
MODES = ("oprf", "hmac")
DEFAULT_MODE = "oprf"


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise KeysUsageError(f"token mode must be 'oprf' or 'hmac', not {mode!r}")
    return mode


def write_keysvc(folder: Path, federation: str, ca_cert, ca_key, keyset: OprfKeyset, *, hosts=(),
                 days: int, now: _dt.datetime) -> dict:
    """Fill an existing empty 0700 folder with the key service's files; return the keysvc directory entry."""
    key = certs.new_ec_key()
    cert = certs.make_keysvc_cert(federation, key.public_key(), ca_cert, ca_key, hosts=list(hosts), days=days, now=now)
    write_public(folder / "ca.crt", certs.cert_pem(ca_cert))
    write_public(folder / KEYSVC_CERT, certs.cert_pem(cert))
    write_private_key(folder / KEYSVC_KEY, key)
    keyset.save(folder / OPRF_KEYSET)
    return {"spiffe_id": keysvc_spiffe_id(federation), "cert_sha256": certs.cert_sha256(cert)}


def tokens_section(keyset: OprfKeyset, keysvc: dict, hmac_key_ids=()) -> dict:
    """The directory's ``tokens`` section for an OPRF keyset."""
    return {
        "mode": "oprf",
        "suite": "ristretto255-SHA512",
        "primary": keyset.primary_id,
        "keys": {kid: {"public_b64": keyset.public_b64(kid), "status": keyset.status(kid)} for kid in keyset.key_ids},
        "keysvc": dict(keysvc),
        "hmac_key_ids": list(hmac_key_ids),
    }


def is_oprf(out: Path) -> bool:
    """True when the ceremony output at ``out`` is in OPRF token mode (its custodian holds an OPRF keyset)."""
    return (Path(out) / "ca" / OPRF_KEYSET).exists()


def save_oprf_keyset(out: Path, keyset: OprfKeyset) -> None:
    """Write the OPRF keyset to the key service folder, then the custodian's master copy."""
    out = Path(out)
    if (out / KEYSVC_DIR).is_dir():
        keyset.save(out / KEYSVC_DIR / OPRF_KEYSET)
    keyset.save(out / "ca" / OPRF_KEYSET)


def update_oprf(out: Path, change, *, ca_passphrase: bytes | None = None):
    """Apply ``change(keyset)`` to the OPRF keyset and re-sign the directory (rotation in OPRF mode)."""
    from fedalert.keys import ceremony as c

    out = Path(out)
    with c.custodian_lock(out):
        cust = c._Custodian(out, ca_passphrase)  # refuses a missing or wrong passphrase before any change
        keyset = OprfKeyset.load(out / "ca" / OPRF_KEYSET)
        result = change(keyset)
        body = cust.directory.body
        body["tokens"] = tokens_section(keyset, body["tokens"]["keysvc"], body["tokens"].get("hmac_key_ids", []))
        save_oprf_keyset(out, keyset)
        cust.republish(body, c._utcnow())
        return result


def switch_to_oprf(out: Path, *, hosts=(), days: int = certs.LEAF_DAYS, now: _dt.datetime | None = None,
                   ca_passphrase: bytes | None = None) -> tuple[str, list[str]]:
    """Start the switch of an HMAC federation to OPRF mode; return (new OPRF key id, HMAC key ids kept)."""
    from fedalert.keys import ceremony as c
    from fedalert.keys.keyset import TokenKeyset

    out = Path(out)
    for h in hosts:
        certs.parse_host(h, "keysvc")
    with c.custodian_lock(out):
        cust = c._Custodian(out, ca_passphrase)
        if cust.directory.token_mode == "oprf" or is_oprf(out):
            raise CeremonyError("this federation is already in OPRF token mode")
        if (out / KEYSVC_DIR).exists():
            raise CeremonyError(f"{out / KEYSVC_DIR} already exists; move it away and retry")
        hmac = TokenKeyset.load(out / "ca" / c.KEYSET)
        t = (now or c._utcnow()).replace(microsecond=0)
        keyset = OprfKeyset.generate()
        while keyset.primary_id in hmac.key_ids:  # key ids stay unique across both modes
            keyset = OprfKeyset.generate()
        staging = Path(tempfile.mkdtemp(prefix=".keysvc.adding-", dir=out))
        try:
            entry = write_keysvc(staging, cust.directory.federation, cust.ca_cert, cust.ca_key, keyset,
                                 hosts=hosts, days=days, now=t)
            os.rename(staging, out / KEYSVC_DIR)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        keyset.save(out / "ca" / OPRF_KEYSET)
        body = cust.directory.body
        body["tokens"] = tokens_section(keyset, entry, hmac.enabled_key_ids)
        cust.republish(body, t)
        return keyset.primary_id, hmac.enabled_key_ids


def finish_switch(out: Path, *, ca_passphrase: bytes | None = None) -> list[Path]:
    """End a switch to OPRF mode: nodes stop publishing under the HMAC key ids; HMAC keysets deleted under DIR."""
    from fedalert.keys import ceremony as c

    out = Path(out)
    with c.custodian_lock(out):
        cust = c._Custodian(out, ca_passphrase)
        if cust.directory.token_mode != "oprf":
            raise CeremonyError("this federation is in HMAC token mode; start with 'fedalert keys token-mode oprf'")
        body = cust.directory.body
        body["tokens"]["hmac_key_ids"] = []
        cust.republish(body, c._utcnow())
        removed = []
        for folder in c._role_folders(out):
            path = folder / c.KEYSET
            if path.exists():
                path.unlink()
                removed.append(path)
        return removed
