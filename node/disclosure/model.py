"""Data model of a disclosure: request, decision, release; statuses; canonical JSON.

Payloads travel between areas inside sealed envelopes of kind ``request``,
``decision`` and ``release``. :func:`encode` gives canonical JSON (sorted
keys, no spaces, UTF-8) with ``kind`` and ``v``; :func:`decode` is strict:
unknown or missing keys, wrong types, bad dates and oversize input are refused
with :class:`PayloadError` naming the key.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import types
import typing
from dataclasses import dataclass

from fedalert.node.disclosure.errors import DisclosureError, PayloadError, StatusError

PAYLOAD_VERSION = 1
MAX_PAYLOAD_BYTES = 1_000_000
MAX_TEXT = 10_000

STATUSES = ("requested", "approved", "partially_approved", "refused", "released", "expired")
PENDING = ("requested", "approved", "partially_approved")
_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"approved", "partially_approved", "refused", "expired"}),
    "approved": frozenset({"released", "expired"}),
    "partially_approved": frozenset({"released", "expired"}),
    "released": frozenset({"expired"}),
    "refused": frozenset(),
    "expired": frozenset(),
}
OUTCOMES = ("approve_all", "approve_some", "refuse")


def check_transition(current: str, new: str, *, request_id: str = "") -> None:
    """Raise :class:`StatusError` unless ``current -> new`` is allowed."""
    if current not in _TRANSITIONS or new not in _TRANSITIONS:
        raise StatusError(f"unknown status {current!r} or {new!r}")
    if new not in _TRANSITIONS[current]:
        allowed = ", ".join(sorted(_TRANSITIONS[current])) or "none (final)"
        raise StatusError(
            f"request {request_id}: cannot go from {current} to {new}; from {current} the next status may be: {allowed}"
        )


@dataclass(frozen=True)
class MatchInfo:
    """What this node knows about a match from its alert inbox (built by the lead)."""

    match_id: str
    area_a: str
    handle_a: str
    area_b: str
    handle_b: str
    withdrawn: bool = False

    def involves(self, area: str) -> bool:
        return area in (self.area_a, self.area_b)

    def other(self, area: str) -> str:
        return self.area_b if area == self.area_a else self.area_a

    def handle_of(self, area: str) -> str:
        return self.handle_a if area == self.area_a else self.handle_b


@dataclass(frozen=True)
class CaseField:
    """One case value on a record with its provenance."""

    field: str
    value: str
    subject: str  # victim | perpetrator | child | case
    source_partner: str
    recorded_on: _dt.date


@dataclass(frozen=True)
class Request:
    request_id: str
    match_id: str
    requesting_area: str
    holding_area: str
    holding_handle: str
    requesting_partner: str
    requester: str  # coordinator id, not a name
    purpose: str
    lawful_basis: str
    fields: tuple[str, ...]
    rationale: str
    channel: str
    urgency: str
    created_at: _dt.datetime
    protocol_id: str
    protocol_version: str
    requesting_partner_type: str = ""  # police | council | health | third_sector
    requesting_partner_sector: str = ""  # statutory | third_sector
    requester_signoff_on: _dt.date | None = None
    art9_condition: str = ""
    sch8_condition: str = ""
    lia_ref: str = ""
    rli_condition: str = ""
    statutory_power: str = ""


@dataclass(frozen=True)
class Consent:
    subject: str  # victim | perpetrator | child | case
    status: str  # given | refused | not_sought
    reason: str = ""
    explicit_items: tuple[str, ...] = ()  # fields the subject explicitly agreed to (e.g. gender_history)


@dataclass(frozen=True)
class StatutoryException:
    field: str
    provision: str  # code from GENDER_EXCEPTIONS
    note: str


@dataclass(frozen=True)
class Withheld:
    field: str
    reason_code: str
    reason: str


@dataclass(frozen=True)
class Decision:
    request_id: str
    decided_by: str
    decided_at: _dt.datetime
    outcome: str  # approve_all | approve_some | refuse
    status: str  # approved | partially_approved | refused
    approved_fields: tuple[str, ...]
    reason: str
    consents: tuple[Consent, ...] = ()
    exceptions: tuple[StatutoryException, ...] = ()
    withheld: tuple[Withheld, ...] = ()


@dataclass(frozen=True)
class ReleasedItem:
    field: str
    label: str
    category: str
    subject: str
    value: str
    source_partner: str
    source_name: str
    recorded_on: _dt.date
    consent_status: str  # given | refused | not_sought | pending (emergency, record not yet complete)
    exception: str = ""


@dataclass(frozen=True)
class Release:
    release_id: str
    request_id: str
    match_id: str
    from_area: str
    to_area: str
    protocol_id: str
    protocol_version: str
    purpose: str
    lawful_basis: str
    art9_condition: str
    sch8_condition: str
    channel: str
    approved_by: str
    released_at: _dt.datetime
    retention_until: _dt.date
    items: tuple[ReleasedItem, ...]
    withheld: tuple[Withheld, ...]
    consents: tuple[Consent, ...]
    emergency: bool = False
    record_complete: bool = True
    complete_by: _dt.datetime | None = None


# --- consents and exceptions as typed by a coordinator ------------------------



def parse_consent(spec: str) -> Consent:
    """Parse ``SUBJECT:STATUS[:REASON]`` as typed on the command line.

    For ``given``, the third part may be ``explicit=field1,field2`` to record
    explicit consent to those items (needed for gender history and Art. 9(2)(a)).
    Examples: ``victim:not_sought:seeking consent would increase risk``,
    ``perpetrator:given:explicit=gender_history``.
    """
    parts = spec.split(":", 2)
    if len(parts) < 2:
        raise DisclosureError(
            f"consent {spec!r}: write SUBJECT:STATUS[:REASON], e.g. victim:not_sought:would increase risk"
        )
    subject, status = parts[0].strip(), parts[1].strip()
    rest = parts[2].strip() if len(parts) == 3 else ""
    if status == "given" and rest.startswith("explicit="):
        items = tuple(x.strip() for x in rest[len("explicit=") :].split(",") if x.strip())
        return Consent(subject, status, "", items)
    return Consent(subject, status, rest)


def parse_exception(spec: str) -> StatutoryException:
    """Parse ``FIELD:PROVISION:NOTE``, e.g. ``gender_history:ssi_2005_125:needed to prevent a crime``."""
    parts = spec.split(":", 2)
    if len(parts) != 3:
        raise DisclosureError(
            f"exception {spec!r}: write FIELD:PROVISION:NOTE, e.g. gender_history:gra2004_s22_4_crime:why"
        )
    return StatutoryException(parts[0].strip(), parts[1].strip(), parts[2].strip())


KINDS: dict[str, type] = {"request": Request, "decision": Decision, "release": Release}


# --- canonical JSON ---------------------------------------------------------


def _to_plain(v: object) -> object:
    if dataclasses.is_dataclass(v):
        return {f.name: _to_plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            raise PayloadError("timestamps must carry a timezone (UTC)")
        return v.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (tuple, list)):
        return [_to_plain(x) for x in v]
    return v


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def encode(obj: Request | Decision | Release) -> bytes:
    """Canonical JSON of a payload, with ``kind`` and ``v``."""
    for kind, cls in KINDS.items():
        if type(obj) is cls:
            body = _to_plain(obj)
            body["kind"] = kind
            body["v"] = PAYLOAD_VERSION
            return canonical(body)
    raise PayloadError(f"cannot encode {type(obj).__name__}; only Request, Decision and Release travel")


def _convert(value: object, tp: object, key: str) -> object:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(value, inner, key)
    if origin is tuple:
        if not isinstance(value, list):
            raise PayloadError(f"payload key {key}: must be a list")
        if len(value) > 500:
            raise PayloadError(f"payload key {key}: more than 500 items")
        inner, _ellipsis = typing.get_args(tp)
        return tuple(_convert(x, inner, f"{key}[{i}]") for i, x in enumerate(value))
    if tp is str:
        if not isinstance(value, str):
            raise PayloadError(f"payload key {key}: must be text")
        if len(value) > MAX_TEXT:
            raise PayloadError(f"payload key {key}: longer than {MAX_TEXT} characters")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise PayloadError(f"payload key {key}: must be true or false")
        return value
    if tp is _dt.datetime:
        if not isinstance(value, str) or not value.endswith("Z"):
            raise PayloadError(f"payload key {key}: must be a UTC timestamp ending in Z")
        try:
            return _dt.datetime.fromisoformat(value[:-1] + "+00:00")
        except ValueError:
            raise PayloadError(f"payload key {key}: {value!r} is not a timestamp") from None
    if tp is _dt.date:
        if not isinstance(value, str) or len(value) != 10:
            raise PayloadError(f"payload key {key}: must be a date YYYY-MM-DD")
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise PayloadError(f"payload key {key}: {value!r} is not a date") from None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    raise PayloadError(f"payload key {key}: unsupported type")  # pragma: no cover - programming error


def _build(cls: type, data: object, prefix: str, extra: frozenset[str] = frozenset()) -> object:
    if not isinstance(data, dict):
        raise PayloadError(f"payload {prefix or 'body'}: must be an object")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names - extra)
    if unknown:
        raise PayloadError(f"payload key {prefix + '.' if prefix else ''}{unknown[0]}: not expected")
    missing = sorted(names - set(data))
    if missing:
        raise PayloadError(f"payload key {prefix + '.' if prefix else ''}{missing[0]}: missing")
    kwargs = {n: _convert(data[n], hints[n], f"{prefix + '.' if prefix else ''}{n}") for n in names}
    return cls(**kwargs)


def decode(kind: str, data: bytes) -> Request | Decision | Release:
    """Parse a payload of *kind*; raise :class:`PayloadError` on anything unexpected."""
    if kind not in KINDS:
        raise PayloadError(f"unknown payload kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError("payload must be bytes of at most 1 MB")
    try:
        body = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError(f"{kind} payload is not valid UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise PayloadError(f"{kind} payload must be a JSON object")
    if body.get("kind") != kind:
        raise PayloadError(f"payload kind is {body.get('kind')!r}, expected {kind!r}")
    if body.get("v") != PAYLOAD_VERSION:
        raise PayloadError(f"payload version {body.get('v')!r} is not {PAYLOAD_VERSION}; upgrade fedalert")
    return _build(KINDS[kind], body, "", frozenset({"kind", "v"}))
