"""OPRF token mode at the node: no token key here; the key service evaluates blinded match keys.

For each OPRF input (node/tokens.py: one whole match-key string with its
key id and kind) the node:

1. looks in its encrypted cache (node/token_cache.py): a token it already
   obtained is not asked for again;
2. blinds the rest (RFC 9497 VOPRF, ristretto255-SHA512) in batches of
   ``BATCH_ELEMENTS``, sends each to the key service with a fresh batch id
   (kept across retries, so a retry after a fault is served once and counted
   once), two batches in flight so that blinding overlaps evaluation;
3. checks each batch's DLEQ proof against the public key that the signed
   directory names for the key id. A proof that fails raises
   :class:`ProofFailedError`: the publisher stops and logs an ERROR, and no
   token of that batch is used or published;
4. unblinds, finalizes, keeps the first 16 bytes, caches them.

:class:`NodeTokens` is the token source the publisher uses in OPRF mode:
its primary and enabled key ids come from the directory (plus, while a
federation switches from HMAC mode, the HMAC key ids still listed there,
served from the node's old HMAC keyset).
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import grpc

from fedalert.keys import oprf
from fedalert.keys.errors import KeysError
from fedalert.node.errors import NodeError
from fedalert.node.token_cache import TokenCache
from fedalert.node.tokens import HMAC, OPRF
from fedalert.v1 import keysvc_pb2 as pb
from fedalert.v1 import keysvc_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

BATCH_ELEMENTS = 4096
#: A batch waits its turn at the key service (one batch per area at a time, one per core overall)
#: before its ~0.5 s of evaluation: with every area loading at once that wait dominates.
RPC_TIMEOUT_S = 300.0
RETRIES = 6
_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
              grpc.StatusCode.ABORTED}
E = oprf.ELEMENT_BYTES


class ProofFailedError(NodeError):
    """The key service's proof does not verify: its tokens cannot be trusted, so nothing is published."""

    exit_code = 3


class KeyServiceError(NodeError):
    """The key service refused a batch (quota, disabled key, ...); the message says why."""


class KeyServiceClient:
    """Blind, evaluate at the key service, verify, unblind: inputs -> 64-byte OPRF outputs."""

    def __init__(self, channel: grpc.Channel, directory, *, batch_elements: int = BATCH_ELEMENTS,
                 sleep=time.sleep):
        self.stub = pb_grpc.KeyServiceStub(channel)
        self.directory = directory  # () -> the current verified Directory
        self.batch_elements = batch_elements
        self.sleep = sleep
        self.batches = 0  # batches evaluated by the key service (for tests and stats)

    def _call(self, request: pb.EvaluateRequest, first=None) -> pb.EvaluateResponse:
        """One batch, retried with the same batch id after a transport fault or a rate limit."""
        backoff = 0.2
        for attempt in range(RETRIES + 1):
            try:
                if first is not None:
                    fut, first = first, None
                    return fut.result()
                return self.stub.Evaluate(request, timeout=RPC_TIMEOUT_S)
            except grpc.RpcError as exc:
                code = exc.code()
                if code not in _RETRYABLE or attempt == RETRIES or "daily quota" in (exc.details() or ""):
                    raise KeyServiceError(f"the key service refused batch {request.batch_id} "
                                          f"({code.name}: {exc.details()})") from None
                log.info("key service retry %d after %s", attempt + 1, code.name)
                self.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
        raise AssertionError("unreachable")

    def evaluate(self, key_id: str, inputs: list[bytes]) -> list[bytes]:
        public = self.directory().oprf_public(key_id)
        out: list[bytes] = []
        pending = None  # (state, request, future)
        for at in range(0, len(inputs), self.batch_elements):
            state = oprf.blind(inputs[at:at + self.batch_elements], oprf.MODE_VOPRF)
            req = pb.EvaluateRequest(batch_id=uuid.uuid4().hex, key_id=key_id, blinded=b"".join(state.elements))
            fut = self.stub.Evaluate.future(req, timeout=RPC_TIMEOUT_S)
            if pending is not None:
                out.extend(self._finish(public, *pending))
            pending = (state, req, fut)
        if pending is not None:
            out.extend(self._finish(public, *pending))
        return out

    def _finish(self, public: bytes, state: oprf.Blinded, req: pb.EvaluateRequest, fut) -> list[bytes]:
        resp = self._call(req, first=fut)
        ev = resp.evaluated
        if len(ev) != E * len(state.elements) or resp.key_id != req.key_id:
            raise ProofFailedError(f"the key service answered batch {req.batch_id} with {len(ev) // E} evaluations "
                                   f"for {len(state.elements)} blinded elements (or another key id)")
        try:
            outputs = oprf.finalize(state, [ev[i:i + E] for i in range(0, len(ev), E)],
                                    public_key=public, proof=resp.proof)
        except oprf.VerifyError as exc:
            raise ProofFailedError(f"the key service's proof for batch {req.batch_id} (key {req.key_id}) does not "
                                   f"verify: {exc}. Publishing stops; no token of it is used. Check that the key "
                                   "service and this node hold the same directory.json, and tell the key custodian"
                                   ) from None
        self.batches += 1
        return outputs


