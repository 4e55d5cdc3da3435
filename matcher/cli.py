"""``fedalert matcher ...``: run the matcher and inspect its state."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger("fedalert.matcher")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("matcher", help="the matcher service (holds tokens, never identities)")
    msub = p.add_subparsers(dest="matcher_cmd", required=True, metavar="COMMAND")

    s = msub.add_parser("serve", help="run the matcher gRPC service until SIGTERM")
    s.add_argument("--keys", type=Path, required=True, help="the matcher/ folder of the key ceremony")
    s.add_argument("--db", type=Path, required=True, help="SQLite state file (created if missing)")
    s.add_argument("--listen", default="127.0.0.1:7443", help="host:port (port 0 = any free port)")
    s.add_argument("--audit", type=Path, help="audit log (default: next to --db)")
    s.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    s.set_defaults(func=_serve)

    st = msub.add_parser("status", help="print counts of records, tokens, matches and queued alerts")
    st.add_argument("--db", type=Path, required=True)
    st.set_defaults(func=_status)


def _serve(args) -> int:
    from fedalert.matcher.server import build_matcher
    from fedalert.serving import run_until_signal, write_port_file

    app = build_matcher(args.keys, args.db, args.listen, args.audit)
    write_port_file(args.port_file, app.port)
    log.warning("matcher listening on port %d", app.port)
    run_until_signal(app.server, app.health)
    return 0


def _status(args) -> int:
    from fedalert.matcher.store import open_store

    db = open_store(args.db)
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    print(json.dumps({
        "records": q("SELECT count(*) FROM records"),
        "tokens": q("SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM tokens_staged)"),
        "matches_live": q("SELECT count(*) FROM matches WHERE status='live'"),
        "matches_withdrawn": q("SELECT count(*) FROM matches WHERE status='withdrawn'"),
        "alerts_queued": q("SELECT count(*) FROM alerts"),
        "envelopes_queued": q("SELECT count(*) FROM envelopes WHERE length(sealed) > 0"),
    }, indent=2))
    return 0
