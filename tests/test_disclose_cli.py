"""Case-field import, the breach register CLI, and disclosure without a running node (--send, flush).

Real SQLite files, real subprocesses for the CLI, a real matcher over mTLS.
Every value and person here is invented.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from fedalert.demo_data import overlay_text
from fedalert.node.disclosure import casefields
from fedalert.node.errors import ImportRejectedError
from fedalert.node.importer import import_file
from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol
from fedalert.node.store import NodeStore
from tests.helpers import add_users

TODAY = dt.date.today()
REC = (TODAY - dt.timedelta(days=3)).strftime("%d/%m/%Y")
HEADER = ("record_id,forename,surname,date_of_birth,risk_level,risk_level__source,risk_level__recorded,"
          "conditions,conditions__source,conditions__recorded,conditions__subject\n")


def fedalert(*args, check=True):
    res = subprocess.run([sys.executable, "-m", "fedalert", *map(str, args)], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    if check:
        assert res.returncode == 0, res.stderr[-2000:]
    return res


@pytest.fixture
def overlay(tmp_path):
    p = tmp_path / "a.toml"
    p.write_text(overlay_text("a", TODAY), encoding="utf-8")
    return p


def _import(tmp_path, text, protocol, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    store = NodeStore(tmp_path / "a.db")
    try:
        res = import_file(store, path, protocol=protocol)
        return res, {r: casefields.case_fields(store.db, r) for r in ("A1", "A2")}
    finally:
        store.close()


def test_case_fields_are_imported_with_source_and_date_and_replaced_on_reimport(tmp_path, overlay):
    proto = load_protocol(bundled_national_path(), overlay)
    text = HEADER + (f"A1,Ambrose,Tolliver,04/07/1983,INVENTED high,a-police,{REC},INVENTED no contact,a-council,"
                     f"{REC},perpetrator\nA2,Silas,Moorcroft,01/02/1970,,,,,,,\n")
    res, cases = _import(tmp_path, text, proto)
    assert (res.added, res.case_values) == (2, 2)
    got = {c.field: c for c in cases["A1"]}
    assert got["risk_level"].value == "INVENTED high" and got["risk_level"].source_partner == "a-police"
    assert got["risk_level"].recorded_on == TODAY - dt.timedelta(days=3)
    assert got["risk_level"].subject == "perpetrator"  # the default
    assert got["conditions"].source_partner == "a-council"
    assert cases["A2"] == []
    # Re-import with one value changed: identities unchanged, case values replaced (not duplicated).
    res, cases = _import(tmp_path, text.replace("INVENTED high", "INVENTED medium"), proto, "in2.csv")
    assert (res.added, res.updated, res.unchanged) == (0, 0, 2)
    assert sorted(c.value for c in cases["A1"]) == ["INVENTED medium", "INVENTED no contact"]


def test_bad_case_values_are_left_out_with_a_warning_naming_the_column_and_the_identity_imports(tmp_path, overlay):
    proto = load_protocol(bundled_national_path(), overlay)
    text = HEADER + (f"A1,Ambrose,Tolliver,04/07/1983,INVENTED high,z-police,{REC},INVENTED x,a-council,"
                     "31/02/2026,perpetrator\n"
                     f"A2,Silas,Moorcroft,01/02/1970,INVENTED low,,{REC},INVENTED y,a-police,{REC},neighbour\n"
                     f"A3,Hester,Nettlebed,05/05/1965,INVENTED medium,a-police,{REC},,,,\n")
    res, cases = _import(tmp_path, text, proto)
    assert (res.added, res.rejected, res.case_values) == (3, 0, 1)  # every identity; only A3's value is stored
    found = {(w.row, w.field, w.action) for w in res.warnings}
    assert found == {(2, "risk_level__source", "case value not stored (risk_level)"),
                     (2, "conditions__recorded", "case value not stored (conditions)"),
                     (3, "risk_level__source", "case value not stored (risk_level)"),
                     (3, "conditions__subject", "case value not stored (conditions)")}
    reasons = " ".join(w.reason for w in res.warnings)
    assert "'z-police' is not a partner" in reasons and "not a real date" in reasons and "'neighbour'" in reasons
    assert cases == {"A1": [], "A2": []}
    store = NodeStore(tmp_path / "a.db")
    try:
        assert store.status()["records_active"] == 3
        assert [c.value for c in casefields.case_fields(store.db, "A3")] == ["INVENTED medium"]
    finally:
        store.close()


def test_case_columns_need_the_overlay_on_the_command_line(tmp_path, overlay):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + f"A1,Ambrose,Tolliver,04/07/1983,INVENTED high,a-police,{REC},,,,\n", encoding="utf-8")
    res = fedalert("node", "import", path, "--db", tmp_path / "a.db", check=False)
    assert res.returncode == 1 and "--overlay" in res.stderr
    res = fedalert("node", "import", path, "--db", tmp_path / "a.db", "--overlay", overlay)
    assert "1 case values stored" in res.stdout
    # Without case columns, import works as before with no overlay.
    plain = tmp_path / "plain.csv"
    plain.write_text("record_id,forename,surname,date_of_birth\nA9,Hester,Nettlebed,05/05/1965\n", encoding="utf-8")
    assert "1 added" in fedalert("node", "import", plain, "--db", tmp_path / "a.db").stdout


def test_breach_register_shows_the_72_hour_clock(tmp_path, overlay):
    dpo = add_users(tmp_path / "a.db", tmp_path / "users", {"dpo-a1": ["coordinator"]})["dpo-a1"]
    db = ["--db", tmp_path / "a.db", *dpo]
    aware = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=80)).strftime("%Y-%m-%dT%H:%MZ")
    out = fedalert("disclose", "breach", "add", *db, "--summary", "release envelope copied to a shared drive",
                   "--aware-at", aware).stdout
    assert "OVERDUE by 8h" in out
    fresh = fedalert("disclose", "breach", "add", *db, "--summary", "printed risk summary left on a desk").stdout
    assert "71h" in fresh or "72h" in fresh
    rows = json.loads(fedalert("disclose", "breach", "list", *db, "--json").stdout)
    assert [r["overdue"] for r in rows] == [True, False]
    late = rows[0]["breach_id"]
    res = fedalert("disclose", "breach", "close", late, *db, check=False)
    assert res.returncode == 1 and "ICO notification" in res.stderr
    res = fedalert("disclose", "breach", "notify-ico", late, *db, check=False)
    assert res.returncode == 1  # after the deadline a reason for the delay is required
    fedalert("disclose", "breach", "notify-ico", late, *db, "--delay-reason", "the scale was only known on day 4")
    assert "closed" in fedalert("disclose", "breach", "close", late, *db).stdout
    assert fedalert("audit", "verify", tmp_path / "a.audit.jsonl").returncode == 0


@pytest.mark.slow
def test_disclosure_without_a_running_node_send_and_flush(matcher, fed_keys, tmp_path):
    """No daemons: publish with `node sync`, then request --send, flush, approve --send, flush."""
    args = {}
    for area, text in (("a", HEADER + f"A1,Ambrose,Tolliver,04/07/1983,INVENTED high,a-police,{REC},,,,\n"),
                       ("b", "record_id,forename,surname,date_of_birth\nB1,Ambrose,Tolliver,04/07/1983\n")):
        (tmp_path / f"{area}.toml").write_text(overlay_text(area, TODAY), encoding="utf-8")
        (tmp_path / f"{area}.csv").write_text(text, encoding="utf-8")
        args[area] = ["--db", tmp_path / f"{area}.db", "--overlay", tmp_path / f"{area}.toml",
                      "--keys", fed_keys / "areas" / area, "--matcher", matcher.target]
        fedalert("node", "import", tmp_path / f"{area}.csv", *args[area][:4])
    for area in ("a", "b", "a"):  # a again: its alert is written when b publishes
        fedalert("node", "sync", *args[area][:2], *args[area][4:])
    store = NodeStore(tmp_path / "b.db")
    match_id = store.matches(True)[0]["match_id"]
    store.close()
    coord_b = add_users(tmp_path / "b.db", tmp_path / "users-b", {"coord-b1": ["coordinator"]})["coord-b1"]
    appr_a = add_users(tmp_path / "a.db", tmp_path / "users-a", {"appr-a1": ["approver"]})["appr-a1"]
    out = json.loads(fedalert("disclose", "request", match_id, *args["b"], "--partner", "b-police",
                              *coord_b, "--purpose", "marac", "--basis", "dpa2018_s35",
                              "--statutory-power", "Police Act 1996 s30", "--fields", "risk_level",
                              "--rationale", "Risk is needed to plan the MARAC safety actions this week.",
                              "--channel", "meeting", "--send", "--json").stdout)
    got = fedalert("disclose", "flush", *args["a"]).stdout
    assert f"request: request {out['request_id']} is requested" in got
    res = fedalert("disclose", "approve", out["request_id"], *args["a"], *appr_a,
                   "--consent", "perpetrator:not_sought:would prejudice the prevention of crime", "--send")
    assert "approved" in res.stdout and "sent 2 envelope(s)" in res.stdout
    got = fedalert("disclose", "flush", *args["b"]).stdout
    assert "decision: request" in got and f"release: request {out['request_id']} is released" in got
    listed = json.loads(fedalert("disclose", "list", *args["b"][:4], *coord_b, "--json").stdout)
    assert [(r["status"], r["fields_released"]) for r in listed] == [("released", ["risk_level"])]
    # Legal hold on the received release; a second, pending request closed when area a withdraws.
    rel = listed[0]["release_id"]
    assert "legal hold set" in fedalert("disclose", "legal-hold", rel, *args["b"][:4], *coord_b,
                                        "--reason", "needed for family court proceedings").stdout
    again = json.loads(fedalert("disclose", "request", match_id, *args["b"][:6], "--partner", "b-police",
                                *coord_b, "--purpose", "marac", "--basis", "dpa2018_s35",
                                "--statutory-power", "Police Act 1996 s30", "--fields", "risk_level",
                                "--rationale", "Updated risk is needed for the next MARAC this month.",
                                "--channel", "meeting", "--json").stdout)
    out = fedalert("disclose", "close-withdrawn", "--area", "a", *args["b"][:4], *coord_b).stdout
    assert "closed 1 pending request(s)" in out and again["request_id"] in out
    shown = json.loads(fedalert("disclose", "show", again["request_id"], *args["b"][:4], *coord_b, "--json").stdout)
    assert shown["status"] == "expired" and "withdrew" in shown["status_reason"]
