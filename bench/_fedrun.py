"""Drive a real federation (matcher + area nodes as processes over mTLS) for the benchmark.

Measures, for one federation: bulk import, publish into the matcher, time
until every planted alert has reached both areas, one-record alert latency
against the loaded matcher, peak RSS and matcher storage.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fedalert.demo import Federation
from fedalert.procs import fedalert_cmd

POLL_S = 0.25


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _ro(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    con.execute("PRAGMA busy_timeout=30000")
    return con


def proc_status_kb(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (from /proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class RunResult:
    records: int = 0
    import_s: float = 0.0
    importer_rss_kb: int = 0
    publish_s: float = 0.0
    tokens_in_matcher: int = 0
    all_alerts_s: float = 0.0
    planted_delivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    matcher_rss_samples: list[tuple[int, float]] = field(default_factory=list)  # (tokens, MB)
    peak_rss_kb: dict[str, int] = field(default_factory=dict)
    matcher_bytes: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds per role when every alert was in


def import_all(fed: Federation, csvs: dict[str, Path], parallel: int = 2,
               timeout_s: float = 3600.0) -> tuple[float, int]:
    """Run `fedalert node import` for every area, `parallel` at a time; return (seconds, peak RSS kB).

    The peak is sampled from /proc every 20 ms while each import runs.
    """
    queue = list(fed.areas)
    running: list[tuple[str, subprocess.Popen, object]] = []
    peak = 0
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    while queue or running:
        if time.monotonic() > deadline:
            for _, p, _ in running:
                p.kill()
            raise RuntimeError("imports did not finish in time")
        while queue and len(running) < parallel:
            area = queue.pop(0)
            logf = open(fed.log(f"import-{area}"), "ab")
            p = subprocess.Popen(fedalert_cmd("node", "import", str(csvs[area]), "--db", str(fed.node_db(area))),
                                 stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
            running.append((area, p, logf))
        for item in list(running):
            area, p, logf = item
            # VmHWM of the running importer (ru_maxrss from wait4 would count
            # this process's memory, copied at fork, before the exec).
            peak = max(peak, proc_status_kb(p.pid, "VmHWM"))
            pid, status, _ = os.wait4(p.pid, os.WNOHANG)
            if pid == 0:
                continue
            running.remove(item)
            logf.close()
            p.returncode = os.waitstatus_to_exitcode(status)
            if p.returncode != 0:
                raise RuntimeError(f"import for {area} failed; see {fed.log('import-' + area)}")
        time.sleep(0.02)
    return time.perf_counter() - t0, peak


def start_nodes(fed: Federation, parallel: int = 4, timeout_s: float = 300.0) -> None:
    """Start every node, a few at a time (start-up is not what is measured).

    Same command line as Federation.start_node, with a longer start timeout:
    on a busy 2-core machine 32 interpreters starting at once take a while.
    """
    from fedalert.procs import start

    assert fed.matcher is not None
    errors: list[BaseException] = []
    gate = threading.Semaphore(parallel)

    def one(area):
        with gate:
            try:
                fed.nodes[area] = start(f"node-{area}", [
                    "node", "serve", "--keys", str(fed.keys / "areas" / area), "--db", str(fed.node_db(area)),
                    "--matcher", f"127.0.0.1:{fed.matcher.port}", "--listen", "127.0.0.1:0", *fed.node_args()],
                    fed.workdir / "state" / f"{area}.port", fed.log(f"node-{area}"), timeout=timeout_s)
            except Exception as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

    threads = [threading.Thread(target=one, args=(a,)) for a in fed.areas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s + 10)
    if errors:
        raise errors[0]


class Watch:
    """Reads the matcher's and the nodes' stores read-only while they run."""

    def __init__(self, fed: Federation):
        self.fed = fed
        self._node: dict[str, sqlite3.Connection] = {}
        self._matcher: sqlite3.Connection | None = None

    def node(self, area: str) -> sqlite3.Connection:
        if area not in self._node:
            self._node[area] = _ro(self.fed.node_db(area))
        return self._node[area]

    def matcher_tokens(self) -> int:
        if self._matcher is None:
            if not self.fed.matcher_db.exists():
                return 0
            self._matcher = _ro(self.fed.matcher_db)
        try:
            return self._matcher.execute("SELECT coalesce(sum(tokens), 0) FROM batches").fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    def live_matches(self, area: str) -> dict[str, str]:
        """record_id -> set of match ids, live, as the area's inbox holds them."""
        rows = self.node(area).execute(
            "SELECT r.record_id, m.match_id FROM matches m JOIN records r ON r.handle = m.handle"
            " WHERE m.status = 'live'").fetchall()
        out: dict[str, set[str]] = {}
        for rid, mid in rows:
            out.setdefault(rid, set()).add(mid)
        return out

    def delivered(self, planted) -> int:
        seen = {a: self.live_matches(a) for a in {p[0] for p in planted} | {p[2] for p in planted}}
        return sum(1 for a, ra, b, rb in planted if seen[a].get(ra, set()) & seen[b].get(rb, set()))

    def received_ms(self, area: str, record_id: str) -> int | None:
        row = self.node(area).execute(
            "SELECT min(a.received_ms) FROM alerts a JOIN records r ON r.handle = a.handle"
            " WHERE r.record_id = ? AND a.type = 'new'", [record_id]).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        for con in list(self._node.values()) + ([self._matcher] if self._matcher else []):
            con.close()


