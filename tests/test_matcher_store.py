"""MatcherStore's transactions on a real SQLite file: all or nothing, and work after the commit.

The guarantee the engine builds on: a publish, the matches it changes and the
alerts it raises are one transaction; audit entries are appended only once
that transaction has committed, and never for one that rolled back.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from fedalert import scoring
from fedalert.audit import AuditLog
from fedalert.matcher._tokens import validate_records
from fedalert.matcher.engine import Engine
from fedalert.matcher.store import MatcherStore
from tests.helpers import record


def _count(path, table: str) -> int:
    """Read through a second connection: what is committed, not what one transaction sees."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_after_commit_runs_after_the_commit_in_order(tmp_path):
    store = MatcherStore(tmp_path / "m.db")
    seen = []
    with store.write() as tx:
        store.record_batch("a", "b1", 1, 0, 0)
        tx.after_commit(lambda: seen.append(("first", _count(store.path, "batches"))))
        tx.after_commit(lambda: seen.append(("second", _count(store.path, "batches"))))
        assert _count(store.path, "batches") == 0  # not yet visible to another connection
    assert seen == [("first", 1), ("second", 1)]


def test_a_failed_transaction_rolls_back_and_runs_nothing_after(tmp_path):
    store = MatcherStore(tmp_path / "m.db")
    seen = []
    with pytest.raises(ValueError):
        with store.write() as tx:
            store.record_batch("a", "b1", 1, 0, 0)
            tx.after_commit(lambda: seen.append("ran"))
            raise ValueError("boom")
    assert seen == [] and not store.batch_applied("a", "b1")
    with store.write():  # the store is usable again
        store.record_batch("a", "b1", 1, 0, 0)
    assert store.batch_applied("a", "b1")


def test_write_transactions_do_not_nest(tmp_path):
    store = MatcherStore(tmp_path / "m.db")
    with store.write():
        with pytest.raises(RuntimeError, match="already open"):
            with store.write():
                pass


def test_opening_applies_every_migration_once(tmp_path):
    from fedalert.matcher._schema import ALL_MIGRATIONS
    from fedalert.migrations import applied_migrations

    MatcherStore(tmp_path / "m.db").close()
    store = MatcherStore(tmp_path / "m.db")
    assert applied_migrations(store.db) == [name for name, _ in ALL_MIGRATIONS]
    assert store.key_id_rows() == [] and store.pending_keysets("a", 10) == []  # key ids and relay tables exist


def test_a_publish_that_fails_midway_leaves_no_match_alert_or_audit(tmp_path):
    audit_path = tmp_path / "audit.jsonl"
    calls = []

    def failing_second(agreed, kinds_a, kinds_b):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("scoring failed")
        return scoring.evaluate(agreed, kinds_a, kinds_b)

    store = MatcherStore(tmp_path / "m.db")
    engine = Engine(store, audit=AuditLog(audit_path), evaluate=failing_second)
    engine.publish("a", "a1", validate_records([record("handleA0001", name_dob="p1", pnc="x1"),
                                                  record("handleA0002", name_dob="p2", pnc="x2")]))
    events = lambda: [json.loads(line)["event"] for line in audit_path.read_text().splitlines()]  # noqa: E731
    before = events()
    with pytest.raises(RuntimeError, match="scoring failed"):
        engine.publish("b", "b1", validate_records([record("handleB0001", name_dob="p1", pnc="x1"),
                                                      record("handleB0002", name_dob="p2", pnc="x2")]))
    # The first pair was scored, matched and alerted inside the transaction; all of it is gone.
    for table in ("matches", "alerts"):
        assert _count(store.path, table) == 0, table
    assert store.handles_of_area("b") == [] and not store.batch_applied("b", "b1")
    assert events() == before  # no match or publish entry for what rolled back
    # The same batch, scored normally, commits both matches with their alerts and audit entries.
    engine.evaluate = scoring.evaluate
    engine.publish("b", "b1", validate_records([record("handleB0001", name_dob="p1", pnc="x1"),
                                                  record("handleB0002", name_dob="p2", pnc="x2")]))
    assert _count(store.path, "matches") == 2 and _count(store.path, "alerts") == 4
    assert events()[len(before):] == ["match", "match", "publish"]
