"""Validation and packing of published token sets (private to the matcher)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from fedalert.matcher.errors import InvalidRequestError

TOKEN_BYTES = 16
MAX_BATCH_RECORDS = 1000
MAX_TOKENS_PER_RECORD = 2048
_HANDLE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class RecordIn:
    handle: str
    key_id: str
    tokens: frozenset[tuple[str, bytes]]  # (kind, value)

    @functools.cached_property
    def kinds(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.tokens)


def check_handle(handle: str) -> str:
    if not _HANDLE.match(handle or ""):
        raise InvalidRequestError("record handle must be 8-64 characters of A-Z a-z 0-9 _ -")
    return handle


def validate_records(records) -> list[RecordIn]:
    """Turn protobuf RecordTokens into RecordIn, enforcing every limit."""
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
        if len(rec.tokens) > MAX_TOKENS_PER_RECORD:
            raise InvalidRequestError(f"record {i}: at most {MAX_TOKENS_PER_RECORD} tokens per record")
        toks = set()
        for tok in rec.tokens:
            kind, value = tok.kind, tok.value
            if kind not in good_kinds:
                if not _KIND.match(kind or ""):
                    raise InvalidRequestError(f"record {i}: key kind must match [a-z][a-z0-9_]{{0,31}}")
                good_kinds.add(kind)
            if len(value) != TOKEN_BYTES:
                raise InvalidRequestError(f"record {i}: a token value is {TOKEN_BYTES} bytes")
            toks.add((kind, value))
        out.append(RecordIn(rec.handle, rec.key_id, frozenset(toks)))
    return out


def pack(tokens: list[tuple[int, bytes]]) -> bytes:
    """Pack (kind id, value) pairs, sorted, as 2-byte kind id + value."""
    return b"".join([kid.to_bytes(2, "big") + val for kid, val in sorted(tokens)])


def unpack(blob: bytes) -> set[tuple[int, bytes]]:
    step = 2 + TOKEN_BYTES
    return {(int.from_bytes(blob[i:i + 2], "big"), blob[i + 2:i + step]) for i in range(0, len(blob), step)}
