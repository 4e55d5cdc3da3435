"""The key ceremony: create a federation's keys, add areas, revoke areas.

Layout under the output folder ``DIR`` (folders 0700, secrets 0600)::

    DIR/ca/          ca.key ca.crt directory.json, and the token keys:    (key custodian only)
                     oprf.keyset.json (OPRF mode) or tokens.keyset.json (HMAC mode)
    DIR/keysvc/      ca.crt keysvc.crt keysvc.key oprf.keyset.json directory.json   (OPRF mode: the key service)
    DIR/matcher/     ca.crt matcher.crt matcher.key directory.json     (no token key, ever)
    DIR/areas/<id>/  ca.crt node.crt node.key sealing.key signing.key directory.json,
                     and tokens.keyset.json in HMAC mode only (in OPRF mode no node holds a token key)

``init_federation`` builds everything in a hidden staging folder next to DIR
and renames it into place, so DIR is either complete or absent. ``add_area``
builds the new area folder the same way, then re-signs the directory (version
+1) and rewrites every role folder's copy. ``revoke_area`` re-signs with a
revocation entry.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fedalert.keys import certs
from fedalert.keys.directory import Directory, sign_body
from fedalert.keys.errors import CeremonyError, KeysUsageError
from fedalert.keys.keyfiles import load_cert, load_ec_private_key, write_private_key
from fedalert.keys.keyset import TokenKeyset
from fedalert.secretfile import make_private_dir, write_public
from fedalert.keys.spiffe import area_spiffe_id, check_area_id, check_federation, matcher_spiffe_id

CA_DIR = "ca"
MATCHER_DIR = "matcher"
AREAS_DIR = "areas"
CA_KEY = "ca.key"
CA_CERT = "ca.crt"
KEYSET = "tokens.keyset.json"
DIRECTORY = "directory.json"
MATCHER_CERT = "matcher.crt"
MATCHER_KEY = "matcher.key"
NODE_CERT = "node.crt"
NODE_KEY = "node.key"
SEALING_KEY = "sealing.key"
SIGNING_KEY = "signing.key"

_RAW = serialization.Encoding.Raw
_RAWPUB = serialization.PublicFormat.Raw


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _write_area(folder: Path, federation: str, area: str, ca_cert, ca_key, keyset: TokenKeyset | None,
                days: int, now: _dt.datetime) -> dict:
    """Fill an existing empty 0700 folder with one area's keys; return its directory entry."""
    node_key = certs.new_ec_key()
    node_cert = certs.make_area_cert(federation, area, node_key.public_key(), ca_cert, ca_key, days=days, now=now)
    sealing = X25519PrivateKey.generate()
    signing = Ed25519PrivateKey.generate()
    write_public(folder / CA_CERT, certs.cert_pem(ca_cert))
    write_public(folder / NODE_CERT, certs.cert_pem(node_cert))
    write_private_key(folder / NODE_KEY, node_key)
    write_private_key(folder / SEALING_KEY, sealing)
    write_private_key(folder / SIGNING_KEY, signing)
    if keyset is not None:  # HMAC mode only: in OPRF mode no node holds a token key
        keyset.save(folder / KEYSET)
    return {
        "spiffe_id": area_spiffe_id(federation, area),
        "cert_sha256": certs.cert_sha256(node_cert),
        "sealing_public_b64": _b64(sealing.public_key().public_bytes(_RAW, _RAWPUB)),
        "signing_public_b64": _b64(signing.public_key().public_bytes(_RAW, _RAWPUB)),
        "added_at": _iso(now),
    }


def _check_areas(areas: list[str]) -> list[str]:
    if not areas:
        raise KeysUsageError("give at least one area id (e.g. --areas north,south,east)")
    seen: set[str] = set()
    for a in areas:
        check_area_id(a)
        if a in seen:
            raise KeysUsageError(f"area id {a!r} is given twice; area ids must be unique")
        seen.add(a)
    return list(areas)


MIN_PASSPHRASE = 12


