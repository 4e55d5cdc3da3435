"""Token key rotation at the area node: install a sealed keyset, reload it, republish.

A new keyset reaches the node either through the matcher's key relay
(:func:`fetch_and_install`, run by the node's publisher loop) or by hand
(``fedalert node install-keyset FILE.sealed --keys DIR``). Either way
:func:`install_package`:

1. checks the package is for this federation and this area (the area id is
   read from this node's certificate), and newer than the installed one;
2. opens it with this area's sealing key and checks the custodian's
   signature with the key the signed directory names;
3. writes ``tokens.keyset.json`` atomically with mode 0600, then
   ``tokens.keyset.meta.json`` (serial, key id; no secret).

The running node notices the new file (:class:`KeysetHolder` compares the
file's identity on every publisher round) and uses it without a restart.
When the primary key id differs from the one the node last published under,
:func:`republish_if_rotated` marks every active record for republishing, and
the publisher sends them under the new key id. The old key id's tokens stay
at the matcher, and keep matching, until the matcher operator retires it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fedalert.keys import Directory, TokenKeyset, area_from_cert, load_sealing_key
from fedalert.keys.errors import KeysError
from fedalert.keys.keydelivery import KeysetPackage, KeysetPackageError, open_package
from fedalert.keys.keyfiles import load_cert
from fedalert.secretfile import write_public

log = logging.getLogger(__name__)

KEYSET_FILE = "tokens.keyset.json"
META_FILE = "tokens.keyset.meta.json"
PUBLISHED_KEY_KV = "published_key_id"
PREVIOUS_KEY_KV = "previous_key_id"
RPC_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class InstallResult:
    area: str
    serial: int
    key_id: str
    primary: str
    key_ids: tuple[str, ...]


def installed_serial(keys_dir: Path) -> int:
    path = Path(keys_dir) / META_FILE
    try:
        return int(json.loads(path.read_text())["serial"])
    except FileNotFoundError:
        return 0
    except (ValueError, KeyError, TypeError):
        raise KeysetPackageError(f"{path} is damaged; restore it, or remove it to accept the next keyset") from None


def install_package(keys_dir: Path, pkg: KeysetPackage) -> InstallResult:
    """Open, verify and install one keyset package into this area's key folder."""
    keys_dir = Path(keys_dir)
    d = Directory.load(keys_dir / "directory.json", keys_dir / "ca.crt")
    area = area_from_cert(load_cert(keys_dir / "node.crt"), d.federation)
    if d.is_revoked(area):
        raise KeysetPackageError(f"area {area} is revoked in the directory; it installs no keyset")
    keyset = open_package(pkg, federation=d.federation, area=area,
                          recipient=load_sealing_key(keys_dir / "sealing.key"),
                          custodian=d.custodian_signing_public(), installed_serial=installed_serial(keys_dir))
    keyset.save(keys_dir / KEYSET_FILE)
    meta = {"serial": pkg.serial, "key_id": pkg.key_id, "primary": keyset.primary_id,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_public(keys_dir / META_FILE, (json.dumps(meta, sort_keys=True) + "\n").encode("ascii"))
    return InstallResult(area, pkg.serial, pkg.key_id, keyset.primary_id, tuple(keyset.key_ids))


def install_file(keys_dir: Path, path: Path) -> InstallResult:
    """The by-hand path: install a ``<area>.sealed`` file copied from the custodian."""
    return install_package(keys_dir, KeysetPackage.from_json(Path(path).read_bytes(), source=str(path)))


class KeysetHolder:
    """The node's current keyset, reloaded when ``tokens.keyset.json`` is replaced on disk."""

    def __init__(self, keys_dir: Path):
        self.path = Path(keys_dir) / KEYSET_FILE
        self._lock = threading.Lock()
        self._sig = self._stat()
        self._keyset = TokenKeyset.load(self.path)

    def _stat(self):
        st = os.stat(self.path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> TokenKeyset:
        with self._lock:
            try:
                sig = self._stat()
                if sig != self._sig:
                    self._keyset = TokenKeyset.load(self.path)
                    self._sig = sig
                    log.warning("token keyset reloaded: primary %s, key ids %s", self._keyset.primary_id,
                                ", ".join(self._keyset.key_ids))
            except (OSError, KeysError) as exc:
                log.error("cannot reload %s (%s); keeping the keyset in use", self.path, type(exc).__name__)
            return self._keyset


def republish_if_rotated(store, keyset: TokenKeyset, audit=None) -> int:
    """Mark every active record for republishing when the primary key id changed; return how many."""
    last = store.get_kv(PUBLISHED_KEY_KV)
    if last == keyset.primary_id:
        return 0
    published = store.db.execute("SELECT 1 FROM records WHERE published_version > 0 LIMIT 1").fetchone()
    n = store.mark_all_dirty() if published else 0
    with store.transaction():
        store.set_kv(PUBLISHED_KEY_KV, keyset.primary_id)
        if last is not None:
            store.set_kv(PREVIOUS_KEY_KV, last)
    if n:
        log.warning("token key %s is now primary: republishing %d record(s)", keyset.primary_id, n)
        if audit is not None:
            audit.append("republish", key_id=keyset.primary_id, previous_key_id=last, records=n)
    return n


def publish_key_ids(store, keyset: TokenKeyset) -> list[str]:
    """The key ids to publish a changed record under: the primary, and during a rotation also the
    previous primary while it is still enabled.

    The matcher keeps a record's tokens under the old key id until it retires
    that key id, and matches a pair on the best of the key ids both records are
    published under. A record that changes during the grace period (a
    correction, a new alias) must therefore change under the old key id too,
    or the old tokens would keep a stale match alive. The matcher silently
    drops records under a key id it has already retired (as long as the batch
    also carries a live one), so this is safe until the custodian disables the
    old key, after which only the primary is used.
    """
    primary = keyset.primary_id
    previous = store.get_kv(PREVIOUS_KEY_KV)
    if previous and previous != primary and previous in keyset.enabled_key_ids:
        return [primary, previous]
    return [primary]


def fetch_and_install(relay_stub, keys_dir: Path, audit=None) -> list[InstallResult]:
    """Fetch sealed keysets waiting at the matcher, install each in serial order, acknowledge it.

    A package that fails its checks is acknowledged (so it is not fetched again),
    logged and audited as refused; the custodian can send a good one.
    """
    from fedalert.v1 import matcher_pb2 as pb

    resp = relay_stub.FetchKeysets(pb.FetchKeysetsRequest(), timeout=RPC_TIMEOUT_S)
    done = []
    for k in sorted(resp.keysets, key=lambda k: k.serial):
        if k.serial <= installed_serial(keys_dir):  # already installed (by hand, or a redelivery)
            log.info("relayed keyset serial %d is already installed", k.serial)
            relay_stub.AckKeyset(pb.AckKeysetRequest(serial=k.serial), timeout=RPC_TIMEOUT_S)
            continue
        try:
            pkg = KeysetPackage.checked(k.federation, k.area, k.key_id, k.serial, k.sealed, source="relayed keyset")
            res = install_package(keys_dir, pkg)
        except KeysError as exc:
            log.error("relayed keyset serial %d refused: %s", k.serial, exc)
            if audit is not None:
                audit.append("keyset_refused", serial=k.serial, key_id=k.key_id[:16], reason=type(exc).__name__)
        else:
            done.append(res)
            log.warning("keyset serial %d installed (primary %s)", res.serial, res.primary)
            if audit is not None:
                audit.append("keyset_installed", serial=res.serial, key_id=res.key_id, primary=res.primary,
                             key_ids=list(res.key_ids), via="matcher")
        relay_stub.AckKeyset(pb.AckKeysetRequest(serial=k.serial), timeout=RPC_TIMEOUT_S)
    return done
