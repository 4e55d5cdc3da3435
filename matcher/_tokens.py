"""Validation and packing of published token sets (private to the matcher).

A record arrives packed (see RecordTokens in proto/fedalert/v1/matcher.proto):
its kinds, a count per kind and one bytes field holding every 16-byte value,
grouped by kind. Validation checks that shape whole and keeps it as it came
(kinds, counts, values), and the matcher stores it nearly as it came (see
:func:`pack_runs`), so it makes no Python object per token until it needs
one: only a candidate pair's two records are ever split into tokens.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass, field
from itertools import accumulate, chain

from fedalert.matcher.errors import InvalidRequestError

TOKEN_BYTES = 16
MAX_BATCH_RECORDS = 1000
MAX_TOKENS_PER_RECORD = 2048
MAX_KINDS_PER_RECORD = 64
_HANDLE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _split(values: bytes) -> list[bytes]:
    return [values[i:i + TOKEN_BYTES] for i in range(0, len(values), TOKEN_BYTES)]


Runs = tuple[tuple[str, ...], tuple[int, ...], bytes]


@dataclass(frozen=True)
class RecordIn:
    """One record's token set under one key id.

    Built either from (kind, value) pairs (``RecordIn(handle, key_id, pairs)``)
    or, on the publish path, as it came off the wire (:meth:`from_wire`):
    kinds, a count per kind, and the values grouped by kind in that order.
    Each form is derived from the other only when asked for.
    """

    handle: str
    key_id: str
    pairs: frozenset[tuple[str, bytes]] | None = None  # (kind, value)
    wire: Runs | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_wire(cls, handle: str, key_id: str, kinds, counts, values: bytes) -> RecordIn:
        return cls(handle, key_id, None, (tuple(kinds), tuple(counts), values))

    @functools.cached_property
    def runs(self) -> Runs:
        """(kinds, counts, values): each kind once, a count per kind, the values grouped by kind in
        that order. From pairs: kinds sorted by name and values sorted within a kind, as nodes send them."""
        if self.wire is not None:
            return self.wire
        by_kind: dict[str, list[bytes]] = {}
        for kind, value in self.pairs or ():
            by_kind.setdefault(kind, []).append(value)
        kinds = tuple(sorted(by_kind))
        return (kinds, tuple(len(by_kind[k]) for k in kinds),
                b"".join(b"".join(sorted(by_kind[k])) for k in kinds))

    @functools.cached_property
    def groups(self) -> dict[str, bytes]:
        """kind -> the kind's values concatenated (TOKEN_BYTES each)."""
        kinds, counts, values = self.runs
        return {k: values[(e - n) * TOKEN_BYTES:e * TOKEN_BYTES] for k, n, e in zip(kinds, counts, accumulate(counts))}

    @functools.cached_property
    def tokens(self) -> frozenset[tuple[str, bytes]]:
        """The (kind, value) pairs."""
        if self.pairs is not None:
            return self.pairs
        return frozenset((k, v) for k, vals in self.groups.items() for v in _split(vals))

    @functools.cached_property
    def kinds(self) -> frozenset[str]:
        return frozenset(self.runs[0])

    @functools.cached_property
    def n_tokens(self) -> int:
        return sum(self.runs[1])


def check_handle(handle: str) -> str:
    if not _HANDLE.match(handle or ""):
        raise InvalidRequestError("record handle must be 8-64 characters of A-Z a-z 0-9 _ -")
    return handle


def validate_records(records) -> list[RecordIn]:
    """Turn protobuf RecordTokens into RecordIn, enforcing every limit.

    Per record: kinds and counts of equal length, at most
    MAX_KINDS_PER_RECORD kinds, each a well-formed name and listed once,
    every count at least 1, at most MAX_TOKENS_PER_RECORD tokens, and
    ``values`` exactly TOKEN_BYTES x the sum of the counts. Within a kind the
    values must be distinct. They are stored in the order sent (nodes send
    them sorted, so an unchanged record packs to the same bytes and is
    skipped; another order only costs a re-index).
    """
    if len(records) > MAX_BATCH_RECORDS:
        raise InvalidRequestError(f"a batch holds at most {MAX_BATCH_RECORDS} records, got {len(records)}")
    out: list[RecordIn] = []
    seen: set[tuple[str, str]] = set()
    good_kinds: set[str] = set()  # kinds already checked in this batch (a batch repeats the same few)
    for i, rec in enumerate(records):
        check_handle(rec.handle)
        if not _KEY_ID.match(rec.key_id or ""):
            raise InvalidRequestError(f"record {i}: key_id must be 1-32 characters of A-Z a-z 0-9 _ -")
        if (rec.handle, rec.key_id) in seen:
            raise InvalidRequestError(f"record {i}: handle appears twice in one batch")
        seen.add((rec.handle, rec.key_id))
        kinds, counts, values = list(rec.kinds), list(rec.counts), rec.values
        if len(kinds) != len(counts):
            raise InvalidRequestError(f"record {i}: kinds and counts must have the same length "
                                      f"({len(kinds)} kinds, {len(counts)} counts)")
        if len(kinds) > MAX_KINDS_PER_RECORD:
            raise InvalidRequestError(f"record {i}: at most {MAX_KINDS_PER_RECORD} key kinds per record")
        total = sum(counts)
        if total > MAX_TOKENS_PER_RECORD:
            raise InvalidRequestError(f"record {i}: at most {MAX_TOKENS_PER_RECORD} tokens per record")
        if len(values) % TOKEN_BYTES:
            raise InvalidRequestError(f"record {i}: values must be whole {TOKEN_BYTES}-byte tokens "
                                      f"(got {len(values)} bytes); a token value is {TOKEN_BYTES} bytes")
        if len(values) != total * TOKEN_BYTES:
            raise InvalidRequestError(f"record {i}: counts add up to {total} tokens but values holds "
                                      f"{len(values) // TOKEN_BYTES}")
        # Distinct values within a kind. One set over the whole record's index keys first (distinct
        # 8-byte prefixes mean distinct values; a value shared by two kinds is allowed, as (kind, value)
        # pairs were); only when that finds a repeat is each kind checked on whole values.
        check_kinds = total > 1 and len(set(index_keys(values))) != total
        kind_set = set(kinds)
        new_kinds = kind_set - good_kinds
        if not (not check_kinds and len(kind_set) == len(kinds)
                and (not counts or min(counts) >= 1) and all(_KIND.match(k) for k in new_kinds)):
            # Kind by kind, to name the first fault (the whole-record checks above are the common case).
            _check_groups(i, kinds, counts, values, check_kinds, good_kinds)
        good_kinds |= new_kinds
        out.append(RecordIn.from_wire(rec.handle, rec.key_id, kinds, counts, values))
    return out


