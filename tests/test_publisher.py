"""The pipelined publisher against a real matcher over mTLS: many small batches, withdrawals mixed in."""

from __future__ import annotations

from fedalert.keys import TokenKeyset
from fedalert.node.importer import import_records, parse_csv
from fedalert.node.publisher import publish_pending
from fedalert.node.store import NodeStore


def _csv(prefix: str, n: int, offset: int = 0) -> bytes:
    rows = ["record_id,forename,surname,date_of_birth"]
    for i in range(offset, offset + n):
        rows.append(f"{prefix}{i},Zorvan{chr(97 + i % 26)}{chr(97 + i // 26 % 26)},Quellbrook,0{1 + i % 9}/0{1 + i % 9}/1980")
    return ("\n".join(rows) + "\n").encode()


def test_every_record_is_published_once_across_batches(matcher, fed_keys, tmp_path):
    keyset = TokenKeyset.load(fed_keys / "areas" / "a" / "tokens.keyset.json")
    store = NodeStore(tmp_path / "a.db")
    import_records(store, parse_csv(_csv("A", 23)), file_name="a.csv")
    with store.transaction():
        store.withdraw_record("A3", "closed")
        store.withdraw_record("A17", "closed")
    stats = publish_pending(store, matcher.stub("a"), keyset, batch_records=4)
    assert stats.records == 21 and stats.withdrawn == 2
    assert stats.batches == 6  # 21 active records in batches of at most 4 (withdrawals take no batch)
    assert store.pending_count() == 0
    db = matcher.app.engine.store.db
    assert db.execute("SELECT count(*) FROM records WHERE area='a'").fetchone()[0] == 21
    assert db.execute("SELECT count(*) FROM batches WHERE area='a'").fetchone()[0] == 6
    # A change made afterwards is the only thing sent next time.
    import_records(store, parse_csv(_csv("A", 1, offset=40)), file_name="more.csv")
    again = publish_pending(store, matcher.stub("a"), keyset, batch_records=4)
    assert (again.records, again.withdrawn, store.pending_count()) == (1, 0, 0)
    store.close()
