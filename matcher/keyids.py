"""Token key ids at the matcher: which are in use, by whom, and retiring old ones.

The matcher never holds a token key; it only sees key ids next to tokens and
matches within one key id. After the custodian rotates, the nodes republish
under the new key id while the old key id's tokens still count. The matcher
operator then retires the old key id with::

    fedalert matcher retire-key OLD --db matcher.db [--grace-days N] [--force]

Retirement refuses, unless ``--force``:
- a key id this matcher never saw, or one with no successor (no other key id);
- before the grace period is over: N days (default 7) since the matcher first
  saw the newest other key id;
- while any area still has records published *only* under the old key id
  (an area that has not republished, for example because it was offline).

With ``--force`` such an area's matches made only under the old key id are
withdrawn; once it republishes under the new key they come back as NEW alerts
under the same match ids (a match is keyed by its two record handles).

Records under a retired key id are dropped at publish, and a batch made only
of them is refused (``RetiredKeyError``), so a node still on the old keyset
cannot bring it back and hears why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fedalert.matcher.errors import KeyRetireError, RetiredKeyError
from fedalert.matcher.store import MatcherStore

DEFAULT_GRACE_DAYS = 7
_DAY_MS = 86_400_000


class KeyIdGuard:
    """Checks a publish against retired key ids and records when a key id is first seen."""

    def __init__(self, store: MatcherStore, clock=time.time):
        self.store, self.clock = store, clock
        self._seen: set[str] = set()

    def before_publish(self, records: list) -> list:
        """Return the records to apply: those under a retired key id are dropped, and a batch
        that holds nothing else is refused (RetiredKeyError) so a node on an old keyset hears of it."""
        ids = sorted({r.key_id for r in records})
        if not ids:
            return records
        retired = self.store.retired_key_ids(ids)
        if retired:
            kept = [r for r in records if r.key_id not in retired]
            if not kept:
                raise RetiredKeyError(
                    f"token key id {min(retired)} has been retired at this matcher; install the latest keyset "
                    "from the key custodian and publish again")
            records = kept
            ids = [k for k in ids if k not in retired]
        new = [k for k in ids if k not in self._seen]
        if new:
            self.store.note_key_ids(new, int(self.clock() * 1000))
            self._seen.update(new)
        return records


def key_status(store: MatcherStore) -> list[dict]:
    """Every key id: first seen, retired or not, records per area. No token values."""
    per_area: dict[str, dict[str, int]] = {}
    for key_id, area, n in store.records_per_key_and_area():
        per_area.setdefault(key_id, {})[area] = n
    out = []
    for key_id, first, retired, recs, wd, forced in store.key_id_rows():
        out.append({"key_id": key_id, "first_seen_ms": first, "retired_ms": retired,
                    "records_by_area": per_area.pop(key_id, {}),
                    **({"retired_records": recs, "retired_matches_withdrawn": wd, "forced": bool(forced)}
                       if retired is not None else {})})
    for key_id, areas in sorted(per_area.items()):  # seen before this table existed
        out.append({"key_id": key_id, "first_seen_ms": None, "retired_ms": None, "records_by_area": areas})
    return out


@dataclass
class RetireResult:
    key_id: str
    records: int
    matches_withdrawn: int
    forced: bool
    lagging: dict[str, int]


def retire(engine, key_id: str, *, grace_days: float = DEFAULT_GRACE_DAYS, force: bool = False) -> RetireResult:
    """Retire `key_id` at the matcher (see the module doc for the checks)."""
    store = engine.store
    now = int(engine.clock() * 1000)
    known = {k: (first, retired) for k, first, retired, *_ in store.key_id_rows()}
    in_records = store.key_ids_in_records()
    if key_id not in known and key_id not in in_records:
        raise KeyRetireError(f"this matcher has never seen token key id {key_id!r}; see 'fedalert matcher key-ids'")
    others = {k: v for k, v in known.items() if k != key_id and v[1] is None}
    if not others and not force:
        raise KeyRetireError(f"{key_id} is the only token key id in use; rotate first (fedalert keys rotate), "
                             "let the areas republish, then retire the old key id")
    if others and not force:
        newest, (first, _) = max(others.items(), key=lambda kv: kv[1][0])
        ready_ms = first + int(grace_days * _DAY_MS)
        if now < ready_ms:
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ready_ms / 1000))
            raise KeyRetireError(f"the grace period is not over: {newest} was first seen less than {grace_days:g} "
                                 f"day(s) ago; retire {key_id} after {when} (or use --force)")
    lagging = store.lagging_areas(key_id)
    if lagging and not force:
        listed = ", ".join(f"{a} ({n} record(s))" for a, n in lagging.items())
        raise KeyRetireError(
            f"not every area has republished under the new key id: {listed} still publish only under {key_id}. "
            "Wait until they have caught up (fedalert matcher key-ids), or use --force: their matches made only "
            f"under {key_id} are then withdrawn and come back when they republish")
    store.mark_key_retired(key_id, now, force)
    records, withdrawn = engine.retire_key(key_id)
    store.note_retirement(key_id, records, withdrawn)
    engine.audit_event("retire_key_done", key_id=key_id, records=records, matches_withdrawn=withdrawn,
                       forced=force, lagging_areas=sorted(lagging))
    return RetireResult(key_id, records, withdrawn, force, lagging)