def _check_groups(i: int, kinds: list[str], counts: list[int], values: bytes, check_kinds: bool,
                  good_kinds: set[str]) -> None:
    """Kind by kind, the first fault of a record the whole-record checks refused."""
    listed: set[str] = set()
    at = 0
    for kind, n in zip(kinds, counts):
        if kind not in good_kinds:
            if not _KIND.match(kind or ""):
                raise InvalidRequestError(f"record {i}: key kind must match [a-z][a-z0-9_]{{0,31}}")
            good_kinds.add(kind)
        if n < 1:
            raise InvalidRequestError(f"record {i}: kind {kind} has a count of 0; leave the kind out")
        if kind in listed:
            raise InvalidRequestError(f"record {i}: kind {kind} is listed twice; list each kind once")
        listed.add(kind)
        end = at + n * TOKEN_BYTES
        chunk = values[at:end]
        at = end
        if check_kinds and n > 1 and len(set(_split(chunk))) != n:
            raise InvalidRequestError(f"record {i}: a token of kind {kind} appears twice; send each value once")


# -- the stored form (records.packed) ----------------------------------------------
#
# A record's token set is stored as a header and the values: a 2-byte run
# count, then a (2-byte kind id, 2-byte count) pair per run, big-endian, then
# the values, TOKEN_BYTES each, grouped by run in header order. Runs are in
# the order the node sent its kinds (sorted by name), values in the order sent
# within a kind (sorted), so an unchanged record stores the same bytes and a
# republish of it is skipped. Built without a Python object per token.


def pack_runs(kind_ids: list[int], counts, values: bytes) -> bytes:
    """The stored form of one record: header of (kind id, count) runs, then the values."""
    n = len(kind_ids)
    return struct.pack(f">H{2 * n}H", n, *chain.from_iterable(zip(kind_ids, counts))) + values


def read_runs(blob: bytes) -> tuple[list[tuple[int, int]], bytes]:
    """([(kind id, count)] in order, values) of a stored record."""
    (n,) = struct.unpack_from(">H", blob)
    flat = struct.unpack_from(f">{2 * n}H", blob, 2)
    return list(zip(flat[0::2], flat[1::2])), blob[2 + 4 * n:]


def unpack(blob: bytes) -> set[tuple[int, bytes]]:
    """The (kind id, value) pairs of a stored record."""
    runs, values = read_runs(blob)
    out, at = set(), 0
    for kid, n in runs:
        out.update((kid, values[i:i + TOKEN_BYTES]) for i in range(at, at + n * TOKEN_BYTES, TOKEN_BYTES))
        at += n * TOKEN_BYTES
    return out


def stored_kind_ids(blob: bytes) -> list[int]:
    """The kind ids a stored record published."""
    return [kid for kid, _ in read_runs(blob)[0]]


def index_keys(values: bytes) -> tuple[int, ...]:
    """The index key (first 8 bytes, signed big-endian) of every value in a run of values."""
    return struct.unpack(f">{len(values) // 8}q", values)[::2]


def packed_keys(blob: bytes, skip_kinds: frozenset[int] = frozenset()) -> list[int]:
    """The index keys of a stored record, leaving out tokens whose kind id is in `skip_kinds`:
    one struct.unpack, then a list slice per run kept."""
    runs, values = read_runs(blob)
    keys = index_keys(values)
    if not any(kid in skip_kinds for kid, _ in runs):
        return list(keys)
    out: list[int] = []
    at = 0
    for kid, n in runs:
        if kid not in skip_kinds:
            out += keys[at:at + n]
        at += n
    return out


# -- the stored form before migration 005 (matcher/store.py) ----------------------
# One 18-byte entry per token, 2-byte kind id + value, sorted. Only the
# migrations that read or convert old stores, and their tests, use these.


def pack_v1(tokens: list[tuple[int, bytes]]) -> bytes:
    """Pack (kind id, value) pairs, sorted, as 2-byte kind id + value (the old stored form)."""
    return b"".join([kid.to_bytes(2, "big") + val for kid, val in sorted(tokens)])


def unpack_v1(blob: bytes) -> set[tuple[int, bytes]]:
    step = 2 + TOKEN_BYTES
    return {(int.from_bytes(blob[i:i + 2], "big"), blob[i + 2:i + step]) for i in range(0, len(blob), step)}
