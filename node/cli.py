"""``fedalert node ...``: import records, run the node, read the alert inbox."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from fedalert.node._config import protocol_args, require as _require, settings as _settings

log = logging.getLogger("fedalert.node")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("node", help="an area node (holds the area's own records)")
    nsub = p.add_subparsers(dest="node_cmd", required=True, metavar="COMMAND")

    def conn(sp, need_keys=True):
        sp.add_argument("--config", type=Path, help="TOML file with a [node] table (flags override it)")
        sp.add_argument("--db", type=Path, help="the node's SQLite state file")
        if need_keys:
            sp.add_argument("--keys", type=Path, help="this area's folder from the key ceremony")
            sp.add_argument("--matcher", help="matcher address host:port")
            sp.add_argument("--matcher-name", help="TLS name to expect on the matcher certificate")
            sp.add_argument("--keysvc", help="OPRF key service address host:port (token mode oprf)")
            sp.add_argument("--keysvc-name", help="TLS name to expect on the key service certificate (default keysvc)")

    s = nsub.add_parser("serve", help="run the node: publish changes, receive alerts, serve health")
    conn(s)
    s.add_argument("--listen", help="health/API address host:port (default 127.0.0.1:0)")
    s.add_argument("--audit", type=Path, help="audit log (default: next to --db)")
    s.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    protocol_args(s)
    from fedalert.node.console_cli import console_args, register as _register_console

    s.add_argument("--console", metavar="ADDR", help="also serve the coordinator console (HTTPS) on ADDR, "
                                                     "e.g. 127.0.0.1:8443")
    s.add_argument("--console-port-file", type=Path, help="write the console's bound port here")
    console_args(s, prefix="console-")
    s.set_defaults(func=_serve)
    _register_console(nsub, conn, protocol_args)

    i = nsub.add_parser("import", help="import a canonical CSV export (bad values blanked; a row that cannot "
                                       "identify anyone refuses the file)")
    i.add_argument("file", type=Path)
    conn(i, need_keys=False)
    i.add_argument("--dob-format", help="strptime format for dates (default: UK day-first forms and ISO)")
    i.add_argument("--skip-bad", action="store_true", help="import the other rows when some are refused (they go to the report)")
    i.add_argument("--report", type=Path, help="where to write the report of refused rows and blanked values "
                                                       "(default FILE.report.csv)")
    i.add_argument("--withdraw-missing", action="store_true",
                   help="withdraw active records that are not in this file (the file is a full export)")
    protocol_args(i)
    i.set_defaults(func=_import)

    w = nsub.add_parser("withdraw", help="withdraw a record (closed, retention expired, entered in error)")
    w.add_argument("record_id")
    conn(w, need_keys=False)
    w.add_argument("--reason", required=True, choices=["closed", "retention_expired", "error"])
    w.set_defaults(func=_withdraw)

    y = nsub.add_parser("sync", help="publish pending changes, fetch every alert queued for this area, then exit")
    conn(y)
    y.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="most seconds to spend fetching alerts (default 300); if alerts are still queued then, "
                        "say how many and exit 4")
    y.set_defaults(func=_sync)

    a = nsub.add_parser("alerts", help="list the alert inbox")
    conn(a, need_keys=False)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_alerts)

    st = nsub.add_parser("status", help="print counts: records, pending publishes, alerts, live matches")
    conn(st, need_keys=False)
    st.set_defaults(func=_status)

    b = nsub.add_parser("backup", help="write an online, consistent copy of the node's SQLite state")
    conn(b, need_keys=False)
    b.add_argument("--out", type=Path, required=True, help="new file to write")
    b.set_defaults(func=_backup)

    m = nsub.add_parser("matches", help="list current matches (live unless --all)")
    conn(m, need_keys=False)
    m.add_argument("--all", action="store_true")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=_matches)

    sar = nsub.add_parser("sar", help="subject access: every disclosure request, decision and release about a record")
    sar.add_argument("record_id")
    conn(sar, need_keys=False)
    from fedalert.node._auth_cli import auth_args

    auth_args(sar)
    sar.set_defaults(func=_sar)

    from fedalert.node.user_cli import register as _register_users

    _register_users(nsub, conn)

    from fedalert.node._rotation_cli import register as _register_rotation

    _register_rotation(nsub)


def _node_config(args):
    from fedalert.node.server import NodeConfig

    cfg = _settings(args)
    _require(cfg, "keys_dir", "db", "matcher")
    return NodeConfig(**{k: v for k, v in cfg.items() if k in NodeConfig.__dataclass_fields__})


def _store(args):
    from fedalert.node.store import NodeStore

    cfg = _settings(args)
    _require(cfg, "db")
    return NodeStore(cfg["db"])


def _serve(args) -> int:
    from fedalert.node.server import NodeApp
    from fedalert.serving import run_until_signal, write_port_file

    app = NodeApp(_node_config(args)).start()
    console = None
    try:
        if args.console:
            from fedalert.node.console_cli import start_console

            console = start_console(_settings(args), args.console, args.console_cert, args.console_key,
                                    args.console_idle_minutes)
            write_port_file(args.console_port_file, console.port)
    except BaseException:
        app.stop()
        raise
    write_port_file(args.port_file, app.port)
    log.warning("node listening on port %d, publishing to %s", app.port, app.cfg.matcher)

    def stop():
        if console is not None:
            console.stop()
        app.stop()

    run_until_signal(app.server, None, on_stop=stop)
    return 0


def _progress(done: int, total: int | None) -> None:
    """Rows done so far (total None: still reading a streamed file), then a newline when done == total."""
    if total is None:
        print(f"\r  {done} rows", end="", file=sys.stderr, flush=True)
    else:
        print(f"\r  {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


#: Refused rows listed on stderr when a file is refused (all of them, up to the report's limit, go to the report).
SHOWN_ERRORS = 20


def _write_import_report(report, path: Path) -> str:
    """Write the import report; the phrase to print, or a warning when it could not be written."""
    from fedalert.node.importer import write_report

    try:
        write_report(report, path)
    except OSError as exc:
        return f"the report could not be written to {path} ({exc.strerror})"
    return f"report written to {path}"


def _import(args) -> int:
    from fedalert.audit import AuditLog
    from fedalert.node.errors import ImportRejectedError
    from fedalert.node.importer import ImportReport, import_file

    store = _store(args)
    cfg = _settings(args)
    audit = AuditLog(cfg.get("audit") or Path(cfg["db"]).with_suffix(".audit.jsonl"))
    report_path = args.report or args.file.with_name(args.file.name + ".report.csv")
    try:
        res = import_file(store, args.file, dob_format=args.dob_format, skip_bad=args.skip_bad,
                          withdraw_missing=args.withdraw_missing, progress=_progress, audit=audit,
                          protocol=_load_protocol(cfg))
    except ImportRejectedError as exc:
        for e in exc.errors[:SHOWN_ERRORS]:
            print(f"  {e}", file=sys.stderr)
        if exc.total > SHOWN_ERRORS:
            print(f"  ... and {exc.total - SHOWN_ERRORS} more", file=sys.stderr)
        report = exc.report
        if report is None:
            report = ImportReport()
            for e in exc.errors:
                report.error(e)
        print(_write_import_report(report, report_path), file=sys.stderr)
        raise
    for note in res.notes:
        print(f"warning: {note}", file=sys.stderr)
    if summary := res.report.summary():
        print(f"warning: {summary}", file=sys.stderr)
    if res.report:
        skipped = f"{res.rejected} refused row(s) skipped; " if res.rejected else ""
        print(skipped + _write_import_report(res.report, report_path), file=sys.stderr)
    print(f"imported {args.file.name}: {res.added} added, {res.updated} updated, {res.unchanged} unchanged, "
          f"{res.rejected} rejected, {res.withdrawn} withdrawn"
          + (f"; {res.case_values} case values stored" if res.case_values else "")
          + (f"; {res.no_fixed_abode} of no fixed abode" if res.no_fixed_abode else ""))
    return 0


def _load_protocol(cfg: dict):
    from fedalert.node.disclosure.protocol import bundled_national_path, load_protocol

    return load_protocol(cfg.get("protocol") or bundled_national_path(), cfg.get("overlay"))


def _sar(args) -> int:
    from fedalert.node._auth_cli import login, open_service

    with open_service(args) as svc:
        print(svc.sar_listing(login(svc, args), args.record_id), end="")
    return 0


def _withdraw(args) -> int:
    from fedalert.node.errors import NodeError

    store = _store(args)
    with store.transaction():
        ok = store.withdraw_record(args.record_id, args.reason)
    if not ok:
        raise NodeError(f"no active record {args.record_id!r} in this node")
    print(f"withdrawn {args.record_id}; the next publish tells the matcher")
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("give a number of seconds, such as 300") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("give a number of seconds between 0 and 86400")
    return value


def _sync(args) -> int:
    from fedalert.audit import AuditLog
    from fedalert.keys import TokenKeyset
    from fedalert.node.errors import SyncIncompleteError
    from fedalert.node.inbox import SYNC_TIMEOUT_S, drain
    from fedalert.node.publisher import publish_pending
    from fedalert.node.server import connect
    from fedalert.node.store import NodeStore

    from fedalert.node.server import check_key_files

    cfg = _node_config(args)
    check_key_files(Path(cfg.keys_dir))  # refuse loose key files before touching anything
    store = NodeStore(cfg.db)
    audit = AuditLog(cfg.audit_path())
    from fedalert.node.rotation import fetch_and_install, publish_key_ids, republish_if_rotated
    from fedalert.node.trust import NodeTrust
    from fedalert.v1 import matcher_pb2_grpc as pb_grpc

    trust = NodeTrust(Path(cfg.keys_dir))
    trust.check_matcher(cfg.matcher, cfg.matcher_name)  # revoked/unknown matcher: refuse
    channel, stub = connect(cfg)
    ks_channel = None
    with channel:
        if trust.directory().token_mode == "oprf":
            from fedalert.node.oprf_tokens import open_token_source

            keyset, ks_channel = open_token_source(Path(cfg.keys_dir), Path(cfg.db), cfg.keysvc, cfg.keysvc_name, trust)
        else:
            fetch_and_install(pb_grpc.KeyRelayStub(channel), Path(cfg.keys_dir), audit)
            keyset = TokenKeyset.load(Path(cfg.keys_dir) / "tokens.keyset.json")
        try:
            republish_if_rotated(store, keyset, audit)
            stats = publish_pending(store, stub, keyset, progress=_progress, audit=audit,
                                    key_ids=publish_key_ids(store, keyset))
        finally:
            if ks_channel is not None:
                ks_channel.close()
                keyset.cache.close()
        timeout = args.timeout or SYNC_TIMEOUT_S
        got = drain(store, stub, audit, timeout=timeout)
    print(f"published {stats.records} records ({stats.tokens} tokens), {stats.withdrawn} withdrawals; "
          f"{got.new} new alerts ({got.received} fetched)")
    if got.taken_over:
        print("the running node opened its own alert stream; it receives the rest")
    elif got.queued_at_start is None and got.complete:
        print("this matcher does not count its queue (an older version): alerts were read until none came "
              "for 2 seconds")
    if not got.complete:
        left = "an unknown number of" if got.remaining is None else str(got.remaining)
        raise SyncIncompleteError(f"--timeout {timeout:g} s ran out with {left} alert(s) still queued for this "
                                  "area; run 'fedalert node sync' again, or give a longer --timeout")
    return 0


def _print_rows(rows: list[dict], as_json: bool, empty: str, line) -> int:
    from fedalert.scoring import describe

    rows = [{**r, "evidence": describe(r["kinds"])} for r in rows]
    if as_json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print(empty)
    for r in [] if as_json else rows:
        print(line(r) + f"  record {r['record_id']}  other area {r['other_area']}  kinds {','.join(r['kinds'])}")
        print(f"    agreed: {r['evidence']}")
    return 0


def _alerts(args) -> int:
    return _print_rows(_store(args).alerts(), args.json, "no alerts",
                       lambda r: f"{r['alert_id']}  {r['type']:<10} match {r['match_id']}  tier {r['tier']:<6}")


def _matches(args) -> int:
    return _print_rows(_store(args).matches(live_only=not args.all), args.json, "no matches",
                       lambda r: f"{r['match_id']}  {r['status']:<9} tier {r['tier']:<6}")


def _status(args) -> int:
    store = _store(args)
    print(json.dumps(store.status(), indent=2))
    return 0


def _backup(args) -> int:
    from fedalert.migrations import backup

    cfg = _settings(args)
    _require(cfg, "db")
    backup(cfg["db"], args.out)
    print(f"backup written to {args.out}")
    return 0
