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

import threading
import time
from dataclasses import dataclass

from fedalert.matcher.errors import KeyRetireError, RetiredKeyError
from fedalert.migrations import migrate, run_script

DEFAULT_GRACE_DAYS = 7
_DAY_MS = 86_400_000


def _m_key_ids(db) -> None:
    run_script(db, """
        CREATE TABLE key_ids (
            key_id TEXT PRIMARY KEY,
            first_seen_ms INTEGER NOT NULL,
            retired_ms INTEGER,
            retired_records INTEGER,
            retired_withdrawn INTEGER,
            forced INTEGER
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO key_ids (key_id, first_seen_ms)
            SELECT key_id, min(updated_ms) FROM records GROUP BY key_id;
        """)


KEYIDS_MIGRATIONS = [("keyids_001_key_ids", _m_key_ids)]


def apply_migrations(db) -> None:
    migrate(db, KEYIDS_MIGRATIONS)


class KeyIdGuard:
    """Checks a publish against retired key ids and records when a key id is first seen."""

    def __init__(self, db, lock: threading.RLock, clock=time.time):
        self.db, self.lock, self.clock = db, lock, clock
        self._seen: set[str] = set()

    def before_publish(self, records: list) -> list:
        """Return the records to apply: those under a retired key id are dropped, and a batch
        that holds nothing else is refused (RetiredKeyError) so a node on an old keyset hears of it."""
        ids = sorted({r.key_id for r in records})
        if not ids:
            return records
        with self.lock:
            q = f"SELECT key_id FROM key_ids WHERE retired_ms IS NOT NULL AND key_id IN ({','.join('?' * len(ids))})"
            retired = {r[0] for r in self.db.execute(q, ids)}
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
                now = int(self.clock() * 1000)
                self.db.conn.executemany("INSERT OR IGNORE INTO key_ids (key_id, first_seen_ms) VALUES (?, ?)",
                                         [(k, now) for k in new])
                self._seen.update(new)
        return records


def key_status(db) -> list[dict]:
    """Every key id: first seen, retired or not, records per area. No token values."""
    per_area: dict[str, dict[str, int]] = {}
    for key_id, area, n in db.execute("SELECT key_id, area, count(*) FROM records GROUP BY key_id, area"):
        per_area.setdefault(key_id, {})[area] = n
    out = []
    for key_id, first, retired, recs, wd, forced in db.execute(
            "SELECT key_id, first_seen_ms, retired_ms, retired_records, retired_withdrawn, forced "
            "FROM key_ids ORDER BY first_seen_ms, key_id"):
        out.append({"key_id": key_id, "first_seen_ms": first, "retired_ms": retired,
                    "records_by_area": per_area.pop(key_id, {}),
                    **({"retired_records": recs, "retired_matches_withdrawn": wd, "forced": bool(forced)}
                       if retired is not None else {})})
    for key_id, areas in sorted(per_area.items()):  # seen before this table existed
        out.append({"key_id": key_id, "first_seen_ms": None, "retired_ms": None, "records_by_area": areas})
    return out


def lagging_areas(db, key_id: str) -> dict[str, int]:
    """Areas with records published only under `key_id` (not republished under another key id)."""
    rows = db.execute(
        "SELECT r.area, count(*) FROM records r WHERE r.key_id = ? AND NOT EXISTS ("
        " SELECT 1 FROM records o WHERE o.area = r.area AND o.handle = r.handle AND o.key_id != r.key_id)"
        " GROUP BY r.area ORDER BY r.area", [key_id])
    return {a: n for a, n in rows}


@dataclass
class RetireResult:
    key_id: str
    records: int
    matches_withdrawn: int
    forced: bool
    lagging: dict[str, int]


def retire(engine, key_id: str, *, grace_days: float = DEFAULT_GRACE_DAYS, force: bool = False) -> RetireResult:
    """Retire `key_id` at the matcher (see the module doc for the checks)."""
    db = engine.db
    now = int(engine.clock() * 1000)
    known = {k: (first, retired) for k, first, retired in
             db.execute("SELECT key_id, first_seen_ms, retired_ms FROM key_ids")}
    in_records = {r[0] for r in db.execute("SELECT DISTINCT key_id FROM records")}
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
    lagging = lagging_areas(db, key_id)
    if lagging and not force:
        listed = ", ".join(f"{a} ({n} record(s))" for a, n in lagging.items())
        raise KeyRetireError(
            f"not every area has republished under the new key id: {listed} still publish only under {key_id}. "
            "Wait until they have caught up (fedalert matcher key-ids), or use --force: their matches made only "
            f"under {key_id} are then withdrawn and come back when they republish")
    with engine.lock:
        db.execute("INSERT INTO key_ids (key_id, first_seen_ms, retired_ms, forced) VALUES (?,?,?,?) "
                   "ON CONFLICT(key_id) DO UPDATE SET retired_ms=excluded.retired_ms, forced=excluded.forced",
                   [key_id, now, now, int(force)])
    records, withdrawn = engine.retire_key(key_id)
    with engine.lock:
        db.execute("UPDATE key_ids SET retired_records=?, retired_withdrawn=? WHERE key_id=?",
                   [records, withdrawn, key_id])
    engine.audit_event("retire_key_done", key_id=key_id, records=records, matches_withdrawn=withdrawn,
                       forced=force, lagging_areas=sorted(lagging))
    return RetireResult(key_id, records, withdrawn, force, lagging)