class NodeTokens:
    """The token source in OPRF mode (see node/tokens.py): directory key ids, cache, key service."""

    def __init__(self, directory, client: KeyServiceClient, cache: TokenCache, hmac_keyset=None):
        self.directory = directory
        self.client = client
        self.cache = cache
        self.hmac = hmac_keyset  # () -> TokenKeyset | None: the old keyset during a switch from HMAC mode

    def __repr__(self) -> str:
        return f"<NodeTokens oprf primary={self.primary_id}>"

    @property
    def primary_id(self) -> str:
        return self.directory().oprf_primary

    @property
    def enabled_key_ids(self) -> list[str]:
        d = self.directory()
        ids = [k for k in d.oprf_key_ids if d.oprf_key_status(k) == "enabled"]
        ks = self.hmac() if self.hmac else None
        if ks is not None:
            ids += [k for k in d.hmac_key_ids if k in ks.enabled_key_ids]
        return ids

    def mode_of(self, key_id: str) -> str:
        return OPRF if key_id in self.directory().oprf_key_ids else HMAC

    def mac_many(self, key_id: str, messages: list[bytes], length: int) -> list[bytes]:
        ks = self.hmac() if self.hmac else None
        if ks is None or key_id not in self.directory().hmac_key_ids:
            raise KeysError(f"key id {key_id} is neither an OPRF key in the directory nor an HMAC key id still in "
                            "use; fetch the latest directory.json")
        return ks.mac_many(key_id, messages, length)

    def evaluate_tokens(self, key_id: str, inputs: list[bytes], length: int) -> list[bytes]:
        cached = self.cache.get_many(key_id, inputs)
        missing = [i for i, v in enumerate(cached) if v is None]
        if missing:
            # Each distinct input once (a record's variants can repeat across records).
            todo = list(dict.fromkeys(inputs[i] for i in missing))
            outputs = self.client.evaluate(key_id, todo)
            fresh = {x: o[:length] for x, o in zip(todo, outputs)}
            self.cache.put_many(key_id, todo, [fresh[x] for x in todo])
            for i in missing:
                cached[i] = fresh[inputs[i]]
        return cached  # type: ignore[return-value]


def open_token_source(keys_dir: Path, db: Path, keysvc: str | None, keysvc_name: str, trust):
    """(NodeTokens, channel) for OPRF mode; raises NodeError when no key service address is configured."""
    from fedalert.node.rotation import KEYSET_FILE, KeysetHolder
    from fedalert.node.token_cache import cache_paths
    from fedalert.transport import TlsFiles, secure_channel

    if not keysvc:
        raise NodeError("the federation directory is in OPRF token mode: give the key service address "
                        "(--keysvc host:port, or keysvc in the [node] config)")
    channel = secure_channel(keysvc, TlsFiles.for_area(Path(keys_dir)), server_name=keysvc_name)
    client = KeyServiceClient(channel, trust.directory)
    cache = TokenCache(*cache_paths(db))
    hmac_path = Path(keys_dir) / KEYSET_FILE
    holder = KeysetHolder(Path(keys_dir)) if hmac_path.exists() else None
    return NodeTokens(trust.directory, client, cache, (holder.current if holder else None)), channel