def run_federation(fed: Federation, csvs: dict[str, Path], planted, expected_tokens: int, *,
                   probes=(), timeout_s: float = 1800.0) -> RunResult:
    """Start every role, then import and publish; wait for every planted alert; measure probe latency.

    The nodes are already running when the imports start (as in service), so
    each area publishes as soon as its import commits: the clock runs from
    the first import to the last planted alert stored by both of its areas.
    """
    res = RunResult()
    watch = Watch(fed)
    box: dict = {}

    def _imports():
        try:
            box["result"] = import_all(fed, csvs)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            box["error"] = exc

    try:
        fed.start_matcher()
        fed.start_keysvc()  # OPRF mode only
        start_nodes(fed)
        log(f"matcher on port {fed.matcher.port} and {len(fed.areas)} nodes up; importing")
        t0 = time.perf_counter()
        importer = threading.Thread(target=_imports, name="imports", daemon=True)
        importer.start()
        deadline = time.monotonic() + timeout_s
        marks = [expected_tokens * q // 4 for q in (1, 2, 3, 4)]
        while time.monotonic() < deadline:
            if "error" in box:
                raise box["error"]
            if "result" in box and not res.import_s:
                res.import_s, res.importer_rss_kb = box["result"]
                log(f"imports done after {res.import_s:.1f}s")
            toks = watch.matcher_tokens()
            while marks and toks >= marks[0]:
                marks.pop(0)
                rss = proc_status_kb(fed.matcher.popen.pid, "VmRSS") / 1024
                res.matcher_rss_samples.append((toks, round(rss, 1)))
            if toks >= expected_tokens and not res.publish_s:
                res.publish_s = time.perf_counter() - t0
                res.tokens_in_matcher = toks
                log(f"matcher holds {toks} tokens after {res.publish_s:.1f}s")
            if res.publish_s and res.import_s:
                res.planted_delivered = watch.delivered(planted)
                if res.planted_delivered >= len(planted):
                    res.all_alerts_s = time.perf_counter() - t0
                    res.cpu_s = {"matcher": round(proc_cpu_s(fed.matcher.popen.pid), 2),
                                 "nodes": round(sum(proc_cpu_s(p.popen.pid) for p in fed.nodes.values()), 2)}
                    if fed.keysvc is not None:
                        res.cpu_s["keysvc"] = round(proc_cpu_s(fed.keysvc.popen.pid), 2)
                    log(f"all {len(planted)} planted alerts delivered after {res.all_alerts_s:.1f}s")
                    break
            time.sleep(POLL_S)
        else:
            raise RuntimeError(f"timed out: {watch.matcher_tokens()} of {expected_tokens} tokens published, "
                               f"{res.planted_delivered} of {len(planted)} planted alerts delivered")
        if probes:
            res.latencies_ms = measure_latency(fed, watch, probes)
        res.peak_rss_kb = {
            "matcher": proc_status_kb(fed.matcher.popen.pid, "VmHWM"),
            "node": max(proc_status_kb(p.popen.pid, "VmHWM") for p in fed.nodes.values()),
            "importer": res.importer_rss_kb,
        }
    finally:
        watch.close()
        fed.stop()
    res.matcher_bytes = sum(p.stat().st_size for p in fed.matcher_db.parent.glob("matcher.db*"))
    return res


def measure_latency(fed: Federation, watch: Watch, probes, timeout_s: float = 10.0) -> list[float]:
    """One new record at a time: ms from its import until both areas hold the alert."""
    from fed_people import csv_bytes
    from fedalert.node.importer import import_records, parse_csv
    from fedalert.node.store import NodeStore

    stores: dict[str, NodeStore] = {}
    out = []
    time.sleep(1.0)  # let the nodes go idle: nothing else is publishing
    try:
        for new_area, row, old_area, old_id in probes:
            store = stores.setdefault(new_area, NodeStore(fed.node_db(new_area)))
            parsed = parse_csv(csv_bytes([row]))
            t_ms = time.time() * 1000
            import_records(store, parsed, file_name="probe.csv")
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                a = watch.received_ms(new_area, row["record_id"])
                b = watch.received_ms(old_area, old_id)
                if a and b:
                    out.append(max(a, b) - t_ms)
                    break
                time.sleep(0.005)
            else:
                log(f"probe {row['record_id']}: no alert within {timeout_s}s")
                out.append(timeout_s * 1000)
    finally:
        for s in stores.values():
            s.close()
    return out


def self_peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
