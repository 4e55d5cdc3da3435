"""Every explicit input limit, tested at the limit and one past it.

docs/THREAT_MODEL.md ("Input limits") lists these limits with the test that
shows each; keep the two in step.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import grpc
import pytest

from fedalert import audit as audit_mod
from fedalert import transport
from fedalert.matcher import _tokens, queues, service, streams
from fedalert.node import importer, inbox, publisher
from fedalert.node.errors import ImportRejectedError
from fedalert.v1 import matcher_pb2 as pb
from tests.dbsnap import db_snapshot
from tests.helpers import add_group, publish, record, tok

ROOT = Path(__file__).resolve().parents[1]


def _refused(fn, req, code=grpc.StatusCode.INVALID_ARGUMENT) -> str:
    with pytest.raises(grpc.RpcError) as err:
        fn(req, timeout=30)
    assert err.value.code() == code, err.value.details()
    return err.value.details()


# ---------------------------------------------------------------- matcher API

def test_limit_batch_records(matcher):
    a = matcher.stub("a")
    n = _tokens.MAX_BATCH_RECORDS
    recs = [record(f"handle{i:06d}", pnc=f"x{i}") for i in range(n + 1)]
    before = db_snapshot(matcher.db)
    msg = _refused(a.Publish, pb.PublishRequest(batch_id="big", records=recs))
    assert f"at most {n} records" in msg
    assert db_snapshot(matcher.db) == before
    assert publish(a, *recs[:n]).records_accepted == n


def test_limit_tokens_per_record(matcher):
    a = matcher.stub("a")
    n = _tokens.MAX_TOKENS_PER_RECORD
    values = [tok(str(i)) for i in range(n + 1)]
    rec = add_group(pb.RecordTokens(handle="handleA0001", key_id="k1"), "pnc", values)
    assert f"at most {n} tokens" in _refused(a.Publish, pb.PublishRequest(batch_id="t", records=[rec]))
    rec = add_group(pb.RecordTokens(handle="handleA0001", key_id="k1"), "pnc", values[:n])
    assert publish(a, rec).tokens_accepted == n


def test_limit_kinds_per_record(matcher):
    a = matcher.stub("a")
    n = _tokens.MAX_KINDS_PER_RECORD

    def rec(kinds):
        r = pb.RecordTokens(handle="handleA0001", key_id="k1")
        for i in range(kinds):
            add_group(r, f"kind{i}", [tok(f"v{i}")])
        return r

    assert f"at most {n} key kinds" in _refused(a.Publish, pb.PublishRequest(batch_id="k", records=[rec(n + 1)]))
    assert publish(a, rec(n)).tokens_accepted == n


def test_limit_counts_that_overflow(matcher):
    """A count near 2**32 cannot slip past the token limit or the length check."""
    a = matcher.stub("a")
    r = pb.RecordTokens(handle="handleA0001", key_id="k1", kinds=["pnc", "phone"], counts=[2**32 - 1, 1],
                        values=tok("v"))
    assert "at most" in _refused(a.Publish, pb.PublishRequest(batch_id="o", records=[r]))


@pytest.mark.parametrize("field, good, bad, words", [
    ("handle", "h" * 64, "h" * 65, "handle"),
    ("handle", "h" * 8, "h" * 7, "handle"),
    ("key_id", "k" * 32, "k" * 33, "key_id"),
    ("kind", "k" * 32, "k" * 33, "key kind"),
])
def test_limit_record_fields(matcher, field, good, bad, words):
    a = matcher.stub("a")

    def rec(value):
        r = pb.RecordTokens(handle="handleA0001", key_id="k1")
        kind = "pnc"
        if field == "kind":
            kind = value
        else:
            setattr(r, field, value)
        return add_group(r, kind, [tok("v")])

    assert words in _refused(a.Publish, pb.PublishRequest(batch_id="f", records=[rec(bad)]))
    assert publish(a, rec(good)).records_accepted == 1


def test_limit_token_value_bytes(matcher):
    a = matcher.stub("a")
    rec = add_group(pb.RecordTokens(handle="handleA0001", key_id="k1"), "pnc", [b"x" * (_tokens.TOKEN_BYTES + 1)])
    assert "16 bytes" in _refused(a.Publish, pb.PublishRequest(batch_id="v", records=[rec]))
    # Whole tokens, but not as many as the counts say:
    rec = pb.RecordTokens(handle="handleA0001", key_id="k1", kinds=["pnc"], counts=[2], values=tok("v"))
    assert "add up to" in _refused(a.Publish, pb.PublishRequest(batch_id="v", records=[rec]))


@pytest.mark.parametrize("batch_id, ok", [("b" * 64, True), ("b" * 65, False), ("", False),
                                          ("batch\x00id", False), ("=cmd()", False), ("2026-11-25:node.a_1", True)])
def test_limit_batch_id(matcher, batch_id, ok):
    a = matcher.stub("a")
    req = pb.PublishRequest(batch_id=batch_id, records=[record("handleA0001", pnc="x1")])
    if ok:
        assert a.Publish(req, timeout=10).records_accepted == 1
    else:
        assert "batch_id" in _refused(a.Publish, req)


@pytest.mark.parametrize("reason, ok", [("closed", True), ("not in export", True), ("r" * 64, True),
                                        ("r" * 65, False), ("Ann Example, DOB 01/02/1990", False), ("x\ny", False)])
def test_limit_withdraw_reason(matcher, reason, ok):
    a = matcher.stub("a")
    req = pb.WithdrawRequest(handle="handleA0001", reason=reason)
    if ok:
        a.Withdraw(req, timeout=10)
    else:
        assert "reason" in _refused(a.Withdraw, req)


def test_limit_stream_cursor(matcher):
    call = matcher.stub("a").WatchEnvelopes(pb.WatchEnvelopesRequest(after_cursor=service.MAX_CURSOR + 1), timeout=10)
    with pytest.raises(grpc.RpcError) as err:
        list(call)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_limit_message_bytes(matcher):
    a = matcher.stub("a")
    rec = add_group(pb.RecordTokens(handle="handleA0001", key_id="k1"), "pnc", [b"x" * (transport.MAX_MESSAGE_BYTES + 1)])
    _refused(a.Publish, pb.PublishRequest(batch_id="m", records=[rec]), grpc.StatusCode.RESOURCE_EXHAUSTED)


def _a_match(matcher) -> str:
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    return matcher.app.engine.store.db.execute("SELECT match_id FROM matches").fetchone()[0]


def test_limit_envelope_fields(matcher):
    a = matcher.stub("a")
    mid = _a_match(matcher)

    def env(**kw):
        base = dict(envelope_id="e1", match_id=mid, to_area="b", kind="request", sealed=b"s")
        base.update(kw)
        return pb.SendEnvelopeRequest(**base)

    before = db_snapshot(matcher.db)
    assert "sealed payload" in _refused(a.SendEnvelope, env(sealed=b"s" * (queues.MAX_ENVELOPE_BYTES + 1)))
    assert "sealed payload" in _refused(a.SendEnvelope, env(sealed=b""))
    assert "envelope_id" in _refused(a.SendEnvelope, env(envelope_id="e" * 65))
    assert "envelope kind" in _refused(a.SendEnvelope, env(kind="gossip"))
    assert db_snapshot(matcher.db) == before
    assert a.SendEnvelope(env(envelope_id="e" * 64, sealed=b"s" * queues.MAX_ENVELOPE_BYTES),
                          timeout=30).duplicate is False


def test_limit_streams_configuration():
    # One per area and kind, a server cap, a lifetime shorter than the node's deadline,
    # and threads for unary calls kept free (behaviour: tests/test_streams.py).
    reg = streams.StreamRegistry()
    assert reg.per_area == 1 and reg.max_streams == streams.DEFAULT_MAX_STREAMS
    assert streams.DEFAULT_MAX_LIFETIME_S < inbox.STREAM_DEADLINE_S
    assert streams.UNARY_RESERVE >= 4


# ---------------------------------------------------------------- client deadlines

RPC_NAMES = {"Publish", "Withdraw", "WatchAlerts", "AckAlert", "CountAlerts", "SendEnvelope", "WatchEnvelopes",
             "AckEnvelope"}


def test_every_client_rpc_call_has_a_timeout():
    """Every call of a matcher RPC in library code passes timeout= (no call can hang forever)."""
    missing, calls = [], 0
    for folder in ("node", "fedalert", "matcher", "keys"):
        for path in (ROOT / folder).rglob("*.py"):
            if "v1" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                    if name in RPC_NAMES or (name == "fn" and path.name == "publisher.py"):
                        calls += 1
                        if not any(k.arg == "timeout" for k in node.keywords):
                            missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert calls >= 4
    assert missing == []
    assert publisher.RPC_TIMEOUT_S <= 120 and inbox.ACK_TIMEOUT_S <= 30 and inbox.STREAM_DEADLINE_S <= 600


# ---------------------------------------------------------------- importer

CSV_HEAD = "record_id,forename,surname,aliases\n"


def test_limit_field_chars():
    n = importer.MAX_FIELD_CHARS
    ok = importer.parse_csv((CSV_HEAD + f"r1,{'A' * n},Example,\n").encode())
    assert ok.rows and not ok.errors and not ok.warnings
    long = importer.parse_csv((CSV_HEAD + f"r1,Ann,Example,{'A' * (n + 1)} Example\n").encode())
    assert long.rows and [(w.row, w.field, w.action) for w in long.warnings] == [(2, "aliases", "value blanked")]
    assert f"longer than {n}" in long.warnings[0].reason
    bad = importer.parse_csv((CSV_HEAD + f"r1,{'A' * (n + 1)},Example,\n").encode())  # blanked: nobody left
    assert [(e.row, e.field) for e in bad.errors] == [(2, "(row)"), (2, "forename")]


def test_limit_csv_field_beyond_the_csv_module_limit():
    bad = importer.parse_csv((CSV_HEAD + f"r1,{'A' * 200_000},Example,\n").encode())
    assert bad.errors and bad.errors[0].field == "(file)" and "CSV syntax error" in bad.errors[0].reason


def test_limit_aliases():
    n = importer.MAX_ALIASES
    aliases = ";".join(f"Al{chr(97 + i % 26)} Example" for i in range(n))
    ok = importer.parse_csv((CSV_HEAD + f"r1,Ann,Example,{aliases}\n").encode())
    assert len(ok.rows[0].identity.names) == n + 1 and not ok.warnings
    more = importer.parse_csv((CSV_HEAD + f"r1,Ann,Example,{aliases};Extra Example\n").encode())
    assert len(more.rows[0].identity.names) == n + 1  # the first n kept, the row imported
    assert [w.field for w in more.warnings] == ["aliases"] and f"at most {n}" in more.warnings[0].reason


def test_limit_record_id():
    ok = importer.parse_csv((CSV_HEAD + f"{'r' * 64},Ann,Example,\n").encode())
    bad = importer.parse_csv((CSV_HEAD + f"{'r' * 65},Ann,Example,\n").encode())
    assert ok.rows and [e.field for e in bad.errors] == ["record_id"]


def test_limit_rows(monkeypatch):
    # The real limit is 2,000,000 rows; lowered here so the check runs in a test.
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    rows = "".join(f"r{i},Ann,Example,\n" for i in range(5))
    bad = importer.parse_csv((CSV_HEAD + rows).encode())
    assert any("more than 3 rows" in e.reason for e in bad.errors)


def test_limit_file_bytes(tmp_path):
    from fedalert.node.store import NodeStore

    big = tmp_path / "huge.csv"
    with open(big, "wb") as fh:  # sparse: no disk space used
        fh.write(CSV_HEAD.encode())
        fh.truncate(importer.MAX_FILE_BYTES + 1)
    store = NodeStore(tmp_path / "node.db")
    before = db_snapshot(tmp_path / "node.db")
    with pytest.raises(ImportRejectedError) as err:
        importer.import_file(store, big)
    assert "over the limit" in str(err.value)
    assert db_snapshot(tmp_path / "node.db") == before
    store.close()
    os.unlink(big)


# ---------------------------------------------------------------- audit log

def test_limit_audit_field_text_and_lists(tmp_path):
    log = audit_mod.AuditLog(tmp_path / "a.jsonl")
    log.append("x.ok", note="n" * audit_mod.MAX_STR, ids=["i"] * 200)
    with pytest.raises(audit_mod.AuditFieldError):
        log.append("x.bad", note="n" * (audit_mod.MAX_STR + 1))
    with pytest.raises(audit_mod.AuditFieldError):
        log.append("x.bad", ids=["i"] * 201)
    assert len(audit_mod.read_entries(log.path)) == 2  # genesis + the one good entry
