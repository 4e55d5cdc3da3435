"""SQL helpers of the disclosure domain: one write transaction, rows as dicts, UTC timestamps.

The tables themselves are created by the node's schema
(:mod:`fedalert.node.schema`, migration ``disclosure_001_tables``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from typing import Iterator

import sqlite_utils


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction; joins an enclosing one if already open."""
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def ts(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_ts(s: str | None) -> _dt.datetime | None:
    if s is None:
        return None
    return _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def rows(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> list[dict]:
    cur = db.execute(sql, list(params))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def one(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> dict | None:
    r = rows(db, sql, params)
    return r[0] if r else None


def execute(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> int:
    return db.execute(sql, list(params)).rowcount


def dumps(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