def init_federation(out: Path, federation: str, areas: list[str], matcher_hosts: list[str] = (), *,
                    days: int = certs.LEAF_DAYS, ca_days: int = certs.CA_DAYS,
                    now: _dt.datetime | None = None, ca_passphrase: bytes | None = None,
                    token_mode: str = "hmac", keysvc_hosts: list[str] = ()) -> None:
    """Run the key ceremony for a new federation into ``out`` (which must not exist or be empty).

    With ``ca_passphrase`` the CA key is stored encrypted; every later command
    that signs (add-area, revoke, renew) then needs the same passphrase.

    ``token_mode="oprf"`` (the CLI's default, ``keys init --token-mode``)
    makes the key service folder ``keysvc/`` and an OPRF keyset, and gives no
    area a token key (fedalert.keys.tokenmode). This function's default stays
    ``"hmac"`` for existing callers (tests, tools) that expect area keysets.
    """
    from fedalert.keys import tokenmode

    out = Path(out)
    tokenmode.check_mode(token_mode)
    for h in keysvc_hosts:
        certs.parse_host(h, "keysvc")
    if ca_passphrase is not None and len(ca_passphrase) < MIN_PASSPHRASE:
        raise KeysUsageError(f"the CA passphrase must be at least {MIN_PASSPHRASE} characters")
    check_federation(federation)
    areas = _check_areas(list(areas))
    hosts = list(matcher_hosts)
    for h in hosts:
        certs.parse_host(h)
    if days < 1 or ca_days < 1:
        raise KeysUsageError("validity in days must be at least 1")
    if out.is_symlink():
        raise CeremonyError(f"{out} is a symbolic link; give a real folder path for the ceremony output")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CeremonyError(
            f"{out} already exists and is not an empty folder; refusing to overwrite key material. "
            "Use 'fedalert keys add-area' to extend a federation, or choose a new folder"
        )
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise CeremonyError(f"parent folder {parent} does not exist; create it first")
    t = (now or _utcnow()).replace(microsecond=0)

    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ceremony-", dir=parent))  # mode 0700
    try:
        ca_dir = staging / CA_DIR
        make_private_dir(ca_dir)
        ca_key = certs.new_ec_key()
        ca_cert = certs.make_ca(federation, ca_key, days=ca_days, now=t)
        write_private_key(ca_dir / CA_KEY, ca_key, passphrase=ca_passphrase)
        write_public(ca_dir / CA_CERT, certs.cert_pem(ca_cert))
        keyset: TokenKeyset | None = None
        tokens = None
        if token_mode == "hmac":
            keyset = TokenKeyset.generate()
            keyset.save(ca_dir / KEYSET)
        else:
            oprf_keys = tokenmode.OprfKeyset.generate()
            oprf_keys.save(ca_dir / tokenmode.OPRF_KEYSET)
            ks_dir = staging / tokenmode.KEYSVC_DIR
            make_private_dir(ks_dir)
            entry = tokenmode.write_keysvc(ks_dir, federation, ca_cert, ca_key, oprf_keys, hosts=keysvc_hosts,
                                           days=days, now=t)
            tokens = tokenmode.tokens_section(oprf_keys, entry)
        from fedalert.keys.custody import write_custodian  # custody builds on this module

        custodian = write_custodian(ca_dir, federation, ca_cert, ca_key, days=days, now=t)

        m_dir = staging / MATCHER_DIR
        make_private_dir(m_dir)
        m_key = certs.new_ec_key()
        m_cert = certs.make_matcher_cert(federation, m_key.public_key(), ca_cert, ca_key, hosts=hosts, days=days, now=t)
        write_public(m_dir / CA_CERT, certs.cert_pem(ca_cert))
        write_public(m_dir / MATCHER_CERT, certs.cert_pem(m_cert))
        write_private_key(m_dir / MATCHER_KEY, m_key)

        make_private_dir(staging / AREAS_DIR)
        entries = {}
        for area in areas:
            folder = staging / AREAS_DIR / area
            make_private_dir(folder)
            entries[area] = _write_area(folder, federation, area, ca_cert, ca_key, keyset, days, t)

        body = {
            "federation": federation,
            "version": 1,
            "issued_at": _iso(t),
            "matcher": {"spiffe_id": matcher_spiffe_id(federation), "cert_sha256": certs.cert_sha256(m_cert)},
            "areas": entries,
            "revoked": [],
            "custodian": custodian,
        }
        if tokens is not None:
            body["tokens"] = tokens
        _publish_directory(staging, sign_body(body, ca_key))
        # mkdtemp made the staging folder 0700, so DIR ends up 0700.
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _role_folders(out: Path) -> list[Path]:
    folders = [out / CA_DIR]
    for role in (MATCHER_DIR, "keysvc"):
        if (out / role).is_dir():
            folders.append(out / role)
    areas = out / AREAS_DIR
    if areas.is_dir():
        for child in sorted(areas.iterdir()):
            if child.is_dir() and not child.name.startswith("."):
                folders.append(child)
    return folders


