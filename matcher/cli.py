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
    _register_key_lifecycle(msub)

    s = msub.add_parser("serve", help="run the matcher gRPC service until SIGTERM")
    s.add_argument("--keys", type=Path, required=True, help="the matcher/ folder of the key ceremony")
    s.add_argument("--db", type=Path, required=True, help="SQLite state file (created if missing)")
    s.add_argument("--listen", default="127.0.0.1:7443", help="host:port (port 0 = any free port)")
    s.add_argument("--audit", type=Path, help="audit log (default: next to --db)")
    s.add_argument("--health-listen", action="append", default=[],
                   help="another address to serve on (all services, same mTLS), e.g. 127.0.0.1:7445 for health checks")
    s.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    s.add_argument("--quota-records", type=_count, metavar="N",
                   help="records each area may publish per UTC day (default %d)" % _q().DEFAULT_RECORDS_PER_DAY)
    s.add_argument("--quota-tokens", type=_count, metavar="N",
                   help="tokens each area may publish per UTC day (default %d)" % _q().DEFAULT_TOKENS_PER_DAY)
    s.add_argument("--quotas", type=Path, metavar="FILE",
                   help="TOML with [default] and [area.<id>] quotas (records_per_day, tokens_per_day)")
    s.add_argument("--max-streams", type=_positive, metavar="N",
                   help="alert/envelope streams served at once (default %d)" % _streams().DEFAULT_MAX_STREAMS)
    s.set_defaults(func=_serve)

    r = msub.add_parser("report", help="per-area activity and probing flags for the federation operator")
    r.add_argument("--db", type=Path, required=True)
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--day", help="report for the 7 days to this UTC day, YYYY-MM-DD (default today)")
    r.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                   help="override a flag threshold, e.g. volume_factor=3 (see fedalert.matcher.probing.Thresholds)")
    r.set_defaults(func=_report)

    st = msub.add_parser("status", help="print counts of records, tokens, matches and queued alerts")
    st.add_argument("--db", type=Path, required=True)
    st.set_defaults(func=_status)

    b = msub.add_parser("backup", help="write an online, consistent copy of the matcher's SQLite state")
    b.add_argument("--db", type=Path, required=True)
    b.add_argument("--out", type=Path, required=True, help="new file to write")
    b.set_defaults(func=_backup)


def _register_key_lifecycle(msub) -> None:
    from fedalert.matcher._lifecycle_cli import register as _register_lifecycle

    _register_lifecycle(msub)  # key-ids, retire-key


def _q():
    from fedalert.matcher import quotas
    return quotas


def _streams():
    from fedalert.matcher import streams
    return streams


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _quotas(args):
    from fedalert.errors import ConfigError

    q = _q()
    base = q.Quota(
        records_per_day=q.DEFAULT_RECORDS_PER_DAY if args.quota_records is None else args.quota_records,
        tokens_per_day=q.DEFAULT_TOKENS_PER_DAY if args.quota_tokens is None else args.quota_tokens,
    )
    if args.quotas is None:
        return q.Quotas(default=base)
    try:
        text = args.quotas.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read quotas file {args.quotas}: {exc}") from None
    return q.parse_quotas(text, source=str(args.quotas), default=base)


def _serve(args) -> int:
    from fedalert.matcher.server import build_matcher
    from fedalert.serving import run_until_signal, write_port_file

    extra = {"quotas": _quotas(args), "extra_listen": args.health_listen}
    if args.max_streams:
        extra["max_streams"] = args.max_streams
    app = build_matcher(args.keys, args.db, args.listen, args.audit, **extra)
    write_port_file(args.port_file, app.port)
    log.warning("matcher listening on port %d", app.port)
    try:
        run_until_signal(app.server, app.health)
    finally:
        app.stop(grace=0.5)  # folds the WAL back into the database file and closes it
    return 0


def _status(args) -> int:
    from fedalert.matcher.store import MatcherStore

    print(json.dumps(MatcherStore(args.db).counts(), indent=2))
    return 0


def _backup(args) -> int:
    from fedalert.migrations import backup

    backup(args.db, args.out)
    print(f"backup written to {args.out}")
    return 0


def _report(args) -> int:
    import datetime as _dt

    from fedalert.errors import UsageError
    from fedalert.matcher.report import build_report, render_json, render_text
    from fedalert.matcher.store import MatcherStore

    if not args.db.is_file():
        raise UsageError(f"no matcher database at {args.db}; give the --db the matcher serves")
    try:
        day = _dt.date.fromisoformat(args.day) if args.day else _dt.datetime.now(_dt.timezone.utc).date()
    except ValueError:
        raise UsageError(f"--day {args.day!r} is not a date like 2026-11-25") from None
    report = build_report(MatcherStore(args.db), day, _thresholds(args.threshold))
    print(render_json(report) if args.json else render_text(report))
    return 0


def _thresholds(items: list[str]):
    import dataclasses

    from fedalert.errors import UsageError
    from fedalert.matcher.probing import Thresholds

    fields = {f.name: f.type for f in dataclasses.fields(Thresholds)}
    values = {}
    for item in items:
        name, _, text = item.partition("=")
        if name not in fields:
            raise UsageError(f"--threshold {item!r}: unknown name; use one of {', '.join(sorted(fields))}")
        try:
            value = float(text) if fields[name] in (float, "float") else int(text)
        except ValueError:
            raise UsageError(f"--threshold {item!r}: {text!r} is not a number") from None
        if value < 0 or (name.endswith("days") and value < 1):
            raise UsageError(f"--threshold {item!r}: must be positive")
        values[name] = value
    return Thresholds(**values)
