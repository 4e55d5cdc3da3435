"""The store's matches and per-area activity counters (part of MatcherStore).

A match is keyed by its two (area, handle) sides, area_a/handle_a the
smaller; it is live or withdrawn, and keeps its id for life so that a pair
that comes back is the same match. ``activity`` counts what each area did
per UTC day (quotas and probing flags read it).

Methods marked "in a write transaction" run inside the caller's
``store.write()``; the others take the store's lock themselves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

_IN_CHUNK = 500

#: One live match as the evaluator reads it: (area_a, handle_a, area_b, handle_b, tier, score).
MatchRow = tuple[str, str, str, str, str, float]


def day_of(now_ms: int) -> str:
    """The UTC day (YYYY-MM-DD) the activity table files ``now_ms`` under."""
    return time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000))


class MatchesSQL:
    """Matches and activity. Needs ``self.db`` and ``self.lock`` (MatcherStore)."""

    # -- matches ---------------------------------------------------------------
    def live_counterparts(self, area: str, handles: list[str]) -> Iterator[tuple[str, str, str]]:
        """(handle, other area, other handle) of every live match of `area`'s `handles` (in a write transaction)."""
        for i in range(0, len(handles), _IN_CHUNK):
            chunk = handles[i:i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                f"SELECT handle_a, area_b, handle_b FROM matches WHERE area_a=? AND handle_a IN ({marks})"
                " AND status='live' UNION ALL "
                f"SELECT handle_b, area_a, handle_a FROM matches WHERE area_b=? AND handle_b IN ({marks})"
                " AND status='live'", [area, *chunk, area, *chunk])

    def match_between(self, area_a: str, handle_a: str, area_b: str, handle_b: str
                      ) -> tuple[str, str | None, str] | None:
        """(match id, tier, status) of the pair's match (sides in order), or None (in a write transaction)."""
        return self.db.execute(
            "SELECT match_id, tier, status FROM matches WHERE area_a=? AND handle_a=? AND area_b=? AND handle_b=?",
            [area_a, handle_a, area_b, handle_b]).fetchone()

    def create_match(self, match_id: str, area_a: str, handle_a: str, area_b: str, handle_b: str,
                     tier: str, score: float, kinds: list[str], now: int) -> None:
        """A new live match (in a write transaction)."""
        self.db.execute(
            "INSERT INTO matches (match_id, area_a, handle_a, area_b, handle_b, tier, score, kinds, status,"
            " created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,'live',?,?)",
            [match_id, area_a, handle_a, area_b, handle_b, tier, score, json.dumps(kinds), now, now])

    def update_match(self, match_id: str, tier: str, score: float, kinds: list[str], now: int) -> None:
        """Set a match live with this tier, score and kinds (in a write transaction)."""
        self.db.execute("UPDATE matches SET tier=?, score=?, kinds=?, status='live', updated_ms=? "
                        "WHERE match_id=?", [tier, score, json.dumps(kinds), now, match_id])

    def withdraw_match(self, match_id: str, now: int) -> None:
        """Mark a match withdrawn (in a write transaction)."""
        self.db.execute("UPDATE matches SET status='withdrawn', updated_ms=? WHERE match_id=?", [now, match_id])

    def match_parties(self, match_id: str) -> tuple[str, str] | None:
        """The two areas of a match, or None if there is no such match."""
        with self.lock:
            row = self.db.execute("SELECT area_a, area_b FROM matches WHERE match_id=?", [match_id]).fetchone()
        return (row[0], row[1]) if row else None

    def live_matches(self) -> list[MatchRow]:
        """Every live match (the evaluator reads them all at the end of a run)."""
        with self.lock:
            return self.db.execute("SELECT area_a, handle_a, area_b, handle_b, tier, score FROM matches"
                                   " WHERE status = 'live'").fetchall()

    # -- activity ----------------------------------------------------------------
    def count_activity(self, area: str, now_ms: int, **deltas: int) -> None:
        """Add to `area`'s counters for the UTC day of `now_ms` (in a write transaction)."""
        day = day_of(now_ms)
        self.db.execute("INSERT OR IGNORE INTO activity (area, day) VALUES (?, ?)", [area, day])
        sets = ", ".join(f"{k} = {k} + ?" for k in deltas)
        self.db.execute(f"UPDATE activity SET {sets} WHERE area=? AND day=?", [*deltas.values(), area, day])

    def published_on(self, area: str, day: str) -> tuple[int, int]:
        """(records, tokens) `area` published on UTC `day`."""
        with self.lock:
            row = self.db.execute("SELECT records, tokens FROM activity WHERE area=? AND day=?", [area, day]).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def activity(self) -> list[tuple[str, str, int, int, int, int]]:
        """Every (area, day, records, tokens, withdrawn, matches), by area and day."""
        with self.lock:
            return self.db.execute(
                "SELECT area, day, records, tokens, withdrawn, matches FROM activity ORDER BY area, day").fetchall()

    # -- status --------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Counts of records, tokens, matches and queued rows (``fedalert matcher status``)."""
        with self.lock:
            q = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
            return {
                "records": q("SELECT count(*) FROM records"),
                "tokens": q("SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM tokens_staged)"),
                "matches_live": q("SELECT count(*) FROM matches WHERE status='live'"),
                "matches_withdrawn": q("SELECT count(*) FROM matches WHERE status='withdrawn'"),
                "alerts_queued": q("SELECT count(*) FROM alerts"),
                "envelopes_queued": q("SELECT count(*) FROM envelopes WHERE length(sealed) > 0"),
            }
