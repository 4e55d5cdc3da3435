"""The key service's evaluation (one domain function) and its thin gRPC servicer.

:meth:`Evaluator.evaluate` takes the caller's area (from its certificate,
never a request field), a batch id, a key id and the blinded elements, and
in this order:

1. checks the request's shape (batch id, key id, 1..MAX_BATCH elements of
   32 bytes): INVALID_ARGUMENT otherwise;
2. looks the key id up in the current OPRF keyset (reloaded when the file
   changes): unknown INVALID_ARGUMENT, disabled FAILED_PRECONDITION;
3. recognises a retry: a batch id seen before with the same content is
   served again and not counted against the quota; with other content it is
   refused (INVALID_ARGUMENT);
4. takes the elements from the area's rate bucket and checks its daily
   quota: RESOURCE_EXHAUSTED, audited, when over either;
5. evaluates under the key and makes one batched DLEQ proof (RFC 9497),
   one batch per area at a time and at most ``workers`` at once, so a burst
   from one area cannot hold every core: an invalid encoding or the
   identity anywhere refuses the whole batch with INVALID_ARGUMENT naming
   the element's index;
6. records the batch and its count, and audits ``evaluate`` with area,
   batch id, key id and count (never an element).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fedalert.errors import FedalertError
from fedalert.keys import oprf
from fedalert.keys.errors import KeysError
from fedalert.keys.keysvc.limits import Limits, RateLimiter
from fedalert.keys.keysvc.store import KeysvcStore, day_of
from fedalert.keys.oprf_keyset import OprfKeyset
from fedalert.errors import InvalidRequestError, QuotaExceededError
from fedalert.transport import rpc_errors
from fedalert.v1 import keysvc_pb2 as pb
from fedalert.v1 import keysvc_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

#: Elements per batch, at most: 256 KiB of blinded elements, ~0.5 s of one core.
MAX_BATCH = 8192
_BATCH_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_KEY_ID = re.compile(r"^k[0-9a-f]{8}$")
E = oprf.ELEMENT_BYTES


class KeyDisabledError(FedalertError):
    """The key id is disabled at the key service (FAILED_PRECONDITION): it evaluates nothing."""


class KeysetHolder:
    """The key service's OPRF keyset, reloaded when ``oprf.keyset.json`` is replaced on disk."""

    def __init__(self, path: Path, directory=None):
        self.path = Path(path)
        self.directory = directory  # () -> Directory, to warn when a key does not match it
        self._lock = threading.Lock()
        self._sig = None
        self._keyset: OprfKeyset | None = None
        self.current()

    def current(self) -> OprfKeyset:
        with self._lock:
            try:
                st = os.stat(self.path)
                sig = (st.st_ino, st.st_mtime_ns, st.st_size)
                if sig != self._sig:
                    new = OprfKeyset.load(self.path)
                    if self._keyset is not None:
                        log.warning("OPRF keyset reloaded: primary %s, enabled %s", new.primary_id,
                                    ", ".join(new.enabled_key_ids))
                    self._keyset, self._sig = new, sig
                    self._check_against_directory(new)
            except (OSError, KeysError) as exc:
                if self._keyset is None:
                    raise
                log.error("cannot reload %s (%s); keeping the keyset in use", self.path, type(exc).__name__)
            return self._keyset

    def _check_against_directory(self, keyset: OprfKeyset) -> None:
        if self.directory is None:
            return
        try:
            d = self.directory()
            for kid in keyset.enabled_key_ids:
                if kid not in d.oprf_key_ids:
                    log.warning("OPRF key %s is not in the directory yet (version %d); nodes cannot use it until "
                                "they get the directory that names it", kid, d.version)
                elif d.oprf_public(kid) != keyset.public_key(kid):
                    log.error("OPRF key %s does not match the public key the directory (version %d) names: every "
                              "node will refuse its proofs. Copy oprf.keyset.json and directory.json from the "
                              "key custodian again", kid, d.version)
        except KeysError as exc:
            log.error("cannot check the OPRF keyset against the directory: %s", exc)


@dataclass(frozen=True)
class Evaluation:
    batch_id: str
    key_id: str
    evaluated: bytes
    proof: bytes
    count: int
    duplicate: bool


