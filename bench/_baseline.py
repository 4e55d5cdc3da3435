"""The in-memory limit: the same parsing, normalisation and tokens, then a set intersection.

No processes, no network, no disk index: parse each area's CSV, build the
match keys and tokens exactly as a node does, and find every cross-area pair
of records that share a token with one dictionary. This is what fedalert
would cost if all of it ran in one process on one core with everything in
memory, which is the physical limit of the approach on this machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from fedalert.node.importer import parse_csv
from fedalert.node.matchkeys import build_match_keys
from fedalert.node.tokens import tokenise_keys


@dataclass
class BaselineResult:
    seconds: float = 0.0
    parse_s: float = 0.0
    keys_s: float = 0.0
    tokenise_s: float = 0.0
    intersect_s: float = 0.0
    records: int = 0
    tokens: int = 0
    tokens_by_area: dict[str, int] = field(default_factory=dict)
    pairs: set[tuple[str, str, str, str]] = field(default_factory=set)


def run_baseline(csvs: dict[str, Path], keyset) -> BaselineResult:
    """Time the whole in-memory job over `csvs` (area -> CSV path)."""
    res = BaselineResult()
    owner: dict[bytes, int] = {}  # token -> area index << 32 | record index (first holder)
    extra: dict[bytes, list[int]] = {}  # tokens held by more than one record
    ids: list[list[str]] = []
    areas = list(csvs)
    t_start = time.perf_counter()
    for ai, area in enumerate(areas):
        t = time.perf_counter()
        parsed = parse_csv(Path(csvs[area]).read_bytes())
        res.parse_s += time.perf_counter() - t
        if parsed.errors:
            raise RuntimeError(f"baseline: {area} has bad rows: {parsed.errors[:3]}")
        ids.append([r.record_id for r in parsed.rows])
        n_area = 0
        for ri, row in enumerate(parsed.rows):
            t = time.perf_counter()
            keys = build_match_keys(row.identity)
            t2 = time.perf_counter()
            toks = tokenise_keys(keyset, keys)
            t3 = time.perf_counter()
            res.keys_s += t2 - t
            res.tokenise_s += t3 - t2
            me = ai << 32 | ri
            for values in toks.values():
                n_area += len(values)
                for v in values:
                    first = owner.setdefault(v, me)
                    if first != me:
                        extra.setdefault(v, [first]).append(me)
            res.intersect_s += time.perf_counter() - t3
        res.tokens_by_area[area] = n_area
        res.tokens += n_area
        res.records += len(parsed.rows)
    t = time.perf_counter()
    for holders in extra.values():
        for i, x in enumerate(holders):
            for y in holders[i + 1:]:
                if x >> 32 != y >> 32:
                    a, b = sorted([(areas[x >> 32], ids[x >> 32][x & 0xFFFFFFFF]),
                                   (areas[y >> 32], ids[y >> 32][y & 0xFFFFFFFF])])
                    res.pairs.add((*a, *b))
    res.intersect_s += time.perf_counter() - t
    res.seconds = time.perf_counter() - t_start
    return res
