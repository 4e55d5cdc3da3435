"""``fedalert matcher report``: per-area activity and probing flags, for the operator.

The report holds area ids, days and counts only: nothing that names a
record, a handle or a token.
"""

from __future__ import annotations

import datetime as _dt
import json

from fedalert.matcher.probing import Thresholds, find_flags, load_activity


def build_report(store, today: _dt.date, th: Thresholds = Thresholds()) -> dict:
    """The report over a MatcherStore's activity for the `th.recent_days` to `today`."""
    activity = load_activity(store)
    flags = find_flags(activity, today, th)
    first = (today - _dt.timedelta(days=th.recent_days - 1)).isoformat()
    areas = {}
    for area, days in sorted(activity.items()):
        recent = {d: a for d, a in days.items() if first <= d <= today.isoformat()}
        areas[area] = {
            "days_active": len(days),
            "recent": {k: sum(getattr(a, k) for a in recent.values())
                       for k in ("records", "tokens", "withdrawn", "matches")},
        }
    return {
        "generated_for": today.isoformat(),
        "recent_days": th.recent_days,
        "areas": areas,
        "flags": [f.to_dict() for f in flags],
    }


def render_text(report: dict) -> str:
    lines = [f"Matcher activity for the {report['recent_days']} days to {report['generated_for']} (UTC)", ""]
    lines.append(f"{'area':<34}{'records':>10}{'tokens':>12}{'withdrawn':>11}{'matches':>9}")
    for area, info in report["areas"].items():
        r = info["recent"]
        lines.append(f"{area:<34}{r['records']:>10}{r['tokens']:>12}{r['withdrawn']:>11}{r['matches']:>9}")
    if not report["areas"]:
        lines.append("(no activity recorded)")
    lines.append("")
    if report["flags"]:
        lines.append(f"FLAGS ({len(report['flags'])}): review these areas' recent publications in the audit log")
        for f in report["flags"]:
            lines.append(f"  [{f['kind']}] area {f['area']} on {f['day']}: {f['detail']}")
    else:
        lines.append("No probing flags.")
    return "\n".join(lines)


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True)
