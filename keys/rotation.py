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
"""

from __future__ import annotations

from pathlib import Path

from fedalert.keys import ceremony as c
from fedalert.keys.keyset import TokenKeyset


def _update(out: Path, change) -> TokenKeyset:
    out = Path(out)
    with c.custodian_lock(out):
        keyset = TokenKeyset.load(out / c.CA_DIR / c.KEYSET)
        result = change(keyset)
        areas = out / c.AREAS_DIR
        if areas.is_dir():
            for folder in sorted(areas.iterdir()):
                if folder.is_dir() and not folder.name.startswith("."):
                    keyset.save(folder / c.KEYSET)
        keyset.save(out / c.CA_DIR / c.KEYSET)  # the custodian's copy last
        return result


def add_token_key(out: Path, *, enabled: bool = True) -> str:
    """Add a new (non-primary) token key everywhere under ``out``; return its key id."""
    return _update(out, lambda ks: ks.add_key(enabled=enabled))


def promote_token_key(out: Path, key_id: str) -> None:
    """Make ``key_id`` the primary token key everywhere under ``out``."""
    _update(out, lambda ks: ks.promote(key_id))


def disable_token_key(out: Path, key_id: str) -> None:
    """Disable a non-primary token key everywhere under ``out``."""
    _update(out, lambda ks: ks.disable(key_id))
