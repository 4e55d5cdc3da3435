"""The match engine: token index updates, candidate search, scoring, alerts.

Every state change happens inside one SQLite transaction that also writes
the alerts it causes, so that an alert is durable before the publish that
caused it is acknowledged. Pairs are only ever formed across areas.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from fedalert.matcher import scoring
from fedalert.matcher._index import COVERED_KINDS, TokenIndex, keys_json
from fedalert.matcher._tokens import RecordIn, check_handle, pack_runs, packed_keys, stored_kind_ids, unpack
from fedalert.matcher.errors import InvalidRequestError
from fedalert.matcher.queues import Queues
from fedalert.v1 import matcher_pb2 as pb

log = logging.getLogger(__name__)

_TIER_RANK = {None: 0, "low": 1, "medium": 2, "high": 3}
#: Distinct key kind names the matcher accepts over its life (the stored form holds 2-byte kind ids).
MAX_KINDS = 1024
_IN_CHUNK = 500


@dataclass
class PublishResult:
    records: int = 0
    tokens: int = 0
    duplicate: bool = False
    changed: int = 0


def _now_ms(clock) -> int:
    return int(clock() * 1000)


class Engine:
    """Matching over the store. Thread-safe: one writer at a time."""

    def __init__(self, db, *, audit=None, clock=time.time, evaluate=scoring.evaluate):
        self.db = db
        self.audit = audit
        self.clock = clock
        self.evaluate = evaluate
        self.lock = threading.RLock()
        self._audit_pending: list[tuple[str, dict]] = []
        self.queues = Queues(db, self.lock, clock)
        self.quota_guard = None  # a matcher.quotas.QuotaGuard, set by matcher.server
        self.index = TokenIndex(db)
        self._kind_ids: dict[str, int] = {r[1]: r[0] for r in db.execute("SELECT id, name FROM kinds")}
        self._kind_names = {v: k for k, v in self._kind_ids.items()}
        self._unindexed: frozenset[int] = frozenset()  # ids of COVERED_KINDS (no index rows)
        self._refresh_unindexed()

    # -- public operations -------------------------------------------------
    def publish(self, area: str, batch_id: str, records: list[RecordIn]) -> PublishResult:
        res = PublishResult(records=len(records), tokens=sum(r.n_tokens for r in records))
        with self.lock, self._tx() as now:
            if self.db.execute("SELECT 1 FROM batches WHERE area=? AND batch_id=?", [area, batch_id]).fetchone():
                res.duplicate = True
                return res
            if self.quota_guard is not None:  # refuses the whole batch before any write
                self.quota_guard.check(self.db, area, now, batch_id, res.records, res.tokens)
            changed, found = self._replace_batch(area, records, now)
            res.changed = len(changed)
            if changed:
                self._rescore_batch(area, [h for h, _ in changed], found, now)
            self.db.execute(
                "INSERT INTO batches (area, batch_id, applied_ms, records, tokens) VALUES (?,?,?,?,?)",
                [area, batch_id, now, res.records, res.tokens],
            )
            self._count(area, now, records=res.records, tokens=res.tokens)
            self._audit("publish", area=area, batch_id=batch_id, records=res.records,
                        token_count=res.tokens, changed=res.changed)
        self.queues.notify()
        self._maybe_merge()
        return res

    def _maybe_merge(self) -> None:
        """Fold staged tokens into the main index once enough have gathered (after the alerts are out)."""
        if not self.index.needs_merge():
            return
        try:
            with self.lock, self._tx():
                if self.index.needs_merge():
                    n = self.index.merge()
                    log.info("merged %d staged tokens into the index", n)
        except Exception as exc:  # noqa: BLE001 - the publish is committed; lookups read both tables
            log.error("token index merge failed (%s); will retry after the next publish", type(exc).__name__)

    def withdraw(self, area: str, handle: str, reason: str) -> int:
        check_handle(handle)
        with self.lock, self._tx() as now:
            rows = self.db.execute("SELECT id, packed FROM records WHERE area=? AND handle=?", [area, handle]).fetchall()
            for rid, packed in rows:
                self._delete_tokens(rid, packed)
                self.db.execute("DELETE FROM records WHERE id=?", [rid])
            n = self._rescore(area, handle, now)
            self._count(area, now, withdrawn=1 if rows else 0)
            self._audit("withdraw", area=area, handle=handle, reason=reason[:64], matches_withdrawn=n)
        self.queues.notify()
        return n

    def purge_area(self, area: str, reason: str) -> int:
        """Remove every record of an area (area withdrawal); returns matches withdrawn."""
        handles = [r[0] for r in self.db.execute("SELECT DISTINCT handle FROM records WHERE area=?", [area])]
        return sum(self.withdraw(area, h, reason) for h in handles)

    def retire_key(self, key_id: str) -> tuple[int, int]:
        """Drop every record published under `key_id` and rescore the pairs they were in.

        A pair still matched under another key id keeps its match id silently
        (a different tier raises UPGRADED/DOWNGRADED as usual); a pair matched
        only under `key_id` is withdrawn. Returns (records dropped, matches withdrawn).
        Policy (grace, caught-up check) lives in fedalert.matcher.keyids.
        """
        with self.lock, self._tx() as now:
            # Another process (the running matcher) may have added key kinds since this engine started.
            self._reload_kinds()
            rows = self.db.execute("SELECT id, area, handle, packed FROM records WHERE key_id=?", [key_id]).fetchall()
            for rid, _, _, packed in rows:
                self._delete_tokens(rid, packed)
                self.db.execute("DELETE FROM records WHERE id=?", [rid])
            withdrawn = sum(self._rescore(area, handle, now) for _, area, handle, _ in rows)
            self._audit("retire_key", key_id=key_id, records=len(rows), matches_withdrawn=withdrawn)
        self.queues.notify()
        return len(rows), withdrawn

    def match_parties(self, match_id: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT area_a, area_b FROM matches WHERE match_id=?", [match_id]).fetchone()
        return (row[0], row[1]) if row else None

    # -- internals ---------------------------------------------------------
    def _tx(self):
        engine = self

        class _Tx:
            def __enter__(self_inner):
                engine.db.execute("BEGIN IMMEDIATE")
                engine._audit_pending = []
                return _now_ms(engine.clock)

            def __exit__(self_inner, exc_type, exc, tb):
                engine.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
                pending, engine._audit_pending = engine._audit_pending, []
                if exc_type is None and engine.audit is not None:
                    # Audit what was committed, in order, after the commit.
                    for event, fields in pending:
                        engine.audit.append(event, **fields)
                return False

        return _Tx()

    def _kind_id(self, name: str) -> int:
        kid = self._kind_ids.get(name)
        if kid is None:  # new to this engine; another engine on the store may have added it already
            row = self.db.execute("SELECT id FROM kinds WHERE name = ?", [name]).fetchone()
            if row is None:
                known = self.db.execute("SELECT count(*) FROM kinds").fetchone()[0]
                if known >= MAX_KINDS:
                    # Kind ids are 2 bytes in the stored form; fedalert builds 26 kinds. A node
                    # inventing kind names would otherwise grow this table without bound.
                    raise InvalidRequestError(f"the matcher already knows {known} key kinds, its limit; "
                                              f"a record of a new kind is refused")
                self.db.execute("INSERT INTO kinds (name) VALUES (?)", [name])
                row = self.db.execute("SELECT id FROM kinds WHERE name = ?", [name]).fetchone()
            kid = row[0]
            self._kind_ids[name] = kid
            self._kind_names[kid] = name
            self._refresh_unindexed()
        return kid

    def _reload_kinds(self) -> None:
        for kid, name in self.db.execute("SELECT id, name FROM kinds"):
            self._kind_ids[name], self._kind_names[kid] = kid, name
        self._refresh_unindexed()

    def _refresh_unindexed(self) -> None:
        self._unindexed = frozenset(kid for name, kid in self._kind_ids.items() if name in COVERED_KINDS)

    def _index_keys(self, packed: bytes) -> str:
        """The index keys of a stored record (packed form), covered kinds left out, as JSON: the one
        place that decides which tokens get index rows, for adding, deleting and looking up alike."""
        return keys_json(packed_keys(packed, self._unindexed))

    def _delete_tokens(self, rid: int, packed: bytes) -> None:
        self.index.remove([(rid, self._index_keys(packed))])

    def _replace_batch(self, area: str, records: list[RecordIn], now: int):
        """Store a batch's new token sets with set-at-a-time SQL.

        Returns the changed records as (handle, key id) and, per changed
        handle, the other-area records sharing a token with it. Each record's
        tokens arrive as they came off the wire (kinds, counts, values) and are
        stored nearly so (_tokens.pack_runs: a header of kind ids and counts,
        then the values); a record's index keys (covered kinds left out, see
        _index.COVERED_KINDS) are read from the values with one struct.unpack
        and go to SQLite as one JSON array, and the candidate lookup and the
        insert run in SQL over the whole batch (_index.py), so no Python loop
        runs per token here.
        """
        changed: list[RecordIn] = []
        deletes: list[tuple[int, str]] = []
        rows: list[tuple[int, str]] = []
        handle_of: dict[int, str] = {}
        kind_ids = self._kind_ids
        stored = {(h, k): (rid, packed) for h, k, rid, packed in self.db.execute(
            "SELECT handle, key_id, id, packed FROM records WHERE area=? AND handle IN (SELECT value FROM json_each(?))",
            [area, json.dumps([rec.handle for rec in records])])}
        # New rows get their ids here (the caller's BEGIN IMMEDIATE shuts out every other writer), so
        # that the index rows can name them before one executemany inserts them all.
        next_id = self.db.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0]
        inserts, updates = [], []
        for rec in records:
            kinds, counts, values = rec.runs
            if not kind_ids.keys() >= set(kinds):
                for k in set(kinds) - kind_ids.keys():
                    self._kind_id(k)
            new = pack_runs([kind_ids[k] for k in kinds], counts, values)
            row = stored.get((rec.handle, rec.key_id))
            if row and row[1] == new:
                continue
            if row:
                rid = row[0]
                deletes.append((rid, self._index_keys(row[1])))
                updates.append((new, now, rid))
            else:
                next_id += 1
                rid = next_id
                inserts.append((rid, area, rec.handle, rec.key_id, new, now))
            rows.append((rid, self._index_keys(new)))
            handle_of[rid] = rec.handle
            changed.append(rec)
        conn = self.db.conn
        conn.executemany("UPDATE records SET packed=?, updated_ms=? WHERE id=?", updates)
        conn.executemany("INSERT INTO records (id, area, handle, key_id, packed, updated_ms) VALUES (?,?,?,?,?,?)",
                         inserts)
        if deletes:
            self.index.remove(deletes)
        found: dict[str, set[tuple[str, str]]] = defaultdict(set)
        if rows:
            for rid, other_area, other_handle in self.index.add_batch(rows, area):
                found[handle_of[rid]].add((other_area, other_handle))
        return [(rec.handle, rec.key_id) for rec in changed], found

    def _rescore_batch(self, area: str, handles: list[str], found: dict[str, set[tuple[str, str]]],
                       now: int) -> int:
        """Re-evaluate the pairs of every changed handle: token candidates plus live matches.

        Returns how many matches this withdrew."""
        handles = list(dict.fromkeys(handles))
        for i in range(0, len(handles), _IN_CHUNK):
            chunk = handles[i:i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for my_handle, other_area, other_handle in self.db.execute(
                f"SELECT handle_a, area_b, handle_b FROM matches WHERE area_a=? AND handle_a IN ({marks})"
                " AND status='live' UNION ALL "
                f"SELECT handle_b, area_a, handle_a FROM matches WHERE area_b=? AND handle_b IN ({marks})"
                " AND status='live'", [area, *chunk, area, *chunk]):
                found.setdefault(my_handle, set()).add((other_area, other_handle))
        withdrawn = 0
        for handle in handles:
            counterparts = found.get(handle)
            if not counterparts:
                continue
            mine = self._records_of(area, handle)
            for other_area, other_handle in sorted(counterparts):
                theirs = self._records_of(other_area, other_handle)
                verdict, kinds = self._verdict(mine, theirs) if mine and theirs else (None, [])
                if self._apply(area, handle, other_area, other_handle, verdict, kinds, now) == "withdrawn":
                    withdrawn += 1
        return withdrawn

    def _records_of(self, area: str, handle: str) -> dict[str, tuple[set[str], set[tuple[int, bytes]]]]:
        rows = self.db.execute("SELECT key_id, packed FROM records WHERE area=? AND handle=?", [area, handle]).fetchall()
        kids = {k: stored_kind_ids(packed) for k, packed in rows}
        if not self._kind_names.keys() >= {kid for ids in kids.values() for kid in ids}:
            self._reload_kinds()  # kinds another process (a second engine on the store) added
        names = self._kind_names
        return {k: ({names[kid] for kid in kids[k]}, unpack(packed)) for k, packed in rows}

    def _candidates(self, area: str, handle: str) -> set[tuple[str, str]]:
        """Other-area (area, handle) pairs sharing a token with any record of (area, handle),
        under the same key id: the lookup :meth:`TokenIndex.add_batch` makes on publish."""
        rows = self.db.execute("SELECT id, packed FROM records WHERE area=? AND handle=?", [area, handle]).fetchall()
        found = self.index.candidates([(rid, self._index_keys(packed)) for rid, packed in rows], area)
        return {(a, h) for _, a, h in found}

    def _verdict(self, mine, theirs) -> tuple[scoring.Verdict | None, list[str]]:
        """Best verdict over the key ids both records are published under."""
        best, best_kinds = None, []
        for key_id in mine.keys() & theirs.keys():
            kinds_a, toks_a = mine[key_id]
            kinds_b, toks_b = theirs[key_id]
            agreed = {self._kind_names[kid] for kid, _ in toks_a & toks_b}
            if not agreed:
                continue
            v = self.evaluate(agreed, kinds_a, kinds_b)
            if best is None or v.score > best.score:
                best, best_kinds = v, sorted(agreed)
        return best, best_kinds

    def _rescore(self, area: str, handle: str, now: int) -> int:
        """Re-evaluate every pair involving (area, handle); return matches withdrawn."""
        return self._rescore_batch(area, [handle], {handle: self._candidates(area, handle)}, now)

    def _apply(self, area, handle, other_area, other_handle, verdict, kinds, now) -> str | None:
        (aa, ha), (ab, hb) = sorted([(area, handle), (other_area, other_handle)])
        row = self.db.execute(
            "SELECT match_id, tier, status FROM matches WHERE area_a=? AND handle_a=? AND area_b=? AND handle_b=?",
            [aa, ha, ab, hb]).fetchone()
        tier = verdict.tier if verdict else None
        score = verdict.score if verdict else 0.0
        kinds_json = json.dumps(kinds)
        if row is None:
            if tier is None:
                return None
            match_id = "m-" + secrets.token_hex(8)
            self.db.execute(
                "INSERT INTO matches (match_id, area_a, handle_a, area_b, handle_b, tier, score, kinds, status,"
                " created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,'live',?,?)",
                [match_id, aa, ha, ab, hb, tier, score, kinds_json, now, now])
            event, atype = "created", pb.ALERT_TYPE_NEW
        else:
            match_id, old_tier, status = row
            live_before = status == "live"
            if tier is None:
                if not live_before:
                    return None
                self.db.execute("UPDATE matches SET status='withdrawn', updated_ms=? WHERE match_id=?",
                                [now, match_id])
                event, atype, tier = "withdrawn", pb.ALERT_TYPE_WITHDRAWN, old_tier
            else:
                self.db.execute("UPDATE matches SET tier=?, score=?, kinds=?, status='live', updated_ms=? "
                                "WHERE match_id=?", [tier, score, kinds_json, now, match_id])
                if not live_before:
                    event, atype = "revived", pb.ALERT_TYPE_NEW
                elif _TIER_RANK[tier] > _TIER_RANK[old_tier]:
                    event, atype = "upgraded", pb.ALERT_TYPE_UPGRADED
                elif _TIER_RANK[tier] < _TIER_RANK[old_tier]:
                    event, atype = "downgraded", pb.ALERT_TYPE_DOWNGRADED
                else:
                    return None  # same tier: kinds/score refreshed silently
        self._audit("match", match_id=match_id, change=event, tier=tier, kinds=kinds, areas=[aa, ab])
        for me, my_handle, other in ((aa, ha, ab), (ab, hb, aa)):
            self.queues.push_alert(me, match_id, atype, my_handle, other, tier, kinds, score, now)
        if event in ("created", "revived"):
            self._count(aa, now, matches=1)
            self._count(ab, now, matches=1)
        return event

    def _count(self, area: str, now_ms: int, **deltas: int) -> None:
        day = time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000))
        self.db.execute("INSERT OR IGNORE INTO activity (area, day) VALUES (?, ?)", [area, day])
        sets = ", ".join(f"{k} = {k} + ?" for k in deltas)
        self.db.execute(f"UPDATE activity SET {sets} WHERE area=? AND day=?", [*deltas.values(), area, day])

    def audit_event(self, event: str, **fields) -> None:
        """Append to the audit log now (for events outside a publish transaction)."""
        if self.audit is not None:
            self.audit.append(event, **fields)

    def _audit(self, event: str, **fields) -> None:
        self._audit_pending.append((event, fields))
