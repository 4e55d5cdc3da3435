"""The one-command demo: a whole federation on this machine.

Fresh keys, a matcher and three area nodes as real processes on loopback
(ephemeral ports, mutual TLS), synthetic records with planted cross-area
perpetrators, then each area's alerts. Everything lives under a work folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fedalert.demo_data import make_demo_data
from fedalert.procs import Proc, run, start

log = logging.getLogger(__name__)

AREAS = ["north", "south", "east"]
FEDERATION = "demo"
WAIT_S = 45.0


@dataclass
class Federation:
    """Running roles of a local federation (used by the demo, tests and bench)."""

    workdir: Path
    areas: list[str]
    matcher: Proc | None = None
    nodes: dict[str, Proc] = field(default_factory=dict)

    @property
    def keys(self) -> Path:
        return self.workdir / "keys"

    def node_db(self, area: str) -> Path:
        return self.workdir / "state" / f"{area}.db"

    @property
    def matcher_db(self) -> Path:
        return self.workdir / "state" / "matcher.db"

    def log(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def make_keys(self) -> None:
        from fedalert.keys import init_federation

        init_federation(self.keys, FEDERATION, self.areas)

    def start_matcher(self) -> Proc:
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        self.matcher = start("matcher", ["matcher", "serve", "--keys", str(self.keys / "matcher"),
                                         "--db", str(self.matcher_db), "--listen", "127.0.0.1:0"],
                             self.workdir / "state" / "matcher.port", self.log("matcher"))
        return self.matcher

    def start_node(self, area: str) -> Proc:
        assert self.matcher is not None
        self.nodes[area] = start(f"node-{area}", [
            "node", "serve", "--keys", str(self.keys / "areas" / area), "--db", str(self.node_db(area)),
            "--matcher", f"127.0.0.1:{self.matcher.port}", "--listen", "127.0.0.1:0"],
            self.workdir / "state" / f"{area}.port", self.log(f"node-{area}"))
        return self.nodes[area]

    def import_csv(self, area: str, csv_path: Path) -> None:
        run(["node", "import", str(csv_path), "--db", str(self.node_db(area))], self.log(f"import-{area}"))

    def node_matches(self, area: str) -> list[dict]:
        """Live matches as area `area` sees them (read straight from its store)."""
        if not self.node_db(area).exists():
            return []
        con = sqlite3.connect(f"file:{self.node_db(area)}?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute(
                "SELECT m.match_id, m.tier, m.kinds, m.other_area, r.record_id FROM matches m"
                " LEFT JOIN records r ON r.handle = m.handle WHERE m.status='live'").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()
        return [{"match_id": r[0], "tier": r[1], "kinds": json.loads(r[2]), "other_area": r[3],
                 "record_id": r[4]} for r in rows]

    def stop(self) -> None:
        for proc in list(self.nodes.values()) + ([self.matcher] if self.matcher else []):
            proc.stop()


def _summarise(fed: Federation, planted) -> dict:
    seen = {area: fed.node_matches(area) for area in fed.areas}
    matches: dict[str, dict] = {}
    for area, rows in seen.items():
        for m in rows:
            entry = matches.setdefault(m["match_id"], {"match_id": m["match_id"], "tier": m["tier"],
                                                       "areas": set(), "key_kinds": m["kinds"]})
            entry["areas"].add(area)
    by_record = {(area, m["record_id"]): m["match_id"] for area, rows in seen.items() for m in rows}
    by_pair = {}
    for area, rows in seen.items():
        for m in rows:
            by_pair.setdefault(m["match_id"], set()).add((area, m["record_id"]))
    planted_out = []
    for p in planted:
        ends = [tuple(x) for x in p.records]
        found = any(set(ends) <= members for members in by_pair.values())
        planted_out.append({"records": [list(x) for x in p.records], "kind": p.kind,
                            "expect_match": p.expect_match, "found": found})
    del by_record
    return {
        "areas": fed.areas,
        "matches": [{**m, "areas": sorted(m["areas"])} for m in sorted(matches.values(), key=lambda x: x["match_id"])],
        "alerts": {area: sorted({m["match_id"] for m in rows}) for area, rows in seen.items()},
        "planted": planted_out,
    }


def run_demo(workdir: Path | None = None, *, say=print) -> dict:
    """Run the whole demo; return the JSON document. Stops every process it started."""
    keep = workdir is not None
    root = Path(workdir) if keep else Path(tempfile.mkdtemp(prefix="fedalert-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    fed = Federation(root, list(AREAS))
    data = make_demo_data(fed.areas)
    try:
        say(f"key ceremony for federation {FEDERATION!r}, areas {', '.join(fed.areas)} -> {fed.keys}")
        fed.make_keys()
        csvs = data.write(root / "data")
        fed.start_matcher()
        say(f"matcher on 127.0.0.1:{fed.matcher.port} (mutual TLS)")
        for area in fed.areas:
            fed.start_node(area)
            say(f"node {area} on 127.0.0.1:{fed.nodes[area].port}")
        for area in fed.areas:
            fed.import_csv(area, csvs[area])
            say(f"imported {len(data.areas[area])} synthetic records into {area}")
        expected = sum(1 for p in data.planted if p.expect_match)
        deadline = time.monotonic() + WAIT_S
        result = _summarise(fed, data.planted)
        while time.monotonic() < deadline:
            result = _summarise(fed, data.planted)
            if sum(p["found"] for p in result["planted"] if p["expect_match"]) >= expected:
                time.sleep(1.0)  # let the last alerts of the other side land
                result = _summarise(fed, data.planted)
                break
            time.sleep(0.25)
        return result
    finally:
        fed.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def render(result: dict) -> str:
    lines = ["", "Alerts received by each area (the other area's identity is never sent):"]
    tiers = {m["match_id"]: m for m in result["matches"]}
    for area in result["areas"]:
        ids = result["alerts"][area]
        lines.append(f"  {area}: {len(ids)} live match alert(s)")
        for mid in ids:
            m = tiers[mid]
            other = [a for a in m["areas"] if a != area]
            lines.append(f"    {mid}  tier {m['tier']:<6} with {','.join(other)}  agreed: {', '.join(m['key_kinds'])}")
    lines.append("")
    lines.append("Planted cross-area pairs:")
    for p in result["planted"]:
        ok = p["found"] == p["expect_match"]
        want = "should match" if p["expect_match"] else "must NOT match"
        got = "found" if p["found"] else "not found"
        lines.append(f"  [{'ok' if ok else 'WRONG'}] {p['kind']}: {want}, {got}")
    return "\n".join(lines)
