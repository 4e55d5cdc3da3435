"""Benchmark: retiring an old token key id at the matcher after all areas republished.

Builds a matcher store (real SQLite file) with N records per area for two
areas, all published under an old and a new key id, with every record of
area a matching one in area b, then times ``keyids.retire`` of the old key id.
Prints figures; asserts nothing about time.

    python bench/rotation_retire.py [N]
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

from fedalert.matcher import keyids
from fedalert.matcher._tokens import RecordIn
from fedalert.matcher.engine import Engine
from fedalert.matcher.store import MatcherStore


def _tok(*parts: str) -> bytes:
    return hashlib.sha256("/".join(parts).encode()).digest()[:16]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = MatcherStore(Path(tmp) / "m.db")
        engine = Engine(store)
        guard = keyids.KeyIdGuard(store, engine.clock)
        t0 = time.perf_counter()
        for key in ("k00000001", "k00000002"):
            for area in ("a", "b"):
                for start in range(0, n, 500):
                    recs = [RecordIn(f"h{area}{i:08d}", key, frozenset({("name_dob", _tok(key, "nd", str(i))),
                                                                         ("pnc", _tok(key, "pnc", str(i)))}))
                            for i in range(start, min(n, start + 500))]
                    guard.before_publish(recs)
                    engine.publish(area, f"{key}-{area}-{start}", recs)
        t1 = time.perf_counter()
        live = store.counts()["matches_live"]
        res = keyids.retire(engine, "k00000001", grace_days=0)
        t2 = time.perf_counter()
        after = store.counts()
        live_after, alerts = after["matches_live"], after["alerts_queued"]
        print(f"records per area per key: {n}; matches live: {live}")
        print(f"publish (2 keys x 2 areas): {t1 - t0:.2f} s")
        print(f"retire old key: {res.records} records dropped in {t2 - t1:.2f} s "
              f"({res.records / max(t2 - t1, 1e-9):.0f} records/s); matches withdrawn {res.matches_withdrawn}; "
              f"live after {live_after}; alerts queued (all NEW from publishing) {alerts}")
        store.close(checkpoint=False)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
