"""The match engine: candidate search, scoring, match state and alerts.

Every state change happens inside one write transaction of the store
(matcher/store.py) that also writes the alerts it causes, so that an alert is
durable before the publish that caused it is acknowledged; audit entries are
appended after the commit. Pairs are only ever formed across areas. The
engine holds no SQL: it reads and writes through :class:`MatcherStore`.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from dataclasses import dataclass

from fedalert import scoring
from fedalert.matcher._tokens import RecordIn, check_handle
from fedalert.matcher.queues import Queues
from fedalert.matcher.store import MatcherStore, Transaction
from fedalert.v1 import matcher_pb2 as pb

log = logging.getLogger(__name__)

_TIER_RANK = {None: 0, "low": 1, "medium": 2, "high": 3}


@dataclass
class PublishResult:
    records: int = 0
    tokens: int = 0
    duplicate: bool = False
    changed: int = 0


def _now_ms(clock) -> int:
    return int(clock() * 1000)


class Engine:
    """Matching over the store. Thread-safe: the store lets one writer in at a time."""

    def __init__(self, store: MatcherStore, *, audit=None, clock=time.time, evaluate=scoring.evaluate):
        self.store = store
        self.audit = audit
        self.clock = clock
        self.evaluate = evaluate
        self.queues = Queues(store)
        self.quota_guard = None  # a matcher.quotas.QuotaGuard, set by matcher.server

    # -- public operations -------------------------------------------------
    def publish(self, area: str, batch_id: str, records: list[RecordIn]) -> PublishResult:
        res = PublishResult(records=len(records), tokens=sum(r.n_tokens for r in records))
        store = self.store
        with store.write() as tx:
            now = _now_ms(self.clock)
            if store.batch_applied(area, batch_id):
                res.duplicate = True
                return res
            if self.quota_guard is not None:  # refuses the whole batch before any write
                self.quota_guard.check(store, area, now, batch_id, res.records, res.tokens)
            changed, found = store.replace_batch(area, records, now)
            res.changed = len(changed)
            if changed:
                self._rescore_batch(tx, area, [h for h, _ in changed], found, now)
            store.record_batch(area, batch_id, now, res.records, res.tokens)
            store.count_activity(area, now, records=res.records, tokens=res.tokens)
            self._audit(tx, "publish", area=area, batch_id=batch_id, records=res.records,
                        token_count=res.tokens, changed=res.changed)
        self.queues.notify()
        self._maybe_merge()
        return res

    def _maybe_merge(self) -> None:
        """Fold staged tokens into the main index once enough have gathered (after the alerts are out)."""
        if not self.store.index_needs_merge():
            return
        try:
            with self.store.write():
                n = self.store.merge_index()
            if n:
                log.info("merged %d staged tokens into the index", n)
        except Exception as exc:  # noqa: BLE001 - the publish is committed; lookups read both tables
            log.error("token index merge failed (%s); will retry after the next publish", type(exc).__name__)

    def withdraw(self, area: str, handle: str, reason: str) -> int:
        check_handle(handle)
        with self.store.write() as tx:
            now = _now_ms(self.clock)
            dropped = self.store.delete_records(area, handle)
            n = self._rescore(tx, area, handle, now)
            self.store.count_activity(area, now, withdrawn=1 if dropped else 0)
            self._audit(tx, "withdraw", area=area, handle=handle, reason=reason[:64], matches_withdrawn=n)
        self.queues.notify()
        return n

    def purge_area(self, area: str, reason: str) -> int:
        """Remove every record of an area (area withdrawal); returns matches withdrawn."""
        return sum(self.withdraw(area, h, reason) for h in self.store.handles_of_area(area))

    def retire_key(self, key_id: str) -> tuple[int, int]:
        """Drop every record published under `key_id` and rescore the pairs they were in.

        A pair still matched under another key id keeps its match id silently
        (a different tier raises UPGRADED/DOWNGRADED as usual); a pair matched
        only under `key_id` is withdrawn. Returns (records dropped, matches withdrawn).
        Policy (grace, caught-up check) lives in fedalert.matcher.keyids.
        """
        with self.store.write() as tx:
            now = _now_ms(self.clock)
            rows = self.store.delete_key_records(key_id)
            withdrawn = sum(self._rescore(tx, area, handle, now) for area, handle in rows)
            self._audit(tx, "retire_key", key_id=key_id, records=len(rows), matches_withdrawn=withdrawn)
        self.queues.notify()
        return len(rows), withdrawn

    def match_parties(self, match_id: str) -> tuple[str, str] | None:
        return self.store.match_parties(match_id)

    # -- internals ---------------------------------------------------------
    def _rescore_batch(self, tx: Transaction, area: str, handles: list[str],
                       found: dict[str, set[tuple[str, str]]], now: int) -> int:
        """Re-evaluate the pairs of every changed handle: token candidates plus live matches.

        Returns how many matches this withdrew."""
        handles = list(dict.fromkeys(handles))
        for my_handle, other_area, other_handle in self.store.live_counterparts(area, handles):
            found.setdefault(my_handle, set()).add((other_area, other_handle))
        withdrawn = 0
        records_of = self.store.records_of
        for handle in handles:
            counterparts = found.get(handle)
            if not counterparts:
                continue
            mine = records_of(area, handle)
            for other_area, other_handle in sorted(counterparts):
                theirs = records_of(other_area, other_handle)
                verdict, kinds = self._verdict(mine, theirs) if mine and theirs else (None, [])
                if self._apply(tx, area, handle, other_area, other_handle, verdict, kinds, now) == "withdrawn":
                    withdrawn += 1
        return withdrawn

    def _verdict(self, mine, theirs) -> tuple[scoring.Verdict | None, list[str]]:
        """Best verdict over the key ids both records are published under."""
        best, best_kinds = None, []
        names = self.store.kind_names
        for key_id in mine.keys() & theirs.keys():
            kinds_a, toks_a = mine[key_id]
            kinds_b, toks_b = theirs[key_id]
            agreed = {names[kid] for kid, _ in toks_a & toks_b}
            if not agreed:
                continue
            v = self.evaluate(agreed, kinds_a, kinds_b)
            if best is None or v.score > best.score:
                best, best_kinds = v, sorted(agreed)
        return best, best_kinds

    def _rescore(self, tx: Transaction, area: str, handle: str, now: int) -> int:
        """Re-evaluate every pair involving (area, handle); return matches withdrawn."""
        return self._rescore_batch(tx, area, [handle], {handle: self.store.candidates_of(area, handle)}, now)

    def _apply(self, tx, area, handle, other_area, other_handle, verdict, kinds, now) -> str | None:
        (aa, ha), (ab, hb) = sorted([(area, handle), (other_area, other_handle)])
        store = self.store
        row = store.match_between(aa, ha, ab, hb)
        tier = verdict.tier if verdict else None
        score = verdict.score if verdict else 0.0
        if row is None:
            if tier is None:
                return None
            match_id = "m-" + secrets.token_hex(8)
            store.create_match(match_id, aa, ha, ab, hb, tier, score, kinds, now)
            event, atype = "created", pb.ALERT_TYPE_NEW
        else:
            match_id, old_tier, status = row
            live_before = status == "live"
            if tier is None:
                if not live_before:
                    return None
                store.withdraw_match(match_id, now)
                event, atype, tier = "withdrawn", pb.ALERT_TYPE_WITHDRAWN, old_tier
            else:
                store.update_match(match_id, tier, score, kinds, now)
                if not live_before:
                    event, atype = "revived", pb.ALERT_TYPE_NEW
                elif _TIER_RANK[tier] > _TIER_RANK[old_tier]:
                    event, atype = "upgraded", pb.ALERT_TYPE_UPGRADED
                elif _TIER_RANK[tier] < _TIER_RANK[old_tier]:
                    event, atype = "downgraded", pb.ALERT_TYPE_DOWNGRADED
                else:
                    return None  # same tier: kinds/score refreshed silently
        self._audit(tx, "match", match_id=match_id, change=event, tier=tier, kinds=kinds, areas=[aa, ab])
        for me, my_handle, other in ((aa, ha, ab), (ab, hb, aa)):
            self.queues.push_alert(me, match_id, atype, my_handle, other, tier, kinds, score, now)
        if event in ("created", "revived"):
            store.count_activity(aa, now, matches=1)
            store.count_activity(ab, now, matches=1)
        return event

    def audit_event(self, event: str, **fields) -> None:
        """Append to the audit log now (for events outside a publish transaction)."""
        if self.audit is not None:
            self.audit.append(event, **fields)

    def _audit(self, tx: Transaction, event: str, **fields) -> None:
        """Append to the audit log once `tx` has committed (in order; nothing if it rolls back)."""
        if self.audit is not None:
            tx.after_commit(functools.partial(self.audit.append, event, **fields))
