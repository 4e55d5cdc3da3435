"""Identity <-> stored JSON, and the row hash that detects changed rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from fedalert.node.identity import Identity, Name


_IDENTITY_FIELDS = tuple(f.name for f in dataclasses.fields(Identity))
_NAME_FIELDS = tuple(f.name for f in dataclasses.fields(Name))


def identity_to_json(identity: Identity) -> str:
    """The stored form of an identity (its row hash depends on these exact bytes)."""
    d = {f: getattr(identity, f) for f in _IDENTITY_FIELDS}
    if not all(type(v) is str for k, v in d.items() if k not in ("names", "dobs")):
        d = dataclasses.asdict(identity)  # a field that is not a plain string: the general (slower) path
    else:
        d["names"] = [{f: getattr(n, f) for f in _NAME_FIELDS} for n in identity.names]
    d["dobs"] = [x.isoformat() for x in identity.dobs]
    return json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def identity_from_json(text: str) -> Identity:
    d = json.loads(text)
    d["names"] = [Name(**n) for n in d["names"]]
    d["dobs"] = [dt.date.fromisoformat(x) for x in d["dobs"]]
    return Identity(**{k: v for k, v in d.items() if k in _IDENTITY_FIELDS})


def row_hash(identity_json: str) -> str:
    return hashlib.sha256(identity_json.encode("utf-8")).hexdigest()
