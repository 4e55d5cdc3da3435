"""The demo as an end-to-end test, and the matcher leak test on its output.

`fedalert demo --json` runs real processes (a matcher and three nodes) on
loopback with fresh keys. The leak test then searches the matcher's database
files and logs for every plaintext identifier of the demo's people.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fedalert.demo_data import CASE_FIELDS, make_demo_data
from fedalert.demo import AREAS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`fedalert demo --keep --json`: wait until it says it keeps running, ask a console for its login
    page over HTTPS (checked against the federation CA), then Ctrl-C (SIGINT) and read the JSON."""
    import signal
    import ssl
    import time
    import urllib.request

    work = tmp_path_factory.mktemp("demo")
    errfile = work.parent / f"{work.name}.stderr"
    with open(errfile, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "fedalert", "demo", "--workdir", str(work), "--json", "--keep"],
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and "press Ctrl-C" not in errfile.read_text():
            assert proc.poll() is None, errfile.read_text()[-3000:]
            time.sleep(0.5)
        said = errfile.read_text()
        url = re.search(r"Coordinator console of area (\w+): (https://127\.0\.0\.1:\d+/)", said)
        assert url, said[-3000:]
        ctx = ssl.create_default_context(cafile=str(work / "keys" / "areas" / url.group(1) / "ca.crt"))
        with urllib.request.urlopen(url.group(2) + "login", context=ctx, timeout=10) as resp:
            served = (resp.status, resp.read().decode())
        assert proc.poll() is None  # still running after everything was shown
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, errfile.read_text()[-3000:]
    return work, json.loads(out), errfile.read_text(), served


def test_demo_json_shape_and_planted_pairs(demo_run):
    _, out, _, _ = demo_run
    assert out["areas"] == AREAS
    assert set(out["alerts"]) == set(AREAS)
    for m in out["matches"]:
        assert set(m) >= {"match_id", "tier", "areas", "key_kinds"}
        assert m["tier"] in ("high", "medium", "low")
        assert len(m["areas"]) == 2 and m["key_kinds"]
        # Both areas were alerted.
        for area in m["areas"]:
            assert m["match_id"] in out["alerts"][area]
    planted = out["planted"]
    kinds = " ".join(p["kind"] for p in planted)
    for needle in ("nickname", "typo", "swapped", "twins"):
        assert needle in kinds
    for p in planted:
        assert p["found"] == p["expect_match"], p
    twins = [p for p in planted if "twins" in p["kind"]]
    assert twins and twins[0]["expect_match"] is False


def test_demo_runs_one_disclosure_with_a_withheld_field(demo_run):
    work, out, _, _ = demo_run
    assert len(out["disclosures"]) == 1
    d = out["disclosures"][0]
    assert set(d) >= {"match_id", "purpose", "status", "fields_released", "fields_withheld"}
    assert d["status"] in ("requested", "approved", "partially_approved", "refused", "released", "expired")
    assert d["purpose"] == "marac" and d["status"] == "released"
    assert d["fields_withheld"] == ["gender_history"]  # no consent or statutory exception was recorded
    assert sorted(d["fields_released"]) == ["conditions", "current_risk_summary", "risk_level"]
    # On a high-tier match that both areas were alerted to.
    m = {x["match_id"]: x for x in out["matches"]}[d["match_id"]]
    assert m["tier"] == "high" and sorted(m["areas"]) == sorted([d["requesting_area"], d["holding_area"]])
    # Both audit logs verify and hold each step.
    from fedalert import audit

    events = {}
    for area in (d["requesting_area"], d["holding_area"]):
        path = work / "state" / f"{area}.audit.jsonl"
        assert audit.verify(path).ok
        events[area] = [e["event"] for e in audit.read_entries(path)]
    assert {"disclosure.request_sent", "disclosure.decision_received", "disclosure.release_received",
            "disclosure.release_viewed"} <= set(events[d["requesting_area"]])
    assert {"disclosure.request_received", "disclosure.decision", "disclosure.released"} <= set(
        events[d["holding_area"]])


def test_demo_workdir_keeps_everything(demo_run):
    work, _, _, _ = demo_run
    for rel in ("keys/ca/ca.crt", "keys/matcher/matcher.crt", "state/matcher.db", "logs/matcher.log",
                *(f"data/{a}.csv" for a in AREAS), *(f"state/{a}.db" for a in AREAS)):
        assert (work / rel).exists(), rel
    assert not (work / "keys" / "matcher" / "tokens.keyset.json").exists()


