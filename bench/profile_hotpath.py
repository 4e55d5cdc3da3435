"""Profile the publish hot path in one process (cProfile): node tokenising, then matcher indexing.

Usage: python bench/profile_hotpath.py [--areas 4] [--records 4000] [--top 20]

1. node: build_batch (match keys + HMAC tokens + protobuf) over every record;
2. matcher: PublishRequest parse, validate_records and Engine.publish
   against a fresh store file, batches of 500 records as nodes send them.

Prints per-token CPU of each stage and the top functions by own time, to
stderr as text. Nothing is sent over the network.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fed_people import csv_bytes, make_people  # noqa: E402

from fedalert.keys import TokenKeyset  # noqa: E402
from fedalert.matcher._tokens import validate_records  # noqa: E402
from fedalert.matcher.engine import Engine  # noqa: E402
from fedalert.matcher.store import MatcherStore  # noqa: E402
from fedalert.node.importer import import_records, parse_csv  # noqa: E402
from fedalert.node.publisher import BATCH_RECORDS, build_batch  # noqa: E402
from fedalert.node.store import NodeStore  # noqa: E402
from fedalert.v1 import matcher_pb2 as pb  # noqa: E402


def _top(prof: cProfile.Profile, n: int) -> str:
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(n)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--areas", type=int, default=4)
    ap.add_argument("--records", type=int, default=4000)
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    areas = [f"area{i:02d}" for i in range(args.areas)]
    people = make_people(areas, args.records, duplicates=args.areas * args.records // 100)
    keyset = TokenKeyset.generate()
    with tempfile.TemporaryDirectory(prefix="fedalert-prof-") as tmp:
        batches = []
        node_prof, node_cpu, tokens = cProfile.Profile(), 0.0, 0
        for area in areas:
            store = NodeStore(Path(tmp) / f"{area}.db")
            import_records(store, parse_csv(csv_bytes(people.areas[area])), file_name="x.csv")
            pending = store.pending(10 ** 9)
            for i in range(0, len(pending), BATCH_RECORDS):
                c = time.process_time()
                node_prof.enable()
                req, _, n = build_batch(keyset, pending[i:i + BATCH_RECORDS])
                node_prof.disable()
                node_cpu += time.process_time() - c
                tokens += n
                batches.append((area, req.SerializeToString()))
            store.close()
        engine = Engine(MatcherStore(Path(tmp) / "matcher.db"))
        m_prof, m_cpu = cProfile.Profile(), 0.0
        for area, raw in batches:
            c = time.process_time()
            m_prof.enable()
            req = pb.PublishRequest.FromString(raw)
            engine.publish(area, req.batch_id, validate_records(req.records))
            m_prof.disable()
            m_cpu += time.process_time() - c
        print(f"{tokens} tokens, {people.total()} records; CPU under cProfile (inflated, compare shares):\n"
              f"  node   build_batch        {node_cpu / tokens * 1e6:6.2f} us/token\n"
              f"  matcher parse+validate+publish {m_cpu / tokens * 1e6:6.2f} us/token\n", file=sys.stderr)
        print("== node: build_batch ==\n" + _top(node_prof, args.top), file=sys.stderr)
        print("== matcher: publish ==\n" + _top(m_prof, args.top), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
