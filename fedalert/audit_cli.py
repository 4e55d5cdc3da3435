"""``fedalert audit verify|export``: check and review an audit log.

Exit codes: 0 the chain verified; 3 the chain failed verification (each
problem printed with its line and seq); 1 the log could not be read.
``export`` writes the file even when verification fails (reviewers need to
see a damaged log too) and then exits 3.
"""

from __future__ import annotations

import argparse
import sys

from fedalert import audit

EXIT_TAMPERED = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("audit", help="verify or export a hash-chained audit log")
    sub = p.add_subparsers(dest="audit_cmd", required=True, metavar="COMMAND")

    v = sub.add_parser("verify", help="check the hash chain; exit 3 if it was tampered with")
    v.add_argument("path", metavar="PATH", help="audit log file (JSON lines)")
    v.add_argument(
        "--expect-head", metavar="HASH", help="hash of the last entry recorded elsewhere (detects truncation)"
    )
    v.add_argument("--expect-log-id", metavar="ID", help="log id from the genesis entry recorded elsewhere")
    v.set_defaults(func=_cmd_verify)

    e = sub.add_parser("export", help="write a reviewer-friendly CSV or Markdown copy")
    e.add_argument("path", metavar="PATH", help="audit log file (JSON lines)")
    e.add_argument("--out", required=True, metavar="FILE", help="file to write")
    e.add_argument(
        "--format", choices=("csv", "md"), default=None, help="csv or md (default: from the --out suffix, else csv)"
    )
    e.set_defaults(func=_cmd_export)


def _print_report(path: str, report: audit.VerifyReport) -> None:
    if report.ok:
        print(
            f"{path}: OK, {report.entries} entries, log id {report.log_id}, "
            f"head seq {report.head_seq} hash {report.head}"
        )
        return
    print(f"{path}: TAMPERED OR DAMAGED, {len(report.problems)} problem(s) in {report.entries} entries:")
    for prob in report.problems:
        print(f"  - {prob}")


def _cmd_verify(args: argparse.Namespace) -> int:
    report = audit.verify(args.path, expect_head=args.expect_head, expect_log_id=args.expect_log_id)
    _print_report(args.path, report)
    return 0 if report.ok else EXIT_TAMPERED


def _cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or ("md" if str(args.out).lower().endswith(".md") else "csv")
    report = audit.export(args.path, args.out, fmt=fmt)
    if not report.ok:
        print(f"warning: {args.path} failed verification; the export marks it", file=sys.stderr)
        _print_report(args.path, report)
        return EXIT_TAMPERED
    print(f"wrote {args.out} ({fmt}, {report.entries} entries, chain verified)")
    return 0
