"""The coordinator console in a real browser: the whole story, then the refusals.

One federation (a matcher, areas a and b, each node with its console over
HTTPS) and one Chromium serve every test of this module. Area b's
coordinator finds the match, triages it and asks a; a's approver previews
and approves; b's coordinator opens the release; both auditors read their
logs. Then: the wrong role, no session, a stale CSRF token, a locked account
and another area's session cookie are each refused. Every person and value
here is invented.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from fedalert import audit as audit_mod
from tests.console_support import (
    FORMULA,
    XSS,
    Federation,
    axe_violations,
    import_records,
    launch_chromium,
    login,
)
from tests.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: README's screenshots: written to docs/img when FEDALERT_SCREENSHOTS=1 (then committed), else to a temp folder.
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    import os

    return SHOTS if os.environ.get("FEDALERT_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def browser():
    pw, chromium = launch_chromium()
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture(scope="module")
def fed(fed_keys, tmp_path_factory, browser):  # the browser first: nothing starts while Chromium loads
    root = tmp_path_factory.mktemp("console")
    f = Federation(fed_keys, root)
    try:
        f.match_id = import_records(f, root)
        yield f
    finally:
        f.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)  # a loaded 2-core CI machine; a bound, not a timing check
    p = ctx.new_page()
    yield p
    ctx.close()


def _context(browser, **kw):
    ctx = browser.new_context(ignore_https_errors=True, **kw)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def _events(fed, area, event):
    return [e["fields"] for e in audit_mod.read_entries(fed.areas[area].audit) if e["event"] == event]


def _no_script(page):
    assert page.evaluate("document.scripts.length") == 0  # no script element, not even an injected one
    assert not axe_violations(page), axe_violations(page)


def test_the_whole_story_in_two_consoles(fed, browser, page, shots):
    a, b = fed.areas["a"], fed.areas["b"]
    # b's coordinator logs in with TOTP and finds the match in the inbox.
    login(fed, page, "b", "coord-b1")
    page.wait_for_url(b.url + "/inbox")
    row = page.locator("table.inbox tbody tr").first
    assert fed.match_id in row.inner_text() and "high" in row.inner_text()
    assert "forename same" in row.inner_text()
    _no_script(page)
    page.screenshot(path=str(shots / "console-inbox.png"), full_page=True)
    # The match page: the waterfall is inline SVG; triage with a note that holds markup.
    page.click(f"text={fed.match_id}")
    assert page.locator("svg[role=img] rect").count() >= 3
    page.select_option("#state", "under_review")
    page.fill("#assignee", "coord-b1")
    page.fill("#note", "<script>alert(1)</script> checking with the MARAC chair")
    page.click("text=Save triage")
    assert "Under review" in page.inner_text("main")
    assert "<script>alert(1)</script> checking" in page.inner_text("main")  # shown as text, not run
    _no_script(page)
    # The request form: an empty submission shows every error at once, beside its field.
    page.click("text=Request case details from a")
    page.click("text=Send request")
    summary = page.locator(".error-summary li")
    assert summary.count() >= 3, page.inner_text("main")
    for field in ("purpose", "fields", "rationale"):
        assert page.locator(f"[aria-invalid=true]#f-{field}, fieldset#f-{field}[aria-invalid=true]").count() == 1
    _no_script(page)
    page.select_option("#f-requesting_partner", "b-council")
    page.select_option("#f-purpose", "marac")
    for f in ("risk_level", "current_risk_summary", "conditions", "gender_history"):
        page.check(f"#fld-{f}")
    page.select_option("#f-lawful_basis", "uk_gdpr_6_1_e")
    page.fill("#f-statutory_power", "Crime and Disorder Act 1998 s115")
    page.select_option("#f-art9", "uk_gdpr_9_2_g_sch1_para18")
    page.select_option("#f-channel", "meeting")
    page.select_option("#f-urgency", "urgent")
    page.fill("#f-rationale", "The perpetrator is known in both areas; current risk is needed for this week's MARAC.")
    page.click("text=Send request")
    page.wait_for_url(re.compile(r".*/requests/req-[0-9a-f]+$"))
    request_id = page.url.rsplit("/", 1)[1]
    # a's approver sees it first in the queue, marked urgent, and previews what would go and what would not.
    assert wait_until(lambda: [r for r in _requests(a) if r == request_id], timeout=90)
    ap = _context(browser, viewport={"width": 1280, "height": 1100}).new_page()
    login(fed, ap, "a", "appr-a1")
    ap.wait_for_url(a.url + "/approvals")
    assert "URGENT" in ap.locator("table tbody tr").first.inner_text()
    ap.click(f"text={request_id}")
    ap.select_option("#c-perpetrator", "not_sought")
    ap.fill("#c-perpetrator-reason", "would prejudice the prevention of crime")
    ap.click("text=Update preview")
    preview = ap.inner_text("section.preview")
    assert "INVENTED-RISK high" in preview and XSS in preview and FORMULA in preview
    assert "Gender history" in preview and "withheld" in preview.lower()
    _no_script(ap)
    ap.screenshot(path=str(shots / "console-approval-preview.png"), full_page=True)
    ap.click("text=Approve and release")
    ap.wait_for_url(re.compile(rf".*/requests/{request_id}$"))
    assert "released" in ap.inner_text("main")
    # b's coordinator opens the release; the view is audited with their id.
    assert wait_until(lambda: _released(b, request_id), timeout=90)
    page.goto(b.url + "/releases")
    page.click("button:has-text('Open')")
    shown = page.inner_text("main")
    assert "INVENTED-RISK high" in shown and XSS in shown and "area a" in shown
    _no_script(page)
    # The SAR listing and the sharing statement: the same text as the CLI's.
    from fedalert.node.disclosure import statement

    page.goto(b.url + "/records/B1/sar")
    cli_text = statement.sar_listing(_ro(b.db), "B1")
    assert page.inner_text("pre.statement").strip() == cli_text.strip() and request_id in cli_text
    page.goto(b.url + "/records/B1/statement")
    assert "Information sharing statement for case B1 (b)" in page.inner_text("pre.statement")
    # Both auditors read their logs; the chains verify.
    for area, auditor, event, who in (("b", "aud-b1", "disclosure.release_viewed", "coord-b1"),
                                      ("a", "aud-a1", "disclosure.decision", "appr-a1")):
        au = _context(page.context.browser).new_page()
        login(fed, au, area, auditor)
        au.wait_for_url(fed.areas[area].url + "/audit")
        assert "Chain verified" in au.inner_text("main")
        au.fill("#q", event)
        au.click("text=Search")
        assert who in au.inner_text("table.audit")
        _no_script(au)
        au.context.close()
    assert [f["viewer"] for f in _events(fed, "b", "disclosure.release_viewed")] == ["coord-b1"]
    assert [f["decided_by"] for f in _events(fed, "a", "disclosure.decision")] == ["appr-a1"]
    assert [f["user"] for f in _events(fed, "b", "alert.triaged")] == ["coord-b1"]
    ap.context.close()


def _ro(path):
    import sqlite3

    import sqlite_utils

    return sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10))


def _requests(area):
    import sqlite3

    con = sqlite3.connect(f"file:{area.db}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute("SELECT request_id FROM disclosure_requests")]
    finally:
        con.close()


def _released(area, request_id):
    import sqlite3

    con = sqlite3.connect(f"file:{area.db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT 1 FROM disclosure_releases_received WHERE request_id = ?", [request_id]).fetchone()
    finally:
        con.close()


def test_no_session_and_the_wrong_role_are_refused(fed, page):
    b = fed.areas["b"]
    page.goto(b.url + "/inbox")
    assert page.url.startswith(b.url + "/login")  # no session: to the login page
    res = page.request.post(b.url + f"/matches/{fed.match_id}/triage", form={"state": "new", "note": "x"})
    assert res.status == 401
    login(fed, page, "b", "aud-b1")
    page.wait_for_url(b.url + "/audit")
    resp = page.goto(b.url + "/inbox")
    assert resp.status == 403 and "Not allowed" in page.inner_text("main")
    csrf = page.eval_on_selector("input[name=csrf]", "e => e.value")
    res = page.request.post(b.url + f"/matches/{fed.match_id}/triage",
                            form={"csrf": csrf, "state": "no_further_action", "note": "not mine to decide"})
    assert res.status == 403
    refused = [f for f in _events(fed, "b", "access.refused") if f["user"] == "aud-b1"]
    assert {f["permission"] for f in refused} >= {"alerts.read", "alerts.triage"}


def test_a_stale_csrf_token_is_refused(fed, browser):
    b = fed.areas["b"]
    ctx = _context(browser)
    old, other = ctx.new_page(), ctx.new_page()
    login(fed, old, "b", "coord-b2")
    old.goto(b.url + f"/matches/{fed.match_id}")
    other.goto(b.url + "/inbox")
    other.click("text=Log out")
    login(fed, other, "b", "coord-b2")  # a new session: the old page's token is stale
    other.wait_for_url(b.url + "/inbox")
    old.fill("#note", "submitted from a page of an ended session")
    old.click("text=Save triage")
    assert "Form expired" in old.inner_text("main")
    assert not [f for f in _events(fed, "b", "alert.triaged") if f["user"] == "coord-b2"]
    assert any(f["reason"] == "csrf_token" for f in _events(fed, "b", "access.refused"))
    ctx.close()


def test_a_locked_account_is_refused(fed, page):
    b = fed.areas["b"]
    for _ in range(5):
        login(fed, page, "b", "lock-b1", password="not the password at all", code="000000")
        assert "login failed" in page.inner_text("#login-error")
    login(fed, page, "b", "lock-b1")  # the right password and a fresh code
    assert page.url.startswith(b.url + "/login") and "login failed" in page.inner_text("#login-error")
    assert _events(fed, "b", "auth.login_failed")[-1] == {"user": "lock-b1", "channel": "console",
                                                        "factor": "totp_code", "reason": "locked"}


def test_another_areas_session_cookie_is_refused(fed, browser):
    a, b = fed.areas["a"], fed.areas["b"]
    ctx = _context(browser)
    p = ctx.new_page()
    login(fed, p, "a", "appr-a1")
    p.wait_for_url(a.url + "/approvals")
    cookie = next(c for c in ctx.cookies() if c["name"] == "__Host-fedalert-a")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    thief = _context(browser)
    thief.add_cookies([{"name": "__Host-fedalert-b", "value": cookie["value"], "url": b.url + "/", "secure": True,
                        "httpOnly": True, "sameSite": "Strict"}])
    q = thief.new_page()
    q.goto(b.url + "/approvals")
    assert q.url.startswith(b.url + "/login")
    assert q.request.get(b.url + "/approvals", max_redirects=0).status == 303
    ctx.close()
    thief.close()


def test_pages_carry_a_strict_policy_and_the_csv_export_is_neutralised(fed, page):
    b = fed.areas["b"]
    resp = page.goto(b.url + "/login")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["x-content-type-options"] == "nosniff" and resp.headers["cache-control"] == "no-store"
    _no_script(page)
    login(fed, page, "b", "aud-b1")
    page.wait_for_url(b.url + "/audit")
    # A release id that starts with '=' reaches the audit log through a failed view attempt.
    coord = _context(page.context.browser).new_page()
    login(fed, coord, "b", "coord-b2")
    coord.wait_for_url(b.url + "/inbox")
    csrf = coord.eval_on_selector("input[name=csrf]", "e => e.value")
    assert coord.request.post(b.url + "/releases/=1+2", form={"csrf": csrf}).status == 404
    coord.context.close()
    csrf = page.eval_on_selector("input[name=csrf]", "e => e.value")
    res = page.request.post(b.url + "/audit/export", form={"csrf": csrf})
    assert res.status == 200 and res.headers["content-type"].startswith("text/csv")
    cells = [c for row in csv.reader(io.StringIO(res.text())) for c in row]
    assert "'=1+2" in cells and "=1+2" not in cells
    assert _events(fed, "b", "audit.exported")[-1]["user"] == "aud-b1"