class Evaluator:
    def __init__(self, keys: KeysetHolder, store: KeysvcStore, limits: Limits | None = None, audit=None, *,
                 workers: int | None = None, clock=time.time):
        self.keys, self.store, self.audit, self.clock = keys, store, audit, clock
        self.limits = limits or Limits()
        self.rate = RateLimiter(self.limits)
        self._gate = threading.BoundedSemaphore(workers or os.cpu_count() or 2)
        self._area_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _area_lock(self, area: str) -> threading.Lock:
        with self._locks_lock:
            return self._area_locks.setdefault(area, threading.Lock())

    def _refuse(self, area: str, batch_id: str, key_id: str, count: int, reason: str, counter: str, msg: str,
                exc=InvalidRequestError):
        self.store.count(area, self.clock(), counter, count if counter != "invalid" else 1)
        if self.audit is not None:
            self.audit.append("evaluate.refused", area=area, batch_id=batch_id, key_id=key_id, count=count,
                              reason=reason)
        raise exc(msg)

    def evaluate(self, area: str, batch_id: str, key_id: str, blinded: bytes) -> Evaluation:
        if not _BATCH_ID.fullmatch(batch_id):
            raise InvalidRequestError("batch_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
        if not _KEY_ID.fullmatch(key_id):
            raise InvalidRequestError("key_id must be 'k' followed by 8 hex digits")
        n, rest = divmod(len(blinded), E)
        if rest or not 1 <= n <= MAX_BATCH:
            raise InvalidRequestError(f"blinded must be 1 to {MAX_BATCH} elements of {E} bytes each "
                                      f"(got {len(blinded)} bytes)")
        keyset = self.keys.current()
        if key_id not in keyset.key_ids:
            raise InvalidRequestError(f"key id {key_id} is not one of this key service's keys "
                                      f"({', '.join(keyset.enabled_key_ids)}); fetch the latest directory.json")
        if keyset.status(key_id) != "enabled":
            raise KeyDisabledError(f"key id {key_id} is disabled at the key service and evaluates nothing; "
                                   f"publish under {keyset.primary_id}")
        key = keyset.private_key(key_id)
        digest = hashlib.sha256(key_id.encode() + b"\x00" + blinded).digest()
        with self._area_lock(area):
            seen = self.store.find_batch(area, batch_id)
            if seen is not None and (seen.digest != digest or seen.key_id != key_id):
                self._refuse(area, batch_id, key_id, n, "batch_id_reused", "invalid",
                             f"batch id {batch_id} was used before for other content; use a new batch id")
            wait = self.rate.take(area, n)
            if wait:
                hint = "a batch larger than the burst never fits" if math.isinf(wait) else f"retry in {wait:.1f} s"
                self._refuse(area, batch_id, key_id, n, "rate", "refused_rate",
                             f"rate limit: area {area!r} asked for {n} evaluations too fast; {hint}",
                             QuotaExceededError)
            now = self.clock()
            if seen is None:
                quota = self.limits.for_area(area).evaluations_per_day
                used = self.store.evaluations_on(area, day_of(now))
                if quota is not None and used + n > quota:
                    self._refuse(area, batch_id, key_id, n, "quota", "refused_quota",
                                 f"daily quota: area {area!r} has had {used} evaluations today (UTC {day_of(now)}); "
                                 f"this batch adds {n}, over the quota of {quota}. Retry after midnight UTC, or ask "
                                 "the key custodian to raise the quota", QuotaExceededError)
            elements = [blinded[i:i + E] for i in range(0, len(blinded), E)]
            with self._gate:
                try:
                    evaluated, proof = oprf.blind_evaluate_batch(key, elements)
                except oprf.InvalidInputError as exc:
                    self._refuse(area, batch_id, key_id, n, "invalid_element", "invalid", str(exc))
            if seen is None:
                self.store.record_batch(area, batch_id, key_id, digest, n, now)
            else:
                self.store.count(area, now, "duplicates", 1)
        if self.audit is not None:
            self.audit.append("evaluate", area=area, batch_id=batch_id, key_id=key_id, count=n,
                              duplicate=seen is not None)
        return Evaluation(batch_id, key_id, b"".join(evaluated), proof, n, seen is not None)


def _response(e: Evaluation) -> pb.EvaluateResponse:
    return pb.EvaluateResponse(batch_id=e.batch_id, key_id=e.key_id, evaluated=e.evaluated, proof=e.proof,
                               count=e.count, duplicate=e.duplicate)


class KeyServiceServicer(pb_grpc.KeyServiceServicer):
    """Thin: the caller's area from its certificate, then Evaluator.evaluate."""

    def __init__(self, evaluator: Evaluator, authz):
        self.evaluator = evaluator
        self.authz = authz

    @rpc_errors
    def Evaluate(self, request, context):
        area = self.authz.area_of(context)
        return _response(self.evaluator.evaluate(area, request.batch_id, request.key_id, request.blinded))

    @rpc_errors
    def EvaluateStream(self, request_iterator, context):
        for request in request_iterator:
            area = self.authz.area_of(context)  # every batch: a revoked area's open stream ends here
            yield _response(self.evaluator.evaluate(area, request.batch_id, request.key_id, request.blinded))
