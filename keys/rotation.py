"""Token key rotation on the custodian's ceremony output: add, then promote, then disable.

Each step edits ``DIR/ca/tokens.keyset.json`` and copies the new keyset into
every ``DIR/areas/<id>/`` folder (never into ``DIR/matcher/``). The custodian
then sends each area its new ``tokens.keyset.json``. Outline (docs/KEYS.md):

1. ``add``: a new enabled key; nodes receive it but keep making tokens under
   the old primary.
2. ``promote``: once every area holds the new keyset, the new key becomes
   primary; nodes republish all records under it; the matcher matches within
   each key id.
3. ``disable``: after the grace period, when the matcher dropped the old key
   id's tokens, the old key is disabled (and may later be deleted).

``rotate`` is add and promote in one step. Every step also seals the new
keyset to each active area (``fedalert.keys.keydelivery``) and writes
``DIR/rotation/<key_id>/<area>.sealed``; ``fedalert.keys.send`` posts those
files to the matcher, which relays them to the nodes.
"""

from __future__ import annotations

import os
from pathlib import Path

from fedalert.keys import ceremony as c
from fedalert.keys.directory import Directory
from fedalert.keys.errors import CeremonyError
from fedalert.keys.keydelivery import package_path, seal_keyset
from fedalert.keys.keyset import TokenKeyset
from fedalert.secretfile import write_public

SERIAL_FILE = "keyset.serial"


def _next_serial(out: Path) -> int:
    path = Path(out) / c.CA_DIR / SERIAL_FILE
    try:
        current = int(path.read_text().strip() or "0")
    except FileNotFoundError:
        current = 0
    except ValueError:
        raise CeremonyError(f"{path} does not hold a number; restore it (it must only ever grow)") from None
    write_public(path, f"{current + 1}\n".encode())
    return current + 1


def seal_packages(out: Path, keyset: TokenKeyset, key_id: str) -> list[Path]:
    """Seal ``keyset`` to every active area; write DIR/rotation/<key_id>/<area>.sealed; return the paths."""
    from fedalert.keys.custody import custodian_signer

    out = Path(out)
    signer = custodian_signer(out)
    d = Directory.load(out / c.CA_DIR / c.DIRECTORY, out / c.CA_DIR / c.CA_CERT)
    serial = _next_serial(out)
    paths = []
    for area in d.active_areas:
        pkg = seal_keyset(keyset, federation=d.federation, area=area, key_id=key_id, serial=serial,
                          recipient=d.sealing_public(area), signer=signer)
        path = package_path(out, key_id, area)
        for folder in (path.parent.parent, path.parent):
            if not folder.is_dir():
                os.mkdir(folder, 0o700)
        write_public(path, pkg.to_json())
        paths.append(path)
    return paths


def _update(out: Path, change, *, seal_key=None) -> TokenKeyset:
    out = Path(out)
    with c.custodian_lock(out):
        if seal_key is not None:
            from fedalert.keys.custody import custodian_signer

            custodian_signer(out)  # refuse before changing anything if there is no custodian key
        keyset = TokenKeyset.load(out / c.CA_DIR / c.KEYSET)
        result = change(keyset)
        areas = out / c.AREAS_DIR
        d = Directory.load(out / c.CA_DIR / c.DIRECTORY, out / c.CA_DIR / c.CA_CERT)
        if areas.is_dir():
            for folder in sorted(areas.iterdir()):
                if folder.is_dir() and not folder.name.startswith(".") and not d.is_revoked(folder.name):
                    keyset.save(folder / c.KEYSET)  # a revoked area never receives a new keyset
        keyset.save(out / c.CA_DIR / c.KEYSET)  # the custodian's copy last
        if seal_key is not None:
            sealed_for = seal_key(result) if callable(seal_key) else seal_key
            seal_packages(out, keyset, sealed_for)
        return result


def add_token_key(out: Path, *, enabled: bool = True, seal: bool = False) -> str:
    """Add a new (non-primary) token key everywhere under ``out``; return its key id."""
    return _update(out, lambda ks: ks.add_key(enabled=enabled), seal_key=(lambda kid: kid) if seal else None)


def promote_token_key(out: Path, key_id: str, *, seal: bool = False) -> None:
    """Make ``key_id`` the primary token key everywhere under ``out``."""
    _update(out, lambda ks: ks.promote(key_id), seal_key=key_id if seal else None)


def disable_token_key(out: Path, key_id: str, *, seal: bool = False) -> None:
    """Disable a non-primary token key everywhere under ``out``."""
    _update(out, lambda ks: ks.disable(key_id), seal_key=key_id if seal else None)


def rotate(out: Path) -> tuple[str, list[Path]]:
    """Add a new token key and make it primary in one step; seal the keyset to every active area.

    Returns the new key id and the package files written under DIR/rotation/<key_id>/.
    """
    def change(ks: TokenKeyset) -> str:
        new = ks.add_key()
        ks.promote(new)
        return new

    key_id = _update(out, change, seal_key=lambda kid: kid)
    return key_id, sorted(package_path(out, key_id, "x").parent.glob("*.sealed"))
