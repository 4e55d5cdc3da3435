"""``fedalert keysvc report``: evaluations per area and probing flags, for the key custodian.

A compromised node can only guess online, here: each guess is one
evaluation. The report counts them per area and UTC day and flags the
shapes of guessing, as ``fedalert matcher report`` does for publications:

- ``volume``: evaluations on a day far above the area's own baseline (the
  median of its active days in the previous ``window_days``);
- ``limits``: batches refused by the rate limit or the daily quota (an area
  pushing against its limits);
- ``invalid``: batches refused as malformed (bad encodings, the identity,
  a reused batch id): a well-behaved node never sends one.

Flags prompt a human; a first full load or a key rotation looks like volume.
Area ids, days and counts only.
"""

from __future__ import annotations

import datetime as _dt
import json
import statistics
from dataclasses import dataclass

from fedalert.keys.keysvc.store import COUNTERS


@dataclass(frozen=True)
class Thresholds:
    window_days: int = 28
    recent_days: int = 7
    min_baseline_days: int = 3
    volume_factor: float = 5.0
    volume_min: int = 20_000
    limits_min: int = 1
    invalid_min: int = 1


def _days_back(day: _dt.date, start: int, stop: int) -> list[str]:
    return [(day - _dt.timedelta(days=i)).isoformat() for i in range(start, stop)]


def find_flags(usage: dict[str, dict[str, dict[str, int]]], today: _dt.date, th: Thresholds = Thresholds()) -> list[dict]:
    flags = []
    for area, days in sorted(usage.items()):
        for name in sorted(d for d in _days_back(today, 0, th.recent_days) if d in days):
            u = days[name]
            day = _dt.date.fromisoformat(name)
            prev = [days[d]["evaluations"] for d in _days_back(day, 1, th.window_days + 1) if d in days]
            base = float(statistics.median(prev)) if len(prev) >= th.min_baseline_days else None
            if base is not None and u["evaluations"] >= th.volume_min \
                    and u["evaluations"] > th.volume_factor * max(base, 1.0):
                flags.append({"area": area, "day": name, "kind": "volume", "value": u["evaluations"],
                              "baseline": base, "detail": f"{u['evaluations']} evaluations; its usual day is "
                                                          f"{base:g} (over {th.volume_factor:g}x)"})
            refused = u["refused_rate"] + u["refused_quota"]
            if refused >= th.limits_min:
                flags.append({"area": area, "day": name, "kind": "limits", "value": refused, "baseline": None,
                              "detail": f"{u['refused_rate']} evaluations refused by the rate limit and "
                                        f"{u['refused_quota']} by the daily quota"})
            if u["invalid"] >= th.invalid_min:
                flags.append({"area": area, "day": name, "kind": "invalid", "value": u["invalid"], "baseline": None,
                              "detail": f"{u['invalid']} malformed batch(es) refused (bad or identity elements, "
                                        "a reused batch id)"})
    return flags


def build_report(usage: dict, today: _dt.date, th: Thresholds = Thresholds()) -> dict:
    first = (today - _dt.timedelta(days=th.recent_days - 1)).isoformat()
    areas = {}
    for area, days in sorted(usage.items()):
        recent = [u for d, u in days.items() if first <= d <= today.isoformat()]
        areas[area] = {"days_active": len(days), "recent": {c: sum(u[c] for u in recent) for c in COUNTERS}}
    return {"generated_for": today.isoformat(), "recent_days": th.recent_days, "areas": areas,
            "flags": find_flags(usage, today, th)}


def render_text(report: dict) -> str:
    lines = [f"Key service evaluations for the {report['recent_days']} days to {report['generated_for']} (UTC)", ""]
    lines.append(f"{'area':<34}{'evaluations':>12}{'batches':>9}{'retries':>9}{'refused':>9}{'invalid':>9}")
    for area, info in report["areas"].items():
        r = info["recent"]
        lines.append(f"{area:<34}{r['evaluations']:>12}{r['batches']:>9}{r['duplicates']:>9}"
                     f"{r['refused_rate'] + r['refused_quota']:>9}{r['invalid']:>9}")
    if not report["areas"]:
        lines.append("(no evaluations recorded)")
    lines.append("")
    if report["flags"]:
        lines.append(f"FLAGS ({len(report['flags'])}): review these areas' batches in the key service's audit log")
        for f in report["flags"]:
            lines.append(f"  [{f['kind']}] area {f['area']} on {f['day']}: {f['detail']}")
    else:
        lines.append("No probing flags.")
    return "\n".join(lines)


def render_json(report: dict) -> str:
    return json.dumps({**report, "flags": [dict(f) for f in report["flags"]]}, indent=2, sort_keys=True)