def _publish_directory(out: Path, data: bytes) -> None:
    """Write directory.json into every role folder; the custodian's copy last."""
    folders = _role_folders(out)
    for folder in folders[1:] + folders[:1]:
        write_public(folder / DIRECTORY, data)


def _require_custodian(out: Path) -> Path:
    ca_dir = Path(out) / CA_DIR
    if not (ca_dir / CA_KEY).exists():
        raise CeremonyError(
            f"{ca_dir / CA_KEY} not found: run this on the key custodian's copy of the ceremony output "
            "(the folder given to 'fedalert keys init --out')"
        )
    return ca_dir


@contextlib.contextmanager
def custodian_lock(out: Path):
    """Hold an exclusive lock on the DIR/ca folder so two ceremony commands never interleave."""
    ca_dir = _require_custodian(out)
    fd = os.open(ca_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CeremonyError(f"another key ceremony command is running on {out}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)


class _Custodian:
    """The custodian's material under DIR/ca, loaded and checked."""

    def __init__(self, out: Path, passphrase: bytes | None = None) -> None:
        self.out = Path(out)
        ca_dir = _require_custodian(self.out)
        self.ca_key = load_ec_private_key(ca_dir / CA_KEY, passphrase=passphrase)
        self.ca_cert = load_cert(ca_dir / CA_CERT)
        self.directory = Directory.load(ca_dir / DIRECTORY, ca_dir / CA_CERT)

    def republish(self, body: dict, now: _dt.datetime) -> None:
        body["version"] = self.directory.version + 1
        body["issued_at"] = _iso(now)
        _publish_directory(self.out, sign_body(body, self.ca_key))


def issue_console_cert(out: Path, area: str, dest: Path, *, hosts: list[str] = (), days: int = certs.LEAF_DAYS,
                       ca_passphrase: bytes | None = None) -> tuple[Path, Path]:
    """Write ``console.crt`` and ``console.key`` (0600) into *dest* for area *area*'s console:
    a server certificate signed by the federation CA (the custodian's material under *out*)."""
    cust = _Custodian(Path(out), ca_passphrase)
    if area not in cust.directory.areas:
        raise CeremonyError(f"area {area!r} is not in the {cust.directory.federation} directory")
    dest = Path(dest)
    if not dest.is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        make_private_dir(dest)
    key = certs.new_ec_key()
    cert = certs.make_console_cert(cust.directory.federation, area, key.public_key(), cust.ca_cert, cust.ca_key,
                                   hosts=list(hosts), days=days)
    write_private_key(dest / "console.key", key)
    write_public(dest / "console.crt", certs.cert_pem(cert))
    return dest / "console.crt", dest / "console.key"


def add_area(out: Path, area: str, *, days: int = certs.LEAF_DAYS, now: _dt.datetime | None = None,
             ca_passphrase: bytes | None = None) -> None:
    """Add one area to an existing federation and re-sign the directory everywhere under ``out``."""
    check_area_id(area)
    out = Path(out)
    with custodian_lock(out):
        _add_area_locked(_Custodian(out, ca_passphrase), area, days, now)


def _add_area_locked(cust: "_Custodian", area: str, days: int, now: _dt.datetime | None) -> None:
    out = cust.out
    if area in cust.directory.areas:
        state = "revoked" if cust.directory.is_revoked(area) else "a member"
        raise CeremonyError(f"area {area!r} is already in the {cust.directory.federation} directory ({state}); choose another id")
    areas_dir = out / AREAS_DIR
    if (areas_dir / area).exists():
        raise CeremonyError(f"{areas_dir / area} already exists but is not in the directory; move it away and retry")
    t = (now or _utcnow()).replace(microsecond=0)
    # In OPRF mode (or once a switch to it finished) there is no HMAC keyset to hand the new area.
    hmac_path = out / CA_DIR / KEYSET
    keyset = TokenKeyset.load(hmac_path) if hmac_path.exists() else None
    if not areas_dir.is_dir():
        make_private_dir(areas_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{area}.adding-", dir=areas_dir))
    try:
        entry = _write_area(staging, cust.directory.federation, area, cust.ca_cert, cust.ca_key, keyset, days, t)
        os.rename(staging, areas_dir / area)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    body = cust.directory.body
    body["areas"][area] = entry
    cust.republish(body, t)


def revoke_area(out: Path, area: str, reason: str, *, now: _dt.datetime | None = None,
                ca_passphrase: bytes | None = None) -> None:
    """Revoke an area's certificate: add a revocation entry and re-sign the directory everywhere."""
    check_area_id(area)
    reason = (reason or "").strip()
    if not reason or "\n" in reason or len(reason) > 200:
        raise KeysUsageError("give a revocation reason of one line, at most 200 characters")
    with custodian_lock(Path(out)):
        _revoke_locked(_Custodian(Path(out), ca_passphrase), area, reason, now)


def _revoke_locked(cust: "_Custodian", area: str, reason: str, now: _dt.datetime | None) -> None:
    d = cust.directory
    if area not in d.areas:
        raise CeremonyError(f"area {area!r} is not in the {d.federation} directory; nothing to revoke")
    if d.is_revoked(area):
        raise CeremonyError(f"area {area!r} is already revoked")
    t = (now or _utcnow()).replace(microsecond=0)
    body = d.body
    body["revoked"].append({"area": area, "cert_sha256": d.cert_sha256(area), "revoked_at": _iso(t), "reason": reason})
    cust.republish(body, t)


def renew_area(out: Path, area: str, *, days: int = certs.LEAF_DAYS, now: _dt.datetime | None = None,
               ca_passphrase: bytes | None = None) -> None:
    """Re-issue an area's TLS key and certificate (same area id, same sealing and signing keys).

    The directory entry's ``cert_sha256`` is updated, the directory re-signed
    (version + 1) and every copy rewritten. The old certificate is not revoked;
    it stops matching the directory's fingerprint and expires on its own date.
    """
    check_area_id(area)
    out = Path(out)
    with custodian_lock(out):
        cust = _Custodian(out, ca_passphrase)
        d = cust.directory
        if area not in d.areas:
            raise CeremonyError(f"area {area!r} is not in the {d.federation} directory; use add-area")
        if d.is_revoked(area):
            raise CeremonyError(f"area {area!r} is revoked; a revoked area is not renewed (add a new area instead)")
        folder = out / AREAS_DIR / area
        if not folder.is_dir():
            raise CeremonyError(f"{folder} not found; renew on the custodian's copy of the ceremony output")
        t = (now or _utcnow()).replace(microsecond=0)
        node_key = certs.new_ec_key()
        node_cert = certs.make_area_cert(d.federation, area, node_key.public_key(), cust.ca_cert, cust.ca_key,
                                         days=days, now=t)
        write_private_key(folder / NODE_KEY, node_key)
        write_public(folder / NODE_CERT, certs.cert_pem(node_cert))
        body = d.body
        body["areas"][area]["cert_sha256"] = certs.cert_sha256(node_cert)
        cust.republish(body, t)
