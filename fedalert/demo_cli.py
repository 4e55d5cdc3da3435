"""``fedalert demo``: bring up a local federation and show it working."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run a whole federation on this machine and show alerts")
    p.add_argument("--workdir", type=Path, help="keep keys, configs, CSVs, databases and logs here")
    p.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
    p.add_argument("--token-mode", choices=["oprf", "hmac"], default="oprf",
                   help="oprf (default): a key service evaluates blinded match keys, no node holds a token key; "
                        "hmac: every node holds the token keyset")
    p.add_argument("--keep", action="store_true",
                   help="leave the federation (and its consoles) running until Ctrl-C")
    p.set_defaults(func=_demo)


def _demo(args) -> int:
    from fedalert.demo import render, run_demo

    say = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    result = run_demo(args.workdir, say=say, token_mode=args.token_mode, keep_running=args.keep)
    if args.json:
        print(json.dumps(result, indent=2))
    elif not args.keep:  # with --keep the summary was shown before the wait
        print(render(result))
    wrong = [p for p in result["planted"] if p["found"] != p["expect_match"]]
    return 1 if wrong else 0
