"""Validation and packing of published token sets (private to the matcher).

A record arrives packed (see RecordTokens in proto/fedalert/v1/matcher.proto):
its kinds, a count per kind and one bytes field holding every 16-byte value,
grouped by kind. Validation works on whole groups (slices of that field), so
the matcher makes no Python object per token until it needs one.
"""

from __future__ import annotations

import functools
import re
import struct
from itertools import accumulate
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class RecordIn:
    """One record's token set under one key id.

    Built either from (kind, value) pairs (``RecordIn(handle, key_id, pairs)``)
    or, on the publish path, from packed groups (:meth:`from_groups`): kind ->
    that kind's distinct values concatenated (sorted, as nodes send them).
    Each form is derived from the other only when asked for.
    """

    handle: str
    key_id: str
    pairs: frozenset[tuple[str, bytes]] | None = None  # (kind, value)
    packed_groups: dict[str, bytes] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_groups(cls, handle: str, key_id: str, groups: dict[str, bytes]) -> RecordIn:
        return cls(handle, key_id, None, groups)

    @functools.cached_property
    def groups(self) -> dict[str, bytes]:
        """kind -> the kind's distinct values, sorted, concatenated (TOKEN_BYTES each)."""
        if self.packed_groups is not None:
            return self.packed_groups
        by_kind: dict[str, list[bytes]] = {}
        for kind, value in self.pairs or ():
            by_kind.setdefault(kind, []).append(value)
        return {k: b"".join(sorted(v)) for k, v in by_kind.items()}

    @functools.cached_property
    def tokens(self) -> frozenset[tuple[str, bytes]]:
        """The (kind, value) pairs."""
        if self.pairs is not None:
            return self.pairs
        return frozenset((k, v) for k, vals in self.groups.items() for v in _split(vals))

    @functools.cached_property
    def kinds(self) -> frozenset[str]:
        return frozenset(self.groups)

    @functools.cached_property
    def n_tokens(self) -> int:
        return sum(len(v) for v in self.groups.values()) // TOKEN_BYTES


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
        if (not check_kinds and len(kind_set) == len(kinds)
                and (not counts or min(counts) >= 1) and all(_KIND.match(k) for k in new_kinds)):
            # The common case, whole-record checks only: kinds well-formed and each listed once,
            # every count at least 1, no value twice. Slices taken from the running offsets.
            good_kinds |= new_kinds
            ends = list(accumulate(counts))
            groups = {k: values[(e - n) * TOKEN_BYTES:e * TOKEN_BYTES] for k, n, e in zip(kinds, counts, ends)}
        else:
            groups = _groups_checked(i, kinds, counts, values, check_kinds, good_kinds)
        out.append(RecordIn.from_groups(rec.handle, rec.key_id, groups))
    return out


def _groups_checked(i: int, kinds: list[str], counts: list[int], values: bytes, check_kinds: bool,
                    good_kinds: set[str]) -> dict[str, bytes]:
    """Kind by kind, the first fault of a record the whole-record checks refused (or its groups)."""
    groups: dict[str, bytes] = {}
    at = 0
    for kind, n in zip(kinds, counts):
        if kind not in good_kinds:
            if not _KIND.match(kind or ""):
                raise InvalidRequestError(f"record {i}: key kind must match [a-z][a-z0-9_]{{0,31}}")
            good_kinds.add(kind)
        if n < 1:
            raise InvalidRequestError(f"record {i}: kind {kind} has a count of 0; leave the kind out")
        if kind in groups:
            raise InvalidRequestError(f"record {i}: kind {kind} is listed twice; list each kind once")
        end = at + n * TOKEN_BYTES
        chunk = values[at:end]
        at = end
        if check_kinds and n > 1 and len(set(_split(chunk))) != n:
            raise InvalidRequestError(f"record {i}: a token of kind {kind} appears twice; send each value once")
        groups[kind] = chunk
    return groups


def index_keys(values: bytes) -> tuple[int, ...]:
    """The index key (first 8 bytes, signed big-endian) of every value in a packed group."""
    return struct.unpack(f">{len(values) // 8}q", values)[::2]


def packed_keys(packed: bytes, skip_kinds: frozenset[int] = frozenset()) -> list[int]:
    """The index key of every token in a packed list (see :func:`pack`), in its order,
    leaving out tokens whose kind id is in `skip_kinds`.

    Gathers the first 8 value bytes of every 18-byte entry with 8 strided
    slices and reads them with one struct.unpack: no Python object per token
    but the integer itself (and, with `skip_kinds`, its kind id)."""
    step = 2 + TOKEN_BYTES
    n = len(packed) // step
    buf = bytearray(8 * n)
    for j in range(8):
        buf[j::8] = packed[2 + j::step]
    keys = struct.unpack(f">{n}q", buf)
    if not skip_kinds:
        return list(keys)
    kid_bytes = bytearray(2 * n)
    kid_bytes[0::2], kid_bytes[1::2] = packed[0::step], packed[1::step]
    return [k for k, kid in zip(keys, struct.unpack(f">{n}H", kid_bytes)) if kid not in skip_kinds]


def pack_record(groups: list[tuple[int, bytes]]) -> tuple[bytes, bytes, list[tuple[int, int]]]:
    """One record's (kind id, concatenated values) groups in the forms the engine needs:
    the packed list (for sorted values, the same bytes as :func:`pack` of the pairs), all values concatenated by
    kind id, and (kind id, count) per group in that order. Built with a fixed number of
    slice operations per group and per byte position, not per token."""
    groups = sorted(groups)
    values = b"".join([v for _, v in groups])
    runs = [(kid, len(v) // TOKEN_BYTES) for kid, v in groups]
    step = 2 + TOKEN_BYTES
    out = bytearray(step * (len(values) // TOKEN_BYTES))
    out[0::step] = b"".join([bytes((kid >> 8,)) * n for kid, n in runs])
    out[1::step] = b"".join([bytes((kid & 0xFF,)) * n for kid, n in runs])
    for j in range(TOKEN_BYTES):
        out[2 + j::step] = values[j::TOKEN_BYTES]
    return bytes(out), values, runs


def pack(tokens: list[tuple[int, bytes]]) -> bytes:
    """Pack (kind id, value) pairs, sorted, as 2-byte kind id + value."""
    return b"".join([kid.to_bytes(2, "big") + val for kid, val in sorted(tokens)])


def unpack(blob: bytes) -> set[tuple[int, bytes]]:
    step = 2 + TOKEN_BYTES
    return {(int.from_bytes(blob[i:i + 2], "big"), blob[i + 2:i + step]) for i in range(0, len(blob), step)}
