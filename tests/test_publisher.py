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


class _FailsOnCall:
    """A token source that fails at its n-th call (test double for a key service that goes down mid-publish)."""

    def __init__(self, keyset, fail_at: int):
        self.keyset, self.fail_at, self.calls = keyset, fail_at, 0
        self.primary_id = keyset.primary_id

    def mac_many(self, key_id, messages, length):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("token source down")
        return self.keyset.mac_many(key_id, messages, length)


def test_a_batch_in_flight_is_kept_when_tokenising_the_next_one_fails(matcher, fed_keys, tmp_path):
    import pytest

    keyset = TokenKeyset.load(fed_keys / "areas" / "a" / "tokens.keyset.json")
    store = NodeStore(tmp_path / "a.db")
    import_records(store, parse_csv(_csv("F", 8)), file_name="f.csv")
    with pytest.raises(RuntimeError):
        publish_pending(store, matcher.stub("a"), _FailsOnCall(keyset, 2), batch_records=4)
    # The first batch reached the matcher and is marked published: it is not sent again under a new id.
    assert store.pending_count() == 4
    publish_pending(store, matcher.stub("a"), keyset, batch_records=4)
    db = matcher.app.engine.store.db
    assert db.execute("SELECT sum(records) FROM batches WHERE area='a'").fetchone()[0] == 8
    store.close()
