"""``fedalert keysvc ...``: run the OPRF key service; report evaluations per area."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("fedalert.keysvc")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    from fedalert.keys.keysvc import limits as L

    p = sub.add_parser("keysvc", help="the OPRF key service (token mode oprf): evaluates blinded match keys")
    ksub = p.add_subparsers(dest="keysvc_cmd", required=True, metavar="COMMAND")
    s = ksub.add_parser("serve", help="run the key service until SIGTERM")
    s.add_argument("--keys", type=Path, required=True, help="the keysvc/ folder of the key ceremony")
    s.add_argument("--db", type=Path, required=True, help="SQLite state file (batch ids, counts; created if missing)")
    s.add_argument("--listen", default="127.0.0.1:7446", help="host:port (port 0 = any free port)")
    s.add_argument("--audit", type=Path, help="audit log (default: next to --db)")
    s.add_argument("--health-listen", action="append", default=[], help="another address to serve on (same mTLS)")
    s.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    s.add_argument("--quota", type=_count, metavar="N",
                   help=f"evaluations each area may ask for per UTC day (default {L.DEFAULT_PER_DAY})")
    s.add_argument("--rate", type=_rate, metavar="PER_S",
                   help=f"evaluations per second per area (default {L.DEFAULT_RATE_PER_S:g})")
    s.add_argument("--burst", type=_count, metavar="N", help=f"rate limit burst (default {L.DEFAULT_BURST})")
    s.add_argument("--limits", type=Path, metavar="FILE",
                   help="TOML with [default] and [area.<id>] (evaluations_per_day, rate_per_s, burst)")
    s.add_argument("--workers", type=_count, metavar="N", help="batches evaluated at once (default: CPU count)")
    s.set_defaults(func=_serve)

    r = ksub.add_parser("report", help="evaluations per area and probing flags, for the key custodian")
    r.add_argument("--db", type=Path, required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("--day", help="report for the 7 days to this UTC day, YYYY-MM-DD (default today)")
    r.set_defaults(func=_report)


def _limits(args):
    from fedalert.errors import ConfigError
    from fedalert.keys.keysvc import limits as L

    base = L.Limit(
        evaluations_per_day=L.DEFAULT_PER_DAY if args.quota is None else args.quota,
        rate_per_s=L.DEFAULT_RATE_PER_S if args.rate is None else args.rate,
        burst=L.DEFAULT_BURST if args.burst is None else max(1, args.burst),
    )
    if args.limits is None:
        return L.Limits(default=base)
    try:
        text = args.limits.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read limits file {args.limits}: {exc}") from None
    return L.parse_limits(text, source=str(args.limits), default=base)


def _serve(args) -> int:
    from fedalert.keys.keysvc.server import build_keysvc
    from fedalert.serving import run_until_signal, write_port_file

    app = build_keysvc(args.keys, args.db, args.listen, args.audit, limits=_limits(args),
                       extra_listen=args.health_listen, workers=args.workers or None)
    write_port_file(args.port_file, app.port)
    log.warning("key service listening on port %d", app.port)
    try:
        run_until_signal(app.server, app.health)
    finally:
        app.store.close()
    return 0


def _report(args) -> int:
    import datetime as _dt

    from fedalert.errors import UsageError
    from fedalert.keys.keysvc.report import build_report, render_json, render_text
    from fedalert.keys.keysvc.store import KeysvcStore

    if not args.db.exists():
        raise UsageError(f"{args.db} does not exist; give the key service's --db")
    try:
        today = _dt.date.fromisoformat(args.day) if args.day else _dt.datetime.now(_dt.timezone.utc).date()
    except ValueError:
        raise UsageError("--day must be YYYY-MM-DD") from None
    store = KeysvcStore(args.db)
    try:
        report = build_report(store.usage(), today)
    finally:
        store.close()
    print(render_json(report) if args.json else render_text(report))
    return 0
