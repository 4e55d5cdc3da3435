"""Linkage evaluation: run the real node and matcher logic over labelled areas.

engine_link() is the in-process pipeline: each record's identity goes
through the node's normaliser and match-key builder, every key becomes a
keyed token with the exact formula of docs/INTERFACES.md (HMAC-SHA256 under a
throwaway key, kind and key id bound in, first 16 bytes), and the records are
published in batches into the matcher's own Engine, which finds candidates,
scores them with fedalert.scoring and keeps the matches. link() is
an in-memory reference of the same scoring, used to cross-check the engine.

measure() compares the scored pairs with truth labels. Labels are used only
here, after scoring: nothing upstream sees them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from fedalert import scoring
from fedalert.node.identity import Identity
from fedalert.node.matchkeys import build_match_keys

RecordRef = tuple[str, str]  # (area, record_id)
Pair = tuple[RecordRef, RecordRef]  # ordered: smaller ref first

KEY_ID = "eval"

#: A token value shared by more records than this is not paired up (a
#: bound on work; the matcher's quotas play this part in the service).
MAX_BUCKET = 2000


def token(key: bytes, key_id: str, kind: str, match_key: str) -> bytes:
    """The token formula of docs/INTERFACES.md."""
    message = b"fedalert/v1\x00" + key_id.encode() + b"\x00" + kind.encode() + b"\x00" + match_key.encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:16]


@dataclass
class LinkStats:
    records: int = 0
    tokens: int = 0
    candidate_pairs: int = 0
    skipped_buckets: int = 0
    candidates: set = field(default_factory=set)  # every cross-area pair that shared a token
    family_pairs: set = field(default_factory=set)  # candidates showing a twin / same-named relative signature
    kind_tokens: Counter = field(default_factory=Counter)  # kind -> tokens published
    kind_top_share: dict[str, float] = field(default_factory=dict)  # kind -> largest share of one value

    @property
    def tokens_per_record(self) -> float:
        return self.tokens / self.records if self.records else 0.0


def _index(records_by_area, key: bytes, stats: LinkStats):
    """Node side: match keys and tokens of every record, indexed by (kind, token)."""
    kinds_of: dict[RecordRef, frozenset[str]] = {}
    tokens_of: dict[RecordRef, frozenset[tuple[str, bytes]]] = {}
    index: dict[tuple[str, bytes], list[RecordRef]] = defaultdict(list)
    for area, records in records_by_area.items():
        for rid, identity in records.items():
            ref = (area, rid)
            keys = build_match_keys(identity)
            kinds_of[ref] = frozenset(keys)
            toks = []
            stats.records += 1
            for kind, values in keys.items():
                stats.kind_tokens[kind] += len(values)
                stats.tokens += len(values)
                for value in values:
                    tok = token(key, KEY_ID, kind, value)
                    index[(kind, tok)].append(ref)
                    toks.append((kind, tok))
            tokens_of[ref] = frozenset(toks)
    return kinds_of, tokens_of, index


def _candidates(index, stats: LinkStats) -> dict[Pair, set[str]]:
    """Every cross-area pair sharing a token, with the kinds it shares."""
    agreed: dict[Pair, set[str]] = defaultdict(set)
    top: Counter = Counter()
    for (kind, _tok), refs in index.items():
        top[kind] = max(top[kind], len(refs))
        if len(refs) < 2:
            continue
        if len(refs) > MAX_BUCKET:
            stats.skipped_buckets += 1
            continue
        for i, a in enumerate(refs):
            for b in refs[i + 1 :]:
                if a[0] != b[0]:
                    agreed[(a, b) if a < b else (b, a)].add(kind)
    stats.kind_top_share = {k: top[k] / stats.kind_tokens[k] for k in top if stats.kind_tokens[k]}
    stats.candidate_pairs = len(agreed)
    stats.candidates = set(agreed)
    return agreed


def _note_family(pair: Pair, kinds: set[str], kinds_of, verdict, stats: LinkStats) -> None:
    if verdict.tier is None and scoring.explain(kinds, kinds_of[pair[0]], kinds_of[pair[1]]).family:
        stats.family_pairs.add(pair)


def link(
    records_by_area: Mapping[str, Mapping[str, Identity]],
    *,
    threshold: float = scoring.ALERT_THRESHOLD,
    key: bytes | None = None,
    stats: LinkStats | None = None,
) -> list[tuple[Pair, scoring.Verdict]]:
    """In-memory reference: score every cross-area pair that shares a token.

    Used to cross-check the engine path (tests/test_eval_linkage.py) and
    for quick experiments; eval-linkage itself runs :func:`engine_link`.
    """
    key = key or os.urandom(32)
    stats = stats if stats is not None else LinkStats()
    kinds_of, _, index = _index(records_by_area, key, stats)
    out = []
    for pair, kinds in _candidates(index, stats).items():
        verdict = scoring.evaluate(kinds, kinds_of[pair[0]], kinds_of[pair[1]], threshold=threshold)
        _note_family(pair, kinds, kinds_of, verdict, stats)
        out.append((pair, verdict))
    return out


def engine_link(
    records_by_area: Mapping[str, Mapping[str, Identity]],
    *,
    threshold: float = scoring.ALERT_THRESHOLD,
    key: bytes | None = None,
    stats: LinkStats | None = None,
    batch_records: int = 500,
) -> list[tuple[Pair, scoring.Verdict]]:
    """The real pipeline: node match keys and tokens, published batch by batch
    into the matcher's own Engine (its SQLite store, in a temporary folder),
    which finds candidates, scores them and keeps the matches. Returns the
    pairs the engine holds as live matches (those that would alert).

    The in-memory index is also kept, only to explain misses (no shared token,
    family signature) in the report; it plays no part in the result.
    """
    import functools
    import tempfile
    import uuid
    from pathlib import Path

    from fedalert.matcher._tokens import RecordIn
    from fedalert.matcher.engine import Engine
    from fedalert.matcher.store import MatcherStore

    key = key or os.urandom(32)
    stats = stats if stats is not None else LinkStats()
    kinds_of, tokens_of, index = _index(records_by_area, key, stats)
    ref_of: dict[tuple[str, str], RecordRef] = {}
    with tempfile.TemporaryDirectory(prefix="fedalert-eval-") as tmp:
        store = MatcherStore(Path(tmp) / "matcher.db")
        try:
            engine = Engine(store, evaluate=functools.partial(scoring.evaluate, threshold=threshold))
            for area, records in records_by_area.items():
                batch: list[RecordIn] = []
                for rid in records:
                    handle = f"h{len(ref_of):015d}"  # meaningless, like a node's random handle
                    ref_of[(area, handle)] = (area, rid)
                    batch.append(RecordIn(handle, KEY_ID, tokens_of[(area, rid)]))
                    if len(batch) == batch_records:
                        engine.publish(area, uuid.uuid4().hex, batch)
                        batch = []
                if batch:
                    engine.publish(area, uuid.uuid4().hex, batch)
            rows = store.live_matches()
        finally:
            store.close(checkpoint=False)
    out = []
    for area_a, handle_a, area_b, handle_b, tier, score in rows:
        a, b = ref_of[(area_a, handle_a)], ref_of[(area_b, handle_b)]
        out.append(((a, b) if a < b else (b, a), scoring.Verdict(score, tier)))
    alerted = {p for p, _ in out}
    for pair, kinds in _candidates(index, stats).items():
        if pair not in alerted:
            verdict = scoring.evaluate(kinds, kinds_of[pair[0]], kinds_of[pair[1]], threshold=threshold)
            _note_family(pair, kinds, kinds_of, verdict, stats)
    return out


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float
    f1: float
    pairs: int  # predicted pairs

    def as_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "pairs": self.pairs}


def true_pairs(records_by_area: Mapping[str, Iterable[str]], truth: Mapping[str, str]) -> set[Pair]:
    """Cross-area pairs of records with the same person id."""
    by_person: dict[str, list[RecordRef]] = defaultdict(list)
    for area, rids in records_by_area.items():
        for rid in rids:
            if rid in truth:
                by_person[truth[rid]].append((area, rid))
    out: set[Pair] = set()
    for refs in by_person.values():
        for i, a in enumerate(refs):
            for b in refs[i + 1 :]:
                if a[0] != b[0]:
                    out.add((a, b) if a < b else (b, a))
    return out


def figures(predicted: set[Pair], truth_pairs: set[Pair]) -> Figures:
    hits = len(predicted & truth_pairs)
    p = hits / len(predicted) if predicted else 1.0
    r = hits / len(truth_pairs) if truth_pairs else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return Figures(round(p, 5), round(r, 5), round(f, 5), len(predicted))


@dataclass
class Evaluation:
    overall: Figures
    tiers: dict[str, Figures]
    tokens_per_record: float
    seconds: float
    stats: LinkStats
    true_pairs: int
    missed: dict[str, int]  # why true pairs raised no alert
    alerted: list[tuple[Pair, scoring.Verdict]] = field(default_factory=list)  # every pair at or above threshold

    def as_json(self) -> dict:
        return {
            "overall": self.overall.as_dict(),
            "tiers": {t: f.as_dict() for t, f in self.tiers.items()},
            "tokens_per_record": round(self.tokens_per_record, 2),
            "seconds": round(self.seconds, 3),
        }


def evaluate_linkage(
    records_by_area: Mapping[str, Mapping[str, Identity]],
    truth: Mapping[str, str],
    *,
    threshold: float = scoring.ALERT_THRESHOLD,
    linker: Callable[..., list[tuple[Pair, scoring.Verdict]]] | None = None,
) -> Evaluation:
    """Link, then measure precision/recall/F1 overall and per tier (at that tier or above)."""
    start = time.perf_counter()
    stats = LinkStats()
    scored = (linker or engine_link)(records_by_area, threshold=threshold, stats=stats)
    seconds = time.perf_counter() - start
    truth_pairs = true_pairs({a: list(r) for a, r in records_by_area.items()}, truth)
    order = {t: i for i, t in enumerate(scoring.TIERS)}
    overall = figures({p for p, v in scored if v.tier is not None}, truth_pairs)
    tiers = {
        tier: figures({p for p, v in scored if v.tier is not None and order[v.tier] >= order[tier]}, truth_pairs)
        for tier in reversed(scoring.TIERS)
    }
    alerted = {p for p, v in scored if v.tier is not None}
    missed_pairs = truth_pairs - alerted
    missed = {
        "no shared token": len(missed_pairs - stats.candidates),
        "family signature (twins / same-named relatives pattern)": len(missed_pairs & stats.family_pairs),
    }
    missed["below threshold otherwise"] = len(missed_pairs) - sum(missed.values())
    return Evaluation(overall, tiers, stats.tokens_per_record, seconds, stats, len(truth_pairs), missed,
                      sorted((p, v) for p, v in scored if v.tier is not None))
