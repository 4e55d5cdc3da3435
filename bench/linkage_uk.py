"""UK-style synthetic linkage benchmark: 3 areas at 2,000 and 20,000 per area.

Generates the areas with bench/make_people.py into a temporary folder and
runs ``fedalert eval-linkage`` (in process, same code as the CLI) on each,
then prints the precision at both sizes and their difference.

Usage: python bench/linkage_uk.py [--sizes 2000 20000] [--seed 1] [--threshold T]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_people  # noqa: E402
from linkage_febrl import run_eval  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threshold", type=float, help="alert threshold in bits (default: the scoring default)")
    args = ap.parse_args()
    precision = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            out = Path(tmp) / f"uk{size}"
            rows, truth = make_people.make_areas(size, 3, args.seed)
            paths = make_people.write(out, rows, truth)
            print(f"== UK synthetic, 3 areas x {size}", flush=True)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                run_eval(paths, out / "truth.csv", args.threshold, as_json=False)
            print(buf.getvalue(), end="", flush=True)
            overall = next(line for line in buf.getvalue().splitlines() if line.startswith("overall"))
            precision[size] = float(overall.split()[1])
    if len(precision) >= 2:
        sizes = sorted(precision)
        print(f"precision at {sizes[0]}: {precision[sizes[0]]:.4f}; at {sizes[-1]}: {precision[sizes[-1]]:.4f}; "
              f"difference {abs(precision[sizes[0]] - precision[sizes[-1]]):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
