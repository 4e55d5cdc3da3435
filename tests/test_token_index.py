"""The matcher's two-level token index (matcher/_index.py) on a real SQLite file.

A tiny merge threshold forces merges between publishes, so every path
(lookup, replace, withdraw, upgrade) runs against tokens that sit in the
main table, in the staging table, and in both.
"""

from __future__ import annotations

from fedalert.matcher._tokens import validate_records
from fedalert.matcher.engine import Engine
from fedalert.matcher.store import MatcherStore
from fedalert.v1 import matcher_pb2 as pb
from tests.helpers import record


def _engine(tmp_path, staged_max: int) -> Engine:
    engine = Engine(MatcherStore(tmp_path / "matcher.db"))
    engine.store.index.staged_max = staged_max
    return engine


def _publish(engine, area, *records, batch="b"):
    return engine.publish(area, f"{batch}-{area}-{records[0].handle}", validate_records(records))


def _alerts(engine, area):
    return [(pb.AlertType.Name(a.type), a.tier) for a in engine.queues.alerts_after(area, 0)]


def _tables(engine):
    q = lambda t: engine.store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
    return q("tokens"), q("tokens_staged")


def test_match_found_against_merged_tokens(tmp_path):
    engine = _engine(tmp_path, staged_max=2)
    _publish(engine, "a", record("handleA0001", name_dob="p1", pnc="x1"))
    assert _tables(engine) == (2, 0)  # merged: 2 tokens reached the threshold
    _publish(engine, "b", record("handleB0001", name_dob="p1", pnc="x1"))
    assert _tables(engine) == (4, 0)
    assert _alerts(engine, "a") == [("ALERT_TYPE_NEW", "high")]
    assert _alerts(engine, "b") == [("ALERT_TYPE_NEW", "high")]


def test_match_found_across_staged_and_merged(tmp_path):
    engine = _engine(tmp_path, staged_max=3)
    _publish(engine, "a", record("handleA0001", name_dob="p1", pnc="x1"))
    assert _tables(engine) == (0, 2)  # still staged
    _publish(engine, "b", record("handleB0001", name_dob="p1", pnc="x1"))
    assert _tables(engine) == (4, 0)  # the second publish tipped a merge
    _publish(engine, "c", record("handleC0001", name_dob="p1"))
    assert _tables(engine) == (4, 1)
    assert len(_alerts(engine, "c")) == 2  # both earlier records, from the main table
    _publish(engine, "d", record("handleD0001", name_dob="p1"))
    assert len(_alerts(engine, "d")) == 3  # a and b from main, c from staging


def test_replace_and_withdraw_remove_tokens_from_both_tables(tmp_path):
    engine = _engine(tmp_path, staged_max=2)
    _publish(engine, "a", record("handleA0001", name_dob="p1", pnc="x1"))  # merged
    engine.store.index.staged_max = 100
    _publish(engine, "b", record("handleB0001", name_dob="p1"))  # staged
    assert _tables(engine) == (2, 1)
    # Replacing a's record drops its merged tokens; the match is withdrawn.
    _publish(engine, "a", record("handleA0001", name_dob="other"), batch="b2")
    assert _tables(engine) == (0, 2)
    assert [t for t, _ in _alerts(engine, "b")] == ["ALERT_TYPE_NEW", "ALERT_TYPE_WITHDRAWN"]
    # Withdrawing b removes its staged token.
    engine.withdraw("b", "handleB0001", "closed")
    assert _tables(engine) == (0, 1)
    assert engine.store.index.count() == 1


def test_republish_unchanged_touches_nothing(tmp_path):
    engine = _engine(tmp_path, staged_max=2)
    _publish(engine, "a", record("handleA0001", name_dob="p1", pnc="x1"))
    res = _publish(engine, "a", record("handleA0001", name_dob="p1", pnc="x1"), batch="again")
    assert res.changed == 0 and _tables(engine) == (2, 0)


