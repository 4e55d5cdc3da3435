"""Probing flags for the federation operator, from the store's per-area activity counters.

Probing is an area publishing tokens for people it has no case about, to
learn who is known elsewhere. The matcher cannot tell a probe from a real
record (it holds no plaintext), so it watches the *shape* of each area's
activity, per UTC day:

- ``volume``: records published far above the area's own baseline (the
  median of its active days in the previous ``window_days``).
- ``churn``: many records withdrawn relative to those published over the
  last 7 days (publish a guess, see the alert, withdraw it).
- ``matches``: far more new matches than the area's own baseline, or a
  match rate (matches per record published) far above the other areas'.

Flags are prompts for a human, not verdicts: a big first load or a data
clean-up looks the same. ``fedalert matcher report`` shows them.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Thresholds:
    window_days: int = 28          # baseline window before the day examined
    recent_days: int = 7           # how many recent days are examined
    min_baseline_days: int = 3     # fewer active days than this: no baseline yet
    volume_factor: float = 5.0
    volume_min_records: int = 200
    churn_days: int = 7
    churn_ratio: float = 0.5
    churn_min_withdrawn: int = 50
    match_factor: float = 5.0
    match_min: int = 10


@dataclass(frozen=True)
class DayActivity:
    records: int = 0
    tokens: int = 0
    withdrawn: int = 0
    matches: int = 0


@dataclass(frozen=True)
class Flag:
    area: str
    day: str
    kind: str            # volume | churn | matches
    value: float
    baseline: float | None
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


def load_activity(store) -> dict[str, dict[str, DayActivity]]:
    """area -> day -> counts, from the store's activity counters (a MatcherStore)."""
    out: dict[str, dict[str, DayActivity]] = {}
    for area, day, r, t, w, m in store.activity():
        out.setdefault(area, {})[day] = DayActivity(r, t, w, m)
    return out


def _days_back(day: _dt.date, start: int, stop: int) -> list[str]:
    return [(day - _dt.timedelta(days=i)).isoformat() for i in range(start, stop)]


def _baseline(days: dict[str, DayActivity], day: _dt.date, th: Thresholds, attr: str) -> float | None:
    values = [getattr(days[d], attr) for d in _days_back(day, 1, th.window_days + 1) if d in days]
    if len(values) < th.min_baseline_days:
        return None
    return float(statistics.median(values))


def _rate(days: dict[str, DayActivity], names: list[str]) -> tuple[int, int]:
    recs = sum(days[d].records for d in names if d in days)
    matches = sum(days[d].matches for d in names if d in days)
    return matches, recs


def find_flags(activity: dict[str, dict[str, DayActivity]], today: _dt.date,
               th: Thresholds = Thresholds()) -> list[Flag]:
    """Flags for the `recent_days` up to and including `today` (UTC)."""
    flags: list[Flag] = []
    recent = _days_back(today, 0, th.recent_days)
    # Federation match rate per area over the recent days, for the rate comparison.
    rates = {}
    for area, days in activity.items():
        m, r = _rate(days, recent)
        if r:
            rates[area] = m / r
    for area, days in sorted(activity.items()):
        for name in sorted(d for d in recent if d in days):
            day = _dt.date.fromisoformat(name)
            act = days[name]
            base = _baseline(days, day, th, "records")
            if (base is not None and act.records >= th.volume_min_records
                    and act.records > th.volume_factor * max(base, 1.0)):
                flags.append(Flag(area, name, "volume", act.records, base,
                                  f"{act.records} records published; its usual day is {base:g} "
                                  f"(over {th.volume_factor:g}x)"))
            window = _days_back(day, 0, th.churn_days)
            w = sum(days[d].withdrawn for d in window if d in days)
            r = sum(days[d].records for d in window if d in days)
            if w >= th.churn_min_withdrawn and w >= th.churn_ratio * r:
                flags.append(Flag(area, name, "churn", w, float(r),
                                  f"{w} records withdrawn against {r} published in the {th.churn_days} days "
                                  f"to {name} (publish-then-withdraw)"))
            mbase = _baseline(days, day, th, "matches")
            if (mbase is not None and act.matches >= th.match_min
                    and act.matches > th.match_factor * max(mbase, 1.0)):
                flags.append(Flag(area, name, "matches", act.matches, mbase,
                                  f"{act.matches} new matches; its usual day is {mbase:g} "
                                  f"(over {th.match_factor:g}x)"))
    # Match rate far above the other areas' (over all recent days together).
    for area in sorted(rates):
        others = [v for a, v in rates.items() if a != area]
        m, r = _rate(activity[area], recent)
        if not others or m < th.match_min:
            continue
        typical = float(statistics.median(others))
        if rates[area] > th.match_factor * max(typical, 1e-3):
            flags.append(Flag(area, today.isoformat(), "matches", round(rates[area], 4), round(typical, 4),
                              f"{m} matches from {r} records in {th.recent_days} days: a match rate of "
                              f"{rates[area]:.1%} against {typical:.1%} for the other areas"))
    return flags
