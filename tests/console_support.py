"""A two-area federation with consoles, and a real Chromium, for the browser tests (tests/test_console.py).

Real parts: a matcher over mTLS on port 0, two node daemons (areas a and b),
their SQLite files, each area's console over HTTPS (a certificate signed by
the federation CA from the session's key ceremony), and Debian's Chromium
driven by Playwright. Every person and value here is invented.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest

from fedalert.demo_data import overlay_text
from tests.helpers import MatcherHandle, add_users, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = Path(__file__).parent / "data" / "axe.min.js"
TODAY = dt.date.today()
REC = (TODAY - dt.timedelta(days=10)).isoformat()
XSS = "<script>alert('xss')</script> INVENTED summary"
FORMULA = '=HYPERLINK("http://example.invalid","INVENTED")'
CSV_A = (
    "record_id,forename,surname,date_of_birth,risk_level,risk_level__source,risk_level__subject,"
    "current_risk_summary,current_risk_summary__source,conditions,conditions__source,gender_history,"
    "gender_history__source,case_recorded\n"
    f"A1,Ambrose,Tolliver,04/07/1983,INVENTED-RISK high,a-police,perpetrator,\"{XSS}\",a-police,"
    f"\"{FORMULA.replace(chr(34), chr(34) * 2)}\",a-police,INVENTED-GH note,a-council,{REC}\n"
    "A2,<script>,Moorcroft,01/02/1970,,,,,,,,,,\n"
)
CSV_B = "record_id,forename,surname,date_of_birth\nB1,Ambrose,Tolliver,04/07/1983\nB2,Verity,Larkspur,03/03/1991\n"
PEOPLE = {
    "a": {"appr-a1": ["approver"], "aud-a1": ["auditor"]},
    "b": {"coord-b1": ["coordinator"], "aud-b1": ["auditor"], "lock-b1": ["coordinator"],
          "coord-b2": ["coordinator"]},
}


class Area:
    def __init__(self, name, root, keys, matcher):
        from fedalert.keys.ceremony import issue_console_cert
        from fedalert.node.console import open_console
        from fedalert.node.disclosure import ServiceConfig
        from fedalert.node.server import NodeApp, NodeConfig

        self.name, self.root = name, root
        (root / f"{name}.toml").write_text(overlay_text(name, TODAY), encoding="utf-8")
        self.db, self.audit = root / f"{name}.db", root / f"{name}.audit.jsonl"
        cfg = NodeConfig(keys_dir=keys / "areas" / name, db=self.db, matcher=matcher.target,
                         overlay=root / f"{name}.toml", poll_interval=0.1)
        self.node = NodeApp(cfg).start()
        self.users = add_users(self.db, root / "users" / name, PEOPLE[name])
        cert, key = issue_console_cert(keys, name, root / f"console-{name}")
        self.console = open_console(ServiceConfig(db=self.db, overlay=root / f"{name}.toml",
                                                  keys_dir=keys / "areas" / name), "127.0.0.1:0", cert, key)
        self.url = self.console.url.rstrip("/")

    def secret(self, user):
        args = self.users[user]
        return Path(args[args.index("--totp-secret-file") + 1]).read_text().strip()

    def password(self, user):
        args = self.users[user]
        return Path(args[args.index("--password-file") + 1]).read_text()

    def stop(self):
        self.console.stop()
        self.node.stop()


class Federation:
    def __init__(self, keys, root):
        self.matcher = MatcherHandle(keys, root / "matcher.db").start()
        self.areas = {}
        try:
            for name in ("a", "b"):
                self.areas[name] = Area(name, root, keys, self.matcher)
        except BaseException:
            self.stop()
            raise
        self.used_steps: dict[tuple[str, str], int] = {}

    def code(self, area: str, user: str) -> str:
        """A TOTP code this user has not used yet (a code is good once): this step's, or the next."""
        from fedalert.node.disclosure import totp_code

        for _ in range(3):  # bounded: at most one wait of a step
            now = dt.datetime.now(dt.timezone.utc)
            step = int(now.timestamp()) // 30
            last = self.used_steps.get((area, user), -1)
            for s in (step, step + 1):
                if s > last:
                    self.used_steps[(area, user)] = s
                    return totp_code(self.areas[area].secret(user), dt.datetime.fromtimestamp(s * 30, dt.timezone.utc))
            time.sleep((step + 1) * 30 - now.timestamp() + 0.1)
        raise AssertionError("no fresh TOTP step")

    def stop(self):
        for a in self.areas.values():
            a.stop()
        self.matcher.stop()


def import_records(fed: Federation, root: Path) -> str:
    """Import both areas' CSVs (a's with case values), wait for the match; return its id."""
    from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol
    from fedalert.node.importer import import_file

    for name, text in (("a", CSV_A), ("b", CSV_B)):
        path = root / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        area = fed.areas[name]
        import_file(area.node.store, path, protocol=load_protocol(bundled_national_path(), root / f"{name}.toml"))
        area.node.wake.set()
    got = wait_until(lambda: fed.areas["a"].node.store.matches(True) and fed.areas["b"].node.store.matches(True),
                     timeout=60)
    assert got, "the two areas' records did not match"
    return fed.areas["b"].node.store.matches(True)[0]["match_id"]


def launch_chromium():
    """Debian's Chromium under Playwright; skipped where it cannot run, failed instead with CI=true."""
    reason = None
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        reason = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the playwright package is not installed (pip install -e '.[dev]')"
    if reason is None:
        pw = sync_playwright().start()
        try:
            return pw, pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - reported below
            pw.stop()
            reason = f"Chromium did not start: {type(exc).__name__}: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.x A and AA violations on the page (axe injected from tests/data)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return result


def login(fed: Federation, page, area: str, user: str, *, password: str | None = None, code: str | None = None):
    a = fed.areas[area]
    page.goto(a.url + "/login")
    page.fill("#user", user)
    page.fill("#password", password if password is not None else a.password(user))
    page.fill("#code", code if code is not None else fed.code(area, user))
    page.click("button[type=submit]")
