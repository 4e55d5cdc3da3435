"""The one-command demo: a whole federation on this machine.

Fresh keys, a matcher and three area nodes as real processes on loopback
(ephemeral ports, mutual TLS), synthetic records with planted cross-area
perpetrators, then each area's alerts, then one disclosure under the
information sharing protocol: a coordinator in one area asks for case fields
on a high-tier match, the holding area approves some (one is withheld by the
rules), and the sealed release is relayed, verified and stored encrypted.
Everything lives under a work folder.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fedalert.demo_data import make_demo_data, overlay_text
from fedalert.procs import Proc, ProcessError, run, start

log = logging.getLogger(__name__)

AREAS = ["north", "south", "east"]
FEDERATION = "demo"
WAIT_S = 45.0


@dataclass
class Federation:
    """Running roles of a local federation (used by the demo, tests and bench)."""

    workdir: Path
    areas: list[str]
    matcher: Proc | None = None
    nodes: dict[str, Proc] = field(default_factory=dict)
    #: "oprf" (a key service evaluates blinded match keys; no node holds a token key) or "hmac"
    #: (the default here, for existing callers; the demo and `keys init` default to oprf).
    token_mode: str = "hmac"
    keysvc: Proc | None = None
    keysvc_args: list[str] = field(default_factory=list)  # extra `keysvc serve` flags (limits, workers)

    @property
    def keys(self) -> Path:
        return self.workdir / "keys"

    def node_db(self, area: str) -> Path:
        return self.workdir / "state" / f"{area}.db"

    def overlay(self, area: str) -> Path:
        """The area's protocol overlay (partners and sign-offs), written by write_overlays()."""
        return self.workdir / "protocol" / f"{area}.toml"

    def write_overlays(self, today: _dt.date) -> None:
        (self.workdir / "protocol").mkdir(parents=True, exist_ok=True)
        for area in self.areas:
            self.overlay(area).write_text(overlay_text(area, today), encoding="utf-8")

    def area_args(self, area: str, *, keys: bool = True) -> list[str]:
        """--db/--keys/--overlay flags for `fedalert node|disclose` commands of one area."""
        out = ["--db", str(self.node_db(area))]
        if keys:
            out += ["--keys", str(self.keys / "areas" / area)]
        if self.overlay(area).exists():
            out += ["--overlay", str(self.overlay(area))]
        return out

    @property
    def matcher_db(self) -> Path:
        return self.workdir / "state" / "matcher.db"

    def log(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def make_keys(self) -> None:
        from fedalert.keys import init_federation

        init_federation(self.keys, FEDERATION, self.areas, token_mode=self.token_mode)

    def start_keysvc(self) -> Proc | None:
        """The OPRF key service (OPRF mode only), before any node starts."""
        if self.token_mode != "oprf":
            return None
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        self.keysvc = start("keysvc", ["keysvc", "serve", "--keys", str(self.keys / "keysvc"),
                                       "--db", str(self.workdir / "state" / "keysvc.db"), "--listen", "127.0.0.1:0",
                                       *self.keysvc_args],
                            self.workdir / "state" / "keysvc.port", self.log("keysvc"))
        return self.keysvc

    def node_args(self) -> list[str]:
        """--keysvc for `fedalert node serve` in OPRF mode."""
        return ["--keysvc", f"127.0.0.1:{self.keysvc.port}"] if self.keysvc is not None else []

    def start_matcher(self) -> Proc:
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        self.matcher = start("matcher", ["matcher", "serve", "--keys", str(self.keys / "matcher"),
                                         "--db", str(self.matcher_db), "--listen", "127.0.0.1:0"],
                             self.workdir / "state" / "matcher.port", self.log("matcher"))
        return self.matcher

    def start_node(self, area: str, *, console: bool = True) -> Proc:
        """The area's node; with *console*, also its coordinator console over HTTPS on a loopback port
        (a certificate signed by the federation CA, made here from the custodian's material)."""
        assert self.matcher is not None
        extra: list[str] = []
        if console:
            from fedalert.keys.ceremony import issue_console_cert

            cert, key = issue_console_cert(self.keys, area, self.workdir / "console" / area)
            extra = ["--console", "127.0.0.1:0", "--console-cert", str(cert), "--console-key", str(key),
                     "--console-port-file", str(self.console_port_file(area))]
        self.nodes[area] = start(f"node-{area}", [
            "node", "serve", *self.area_args(area),
            "--matcher", f"127.0.0.1:{self.matcher.port}", "--listen", "127.0.0.1:0", *self.node_args(), *extra],
            self.workdir / "state" / f"{area}.port", self.log(f"node-{area}"))
        return self.nodes[area]

    def console_port_file(self, area: str) -> Path:
        return self.workdir / "state" / f"{area}.console.port"

    def console_url(self, area: str) -> str | None:
        f = self.console_port_file(area)
        return f"https://127.0.0.1:{f.read_text().strip()}/" if f.exists() else None

    def import_csv(self, area: str, csv_path: Path) -> None:
        run(["node", "import", str(csv_path), *self.area_args(area, keys=False)], self.log(f"import-{area}"))

    def user_dir(self, area: str) -> Path:
        return self.workdir / "users" / area

    def login_args(self, area: str, user: str) -> list[str]:
        """--user/--password-file/--totp-secret-file for a demo account made by make_users()."""
        d = self.user_dir(area)
        return ["--user", user, "--password-file", str(d / f"{user}.password"),
                "--totp-secret-file", str(d / f"{user}.totp")]

    def make_users(self, area: str, people: dict[str, str], log_path: Path) -> None:
        """The area's administrator, then one account per role, made with `fedalert node user add`.

        Passwords are random and kept, like the TOTP secrets, in 0600 files
        under users/<area>/ (a demo's stand-in for a password manager and an
        authenticator app)."""
        import secrets as _secrets

        from fedalert.keys import write_secret

        d = self.user_dir(area)
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        admin = f"admin-{area}"
        for user, role in ((admin, "admin"), *people.items()):
            write_secret(d / f"{user}.password", _secrets.token_urlsafe(18).encode())
            _cli(["node", "user", "add", user, "--role", role, "--db", str(self.node_db(area)),
                  "--new-password-file", str(d / f"{user}.password"), "--totp-secret-out", str(d / f"{user}.totp"),
                  *(self.login_args(area, admin) if user != admin else [])], log_path)

    def node_matches(self, area: str) -> list[dict]:
        """Live matches as area `area` sees them (read straight from its store)."""
        if not self.node_db(area).exists():
            return []
        con = sqlite3.connect(f"file:{self.node_db(area)}?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute(
                "SELECT m.match_id, m.tier, m.kinds, m.other_area, r.record_id FROM matches m"
                " LEFT JOIN records r ON r.handle = m.handle WHERE m.status='live'").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()
        return [{"match_id": r[0], "tier": r[1], "kinds": json.loads(r[2]), "other_area": r[3],
                 "record_id": r[4]} for r in rows]

    def stop(self) -> None:
        for proc in list(self.nodes.values()) + [p for p in (self.matcher, self.keysvc) if p]:
            proc.stop()


def _summarise(fed: Federation, planted) -> dict:
    seen = {area: fed.node_matches(area) for area in fed.areas}
    matches: dict[str, dict] = {}
    members: dict[str, set[tuple[str, str]]] = {}  # match id -> (area, record id) ends seen so far
    for area, rows in seen.items():
        for m in rows:
            entry = matches.setdefault(m["match_id"], {"match_id": m["match_id"], "tier": m["tier"],
                                                       "areas": set(), "key_kinds": m["kinds"]})
            entry["areas"].add(area)
            members.setdefault(m["match_id"], set()).add((area, m["record_id"]))
    planted_out = []
    for p in planted:
        ends = {tuple(x) for x in p.records}
        planted_out.append({"records": [list(x) for x in p.records], "kind": p.kind,
                            "expect_match": p.expect_match, "found": any(ends <= m for m in members.values())})
    return {
        "areas": fed.areas,
        "matches": [{**m, "areas": sorted(m["areas"])} for m in sorted(matches.values(), key=lambda x: x["match_id"])],
        "alerts": {area: sorted({m["match_id"] for m in rows}) for area, rows in seen.items()},
        "planted": planted_out,
    }


def _requests(fed: Federation, area: str) -> list:
    """Disclosure requests in an area's store (read-only; the node and CLI write)."""
    import sqlite_utils

    from fedalert.node.disclosure.requests import list_requests

    if not fed.node_db(area).exists():
        return []
    con = sqlite3.connect(f"file:{fed.node_db(area)}?mode=ro", uri=True, timeout=10)
    try:
        return list_requests(sqlite_utils.Database(con))
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def _cli(argv: list[str], log_path: Path) -> str:
    """Run one `fedalert` CLI command in this process (the same code the console script runs,
    without a new interpreter per coordinator action); return its stdout."""
    import contextlib
    import io

    from fedalert.cli import build_parser

    out = io.StringIO()
    args = build_parser().parse_args(argv)
    with contextlib.redirect_stdout(out):
        code = args.func(args)
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(f"$ fedalert {' '.join(argv[:3])} ...\n{out.getvalue()}")
    if code:
        raise ProcessError(f"fedalert {' '.join(argv[:2])} failed ({code}); see {log_path}")
    return out.getvalue()


def _wait_for(pred, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    return None


def demo_people(area: str) -> dict[str, str]:
    """The demo's accounts in each area besides its administrator: user id -> role."""
    return {f"coord-{area}1": "coordinator", f"appr-{area}1": "approver", f"audit-{area}1": "auditor"}


DISCLOSURE_FIELDS = ["risk_level", "current_risk_summary", "conditions", "gender_history"]
RATIONALE = ("The perpetrator is now known in both areas; current risk and any conditions are needed to plan "
             "the victim's safety at this week's MARAC.")


def run_disclosure(fed: Federation, result: dict, *, say=print) -> list[dict]:
    """One disclosure end to end through the running nodes and the matcher's relay.

    The first area asks the other area of a high-tier match for four fields.
    The holding coordinator approves; gender history is withheld because no
    explicit consent or statutory exception is recorded. The release is sealed
    to the requesting area, relayed, verified and stored encrypted; the
    requesting coordinator opens it (an audited view)."""
    requester = fed.areas[0]
    mine = [m for m in fed.node_matches(requester) if m["tier"] == "high" and m["record_id"]]
    if not mine:
        say("no high-tier match in the first area: no disclosure to show")
        return []
    m = sorted(mine, key=lambda x: x["record_id"])[0]
    holder = m["other_area"]
    res = _cli(["disclose", "request", m["match_id"], *fed.area_args(requester),
               "--partner", f"{requester}-council", *fed.login_args(requester, f"coord-{requester}1"),
               "--purpose", "marac",
               "--basis", "uk_gdpr_6_1_e", "--statutory-power", "Crime and Disorder Act 1998 s115",
               "--art9", "uk_gdpr_9_2_g_sch1_para18", "--fields", ",".join(DISCLOSURE_FIELDS),
               "--rationale", RATIONALE, "--channel", "meeting", "--json"], fed.log(f"disclose-{requester}"))
    request_id = json.loads(res)["request_id"]
    say(f"{requester}: coordinator requested {', '.join(DISCLOSURE_FIELDS)} on match {m['match_id']} "
        f"from {holder} (purpose MARAC, basis UK GDPR 6(1)(e)); request {request_id}")
    if not _wait_for(lambda: [r for r in _requests(fed, holder) if r.request.request_id == request_id], WAIT_S):
        raise ProcessError(f"the request did not reach area {holder}; see {fed.log('node-' + holder)}")
    res = _cli(["disclose", "approve", request_id, *fed.area_args(holder), *fed.login_args(holder, f"appr-{holder}1"),
               "--consent", "victim:not_sought:seeking consent would increase the risk to the victim",
               "--consent", "perpetrator:not_sought:would prejudice the prevention of crime", "--json"],
              fed.log(f"disclose-{holder}"))
    decided = json.loads(res)
    say(f"{holder}: approver appr-{holder}1 decided {decided['status']}; withheld: {', '.join(decided['withheld']) or 'none'}")

    def released():
        return [r for r in _requests(fed, requester)
                if r.request.request_id == request_id and r.status == "released"]

    if not _wait_for(released, WAIT_S):
        raise ProcessError(f"the release did not reach area {requester}; see {fed.log('node-' + requester)}")
    row = released()[0]
    view = json.loads(_cli(["disclose", "release-show", row.release_id, *fed.area_args(requester),
                            *fed.login_args(requester, f"coord-{requester}1"), "--json"],
                           fed.log(f"disclose-{requester}")))
    say(f"{requester}: release {row.release_id} verified and stored encrypted; opened by coord-{requester}1 "
        f"(the view is audited): {', '.join(i['field'] for i in view['items'])}")
    withheld = [w.field for w in row.decision.withheld] if row.decision else []
    return [{"match_id": m["match_id"], "purpose": row.request.purpose, "status": row.status,
             "requesting_area": requester, "holding_area": holder, "request_id": request_id,
             "release_id": row.release_id, "fields_requested": list(row.request.fields),
             "fields_released": sorted(i["field"] for i in view["items"]), "fields_withheld": withheld}]


def console_logins(fed: Federation) -> list[dict]:
    """Each area's console and its demo accounts: where to log in, and how to get a code."""
    out = []
    for area in fed.areas:
        url = fed.console_url(area)
        if url is None:
            continue
        people = []
        for user, role in demo_people(area).items():
            d = fed.user_dir(area)
            people.append({"user": user, "role": role, "password_file": str(d / f"{user}.password"),
                           "totp_secret": (d / f"{user}.totp").read_text().strip(),
                           "code_command": f"fedalert node user code --totp-secret-file {d / f'{user}.totp'}"})
        out.append({"area": area, "url": url, "accounts": people,
                    "ca_certificate": str(fed.keys / "areas" / area / "ca.crt")})
    return out


def _say_consoles(logins: list[dict], say) -> None:
    for c in logins[:1]:
        first = c["accounts"][0]
        say("")
        say(f"Coordinator console of area {c['area']}: {c['url']}  (HTTPS; its certificate is signed by the "
            f"federation CA, {c['ca_certificate']}: trust it or accept the warning)")
        say(f"  demo login: user {first['user']}, password in {first['password_file']}")
        say(f"  TOTP secret {first['totp_secret']} (add it to an authenticator app), or print the current code:")
        say(f"    {first['code_command']}")
        say("  other accounts: " + ", ".join(f"{a['user']} ({a['role']})" for a in c["accounts"][1:])
            + f"; other areas: {', '.join(x['area'] + ' ' + x['url'] for x in logins[1:])}")


def _wait_for_interrupt(say) -> None:
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    say("The federation keeps running; press Ctrl-C to stop it.")
    while not stop.wait(0.5):
        pass


def run_demo(workdir: Path | None = None, *, say=print, token_mode: str = "oprf",
             keep_running: bool = False) -> dict:
    """Run the whole demo; return the JSON document. Stops every process it started
    (with *keep_running*, only after Ctrl-C, so that people can try the consoles)."""
    keep = workdir is not None
    root = Path(workdir) if keep else Path(tempfile.mkdtemp(prefix="fedalert-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    fed = Federation(root, list(AREAS), token_mode=token_mode)
    data = make_demo_data(fed.areas)
    try:
        say(f"key ceremony for federation {FEDERATION!r} ({token_mode} token mode), areas "
            f"{', '.join(fed.areas)} -> {fed.keys}")
        fed.make_keys()
        fed.write_overlays(_dt.date.today())
        csvs = data.write(root / "data")
        fed.start_matcher()
        say(f"matcher on 127.0.0.1:{fed.matcher.port} (mutual TLS)")
        if fed.start_keysvc():
            say(f"key service on 127.0.0.1:{fed.keysvc.port} (RFC 9497 VOPRF; no node holds a token key)")
        for area in fed.areas:
            fed.start_node(area)
            say(f"node {area} on 127.0.0.1:{fed.nodes[area].port}")
        for area in fed.areas:
            fed.import_csv(area, csvs[area])
            say(f"imported {len(data.areas[area])} synthetic records into {area}")
        for area in fed.areas:
            fed.make_users(area, demo_people(area), fed.log(f"users-{area}"))
        say(f"accounts (password + TOTP) for each area's people under {root / 'users'}: "
            + ", ".join(f"{u} ({r})" for u, r in demo_people(fed.areas[0]).items()) + ", ...")
        expected = sum(1 for p in data.planted if p.expect_match)
        deadline = time.monotonic() + WAIT_S
        result = _summarise(fed, data.planted)
        while time.monotonic() < deadline:
            result = _summarise(fed, data.planted)
            if sum(p["found"] for p in result["planted"] if p["expect_match"]) >= expected:
                time.sleep(1.0)  # let the last alerts of the other side land
                result = _summarise(fed, data.planted)
                break
            time.sleep(0.25)
        result["disclosures"] = run_disclosure(fed, result, say=say)
        result["token_mode"] = token_mode
        result["consoles"] = console_logins(fed)
        if keep_running:
            say(render(result))
        _say_consoles(result["consoles"], say)
        if keep_running:
            _wait_for_interrupt(say)
        return result
    finally:
        fed.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def render(result: dict) -> str:
    from fedalert.scoring import describe

    lines = ["", "Alerts received by each area (the other area's identity is never sent):"]
    tiers = {m["match_id"]: m for m in result["matches"]}
    for area in result["areas"]:
        ids = result["alerts"][area]
        lines.append(f"  {area}: {len(ids)} live match alert(s)")
        for mid in ids:
            m = tiers[mid]
            other = [a for a in m["areas"] if a != area]
            lines.append(f"    {mid}  tier {m['tier']:<6} with {','.join(other)}  agreed: {describe(m['key_kinds'])}")
    lines.append("")
    lines.append("Planted cross-area pairs:")
    for p in result["planted"]:
        ok = p["found"] == p["expect_match"]
        want = "should match" if p["expect_match"] else "must NOT match"
        got = "found" if p["found"] else "not found"
        lines.append(f"  [{'ok' if ok else 'WRONG'}] {p['kind']}: {want}, {got}")
    lines.append("")
    lines.append("Disclosures under the information sharing protocol:")
    if not result.get("disclosures"):
        lines.append("  none")
    for d in result.get("disclosures", []):
        lines.append(f"  match {d['match_id']}: {d['requesting_area']} asked {d['holding_area']} "
                     f"(purpose {d['purpose']}) -> {d['status']}")
        lines.append(f"    released: {', '.join(d['fields_released']) or 'nothing'}")
        lines.append(f"    withheld: {', '.join(d['fields_withheld']) or 'nothing'}")
    return "\n".join(lines)
