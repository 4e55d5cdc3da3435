"""The node's cache of OPRF tokens, encrypted at rest under a node-local key.

In OPRF token mode every token costs a round trip to the key service and
four scalar multiplications; a republish (a rotation's second key id, a
record changed in one field, a restart) should not pay again, and must not
count again against the area's quota at the key service. So the node keeps
each token it obtained, per key id and OPRF input (one whole match-key
string), in a SQLite file beside its store (``<db>.tokens.db``):

    id    = HMAC-SHA256(k_id, key_id 0x00 input)[:16]     (no match key in clear, not even as a lookup key)
    value = nonce(12) || ChaCha20-Poly1305(k_enc, nonce, token, aad = id)

``k_id`` and ``k_enc`` are 32 random bytes each, in the node-local key file
``<db>.tokens.key`` (0600, written atomically, refused if others can read
it). It is not a token key: with it and the cache a thief learns only the
tokens of match keys this node already had, never a token of a new guess.
Entries of key ids that are no longer enabled are dropped.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fedalert.secretfile import read_secret, write_secret
from fedalert.migrations import migrate, open_db, run_script
from fedalert.node.errors import NodeError

ID_BYTES = 16
_CHUNK = 500


class TokenCacheError(NodeError):
    """The token cache or its key file is damaged."""


def _m001(db) -> None:
    run_script(db, "CREATE TABLE tokens (id BLOB PRIMARY KEY, key_id TEXT NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;"
                   "\nCREATE INDEX tokens_key_id ON tokens (key_id);")


def cache_paths(db: Path) -> tuple[Path, Path]:
    db = Path(db)
    return db.with_name(db.name + ".tokens.db"), db.with_name(db.name + ".tokens.key")


def _load_key(path: Path) -> tuple[bytes, bytes]:
    if not path.exists():
        write_secret(path, base64.b64encode(os.urandom(64)) + b"\n")
    raw = read_secret(path)
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 64:
        raise TokenCacheError(f"{path} is not a token cache key; delete it and the cache beside it "
                              "(the node then asks the key service again)")
    return key[:32], key[32:]


class TokenCache:
    def __init__(self, db_path: Path, key_path: Path):
        self._k_id, k_enc = _load_key(Path(key_path))
        self._aead = ChaCha20Poly1305(k_enc)
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in self._k_id.ljust(64, b"\0")))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in self._k_id.ljust(64, b"\0")))
        self.db = open_db(db_path)
        migrate(self.db, [("001_tokens", _m001)])
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "<TokenCache>"

    def _ids(self, key_id: str, inputs: list[bytes]) -> list[bytes]:
        head = key_id.encode() + b"\x00"
        out = []
        for x in inputs:  # HMAC-SHA256 with the keyed states computed once (as TokenKeyset.mac_many)
            i = self._inner.copy()
            i.update(head + x)
            o = self._outer.copy()
            o.update(i.digest())
            out.append(o.digest()[:ID_BYTES])
        return out

    def get_many(self, key_id: str, inputs: list[bytes]) -> list[bytes | None]:
        ids = self._ids(key_id, inputs)
        found: dict[bytes, bytes] = {}
        with self._lock:
            for at in range(0, len(ids), _CHUNK):
                part = ids[at:at + _CHUNK]
                rows = self.db.execute(f"SELECT id, value FROM tokens WHERE id IN ({','.join('?' * len(part))})",
                                       part).fetchall()
                found.update((bytes(r[0]), bytes(r[1])) for r in rows)
        out: list[bytes | None] = []
        for i in ids:
            v = found.get(i)
            if v is None:
                out.append(None)
                continue
            try:
                out.append(self._aead.decrypt(v[:12], v[12:], i))
            except InvalidTag:
                out.append(None)  # damaged or from another key: ask the key service again
        return out

    def put_many(self, key_id: str, inputs: list[bytes], tokens: list[bytes]) -> None:
        ids = self._ids(key_id, inputs)
        rows = []
        for i, t in zip(ids, tokens):
            nonce = os.urandom(12)
            rows.append((i, key_id, nonce + self._aead.encrypt(nonce, t, i)))
        with self._lock:
            self.db.execute("BEGIN")
            try:
                self.db.conn.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", rows)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def keep_only(self, key_ids: set[str]) -> int:
        """Drop entries of every other key id; return how many."""
        with self._lock:
            marks = ",".join("?" * len(key_ids)) or "''"
            cur = self.db.execute(f"DELETE FROM tokens WHERE key_id NOT IN ({marks})", list(key_ids))
        return cur.rowcount

    def count(self) -> int:
        with self._lock:
            return self.db.execute("SELECT count(*) FROM tokens").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

