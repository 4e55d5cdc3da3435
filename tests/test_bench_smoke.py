"""bench/federation.py --quick runs end to end and reports every figure.

No timing is asserted (figures depend on the machine): only that the run
completes against real processes, that every key is there and numeric, and
that every planted duplicate was delivered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NUMERIC = [
    "records_per_s", "tokens_per_s", "publish_tokens_per_s", "all_alerts_s", "matcher_bytes_per_token",
    "pipeline_s", "baseline_s", "pipeline_vs_baseline", "psi_s", "fedalert_pairwise_s", "psi_speedup",
    "psi_federation_s_extrapolated", "fedalert_federation_s",
]


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x and x >= 0


@pytest.mark.slow
def test_quick_benchmark_prints_every_key(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "federation.py"), "--quick",
                          "--workdir", str(tmp_path / "work")],
                         capture_output=True, text=True, timeout=900, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)  # stdout is the JSON document and nothing else
    for key in NUMERIC:
        assert _number(result[key]), (key, result.get(key))
    assert _number(result["alert_latency_ms"]["p50"]) and _number(result["alert_latency_ms"]["p99"])
    assert result["alert_latency_ms"]["n"] == result["config"]["probes"] > 0
    assert set(result["peak_rss_mb"]) >= {"matcher", "node"}
    assert all(_number(v) and v > 0 for v in result["peak_rss_mb"].values())
    assert result["planted_delivered"] == result["config"]["planted_pairs"] > 0
    assert result["matcher_tokens"] > 0 and result["psi_detail"]["intersection"] > 0
    # The same federation in OPRF token mode, in the same run, with the OPRF figures.
    o = result["oprf"]
    assert o["planted_delivered"] == result["config"]["planted_pairs"] and o["matcher_tokens"] == result["matcher_tokens"]
    for key in ("all_alerts_s", "vs_hmac", "keysvc_vs_raw_per_core"):
        assert _number(o[key]) and o[key] > 0, (key, o.get(key))
    assert _number(o["alert_latency_ms"]["p99"]) and o["alert_latency_ms"]["n"] == result["config"]["probes"]
    assert o["raw_scalarmult"]["per_cpu_s"] > 0 and o["keysvc_rate"]["per_cpu_s"] > 0


@pytest.mark.slow
def test_pairwise_repeat_reports_each_run_and_the_median(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "pairwise.py"), "--records", "200", "--repeat", "3",
                          "--workdir", str(tmp_path / "work")],
                         capture_output=True, text=True, timeout=600, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    runs = result["runs"]
    assert len(runs) == 3 and all(_number(r["fedalert_pairwise_s"]) and r["tokens"] > 0 for r in runs)
    assert result["fedalert_pairwise_s"] == sorted(r["fedalert_pairwise_s"] for r in runs)[1]
    assert all(set(r["cpu_s"]) == {"matcher", "nodes"} for r in runs)
    # Each run on its own fresh federation.
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["run0", "run1", "run2"]
