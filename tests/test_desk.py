"""The console's service methods without a browser: inbox filters, withdrawn matches, triage, evidence.

Real SQLite file and audit log; alerts stored as the alert watcher stores
them. Every person and value here is invented.
"""

from __future__ import annotations

import datetime as dt

import pytest

from fedalert import audit as audit_mod
from fedalert.node.disclosure import DisclosureError, DisclosureService, ServiceConfig, totp_code
from fedalert.node.disclosure.evidence import evidence
from fedalert.node.store import NodeStore

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)


def _alert(store, n, match_id, *, other, tier, kinds, score, type_="new", at_ms=1_780_000_000_000):
    store.save_alert({"alert_id": f"al-{n}", "cursor": n, "match_id": match_id, "type": type_, "handle": f"h{n}",
                      "other_area": other, "tier": tier, "kinds": kinds, "score": score, "created_ms": at_ms + n})


@pytest.fixture
def desk(tmp_path, fed_keys):
    ticks = iter(range(1_780_000_000, 1_780_000_100))
    store = NodeStore(tmp_path / "a.db", clock=lambda: float(next(ticks)))  # each alert arrives a second later
    _alert(store, 1, "m-one", other="b", tier="high", kinds=["name_dob", "surname_dob", "forename_dob"], score=31.0)
    _alert(store, 2, "m-two", other="c", tier="medium", kinds=["surname_dob", "forename_dob"], score=24.0)
    _alert(store, 3, "m-two", other="c", tier="medium", kinds=["surname_dob"], score=0.0, type_="withdrawn")
    store.close()
    svc = DisclosureService(ServiceConfig(db=tmp_path / "a.db", keys_dir=fed_keys / "areas" / "a"),
                            clock=lambda: T0)
    admin = svc.add_user(None, "admin-a", ["admin"], "admin password one")
    actor = svc.login("admin-a", "admin password one", totp_code(admin.totp_secret, T0))[1]
    coord = svc.add_user(actor, "coord-a1", ["coordinator"], "coord password one")
    me = svc.login("coord-a1", "coord password one", totp_code(coord.totp_secret, T0))[1]
    yield svc, me, tmp_path / "a.audit.jsonl"
    svc.close()


def test_inbox_filters_and_keeps_a_withdrawn_match_with_its_reason(desk):
    svc, me, _ = desk
    box = svc.inbox(me)
    assert [r.match_id for r in box.rows] == ["m-two", "m-one"]  # newest first
    assert box.areas == ["b", "c"]
    two = box.rows[0]
    # Until alerts carry the matcher's reason, the page says what it can (docs/ARCHITECTURE.md, "Evidence").
    assert two.withdrawn and "do not yet say why" in two.withdrawn_reason and "rescored" in two.withdrawn_reason
    assert [r.match_id for r in svc.inbox(me, tier="high").rows] == ["m-one"]
    assert [r.match_id for r in svc.inbox(me, area="c").rows] == ["m-two"]
    assert svc.inbox(me, state="under_review").rows == []


def test_triage_is_checked_and_audited(desk):
    svc, me, audit = desk
    with pytest.raises(DisclosureError, match="choose a state"):
        svc.triage(me, "m-one", state="closed", note="done here", assignee="")
    with pytest.raises(DisclosureError, match="note"):
        svc.triage(me, "m-one", state="under_review", note="", assignee="")
    with pytest.raises(DisclosureError, match="user id"):
        svc.triage(me, "m-one", state="under_review", note="checking", assignee="Jane Doe")
    svc.triage(me, "m-one", state="referred_to_marac", note="<b>next MARAC</b>", assignee="coord-a1")
    row = svc.inbox(me, state="referred_to_marac").rows[0]
    assert (row.match_id, row.assignee, row.note, row.updated_by) == ("m-one", "coord-a1", "<b>next MARAC</b>",
                                                                       "coord-a1")
    entries = [e["fields"] for e in audit_mod.read_entries(audit) if e["event"] == "alert.triaged"]
    assert entries == [{"match_id": "m-one", "state": "referred_to_marac", "assignee": "coord-a1",
                        "user": "coord-a1"}]  # ids and the state; the note stays in the database


def test_evidence_steps_add_up_to_the_score():
    ev = evidence(["name_dob", "surname_dob", "forename_dob"], 31.0)
    assert [s.label for s in ev.steps] == ["Forename", "Surname", "Date of birth"]
    assert all(s.level == "same" and s.weight > 0 for s in ev.steps)
    assert abs(sum(s.weight for s in ev.steps) + ev.unseen - ev.score) < 0.01
    assert ev.words == "forename same, surname same, date of birth same"
    pnc = evidence(["pnc"], 40.0)
    assert [s.label for s in pnc.steps] == ["PNC id"] and pnc.steps[0].weight > 10


def test_node_console_serves_https_with_the_operators_certificate_and_refuses_a_loose_key(tmp_path, fed_keys):
    import ssl
    import subprocess
    import sys
    import urllib.request

    from fedalert.keys.ceremony import issue_console_cert
    from fedalert.procs import start

    cert, key = issue_console_cert(fed_keys, "a", tmp_path / "console")
    args = ["node", "console", "--db", str(tmp_path / "a.db"), "--keys", str(fed_keys / "areas" / "a"),
            "--cert", str(cert), "--key", str(key), "--listen", "127.0.0.1:0"]
    proc = start("console-a", args, tmp_path / "console.port", tmp_path / "console.log")
    try:
        ctx = ssl.create_default_context(cafile=str(fed_keys / "areas" / "a" / "ca.crt"))
        with urllib.request.urlopen(f"https://127.0.0.1:{proc.port}/login", context=ctx, timeout=10) as resp:
            body = resp.read().decode()
            assert resp.status == 200 and "Log in to area a" in body
            assert "default-src 'none'" in resp.headers["content-security-policy"]
            assert resp.headers["strict-transport-security"]
    finally:
        proc.stop()
    key.chmod(0o644)
    res = subprocess.run([sys.executable, "-m", "fedalert", *args, "--port-file", str(tmp_path / "p2")],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode != 0 and "console.key" in res.stderr and "Traceback" not in res.stderr
