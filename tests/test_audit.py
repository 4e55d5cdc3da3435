"""Audit log: chain, tamper detection of each kind, restart, concurrency, export, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fedalert import audit
from fedalert.audit import AuditFieldError, AuditLog, AuditLogDamaged, verify


def _fixed_clock():
    t = [dt.datetime(2026, 11, 25, 22, 0, tzinfo=dt.timezone.utc)]

    def clock():
        t[0] += dt.timedelta(seconds=1)
        return t[0]

    return clock


@pytest.fixture
def log(tmp_path):
    lg = AuditLog(tmp_path / "audit.jsonl", clock=_fixed_clock())
    for i in range(5):
        lg.append("disclosure.request", request_id=f"req-{i}", fields_wanted=["risk_level", "marac_dates"], n=i)
    return lg


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def test_fresh_log_verifies_with_genesis_binding_a_log_id(log):
    rep = verify(log.path)
    assert rep.ok, rep.problems
    assert rep.entries == 6  # genesis + 5
    entries = [json.loads(x) for x in _lines(log.path)]
    assert entries[0]["event"] == "audit.genesis" and entries[0]["seq"] == 0
    assert entries[0]["prev"] == "0" * 64
    assert rep.log_id == entries[0]["fields"]["log_id"] and len(rep.log_id) == 32
    assert [e["seq"] for e in entries] == list(range(6))
    for a, b in zip(entries, entries[1:]):
        assert b["prev"] == a["hash"]
    assert rep.head == entries[-1]["hash"] and rep.head_seq == 5


def test_append_returns_the_entry_hash_and_file_is_private(tmp_path):
    lg = AuditLog(tmp_path / "a.jsonl")
    h = lg.append("node.start", area="area-a")
    last = json.loads(_lines(lg.path)[-1])
    assert last["hash"] == h == audit.entry_hash(last)
    assert last["fields"] == {"area": "area-a"}
    assert (lg.path.stat().st_mode & 0o077) == 0


def test_restart_resumes_the_chain(log):
    again = AuditLog(log.path, clock=_fixed_clock())
    again.append("node.restart", reason="upgrade")
    rep = verify(log.path)
    assert rep.ok, rep.problems
    assert rep.entries == 7
    assert json.loads(_lines(log.path)[-1])["seq"] == 6
    assert rep.log_id == json.loads(_lines(log.path)[0])["fields"]["log_id"]


def test_edit_is_detected_naming_line_and_seq(log):
    lines = _lines(log.path)
    e = json.loads(lines[3])
    e["fields"]["request_id"] = "req-forged"
    lines[3] = json.dumps(e) + "\n"
    _write(log.path, lines)
    rep = verify(log.path)
    assert not rep.ok
    assert any("line 4 (seq 3)" in p and "edited" in p for p in rep.problems), rep.problems
    assert len(rep.problems) == 1  # resynchronised: one change, one report


def test_edit_with_recomputed_hash_breaks_the_next_link(log):
    lines = _lines(log.path)
    e = json.loads(lines[2])
    e["fields"]["n"] = 99
    e["hash"] = audit.entry_hash(e)
    lines[2] = json.dumps(e) + "\n"
    _write(log.path, lines)
    rep = verify(log.path)
    assert not rep.ok
    assert any("seq 3" in p and "prev does not match" in p for p in rep.problems), rep.problems


def test_deletion_is_detected(log):
    lines = _lines(log.path)
    del lines[2]
    _write(log.path, lines)
    rep = verify(log.path)
    assert not rep.ok
    assert any("seq 3 where 2 was expected" in p and "deleted" in p for p in rep.problems), rep.problems


def test_deleting_the_genesis_entry_is_detected(log):
    lines = _lines(log.path)
    _write(log.path, lines[1:])
    rep = verify(log.path)
    assert not rep.ok
    assert any("not the genesis entry" in p for p in rep.problems)


def test_insertion_is_detected(log):
    lines = _lines(log.path)
    forged = json.loads(lines[2])
    forged["fields"]["request_id"] = "req-inserted"
    forged["seq"] = 3
    forged["prev"] = json.loads(lines[2])["hash"]
    forged["hash"] = audit.entry_hash(forged)
    lines.insert(3, json.dumps(forged) + "\n")
    _write(log.path, lines)
    rep = verify(log.path)
    assert not rep.ok
    # the inserted entry is consistent on its own; its successor no longer is
    assert any("line 5 (seq 3)" in p for p in rep.problems), rep.problems


def test_duplicate_line_is_detected(log):
    lines = _lines(log.path)
    lines.insert(3, lines[2])
    _write(log.path, lines)
    assert not verify(log.path).ok


def test_reordering_is_detected(log):
    lines = _lines(log.path)
    lines[2], lines[3] = lines[3], lines[2]
    _write(log.path, lines)
    rep = verify(log.path)
    assert not rep.ok
    assert any("reordered" in p for p in rep.problems), rep.problems


def test_splicing_another_log_is_detected(log, tmp_path):
    other = AuditLog(tmp_path / "other.jsonl")
    other.append("x.y", a=1)
    _write(log.path, _lines(log.path) + _lines(other.path))
    rep = verify(log.path)
    assert not rep.ok
    assert any("second genesis" in p for p in rep.problems)


def test_truncation_is_detected_against_a_recorded_head(log):
    head = verify(log.path).head
    lines = _lines(log.path)
    _write(log.path, lines[:-2])
    assert verify(log.path).ok  # a chain alone cannot see a cut tail ...
    rep = verify(log.path, expect_head=head)  # ... a head recorded elsewhere can
    assert not rep.ok and any("truncated" in p for p in rep.problems)


def test_wrong_log_id_is_reported(log):
    rep = verify(log.path, expect_log_id="f" * 32)
    assert not rep.ok and any("different log" in p for p in rep.problems)


def test_torn_last_line_is_reported_and_blocks_append(log):
    with open(log.path, "ab") as f:
        f.write(b'{"seq": 6, "ts": "2026-11-2')
    before = log.path.read_bytes()
    rep = verify(log.path)
    assert not rep.ok
    assert any("line 7" in p and "torn" in p for p in rep.problems), rep.problems
    with pytest.raises(AuditLogDamaged) as exc:
        AuditLog(log.path).append("x.y", a=1)
    assert "verify" in str(exc.value)
    assert log.path.read_bytes() == before  # not silently repaired


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"surname": "Testperson"}, "record handle"),
        ({"dob": "1980-01-01"}, "record handle"),
        ({"key": "abc"}, "secret"),
        ({"blob": b"\x00\x01"}, "type bytes"),
        ({"details": {"a": 1}}, "type dict"),
        ({"note": "x" * 300}, "free text"),
        ({"k1": "-----BEGIN PRIVATE KEY-----"}, "key material"),
        ({"BadName": 1}, "lower_snake_case"),
        ({"ratio": float("nan")}, "finite"),
        ({"ids": ["a", {"b": 1}]}, "type dict"),
    ],
)
def test_field_guard_refuses_unsafe_values(tmp_path, fields, fragment):
    lg = AuditLog(tmp_path / "g.jsonl")
    with pytest.raises(AuditFieldError) as exc:
        lg.append("x.y", **fields)
    assert fragment in str(exc.value)
    assert not lg.path.exists()  # nothing half-written


def test_bad_event_names_are_refused(tmp_path):
    lg = AuditLog(tmp_path / "g.jsonl")
    for bad in ("", "Bad Event", "audit.genesis", "x;y"):
        with pytest.raises(AuditFieldError):
            lg.append(bad)


def test_concurrent_appends_from_threads_keep_one_chain(tmp_path):
    lg = AuditLog(tmp_path / "c.jsonl")
    second = AuditLog(tmp_path / "c.jsonl")  # another handle on the same file

    def work(handle, t):
        for i in range(40):
            handle.append("load.test", thread=t, i=i)

    threads = [threading.Thread(target=work, args=(lg if t % 2 else second, t)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    rep = verify(lg.path)
    assert rep.ok, rep.problems[:5]
    assert rep.entries == 1 + 6 * 40
    got = {(e["fields"]["thread"], e["fields"]["i"]) for e in audit.read_entries(lg.path)[1:]}
    assert len(got) == 240


def test_concurrent_appends_from_processes_keep_one_chain(tmp_path):
    path = tmp_path / "p.jsonl"
    code = (
        "import sys; from fedalert.audit import AuditLog; lg = AuditLog(sys.argv[1]);"
        "[lg.append('load.proc', proc=int(sys.argv[2]), i=i) for i in range(30)]"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(n)]) for n in range(3)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    rep = verify(path)
    assert rep.ok, rep.problems[:5]
    assert rep.entries == 1 + 90
    assert sum(1 for e in audit.read_entries(path) if e["event"] == "audit.genesis") == 1


def test_export_csv_has_a_column_per_field_and_neutralises_formulas(tmp_path):
    lg = AuditLog(tmp_path / "e.jsonl")
    lg.append("note.add", ref='=HYPERLINK("http://x")', other="+1", c="-2", d="@SUM(A1)", e="\tx", f="\rx")
    lg.append("note.add", ref="plain", ids=["a", "b"])
    out = tmp_path / "e.csv"
    rep = audit.export(lg.path, out, fmt="csv")
    assert rep.ok
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    header = rows[0]
    assert header[:3] == ["seq", "time_utc", "event"] and header[-1] == "hash"
    assert {"ref", "other", "c", "d", "e", "f", "ids", "log_id", "format"} <= set(header)
    assert len(rows) == 4  # header, genesis, two entries
    row = dict(zip(header, rows[2]))
    assert row["ref"] == '\'=HYPERLINK("http://x")'
    assert row["other"] == "'+1" and row["c"] == "'-2" and row["d"] == "'@SUM(A1)"
    assert row["e"] == "'\tx" and row["f"] == "'\rx"
    assert dict(zip(header, rows[3]))["ids"] == "a, b"
    for r in rows[1:]:
        for cell in r:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert audit.neutralise_cell("ok") == "ok"


def test_export_md_states_failure_and_escapes_pipes(log, tmp_path):
    log.append("note.add", ref="a|b")
    lines = _lines(log.path)
    del lines[2]
    _write(log.path, lines)
    out = tmp_path / "e.md"
    rep = audit.export(log.path, out, fmt="md")
    assert not rep.ok
    text = out.read_text(encoding="utf-8")
    assert "**FAILED**" in text and "deleted" in text
    assert "a\\|b" in text
    table = [ln for ln in text.splitlines() if ln.startswith("| ") and "seq" not in ln]
    assert all(ln.count("|") - ln.count("\\|") == 6 for ln in table)


def _run_cli(*argv):
    driver = (
        "import argparse, sys; from fedalert import audit_cli;"
        "p = argparse.ArgumentParser(prog='fedalert'); s = p.add_subparsers(dest='role', required=True);"
        "audit_cli.register(s); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    )
    return subprocess.run([sys.executable, "-c", driver, *argv], capture_output=True, text=True, timeout=60)


def test_cli_verify_ok_then_tampered(log):
    r = _run_cli("audit", "verify", str(log.path))
    assert r.returncode == 0, r.stderr
    assert "OK, 6 entries" in r.stdout
    lines = _lines(log.path)
    lines[1], lines[2] = lines[2], lines[1]
    _write(log.path, lines)
    r = _run_cli("audit", "verify", str(log.path))
    assert r.returncode == 3
    assert "TAMPERED" in r.stdout and "line 2 (seq 2)" in r.stdout


def test_cli_export(log, tmp_path):
    out = tmp_path / "review.md"
    r = _run_cli("audit", "export", str(log.path), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "**passed**" in out.read_text(encoding="utf-8")
    out2 = tmp_path / "review.csv"
    assert _run_cli("audit", "export", str(log.path), "--out", str(out2)).returncode == 0
    assert out2.read_text(encoding="utf-8").startswith("seq,time_utc,event,")


def test_any_single_byte_change_is_detected(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as hst

    lg = AuditLog(tmp_path / "f.jsonl", clock=_fixed_clock())
    for i in range(4):
        lg.append("fuzz.entry", request_id=f"req-{i}", n=i, ok=bool(i % 2), field_names=["risk_level", "conditions"])
    original = lg.path.read_bytes()
    scratch = tmp_path / "mutated.jsonl"

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(pos=hst.integers(0, len(original) - 1), byte=hst.integers(0, 255))
    def check(pos, byte):
        if original[pos] == byte:
            return
        mutated = original[:pos] + bytes([byte]) + original[pos + 1 :]
        scratch.write_bytes(mutated)
        assert not verify(scratch).ok

    check()
