"""People and roles: accounts, password + TOTP, lockout, sessions, roles, and the audit of each.

Through the service API (what the CLI and the console call), on real SQLite
files and a real audit log, with a clock the test moves; then the CLI in
real subprocesses. Every person here is invented.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from fedalert import audit as audit_mod
from fedalert.keys import write_secret
from fedalert.node.disclosure import (
    AccessDenied,
    AccountError,
    DisclosureService,
    LoginFailed,
    NotAuthenticated,
    ServiceConfig,
    totp_code,
)
from tests.helpers import add_users

T0 = dt.datetime(2026, 11, 25, 9, 0, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def tick(self, **kw):
        self.now += dt.timedelta(**kw)


@pytest.fixture
def node(tmp_path, fed_keys):
    clock = Clock()
    svc = DisclosureService(ServiceConfig(db=tmp_path / "a.db", keys_dir=fed_keys / "areas" / "a"), clock=clock)
    admin = svc.add_user(None, "admin-a", ["admin"], "admin password one")
    actor = svc.login("admin-a", "admin password one", totp_code(admin.totp_secret, clock.now))[1]
    people = {u: svc.add_user(actor, u, roles, f"{u} password")
              for u, roles in (("coord-a1", ["coordinator"]), ("appr-a1", ["approver"]), ("aud-a1", ["auditor"]))}
    people["admin-a"] = admin
    yield svc, clock, people, tmp_path / "a.audit.jsonl"
    svc.close()


def _events(path, event):
    return [e["fields"] for e in audit_mod.read_entries(path) if e["event"] == event]


def _login(svc, clock, people, user, **kw):
    return svc.login(user, f"{user} password", totp_code(people[user].totp_secret, clock.now), **kw)[1]


def test_first_account_must_be_an_admin_and_later_ones_need_an_admin(tmp_path):
    with DisclosureService(ServiceConfig(db=tmp_path / "n.db")) as svc:
        with pytest.raises(AccountError, match="must be an administrator"):
            svc.add_user(None, "coord-n1", ["coordinator"], "a long password")
        with pytest.raises(AccountError, match="12 to 1024"):
            svc.add_user(None, "admin-n", ["admin"], "short")
        svc.add_user(None, "admin-n", ["admin"], "a long password")
        with pytest.raises(AccountError, match="has an administrator"):
            svc.add_user(None, "admin-2", ["admin"], "a long password")
    entries = _events(tmp_path / "n.audit.jsonl", "user.added")
    assert entries == [{"user": "admin-n", "roles": ["admin"], "by": "(first administrator)"}]


def test_login_needs_password_and_a_fresh_code_and_never_says_which_was_wrong(node):
    svc, clock, people, audit = node
    secret = people["coord-a1"].totp_secret
    good = totp_code(secret, clock.now)
    messages = set()
    for user, password, code in (("coord-a1", "wrong password!", good), ("coord-a1", "coord-a1 password", "000000"),
                                 ("nobody-x", "coord-a1 password", good), ("<script>", "x", "1")):
        with pytest.raises(LoginFailed) as err:
            svc.login(user, password, code)
        messages.add(str(err.value))
    assert len(messages) == 1 and "password or code is wrong" in messages.pop()
    principal = svc.login("coord-a1", "coord-a1 password", good)[1]
    assert principal.user == "coord-a1" and principal.roles == {"coordinator"}
    with pytest.raises(LoginFailed):  # the same code again: a replay
        svc.login("coord-a1", "coord-a1 password", good)
    svc.login("coord-a1", "coord-a1 password", totp_code(secret, clock.now + dt.timedelta(seconds=30)))
    clock.tick(minutes=5)  # outside one step of drift
    with pytest.raises(LoginFailed):
        svc.login("coord-a1", "coord-a1 password", totp_code(secret, clock.now - dt.timedelta(minutes=2)))
    reasons = [(f["user"], f["reason"]) for f in _events(audit, "auth.login_failed")]
    assert reasons == [("coord-a1", "bad_password"), ("coord-a1", "bad_code"), ("nobody-x", "unknown_user"),
                       ("(not a user id)", "unknown_user"), ("coord-a1", "code_reused"), ("coord-a1", "bad_code")]


def test_five_failures_lock_the_account_until_an_admin_resets_it(node):
    svc, clock, people, audit = node
    coord = _login(svc, clock, people, "coord-a1")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            svc.login("coord-a1", "not the password", "123456")
    clock.tick(seconds=30)
    with pytest.raises(LoginFailed):  # the right password and code no longer open it
        _login(svc, clock, people, "coord-a1")
    assert _events(audit, "auth.login_failed")[-1]["reason"] == "locked"
    with pytest.raises(NotAuthenticated):  # and its open session ends
        svc.list_requests(coord)
    with pytest.raises(AccessDenied):  # only an admin resets
        svc.reset_user(_login(svc, clock, people, "appr-a1"), "coord-a1", "a new password")
    # The admin logs in with the TOTP secret itself (what the CLI's --totp-secret-file does).
    admin = svc.login("admin-a", "admin password one", totp_secret=people["admin-a"].totp_secret)[1]
    creds = svc.reset_user(admin, "coord-a1", "coord-a1 password")
    assert creds.totp_secret != people["coord-a1"].totp_secret and "redacted" in repr(creds)
    coord = svc.login("coord-a1", "coord-a1 password", totp_code(creds.totp_secret, clock.now))[1]
    assert svc.list_requests(coord) == []
    svc.disable_user(admin, "coord-a1")
    with pytest.raises(NotAuthenticated):
        svc.list_requests(coord)
    with pytest.raises(LoginFailed):
        svc.login("coord-a1", "coord-a1 password", totp_code(creds.totp_secret, clock.now + dt.timedelta(seconds=30)))
    assert [f["user"] for f in _events(audit, "user.reset")] == ["coord-a1"]
    assert _events(audit, "user.disabled") == [{"user": "coord-a1", "by": "admin-a"}]
    logins = _events(audit, "auth.login")
    assert {f["factor"] for f in logins} == {"totp_code", "totp_secret_file"}


def test_roles_decide_what_a_user_may_do_and_refusals_are_audited(node):
    svc, clock, people, audit = node
    coord, appr, aud = (_login(svc, clock, people, u) for u in ("coord-a1", "appr-a1", "aud-a1"))
    with pytest.raises(AccessDenied, match="needs the role approver"):
        svc.refuse(coord, "req-0000", reason="not needed")
    with pytest.raises(AccessDenied):
        svc.request(appr, "m-1", requesting_partner="a-police", purpose="marac", lawful_basis="dpa2018_s35",
                    fields=["risk_level"], rationale="x" * 30, channel="meeting")
    with pytest.raises(AccessDenied):
        svc.list_requests(aud)
    with pytest.raises(AccessDenied):
        svc.list_users(coord)
    refused = _events(audit, "access.refused")
    assert [(f["user"], f["permission"], f["reason"]) for f in refused] == [
        ("coord-a1", "disclosure.decide", "role"), ("appr-a1", "disclosure.request", "role"),
        ("aud-a1", "requests.read", "role"), ("coord-a1", "users.manage", "role")]


def test_a_forged_or_timed_out_session_is_refused(node):
    svc, clock, people, audit = node
    from fedalert.node.disclosure import Principal

    coord = _login(svc, clock, people, "coord-a1")
    forged = Principal("appr-a1", frozenset({"approver"}), coord.area, coord.session_id, coord.csrf)
    with pytest.raises(Exception, match="another user"):
        svc.refuse(forged, "req-0000", reason="forged")
    made_up = Principal("appr-a1", frozenset({"approver"}), coord.area, "0" * 64, "x")
    with pytest.raises(NotAuthenticated):
        svc.refuse(made_up, "req-0000", reason="made up")
    clock.tick(minutes=16)  # idle longer than the 15-minute timeout
    with pytest.raises(NotAuthenticated, match="timed out"):
        svc.list_requests(coord)
    assert [f["reason"] for f in _events(audit, "access.refused")] == ["session", "session", "session"]


def test_failed_decisions_and_release_views_are_audited(node):
    svc, clock, people, audit = node
    appr, coord = _login(svc, clock, people, "appr-a1"), _login(svc, clock, people, "coord-a1")
    with pytest.raises(Exception, match="no disclosure request"):
        svc.refuse(appr, "req-nosuch", reason="not needed here")
    with pytest.raises(Exception, match="no received release 'rel-nosuch'"):
        svc.read_release(coord, "rel-nosuch")
    assert _events(audit, "disclosure.decision_failed") == [
        {"request_id": "req-nosuch", "user": "appr-a1", "outcome": "refuse", "error": "NotFound", "rule": ""}]
    assert _events(audit, "disclosure.release_view_failed") == [
        {"release_id": "rel-nosuch", "viewer": "coord-a1", "error": "NotFound", "rule": ""}]


# --- the command line ------------------------------------------------------------------


def fedalert(*args, env=None, check=True):
    res = subprocess.run([sys.executable, "-m", "fedalert", *map(str, args)], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    if check:
        assert res.returncode == 0, res.stderr[-2000:]
    return res


def test_cli_logs_in_from_0600_files_refuses_loose_files_and_the_wrong_role(tmp_path):
    users = add_users(tmp_path / "a.db", tmp_path / "users", {"coord-a1": ["coordinator"], "aud-a1": ["auditor"]})
    db = ["--db", tmp_path / "a.db"]
    out = fedalert("disclose", "list", *db, *users["coord-a1"]).stdout
    assert out.strip() == "No disclosure requests."
    res = fedalert("disclose", "list", *db, *users["aud-a1"], check=False)
    assert res.returncode == 1 and "needs the role" in res.stderr and "Traceback" not in res.stderr
    loose = tmp_path / "loose.password"
    write_secret(loose, b"coord-a1 password 1")
    loose.chmod(0o644)
    args = list(users["coord-a1"])
    args[args.index("--password-file") + 1] = str(loose)
    res = fedalert("disclose", "list", *db, *args, check=False)
    assert res.returncode != 0 and "loose.password" in res.stderr and "Traceback" not in res.stderr
    res = fedalert("disclose", "list", *db, "--user", "coord-a1", check=False)  # no terminal to ask
    assert res.returncode == 2 and "--password-file" in res.stderr
    res = fedalert("disclose", "list", *db, *users["coord-a1"], "--by", "coord-a1", check=False)
    assert res.returncode == 2 and "unrecognized arguments: --by" in res.stderr
    res = fedalert("disclose", "release-show", "rel-nosuch", *db, "--audit", tmp_path / "other.jsonl",
                   *users["coord-a1"], check=False)
    assert res.returncode == 2 and "--audit" in res.stderr


def test_cli_audits_to_the_configured_log_and_a_mirror_and_a_bad_release_id_is_one_line(tmp_path, fed_keys):
    users = add_users(tmp_path / "a.db", tmp_path / "users", {"coord-a1": ["coordinator"]})
    configured = tmp_path / "logs" / "node-a.audit.jsonl"
    env = {"FEDALERT_NODE_AUDIT": str(configured)}
    res = fedalert("disclose", "release-show", "rel-nosuch", "--db", tmp_path / "a.db", "--keys",
                   fed_keys / "areas" / "a", *users["coord-a1"], "--audit-mirror", tmp_path / "mirror.jsonl",
                   env=env, check=False)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and "no received release 'rel-nosuch'" in res.stderr
    assert "fedalert disclose list --direction outgoing" in res.stderr
    for log in (configured, tmp_path / "mirror.jsonl"):
        events = [e["event"] for e in audit_mod.read_entries(log)]
        assert events[-3:] == ["auth.login", "access.refused", "disclosure.release_view_failed"] or \
            events[-2:] == ["auth.login", "disclosure.release_view_failed"], events
        assert audit_mod.verify(log).ok
    viewed = [e for e in audit_mod.read_entries(configured) if e["event"] == "disclosure.release_view_failed"]
    assert viewed[0]["fields"]["viewer"] == "coord-a1"
    assert json.dumps(viewed)  # ids and codes only


def test_user_commands_need_an_admin_and_hand_out_the_secret_to_a_0600_file(tmp_path):
    pw = tmp_path / "new.password"
    write_secret(pw, b"a long new password")
    db = ["--db", tmp_path / "n.db"]
    res = fedalert("node", "user", "add", "admin-n", "--role", "admin", *db, "--new-password-file", pw, check=False)
    assert res.returncode == 2 and "--totp-secret-out" in res.stderr  # not shown on a pipe
    fedalert("node", "user", "add", "admin-n", "--role", "admin", *db, "--new-password-file", pw,
             "--totp-secret-out", tmp_path / "admin.totp")
    assert (tmp_path / "admin.totp").stat().st_mode & 0o777 == 0o600
    res = fedalert("node", "user", "add", "coord-n1", "--role", "coordinator", *db, "--new-password-file", pw,
                   "--totp-secret-out", tmp_path / "c.totp", check=False)
    assert res.returncode == 1 and "give --user ADMIN" in res.stderr
    admin = ["--user", "admin-n", "--password-file", pw, "--totp-secret-file", tmp_path / "admin.totp"]
    fedalert("node", "user", "add", "coord-n1", "--role", "coordinator", *db, "--new-password-file", pw,
             "--totp-secret-out", tmp_path / "c.totp", *admin)
    code = fedalert("node", "user", "code", "--totp-secret-file", tmp_path / "c.totp").stdout.strip()
    assert code.isdigit() and len(code) == 6
    listed = fedalert("node", "user", "list", *db, *admin).stdout
    assert "coord-n1" in listed and "coordinator" in listed
    fedalert("node", "user", "disable", "coord-n1", *db, *admin)
    assert "disabled" in fedalert("node", "user", "list", *db, *admin).stdout
