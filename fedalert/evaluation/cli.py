"""``fedalert eval-linkage AREA.csv... --truth TRUTH.csv``: measure linkage quality.

Runs the real node normaliser and tokeniser and the matcher's scoring in
process over canonical CSV files (one per area, area name = file stem) and
prints precision, recall and F1 overall and per tier against TRUTH.csv.
``--pairs OUT.csv`` also writes every alerted pair, one a line
(area_a,record_id_a,area_b,record_id_b,tier,score), to be scored with any tool.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

from fedalert.errors import UsageError
from fedalert import scoring
from fedalert.evaluation import _csv as _evalcsv
from fedalert.evaluation.linkage import evaluate_linkage


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval-linkage",
        help="measure match precision/recall against labelled synthetic or benchmark areas",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("areas", nargs="+", type=Path, metavar="AREA.csv", help="canonical CSV, one per area (area = file stem)")
    p.add_argument("--truth", required=True, type=Path, metavar="TRUTH.csv", help="columns record_id,person_id")
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    p.add_argument("--pairs", type=Path, metavar="OUT.csv",
                   help="also write the alerted pairs, one a line: area_a,record_id_a,area_b,record_id_b,tier,score")
    p.add_argument(
        "--threshold", type=float, default=scoring.ALERT_THRESHOLD,
        help=f"alert threshold in bits (default {scoring.ALERT_THRESHOLD})",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stems = [a.stem for a in args.areas]
    if len(set(stems)) != len(stems):
        raise UsageError("two area files have the same name; the file stem is the area name, so give distinct names")
    if len(stems) < 2:
        raise UsageError("give at least two area files: only cross-area pairs are scored")

    warnings: list[str] = []
    records = {a.stem: _evalcsv.read_area(a, warnings.append) for a in args.areas}
    truth = _evalcsv.read_truth(args.truth)
    seen: dict[str, str] = {}
    for area, recs in records.items():
        for rid in recs:
            if rid in seen:
                raise UsageError(f"record_id {rid} is in both {seen[rid]} and {area}; truth needs unique record ids")
            seen[rid] = area
    for w in warnings[:20]:
        print(f"warning: {w}", file=sys.stderr)
    if len(warnings) > 20:
        print(f"warning: ... and {len(warnings) - 20} more warnings", file=sys.stderr)

    result = evaluate_linkage(records, truth, threshold=args.threshold)
    if args.pairs:
        _write_pairs(args.pairs, result.alerted)
        print(f"{len(result.alerted)} alerted pairs written to {args.pairs}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    n = sum(len(r) for r in records.values())
    print(f"areas: {', '.join(f'{a} ({len(r)})' for a, r in records.items())}; records {n}; "
          f"true cross-area pairs {result.true_pairs}; threshold {args.threshold:g}")
    print(f"{'':10} {'precision':>9} {'recall':>7} {'f1':>7} {'pairs':>8}")
    rows = [("overall", result.overall)] + [(f">= {t}", f) for t, f in result.tiers.items()]
    for label, f in rows:
        print(f"{label:10} {f.precision:9.4f} {f.recall:7.4f} {f.f1:7.4f} {f.pairs:8d}")
    print(f"tokens per record {result.tokens_per_record:.1f}; candidate pairs {result.stats.candidate_pairs}; "
          f"seconds {result.seconds:.2f}")
    print("true pairs without an alert: " + "; ".join(f"{n} {why}" for why, n in result.missed.items()))
    print("largest share of one token value per kind:")
    for kind, share in sorted(result.stats.kind_top_share.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:15} {share:.5f} of {result.stats.kind_tokens[kind]} tokens")
    return 0


PAIRS_HEADER = ("area_a", "record_id_a", "area_b", "record_id_b", "tier", "score")


def _write_pairs(path: Path, alerted) -> None:
    """The alerted pairs as CSV (created 0600: record ids that matched are case information)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(PAIRS_HEADER)
        for ((area_a, rid_a), (area_b, rid_b)), verdict in alerted:
            w.writerow([area_a, rid_a, area_b, rid_b, verdict.tier, f"{verdict.score:.6f}"])