def test_migration_rebuilds_the_index_from_records(tmp_path):
    from fedalert.matcher import store
    from fedalert.migrations import migrate, open_db
    from tests.helpers import tok

    # A store as main had it before 003: blob-keyed tokens, one record.
    db = open_db(tmp_path / "old.db")
    migrate(db, store.MIGRATIONS[:2])
    db.execute("INSERT INTO kinds (id, name) VALUES (1, 'name_dob'), (2, 'pnc')")
    from fedalert.matcher._tokens import pack_v1 as pack
    packed = pack([(1, tok("k1/name_dob/p1")), (2, tok("k1/pnc/x1"))])
    db.execute("INSERT INTO records (id, area, handle, key_id, kinds, packed, updated_ms)"
               " VALUES (7, 'a', 'handleA0001', 'k1', '[\"name_dob\", \"pnc\"]', ?, 0)", [packed])
    db.conn.close()
    engine = Engine(MatcherStore(tmp_path / "old.db"))
    assert _tables(engine) == (2, 0)
    _publish(engine, "b", record("handleB0001", name_dob="p1", pnc="x1"))
    assert _alerts(engine, "b") == [("ALERT_TYPE_NEW", "high")]


def test_migration_004_drops_the_kind_column_and_covered_rows(tmp_path):
    from fedalert.matcher import store
    from fedalert.matcher._index import key_of
    from fedalert.matcher._tokens import pack_v1 as pack
    from fedalert.migrations import migrate, open_db
    from tests.helpers import tok

    # A store as main had it after 003: (key, record_id, kind) rows, one row of a covered kind.
    db = open_db(tmp_path / "old.db")
    migrate(db, store.MIGRATIONS[:3])
    db.execute("INSERT INTO kinds (id, name) VALUES (1, 'name_dob'), (2, 'pnc'), (3, 'edit_dob')")
    values = {1: tok("k1/name_dob/p1"), 2: tok("k1/pnc/x1"), 3: tok("k1/edit_dob/p1")}
    db.execute("INSERT INTO records (id, area, handle, key_id, kinds, packed, updated_ms)"
               " VALUES (7, 'a', 'handleA0001', 'k1', '[\"edit_dob\", \"name_dob\", \"pnc\"]', ?, 0)",
               [pack(list(values.items()))])
    db.conn.executemany("INSERT INTO tokens_staged (key, record_id, kind) VALUES (?, 7, ?)",
                        [(key_of(v), kid) for kid, v in values.items()])
    db.conn.close()
    engine = Engine(MatcherStore(tmp_path / "old.db"))
    cols = [r[1] for r in engine.store.db.execute("PRAGMA table_info(tokens_staged)")]
    assert cols == ["key", "record_id"]
    assert sorted(k for (k,) in engine.store.db.execute("SELECT key FROM tokens_staged")) == \
        sorted(key_of(values[k]) for k in (1, 2))
    _publish(engine, "b", record("handleB0001", name_dob="p1", pnc="x1"))
    assert _alerts(engine, "b") == [("ALERT_TYPE_NEW", "high")]
    engine.withdraw("a", "handleA0001", "closed")
    assert _tables(engine) == (0, 2)  # only b's two rows remain