def _plaintext_needles() -> set[str]:
    """Every identifier of the demo's people, in the casings and date forms a leak could take."""
    data = make_demo_data(AREAS)
    needles: set[str] = set()
    for rows in data.areas.values():
        for r in rows:
            for col in ("forename", "surname", "pnc_id", "email", "phone", "postcode", "address"):
                v = (r.get(col) or "").strip()
                if len(v) >= 4:
                    needles |= {v, v.lower(), v.upper(), v.replace(" ", "")}
            for part in (r.get("aliases") or "").split(";"):
                for word in part.split():
                    if len(word) >= 4:
                        needles |= {word, word.lower(), word.upper()}
            from fedalert.node.normalise import parse_date

            dob = parse_date(r["date_of_birth"])
            needles |= {dob.isoformat(), dob.strftime("%d/%m/%Y"), dob.strftime("%d%m%Y"), dob.strftime("%Y%m%d"),
                        dob.strftime("%d-%b-%Y"), dob.strftime("%d.%m.%Y")}
    return needles


def test_matcher_state_and_logs_contain_no_plaintext(demo_run):
    work, _, _, _ = demo_run
    files = [p for p in (work / "state").glob("matcher*") if p.is_file()] + [work / "logs" / "matcher.log"]
    assert any(p.name == "matcher.db" for p in files)
    blob = b"".join(p.read_bytes() for p in files)
    # Sanity: the search itself works (an area database does hold names).
    area_blob = (work / "state" / f"{AREAS[0]}.db").read_bytes()
    needles = _plaintext_needles()
    assert any(_found(n.encode(), area_blob) for n in needles)
    # Case values (they cross the matcher only sealed, area to area): long, distinctive strings,
    # searched as plain substrings (SQLite stores a value right after its field name, so a
    # word-boundary search would miss them). Sanity: the holding area keeps them in clear.
    case_values = {x for rows in make_demo_data(AREAS).areas.values() for r in rows for f in CASE_FIELDS
                   for v in [r.get(f, "")] if len(v) >= 8 for x in (v, v.lower(), v.upper())}
    assert case_values and all(v.encode() in area_blob for v in case_values if v.startswith("INVENTED case-1001"))
    leaked = sorted(n for n in needles if _found(n.encode("utf-8"), blob) or _found(n.encode("utf-16-le"), blob))
    leaked += sorted(v for v in case_values if v.encode() in blob or v.encode("utf-16-le") in blob)
    assert leaked == []


def _found(needle: bytes, blob: bytes) -> bool:
    # Whole-word match, so that a short forename does not hit inside a schema
    # word (for example a column called "sealed").
    if needle not in blob:  # fast path: a plain substring search first (the regex alone took minutes)
        return False
    return re.search(rb"(?<![A-Za-z0-9])" + re.escape(needle) + rb"(?![A-Za-z0-9])", blob) is not None


def test_role_logs_have_no_errors(demo_run):
    work, _, _, _ = demo_run
    logs = sorted((work / "logs").glob("*.log"))
    assert len(logs) >= 4
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert " ERROR " not in text and "Traceback" not in text, f"{log.name}:\n{text[-2000:]}"


def test_demo_default_is_oprf_and_no_area_holds_a_token_key(demo_run):
    work, out, _, _ = demo_run
    assert out["token_mode"] == "oprf"
    for area in AREAS:
        names = {p.name for p in (work / "keys" / "areas" / area).iterdir()}
        assert not names & {"tokens.keyset.json", "oprf.keyset.json"}, (area, names)
    assert (work / "logs" / "keysvc.log").exists() and (work / "state" / "keysvc.db").exists()
    # The key service saw blinded elements only: no identifier in its state or log.
    needles = _plaintext_needles()
    for path in [work / "logs" / "keysvc.log", *sorted((work / "state").glob("keysvc.*"))]:
        blob = path.read_bytes()
        hits = [n for n in needles if n.encode() in blob]
        assert not hits, (path.name, hits[:5])


def test_demo_in_hmac_mode_says_so(tmp_path):
    res = subprocess.run([sys.executable, "-m", "fedalert", "demo", "--token-mode", "hmac", "--json"],
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)
    assert out["token_mode"] == "hmac"
    assert all(p["found"] == p["expect_match"] for p in out["planted"])


def test_demo_serves_a_console_per_area_and_names_a_login(demo_run):
    work, out, err, served = demo_run
    assert served[0] == 200 and "Log in to area" in served[1]  # --keep left the console up
    consoles = {c["area"]: c for c in out["consoles"]}
    assert sorted(consoles) == sorted(AREAS)
    for area, c in consoles.items():
        assert c["url"].startswith("https://127.0.0.1:")
        roles = {a["role"] for a in c["accounts"]}
        assert roles == {"coordinator", "approver", "auditor"}
        first = c["accounts"][0]
        assert Path(first["password_file"]).stat().st_mode & 0o777 == 0o600
        assert first["code_command"].startswith("fedalert node user code --totp-secret-file ")
        assert len(first["totp_secret"]) == 32
    # The people running the demo are told where to log in and how to get a code.
    assert "Coordinator console of area" in err and "print the current code" in err
    # The console actions of the run are in the audit (logins by the CLI, as named accounts).
    from fedalert import audit

    logins = [e for e in audit.read_entries(work / "state" / f"{AREAS[0]}.audit.jsonl") if e["event"] == "auth.login"]
    assert {e["fields"]["user"] for e in logins} >= {f"coord-{AREAS[0]}1"}
