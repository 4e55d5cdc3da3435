"""The information sharing protocol as data: a national file plus a local overlay.

The national file (TOML) fixes the protocol id and version, dates, DPIA and
appropriate-policy-document references, the field catalogue (with each
field's category: ordinary, special or protected), the purposes with their
field whitelists and allowed lawful bases, and the default retention.

An area's overlay names the area, extends exactly one national id and
version, may only *narrow* the national rules (disable a purpose, remove
fields from a whitelist, restrict lawful bases or channels, lengthen
retention, shorten the emergency completion deadline) and lists the area's
partner agencies with their sign-offs. Every error names the file and the
dotted key. See docs/PROTOCOL.md for the file format field by field.
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fedalert.node.disclosure.errors import ProtocolFileError
from fedalert.node.disclosure.law import (
    CHANNELS,
    FIELD_CATEGORIES,
    GENDER_HISTORY,
    LAWFUL_BASES,
    PARTNER_TYPES,
    PURPOSES,
    SECTORS,
)

REPEAT_WINDOW_DAYS = 365  # retention is never shorter than the 12-month repeat window
DEFAULT_SIGNOFF_VALID_DAYS = 365
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_AREA_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
STATUSES = ("draft", "live", "retired")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    category: str  # ordinary | special | protected

    @property
    def special(self) -> bool:
        return self.category in ("special", "protected")


@dataclass(frozen=True)
class PurposeRule:
    code: str
    label: str
    fields: tuple[str, ...]
    lawful_bases: tuple[str, ...]
    channels: tuple[str, ...]
    retention_days: int


@dataclass(frozen=True)
class SignOff:
    signatory: str
    role: str
    signed_on: _dt.date
    protocol_version: str


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    type: str  # police | council | health | third_sector
    sector: str  # statutory | third_sector
    lead: bool
    signoff: SignOff | None
    withdrawn_on: _dt.date | None = None

    @property
    def public_authority(self) -> bool:
        return self.sector == "statutory"


@dataclass(frozen=True)
class Protocol:
    id: str
    version: str
    status: str
    effective: _dt.date
    review: _dt.date
    dpia_ref: str
    apd_ref: str
    signoff_valid_days: int
    emergency_completion_hours: int
    retention_days: int
    lawful_bases: tuple[str, ...]
    fields: dict[str, FieldSpec]
    purposes: dict[str, PurposeRule]
    area: str | None = None
    overlay_id: str | None = None
    overlay_version: str | None = None
    partners: dict[str, Partner] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        base = f"{self.id} v{self.version}"
        if self.overlay_id:
            base += f" with local overlay {self.overlay_id} v{self.overlay_version}"
        return base

    def lead_partner(self) -> Partner | None:
        for p in self.partners.values():
            if p.lead:
                return p
        return None


# --- small typed readers; every error names file and dotted key -------------


class _Reader:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, reason: str) -> ProtocolFileError:
        return ProtocolFileError(self.path, key, reason)

    def table(self, d: dict, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(d, dict):
            raise self.fail(key, "must be a table")
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}" if key else unknown[0],
                f"unknown key; allowed keys are {', '.join(sorted(allowed))}",
            )
        missing = sorted(required - set(d))
        if missing:
            raise self.fail(f"{key}.{missing[0]}" if key else missing[0], "is required")
        return d

    def str_(self, d: dict, key: str, full: str, *, pattern: re.Pattern | None = None, default=None) -> str:
        if key not in d:
            if default is None:
                raise self.fail(full, "is required")
            return default
        v = d[key]
        if not isinstance(v, str) or not v.strip():
            raise self.fail(full, "must be a non-empty string")
        if pattern is not None and not pattern.match(v):
            raise self.fail(full, f"{v!r} is not a valid id (lower-case letters, digits and '-')")
        return v.strip()

    def date(self, d: dict, key: str, full: str, *, optional: bool = False) -> _dt.date | None:
        if key not in d:
            if optional:
                return None
            raise self.fail(full, "is required (a TOML date such as 2026-04-01)")
        v = d[key]
        if isinstance(v, _dt.datetime) or not isinstance(v, _dt.date):
            raise self.fail(full, "must be a TOML date such as 2026-04-01 (no quotes, no time)")
        return v

    def int_(self, d: dict, key: str, full: str, default: int | None = None, minimum: int = 1) -> int:
        if key not in d:
            if default is None:
                raise self.fail(full, "is required")
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(full, "must be a whole number")
        if v < minimum:
            raise self.fail(full, f"must be at least {minimum}")
        return v

    def bool_(self, d: dict, key: str, full: str, default: bool) -> bool:
        v = d.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(full, "must be true or false")
        return v

    def codes(self, d: dict, key: str, full: str, allowed, what: str, default=None) -> tuple[str, ...]:
        if key not in d:
            if default is None:
                raise self.fail(full, "is required")
            return tuple(default)
        v = d[key]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(full, "must be a list of strings")
        for x in v:
            if x not in allowed:
                raise self.fail(full, f"{x!r} is not a known {what}; choose from {', '.join(allowed)}")
        if len(set(v)) != len(v):
            raise self.fail(full, "lists a value twice")
        return tuple(v)


def _load_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ProtocolFileError(path, "", "file not found; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolFileError(path, "", f"not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ProtocolFileError(path, "", f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ProtocolFileError(path, "", f"cannot read the file ({exc.strerror})") from None


def _load_national(path: Path) -> Protocol:
    r = _Reader(path)
    doc = r.table(_load_toml(path), "", {"protocol", "fields", "purposes"}, {"protocol", "fields", "purposes"})
    p = r.table(
        doc["protocol"],
        "protocol",
        {
            "id",
            "version",
            "status",
            "effective",
            "review",
            "dpia_ref",
            "apd_ref",
            "signoff_valid_days",
            "emergency_completion_hours",
            "retention_days",
            "lawful_bases",
            "title",
        },
        {"id", "version", "status", "effective", "review", "lawful_bases"},
    )
    pid = r.str_(p, "id", "protocol.id", pattern=_ID_RE)
    version = r.str_(p, "version", "protocol.version")
    status = r.str_(p, "status", "protocol.status")
    if status not in STATUSES:
        raise r.fail("protocol.status", f"{status!r} is not one of {', '.join(STATUSES)}")
    effective = r.date(p, "effective", "protocol.effective")
    review = r.date(p, "review", "protocol.review")
    if review <= effective:
        raise r.fail("protocol.review", "the review date must be after the effective date")
    dpia = p.get("dpia_ref", "")
    if status == "live" and not (isinstance(dpia, str) and dpia.strip()):
        raise r.fail(
            "protocol.dpia_ref", 'a live protocol needs a DPIA reference; add dpia_ref or set status = "draft"'
        )
    apd = p.get("apd_ref", "")
    if not isinstance(apd, str) or not isinstance(dpia, str):
        raise r.fail("protocol.apd_ref", "must be a string")
    retention = r.int_(p, "retention_days", "protocol.retention_days", default=730)
    if retention < REPEAT_WINDOW_DAYS:
        raise r.fail(
            "protocol.retention_days", f"must be at least {REPEAT_WINDOW_DAYS} days (the 12-month repeat window)"
        )
    bases = r.codes(p, "lawful_bases", "protocol.lawful_bases", list(LAWFUL_BASES), "lawful basis")

    fields: dict[str, FieldSpec] = {}
    ftab = r.table(doc["fields"], "fields", set(doc["fields"]) if isinstance(doc["fields"], dict) else set())
    for name, spec in ftab.items():
        key = f"fields.{name}"
        if not _FIELD_RE.match(name):
            raise r.fail(key, "field names are lower_snake_case")
        r.table(spec, key, {"label", "category"}, {"label", "category"})
        cat = r.str_(spec, "category", f"{key}.category")
        if cat not in FIELD_CATEGORIES:
            raise r.fail(f"{key}.category", f"{cat!r} is not one of {', '.join(FIELD_CATEGORIES)}")
        fields[name] = FieldSpec(name, r.str_(spec, "label", f"{key}.label"), cat)
    if GENDER_HISTORY in fields and fields[GENDER_HISTORY].category != "protected":
        raise r.fail(f"fields.{GENDER_HISTORY}.category", 'gender history must be "protected"')

    purposes: dict[str, PurposeRule] = {}
    ptab = r.table(doc["purposes"], "purposes", set(PURPOSES))
    for code, spec in ptab.items():
        key = f"purposes.{code}"
        r.table(spec, key, {"fields", "lawful_bases", "channels", "retention_days"}, {"fields"})
        fl = r.codes(spec, "fields", f"{key}.fields", list(fields), "field in [fields]")
        pb = r.codes(
            spec, "lawful_bases", f"{key}.lawful_bases", list(bases), "lawful basis of this protocol", default=bases
        )
        ch = r.codes(spec, "channels", f"{key}.channels", list(CHANNELS), "channel", default=list(CHANNELS))
        rd = r.int_(spec, "retention_days", f"{key}.retention_days", default=retention)
        if rd < REPEAT_WINDOW_DAYS:
            raise r.fail(
                f"{key}.retention_days", f"must be at least {REPEAT_WINDOW_DAYS} days (the 12-month repeat window)"
            )
        purposes[code] = PurposeRule(code, PURPOSES[code], fl, pb, ch, rd)
    if not purposes:
        raise r.fail("purposes", "define at least one purpose")

    return Protocol(
        id=pid,
        version=version,
        status=status,
        effective=effective,
        review=review,
        dpia_ref=dpia.strip(),
        apd_ref=apd.strip(),
        signoff_valid_days=r.int_(
            p, "signoff_valid_days", "protocol.signoff_valid_days", default=DEFAULT_SIGNOFF_VALID_DAYS
        ),
        emergency_completion_hours=r.int_(
            p, "emergency_completion_hours", "protocol.emergency_completion_hours", default=72
        ),
        retention_days=retention,
        lawful_bases=bases,
        fields=fields,
        purposes=purposes,
        sources=(str(path),),
    )


def _apply_overlay(nat: Protocol, path: Path) -> Protocol:
    r = _Reader(path)
    doc = r.table(_load_toml(path), "", {"overlay", "purposes", "partners"}, {"overlay", "partners"})
    o = r.table(
        doc["overlay"],
        "overlay",
        {
            "id",
            "version",
            "area",
            "extends",
            "extends_version",
            "effective",
            "review",
            "retention_days",
            "emergency_completion_hours",
            "title",
        },
        {"id", "version", "area", "extends", "extends_version", "effective", "review"},
    )
    oid = r.str_(o, "id", "overlay.id", pattern=_ID_RE)
    area = r.str_(o, "area", "overlay.area", pattern=_AREA_RE)
    extends = r.str_(o, "extends", "overlay.extends")
    if extends != nat.id:
        raise r.fail("overlay.extends", f"extends {extends!r} but the national protocol is {nat.id!r}")
    ev = r.str_(o, "extends_version", "overlay.extends_version")
    if ev != nat.version:
        raise r.fail(
            "overlay.extends_version",
            f"written for national version {ev!r} but the national file is version {nat.version!r}; "
            "review the overlay against the new version and update extends_version",
        )
    effective = r.date(o, "effective", "overlay.effective")
    review = r.date(o, "review", "overlay.review")
    if review <= effective:
        raise r.fail("overlay.review", "the review date must be after the effective date")
    retention = r.int_(o, "retention_days", "overlay.retention_days", default=nat.retention_days)
    if retention < REPEAT_WINDOW_DAYS:
        raise r.fail(
            "overlay.retention_days", f"must be at least {REPEAT_WINDOW_DAYS} days (the 12-month repeat window)"
        )
    ech = r.int_(
        o, "emergency_completion_hours", "overlay.emergency_completion_hours", default=nat.emergency_completion_hours
    )
    if ech > nat.emergency_completion_hours:
        raise r.fail(
            "overlay.emergency_completion_hours",
            f"an overlay may only shorten the national deadline of {nat.emergency_completion_hours} hours",
        )

    purposes = dict(nat.purposes)
    for code, spec in r.table(doc.get("purposes", {}), "purposes", set(PURPOSES)).items():
        key = f"purposes.{code}"
        r.table(spec, key, {"enabled", "remove_fields", "lawful_bases", "channels", "retention_days"})
        if code not in purposes:
            raise r.fail(key, "this purpose is not in the national protocol; an overlay cannot add purposes")
        base = purposes[code]
        if not r.bool_(spec, "enabled", f"{key}.enabled", True):
            del purposes[code]
            continue
        remove = r.codes(
            spec, "remove_fields", f"{key}.remove_fields", list(base.fields), "field of this purpose", default=()
        )
        bases = r.codes(
            spec,
            "lawful_bases",
            f"{key}.lawful_bases",
            list(base.lawful_bases),
            "national lawful basis of this purpose",
            default=base.lawful_bases,
        )
        chans = r.codes(
            spec,
            "channels",
            f"{key}.channels",
            list(base.channels),
            "national channel of this purpose",
            default=base.channels,
        )
        rd = r.int_(spec, "retention_days", f"{key}.retention_days", default=max(base.retention_days, retention))
        if rd < base.retention_days or rd < REPEAT_WINDOW_DAYS:
            raise r.fail(f"{key}.retention_days", f"may not be shorter than the national {base.retention_days} days")
        purposes[code] = PurposeRule(
            code, base.label, tuple(f for f in base.fields if f not in remove), bases, chans, rd
        )
    if retention != nat.retention_days:
        purposes = {
            c: PurposeRule(p.code, p.label, p.fields, p.lawful_bases, p.channels, max(p.retention_days, retention))
            for c, p in purposes.items()
        }

    partners: dict[str, Partner] = {}
    ptab = doc["partners"]
    if not isinstance(ptab, dict) or not ptab:
        raise r.fail("partners", "list the area's partner agencies, one [partners.<id>] table each")
    for pid, spec in ptab.items():
        key = f"partners.{pid}"
        if not _ID_RE.match(pid):
            raise r.fail(key, "partner ids are lower-case letters, digits and '-'")
        r.table(
            spec,
            key,
            {
                "name",
                "type",
                "sector",
                "lead",
                "signatory",
                "signatory_role",
                "signed_on",
                "signed_version",
                "withdrawn_on",
            },
            {"name", "type", "sector"},
        )
        ptype = r.str_(spec, "type", f"{key}.type")
        if ptype not in PARTNER_TYPES:
            raise r.fail(f"{key}.type", f"{ptype!r} is not one of {', '.join(PARTNER_TYPES)}")
        sector = r.str_(spec, "sector", f"{key}.sector")
        if sector not in SECTORS:
            raise r.fail(f"{key}.sector", f"{sector!r} is not one of {', '.join(SECTORS)}")
        if ptype == "third_sector" and sector != "third_sector":
            raise r.fail(f"{key}.sector", 'a third_sector partner type must have sector = "third_sector"')
        if ptype == "police" and sector != "statutory":
            raise r.fail(f"{key}.sector", "a police partner is statutory")
        signoff = None
        signed_keys = {"signatory", "signed_on", "signed_version"}
        present = signed_keys & set(spec)
        if present and present != signed_keys:
            missing = sorted(signed_keys - present)[0]
            raise r.fail(f"{key}.{missing}", "a sign-off needs signatory, signed_on and signed_version together")
        if present:
            signoff = SignOff(
                signatory=r.str_(spec, "signatory", f"{key}.signatory"),
                role=r.str_(spec, "signatory_role", f"{key}.signatory_role", default="senior signatory"),
                signed_on=r.date(spec, "signed_on", f"{key}.signed_on"),
                protocol_version=r.str_(spec, "signed_version", f"{key}.signed_version"),
            )
        partners[pid] = Partner(
            id=pid,
            name=r.str_(spec, "name", f"{key}.name"),
            type=ptype,
            sector=sector,
            lead=r.bool_(spec, "lead", f"{key}.lead", False),
            signoff=signoff,
            withdrawn_on=r.date(spec, "withdrawn_on", f"{key}.withdrawn_on", optional=True),
        )
    leads = [p.id for p in partners.values() if p.lead]
    if len(leads) != 1:
        raise r.fail("partners", f"exactly one partner must have lead = true (found {len(leads)})")

    return Protocol(
        id=nat.id,
        version=nat.version,
        status=nat.status,
        effective=max(nat.effective, effective),
        review=min(nat.review, review),
        dpia_ref=nat.dpia_ref,
        apd_ref=nat.apd_ref,
        signoff_valid_days=nat.signoff_valid_days,
        emergency_completion_hours=ech,
        retention_days=retention,
        lawful_bases=nat.lawful_bases,
        fields=nat.fields,
        purposes=purposes,
        area=area,
        overlay_id=oid,
        overlay_version=r.str_(o, "version", "overlay.version"),
        partners=partners,
        sources=nat.sources + (str(path),),
    )


def load_protocol(national: str | Path, overlay: str | Path | None = None) -> Protocol:
    """Load a national protocol file and, if given, an area overlay on top.

    Raises :class:`ProtocolFileError` naming the file and key of the first problem.
    """
    nat = _load_national(Path(national))
    if overlay is None:
        return nat
    return _apply_overlay(nat, Path(overlay))


def bundled_national_path() -> Path:
    """The national protocol file shipped in fedalert.node/data/."""
    return Path(str(resources.files("fedalert.node").joinpath("data/protocol-national.toml")))


def bundled_overlay_example_path() -> Path:
    return Path(str(resources.files("fedalert.node").joinpath("data/protocol-overlay-example.toml")))
