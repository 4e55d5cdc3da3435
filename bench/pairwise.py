"""The fedalert side of the PSI comparison alone: two areas through a fresh federation.

Usage: python bench/pairwise.py [--records 10000] [--repeat 1] [--workdir DIR]

Runs exactly what bench/federation.py times as ``fedalert_pairwise_s`` (real
matcher and two real nodes over mTLS, import, tokenise, publish, match, both
areas store every planted alert) without the 32-area run and PSI, so a change
to the hot path can be measured in well under a minute. Prints JSON to stdout.
With ``--repeat N`` it runs the job N times on fresh federations and reports
each run and the median: this machine's speed drifts, so compare medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from federation import federation_run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10000, help="records per area")
    ap.add_argument("--workdir", type=Path, help="keep state and logs here (default: a temporary folder)")
    ap.add_argument("--repeat", type=int, default=1, help="runs on fresh federations (1-20); reports the median")
    args = ap.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        ap.error("--repeat must be 1-20")
    runs = []
    for i in range(args.repeat):
        workdir = args.workdir / f"run{i}" if args.workdir and args.repeat > 1 else args.workdir
        runs.append(_one(args.records, workdir))
    out = dict(runs[0]) if args.repeat == 1 else {
        "records_per_area": args.records,
        "fedalert_pairwise_s": statistics.median(r["fedalert_pairwise_s"] for r in runs),
        "runs": runs,
    }
    print(json.dumps(out, indent=2))
    return 0


def _one(records: int, workdir: Path | None) -> dict:
    root = workdir or Path(tempfile.mkdtemp(prefix="fedalert-pair-"))
    load_start = os.getloadavg()
    t = time.perf_counter()
    try:
        fr = federation_run(root / "pair", ["pair-a", "pair-b"], records, max(4, records // 50), 0, False)
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    res = fr["res"]
    return {
        "records_per_area": records,
        "fedalert_pairwise_s": round(res.all_alerts_s, 2),
        "import_s": round(res.import_s, 2),
        "publish_s": round(res.publish_s, 2),
        "tokens": res.tokens_in_matcher,
        "tokens_per_s_end_to_end": round(res.tokens_in_matcher / res.all_alerts_s, 1),
        "us_per_token_end_to_end": round(res.all_alerts_s / max(res.tokens_in_matcher, 1) * 1e6, 2),
        "matcher_bytes_per_token": round(res.matcher_bytes / max(res.tokens_in_matcher, 1), 1),
        "cpu_s": res.cpu_s,
        "peak_rss_mb": {k: round(v / 1024, 1) for k, v in res.peak_rss_kb.items()},
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.perf_counter() - t, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
