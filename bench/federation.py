"""Federation benchmark: the real matcher and N real area nodes, against the limit and against PSI.

Usage:
    python bench/federation.py [--areas 32] [--records 5000] [--quick] [--workdir DIR]
                               [--modes hmac,oprf] [--no-psi] [--no-pairwise]

``--modes hmac,oprf`` (the default) runs the same federation twice in one
invocation, in HMAC token mode and in OPRF token mode (a key service process,
RFC 9497 VOPRF, nodes with no token key), and reports OPRF against HMAC,
libsodium's raw scalar-multiplication rate and the key service's rate, all
measured in the same run (bench/_oprf_rates.py). ``--areas 8 --records 1000
--no-psi --no-pairwise`` is a smaller run of the same shape.

Starts the matcher and one node per area as processes over mutual TLS on
loopback, imports synthetic people (bench/fed_people.py) with a known number
of planted cross-area duplicates, and measures:

* the federation run: import rate, publish throughput into the matcher, time
  until every planted alert is stored by both of its areas, one-record alert
  latency (p50/p99) against the loaded matcher, peak RSS per role, matcher
  bytes per token, matcher RSS as the index grows;
* the limit: the same parsing, normalisation and tokens in one process in
  memory, then a plain set intersection (pipeline_s / baseline_s);
* the alternative: two areas of --psi-records records through fedalert and
  through OpenMined PSI (ECDH) on exactly the match keys fedalert tokenises,
  and the federation-wide cost (PSI: one run per pair, extrapolated).

Only the JSON result goes to stdout; progress goes to stderr. PSI runs under
a separate interpreter (default bench/.psi-venv/bin/python) because
openmined.psi pins protobuf 6, which cannot share fedalert's environment; see
docs/PERFORMANCE.md. Without it the run measures a clearly labelled X25519
ECDH PSI built on `cryptography` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _baseline import run_baseline  # noqa: E402
from _fedrun import log, run_federation, self_peak_rss_kb  # noqa: E402
from fed_people import make_people  # noqa: E402

from fedalert.demo import Federation  # noqa: E402

DEFAULT_PSI_PYTHON = HERE / ".psi-venv" / "bin" / "python"


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def _keyset(fed: Federation):
    from fedalert.keys import TokenKeyset

    if fed.token_mode != "hmac":
        return None
    return TokenKeyset.load(fed.keys / "areas" / fed.areas[0] / "tokens.keyset.json")


#: The bench measures speed, not the limits: the key service gets limits no run reaches.
BENCH_KEYSVC_ARGS = ["--rate", "1e9", "--burst", "1000000000", "--quota", "1000000000"]


def federation_run(root: Path, areas: list[str], per_area: int, duplicates: int, probes: int,
                   with_baseline: bool, token_mode: str = "hmac") -> dict:
    people = make_people(areas, per_area, duplicates=duplicates, probes=probes, seed=len(areas) * 7919 + per_area)
    root.mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    (root / "state").mkdir(exist_ok=True)
    fed = Federation(root, areas, token_mode=token_mode, keysvc_args=BENCH_KEYSVC_ARGS)
    fed.make_keys()
    csvs = people.write(root / "data")
    base = None
    if with_baseline:
        log(f"baseline: {people.total()} records in memory")
        base = run_baseline(csvs, _keyset(fed))
        missed = [p for p in people.planted if tuple(sorted([p[:2], p[2:]])) not in
                  {((a, ra), (b, rb)) for a, ra, b, rb in base.pairs}]
        if missed:
            raise RuntimeError(f"baseline misses {len(missed)} planted pairs, e.g. {missed[:2]}")
        log(f"baseline {base.seconds:.1f}s: {base.tokens} tokens, {len(base.pairs)} candidate pairs")
        expected = base.tokens
    else:
        expected = _count_tokens(csvs, _keyset(fed))
    res = run_federation(fed, csvs, people.planted, expected, probes=people.probes)
    return {"people": people, "base": base, "res": res, "expected_tokens": expected}


def _count_tokens(csvs, keyset) -> int:
    from fedalert.node.importer import parse_csv
    from fedalert.node.matchkeys import build_match_keys

    n = 0
    for path in csvs.values():
        for row in parse_csv(Path(path).read_bytes()).rows:
            n += sum(len(v) for v in build_match_keys(row.identity).values())
    return n


def psi_items(csv_path: Path) -> tuple[list[str], float]:
    """The PSI items of one area: every (kind, match key) fedalert tokenises, and the time to build them."""
    from fedalert.node.importer import parse_csv
    from fedalert.node.matchkeys import build_match_keys

    t = time.perf_counter()
    items = []
    for row in parse_csv(csv_path.read_bytes()).rows:
        for kind, keys in build_match_keys(row.identity).items():
            items.extend(f"{kind}\x00{k}" for k in keys)
    return items, time.perf_counter() - t


def run_psi(root: Path, csvs: dict[str, Path], psi_python: Path) -> dict:
    a, b = list(csvs)
    client, t_a = psi_items(csvs[a])
    server, t_b = psi_items(csvs[b])
    if psi_python.exists():
        path = root / "psi-items.json"
        path.write_text(json.dumps({"client": client, "server": server}))
        log(f"PSI (openmined.psi): {len(client)} x {len(server)} items")
        out = subprocess.run([str(psi_python), str(HERE / "_psi_run.py"), str(path)], capture_output=True,
                             text=True, timeout=3600, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError(f"PSI run failed: {out.stderr[-800:]}")
        info = json.loads(out.stdout)
        path.unlink()
    else:
        from _psi_x25519 import run_x25519_psi

        log(f"PSI (X25519 ECDH on cryptography; openmined.psi not found at {psi_python}): "
            f"{len(client)} x {len(server)} items")
        info = run_x25519_psi(client, server)
    info["match_key_s"] = t_a + t_b
    info["psi_s"] = info["psi_protocol_s"] + t_a + t_b
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--areas", type=int, default=32)
    ap.add_argument("--records", type=int, default=5000, help="records per area")
    ap.add_argument("--psi-records", type=int, default=10000, help="records per area in the two-area PSI job")
    ap.add_argument("--probes", type=int, default=200, help="one-record latency probes")
    ap.add_argument("--duplicates", type=int, help="planted cross-area pairs (default 1%% of records)")
    ap.add_argument("--quick", action="store_true", help="a small run (about a minute) with every key")
    ap.add_argument("--psi-python", type=Path, default=DEFAULT_PSI_PYTHON)
    ap.add_argument("--no-psi", action="store_true", help="skip the PSI comparison (keys report null)")
    ap.add_argument("--workdir", type=Path, help="keep state and logs here (default: a temporary folder)")
    ap.add_argument("--modes", default="hmac,oprf",
                    help="token modes to run, in one invocation (default hmac,oprf; hmac is needed for the baseline)")
    ap.add_argument("--no-pairwise", action="store_true", help="skip the two-area run and the PSI comparison")
    args = ap.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - {"hmac", "oprf"} or "hmac" not in modes:
        ap.error("--modes takes hmac and optionally oprf, e.g. hmac,oprf")
    if args.quick:
        args.areas, args.records, args.psi_records, args.probes = 4, 400, 800, 20
    if args.areas < 2 or args.records < 10:
        ap.error("need at least 2 areas and 10 records per area")
    duplicates = args.duplicates if args.duplicates is not None else max(4, args.areas * args.records // 100)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="fedalert-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    t_all = time.perf_counter()
    try:
        areas = [f"area{i:02d}" for i in range(args.areas)]
        log(f"federation: {args.areas} areas x {args.records} records, {duplicates} planted pairs")
        fr = federation_run(root / "federation", areas, args.records, duplicates, args.probes, True)
        base, res, people = fr["base"], fr["res"], fr["people"]
        oprf_out = None
        if "oprf" in modes:
            from _oprf_rates import keysvc_rate, raw_scalarmult_rate

            log(f"federation again in OPRF token mode: {args.areas} areas x {args.records} records")
            fo = federation_run(root / "federation-oprf", areas, args.records, duplicates, args.probes, False, "oprf")
            ores = fo["res"]
            log("libsodium's raw variable-base scalar multiplication rate, then the key service's rate")
            # Raw rate just before and just after the key service's run, averaged (the machine is shared).
            raw_before = raw_scalarmult_rate()
            ksr = keysvc_rate(root / "keysvc-rate")
            raw_after = raw_scalarmult_rate()
            raw = {**raw_after, "per_cpu_s": round((raw_before["per_cpu_s"] + raw_after["per_cpu_s"]) / 2, 1),
                   "before_after_per_cpu_s": [raw_before["per_cpu_s"], raw_after["per_cpu_s"]]}
            lat_o = ores.latencies_ms
            ks_cpu = ores.cpu_s.get("keysvc", 0.0)
            oprf_out = {
                "all_alerts_s": round(ores.all_alerts_s, 2),
                "vs_hmac": round(ores.all_alerts_s / res.all_alerts_s, 2),
                "target_vs_hmac": 8.0,
                "import_s": round(ores.import_s, 2), "publish_s": round(ores.publish_s, 2),
                "matcher_tokens": ores.tokens_in_matcher, "planted_delivered": ores.planted_delivered,
                "alert_latency_ms": {"p50": round(statistics.median(lat_o), 1) if lat_o else 0.0,
                                     "p99": round(_pct(lat_o, 99), 1), "max": round(max(lat_o), 1) if lat_o else 0.0,
                                     "n": len(lat_o)},
                "cpu_s": ores.cpu_s, "hmac_cpu_s": res.cpu_s,
                "keysvc_in_run_per_cpu_s": round(ores.tokens_in_matcher / ks_cpu, 1) if ks_cpu else None,
                "raw_scalarmult": raw,
                "keysvc_rate": ksr,
                "keysvc_vs_raw_per_core": round(ksr["per_cpu_s"] / raw["per_cpu_s"], 3),
                "target_keysvc_vs_raw": 0.40,
                "peak_rss_mb": {k: round(v / 1024, 1) for k, v in ores.peak_rss_kb.items()},
            }
        fedalert_pair_s, psi = None, None
        if not args.no_pairwise:
            log(f"pairwise: 2 areas x {args.psi_records} records through fedalert")
            pair_dup = max(4, args.psi_records // 50)
            pr = federation_run(root / "pair", ["pair-a", "pair-b"], args.psi_records, pair_dup, 0, False)
            pres = pr["res"]
            fedalert_pair_s = pres.all_alerts_s
            psi = None if args.no_psi else run_psi(root, {a: root / "pair" / "data" / f"{a}.csv"
                                                           for a in ("pair-a", "pair-b")}, args.psi_python)
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    n_pairs = args.areas * (args.areas - 1) // 2
    pipeline_s = res.all_alerts_s
    lat = res.latencies_ms
    total_records = people.total()
    psi_s = psi["psi_s"] if psi else None
    out = {
        "config": {"areas": args.areas, "records_per_area": args.records, "records": total_records,
                   "planted_pairs": len(people.planted), "probes": len(lat), "psi_records_per_area": args.psi_records,
                   "quick": args.quick},
        "machine": {"cpus": os.cpu_count(), "cpu": _cpu_model(), "python": platform.python_version(),
                    "loadavg_start": [round(x, 2) for x in load_start],
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
        "records_per_s": round(total_records / res.import_s, 1),
        "tokens_per_s": round(base.tokens / (base.keys_s + base.tokenise_s), 1),
        "hmac_tokens_per_s": round(base.tokens / base.tokenise_s, 1),
        "publish_tokens_per_s": round(res.tokens_in_matcher / res.publish_s, 1),
        "matcher_tokens": res.tokens_in_matcher,
        "import_s": round(res.import_s, 2),
        "publish_s": round(res.publish_s, 2),
        "all_alerts_s": round(res.all_alerts_s, 2),
        "planted_delivered": res.planted_delivered,
        "alert_latency_ms": {"p50": round(statistics.median(lat), 1) if lat else 0.0, "p99": round(_pct(lat, 99), 1),
                             "max": round(max(lat), 1) if lat else 0.0, "n": len(lat)},
        "peak_rss_mb": {**{k: round(v / 1024, 1) for k, v in res.peak_rss_kb.items()},
                        "baseline": round(self_peak_rss_kb() / 1024, 1)},
        "matcher_rss_mb_by_tokens": [[t, mb] for t, mb in res.matcher_rss_samples],
        "matcher_bytes_per_token": round(res.matcher_bytes / max(res.tokens_in_matcher, 1), 1),
        "pipeline_s": round(pipeline_s, 2),
        "baseline_s": round(base.seconds, 2),
        "baseline_parts_s": {"parse": round(base.parse_s, 2), "match_keys": round(base.keys_s, 2),
                             "hmac": round(base.tokenise_s, 2), "intersect": round(base.intersect_s, 2)},
        "pipeline_vs_baseline": round(pipeline_s / base.seconds, 2),
        "psi_s": round(psi_s, 2) if psi else None,
        "psi_detail": psi,
        "fedalert_pairwise_s": round(fedalert_pair_s, 2) if fedalert_pair_s else None,
        "psi_speedup": round(psi_s / fedalert_pair_s, 1) if psi else None,
        "psi_federation_s_extrapolated": (round(psi_s * n_pairs * args.records / args.psi_records, 1)
                                          if psi else None),
        "psi_federation_extrapolation": (f"psi_s x {n_pairs} pairs x ({args.records} / {args.psi_records}) "
                                         "records per area; PSI cost is linear in set size"),
        "fedalert_federation_s": round(pipeline_s, 2),
        "oprf": oprf_out,
        "bench_wall_s": round(time.perf_counter() - t_all, 1),
    }
    print(json.dumps(out, indent=2))
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
