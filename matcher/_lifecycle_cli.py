"""``fedalert matcher key-ids`` and ``fedalert matcher retire-key`` (token key rotation)."""

from __future__ import annotations

import json
from pathlib import Path


def register(msub) -> None:
    k = msub.add_parser("key-ids", help="token key ids in use: records per area, first seen, retired")
    k.add_argument("--db", type=Path, required=True, help="the matcher's SQLite state file")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=_key_ids)

    r = msub.add_parser("retire-key", help="drop an old token key id's tokens after a rotation (after the grace period)")
    r.add_argument("key_id", help="the old key id (see 'fedalert matcher key-ids')")
    r.add_argument("--db", type=Path, required=True, help="the matcher's SQLite state file (the matcher may be running)")
    r.add_argument("--audit", type=Path, help="the matcher's audit log (default: next to --db)")
    r.add_argument("--grace-days", type=float, default=None,
                   help="days since the newest key id was first seen before the old one may go (default 7)")
    r.add_argument("--force", action="store_true",
                   help="retire even if the grace is not over or an area has not republished "
                        "(its matches made only under the old key id are withdrawn until it republishes)")
    r.set_defaults(func=_retire)


def _open(db_path: Path):
    from fedalert.matcher.store import MatcherStore

    if not Path(db_path).exists():
        from fedalert.errors import ConfigError

        raise ConfigError(f"{db_path} does not exist; give the matcher's --db file")
    return MatcherStore(db_path)


def _key_ids(args) -> int:
    from fedalert.matcher.keyids import key_status

    rows = key_status(_open(args.db))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no token key ids seen yet")
    for r in rows:
        state = "retired" if r["retired_ms"] is not None else "in use"
        areas = ", ".join(f"{a}: {n}" for a, n in sorted(r["records_by_area"].items())) or "no records"
        print(f"{r['key_id']}  {state:<8} records {areas}")
    return 0


def _retire(args) -> int:
    from fedalert.audit import AuditLog
    from fedalert.matcher import keyids
    from fedalert.matcher.engine import Engine

    store = _open(args.db)
    audit = AuditLog(args.audit or Path(args.db).with_suffix(".audit.jsonl"))
    engine = Engine(store, audit=audit)
    grace = keyids.DEFAULT_GRACE_DAYS if args.grace_days is None else args.grace_days
    res = keyids.retire(engine, args.key_id, grace_days=grace, force=args.force)
    print(f"token key id {res.key_id} retired: {res.records} record(s) dropped, "
          f"{res.matches_withdrawn} match(es) withdrawn" + (" (forced)" if res.forced else ""))
    for area, n in res.lagging.items():
        print(f"  area {area} had {n} record(s) only under {res.key_id}; they match again once it republishes")
    print("  the key custodian may now disable the old key: fedalert keys token-key disable "
          f"{res.key_id} --out DIR --send MATCHER")
    store.close(checkpoint=False)  # the running matcher may hold the file: leave its WAL to it
    return 0
