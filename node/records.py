"""Identity <-> stored JSON, and the row hash that detects changed rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from fedalert.node.identity import Identity, Name


def identity_to_json(identity: Identity) -> str:
    d = dataclasses.asdict(identity)
    d["dobs"] = [x.isoformat() for x in identity.dobs]
    return json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def identity_from_json(text: str) -> Identity:
    d = json.loads(text)
    d["names"] = [Name(**n) for n in d["names"]]
    d["dobs"] = [dt.date.fromisoformat(x) for x in d["dobs"]]
    known = {f.name for f in dataclasses.fields(Identity)}
    return Identity(**{k: v for k, v in d.items() if k in known})


def row_hash(identity_json: str) -> str:
    return hashlib.sha256(identity_json.encode("utf-8")).hexdigest()
