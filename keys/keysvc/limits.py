"""Per-area limits at the key service: a rate limit and a daily quota, in evaluations.

Every evaluation a node asks for is one guess a compromised node could make
("is this match key someone's?"), so the key service bounds them per area:

- a **rate limit**: a token bucket of ``rate_per_s`` evaluations a second with
  a burst of ``burst`` (a whole publish batch must fit in one burst); a
  batch over it is refused with RESOURCE_EXHAUSTED and the time to wait;
- a **daily quota**: at most ``evaluations_per_day`` evaluations per UTC day
  (a retried batch id counts once); over it, RESOURCE_EXHAUSTED until
  midnight UTC.

Both are configurable (``fedalert keysvc serve --rate/--burst/--quota`` and a
TOML file ``--limits FILE`` with ``[default]`` and ``[area.<id>]`` tables of
``evaluations_per_day``, ``rate_per_s``, ``burst``). Refusals are audited.
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
from dataclasses import dataclass, field, replace

from fedalert.errors import ConfigError

#: An area's first full load (5,000 records, ~80 match keys each) is ~400,000 evaluations.
DEFAULT_PER_DAY = 2_000_000
DEFAULT_RATE_PER_S = 20_000.0
DEFAULT_BURST = 200_000
_AREA_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_KEYS = ("evaluations_per_day", "rate_per_s", "burst")
_MAX = 10**12


@dataclass(frozen=True)
class Limit:
    evaluations_per_day: int | None = DEFAULT_PER_DAY
    rate_per_s: float | None = DEFAULT_RATE_PER_S
    burst: int = DEFAULT_BURST


@dataclass(frozen=True)
class Limits:
    default: Limit = Limit()
    per_area: dict[str, Limit] = field(default_factory=dict)

    def for_area(self, area: str) -> Limit:
        return self.per_area.get(area, self.default)


class RateLimiter:
    """Token buckets per area (thread-safe). ``take`` returns 0 when allowed, else the seconds to wait."""

    def __init__(self, limits: Limits, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # area -> (tokens, at)

    def take(self, area: str, n: int) -> float:
        lim = self.limits.for_area(area)
        if lim.rate_per_s is None:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(area, (float(lim.burst), now))
            tokens = min(float(lim.burst), tokens + (now - at) * lim.rate_per_s)
            if n > tokens:
                self._buckets[area] = (tokens, now)
                if n > lim.burst:
                    return float("inf")
                return (n - tokens) / lim.rate_per_s if lim.rate_per_s > 0 else float("inf")
            self._buckets[area] = (tokens - n, now)
            return 0.0


def parse_limits(text: str, *, source: str = "limits file", default: Limit | None = None) -> Limits:
    """Parse the limits TOML. Errors name the file and the key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(doc) - {"default", "area"})
    if unknown:
        raise ConfigError(f"{source}: unknown table [{unknown[0]}]; use [default] and [area.<id>]")
    base = default or Limit()
    if "default" in doc:
        base = _limit(doc["default"], "default", source, base)
    areas = doc.get("area", {})
    if not isinstance(areas, dict):
        raise ConfigError(f"{source}: 'area' must be a table of [area.<id>] tables")
    per_area = {}
    for area, table in areas.items():
        if not _AREA_RE.match(area):
            raise ConfigError(f"{source}: [area.{area}]: not an area id (lower-case letters, digits, '-')")
        per_area[area] = _limit(table, f"area.{area}", source, base)
    return Limits(default=base, per_area=per_area)


def _limit(table, where: str, source: str, base: Limit) -> Limit:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{source}: {where}.{unknown[0]}: unknown key; allowed: {', '.join(_KEYS)}")
    out = base
    for key in _KEYS:
        if key not in table:
            continue
        v = table[key]
        ok_type = (int, float) if key == "rate_per_s" else (int,)
        if isinstance(v, bool) or not isinstance(v, ok_type) or not 0 <= v <= _MAX or (key == "burst" and v < 1):
            raise ConfigError(f"{source}: {where}.{key}: must be a number from {1 if key == 'burst' else 0} to {_MAX}")
        out = replace(out, **{key: v})
    return out