def test_migration_005_converts_stored_records_and_keeps_them_unchanged(tmp_path):
    from fedalert.matcher import store
    from fedalert.matcher._tokens import pack_v1, read_runs, unpack
    from fedalert.migrations import migrate, open_db
    from tests.helpers import tok

    # A store as main had it after 004: one 18-byte entry per token, a kinds column.
    db = open_db(tmp_path / "old.db")
    migrate(db, store.MIGRATIONS[:4])
    db.execute("INSERT INTO kinds (id, name) VALUES (1, 'pnc'), (2, 'name_dob'), (3, 'email')")
    pairs = [(1, tok("k1/pnc/x1")), (2, tok("k1/name_dob/p1")), (2, tok("k1/name_dob/p2")), (3, tok("k1/email/e"))]
    db.execute("INSERT INTO records (id, area, handle, key_id, kinds, packed, updated_ms)"
               " VALUES (7, 'a', 'handleA0001', 'k1', '[\"email\", \"name_dob\", \"pnc\"]', ?, 0)",
               [pack_v1(pairs)])
    db.conn.close()
    engine = Engine(MatcherStore(tmp_path / "old.db"))
    assert "kinds" not in [r[1] for r in engine.store.db.execute("PRAGMA table_info(records)")]
    (packed,) = engine.store.db.execute("SELECT packed FROM records").fetchone()
    assert unpack(packed) == set(pairs)
    assert read_runs(packed)[0] == [(3, 1), (2, 2), (1, 1)]  # kind-name order, as nodes send kinds
    # The node republishing the same record after the upgrade changes nothing.
    res = _publish(engine, "a", _same(pairs))
    assert res.changed == 0


def _same(pairs):
    from tests.helpers import add_group

    rec = pb.RecordTokens(handle="handleA0001", key_id="k1")
    names = {1: "pnc", 2: "name_dob", 3: "email"}
    for kid in sorted(names, key=names.get):
        add_group(rec, names[kid], sorted(v for k, v in pairs if k == kid))
    return rec


def test_candidate_lookup_probes_the_index_once_per_batch_row(tmp_path):
    # The plan, not a timing: the batch is the outer loop, the index is searched by key,
    # and `records` is read only for hits. A scan of an index table would cost the whole
    # index on every publish.
    from fedalert.matcher._index import _TABLES, FOUND_SQL

    engine = _engine(tmp_path, staged_max=100)
    for table in _TABLES:
        plan = [row[3] for row in engine.store.db.execute("EXPLAIN QUERY PLAN " + FOUND_SQL.format(table=table), ["a"])]
        assert plan[0] == "SCAN b"
        assert plan[1].startswith("SEARCH t USING PRIMARY KEY (key=?)")
        assert not any(step.startswith("SCAN") for step in plan[1:])


def test_two_engines_on_one_store_share_kinds(tmp_path):
    # The running matcher and a lifecycle command each open an Engine on the same file.
    # Kinds one of them adds are read by the other when it meets them, not refused.
    first = _engine(tmp_path, staged_max=100)
    second = Engine(MatcherStore(tmp_path / "matcher.db"))
    _publish(second, "a", record("handleA0001", name_dob="p1", pnc="x1"))
    _publish(first, "b", record("handleB0001", name_dob="p1", pnc="x1"))  # kinds new to `first`
    assert _alerts(first, "b") == [("ALERT_TYPE_NEW", "high")]
    m = first.store.db.execute("SELECT kinds FROM matches").fetchone()[0]
    assert m == '["name_dob", "pnc"]'


def test_new_kind_names_are_refused_past_the_limit(tmp_path, monkeypatch):
    from fedalert.matcher import _sql_records
    from fedalert.matcher.errors import InvalidRequestError
    import pytest

    monkeypatch.setattr(_sql_records, "MAX_KINDS", 3)
    engine = _engine(tmp_path, staged_max=100)
    _publish(engine, "a", record("handleA0001", name_dob="p1", pnc="x1", ni="n1"))  # 3 kinds: at the limit
    with pytest.raises(InvalidRequestError, match="already knows 3 key kinds"):
        _publish(engine, "a", record("handleA0002", name_dob="p2", email="e2"), batch="b2")
    # Nothing of the refused batch is stored; known kinds still publish.
    assert [h for (h,) in engine.store.db.execute("SELECT handle FROM records")] == ["handleA0001"]
    _publish(engine, "b", record("handleB0001", name_dob="p1", pnc="x1"), batch="b3")
    assert _alerts(engine, "b") == [("ALERT_TYPE_NEW", "high")]
