"""Identity <-> stored JSON, and the row hash that detects changed rows.

Fields added to Identity after records were first stored (monikers,
no_fixed_abode) are written only when they differ from their default. An
identity without them therefore has the same JSON, byte for byte, and the
same row hash as before they existed, so an upgrade re-imports an unchanged
export as unchanged and republishes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from fedalert.node.identity import Identity, Name


#: Identity fields written only when they differ from these defaults (see the module docstring).
_LATER_FIELDS = {"monikers": [], "no_fixed_abode": False}
_IDENTITY_FIELDS = tuple(f.name for f in dataclasses.fields(Identity))
_FIRST_FIELDS = tuple(f for f in _IDENTITY_FIELDS if f not in _LATER_FIELDS)
_NAME_FIELDS = tuple(f.name for f in dataclasses.fields(Name))


def identity_to_json(identity: Identity) -> str:
    """The stored form of an identity (its row hash depends on these exact bytes)."""
    d = {f: getattr(identity, f) for f in _FIRST_FIELDS}
    if not all(type(v) is str for k, v in d.items() if k not in ("names", "dobs")):
        d = {k: v for k, v in dataclasses.asdict(identity).items() if k in _FIRST_FIELDS}  # the general (slower) path
    else:
        d["names"] = [{f: getattr(n, f) for f in _NAME_FIELDS} for n in identity.names]
    d["dobs"] = [x.isoformat() for x in identity.dobs]
    for f, default in _LATER_FIELDS.items():
        value = getattr(identity, f)
        if value != default:
            d[f] = list(value) if isinstance(value, (list, tuple)) else value
    return json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def identity_from_json(text: str) -> Identity:
    d = json.loads(text)
    d["names"] = [Name(**n) for n in d["names"]]
    d["dobs"] = [dt.date.fromisoformat(x) for x in d["dobs"]]
    return Identity(**{k: v for k, v in d.items() if k in _IDENTITY_FIELDS})


def row_hash(identity_json: str) -> str:
    return hashlib.sha256(identity_json.encode("utf-8")).hexdigest()
