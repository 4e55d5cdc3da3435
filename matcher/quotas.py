"""Per-area publication quotas: records and tokens per UTC day.

A publish that would take an area over either quota is refused whole with
:class:`QuotaExceededError` (gRPC RESOURCE_EXHAUSTED) before anything is
written, and the refusal is audited (``publish.refused``). Usage is read from
the ``activity`` counters the store already keeps (``MatcherStore.published_on``),
inside the publish transaction, so the check and the update cannot race.

Quotas bound *probing*: an area that holds the token key can make tokens for
guessed identities and publish them to see who is known elsewhere. A quota
caps how many guesses a day that buys (see docs/THREAT_MODEL.md).

The operator sets a default for every area (``--quota-records``,
``--quota-tokens``) and may override it per area in a TOML file
(``--quotas FILE``)::

    [default]
    records_per_day = 20000
    tokens_per_day = 1000000

    [area.north]
    records_per_day = 60000     # north's first full load

A missing value means "no limit" for that measure.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

from fedalert.errors import ConfigError
from fedalert.matcher._sql_matches import day_of
from fedalert.matcher.errors import QuotaExceededError

#: Defaults when the operator gives nothing: generous enough for a large
#: area's first full load, small enough to bound a runaway or probing node.
DEFAULT_RECORDS_PER_DAY = 200_000
DEFAULT_TOKENS_PER_DAY = 10_000_000
_AREA_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_KEYS = ("records_per_day", "tokens_per_day")
_MAX_QUOTA = 10**12


@dataclass(frozen=True)
class Quota:
    records_per_day: int | None = DEFAULT_RECORDS_PER_DAY
    tokens_per_day: int | None = DEFAULT_TOKENS_PER_DAY


#: Sealed envelopes a sender may have waiting at the matcher (not yet collected
#: by their recipients), by count and by bytes: bounds the matcher's disk use.
DEFAULT_PENDING_ENVELOPES = 1000
DEFAULT_PENDING_ENVELOPE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Quotas:
    default: Quota = Quota()
    per_area: dict[str, Quota] = field(default_factory=dict)
    pending_envelopes: int = DEFAULT_PENDING_ENVELOPES
    pending_envelope_bytes: int = DEFAULT_PENDING_ENVELOPE_BYTES

    def for_area(self, area: str) -> Quota:
        return self.per_area.get(area, self.default)


class QuotaGuard:
    """Checks a publish against the area's quota; audits refusals."""

    def __init__(self, quotas: Quotas | None = None, audit=None):
        self.quotas = quotas or Quotas()
        self.audit = audit

    def check(self, store, area: str, now_ms: int, batch_id: str, records: int, tokens: int) -> None:
        """Raise QuotaExceededError if this batch would take `area` over its quota today."""
        quota = self.quotas.for_area(area)
        day = day_of(now_ms)
        used_records, used_tokens = store.published_on(area, day)
        for measure, used, adding, limit in (("records", used_records, records, quota.records_per_day),
                                             ("tokens", used_tokens, tokens, quota.tokens_per_day)):
            if limit is not None and used + adding > limit:
                if self.audit is not None:
                    self.audit.append("publish.refused", area=area, batch_id=batch_id, records=records,
                                      token_count=tokens, reason=f"quota_{measure}", used=used, limit=limit)
                raise QuotaExceededError(
                    f"publish refused: area {area!r} has published {used} {measure} today (UTC {day}); "
                    f"this batch adds {adding}, over the daily quota of {limit}. Nothing was applied. "
                    "Retry tomorrow, or ask the federation operator to raise the quota if this volume is expected")


    def check_envelope(self, store, area: str, envelope_id: str, size: int) -> None:
        """Raise QuotaExceededError if `area` has too much waiting to be collected."""
        n, total = store.envelopes_waiting_from(area)
        q = self.quotas
        if n + 1 > q.pending_envelopes or total + size > q.pending_envelope_bytes:
            if self.audit is not None:
                self.audit.append("relay.refused", from_area=area, envelope_id=envelope_id[:64],
                                  sealed_bytes=size, pending=n, pending_bytes=total)
            raise QuotaExceededError(
                f"envelope refused: area {area!r} already has {n} envelopes ({total} bytes) waiting for their "
                f"recipients; the limit is {q.pending_envelopes} envelopes and {q.pending_envelope_bytes} bytes. "
                "Retry once the recipients have collected them")


def parse_quotas(text: str, *, source: str = "quotas file", default: Quota | None = None) -> Quotas:
    """Parse the quotas TOML. Errors name the file and the key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(doc) - {"default", "area"})
    if unknown:
        raise ConfigError(f"{source}: unknown table [{unknown[0]}]; use [default] and [area.<id>]")
    base = default or Quota()
    if "default" in doc:
        base = _quota(doc["default"], "default", source, base)
    areas = doc.get("area", {})
    if not isinstance(areas, dict):
        raise ConfigError(f"{source}: 'area' must be a table of [area.<id>] tables")
    per_area = {}
    for area, table in areas.items():
        if not _AREA_RE.match(area):
            raise ConfigError(f"{source}: [area.{area}]: not an area id (lower-case letters, digits, '-')")
        per_area[area] = _quota(table, f"area.{area}", source, base)
    return Quotas(default=base, per_area=per_area)  # envelope limits: built-in defaults


def _quota(table, where: str, source: str, base: Quota) -> Quota:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{source}: {where}.{unknown[0]}: unknown key; allowed: {', '.join(_KEYS)}")
    values = {}
    for key in _KEYS:
        v = table.get(key, getattr(base, key))
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= _MAX_QUOTA):
            raise ConfigError(f"{source}: {where}.{key}: must be a whole number from 0 to {_MAX_QUOTA}")
        values[key] = v
    return Quota(**values)
